/**
 * virsh's interactive mode on a terminal: banner, `virtkit # ` prompt, tab
 * completion. Loaded only when stdin is a terminal (node:readline is not cheap to start).
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { complete } from './complete.js';
import { runCommandString } from './run.js';
import type { Session } from './session.js';

export const BANNER =
  "Welcome to virtkit, the virtualization interactive terminal.\n\nType:  'help' for help with commands\n       'quit' to quit\n\n";
export const PROMPT = 'virtkit # ';

/** Domain names for completion; nothing when the connection cannot be opened. */
async function domainNames(session: Session): Promise<string[]> {
  try {
    const conn = await session.connection();
    return (await conn.listAllDomains(0)).map((d) => d.name);
  } catch {
    return [];
  }
}

/** virsh's interactive mode on a terminal, with tab completion. Returns whether every command succeeded. */
export async function runInteractive(session: Session, input: Readable, output: Writable, opts: { banner?: boolean } = {}): Promise<boolean> {
  if (opts.banner !== false) output.write(BANNER);
  session.interactive = true;
  const rl = createInterface({
    input,
    output,
    prompt: PROMPT,
    completer: (line: string, callback: (err: Error | null, result: [string[], string]) => void) => {
      complete(line, { domainNames: () => domainNames(session) }).then(
        (r) => callback(null, r),
        () => callback(null, [[], line]),
      );
    },
  });
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
  // virsh ends the prompt line on end-of-input.
  if (!session.quitting) output.write('\n');
  return ok;
}
