#!/bin/bash
# Hot folder exactly-once (issue 13, item 6): 300 files dropped into a
# watched folder over time, kill -9 of `salvo watch` 20 times at random
# points (a restart after each), then every file has arrived exactly
# once: the receiver's log names each commit once, no second copy under
# another name (a `.1` of the receiver's --overwrite rename), the
# contents match, and the source folder ends as the post action says.
#
# Three rounds, each a case a plain re-send would get wrong if the
# receiver did not remember what it committed:
#   always  post delete, the watcher's --overwrite always, receiver
#           replace: the re-send of a file the receiver committed just
#           before the kill (the journal did not say SENT yet) is not
#           skipped as identical; without the receiver's memory of
#           recent commits it is committed a second time
#   rename  post move, the default if-different, receiver rename: a
#           second commit would show as a `.1` copy
#   keep    post keep, always, receiver replace: the source stays
# WATCH_KILL_CASES (space-separated) picks rounds, KILLS and FILES the
# counts (20 and 300).
set -euo pipefail
. "$(dirname "$0")/../../helpers/integ.sh"
. "$(dirname "$0")/../../helpers/watch_lib.sh"

KILLS=${KILLS:-20}
FILES=${FILES:-300}
seed=${SEED:-$RANDOM}
RANDOM=$seed
note "seed $seed (SEED=$seed replays the kill times)"

# one round: case name, the watcher's post action and --overwrite, the
# receiver's --overwrite
round() { # name post send_overwrite recv_overwrite
	local name=$1 post=$2 ow=$3 row=$4 src=$T/$1/src in=$T/$1/in
	local stage=$T/$1/stage moved=$T/$1/moved
	mkdir -p "$src" "$in" "$stage" "$moved"
	start_recv "$in" --overwrite "$row" --idle-timeout 2s
	python3 - "$stage" "$FILES" <<'PY'
import hashlib, os, random, sys
stage, n = sys.argv[1], int(sys.argv[2])
with open(os.path.join(stage, "sums"), "w") as s:
    for i in range(n):
        d = "d%d" % (i % 5)
        os.makedirs(os.path.join(stage, "t", d), exist_ok=True)
        data = os.urandom(random.randint(64, 320) * 1024)
        with open(os.path.join(stage, "t", d, "f%03d" % i), "wb") as f:
            f.write(data)
        s.write("%s  ./%s/f%03d\n" % (hashlib.sha256(data).hexdigest(), d, i))
PY
	local args=("$src" "127.0.0.1:$PORT" --name "$name" --settle 200ms
		--post "$post" --overwrite "$ow" --rate-policy fixed --rate 40mbit
		--batch-files 20 --max-sessions 2 --timeout 5s
		--retry-min 100ms --retry-max 1s)
	[ "$post" != move ] || args+=(--move-to "$moved")
	start_watch "$name" "${args[@]}"
	# the files land over time: one every 40 ms (12 s for 300), each
	# folder made first, each file renamed in whole
	(
		for i in $(seq 0 $((FILES - 1))); do
			f=$(printf 'd%d/f%03d' $((i % 5)) "$i")
			mkdir -p "$src/${f%/*}"
			mv "$stage/t/$f" "$src/$f"
			sleep 0.04
		done
	) &
	local dropper=$!
	BG_PIDS+=("$dropper")
	local kills=0 inflight=0 k d
	for k in $(seq 1 "$KILLS"); do
		# anywhere from 0.2 to 1.5 s after the (re)start
		d=$((RANDOM % 14 + 2))
		sleep "$((d / 10)).$((d % 10))"
		[ "$(wstat "$src" sending)" -gt 0 ] 2>/dev/null && inflight=$((inflight + 1))
		kill -KILL "$WATCH_PID"
		wait "$WATCH_PID" 2>/dev/null || true
		kills=$((kills + 1))
		start_watch "$name" "${args[@]}"
	done
	wait "$dropper" || fail "$name: dropping the files failed"
	[ "$inflight" -ge 1 ] || fail "$name: no kill landed while a batch was in flight"
	if [ "$post" = keep ]; then
		wait_until 120 '[ "$(wstat "$src" known)" = "$FILES" ] &&
			[ "$(wstat "$src" sending)" = 0 ] && [ "$(wstat "$src" queued)" = 0 ]' ||
			fail "$name: not all delivered: $(tr '\n' ' ' <"$src/.salvo/status")"
	else
		wait_until 120 'idle_and_empty "$src"' ||
			fail "$name: not all delivered: $(tr '\n' ' ' <"$src/.salvo/status")"
	fi
	stop_watch
	wait_until 30 '[ -z "$(find "$in" -name "*.part" -print -quit)" ]' ||
		fail "$name: part-files of the killed sessions still at the receiver after 30 s"
	sort -k2 "$stage/sums" >"$T/$name.want"
	tree_sums "$in" >"$T/$name.got"
	diff "$T/$name.want" "$T/$name.got" >"$T/$name.diff" ||
		fail "$name: received tree differs (missing, extra copies or torn): $(head -5 "$T/$name.diff")"
	local commits twice
	commits=$(grep -c 'file_received: received ' "$RECV_LOG" || true)
	twice=$(grep -o 'file_received: received [^ ]*' "$RECV_LOG" | sort | uniq -d |
		head -3 | tr '\n' ' ')
	[ -z "$twice" ] || fail "$name: committed twice: $twice"
	[ "$commits" = "$FILES" ] || fail "$name: the receiver committed $commits files, want $FILES"
	case $post in
	delete) [ -z "$(find "$src" -type f ! -path "$src/.salvo/*" -print -quit)" ] ||
		fail "$name: sources left after delete" ;;
	move)
		[ -z "$(find "$src" -type f ! -path "$src/.salvo/*" -print -quit)" ] ||
			fail "$name: sources left after move"
		tree_sums "$moved" >"$T/$name.moved"
		diff "$T/$name.want" "$T/$name.moved" >"$T/$name.mdiff" ||
			fail "$name: move_to differs (missing, moved twice): $(head -5 "$T/$name.mdiff")"
		;;
	keep)
		tree_sums "$src" >"$T/$name.kept"
		diff "$T/$name.want" "$T/$name.kept" >"$T/$name.kdiff" ||
			fail "$name: kept sources differ: $(head -5 "$T/$name.kdiff")"
		;;
	esac
	local acked
	acked=$(grep -c 'already received' "$RECV_LOG" || true)
	note "$name: $kills kills ($inflight with a batch in flight); $FILES files," \
		"each committed once; $acked re-sends acknowledged without a commit"
	stop_recv
}

for c in ${WATCH_KILL_CASES:-always rename keep}; do
	case $c in
	always) round always delete always replace ;;
	rename) round rename move if-different rename ;;
	keep) round keep keep always replace ;;
	*) fail "unknown case $c" ;;
	esac
done
note ok
