/**
 * The real libvirt as an oracle, when python3-libvirt is installed: defines each file on
 * libvirt's own test:///default and returns its inactive dump. Without it the conformance
 * test falls back to the recorded table in libvirt-test-driver.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** What libvirt's test driver did with one file: its inactive XML, or the define error. */
export type LibvirtResult = { xml: string } | { error: string };

const SCRIPT = `
import json, os, sys, libvirt
out, files = sys.argv[1], sys.argv[2:]
libvirt.registerErrorHandler(lambda *a: None, None)
c = libvirt.open('test:///default')
t = c.lookupByName('test'); t.destroy(); t.undefine()
res = {}
for f in files:
    try:
        d = c.defineXML(open(f).read())
    except libvirt.libvirtError as e:
        res[f] = str(e); continue
    try:
        open(os.path.join(out, os.path.basename(f)), 'w').write(d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        res[f] = None
    finally:
        d.undefine()
print(json.dumps({'version': libvirt.getVersion(), 'results': res}))
`;

/** Runs libvirt's test driver over `files`; a string is the reason it is unavailable. */
export function libvirtTestDriver(files: string[]): Map<string, LibvirtResult> | string {
  if (process.env['VIRTKIT_LIBVIRT_PYTHON'] === 'none') return 'disabled by VIRTKIT_LIBVIRT_PYTHON=none';
  // The Debian interpreter: a pyenv or venv python on PATH usually lacks the libvirt module.
  const pythons = [process.env['VIRTKIT_LIBVIRT_PYTHON'], '/usr/bin/python3', 'python3'].filter((p): p is string => !!p);
  const out = mkdtempSync(join(tmpdir(), 'virtkit-libvirt-'));
  let why = 'python3 not found';
  for (const py of pythons) {
    const r = spawnSync(py, ['-c', SCRIPT, out, ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.error || r.status !== 0) {
      why = r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`;
      continue;
    }
    const { version, results } = JSON.parse(r.stdout) as { version: number; results: Record<string, string | null> };
    // Only the release the corpus comes from is a fair oracle: newer test drivers add defaults.
    if (version !== 9_000_000) return `python3-libvirt is libvirt ${version}, not 9.0.0`;
    const map = new Map<string, LibvirtResult>();
    for (const [f, error] of Object.entries(results)) {
      map.set(f, error === null ? { xml: readFileSync(join(out, basename(f)), 'utf8') } : { error });
    }
    return map;
  }
  return `python3-libvirt unavailable (${why})`;
}
