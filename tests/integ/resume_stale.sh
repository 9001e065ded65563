#!/bin/bash
# Stale part-files (issue 13, item 1): resumable part-files and their maps
# older than receiver.partial_max_age (default 168h) are removed when a
# receiver starts, and the log says so; younger ones stay for a resume.
set -euo pipefail
SALVO_TEST_TMP=/dev/shm
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/in/.salvo"
old=r-0123456789abcdef0123456789abcdef
young=r-fedcba9876543210fedcba9876543210
for s in $old $young; do
	head -c 100000 /dev/zero >"$T/in/.salvo/$s.part"
	printf 'SALVOMAP' >"$T/in/.salvo/$s.map"
done
touch -d '8 days ago' "$T/in/.salvo/$old.part" "$T/in/.salvo/$old.map"
touch -d '6 days ago' "$T/in/.salvo/$young.part" "$T/in/.salvo/$young.map"
start_recv "$T/in"
[ ! -e "$T/in/.salvo/$old.part" ] && [ ! -e "$T/in/.salvo/$old.map" ] ||
	fail "a part-file older than 7 days survived the start: $(ls "$T/in/.salvo")"
[ -e "$T/in/.salvo/$young.part" ] && [ -e "$T/in/.salvo/$young.map" ] ||
	fail "a part-file 6 days old was removed"
grep -q "removed 1 stale part-file (100000 bytes) older than receiver.partial_max_age" "$RECV_LOG" ||
	fail "the log does not say what went: $(cat "$RECV_LOG")"
note "$(grep -m1 'older than receiver.partial_max_age' "$RECV_LOG" | sed 's/.*stale_parts: //')"
stop_recv
# a shorter age acts: the 6-day-old one goes with --partial-max-age 120h
start_recv "$T/in" --partial-max-age 120h
[ ! -e "$T/in/.salvo/$young.part" ] || fail "--partial-max-age 120h left a 6-day-old part-file"
stop_recv
note ok
