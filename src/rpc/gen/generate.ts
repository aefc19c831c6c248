/**
 * The table generator: reads libvirt's protocol definitions from the corpus folder
 * (`scripts/fetch-libvirt-corpus.sh`) and returns the generated modules of `src/rpc/generated`,
 * keyed by their path in the repository. `scripts/gen-rpc.ts` writes them;
 * `test/rpc/generated.test.ts` checks the committed files are exactly what this returns.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readHeaders } from './c-headers.js';
import { emitProtocol } from './emit.js';
import { netTypeSelection, remoteProcedureSelection, remoteTypeSelection } from './selection.js';
import { parseXdr } from './xdr-syntax.js';

export const GENERATED_DIR = 'src/rpc/generated';

/** `corpus` is the folder holding `src/remote`, `src/rpc` and `include/libvirt` (e.g. `.../libvirt-9.0.0`). */
export function generateAll(corpus: string): Map<string, string> {
  const version = /libvirt-([\d.]+)\/?$/.exec(corpus)?.[1] ?? 'unknown';
  const incDir = path.join(corpus, 'include/libvirt');
  const headers = readHeaders(
    readdirSync(incDir)
      .filter((f) => f.endsWith('.h'))
      .sort()
      .map((f) => readFileSync(path.join(incDir, f), 'utf8')),
  );
  const read = (rel: string) => ({ source: rel, defs: parseXdr(readFileSync(path.join(corpus, rel), 'utf8'), rel) });
  const out = new Map<string, string>();
  out.set(
    `${GENERATED_DIR}/virnet-protocol.ts`,
    emitProtocol({ ...read('src/rpc/virnetprotocol.x'), types: netTypeSelection, external: headers.constants, version }),
  );
  out.set(
    `${GENERATED_DIR}/keepalive-protocol.ts`,
    emitProtocol({
      ...read('src/rpc/virkeepaliveprotocol.x'),
      procedureEnum: 'keepalive_procedure',
      procedurePrefix: 'KEEPALIVE_PROC_',
      structPrefix: 'keepalive_',
      procedures: ['PING', 'PONG'],
      tableName: 'keepaliveProcedures',
      external: headers.constants,
      version,
    }),
  );
  out.set(
    `${GENERATED_DIR}/remote-protocol.ts`,
    emitProtocol({
      ...read('src/remote/remote_protocol.x'),
      procedureEnum: 'remote_procedure',
      procedurePrefix: 'REMOTE_PROC_',
      structPrefix: 'remote_',
      procedures: remoteProcedureSelection,
      types: remoteTypeSelection,
      tableName: 'remoteProcedures',
      external: headers.constants,
      functions: headers.functions,
      version,
    }),
  );
  return out;
}
