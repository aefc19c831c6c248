/** The virsh command-string tokenizer. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitArgv, splitCommands } from '../../src/cli/split.js';

describe('splitCommands', () => {
  it('splits commands at ; and newlines and words at blanks', () => {
    assert.deepEqual(splitCommands('list --all; dominfo 1\ndomid test'), [['list', '--all'], ['dominfo', '1'], ['domid', 'test']]);
  });
  it('drops empty commands', () => {
    assert.deepEqual(splitCommands(' ;; \n\t; list ;'), [['list']]);
  });
  it("keeps single quotes literal and applies backslash escapes outside them, as virsh's echo shows", () => {
    // virsh -c test:///default 'echo "a b" '"'"'c d'"'"' e\ f "x\"y" a#b' prints: a b c d e f x"y a#b
    assert.deepEqual(splitCommands(`echo "a b" 'c d' e\\ f "x\\"y" a#b`), [['echo', 'a b', 'c d', 'e f', 'x"y', 'a#b']]);
    assert.deepEqual(splitCommands(`echo 'a\\b'`), [['echo', 'a\\b']]);
  });
  it('keeps ; inside quotes and joins adjacent quoted parts into one word', () => {
    assert.deepEqual(splitCommands(`echo 'a;b'"c;d"e`), [['echo', 'a;bc;de']]);
  });
  it('keeps empty quoted words', () => {
    assert.deepEqual(splitCommands(`attach-interface d ethernet ''`), [['attach-interface', 'd', 'ethernet', '']]);
  });
  it('treats # at the start of a word as a comment up to the end of the line, even past ;', () => {
    assert.deepEqual(splitCommands('echo a # comment; echo hidden\necho b'), [['echo', 'a'], ['echo', 'b']]);
  });
  it('reports unbalanced quotes and a dangling backslash like virsh', () => {
    assert.throws(() => splitCommands('echo "abc'), /missing "/);
    assert.throws(() => splitCommands("echo 'abc"), /missing '/);
    assert.throws(() => splitCommands('echo abc\\'), /dangling \\/);
  });
});

describe('splitArgv', () => {
  it('splits argv at standalone ; words only', () => {
    assert.deepEqual(splitArgv(['list', ';', 'domid', 'a;b', ';']), [['list'], ['domid', 'a;b']]);
  });
});
