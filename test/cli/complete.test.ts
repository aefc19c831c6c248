/** Tab completion at the interactive prompt: commands, options, domain names, files. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { complete, currentWords } from '../../src/cli/complete.js';

const source = { domainNames: async () => ['test', 'vm1', 'vm2'] };
const hits = async (line: string) => (await complete(line, source))[0];

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtkit-complete-'));
  await writeFile(join(dir, 'nic.xml'), '');
  await writeFile(join(dir, 'net.xml'), '');
  await mkdir(join(dir, 'nested'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('complete', () => {
  it('splits the command being typed after the last ;', () => {
    assert.deepEqual(currentWords('list; dominfo te'), { words: ['dominfo'], partial: 'te' });
    assert.deepEqual(currentWords('dominfo '), { words: ['dominfo'], partial: '' });
  });
  it('completes command names at the start of a command', async () => {
    assert.deepEqual(await hits('domi'), ['domid ', 'domifaddr ', 'domiflist ', 'dominfo ']);
    assert.deepEqual(await hits('list; det'), ['detach-device ', 'detach-device-alias ', 'detach-disk ', 'detach-interface ']);
  });
  it("completes a command's options, leaving out those already given", async () => {
    assert.deepEqual(await hits('list --st'), ['--state-running ', '--state-paused ', '--state-shutoff ', '--state-other ']);
    assert.ok(!(await hits('list --all --a')).includes('--all '));
  });
  it('completes domain names where a domain is expected', async () => {
    assert.deepEqual(await hits('dominfo v'), ['vm1 ', 'vm2 ']);
    assert.deepEqual(await hits('attach-disk --domain t'), ['test ']);
    assert.deepEqual(await hits('domid test '), [], 'no second domain');
  });
  it('completes file names for file options, and command names for help', async () => {
    assert.deepEqual(await hits(`attach-device vm1 ${dir}/n`), [`${dir}/nested/`, `${dir}/net.xml `, `${dir}/nic.xml `]);
    assert.deepEqual(await hits('help dumpx'), ['dumpxml ']);
  });
  it('offers nothing for an unknown command', async () => {
    assert.deepEqual(await hits('bogus x'), []);
  });
});
