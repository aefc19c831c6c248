#!/usr/bin/env node
/**
 * virtkitd: serves virtkit's drivers over libvirt's remote protocol, so virsh, libvirt-python and
 * virtkit's own remote driver can use them.
 *
 *   virtkitd [--socket PATH] [--ro-socket [PATH]] [--listen ADDR:PORT] [options]
 */
import { parseDaemonArgs, usage } from './options.js';
import { stderrLogger } from './log.js';
import { VirtkitServer } from './server.js';

async function main(): Promise<number> {
  let opts: ReturnType<typeof parseDaemonArgs>;
  try {
    opts = parseDaemonArgs(process.argv.slice(2), process.env, process.getuid?.() ?? 0);
  } catch (err) {
    process.stderr.write(`virtkitd: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (opts.version) {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`virtkitd ${pkg.version} (libvirt remote protocol of libvirt 9.0.0)\n`);
    return 0;
  }
  const log = stderrLogger(opts.logLevel);
  let server: VirtkitServer;
  try {
    server = await VirtkitServer.start({ ...opts.server, log });
  } catch (err) {
    process.stderr.write(`virtkitd: ${(err as Error).message}\n`);
    return 1;
  }
  // One line on stdout once every listener is up, for whoever started us and waits for it.
  const where = [
    opts.server.socket && `unix:${opts.server.socket}`,
    opts.server.roSocket && `unix-ro:${opts.server.roSocket}`,
    server.tcpAddress && `tcp:${server.tcpAddress.address}:${server.tcpAddress.port}`,
  ].filter(Boolean);
  process.stdout.write(`virtkitd ready: ${where.join(' ')}\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      log.info(`${sig}: shutting down`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await server.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`virtkitd: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
