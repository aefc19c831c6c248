/** Commands read line by line from a script piped on stdin. */
import type { Readable } from 'node:stream';
import { boundedLines } from './read-input.js';
import { runCommandString } from './run.js';
import type { Session } from './session.js';

/** Runs each line of `input` as a command string; returns whether every command succeeded. */
export async function runScript(session: Session, input: Readable): Promise<boolean> {
  let ok = true;
  // Bounded lines: `virtkit < /dev/zero` stops at the cap instead of buffering one endless line.
  for await (const line of boundedLines(input)) {
    ok = (await runCommandString(session, line)) && ok;
    if (session.quitting) break;
  }
  return ok;
}
