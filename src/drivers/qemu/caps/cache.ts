/**
 * Probe results cached per binary, like libvirt's capabilities cache: one JSON file per emulator path
 * in the user's cache folder, valid while the binary's mtime, size and inode and the presence of
 * /dev/kvm are unchanged. Written atomically, so concurrent probes or a killed process never leave a
 * torn file (a file that does not parse is simply probed again).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ErrorCode, virtError } from '../../../errors.js';
import { writeFileAtomic } from '../../../hypervisor/store/atomic-write.js';
import { type ProbeOptions, probeQemu, type QemuProbe } from './probe.js';

/** Bumped whenever QemuProbe's shape or the probe's method changes. */
const FORMAT = 2;

interface CacheKey {
  format: number;
  emulator: string;
  mtimeMs: number;
  size: number;
  ino: number;
  kvmDevice: boolean;
}

interface CacheFile {
  key: CacheKey;
  probe: QemuProbe;
}

/** `$XDG_CACHE_HOME/virtkit/qemu-caps`, else `~/.cache/virtkit/qemu-caps`. */
export function defaultCapsCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME && isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'virtkit', 'qemu-caps');
}

function keyOf(emulator: string): CacheKey {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(emulator);
  } catch (err) {
    throw virtError(ErrorCode.INTERNAL_ERROR, `Cannot check QEMU binary ${emulator}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return { format: FORMAT, emulator, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, kvmDevice: existsSync('/dev/kvm') };
}

const sameKey = (a: CacheKey, b: CacheKey): boolean =>
  a.format === b.format && a.emulator === b.emulator && a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino && a.kvmDevice === b.kvmDevice;

export interface CapsCacheOptions extends ProbeOptions {
  /** Folder for the cache files (default {@link defaultCapsCacheDir}). */
  cacheDir?: string;
}

/** In-process memo, so one process probes or reads a binary's file once. */
const memo = new Map<string, { key: CacheKey; probe: Promise<QemuProbe> }>();

/** Path of the cache file of one emulator. */
export function capsCacheFile(emulator: string, cacheDir = defaultCapsCacheDir()): string {
  return join(cacheDir, `${createHash('sha256').update(emulator).digest('hex').slice(0, 32)}.json`);
}

/** The probe of `emulator` (absolute path): from memory, from the cache file, or by probing (then cached). */
export function qemuCapabilities(emulator: string, options: CapsCacheOptions = {}): Promise<QemuProbe> {
  if (!isAbsolute(emulator)) return Promise.reject(virtError(ErrorCode.INVALID_ARG, `emulator path '${emulator}' must be absolute`));
  let key: CacheKey;
  try {
    key = keyOf(emulator);
  } catch (err) {
    return Promise.reject(err);
  }
  const cacheDir = options.cacheDir ?? defaultCapsCacheDir();
  const memoKey = `${cacheDir}\0${emulator}`;
  const hit = memo.get(memoKey);
  if (hit && sameKey(hit.key, key)) return hit.probe;
  const probe = loadOrProbe(emulator, key, cacheDir, options);
  memo.set(memoKey, { key, probe });
  probe.catch(() => memo.delete(memoKey));
  return probe;
}

async function loadOrProbe(emulator: string, key: CacheKey, cacheDir: string, options: ProbeOptions): Promise<QemuProbe> {
  const file = capsCacheFile(emulator, cacheDir);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (cached?.key && sameKey(cached.key, key) && cached.probe?.emulator === emulator) return cached.probe;
  } catch {
    // Missing, unreadable or torn by an older writer: probe again.
  }
  const probe = await probeQemu(emulator, options);
  if (options.skipKvm) return probe; // incomplete: never cached
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify({ key, probe } satisfies CacheFile)}\n`);
  return probe;
}

/** Forgets in-process results (tests). */
export function clearCapsMemo(): void {
  memo.clear();
}
