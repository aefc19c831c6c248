/**
 * define → dumpxml on test:///default for every RNG-valid libvirt output file of
 * tests/qemuxml2xmloutdata: our inactive dump must equal what libvirt 9.0.0's own test driver
 * dumps (which, for most files, is the input itself), and must still validate against domain.rng.
 * Run: node --import tsx --test test/conformance/define-dump.test.ts
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { Connection } from '../../src/api/connection.js';
import { DomainXML } from '../../src/api/flags.js';
import { validateDomainXml } from '../../src/conf/schema.js';
import { ErrorCode, VirtError } from '../../src/errors.js';
import { parseXml, type XmlElement, xmlDiff } from '../../src/xml/index.js';
import { rngVerdicts, setupCorpus, unavailable, xmlFiles } from './corpus.js';
import { libvirtTestDriver } from './libvirt-oracle.js';

const FOLDER = 'qemuxml2xmloutdata';
const TABLE = join(import.meta.dirname, 'libvirt-test-driver.json');

/** What libvirt 9.0.0's test driver does with the files it does not dump back unchanged. */
interface Table {
  about: string;
  rejects: Record<string, string>;
  rewrites: Record<string, string>;
}

/** Items of `b` missing from `a`, as a multiset. */
function minus(a: string[], b: string[]): string[] {
  const left = [...b];
  const out: string[] = [];
  for (const x of a) {
    const i = left.indexOf(x);
    if (i < 0) out.push(x);
    else left.splice(i, 1);
  }
  return out;
}

/** `controller[type=usb]`: an element named by its identifying attribute. */
function label(e: XmlElement): string {
  const id = ['type', 'model', 'name'].find((k) => e.hasAttr(k));
  return id ? `${e.name}[${id}=${e.attr(id)}]` : e.name;
}

/** Labels of the children of the element at an xmlDiff path like /domain/devices (first match per step). */
function childLabels(root: XmlElement, path: string): string[] | undefined {
  const steps = path.split('/').slice(2);
  const e = root.find(...steps);
  return e?.elements().map(label);
}

/** An xmlDiff line reduced to what differs (names, not values), so files that differ the same way group together. */
function cause(diff: string, wantTree: XmlElement, ourTree: XmlElement): string {
  const kids = /^(\S+): \d+ child elements \[(.*)\] != \d+ \[(.*)\]$/.exec(diff);
  if (kids) {
    const want = childLabels(wantTree, kids[1]!) ?? kids[2]!.split(',').filter(Boolean);
    const ours = childLabels(ourTree, kids[1]!) ?? kids[3]!.split(',').filter(Boolean);
    const adds = minus(ours, want);
    const lacks = minus(want, ours);
    // The path named a repeated element (e.g. the second <sound>): fall back to xmlDiff's names.
    if (adds.length + lacks.length === 0) return diff;
    return `${kids[1]}: ours${adds.length ? ` adds ${adds.join(', ')}` : ''}${lacks.length ? ` lacks ${lacks.join(', ')}` : ''}`;
  }
  const attrs = /^(\S+): attributes \[(.*)\] != \[(.*)\]$/.exec(diff);
  if (attrs) {
    // Often the same siblings, listed in another order: say so rather than compare strangers.
    const parent = attrs[1]!.slice(0, attrs[1]!.lastIndexOf('/'));
    const want = childLabels(wantTree, parent);
    const ours = childLabels(ourTree, parent);
    if (want && ours && want.join() !== ours.join() && minus(want, ours).length === 0 && minus(ours, want).length === 0) {
      const i = want.findIndex((w, n) => w !== ours[n]);
      return `${parent}: same children in another order (first: libvirt ${want[i]}, ours ${ours[i]})`;
    }
  }
  if (attrs) {
    const parse = (s: string) => new Map([...s.matchAll(/(\S+?)='([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
    const want = parse(attrs[2]!);
    const ours = parse(attrs[3]!);
    const adds = [...ours.keys()].filter((k) => !want.has(k));
    const lacks = [...want.keys()].filter((k) => !ours.has(k));
    const changes = [...want.keys()].filter((k) => ours.has(k) && ours.get(k) !== want.get(k));
    // Name the element by its identifying attributes, e.g. controller[type=usb].
    const id = ['type', 'model', 'name'].find((k) => want.has(k));
    const what = `${attrs[1]}${id ? `[${id}=${want.get(id)}]` : ''}`;
    const parts = [
      adds.length ? `adds ${adds.map((k) => `${k}='${ours.get(k)}'`).join(' ')}` : '',
      lacks.length ? `lacks ${lacks.join(' ')}` : '',
      changes.length ? `changes ${changes.join(' ')}` : '',
    ];
    return `${what}: ours ${parts.filter(Boolean).join(', ')}`;
  }
  return diff.replace(/"(?:[^"\\]|\\.)*"/g, '"…"');
}

function firstLine(err: unknown): string {
  const code = err instanceof VirtError ? `${err.codeName}: ` : '';
  const msg = err instanceof Error ? err.message : String(err);
  return code + msg.split('\n').slice(0, 2).join(' / ');
}

const corpus = setupCorpus();
if (typeof corpus === 'string') {
  unavailable(`define/dumpxml on ${FOLDER}`, corpus);
} else {
  test(`define/dumpxml on ${FOLDER} matches libvirt's test driver`, async () => {
    const all = xmlFiles(join(corpus.tests, FOLDER));
    const verdicts = rngVerdicts(join(corpus.schemas, 'domain.rng'), all);
    const exclusions: string[] = [];
    for (const f of all) {
      const v = verdicts.get(f);
      if (v !== undefined) exclusions.push(`${basename(f)}: not RNG-valid: ${v}`);
    }
    const files = all.filter((f) => verdicts.get(f) === undefined);

    // Expected output: libvirt's own dump when python3-libvirt is here, else the input where the
    // recorded table says libvirt dumps it back unchanged.
    const table = JSON.parse(readFileSync(TABLE, 'utf8')) as Table;
    const live = libvirtTestDriver(files);
    const expected = new Map<string, string>();
    const tableProblems: string[] = [];
    if (typeof live === 'string') {
      console.log(`expected output from ${basename(TABLE)} (${live})`);
      for (const f of files) {
        const name = basename(f);
        if (table.rejects[name]) exclusions.push(`${name}: libvirt's test driver rejects it: ${table.rejects[name]}`);
        else if (table.rewrites[name]) exclusions.push(`${name}: libvirt rewrites it (${table.rewrites[name]}); comparing needs python3-libvirt`);
        else expected.set(f, readFileSync(f, 'utf8'));
      }
    } else {
      console.log('expected output from libvirt 9.0.0 test:///default via python3-libvirt');
      const fresh: Table = { about: table.about, rejects: {}, rewrites: {} };
      for (const f of files) {
        const r = live.get(f);
        const name = basename(f);
        if (!r) throw new Error(`libvirt oracle gave no result for ${name}`);
        if ('error' in r) {
          fresh.rejects[name] = r.error;
          exclusions.push(`${name}: libvirt's test driver rejects it: ${r.error}`);
          continue;
        }
        expected.set(f, r.xml);
        const d = xmlDiff(parseXml(readFileSync(f, 'utf8')), parseXml(r.xml));
        if (d) fresh.rewrites[name] = d;
      }
      if (process.env['VIRTKIT_UPDATE_LIBVIRT_TABLE']) writeFileSync(TABLE, JSON.stringify(fresh, null, 1) + '\n');
      else if (JSON.stringify(fresh) !== JSON.stringify(table)) {
        tableProblems.push(`${basename(TABLE)} is out of date: rerun with VIRTKIT_UPDATE_LIBVIRT_TABLE=1`);
      }
    }

    const c = await Connection.open('test:///default');
    // 22 files are named "test", like the running domain test:///default starts with: remove it.
    try {
      const pre = await c.lookupByName('test');
      await pre.destroy();
      await pre.undefine();
    } catch (err) {
      if (!(err instanceof VirtError && err.code === ErrorCode.NO_DOMAIN)) throw err;
    }

    const failures = new Map<string, string[]>();
    const fail = (why: string, name: string) => {
      const list = failures.get(why) ?? [];
      list.push(name);
      failures.set(why, list);
    };
    let passed = 0;
    for (const [file, want] of expected) {
      const name = basename(file);
      let dom: Awaited<ReturnType<Connection['defineXML']>> | undefined;
      try {
        dom = await c.defineXML(readFileSync(file, 'utf8'));
        const out = await dom.getXMLDesc(DomainXML.INACTIVE);
        const wantTree = parseXml(want);
        const ourTree = parseXml(out);
        const d = xmlDiff(wantTree, ourTree);
        if (d) {
          fail(`differs: ${cause(d, wantTree, ourTree)}`, name);
          continue;
        }
        try {
          await validateDomainXml(out);
        } catch (err) {
          fail(`dump not RNG-valid: ${firstLine(err).replace(/^.*?Unable to validate doc against \S+ \/ /, '')}`, name);
          continue;
        }
        passed++;
      } catch (err) {
        fail(`${dom ? 'dumpxml' : 'define'} failed: ${firstLine(err)}`, name);
      } finally {
        if (dom) await dom.undefine().catch((err) => fail(`undefine failed: ${firstLine(err)}`, name));
      }
    }
    await c.close();

    const failed = [...failures.values()].reduce((n, l) => n + l.length, 0);
    console.log(`\ndefine/dumpxml on ${FOLDER}: ${all.length} files, ${expected.size} compared, ${passed} passed, ${failed} failed`);
    console.log(`Excluded (${exclusions.length}):`);
    for (const e of exclusions) console.log(`  ${e}`);
    if (failed > 0) {
      console.log('Failures by cause (expected != ours):');
      for (const [why, names] of [...failures].sort((a, b) => b[1].length - a[1].length)) {
        console.log(`  ${names.length} × ${why}\n      ${names.slice(0, 6).join(' ')}${names.length > 6 ? ' …' : ''}`);
      }
    }
    assert.deepEqual(tableProblems, []);
    assert.equal(failed, 0, `${failed} of ${expected.size} files do not define/dump back as libvirt does`);
  });
}
