#!/usr/bin/python3
"""libvirt's own test driver, in-process through python3-libvirt: the reference column of bench/run.ts.

Run with /usr/bin/python3 (Debian's python3-libvirt; a pyenv python3 on PATH lacks the module).
Prints one JSON object on stdout and nothing else.

  libvirt_bench.py throughput DOMAIN_XML DEFINE_CYCLES XMLDESC_CALLS REPS
  libvirt_bench.py memory     DOMAIN_XML DOMAINS
"""
import gc
import json
import platform
import statistics
import sys
import time

import libvirt

URI = 'test:///default'
TEMPLATE_NAME = '<name>bench-template</name>'


def quiet_errors(_ctx, _err):
    """Keep libvirt's default error printer off stderr; errors still raise libvirtError."""


def vm_rss_kib():
    with open('/proc/self/status', encoding='ascii') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError('no VmRSS in /proc/self/status')


def settled_rss_kib():
    """RSS after at least 8 s of rounds of gc.collect() and a 200 ms pause until two reads agree (at most 15 s), as the virtkit side does."""
    started = time.monotonic()
    prev = None
    while True:
        gc.collect()
        time.sleep(0.2)
        rss = vm_rss_kib()
        elapsed = time.monotonic() - started
        if (elapsed >= 8 and prev is not None and abs(rss - prev) < 256) or elapsed >= 15:
            return rss
        prev = rss


def load_template(path):
    with open(path, encoding='utf-8') as f:
        xml = f.read()
    if TEMPLATE_NAME not in xml:
        raise SystemExit(f'{path}: expected {TEMPLATE_NAME}')
    head, tail = xml.split(TEMPLATE_NAME, 1)
    return lambda i: f'{head}<name>bench-{i}</name>{tail}'


def rate(n, fn):
    """Runs fn(n) once and returns operations per second."""
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def throughput(xml_path, define_cycles, xmldesc_calls, reps):
    make = load_template(xml_path)
    conn = libvirt.open(URI)
    counter = [0]

    def cycles(n):
        define = conn.defineXML
        base = counter[0]
        for i in range(base, base + n):
            dom = define(make(i))
            dom.XMLDesc(0)
            dom.undefine()
        counter[0] = base + n

    dom = conn.defineXML(make('xmldesc'))
    sample_xml = dom.XMLDesc(0)

    def xmldesc(n):
        desc = dom.XMLDesc
        for _ in range(n):
            desc(0)

    # Warm-up, then REPS timed runs of each; the median is what the table shows.
    cycles(max(1, define_cycles // 10))
    xmldesc(max(1, xmldesc_calls // 10))
    define_runs, xmldesc_runs = [], []
    for _ in range(reps):
        gc.collect()
        define_runs.append(rate(define_cycles, cycles))
        gc.collect()
        xmldesc_runs.append(rate(xmldesc_calls, xmldesc))
    dom.undefine()
    conn.close()
    return {
        'defineCycles': {'n': define_cycles, 'runs': define_runs, 'median': statistics.median(define_runs)},
        'xmlDesc': {'n': xmldesc_calls, 'runs': xmldesc_runs, 'median': statistics.median(xmldesc_runs)},
        'xmlDescBytes': len(sample_xml.encode('utf-8')),
    }


def memory(xml_path, domains):
    make = load_template(xml_path)
    conn = libvirt.open(URI)
    baseline = settled_rss_kib()
    define = conn.defineXML
    for i in range(domains):
        define(make(i))
    loaded = settled_rss_kib()
    count = conn.numOfDefinedDomains()
    # No cleanup: the process exits; undefining 10,000 domains would only cost time.
    return {'domains': domains, 'definedCount': count, 'baselineKiB': baseline, 'loadedKiB': loaded}


def main(argv):
    libvirt.registerErrorHandler(quiet_errors, None)
    mode = argv[1] if len(argv) > 1 else ''
    if mode == 'throughput' and len(argv) == 6:
        result = throughput(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    elif mode == 'memory' and len(argv) == 4:
        result = memory(argv[2], int(argv[3]))
    else:
        raise SystemExit(__doc__)
    result['runtime'] = {
        'python': platform.python_version(),
        'executable': sys.executable,
        'libvirt': libvirt.getVersion(),
        'bindings': getattr(libvirt, '__version__', None),
    }
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv)
