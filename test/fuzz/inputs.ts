/**
 * Fuzz inputs: libvirt's own corpus documents (domains and hot-plug devices, ~/.cache/libvirt-corpus),
 * mutated by text operations aimed at what parsers and validators trip on (hostile attribute values,
 * deep nesting, repeated elements, cut documents, stray markup, bad bytes), plus raw garbage.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';

function corpusTests(): string | undefined {
  const base = process.env['VIRTKIT_CORPUS_DIR'] ?? join(homedir(), '.cache', 'libvirt-corpus');
  const dir = join(base, 'libvirt-9.0.0', 'tests');
  try {
    readdirSync(dir);
    return dir;
  } catch {
    return undefined;
  }
}

function readAll(dir: string, limit: number): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.xml'))
      .sort()
      .slice(0, limit)
      .map((f) => readFileSync(join(dir, f), 'utf8'));
  } catch {
    return [];
  }
}

const FALLBACK_DOMAIN = `<domain type='qemu'><name>seed</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><disk type='file' device='disk'><source file='/i/a.img'/><target dev='vda' bus='virtio'/></disk>
<interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><model type='virtio'/></interface>
<controller type='usb' index='0' model='piix3-uhci'/><input type='tablet' bus='usb'/><video><model type='vga' vram='16384'/></video></devices></domain>`;

/** Domain and device documents to mutate (the corpus when present, a built-in seed otherwise). */
export interface Seeds {
  domains: string[];
  devices: string[];
}

let seeds: Seeds | undefined;

export function loadSeeds(): Seeds {
  if (seeds) return seeds;
  const tests = corpusTests();
  const domains = tests ? [...readAll(join(tests, 'qemuxml2xmloutdata'), 400), ...readAll(join(tests, 'genericxml2xmlindata'), 60)] : [];
  const devices = tests ? readAll(join(tests, 'qemuhotplugtestdevices'), 100) : [];
  // Device elements cut out of domains widen the device seeds (disks, NICs, controllers, ...).
  for (const d of domains.slice(0, 200)) {
    for (const m of d.matchAll(/<(disk|interface|controller|hostdev|video|input|serial|channel|rng|memballoon|watchdog|graphics)\b[\s\S]*?<\/\1>/g)) {
      if (devices.length < 1500) devices.push(m[0]);
    }
  }
  if (domains.length === 0) domains.push(FALLBACK_DOMAIN);
  if (devices.length === 0) devices.push(`<interface type='user'><mac address='52:54:00:00:00:09'/></interface>`);
  seeds = { domains, devices };
  return seeds;
}

/** Values that break naive code: huge, negative and fractional numbers, prototype names, markup, control characters. */
export const hostileValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__', 'constructor', 'toString', '', ' ', '-1', '0', '4294967295', '4294967296', '9007199254740993', '1e999', '0x80000000',
    '0xffffffffffffffff', 'NaN', 'Infinity', '-0', '1.5', '../../etc/passwd', '/dev/zero', 'a'.repeat(300), '\u0000', '\uFFFE', '\uD800',
    '&amp;', '&lt;', '&#0;', '&#x110000;', '&bogus;', ']]>', '<', '>', "'", '"', '\t\n', 'vnet0', 'net0', 'ua-x', 'ide0-0-0', 'vda',
    '52:54:00:00:00:01', 'ff:ff:ff:ff:ff:ff', '00000000-0000-0000-0000-000000000000', 'pci', 'drive', 'usb', 'virtio', 'q35', 'pc',
  ),
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
);

export type Mutation =
  | { op: 'attr' | 'text' | 'insert' | 'rename'; at: number; value: string }
  | { op: 'delete' | 'duplicate' | 'truncate'; at: number; len: number }
  | { op: 'nest' | 'repeat'; at: number; n: number }
  | { op: 'byte'; at: number; byte: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('attr' as const, 'text' as const, 'insert' as const, 'rename' as const), at: fc.nat(), value: hostileValue }),
  fc.record({ op: fc.constantFrom('delete' as const, 'duplicate' as const, 'truncate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ op: fc.constantFrom('nest' as const, 'repeat' as const), at: fc.nat(), n: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 200, max: 3000 })) }),
  fc.record({ op: fc.constant('byte' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

function nth<T>(xs: T[], at: number): T | undefined {
  return xs.length === 0 ? undefined : xs[at % xs.length];
}

/** Applies one mutation to XML text (positions wrap around the text or the list of candidates). */
export function mutate(text: string, m: Mutation): string {
  const pos = text.length === 0 ? 0 : m.at % text.length;
  switch (m.op) {
    case 'attr': {
      const hit = nth([...text.matchAll(/=(['"])([^'"]*)\1/g)], m.at);
      if (!hit || hit.index === undefined) return text;
      const q = hit[1]!;
      return text.slice(0, hit.index + 2) + m.value.replaceAll(q, '') + text.slice(hit.index + 2 + hit[2]!.length);
    }
    case 'text': {
      const hit = nth([...text.matchAll(/>([^<]+)</g)], m.at);
      if (!hit || hit.index === undefined) return text;
      return text.slice(0, hit.index + 1) + m.value + text.slice(hit.index + 1 + hit[1]!.length);
    }
    case 'insert':
      return text.slice(0, pos) + m.value + text.slice(pos);
    case 'rename': {
      const hit = nth([...text.matchAll(/<([A-Za-z_][\w.-]*)/g)], m.at);
      if (!hit || hit.index === undefined || !/^[A-Za-z_][\w.:-]*$/.test(m.value)) return text;
      return text.slice(0, hit.index + 1) + m.value + text.slice(hit.index + 1 + hit[1]!.length);
    }
    case 'delete':
      return text.slice(0, pos) + text.slice(pos + m.len);
    case 'duplicate':
      return text.slice(0, pos + m.len) + text.slice(pos, pos + m.len) + text.slice(pos + m.len);
    case 'truncate':
      return text.slice(0, Math.max(0, text.length - m.len));
    case 'nest': {
      // Wraps an element's content in n levels (past 256 the parser must refuse).
      const hit = nth([...text.matchAll(/<([A-Za-z_][\w.-]*)[^<>]*[^/]>/g)], m.at);
      if (!hit || hit.index === undefined) return text;
      const end = hit.index + hit[0].length;
      const close = text.indexOf('</', end);
      if (close < 0) return text;
      return text.slice(0, end) + '<n>'.repeat(m.n) + text.slice(end, close) + '</n>'.repeat(m.n) + text.slice(close);
    }
    case 'repeat': {
      const hit = nth([...text.matchAll(/<[A-Za-z_][^<>]*\/>/g)], m.at);
      if (!hit || hit.index === undefined) return text;
      return text.slice(0, hit.index) + hit[0].repeat(m.n) + text.slice(hit.index);
    }
    case 'byte':
      return text.slice(0, pos) + String.fromCharCode(m.byte) + text.slice(pos + 1);
  }
}

/** A mutated corpus document, or raw garbage now and then. */
export function xmlFrom(pool: () => string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([i, ms]) => {
      const docs = pool();
      return ms.reduce(mutate, docs[i % docs.length]!);
    }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(), hostileValue).map(([i, v]) => pool()[i % pool().length]!.replace(/<name>[^<]*<\/name>/, `<name>${v}</name>`)) },
  );
}

/** Any JavaScript value a careless or hostile caller might pass. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, true, false, Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, -1, 0x8000_0000, 1.5, 1n, Symbol('x'), [], {}, () => 1),
  fc.integer(),
  fc.double(),
  hostileValue,
  fc.object({ maxDepth: 2 }),
);

/** Flags: mostly valid bits, sometimes anything. */
export const flagsValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 7 }) }, { weight: 1, arbitrary: anyValue });
