#!/bin/bash
# logging.file and logging.format: json work for recv, send and watch.
# Each appends one JSON object per line to its file (time, level, event,
# session, peer, file, bytes, seconds, rate, message); a file's earlier
# lines stay; the commands' own lines (listening on, the summary) stay on
# the terminal and are logged too.  A file name with a newline and a quote
# keeps every line one valid object.  The watcher's sessions report, at
# debug level, what the engine used: --rate-policy adaptive and --min-rate
# reach it (they were accepted and ignored before).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"

mkdir -p "$T/src" "$T/in" "$T/w"
printf 'plain\n' >"$T/src/plain"
printf 'odd\n' >"$T/src/q \"x\" back\\slash ünï"
printf 'not json: an earlier line of the file\n' >"$T/recv.jsonl"

# every line after skip must be an object with exactly these members
check_jsonl() { # file skip
	python3 - "$1" "$2" <<'PY' || fail "$1: $(tail -3 "$1")"
import json, re, sys
want = {"time", "level", "event", "session", "peer", "file", "bytes",
        "seconds", "rate", "message"}
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "last line not terminated"
n = 0
for line in lines[int(sys.argv[2]):-1]:
    ev = json.loads(line)
    assert set(ev) == want, (sorted(ev), line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["time"]), line
    assert ev["level"] in ("error", "warn", "info", "debug", "trace"), line
    assert isinstance(ev["message"], str) and ev["message"], line
    n += 1
assert n > 0, "no events"
PY
}
events() { # file skip -> "event" names, one per line
	tail -n +"$(($2 + 1))" "$1" | python3 -c '
import json, sys
for l in sys.stdin: print(json.loads(l)["event"])'
}

start_recv "$T/in" --log-file "$T/recv.jsonl" --log-format json
run_send s --log-file "$T/send.jsonl" --log-format json "$T/src" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "send: exit $SEND_RC: $(cat "$T/s.err")"
[ ! -s "$T/s.err" ] || fail "send wrote to stderr with a log file: $(cat "$T/s.err")"
grep -q 'files' "$T/s.out" || fail "no summary on stdout: $(cat "$T/s.out")"
check_jsonl "$T/send.jsonl" 0
python3 - "$T/send.jsonl" <<'PY' || fail "send_done: $(cat "$T/send.jsonl")"
import json, sys
done = [json.loads(l) for l in open(sys.argv[1]) if '"send_done"' in l]
assert len(done) == 1, done
d = done[0]
assert d["level"] == "info" and d["bytes"] == 10, d   # "plain\n" + "odd\n"
assert d["seconds"] > 0 and d["rate"] > 0 and d["peer"].startswith("127.0.0.1:"), d
PY
cmp "$T/src/plain" "$T/in/src/plain" || fail "plain not received"

# the watcher, with the engine settings that were ignored before
"$SALVO_ASAN" watch "$T/w" "127.0.0.1:$PORT" --settle 200ms --remote-dir w \
	--rate-policy adaptive --min-rate 5mbit --rate 400mbit \
	--log-format json --log-file "$T/watch.jsonl" --log-level debug \
	>"$T/w.out" 2>"$T/w.log" &
WATCH_PID=$!
BG_PIDS+=("$WATCH_PID")
wait_line "$T/watch.jsonl" '"event": "watching"' 60 "$WATCH_PID" ||
	fail "watch did not log 'watching': $(cat "$T/w.log")"
printf 'hot\n' >"$T/w/hot"
wait_until 30 'grep -q "\"event\": \"batch_sent\"" "$T/watch.jsonl"' ||
	fail "watch logged no batch_sent: $(tail -5 "$T/watch.jsonl")"
stop_watch
[ ! -s "$T/w.log" ] || fail "watch wrote to stderr with a log file: $(cat "$T/w.log")"
check_jsonl "$T/watch.jsonl" 0
cmp "$T/w/hot" "$T/in/w/hot" 2>/dev/null || [ -f "$T/in/w/hot" ] || fail "hot not received"
grep '"session_engine"' "$T/watch.jsonl" | grep -q 'rate 400mbit adaptive (floor 5mbit' ||
	fail "the watcher's engine did not use adaptive/5mbit: $(grep session_engine "$T/watch.jsonl")"
note "watch engine: $(grep -o '"message": "[^"]*engine used[^"]*"' "$T/watch.jsonl" | head -1)"

stop_recv
[ "$(head -1 "$T/recv.jsonl")" = "not json: an earlier line of the file" ] ||
	fail "the receiver's log file was not appended to"
check_jsonl "$T/recv.jsonl" 1
ev=$(events "$T/recv.jsonl" 1)
grep -qx listening <<<"$ev" && grep -qx stopped <<<"$ev" ||
	fail "receiver log lacks listening/stopped: $ev"
[ "$(grep -cvx -e listening -e stopped <<<"$ev")" -gt 0 ] ||
	fail "receiver log has no engine events: $ev"
grep -q 'q \\"x\\" back\\\\slash ünï' "$T/recv.jsonl" ||
	note "(the receiver logged no event naming the odd file)"
note "recv events: $(sort <<<"$ev" | uniq -c | tr -s ' \n' ' ')"
note ok
