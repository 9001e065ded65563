#!/bin/bash
# Per-file failures mid-transfer (issue 13, item 3): one file that fails
# after the session started no longer fails the whole send.  The
# receiver cannot store two files of a tree of four (a folder appears at
# their names after the receiver prepared the session, so their commits
# fail: the middle one and the last one of the stream); the other two
# are sent and committed, the two end as `failed` (errno 21) in the
# summary and in --json file_results, exit 10, and no part-file is left.
# Before, the session failed at the first of them (exit 5, every file
# "unconfirmed", the later files never committed).
#
# Then a source that shrinks, vanishes or becomes unreadable after the
# scan: that file alone fails (see below), counted apart from the
# receiver's failures on both sides: the sender's --json says reason
# "unreadable" (counts.failed_unreadable), the receiver's --json
# files_abandoned, not files_refused (before, both counted it as the
# receiver's own failure).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/t" "$T/in"
start_recv "$T/in" --overwrite replace --json
head -c 12000000 /dev/urandom >"$T/src/t/a.bin"
head -c 300000 /dev/urandom >"$T/src/t/b.bin"
head -c 300000 /dev/urandom >"$T/src/t/c.bin"
head -c 300000 /dev/urandom >"$T/src/t/d.bin"
# once the receiver prepared the session (so these are not refused up
# front), b.bin and d.bin get a folder at their names
(
	wait_line "$RECV_LOG" "session_start" 20 "$RECV_PID" || exit 0
	mkdir -p "$T/in/t/b.bin" "$T/in/t/d.bin"
) &
BG_PIDS+=($!)
run_send s "$T/src/t" "127.0.0.1:$PORT" --rate-policy fixed --rate 40mbit --json
[ "$SEND_RC" = 10 ] || fail "exit $SEND_RC, want 10 (some files failed): $(cat "$T/s.err")"
grep -q 'file_failed: failed t/b.bin: ' "$RECV_LOG" ||
	fail "b.bin did not fail at its commit (mid-transfer): $(grep b.bin "$RECV_LOG")"
python3 - "$T/s.out" <<'PY' || fail "--json: $(head -c 2000 "$T/s.out")"
import json, sys
j = json.load(open(sys.argv[1]))
c = j["counts"]
assert c["sent"] == 2 and c["failed"] == 2, c
assert c["failed_other"] == 2 and c["failed_unreadable"] == 0, c
r = {x["remote"]: x for x in j["file_results"]}
for n in ("t/a.bin", "t/c.bin"):
    assert r[n]["result"] == "sent", r[n]
for n in ("t/b.bin", "t/d.bin"):
    assert r[n]["result"] == "failed" and r[n]["errno"] == 21, r[n]
    assert r[n]["reason"] == "failed", r[n]
PY
cmp -s "$T/src/t/a.bin" "$T/in/t/a.bin" || fail "a.bin differs"
cmp -s "$T/src/t/c.bin" "$T/in/t/c.bin" || fail "c.bin (after the failed b.bin) differs"
[ -z "$(find "$T/in/.salvo" -name '*.part' -print -quit)" ] ||
	fail "part-files left: $(ls "$T/in/.salvo")"
grep -q 'session_complete: .* complete: 2 files' "$RECV_LOG" ||
	fail "the receiver's session did not complete with 2 files"

# A source that shrinks, vanishes or cannot be read after the scan (as
# root no mode keeps us out: a folder takes its place, so pread fails
# with EISDIR) fails alone: the sender sends its missing bytes as zeros
# (so the blocks it shares with a.bin and c.bin still verify) and its
# FILE_DONE flagged abandoned; the receiver drops its part-file.
# Before, each failed the whole send (exit 6).
for how in shrink vanish unreadable; do
	rm -rf "$T/in/t" "$T/src/t/b.bin"
	head -c 300000 /dev/urandom >"$T/src/t/b.bin"
	rm -f "$T/src/t/d.bin"
	n0=$(grep -c 'session_start' "$RECV_LOG" || true)
	(
		for _ in $(seq 200); do
			[ "$(grep -c 'session_start' "$RECV_LOG" || true)" -gt "$n0" ] && break
			sleep 0.05
		done
		sleep 0.3
		case $how in
		shrink) truncate -s 1000 "$T/src/t/b.bin" ;;
		vanish) rm "$T/src/t/b.bin" ;;
		unreadable)
			chmod 000 "$T/src/t/b.bin"
			if [ "$(id -u)" = 0 ]; then
				rm "$T/src/t/b.bin"
				mkdir "$T/src/t/b.bin"
			fi
			;;
		esac
	) &
	BG_PIDS+=($!)
	# small blocks, two threads: the sender reads b.bin (12 MB in, 2.4 s
	# at 40 Mbit/s) well after the change above; with the automatic
	# block size, blocks read at the start could hold b.bin already and
	# a vanished source was sent whole (exit 0, 1 run in 4)
	run_send "s-$how" "$T/src/t" "127.0.0.1:$PORT" --rate-policy fixed --rate 40mbit --json \
		--block-size 256KiB --threads 2
	[ "$SEND_RC" = 10 ] || fail "source $how: exit $SEND_RC, want 10: $(cat "$T/s-$how.err")"
	python3 - "$T/s-$how.out" <<'PY' || fail "source $how --json: $(head -c 2000 "$T/s-$how.out")"
import json, sys
j = json.load(open(sys.argv[1]))
c = j["counts"]
assert c["sent"] == 2 and c["failed"] == 1, c
assert c["failed_unreadable"] == 1 and c["failed_other"] == 0, c
r = {x["remote"]: x for x in j["file_results"]}
for n in ("t/a.bin", "t/c.bin"):
    assert r[n]["result"] == "sent", r[n]
assert r["t/b.bin"]["result"] == "failed" and r["t/b.bin"]["errno"], r["t/b.bin"]
assert r["t/b.bin"]["reason"] == "unreadable", r["t/b.bin"]
PY
	cmp -s "$T/src/t/a.bin" "$T/in/t/a.bin" || fail "source $how: a.bin differs"
	cmp -s "$T/src/t/c.bin" "$T/in/t/c.bin" || fail "source $how: c.bin differs"
	[ ! -e "$T/in/t/b.bin" ] || fail "source $how: b.bin was committed"
	[ -z "$(find "$T/in/.salvo" -name '*.part' -print -quit)" ] ||
		fail "source $how: part-files left: $(ls "$T/in/.salvo")"
	grep -q "file_failed.*b.bin" "$T/s-$how.err" ||
		fail "source $how: the sender did not say why: $(cat "$T/s-$how.err")"
	grep -q "unreadable here after the scan 1" "$T/s-$how.err" ||
		fail "source $how: the summary does not count it as unreadable: $(cat "$T/s-$how.err")"
	rm -rf "$T/src/t/b.bin"
done
stop_recv
# the receiver's own count: 2 it could not store, 3 the sender abandoned
[ "$(jget "$RECV_OUT" files_refused)" = 2 ] ||
	fail "receiver files_refused $(jget "$RECV_OUT" files_refused), want 2"
[ "$(jget "$RECV_OUT" files_abandoned)" = 3 ] ||
	fail "receiver files_abandoned $(jget "$RECV_OUT" files_abandoned), want 3"
note ok
