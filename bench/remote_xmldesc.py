"""python3-libvirt getXMLDesc calls/s against a daemon (bench/remote.ts runs it with /usr/bin/python3).

    remote_xmldesc.py URI N   ->  {"callsPerSecond": ...} on the last line
"""
import json
import sys
import time

import libvirt

uri, n = sys.argv[1], int(sys.argv[2])
conn = libvirt.open(uri)
xml = (
    "<domain type='test'><name>bench-py</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>"
    "<devices><interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>"
    "<disk type='file' device='disk'><source file='/tmp/x.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>"
)
dom = conn.defineXML(xml)
for _ in range(min(n // 10, 1000)):
    dom.XMLDesc(0)
start = time.perf_counter()
for _ in range(n):
    dom.XMLDesc(0)
elapsed = time.perf_counter() - start
dom.undefine()
conn.close()
print(json.dumps({"callsPerSecond": n / elapsed}))
