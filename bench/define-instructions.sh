#!/usr/bin/env bash
# Instructions per define cycle (defineXML + getXMLDesc + undefine) of one or more builds, counted by
# callgrind in a warmed-up, single-threaded node. Unlike time, the count does not depend on which of this
# host's two process speeds a run gets, so it compares two builds to within ~0.1%. Needs valgrind.
#   bash bench/define-instructions.sh [DIST_INDEX_JS ...]   (default: ./dist/index.js; ~1 min per build)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "error: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
[ $# -gt 0 ] || set -- dist/index.js
N=${N:-1000}
for dist in "$@"; do
  out=$(mktemp -d)
  DIST=$(realpath "$dist") W=${W:-10000} N=$N valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg.out" \
    node --single-threaded --expose-gc bench/define-loop.mjs 2>"$out/log" >/dev/null
  total=$(grep -o 'Collected : [0-9]*' "$out/log" | awk '{print $3}')
  rm -rf "$out"
  printf '%-40s %8d instructions per define cycle\n' "$dist" $((total / N))
done
