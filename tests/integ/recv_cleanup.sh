#!/bin/bash
# What a receiver leaves behind (issue 12, findings 4 and 5):
#   - at start, part-files that crashed sessions left in its private
#     folder .salvo/ are removed, and the log says so;
#   - a session that fails (its sender killed mid-file, the receiver's
#     idle timeout ends it) removes the folders it created that are still
#     empty, deepest first, and no other: a folder that existed before
#     stays, even empty, and so does a new folder holding a file already
#     committed.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/pre/old" "$T/src/pre/new/deep/er" "$T/src/pre/new/empty" "$T/src/pre/kept"
mkdir -p "$T/in/.salvo" "$T/in/pre/old"
printf 'small\n' >"$T/src/pre/kept/0-first"
make_file "$T/src/pre/new/deep/er/big" 256
printf 'stale\n' >"$T/in/.salvo/1-0badc0de-0.part"
printf 'not ours\n' >"$T/in/.salvo/notes.txt"

start_recv "$T/in" --idle-timeout 2s
[ ! -e "$T/in/.salvo/1-0badc0de-0.part" ] || fail "a stale part-file in .salvo/ survived the receiver's start"
[ -e "$T/in/.salvo/notes.txt" ] || fail "the receiver removed a file in .salvo/ that is not a part-file"
grep -q "stale part-file" "$RECV_LOG" || fail "the log does not mention the stale part-file: $(cat "$RECV_LOG")"
note "at start: $(grep 'stale part-file' "$RECV_LOG")"
[ "$(stat -c %a "$T/in/.salvo")" = 700 ] || fail ".salvo/ has mode $(stat -c %a "$T/in/.salvo"), want 700"

# 256 MiB at 200 Mbit/s takes about 11 s: killed after 2 s, it is mid-way
"$SALVO" send --rate-policy fixed --rate 200mbit --no-progress "$T/src/pre" "127.0.0.1:$PORT" \
	>"$T/send.out" 2>"$T/send.err" &
spid=$!
BG_PIDS+=("$spid")
sleep 2
kill -0 "$spid" 2>/dev/null || fail "the sender ended before it could be killed: $(cat "$T/send.err")"
[ -d "$T/in/pre/new/deep/er" ] || fail "the session did not create its folders"
kill -KILL "$spid"
wait_line "$RECV_LOG" "session_failed\|failed:" 20 "$RECV_PID" ||
	fail "the receiver did not fail the session within 20 s (idle timeout 2s)"
sleep 0.5
for d in pre pre/old pre/kept; do
	[ -d "$T/in/$d" ] || fail "folder $d is gone: it existed before or holds a committed file"
done
cmp "$T/src/pre/kept/0-first" "$T/in/pre/kept/0-first" || fail "the committed file differs"
for d in pre/new/deep/er pre/new/deep pre/new/empty pre/new; do
	[ ! -e "$T/in/$d" ] || fail "folder $d, created by the failed session and empty, is still there"
done
# a session-unique part-file goes; a resumable one (r-HEX.part, a file of
# 1 MiB or more) stays with its verified-block map for the next send
[ -z "$(find "$T/in" -name '*.part' ! -name 'r-*')" ] ||
	fail "part-files left: $(find "$T/in" -name '*.part' ! -name 'r-*')"
for p in $(find "$T/in/.salvo" -name 'r-*.part'); do
	[ -s "${p%.part}.map" ] || fail "resumable $p kept without its map"
done
note "after the failed session: $(cd "$T/in" && find pre | sort | tr '\n' ' ')"
stop_recv
note ok
