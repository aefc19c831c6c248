/**
 * virsh's command-string tokenizer: `;` or a newline ends a command, blanks
 * separate words, '…' is literal, "…" and bare words take backslash escapes,
 * and `#` at the start of a word comments out the rest of the line.
 */
import { UsageError } from './errors.js';

/** Splits a command string into commands, each a list of words; empty commands are dropped. */
export function splitCommands(text: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;

  const endWord = (): void => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
    } else if (c === ';' || c === '\n') {
      endCommand();
      i++;
    } else if (c === '#' && !inWord) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) throw new UsageError("missing '");
      word += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= text.length) throw new UsageError('missing "');
        const d = text[i]!;
        if (d === '"') break;
        if (d === '\\') {
          i++;
          if (i >= text.length) throw new UsageError('dangling \\');
        }
        word += text[i]!;
        i++;
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new UsageError('dangling \\');
      word += text[i + 1]!;
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  endCommand();
  return commands;
}

/** Splits an argv command line at standalone `;` words (a shell passes `\;` that way). */
export function splitArgv(argv: readonly string[]): string[][] {
  const commands: string[][] = [];
  let current: string[] = [];
  for (const a of argv) {
    if (a === ';') {
      if (current.length > 0) commands.push(current);
      current = [];
    } else current.push(a);
  }
  if (current.length > 0) commands.push(current);
  return commands;
}
