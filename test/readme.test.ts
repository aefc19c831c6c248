/** Runs every `<!-- readme-example -->` block of the README and checks each `// prints:` line against its output. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/<!-- readme-example: (\S+) -->\n```ts\n([\s\S]*?)```/g)];

test('the README has runnable API examples', () => {
  assert.ok(blocks.length >= 3, `found ${blocks.length} examples`);
});

for (const [, name, code] of blocks) {
  test(`README example "${name}" runs and prints what it says`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'virtkit-readme-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, `${name}.mts`);
    writeFileSync(file, code!.replaceAll("from 'virtkit'", `from '${join(root, 'src', 'index.ts')}'`));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root });
    const expected = [...code!.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1]!.trim());
    assert.ok(expected.length > 0, 'example declares its output');
    assert.deepEqual(stdout.trim().split('\n'), expected);
  });
}
