#!/usr/bin/env bash
# Runs every test of virtkit on a fresh Debian machine with Node >= 20.19:
# installs what the tests need (system packages when root, npm packages via npm ci),
# fetches libvirt 9.0.0's test corpus into a cache, builds, lints, then runs node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests use: xmllint (RelaxNG verdicts on libvirt's corpus), xz/tar (corpus unpacking),
# QEMU and what the QEMU driver's tests need (qemu-img images, iproute2 taps, cpio + busybox-static for the
# test guest's initramfs; its kernel comes from `apt-get download`, nothing is installed for it).
missing=()
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
command -v qemu-img >/dev/null 2>&1 || missing+=(qemu-utils)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
# Real libvirt peers of the remote-protocol tests: virsh, libvirtd (+ its QEMU driver), libvirt-python.
command -v virsh >/dev/null 2>&1 || missing+=(libvirt-clients)
[ -x /usr/sbin/libvirtd ] || missing+=(libvirt-daemon)
dpkg-query -W -f='${Status}' libvirt-daemon-driver-qemu 2>/dev/null | grep -q 'ok installed' || missing+=(libvirt-daemon-driver-qemu)
/usr/bin/python3 -c 'import libvirt' >/dev/null 2>&1 || missing+=(python3-libvirt)
# qemu+ssh:// is tested with the system's ssh against a private sshd, nc -U on the far side.
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v nc >/dev/null 2>&1 || missing+=(netcat-openbsd)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "error: missing system packages: ${missing[*]} (run as root or apt-get install them)" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund --loglevel=error

# The corpus is downloaded once (Debian source package) and never committed.
corpus=$(bash scripts/fetch-libvirt-corpus.sh | tail -n 1)
export VIRTKIT_CORPUS_DIR="$(dirname "$corpus")"
echo "libvirt corpus: $corpus"

# The small guest the QEMU driver's integration tests boot (built once into a cache folder).
VIRTKIT_GUEST_DIR="$(bash scripts/build-test-guest.sh | tail -n 1)"
export VIRTKIT_GUEST_DIR
echo "test guest: $VIRTKIT_GUEST_DIR"

npm run -s build
npm run -s lint
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
