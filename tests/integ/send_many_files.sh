#!/bin/bash
# Many tiny files in bounded memory and descriptors (issue 13, item 4):
# MANY_FILES (20,000) files, 1,000 to a folder, every MANY_EVERY-th (1)
# of 1-16 bytes and the others empty (perf/manyfiles tree), sent over
# loopback with both sides under `ulimit -n 256` (release build).  Each
# side's peak RSS (/usr/bin/time -v) stays under MANY_RSS_MIB (24), and
# every file arrives: the same names and sizes, and the contents of 500
# picked at random (seeded, printed); the sender's wire bytes stay
# under 150 a file + 1 MiB (FILE_DONE not sent again before it could be
# acknowledged).  Before, the receiver held a 1.4 KiB
# BLAKE3 tree for every file of a block in flight: 20,000 tiny files
# peaked at 38 MiB (100,000 at 161 MiB); now 7 (25).
# tests/integ/long/send_million.sh runs this with a million files and
# 256 MiB.
#
# The trees live in a tmpfs of the test's own (a receiver's fsync per
# file would take minutes on a disk), which needs root, as the namespace
# tests do: without it the test fails instead of skipping.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

N=${MANY_FILES:-20000}
EVERY=${MANY_EVERY:-1}
LIMIT_MIB=${MANY_RSS_MIB:-24}
NOFILE=256
SECS=${MANY_SECONDS:-110}

mkdir -p "$T/fs"
# a tmpfs gives each non-empty file a page; both trees, and room
mount -t tmpfs -o "size=$((2 * (N / EVERY + 1) * 4096 + (64 << 20))),nr_inodes=$((2 * N + 10000))" \
	tmpfs "$T/fs" || fail "cannot mount a tmpfs at $T/fs (this test runs as root)"
on_exit "umount '$T/fs'"
t0=$(date +%s.%N)
"$ROOT/perf/manyfiles" tree "$T/fs/src/t" "$N" 1 16 "$EVERY"
mkdir -p "$T/fs/in"
note "built $N files in $(python3 -c "import time; print(round(time.time() - $t0, 1))") s"

limited=(sh -c "ulimit -n $NOFILE && exec \"\$@\"" sh)
RECV_BIN=$SALVO RECV_PREFIX=(/usr/bin/time -v -o "$T/recv.time" "${limited[@]}")
start_recv "$T/fs/in" --once
# /usr/bin/time passes no signal on: the receiver itself is stopped too
recv_salvo=$(pgrep -P "$RECV_PID" || true)
[ -z "$recv_salvo" ] || BG_PIDS+=("$recv_salvo")
t0=$(date +%s.%N)
SEND_RC=0
timeout -k 5 "$SECS" /usr/bin/time -v -o "$T/send.time" "${limited[@]}" \
	"$SALVO" send --anonymous --json "$T/fs/src/t" "127.0.0.1:$PORT" \
	>"$T/send.out" 2>"$T/send.err" || SEND_RC=$?
secs=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
[ "$SEND_RC" -ne 124 ] || fail "salvo send still running after $SECS s"
[ "$SEND_RC" -eq 0 ] || fail "$N files under ulimit -n $NOFILE: exit $SEND_RC: $(tail -3 "$T/send.err")"
# the wire: the manifest (~40 bytes a file), the data, one 32-byte digest
# a file and headers; FILE_DONE paced at a low rate was sent again and
# again before its acknowledgement could come (20,000 files: 4.6 MB
# before, 2.4 after)
wire=$(jget "$T/send.out" wire_bytes)
[ "$wire" -le $((150 * N + (1 << 20))) ] ||
	fail "$wire bytes on the wire for $N tiny files, over 150 a file + 1 MiB: FILE_DONE sent again and again?"
note "$wire bytes on the wire for $N files"
wait_exit "$RECV_PID" 30 || fail "receiver --once still running 30 s after the send"
[ "$WAIT_RC" -eq 0 ] || fail "receiver exited $WAIT_RC: $(tail -3 "$RECV_LOG")"

# names and sizes of every file, contents of a seeded sample
seed=$RANDOM
python3 - "$T/fs/src/t" "$T/fs/in/t" "$seed" <<'PY' || fail "the trees differ (seed $seed)"
import os, random, sys
src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
def listing(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = os.lstat(p).st_size
    return out
a, b = listing(src), listing(dst)
if a != b:
    missing = sorted(set(a) - set(b))[:5]
    extra = sorted(set(b) - set(a))[:5]
    sized = sorted(k for k in a if k in b and a[k] != b[k])[:5]
    sys.exit("%d sent, %d arrived; missing %s, extra %s, size differs %s"
             % (len(a), len(b), missing, extra, sized))
rng = random.Random(seed)
for k in rng.sample(sorted(a), min(500, len(a))):
    if open(os.path.join(src, k), "rb").read() != open(os.path.join(dst, k), "rb").read():
        sys.exit("contents of %s differ" % k)
print("%d files, %d bytes: names and sizes equal, 500 compared" % (len(a), sum(a.values())))
PY
rss() { awk -F': ' '/Maximum resident set size/ {printf "%d", $2 / 1024}' "$1"; }
send_mib=$(rss "$T/send.time")
recv_mib=$(rss "$T/recv.time")
note "$N files (1 in $EVERY of 1-16 bytes, the rest empty) under ulimit -n $NOFILE in $secs s;" \
	"peak RSS sender $send_mib MiB, receiver $recv_mib MiB (limit $LIMIT_MIB MiB)"
[ "$send_mib" -gt 0 ] && [ "$send_mib" -le "$LIMIT_MIB" ] ||
	fail "sender peak RSS $send_mib MiB > $LIMIT_MIB MiB"
[ "$recv_mib" -gt 0 ] && [ "$recv_mib" -le "$LIMIT_MIB" ] ||
	fail "receiver peak RSS $recv_mib MiB > $LIMIT_MIB MiB"
note ok
