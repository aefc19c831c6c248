/** Commands read line by line: a script piped on stdin, or the interactive `virtkit # ` prompt. */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { boundedLines } from './read-input.js';
import { runCommandString } from './run.js';
import type { Session } from './session.js';

/** Runs each line of `input` as a command string; a bad line is reported and the next one still runs. */
export async function runScript(session: Session, input: Readable): Promise<boolean> {
  let ok = true;
  // Bounded lines: `virtkit < /dev/zero` stops at the cap instead of buffering one endless line.
  for await (const line of boundedLines(input)) {
    ok = (await runCommandString(session, line)) && ok;
    if (session.quitting) break;
  }
  return ok;
}

/** virsh's interactive mode on a terminal. Returns whether every command succeeded. */
export async function runInteractive(session: Session, input: Readable, output: Writable): Promise<boolean> {
  output.write("Welcome to virtkit, the virsh-compatible virtualization terminal.\n\nType:  'help' for help with commands\n       'quit' to quit\n\n");
  const rl = createInterface({ input, output, prompt: 'virtkit # ' });
  // readline swallows Ctrl-C on a terminal; pass it on so a waiting `event` can stop, else leave like virsh.
  rl.on('SIGINT', () => {
    if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
    else rl.close();
  });
  let ok = true;
  try {
    rl.prompt();
    for await (const line of rl) {
      ok = (await runCommandString(session, line)) && ok;
      if (session.quitting) break;
      rl.prompt();
    }
  } finally {
    rl.close();
  }
  return ok;
}
