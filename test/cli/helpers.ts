/** Runs the built CLI (`dist/cli/virtkit.cjs`, the package's bin) as a subprocess with an argv array, and fixture XML for the tests. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built entry point users run (bundle + code cache); `npm run build` makes it. */
export const MAIN = fileURLToPath(new URL('../../dist/cli/virtkit.cjs', import.meta.url));

/** Environment variables that choose the default URI; tests start without them. */
export const URI_VARIABLES = ['VIRTKIT_DEFAULT_URI', 'VIRSH_DEFAULT_CONNECT_URI', 'LIBVIRT_DEFAULT_URI'] as const;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed (stdin is always closed). */
  input?: string;
  /** Extra environment; the URI variables (VIRTKIT_, VIRSH_, LIBVIRT_DEFAULT_URI) are cleared unless given here. */
  env?: Record<string, string>;
  /** Kill after this many ms (default 20 s). */
  timeoutMs?: number;
}

/** `virtkit ...args`, resolved when the process exits. */
export function virtkit(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first with 'npm run build'`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of URI_VARIABLES) delete env[name];
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A process that exits before reading its stdin must not fail the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** A temporary folder for fixture files and `?state=DIR`, removed by `cleanup()`. */
export async function tempDir(): Promise<{ dir: string; file: (name: string, text: string) => Promise<string>; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'virtkit-cli-test-'));
  return {
    dir,
    file: async (name, text) => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Fixture options: a CD-ROM drive, or a simulated guest that answers unplug requests late. */
export interface DomainFixture {
  cdrom?: boolean;
  /** `delay` (answers after delayMs) or `never` (ignores unplug requests). */
  unplug?: { ack: 'delay' | 'never' | 'reject'; delayMs?: number };
}

/** A small test-driver domain: one virtio disk (vda), one network NIC with a fixed MAC. */
export function domainXml(name: string, fixture: DomainFixture = {}): string {
  const cdrom = fixture.cdrom
    ? `    <disk type='file' device='cdrom'>
      <source file='/iso/old.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
`
    : '';
  const meta = fixture.unplug
    ? `  <metadata>
    <vkt:unplug xmlns:vkt='urn:virtkit:test' ack='${fixture.unplug.ack}' delay-ms='${fixture.unplug.delayMs ?? 0}'/>
  </metadata>
`
    : '';
  return `<domain type='test'>
  <name>${name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
${meta}  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/images/${name}.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
${cdrom}    <interface type='network'>
      <mac address='52:54:00:00:00:01'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
`;
}

/** `<interface>` device XML. */
export function nicXml(mac?: string): string {
  return `<interface type='network'>
  ${mac ? `<mac address='${mac}'/>` : ''}
  <source network='default'/>
  <model type='virtio'/>
</interface>
`;
}

/** `<disk>` device XML for target `dev`. */
export function diskXml(dev: string): string {
  return `<disk type='file' device='disk'>
  <source file='/images/${dev}.img'/>
  <target dev='${dev}' bus='virtio'/>
</disk>
`;
}

/**
 * Each command's stdout. Every command ends with virsh's extra newline, so one that
 * printed lines ends in a blank line and one that printed nothing (it failed) is a lone newline.
 */
export function outputs(stdout: string): string[] {
  const out: string[] = [];
  let rest = stdout;
  while (rest.length > 0) {
    if (rest.startsWith('\n')) {
      out.push('');
      rest = rest.slice(1);
      continue;
    }
    const end = rest.indexOf('\n\n');
    if (end < 0) throw new Error(`unterminated command output: ${JSON.stringify(rest)}`);
    out.push(rest.slice(0, end));
    rest = rest.slice(end + 2);
  }
  return out;
}
