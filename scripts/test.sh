#!/usr/bin/env bash
# Runs every test of virtkit on a fresh Debian machine with Node >= 20.19:
# installs what the tests need (system packages when root, npm packages via npm ci),
# fetches libvirt 9.0.0's test corpus into a cache, builds, lints, then runs node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests use: xmllint (RelaxNG verdicts on libvirt's corpus), xz/tar (corpus unpacking).
missing=()
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
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

npm run -s build
npm run -s lint
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
