/** virsh-style option parsing and the "did you mean" hints. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkArgs, parseArgs as parse } from '../../src/cli/args.js';
import type { CommandDef } from '../../src/cli/command.js';
import { UsageError } from '../../src/cli/errors.js';
import { editDistance, suggest } from '../../src/cli/hint.js';
import { findCommand } from '../../src/cli/registry.js';

const cmd = (name: string) => {
  const c = findCommand(name);
  assert.ok(c, name);
  return c;
};

/** The parsed values (the help switch is checked separately). */
const parseArgs = (c: CommandDef, words: string[]) => parse(c, words).args;
/** Parsing, then the checks virsh makes when the command runs. */
const parseAndCheck = (c: CommandDef, words: string[]) => {
  const args = parseArgs(c, words);
  checkArgs(c, args);
  return args;
};

describe('parseArgs', () => {
  it('fills value options positionally in declaration order, like virsh', () => {
    assert.deepEqual(parseArgs(cmd('attach-disk'), ['dom', '/x.img', 'vdb', 'virtio']), {
      domain: 'dom',
      source: '/x.img',
      target: 'vdb',
      targetbus: 'virtio',
    });
  });
  it('accepts --opt VALUE and --opt=VALUE anywhere', () => {
    assert.deepEqual(parseArgs(cmd('attach-device'), ['--file=/d.xml', '--live', '--domain', 'x']), {
      file: '/d.xml',
      live: true,
      domain: 'x',
    });
  });
  it('treats everything after -- as data', () => {
    assert.deepEqual(parseArgs(cmd('dominfo'), ['--', '--weird-name']), { domain: '--weird-name' });
  });
  it('collects argv options', () => {
    assert.deepEqual(parseArgs(cmd('echo'), ['a', 'b', 'c']), { string: ['a', 'b', 'c'] });
  });
  it("gives virsh's messages for mistakes", () => {
    assert.throws(() => parseArgs(cmd('dominfo'), []), /command 'dominfo' requires <domain> option/);
    assert.throws(() => parseArgs(cmd('dominfo'), ['a', 'b']), /unexpected data 'b'/);
    assert.throws(() => parseArgs(cmd('list'), ['--all', '--all']), /option --all already seen/);
    assert.throws(() => parseArgs(cmd('attach-disk'), ['d', '/x', 'vdb', '--cache']), /expected syntax: --cache <string>/);
    assert.throws(() => parseArgs(cmd('list'), ['--all=yes']), /invalid '=' after option --all/);
  });
  it('leaves exclusive options, empty values and numbers to run time, as virsh does', () => {
    const exclusive = ['d', 'f', '--current', '--live'];
    assert.doesNotThrow(() => parseArgs(cmd('attach-device'), exclusive));
    assert.throws(() => parseAndCheck(cmd('attach-device'), exclusive), /Options --current and --live are mutually exclusive/);
    assert.throws(() => parseAndCheck(cmd('dominfo'), ['']), /Failed to get option 'domain': Option argument is empty/);
    assert.throws(() => parseAndCheck(cmd('attach-disk'), ['d', '/x', 'vdb', '--source-host-name', 'h']), /Option --source-protocol is required by option --source-host-name/);
  });
  it('--help anywhere asks for the help page, even with required options missing', () => {
    assert.deepEqual(parse(cmd('dominfo'), ['--help']), { args: {}, help: true });
    assert.equal(parse(cmd('attach-disk'), ['dom', '--help']).help, true);
    assert.throws(() => parse(cmd('dominfo'), ['--help', '--nosuch']), /doesn't support option --nosuch/);
    assert.throws(() => parse(cmd('dominfo'), ['--help=x']), /invalid '=' after option --help/);
  });
  it('hints at the closest option name', () => {
    assert.throws(
      () => parseArgs(cmd('list'), ['--al']),
      (err: unknown) => err instanceof UsageError && /doesn't support option --al/.test(err.message) && /--all/.test(err.hint ?? ''),
    );
  });
});

describe('hints', () => {
  it('measures edit distance with transpositions', () => {
    assert.equal(editDistance('domifno', 'dominfo'), 1);
    assert.equal(editDistance('list', 'list'), 0);
    assert.equal(editDistance('', 'abc'), 3);
  });
  it('suggests close names and prefixes, nothing for far ones', () => {
    const names = ['dominfo', 'domiflist', 'domid', 'list', 'attach-device'];
    assert.equal(suggest('dominf', names), 'dominfo');
    assert.equal(suggest('lsit', names), 'list');
    assert.equal(suggest('attach', names), 'attach-device');
    assert.equal(suggest('zzzzzz', names), undefined);
  });
});
