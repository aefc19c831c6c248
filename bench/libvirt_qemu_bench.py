#!/usr/bin/python3
"""libvirt's QEMU driver through python3-libvirt, in-process: the libvirt column of bench/qemu.ts.

Run with /usr/bin/python3 (Debian's python3-libvirt). Reads one JSON command per line on stdin and
answers one JSON line on stdout, so bench/qemu.ts drives both sides with the same protocol; each
timed answer carries the wall time of the library call alone (time.perf_counter around it).

  libvirt_qemu_bench.py URI
    {"op": "define", "xml": "..."}        -> {}
    {"op": "start"}                        -> {"ms": ...}   virDomainCreate
    {"op": "attach", "xml": "..."}         -> {"ms": ...}   virDomainAttachDeviceFlags(LIVE)
    {"op": "detach", "xml": "..."}         -> {"ms": ...}   virDomainDetachDeviceFlags(LIVE)
    {"op": "xml"}                          -> {"xml": ...}  the live XML (untimed checks)
    {"op": "destroy"} / {"op": "undefine"} -> {}
Errors answer {"error": "..."}.
"""
import json
import sys
import time

import libvirt


def quiet_errors(_ctx, _err):
    """Keep libvirt's default error printer off stderr; errors still raise libvirtError."""


def timed(call):
    start = time.perf_counter()
    call()
    return {"ms": (time.perf_counter() - start) * 1000}


def main():
    libvirt.registerErrorHandler(quiet_errors, None)
    conn = libvirt.open(sys.argv[1])
    dom = None
    live = libvirt.VIR_DOMAIN_AFFECT_LIVE
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd["op"]
        try:
            if op == "define":
                dom = conn.defineXML(cmd["xml"])
                out = {}
            elif op == "start":
                out = timed(dom.create)
            elif op == "attach":
                out = timed(lambda: dom.attachDeviceFlags(cmd["xml"], live))
            elif op == "detach":
                out = timed(lambda: dom.detachDeviceFlags(cmd["xml"], live))
            elif op == "xml":
                out = {"xml": dom.XMLDesc(0)}
            elif op == "destroy":
                if dom.isActive():
                    dom.destroy()
                out = {}
            elif op == "undefine":
                dom.undefine()
                out = {}
            else:
                out = {"error": f"unknown op {op}"}
        except libvirt.libvirtError as err:
            out = {"error": str(err)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    conn.close()


main()
