/**
 * Shared setup of the conformance tests: finds libvirt 9.0.0's test data through the fetch
 * script (never committed), checks for xmllint, and asks xmllint which files libvirt's RelaxNG
 * accepts. Missing tools fail the run under CI and skip it on a dev machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { deviceRefs } from '../../src/conf/schema.js';

const here = import.meta.dirname;

/** Where the fetch script lives: env override, a copy in the repo, or the shared tools folder. */
function fetchScript(): string | undefined {
  const candidates = [
    process.env['VIRTKIT_CORPUS_SCRIPT'],
    resolve(here, '../../scripts/fetch-libvirt-corpus.sh'),
    resolve(here, '../../../shared/tools/fetch-libvirt-corpus.sh'),
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

export interface Corpus {
  /** The libvirt-9.0.0 folder (holds tests/ and src/conf/schemas/). */
  root: string;
  tests: string;
  schemas: string;
}

/** Locates (fetching on first use) the corpus and xmllint; a string is the reason they are unavailable. */
export function setupCorpus(): Corpus | string {
  const script = fetchScript();
  if (!script) return 'fetch-libvirt-corpus.sh not found (set VIRTKIT_CORPUS_SCRIPT)';
  // The script returns at once when the corpus is cached; the first run downloads ~20 MB with apt.
  const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 600_000 });
  const root = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !existsSync(join(root, 'tests'))) {
    return `libvirt corpus unavailable: ${script} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().slice(-300)}`;
  }
  const lint = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
  if (lint.error || lint.status !== 0) return 'xmllint not found (apt-get install libxml2-utils)';
  const schemas = join(root, 'src', 'conf', 'schemas');
  // Validate with the schemas of the same release as the data, on every machine.
  process.env['VIRTKIT_SCHEMA_DIR'] ??= schemas;
  return { root, tests: join(root, 'tests'), schemas };
}

/** Registers the suite as failed under CI, or as skipped (with the reason printed) elsewhere. */
export function unavailable(name: string, reason: string): void {
  if (process.env['CI']) {
    test(name, () => {
      throw new Error(`conformance data unavailable under CI: ${reason}`);
    });
    return;
  }
  console.log(`${name}: skipped: ${reason}`);
  test(name, { skip: reason }, () => {});
}

/** The .xml files of one corpus folder, sorted, as absolute paths. */
export function xmlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => join(dir, f));
}

/** A grammar file for lone device XML (start = any child of <devices>), for xmllint. */
export function deviceGrammar(schemas: string): string {
  const refs = deviceRefs(schemas)
    .map((r) => `<ref name="${r}"/>`)
    .join('');
  const file = join(mkdtempSync(join(tmpdir(), 'virtkit-rng-')), 'device.rng');
  writeFileSync(
    file,
    '<grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">' +
      `<start><choice>${refs}</choice></start><include href="${join(schemas, 'domainoverrides.rng')}"/></grammar>`,
  );
  return file;
}

/**
 * Asks xmllint (one process per 400 files: it compiles the grammar once) which files `rng`
 * accepts. The map holds undefined for an accepted file, else the first error with its line.
 */
export function rngVerdicts(rng: string, files: string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (let i = 0; i < files.length; i += 400) {
    const batch = files.slice(i, i + 400);
    const r = spawnSync('xmllint', ['--noout', '--relaxng', rng, ...batch], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    // xmllint reports files in order: error lines, then "<file> validates" or "<file> fails to validate".
    let pending: string[] = [];
    for (const line of r.stderr.split('\n')) {
      if (line === '') continue;
      const file = batch.find((f) => line === `${f} validates` || line === `${f} fails to validate`);
      if (!file) {
        pending.push(line);
        continue;
      }
      out.set(file, line.endsWith(' validates') ? undefined : firstError(pending));
      pending = [];
    }
    for (const f of batch) {
      if (!out.has(f)) {
        const own = r.stderr.split('\n').filter((l) => l.startsWith(`${f}:`));
        out.set(f, `xmllint gave no verdict: ${firstError(own)}`);
      }
    }
  }
  return out;
}

function firstError(lines: string[]): string {
  if (lines.length === 0) return 'no message';
  const message = lines[0]!.replace(/^.*?(Relax-NG validity error|parser error) : /, '').trim();
  const line = lines.map((l) => /^[^ ]*?:(\d+): /.exec(l)?.[1]).find((n) => n !== undefined);
  return line ? `${message} (line ${line})` : message;
}
