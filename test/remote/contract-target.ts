/**
 * The contract suite's remote target: every connection gets its own in-process virtkitd on a
 * socket in the connection's private folder (a pristine test driver, as the embedded targets
 * get), and the suite's open options that belong to the far side (the unplug timeout) become
 * the daemon's options, as an operator would set them.
 */
import { join } from 'node:path';
import type { OpenOptions } from '../../src/index.js';
import { silentLogger } from '../../src/daemon/log.js';
import { VirtkitServer } from '../../src/daemon/server.js';

export async function serveVirtkitd(tmp: string, options: OpenOptions): Promise<() => Promise<void>> {
  const server = await VirtkitServer.start({
    socket: join(tmp, 'sock'),
    drivers: { defaultUri: 'test:///default', unplugTimeoutMs: options.unplugTimeoutMs },
    log: silentLogger,
  });
  return () => server.stop();
}
