#!/usr/bin/env node
/**
 * The `virtkit` command's entry point (package.json "bin"). It runs the bundled CLI
 * (bundle/cli.cjs, built by scripts/bundle-cli.mjs) through V8 with the code cache the
 * build stored next to it, so the functions a typical command runs start as bytecode
 * instead of being parsed and compiled on every invocation. A cache V8 rejects (another
 * Node.js version) or a missing one only costs that speed; the result is the same.
 *
 * CommonJS on purpose: Node then never starts its ES module loader for a plain command.
 * The bundle's few dynamic imports (external packages such as libxml2-wasm) come back
 * here as `importExternal`, resolved from this file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

const bundle = join(__dirname, 'bundle', 'cli.cjs');
const cacheFile = `${bundle}.cache`;

/** The wrapper's parameters, in the order scripts/bundle-cli.mjs declares them. */
type BundleFn = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
  importExternal: (specifier: string) => Promise<unknown>,
) => void;

function readCache(): Buffer | undefined {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

const source = readFileSync(bundle, 'utf8');
const cachedData = readCache();
const script = new Script(source, { filename: bundle, cachedData });
const run = script.runInThisContext() as BundleFn;
// Build time only (scripts/bundle-cli.mjs): store what this run compiled as the cache.
if (process.env['VIRTKIT_WRITE_CODE_CACHE'] === '1') process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
const exported = { exports: {} };
run(exported.exports, createRequire(bundle), exported, bundle, join(__dirname, 'bundle'), (specifier) => import(specifier));
