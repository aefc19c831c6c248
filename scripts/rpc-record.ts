/**
 * A recording proxy for libvirt's RPC: listens on a unix socket, forwards every byte to a real
 * daemon's socket, and appends each frame (direction, bytes) to a JSON-lines file. Used to record
 * the fixtures of test/rpc (real virsh/python3-libvirt sessions) and to see which procedures a
 * client calls.
 *
 *   node --import tsx scripts/rpc-record.ts LISTEN_SOCKET TARGET_SOCKET OUT.jsonl [--print]
 */
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import { remoteProceduresApi, RemoteProcedure } from '../src/rpc/generated/remote-protocol.js';
import { FrameReader } from '../src/rpc/message.js';

const [listen, target, out] = process.argv.slice(2);
if (!listen || !target || !out) {
  console.error('usage: rpc-record.ts LISTEN_SOCKET TARGET_SOCKET OUT.jsonl [--print]');
  process.exit(2);
}
const print = process.argv.includes('--print');
const procName = new Map(Object.entries(RemoteProcedure).map(([k, v]) => [v, k]));
let session = 0;

function tap(dir: 'c2s' | 's2c', id: number): (chunk: Buffer) => void {
  const reader = new FrameReader();
  return (chunk) => {
    for (const f of reader.push(chunk)) {
      appendFileSync(out!, `${JSON.stringify({ session: id, dir, hex: f.toString('hex') })}\n`);
      if (print) {
        const proc = f.readInt32BE(12);
        const type = f.readInt32BE(16);
        const status = f.readInt32BE(24);
        const prog = f.readUInt32BE(4);
        const name = prog === 0x20008086 ? (procName.get(proc) ?? proc) : `keepalive ${proc}`;
        console.log(`${id} ${dir} ${name} type=${type} status=${status} serial=${f.readUInt32BE(20)} len=${f.length}${remoteProceduresApi[proc] ? '' : ''}`);
      }
    }
  };
}

net
  .createServer((client) => {
    const id = ++session;
    const upstream = net.connect(target);
    const c2s = tap('c2s', id);
    const s2c = tap('s2c', id);
    client.on('data', (d) => {
      c2s(d);
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      s2c(d);
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  })
  .listen(listen, () => console.error(`recording ${listen} -> ${target} into ${out}`));
