#!/bin/bash
# The cost of verified reads in the FUSE view, by comparing two builds of trove
# on the bench corpus repository (made by `npm run bench -- --only fuse`):
#   bench/fuse-verify-cost.sh OLD/bin/trove.js NEW/bin/trove.js [RUNS]
# For each build and run: drop caches, mount, `cat` 6,000 files (cold: every
# object file hashed once by the new build), `cat` them again (warm), unmount.
# Needs root (drop_caches, mount).
set -euo pipefail
OLD=$1 NEW=$2 RUNS=${3:-3}
REPO=${TROVE_BENCH_CACHE:-/var/cache/trove-bench}/fuse/trove-repo
MNT=$(mktemp -d /tmp/trove-verify-cost-XXXXXX)
LIST=$(mktemp)
cleanup() { if mountpoint -q "$MNT"; then node "$NEW" --repo "$REPO" umount "$MNT" >/dev/null || true; fi; rm -f "$LIST"; rmdir "$MNT" 2>/dev/null || true; }
trap cleanup EXIT
node "$NEW" --repo "$REPO" mount "$MNT" >/dev/null
(cd "$MNT/refs/corpus/" && find . -type f > "$LIST.all") && head -6000 "$LIST.all" > "$LIST" && rm -f "$LIST.all"
BYTES=$(cd "$MNT/refs/corpus/" && tr '\n' '\0' < "$LIST" | xargs -0 cat | wc -c)
node "$NEW" --repo "$REPO" umount "$MNT" >/dev/null
pass() { local t0 t1; t0=$(date +%s.%N); (cd "$MNT/refs/corpus/" && tr '\n' '\0' < "$LIST" | xargs -0 cat > /dev/null); t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
echo "$(wc -l < "$LIST") files, $BYTES bytes"
for i in $(seq "$RUNS"); do
  for which in old new; do
    BIN=$OLD; [ "$which" = new ] && BIN=$NEW
    sync; echo 3 > /proc/sys/vm/drop_caches
    node "$BIN" --repo "$REPO" mount "$MNT" >/dev/null
    cold=$(pass); warm=$(pass)
    node "$BIN" --repo "$REPO" umount "$MNT" >/dev/null
    echo "$which run $i: cold ${cold} s, warm ${warm} s"
  done
done
