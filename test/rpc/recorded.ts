/** The recorded virsh sessions of fixtures/virsh-sessions.jsonl (made by fixtures/record.ts). */
import { readFileSync } from 'node:fs';

export interface Recorded {
  peer: 'libvirtd' | 'virtkitd';
  session: number;
  dir: 'c2s' | 's2c';
  bytes: Buffer;
}

export function loadRecorded(): Recorded[] {
  const text = readFileSync(new URL('./fixtures/virsh-sessions.jsonl', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = JSON.parse(l) as { peer: Recorded['peer']; session: number; dir: Recorded['dir']; hex: string };
      return { peer: r.peer, session: r.session, dir: r.dir, bytes: Buffer.from(r.hex, 'hex') };
    });
}
