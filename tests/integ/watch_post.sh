#!/bin/bash
# Post-actions.  move: a sent file goes below move_to with its relative
# path; a name already there is never overwritten (the newcomer gets a
# timestamp suffix, a third one a counter too), so every version is kept.
# keep: after a restart, unchanged files are not sent again (the journal
# remembers size, mtime and SHA-256); a file touched without a change is
# not sent either (same hash); a changed one is.  Also --status.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"
WATCH_BIN=${WATCH_BIN:-$SALVO_ASAN} # sanitizer build: leaks and UB fail the test

mkdir -p "$T/src" "$T/in" "$T/done/sub" "$T/keep"
start_recv "$T/in" --overwrite replace
printf 'old version\n' >"$T/done/sub/report.pdf"
start_watch mv "$T/src" "127.0.0.1:$PORT" --settle 200ms --post move \
	--move-to "$T/done" --verbose
mkdir -p "$T/src/sub"
printf 'second version\n' >"$T/src/sub/report.pdf"
wait_until 20 '[ -z "$(ls "$T/src/sub")" ]' || fail "report.pdf not moved"
printf 'third version\n' >"$T/src/sub/report.pdf"
wait_until 20 '[ "$(ls "$T/done/sub" | wc -l)" = 3 ]' ||
	fail "move_to holds $(ls "$T/done/sub")"
ls "$T/done/sub" | sed 's/^/    /'
[ "$(cat "$T/done/sub/report.pdf")" = "old version" ] || fail "the old file was overwritten"
cat "$T/done/sub"/report.*.pdf | sort >"$T/versions"
printf 'second version\nthird version\n' | diff - "$T/versions" >/dev/null ||
	fail "moved versions: $(cat "$T/versions")"
[ "$(cat "$T/in/sub/report.pdf")" = "third version" ] || fail "receiver holds the wrong version"
stop_watch
note "move: a name clash keeps all three versions"

# keep
for i in $(seq 1 20); do printf 'keep %d\n' "$i" >"$T/keep/k$i"; done
start_watch k1 "$T/keep" "127.0.0.1:$PORT" --settle 200ms --post keep --remote-dir kept
wait_until 20 '[ "$(wstat "$T/keep" sent)" = 20 ]' || fail "keep: 20 files not sent"
stop_watch
"$SALVO" watch --status "$T/keep" >"$T/status.out" || fail "--status failed"
grep -q '^sent: 20$' "$T/status.out" || fail "--status: $(cat "$T/status.out")"
grep -q '^state: stopped$' "$T/status.out" || fail "--status: $(cat "$T/status.out")"
# while it is down: one touched (same bytes), one changed, one new
touch -d '2001-01-01' "$T/keep/k1"
printf 'changed\n' >"$T/keep/k2"
printf 'new\n' >"$T/keep/k21"
start_watch k2 "$T/keep" "127.0.0.1:$PORT" --settle 200ms --post keep --remote-dir kept --verbose
wait_until 20 '[ "$(wstat "$T/keep" sent)" = 2 ] && [ "$(wstat "$T/keep" queued)" = 0 ] && [ "$(wstat "$T/keep" settling)" = 0 ]' ||
	fail "keep restart: $(tr '\n' ' ' <"$T/keep/.salvo/status")"
sleep 1
[ "$(wstat "$T/keep" sent)" = 2 ] || fail "keep restart sent $(wstat "$T/keep" sent), want 2 (k2, k21)"
grep 'sent k' "$T/k2.log" | sed 's/^/    /'
grep -q 'k1 unchanged since it was sent' "$T/k2.log" || fail "k1 (touched, same bytes) not recognised by its hash"
grep -q 'sent k2 ' "$T/k2.log" && grep -q 'sent k21 ' "$T/k2.log" || fail "k2 or k21 not sent"
[ "$(cat "$T/in/kept/k2")" = changed ] || fail "receiver's k2 is stale"
stop_watch
# a third start: nothing at all to send
start_watch k3 "$T/keep" "127.0.0.1:$PORT" --settle 200ms --post keep --remote-dir kept --verbose
sleep 1.5
[ "$(wstat "$T/keep" sent)" = 0 ] || fail "third start sent $(wstat "$T/keep" sent) files, want 0"
! grep -q 'sent k' "$T/k3.log" || fail "third start sent: $(grep 'sent k' "$T/k3.log")"
stop_watch
note "keep: unchanged files are not sent again after a restart"
stop_recv
note ok
