/**
 * Running the user's editor as virsh's `edit` does: $VISUAL, else $EDITOR, else vi, on a
 * private temporary copy. The editor setting is split into words the way a shell would
 * (blanks, '…', "…", backslash) and run as an argv array with the file appended — never
 * through a shell; a setting that needs one (pipes, `$`, redirections) is refused.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ErrorDomain, VirtError } from '../errors.js';

function cliError(code: number, message: string): VirtError {
  return new VirtError(code, message, { domain: ErrorDomain.NONE });
}

/** Characters that mean the setting wants a shell (expansion, operators, redirection, globbing, comments). */
const SHELL_ONLY = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[', ']', '{', '}', '~', '#']);

/** Splits an editor setting into argv words like sh does, without expanding anything. */
export function splitEditorCommand(setting: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < setting.length; i++) {
    const c = setting[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === "'") {
      const end = setting.indexOf("'", i + 1);
      if (end < 0) throw cliError(ErrorCode.INVALID_ARG, `editor '${setting}' has an unterminated quote`);
      word += setting.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      for (i++; i < setting.length && setting[i] !== '"'; i++) {
        if (setting[i] === '\\' && i + 1 < setting.length && '"\\$`'.includes(setting[i + 1]!)) i++;
        else if (setting[i] === '$' || setting[i] === '`') throw needsShell(setting, setting[i]!);
        word += setting[i];
      }
      if (i >= setting.length) throw cliError(ErrorCode.INVALID_ARG, `editor '${setting}' has an unterminated quote`);
    } else if (c === '\\') {
      if (i + 1 < setting.length) word += setting[++i];
      inWord = true;
    } else if (SHELL_ONLY.has(c)) {
      throw needsShell(setting, c);
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw cliError(ErrorCode.INVALID_ARG, 'the editor setting is empty');
  return words;
}

function needsShell(setting: string, c: string): VirtError {
  return cliError(
    ErrorCode.INVALID_ARG,
    `editor '${setting}' needs a shell ('${c}'); virtkit runs the editor without one: set VISUAL or EDITOR to a program and its arguments`,
  );
}

/** The editor argv from the environment: $VISUAL, else $EDITOR, else vi. */
export function editorFromEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  return splitEditorCommand(env['VISUAL'] || env['EDITOR'] || 'vi');
}

/** A new 0600 file `virtkitXXXXXX.xml` in $TMPDIR holding `text`; `remove()` deletes it. */
export async function createTempXml(text: string): Promise<{ path: string; remove: () => Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const path = join(process.env['TMPDIR'] || tmpdir(), `virtkit${randomBytes(4).toString('hex').slice(0, 6)}.xml`);
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(text);
      } finally {
        await handle.close();
      }
      return { path, remove: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 20) throw err;
    }
  }
}

/** Runs `argv` + `file` on the terminal and waits; virsh's messages when it cannot start or fails. */
export function runEditor(argv: readonly string[], file: string): Promise<void> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...args, file], { stdio: 'inherit' });
    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'No such file or directory' : err.message;
      reject(cliError(ErrorCode.SYSTEM_ERROR, `Cannot find '${cmd}' in path: ${why}`));
    });
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else {
        const how = signal ? `fatal signal ${signal}` : `unexpected exit status ${code}`;
        reject(cliError(ErrorCode.INTERNAL_ERROR, `internal error: Child process (${[...argv, file].join(' ')}) ${how}`));
      }
    });
  });
}
