#!/bin/bash
# Files the receiver refuses fail alone, with their reason, and are
# retried with back-off while the others go through: a file over the
# receiver's --max-file-size, and files into a folder that is read-only at
# the receiver (a read-only bind mount in the receiver's own mount
# namespace: tests run as root, so chmod would not stop it).  The batch
# they were in is split, so the 40 good files arrive; the status counts
# the failures and shows the last error; a failed file that is removed
# from the source is forgotten.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"
WATCH_BIN=${WATCH_BIN:-$SALVO_ASAN}

mkdir -p "$T/src/ro" "$T/in/ro"
RECV_PREFIX=(unshare -m --propagation private sh -c
	'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"' "$T/in/ro")
start_recv "$T/in" --overwrite replace --max-file-size 1MiB
start_watch w "$T/src" "127.0.0.1:$PORT" --settle 200ms --post delete \
	--retry-min 500ms --retry-max 2s
for i in $(seq 1 40); do printf 'good %d\n' "$i" >"$T/src/g$i"; done
head -c 2000000 /dev/zero >"$T/src/too-big.bin"
for i in 1 2; do printf 'ro %d\n' "$i" >"$T/src/ro/r$i"; done
wait_until 60 '[ "$(wstat "$T/src" sent)" = 40 ] && [ "$(wstat "$T/src" failed)" = 3 ]' ||
	fail "want 40 sent and 3 failed: $(tr '\n' ' ' <"$T/src/.salvo/status")"
for i in $(seq 1 40); do
	[ "$(cat "$T/in/g$i")" = "good $i" ] || fail "g$i missing or wrong at the receiver"
done
grep -E 'too-big.bin failed: .*; retry 1 in' "$T/w.log" | head -1 | sed 's/^/    /'
grep -E 'ro/r1 failed: .*; retry 1 in' "$T/w.log" | head -1 | sed 's/^/    /'
grep -q 'sending them one by one' "$T/w.log" || fail "the failing batch was not split"
grep -qi 'read-only' "$T/w.log" || fail "the read-only reason is not logged"
wait_until 20 'grep -Eq "too-big.bin failed: .*; retry 3 in" "$T/w.log"' ||
	fail "too-big.bin not retried with back-off"
[ -n "$(wstat "$T/src" last_error | tr -d '"')" ] || fail "status has no last_error"
rm "$T/src/too-big.bin"
wait_until 20 '[ "$(wstat "$T/src" failed)" = 2 ]' || fail "the removed file is still counted as failed"
[ -e "$T/src/ro/r1" ] || fail "a failed file's source was deleted"
note "40 good files sent; 3 refused files failed alone, retried with back-off; last error:" \
	"$(wstat "$T/src" last_error)"
stop_watch
stop_recv
note ok
