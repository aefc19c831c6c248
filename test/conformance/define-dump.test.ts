/**
 * define → dumpxml on test:///default for every RNG-valid libvirt output file of
 * tests/qemuxml2xmloutdata: these files are libvirt's own normalised output, so our inactive dump
 * must be XML-equal to the input (our defaults add nothing libvirt would not) and still validate.
 * Run: node --import tsx --test test/conformance/define-dump.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { Connection } from '../../src/api/connection.js';
import { DomainXML } from '../../src/api/flags.js';
import { validateDomainXml } from '../../src/conf/schema.js';
import { ErrorCode, VirtError } from '../../src/errors.js';
import { parseXml, type XmlElement, xmlDiff } from '../../src/xml/index.js';
import { sortControllers } from '../../src/conf/qemu/canonical-order.js';
import { DomainDef } from '../../src/conf/domain.js';
import { rngVerdicts, setupCorpus, unavailable, xmlFiles } from './corpus.js';
import { Oracle } from './qemuxml2xml-run.js';

const FOLDER = 'qemuxml2xmloutdata';
/**
 * Files whose define → dump cannot equal the input, each with its reason. Keep this short:
 * every entry is a place where virtkit knowingly differs from libvirt's QEMU driver.
 */
const EXCLUDED: Record<string, string> = {
  'disk-network-nfs.x86_64-latest.xml':
    "keeps a <backingStore index> that libvirt's inactive parse drops (the index is read from live XML only, virDomainDiskBackingStoreParse); virtkit follows the parser, as the -inactive outputs of disk-backing-chains-index, disk-mirror and disk-active-commit do",
};

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
  test(`define/dumpxml on ${FOLDER} dumps each file back unchanged`, async () => {
    const all = xmlFiles(join(corpus.tests, FOLDER));
    const verdicts = rngVerdicts(join(corpus.schemas, 'domain.rng'), all);
    const exclusions: string[] = [];
    for (const f of all) {
      const v = verdicts.get(f);
      if (v !== undefined) exclusions.push(`${basename(f)}: not RNG-valid: ${v}`);
    }
    const files = all.filter((f) => verdicts.get(f) === undefined);

    // libvirt already normalised these files: our dump must be the input itself.
    const expected = new Map<string, string>();
    for (const f of files) {
      const reason = EXCLUDED[basename(f)];
      if (reason) exclusions.push(`${basename(f)}: ${reason}`);
      else expected.set(f, readFileSync(f, 'utf8'));
    }

    // Each file was written by libvirt with the capabilities of its qemuxml2xmltest case (caps_*.xml or
    // the suite's flag sets): define it on a connection with those (files of no case: no flags at all).
    const oracle = new Oracle(corpus.root);
    const caseOf = new Map(oracle.cases.map((k) => [k.expected, k]));
    const neutral = oracle.cases.find((k) => k.caps.kind === 'fake' && k.caps.flagNames.length === 0 && Object.keys(k.env).length === 0)!;
    const connections = new Map<string, Connection>();
    const connectionFor = async (file: string): Promise<Connection> => {
      const k = caseOf.get(file) ?? neutral;
      const key = JSON.stringify([k.caps, k.config, k.env]);
      let c = connections.get(key);
      if (!c) {
        c = await Connection.open('test:///default', { qemuHost: oracle.hostFor(k) });
        // 22 files are named "test", like the running domain test:///default starts with: remove it.
        try {
          const pre = await c.lookupByName('test');
          await pre.destroy();
          await pre.undefine();
        } catch (err) {
          if (!(err instanceof VirtError && err.code === ErrorCode.NO_DOMAIN)) throw err;
        }
        connections.set(key, c);
      }
      return c;
    };
    let refiled = 0;

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
        const c = await connectionFor(file);
        dom = await c.defineXML(readFileSync(file, 'utf8'));
        const out = await dom.getXMLDesc(DomainXML.INACTIVE | DomainXML.SECURE);
        // An inactive define of libvirt's status ('-active') output gives its inactive output, when libvirt has one.
        const inactive = file.replace(/-active\.xml$/, '-inactive.xml');
        const wantTree = parseXml(inactive !== file && existsSync(inactive) ? readFileSync(inactive, 'utf8') : want);
        // Status-format ('-active') files carry the running id, which an inactive dump never shows.
        wantTree.removeAttr('id');
        // libvirt's parser files controllers by type and index (virDomainControllerInsertPreAlloced), so
        // re-defining its own output moves controllers it had appended (root ports after virtio-serial).
        const before = wantTree.child('devices')?.elements('controller') ?? [];
        sortControllers(new DomainDef(wantTree));
        const after = wantTree.child('devices')?.elements('controller') ?? [];
        if (after.some((e, i) => e !== before[i])) refiled++;
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
    for (const c of connections.values()) await c.close();

    const failed = [...failures.values()].reduce((n, l) => n + l.length, 0);
    console.log(`\ndefine/dumpxml on ${FOLDER}: ${all.length} files, ${expected.size} compared, ${passed} passed, ${failed} failed`);
    console.log(`${refiled} expected files had their controllers re-filed by libvirt's insert rule before comparing`);
    console.log(`Excluded (${exclusions.length}):`);
    for (const e of exclusions) console.log(`  ${e}`);
    if (failed > 0) {
      console.log('Failures by cause (expected != ours):');
      for (const [why, names] of [...failures].sort((a, b) => b[1].length - a[1].length)) {
        console.log(`  ${names.length} × ${why}\n      ${names.slice(0, 6).join(' ')}${names.length > 6 ? ' …' : ''}`);
      }
    }
    assert.equal(failed, 0, `${failed} of ${expected.size} files do not define/dump back unchanged`);
  });
}
