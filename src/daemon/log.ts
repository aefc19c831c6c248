/** virtkitd's log: one line per event on stderr, with a level filter. */
export type Level = 'error' | 'info' | 'debug';

export interface Logger {
  error(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

const rank: Record<Level, number> = { error: 0, info: 1, debug: 2 };

export function stderrLogger(level: Level): Logger {
  const line = (l: Level, msg: string): void => {
    if (rank[l] <= rank[level]) process.stderr.write(`${new Date().toISOString()} virtkitd ${l}: ${msg}\n`);
  };
  return { error: (m) => line('error', m), info: (m) => line('info', m), debug: (m) => line('debug', m) };
}

export const silentLogger: Logger = { error() {}, info() {}, debug() {} };
