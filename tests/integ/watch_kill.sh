#!/bin/bash
# kill -9 of the watcher in the middle of a batch, then a restart, three
# times over (post-action delete): every file arrives, none twice, none
# torn.  300 files of 200 KiB go at 50 Mbit/s per session so a batch is in flight
# when the kill lands.  The receiver holds exactly the 300 names with the
# right SHA-256 (no second copy, no torn file), every source is deleted,
# and the part-files of the killed sessions are removed by the receiver's
# idle timeout (2 s here).  The one re-send the design allows (the kill
# landed after the receiver committed a file and before the journal said
# so) is skipped by the receiver as identical (the sender's default
# --overwrite if-different), so no file is committed twice: the
# receiver's log names each file once.  Failed before the skip policies
# (issue 13: two of 150 files delivered twice across six kills).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"

mkdir -p "$T/src" "$T/in" "$T/stage"
start_recv "$T/in" --overwrite replace --idle-timeout 2s
python3 - "$T/stage" <<'PY'
import hashlib, os, sys
stage = sys.argv[1]
with open(os.path.join(stage, "sums"), "w") as s:
    for i in range(300):
        d = "d%d" % (i % 4)
        os.makedirs(os.path.join(stage, "t", d), exist_ok=True)
        data = os.urandom(200 * 1024)
        with open(os.path.join(stage, "t", d, "f%03d" % i), "wb") as f:
            f.write(data)
        s.write("%s  ./%s/f%03d\n" % (hashlib.sha256(data).hexdigest(), d, i))
PY
args=("$T/src" "127.0.0.1:$PORT" --settle 200ms --post delete --rate-policy fixed --rate 50mbit
	--batch-files 50 --max-sessions 2 --timeout 5s)
start_watch w "${args[@]}"
# files arrive in the running watcher, folder by folder
for d in d0 d1 d2 d3; do mv "$T/stage/t/$d" "$T/src/$d"; done
kills=0
for round in 1 2 3; do
	wait_until 30 '[ "$(wstat "$T/src" sending)" -gt 0 ] 2>/dev/null' ||
		break # everything went already
	# anywhere in a batch (1.6 s), or just after it
	d=$((RANDOM % 18 + 3))
	sleep "$((d / 10)).$((d % 10))"
	kill -KILL "$WATCH_PID"
	wait "$WATCH_PID" 2>/dev/null || true
	kills=$((kills + 1))
	left=$(find "$T/src" -type f ! -path '*/.salvo/*' | wc -l)
	note "round $round: kill -9 with $left files still in the source"
	start_watch w "${args[@]}"
done
[ "$kills" -ge 1 ] || fail "no batch was in flight to kill"
wait_until 90 'idle_and_empty "$T/src"' ||
	fail "not all delivered: $(tr '\n' ' ' <"$T/src/.salvo/status")"
wait_until 30 '[ -z "$(find "$T/in" -name "*.part" -print -quit)" ]' ||
	fail "part-files of the killed sessions still at the receiver after 30 s"
sort -k2 "$T/stage/sums" >"$T/want"
tree_sums "$T/in" >"$T/got"
diff "$T/want" "$T/got" >"$T/diff.log" ||
	fail "received tree differs (missing, extra or torn): $(head -5 "$T/diff.log")"
commits=$(grep -c 'file_received: received ' "$RECV_LOG" || true)
twice=$(grep -o 'file_received: received [^ ]*' "$RECV_LOG" | sort | uniq -d | head -3 | tr '\n' ' ')
[ -z "$twice" ] || fail "committed twice: $twice"
[ "$commits" = 300 ] || fail "the receiver committed $commits files, want 300"
sent=$(grep -o 'sent [0-9]* files\? ' "$T/w.log" | awk '{s += $2} END {print s}')
restarted=$({ grep -o '[0-9]* post-actions finished after a restart' "$T/w.log" || true; } |
	awk '{s += $1} END {print s + 0}')
note "$kills kills; 300 files delivered, all equal; sessions reported $sent" \
	"files sent, $restarted post-actions finished at restart; $((sent + restarted - 300))" \
	"files offered again because the kill came after the receiver committed" \
	"them and before the journal said so (skipped as identical: 300 commits)"
stop_watch
stop_recv
note ok
