#!/bin/bash
# A source that shrinks mid-transfer on a lossy path fails alone (issue
# 13, item 3).  Through linkem (2 % loss each way, 20 ms RTT) a tree of
# three files goes at a fixed 40 Mbit/s in 256 KiB blocks; x.bin, in the
# middle, is truncated to 1000 bytes while its blocks are on the wire.
# Its blocks sent before that went with their original bytes and their
# block CRCs; a lost datagram of one of them is re-read for the repair
# after the truncation and comes up short.  The sender gives x.bin up
# (FILE_DONE abandoned), the receiver checks the blocks that hold its
# bytes by the other files' digests instead of the block CRC, drops
# x.bin's part-file and commits a.bin and z.bin: exit 10.  Before, the
# repair carried zeros under the block's original CRC, the block failed
# its check three times and the whole session failed ("a block failed
# verification repeatedly", exit 5), z.bin (after x.bin) with it.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
LAB_BIN=$ROOT/perf/lab
LAB=tshrink$$
export LINKEM=${LINKEM:-$ROOT/build/release/linkem}
[ -x "$LINKEM" ] || fail "linkem binary $LINKEM missing (make)"
"$LAB_BIN" --name "$LAB" up --emulator linkem --rate 100mbit --delay 10ms \
	--loss 2% --seed 5 >/dev/null || fail "perf/lab up failed"
on_exit "'$LAB_BIN' --name '$LAB' down"
RECV_PREFIX=("$LAB_BIN" --name "$LAB" exec B)
SEND_PREFIX=("$LAB_BIN" --name "$LAB" exec A)
RECV_BIND=10.77.0.2

mkdir -p "$T/src/t" "$T/in"
head -c 3000000 /dev/urandom >"$T/src/t/a.bin"
head -c 30000000 /dev/urandom >"$T/src/t/x.bin"
head -c 300000 /dev/urandom >"$T/src/t/z.bin"
start_recv "$T/in" --overwrite replace --json
# x.bin goes from 0.6 s to 6.6 s at 40 Mbit/s: cut it at about 2 s
# (z.bin, 300 KB after it, shares its last block)
(
	wait_line "$RECV_LOG" "session_start" 20 "$RECV_PID" || exit 0
	sleep 2
	truncate -s 1000 "$T/src/t/x.bin"
) &
BG_PIDS+=($!)
run_send s "$T/src/t" "10.77.0.2:$PORT" --rate-policy fixed --rate 40mbit \
	--block-size 256KiB --threads 2 --json
[ "$SEND_RC" = 10 ] || fail "exit $SEND_RC, want 10 (x.bin failed alone): $(tail -5 "$T/s.err")"
python3 - "$T/s.out" <<'PY' || fail "--json: $(head -c 2000 "$T/s.out")"
import json, sys
j = json.load(open(sys.argv[1]))
c = j["counts"]
assert c["sent"] == 2 and c["failed"] == 1, c
assert c["failed_unreadable"] == 1, c
r = {x["remote"]: x for x in j["file_results"]}
for n in ("t/a.bin", "t/z.bin"):
    assert r[n]["result"] == "sent", r[n]
assert r["t/x.bin"]["result"] == "failed", r["t/x.bin"]
assert r["t/x.bin"]["reason"] == "unreadable", r["t/x.bin"]
PY
cmp -s "$T/src/t/a.bin" "$T/in/t/a.bin" || fail "a.bin differs"
cmp -s "$T/src/t/z.bin" "$T/in/t/z.bin" || fail "z.bin differs"
[ ! -e "$T/in/t/x.bin" ] || fail "x.bin was committed"
[ -z "$(find "$T/in/.salvo" -name '*.part' -print -quit)" ] ||
	fail "part-files left: $(ls "$T/in/.salvo")"
grep -q 'session_complete: .* complete: 2 files' "$RECV_LOG" ||
	fail "the receiver's session did not complete with 2 files: $(tail -5 "$RECV_LOG")"
stop_recv
note ok
