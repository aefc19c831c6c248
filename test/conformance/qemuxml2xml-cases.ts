/**
 * Reads libvirt 9.0.0's tests/qemuxml2xmltest.c (from the corpus, never committed) into a list of
 * cases: the input and expected output files, the capability set the case names (a caps_*.xml file,
 * or the QEMU_CAPS_* flags of a DO_TEST), and the driver configuration in effect at that point of
 * the file (qemu.conf switches and environment variables the file toggles between cases).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CaseCaps {
  /** 'file': a caps_<ver>.<arch>.xml file; 'fake': only the named flags, with the test suite's machine list. */
  kind: 'file' | 'fake';
  /** caps file (kind 'file'), absolute path. */
  file?: string;
  /** 'latest' cases strip machine aliases (testutilsqemu.c), so 'pc' stays 'pc'. */
  stripMachineAliases?: boolean;
  /** QEMU_CAPS_* names given to the case (both kinds: DO_TEST_FULL may add flags to a file). */
  flagNames: string[];
}

export interface Qemuxml2xmlCase {
  name: string;
  /** '' or '.x86_64-latest', '.x86_64-7.0.0', ... */
  suffix: string;
  /** The architecture the case's capabilities are for, when it names one (ARG_CAPS_ARCH). */
  capsArch?: string;
  caps: CaseCaps;
  hostOS: 'linux' | 'macos';
  /** Only the active dump is checked by libvirt for WHEN_ACTIVE cases; virtkit compares inactive dumps. */
  inactive: boolean;
  parseFlags: string[];
  /** qemu.conf switches set at this point of the file (cfg->X / driver.config->X). */
  config: Record<string, boolean>;
  /** Environment variables set at this point of the file. */
  env: Record<string, string>;
  input: string;
  expected: string;
}

/** Splits a macro argument list at top-level commas. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let inStr = false;
  for (const ch of s) {
    if (inStr) {
      cur += ch;
      if (ch === '"') inStr = false;
      continue;
    }
    if (ch === '"') inStr = true;
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

const unquote = (s: string): string => s.replace(/^"|"$/g, '');

/** Newest caps_<ver>.<arch>.xml (testQemuGetLatestCapsForArch). */
export function latestCapsFile(capsDir: string, arch: string): string {
  const newer = (a: number[], b: number[]): boolean => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
    return false;
  };
  let best: { ver: number[]; file: string } | undefined;
  for (const f of readdirSync(capsDir)) {
    const m = /^caps_([\d.]+)\.(\w+)\.xml$/.exec(f);
    if (!m || m[2] !== arch) continue;
    const ver = m[1]!.split('.').map(Number);
    if (!best || newer(ver, best.ver)) best = { ver, file: join(capsDir, f) };
  }
  if (!best) throw new Error(`no caps file for ${arch} in ${capsDir}`);
  return best.file;
}

/** Every DO_TEST* invocation of qemuxml2xmltest.c, in order. */
export function readCases(testsDir: string): Qemuxml2xmlCase[] {
  const source = readFileSync(join(testsDir, 'qemuxml2xmltest.c'), 'utf8');
  const start = source.indexOf('DO_TEST_NOCAPS("minimal")');
  const body = source
    .slice(start)
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/.*$/gm, '');
  const capsDir = join(testsDir, 'qemucapabilitiesdata');
  const config: Record<string, boolean> = {};
  const env: Record<string, string> = {};
  const cases: Qemuxml2xmlCase[] = [];
  // Statements are separated by ';' at top level (macro calls contain no ';').
  for (const raw of body.split(';')) {
    const stmt = raw.trim();
    let m = /^(?:cfg|driver\.config)->(\w+)\s*=\s*(true|false)$/.exec(stmt);
    if (m) {
      config[m[1]!] = m[2] === 'true';
      continue;
    }
    m = /^g_setenv\("(\w+)",\s*"([^"]*)"/.exec(stmt);
    if (m) {
      env[m[1]!] = m[2]!;
      continue;
    }
    m = /^g_unsetenv\("(\w+)"\)$/.exec(stmt);
    if (m) {
      delete env[m[1]!];
      continue;
    }
    m = /^(DO_TEST\w*)\s*\(([\s\S]*)\)$/.exec(stmt);
    if (!m) continue;
    const macro = m[1]!;
    const args = splitArgs(m[2]!);
    const name = unquote(args[0]!);
    const c: Qemuxml2xmlCase = {
      name,
      suffix: '',
      caps: { kind: 'fake', flagNames: [] },
      hostOS: 'linux',
      inactive: true,
      parseFlags: [],
      config: { ...config },
      env: { ...env },
      input: join(testsDir, 'qemuxml2argvdata', `${name}.xml`),
      expected: '',
    };
    const fileCaps = (arch: string, ver: string): void => {
      c.capsArch = arch;
      c.suffix = `.${arch}-${ver}`;
      const file = ver === 'latest' ? latestCapsFile(capsDir, arch) : join(capsDir, `caps_${ver}.${arch}.xml`);
      c.caps = { kind: 'file', file, stripMachineAliases: ver === 'latest', flagNames: [] };
    };
    switch (macro) {
      case 'DO_TEST_NOCAPS':
        break;
      case 'DO_TEST':
        c.caps.flagNames = args.slice(1);
        break;
      case 'DO_TEST_MACOS':
        c.hostOS = 'macos';
        c.caps.flagNames = args.slice(1);
        break;
      case 'DO_TEST_CAPS_LATEST':
        fileCaps('x86_64', 'latest');
        break;
      case 'DO_TEST_CAPS_VER':
        fileCaps('x86_64', unquote(args[1]!));
        break;
      case 'DO_TEST_CAPS_ARCH_LATEST':
        fileCaps(unquote(args[1]!), 'latest');
        break;
      case 'DO_TEST_CAPS_ARCH_VER':
        fileCaps(unquote(args[1]!), unquote(args[2]!));
        break;
      case 'DO_TEST_FULL': {
        c.suffix = unquote(args[1]!);
        c.inactive = args[2]!.includes('INACTIVE') || args[2] === 'WHEN_BOTH';
        const rest = args.slice(3);
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i]!;
          if (a === 'ARG_QEMU_CAPS') {
            while (i + 1 < rest.length && rest[i + 1] !== 'QEMU_CAPS_LAST') c.caps.flagNames.push(rest[++i]!);
            i++;
          } else if (a === 'ARG_PARSEFLAGS') c.parseFlags.push(rest[++i]!);
          else if (a === 'ARG_GIC' || a === 'ARG_HOST_OS') i++;
        }
        break;
      }
      default:
        throw new Error(`qemuxml2xmltest.c: unknown macro ${macro}`);
    }
    const out = join(testsDir, 'qemuxml2xmloutdata');
    const inactiveFile = join(out, `${name}-inactive${c.suffix}.xml`);
    c.expected = existsSync(inactiveFile) ? inactiveFile : join(out, `${name}${c.suffix}.xml`);
    cases.push(c);
  }
  return cases;
}

/** QEMU_CAPS_* enum names → libvirt's capability strings (the names caps_*.xml files use), from qemu_capabilities.c. */
export function capsFlagNames(libvirtRoot: string): Map<string, string> {
  const source = readFileSync(join(libvirtRoot, 'src', 'qemu', 'qemu_capabilities.c'), 'utf8');
  const start = source.indexOf('VIR_ENUM_IMPL(virQEMUCaps,');
  const body = source.slice(start, source.indexOf(');', start));
  const map = new Map<string, string>();
  for (const m of body.matchAll(/"([^"]+)",?\s*\/\*\s*X?_?(QEMU_CAPS_\w+)\s*\*\//g)) map.set(m[2]!, m[1]!);
  return map;
}
