#!/bin/bash
# A hot folder that lost track of what it sent (killed after the receiver
# committed, before its journal said so) sends those files again; with
# --overwrite always skip-if-identical does not stop them, and before the
# receiver remembered its recent commits each was committed a second
# time (issue 13, item 6).  Made deterministic here by removing the
# watcher's journal between two runs (post keep): the second run offers
# all 20 files again.  Each must be acknowledged ("already received"),
# not committed again; the receiver's log names 20 commits.  A copy
# changed at the receiver since (chmod: a new ctime) is committed again,
# as is a file whose bytes changed (same size and mtime, another digest).
# With the default policy the receiver skips them all as identical, and
# the watcher counts them as skipped (status, log).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"

mkdir -p "$T/src/sub" "$T/in"
start_recv "$T/in" --overwrite replace
for i in $(seq 1 20); do
	head -c $((i * 3000)) /dev/urandom >"$T/src/sub/f$i"
done
touch -d '2 minutes ago' "$T/src/sub"/f*
args=("$T/src" "127.0.0.1:$PORT" --settle 200ms --post keep --overwrite always)
run_watch() { # files this run must deliver
	want=$1
	start_watch w "${args[@]}"
	wait_until 30 '[ "$(wstat "$T/src" pid)" = "$WATCH_PID" ] &&
		[ "$(wstat "$T/src" sent)" = "$want" ] &&
		[ "$(wstat "$T/src" sending)" = 0 ] && [ "$(wstat "$T/src" queued)" = 0 ]' ||
		fail "watcher did not deliver: $(tr '\n' ' ' <"$T/src/.salvo/status")"
	stop_watch
}
count() { grep -c "$1" "$RECV_LOG" || true; }

run_watch 20
[ "$(count 'file_received: received ')" = 20 ] ||
	fail "first run: $(count 'file_received: received ') commits, want 20"
rm "$T/src/.salvo/journal"
run_watch 20
commits=$(count 'file_received: received ')
acked=$(count 'file_already_received: already received ')
[ "$commits" = 20 ] ||
	fail "the re-send committed again: $commits commits, want 20 ($acked acknowledged)"
[ "$acked" = 20 ] || fail "$acked re-sent files acknowledged, want 20"
tree_sums "$T/src" >"$T/want"
tree_sums "$T/in" >"$T/got"
diff "$T/want" "$T/got" >/dev/null || fail "received tree differs"

# changed at the receiver (f1), or at the source without a new size or
# mtime (f2): committed again; the other 18 acknowledged again
chmod 0600 "$T/in/sub/f1"
m=$(stat -c %y "$T/src/sub/f2")
head -c 6000 /dev/urandom >"$T/src/sub/f2"
touch -d "$m" "$T/src/sub/f2"
rm "$T/src/.salvo/journal"
run_watch 20
commits=$(count 'file_received: received ')
acked=$(count 'file_already_received: already received ')
[ "$commits" = 22 ] || fail "third run: $commits commits, want 22 (f1 and f2 again)"
[ "$acked" = 38 ] || fail "third run: $acked acknowledged in all, want 38"
grep 'file_received: received sub/f1 ' "$RECV_LOG" | sed -n 2p | grep -q . ||
	fail "f1, changed at the receiver, was not committed again"
cmp -s "$T/src/sub/f2" "$T/in/sub/f2" || fail "f2's new bytes did not arrive"

# the default policy (if-different): the receiver skips every file as
# identical before any data moves; each counts as delivered, and the
# status and the batch line say how many were skipped
rm "$T/src/.salvo/journal"
args=("$T/src" "127.0.0.1:$PORT" --settle 200ms --post keep --verbose)
run_watch 20
[ "$(count 'file_received: received ')" = 22 ] || fail "if-different: committed again"
[ "$(wstat "$T/src" skipped)" = 20 ] ||
	fail "status skipped: $(wstat "$T/src" skipped), want 20: $(tr '\n' ' ' <"$T/src/.salvo/status")"
[ "$(wstat "$T/src" sent_bytes)" = 0 ] || fail "status sent_bytes $(wstat "$T/src" sent_bytes) for 20 skipped files"
grep -q "sent 20 files (0 bytes) to .*, 20 of them skipped (the receiver had them)" "$T/w.log" ||
	fail "no batch line with the skipped count: $(grep batch_sent "$T/w.log" | tail -2)"
grep -q "file_skipped: watch: sub/f3 not sent: the receiver had it (identical); delivered" "$T/w.log" ||
	fail "no file_skipped line for sub/f3: $(grep -m3 file_ "$T/w.log")"
note "if-different: 20 identical files skipped by the receiver, counted (status skipped: 20)"
stop_recv
note ok
