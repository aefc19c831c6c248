/**
 * Regenerates src/rpc/generated/*.ts from libvirt's protocol files in the corpus
 * (run scripts/fetch-libvirt-corpus.sh first). `npm run gen:rpc`
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll } from '../src/rpc/gen/generate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = process.argv[2] ?? path.join(process.env.VIRTKIT_CORPUS_DIR ?? path.join(os.homedir(), '.cache/libvirt-corpus'), 'libvirt-9.0.0');
for (const [rel, text] of generateAll(corpus)) {
  writeFileSync(path.join(root, rel), text);
  console.log(`wrote ${rel} (${text.split('\n').length} lines)`);
}
