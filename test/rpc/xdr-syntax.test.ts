/** The .x parser and emitter of the table generator, on small inputs with known answers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalIntExpr, readHeaders } from '../../src/rpc/gen/c-headers.js';
import { emitProtocol } from '../../src/rpc/gen/emit.js';
import { parseXdr, XdrSyntaxError } from '../../src/rpc/gen/xdr-syntax.js';

const sample = `
%#include "x.h"
/* ordinary comment */
const MAX = 0x10;
typedef string name_t<MAX>;
typedef name_t *opt_name;
enum colour { RED = 1, GREEN, BLUE = 7 };
struct thing { name_t name; opt_name alias; opaque id[EXT_LEN]; unsigned hyper size; colour c; int list<>; char tiny<3>; };
union choice switch (int kind) { case 1: int i; case 2: case 3: name_t s; default: void; };
enum demo_procedure {
    /**
     * @priority: high
     * @acl: connect:getattr
     */
    DEMO_PROC_FIRST = 1,
    /** @acl: domain:write */
    DEMO_PROC_SECOND = 2
};
struct demo_first_args { thing t; choice ch; };
struct demo_second_ret { int n; };
`;

test('parses consts, typedefs, enums with implicit values, structs, unions and doc comments', () => {
  const defs = parseXdr(sample, 'sample.x');
  assert.deepEqual(
    defs.map((d) => `${d.kind} ${d.name}`),
    ['const MAX', 'typedef name_t', 'typedef opt_name', 'enum colour', 'struct thing', 'union choice', 'enum demo_procedure', 'struct demo_first_args', 'struct demo_second_ret'],
  );
  const colour = defs[3] as { body: { name: string; value: number }[] };
  assert.deepEqual(colour.body.map((m) => m.value), [1, 2, 7]);
  const procs = defs[6] as { body: { doc?: string }[] };
  assert.match(procs.body[0]!.doc!, /@priority: high/);
  assert.match(procs.body[1]!.doc!, /domain:write/);
});

test('syntax errors name the file and line', () => {
  assert.throws(() => parseXdr('const A = 1;\nstruct s { int a }', 'bad.x'), (e: unknown) => e instanceof XdrSyntaxError && /bad\.x:2: expected ';'/.test(e.message));
  assert.throws(() => parseXdr('typedef int x;\n\n@', 'bad.x'), /bad\.x:3: unexpected character '@'/);
  assert.throws(() => parseXdr('/* open', 'bad.x'), /unterminated comment/);
});

test('header constants: #define expressions and enum members, with references', () => {
  const h = readHeaders(['# define VIR_UUID_BUFLEN (16)\n#define VIR_B (VIR_UUID_BUFLEN * 2 + 1)\ntypedef enum {\n    VIR_C = 1 << 3,\n} x;\nint virDomainGetXMLDesc(void);']);
  assert.equal(h.constants.get('VIR_UUID_BUFLEN'), 16);
  assert.equal(h.constants.get('VIR_B'), 33);
  assert.equal(h.constants.get('VIR_C'), 8);
  assert.equal(h.functions.get('virdomaingetxmldesc'), 'virDomainGetXMLDesc');
  assert.equal(evalIntExpr('(256 + 1)', () => undefined), 257);
  assert.equal(evalIntExpr('16U', () => undefined), 16);
  assert.equal(evalIntExpr('UNKNOWN + 1', () => undefined), undefined);
  assert.equal(evalIntExpr('1 / 2', () => undefined), undefined);
});

test('emitted code round-trips values and carries the annotations', async () => {
  const src = emitProtocol({
    source: 'sample.x',
    defs: parseXdr(sample, 'sample.x'),
    procedureEnum: 'demo_procedure',
    procedurePrefix: 'DEMO_PROC_',
    structPrefix: 'demo_',
    procedures: ['FIRST', 'SECOND'],
    tableName: 'demo',
    external: new Map([['EXT_LEN', 4]]),
    version: '0',
  });
  assert.match(src, /export const MAX = 16;/);
  assert.match(src, /export const Colour = \{\n {2}RED: 1,\n {2}GREEN: 2,\n {2}BLUE: 7,\n\} as const;/);
  assert.match(src, /priority: 'high',\n {4}acl: \['connect:getattr'\]/);
  // Load the emitted module next to the real runtime and use it.
  const { mkdtempSync, writeFileSync, mkdirSync, cpSync } = await import('node:fs');
  const { join, resolve } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'vk-gen-'));
  mkdirSync(join(dir, 'generated'));
  for (const f of ['xdr.ts', 'codec.ts']) cpSync(resolve(import.meta.dirname, '../../src/rpc', f), join(dir, f));
  writeFileSync(join(dir, 'generated/demo.ts'), src);
  const mod = await import(join(dir, 'generated/demo.ts'));
  const { XdrReader, XdrWriter } = await import(join(dir, 'xdr.ts'));
  const value = {
    t: { name: 'n', alias: null, id: Buffer.from([1, 2, 3, 4]), size: 2n ** 63n, c: 7, list: [1, -1], tiny: [-1, 2] },
    ch: { kind: 3, s: 'str' },
  };
  const w = new XdrWriter();
  mod.demo.FIRST.args.encode(w, value);
  const back = mod.demo.FIRST.args.decode(new XdrReader(Buffer.from(w.bytes())));
  assert.deepEqual(back, value);
  const w2 = new XdrWriter();
  mod.demo.FIRST.args.encode(w2, { ...value, ch: { kind: 9 } });
  assert.deepEqual(mod.demo.FIRST.args.decode(new XdrReader(Buffer.from(w2.bytes()))).ch, { kind: 9 });
  assert.throws(() => mod.demo.FIRST.args.encode(new XdrWriter(), { ...value, t: { ...value.t, tiny: [1, 2, 3, 4] } }), /exceeds the limit of 3/);
});
