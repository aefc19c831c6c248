/** virtkit's own version: set by the bundler (scripts/bundle-cli.mjs); the tsc build reads package.json. */
import { readFileSync } from 'node:fs';

declare const __VIRTKIT_VERSION__: string | undefined;

export function virtkitVersion(): string {
  if (typeof __VIRTKIT_VERSION__ === 'string') return __VIRTKIT_VERSION__;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** libvirt's packed version number (major * 1,000,000 + minor * 1,000 + micro) as "major.minor.micro". */
export function unpackVersion(v: number): string {
  return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
}

/** The libvirt API version virtkit implements (what `virsh version` calls "Using API"). */
export const LIBVIRT_API_VERSION = '9.0.0';
