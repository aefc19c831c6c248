#!/usr/bin/env node
/**
 * Bundles the virtkit command (src/cli/main.ts) into dist/cli/bundle/cli.cjs with esbuild,
 * after `tsc` has type-checked and built the library and the entry point dist/cli/virtkit.cjs,
 * then stores V8's code cache for it (cli.cjs.cache) from one run of typical commands.
 *
 * Why (bench/cli-startup.ts): loading ~90 ES modules cost the CLI about as much again as
 * Node.js's own start; one CommonJS file with a code cache starts within a few ms of `node -e 0`.
 * The bundle is wrapped as a function of (exports, require, module, __filename, __dirname,
 * importExternal); dynamic imports of external packages are routed to importExternal, which
 * the entry point implements with its own import() (code run by node:vm cannot import).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outdir = join(root, 'dist', 'cli', 'bundle');
const outfile = join(outdir, 'cli.cjs');
/** Packages left out of the bundle, loaded from node_modules at run time. */
const EXTERNAL = ['libxml2-wasm'];

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  outfile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  define: { __VIRTKIT_VERSION__: JSON.stringify(pkg.version) },
  // main.ts reads package.json through import.meta only when __VIRTKIT_VERSION__ is not defined.
  logOverride: { 'empty-import-meta': 'silent' },
  write: false,
  logLevel: 'warning',
});

let code = result.outputFiles[0].text.replace(/^#!.*\n/, '');
for (const name of EXTERNAL) code = code.replaceAll(`import("${name}")`, `importExternal("${name}")`);
if (/\bimport\(/.test(code)) throw new Error('bundle-cli: an import() is left in the bundle; add the package to EXTERNAL');
writeFileSync(outfile, `(function (exports, require, module, __filename, __dirname, importExternal) {\n${code}\n})`);

// One run over the common paths (connect, lookups, tables, XML, help) fills the code cache.
const training = spawnSync(
  process.execPath,
  [
    join(root, 'dist', 'cli', 'virtkit.cjs'),
    '-c',
    'test:///default',
    'list --all; dominfo test; domstate test --reason; domid test; domiflist test; domblklist test; dumpxml test; ' +
      'attach-disk test /x.img vdb --print-xml; help dominfo; uri; echo done',
  ],
  { env: { ...process.env, VIRTKIT_WRITE_CODE_CACHE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
);
if (training.status !== 0) throw new Error(`bundle-cli: the code cache run failed: ${training.stderr}`);
