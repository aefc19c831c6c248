// @ts-check
/**
 * The floor of bench/remote.ts's virsh loop: a daemon that does no work at all. `record` sits
 * between virsh and virtkitd and keeps every reply; `replay` then answers each call with the next
 * kept reply of the same procedure (its serial set to the call's), one write per reply, as a daemon
 * answering from memory would. What virsh does, and what waking a process and passing bytes
 * through a unix socket costs, is all that is left in the loop.
 *
 * Plain JavaScript run by plain `node`, no virtkit code: nothing but the socket and the frames.
 *
 *   node bench/rpc-floor.mjs record LISTEN_SOCKET TARGET_SOCKET REPLIES_FILE   (one client, then exits)
 *   node bench/rpc-floor.mjs replay LISTEN_SOCKET REPLIES_FILE
 *
 * Prints "ready" once listening.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';

/** libvirt's frame: a 4-byte length counting itself, then prog, vers, proc, type, serial, status. */
const PROC_AT = 12;
const SERIAL_AT = 20;

/**
 * Calls `onFrame` with every whole frame of a byte stream.
 * @param {(frame: Buffer) => void} onFrame
 * @returns {(chunk: Buffer) => void}
 */
function framer(onFrame) {
  /** @type {Buffer} */
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
      const len = buf.readUInt32BE(0);
      if (len < 28) throw new Error(`bad frame length ${len}`);
      onFrame(buf.subarray(0, len));
      buf = buf.subarray(len);
    }
  };
}

/**
 * @param {net.Server} server
 * @param {string} path
 */
function listen(server, path) {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
  server.listen(path, () => process.stdout.write('ready\n'));
}

/**
 * @param {string} path
 * @param {string} target
 * @param {string} file
 */
function record(path, target, file) {
  /** @type {Buffer[]} */
  const replies = [];
  const server = net.createServer((client) => {
    server.close();
    const daemon = net.connect(target);
    client.on('data', (d) => daemon.write(d));
    daemon.on(
      'data',
      framer((f) => {
        replies.push(Buffer.from(f));
        client.write(f);
      }),
    );
    client.on('end', () => daemon.end());
    daemon.on('end', () => client.end());
    client.on('error', () => daemon.destroy());
    daemon.on('error', () => client.destroy());
    client.on('close', () => {
      daemon.destroy();
      writeFileSync(file, Buffer.concat(replies));
      process.exit(0);
    });
  });
  listen(server, path);
}

/**
 * @param {string} path
 * @param {string} file
 */
function replay(path, file) {
  /** Kept replies by procedure, in the order they were sent. @type {Map<number, Buffer[]>} */
  const byProc = new Map();
  framer((f) => {
    const proc = f.readUInt32BE(PROC_AT);
    const list = byProc.get(proc) ?? [];
    list.push(Buffer.from(f));
    byProc.set(proc, list);
  })(readFileSync(file));
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    /** Next reply to use per procedure, for this connection. @type {Map<number, number>} */
    const next = new Map();
    client.on(
      'data',
      framer((call) => {
        const proc = call.readUInt32BE(PROC_AT);
        const list = byProc.get(proc);
        if (!list) {
          client.destroy();
          return;
        }
        const i = next.get(proc) ?? 0;
        next.set(proc, i + 1);
        const reply = list[i % list.length];
        reply.writeUInt32BE(call.readUInt32BE(SERIAL_AT), SERIAL_AT);
        client.write(reply);
      }),
    );
    client.on('error', () => undefined);
  });
  listen(server, path);
  process.on('SIGTERM', () => process.exit(0));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'record' && args.length === 3) record(args[0], args[1], args[2]);
else if (mode === 'replay' && args.length === 2) replay(args[0], args[1]);
else {
  process.stderr.write('usage: rpc-floor.mjs record LISTEN TARGET FILE | replay LISTEN FILE\n');
  process.exit(2);
}
