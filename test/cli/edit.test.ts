/** `edit`: the editor from $VISUAL/$EDITOR run without a shell on a private copy, re-define, virsh's messages. */
import assert from 'node:assert/strict';
import { chmod, readFile, rm, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { splitEditorCommand } from '../../src/cli/editor.js';
import { domainXml, tempDir, virtkit } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
const ed: Record<string, string> = {};
before(async () => {
  tmp = await tempDir();
  const script = async (name: string, body: string) => {
    ed[name] = await tmp.file(name, `#!/bin/sh\n${body}\n`);
    await chmod(ed[name]!, 0o755);
  };
  // Records its arguments and the file's mode, changes nothing.
  await script('noop', `printf '%s|' "$@" > "${tmp.dir}/args"; for f; do :; done; stat -c %a "$f" > "${tmp.dir}/mode"`);
  await script('memory', `sed -i "s|<memory unit='KiB'>[0-9]*</memory>|<memory unit='KiB'>131072</memory>|" "$1"`);
  await script('broken', `echo '<domain' > "$1"`);
  await script('fails', 'exit 3');
});
after(() => tmp.cleanup());

describe('edit', () => {
  it('an unchanged file: "not changed"; the copy is 0600 and removed afterwards', async () => {
    const r = await virtkit(['edit test'], { env: { EDITOR: ed['noop']! } });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "Domain 'test' XML configuration not changed.\n\n", '']);
    const [file] = (await readFile(`${tmp.dir}/args`, 'utf8')).split('|');
    assert.match(file!, /\/virtkit[0-9a-f]{6}\.xml$/);
    assert.equal((await readFile(`${tmp.dir}/mode`, 'utf8')).trim(), '600');
    await assert.rejects(stat(file!), /ENOENT/);
  });
  it('a changed file is defined again: "edited", the definition has the change', async () => {
    const vm = await tmp.file('vm.xml', domainXml('vm1'));
    const r = await virtkit([`define ${vm}; edit vm1; dumpxml vm1 --inactive --xpath //memory`], { env: { EDITOR: ed['memory']! } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Domain 'vm1' XML configuration edited\.\n\n<memory unit="KiB">131072<\/memory>\n/);
  });
  it('VISUAL wins over EDITOR; arguments in the setting are split like a shell would, without one', async () => {
    const r = await virtkit(['edit test'], { env: { VISUAL: `${ed['noop']} --flag 'a b' "c d"`, EDITOR: ed['fails']! } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(await readFile(`${tmp.dir}/args`, 'utf8'), /^--flag\|a b\|c d\|\/.*\.xml\|$/);
  });
  it("the editor's failure, a missing editor and a setting that needs a shell are errors; the domain is unchanged", async () => {
    const fails = await virtkit(['edit test'], { env: { EDITOR: ed['fails']! } });
    assert.equal(fails.code, 1);
    assert.match(fails.stderr, /^error: internal error: Child process \(.*fails \/.*\.xml\) unexpected exit status 3\n$/);
    const missing = await virtkit(['edit test'], { env: { EDITOR: 'no-such-editor-here' } });
    assert.equal(missing.stderr, "error: Cannot find 'no-such-editor-here' in path: No such file or directory\n");
    const shell = await virtkit(['edit test'], { env: { EDITOR: `${ed['noop']} | cat` } });
    assert.match(shell.stderr, /^error: editor '.*' needs a shell \('\|'\)/);
  });
  it('an invalid edit fails, keeps the edited copy and says where', async () => {
    const r = await virtkit(['edit test; dumpxml test --inactive --xpath //name'], { env: { EDITOR: ed['broken']! } });
    assert.equal(r.code, 0, 'the last command succeeded');
    const kept = /kept in (\S+)/.exec(r.stderr)?.[1];
    assert.ok(kept, r.stderr);
    assert.match(await readFile(kept, 'utf8'), /^<domain\n/);
    await rm(kept);
    assert.match(r.stderr, /error: malformed XML/);
    assert.match(r.stdout, /<name>test<\/name>/);
  });
});

describe('splitEditorCommand', () => {
  it('splits words with quotes and backslashes, expands nothing', () => {
    assert.deepEqual(splitEditorCommand('vim'), ['vim']);
    assert.deepEqual(splitEditorCommand(`  emacs -nw  'my file' "x\\"y" a\\ b `), ['emacs', '-nw', 'my file', 'x"y', 'a b']);
    assert.deepEqual(splitEditorCommand("code --wait ''"), ['code', '--wait', '']);
  });
  it('refuses what only a shell could do, and empty or unbalanced settings', () => {
    for (const bad of ['vi | cat', 'vi; rm x', '$EDITOR', 'vi `x`', 'vi > out', 'vi &', '"$HOME/vi"', '~/bin/vi']) {
      assert.throws(() => splitEditorCommand(bad), /needs a shell/, bad);
    }
    assert.throws(() => splitEditorCommand('   '), /empty/);
    assert.throws(() => splitEditorCommand("vi 'x"), /unterminated quote/);
  });
});
