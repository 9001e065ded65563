#!/bin/bash
# Live control (salvo send --control PATH, salvo ctl): a real send of
# 128 MiB on loopback at fair with a 400 Mbit/s ceiling; salvo ctl moves
# the ceiling to 40 Mbit/s and the --events trace shows the pacing rate
# at or under 40 with the new ceiling within 300 ms (the engine looks
# every 50 ms; a trace line comes every 10-100 ms); `rate none` lets it
# rise again; `status` answers one valid JSON line; bad commands get clear
# errors (from salvo ctl, and from the server for a raw client); a second
# send cannot take a live socket, a regular file at PATH is refused and
# kept, a stale socket is replaced; the socket is gone after the send
# ends, also after SIGTERM.  The send's --json carries tail_ms.  Then
# salvo watch --control: status with no session, a watcher-wide rate and
# a profile's, which the profile's running session obeys.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"

mkdir -p "$T/src" "$T/in"
make_file "$T/src/big" 128
start_recv "$T/in" --overwrite replace
CTL=$T/s.ctl
send_bg() { # name args...: salvo send in the background; SPID
	local name=$1
	shift
	"$SALVO" send --no-progress --json "$@" "127.0.0.1:$PORT" \
		>"$T/$name.out" 2>"$T/$name.err" &
	SPID=$!
	BG_PIDS+=("$SPID")
}
wait_socket() { # path pid
	local i
	for i in $(seq 1 50); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
ctl() { # expected-rc args...: salvo ctl; output in $T/ctl.out, .err
	local want=$1 rc=0
	shift
	"$SALVO" ctl "$@" >"$T/ctl.out" 2>"$T/ctl.err" || rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "salvo ctl $*: exit $rc, want $want: $(cat "$T/ctl.out" "$T/ctl.err")"
}
jfield() { # key: from the JSON line in $T/ctl.out
	python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())[sys.argv[2]])' \
		"$T/ctl.out" "$1" || fail "not one JSON object: $(cat "$T/ctl.out")"
}

# --- a regular file at PATH is refused, and kept
echo keep >"$T/plain"
run_send plain --anonymous --control "$T/plain" "$T/src/big" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 2 ] && grep -q "not a socket" "$T/plain.err" ||
	fail "--control on a regular file: exit $SEND_RC: $(cat "$T/plain.err")"
[ "$(cat "$T/plain")" = keep ] || fail "--control replaced a regular file"

# --- the live send
send_bg live --anonymous --rate-policy fair --rate 400mbit --control "$CTL" \
	--events "$T/ev.jsonl" "$T/src/big"
LIVE=$SPID
wait_socket "$CTL" "$LIVE" || fail "no socket at $CTL: $(cat "$T/live.err")"
[ "$(stat -c %a "$CTL")" = 600 ] || fail "socket mode $(stat -c %a "$CTL"), want 600"
# a second sender cannot take the live socket
run_send second --anonymous --control "$CTL" "$T/src/big" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 2 ] && grep -q "another process serves" "$T/second.err" ||
	fail "a second --control on a live socket: exit $SEND_RC: $(cat "$T/second.err")"
[ -S "$CTL" ] || fail "the refused second send removed the live socket"

# rate 40mbit: the trace follows (python times it); at 40 Mbit/s the
# send lasts long enough for the checks below, then rate none ends it
python3 - "$SALVO" "$CTL" "$T/ev.jsonl" <<'EOF' || fail "the rate did not follow salvo ctl"
import json, subprocess, sys, time
salvo, ctl, ev = sys.argv[1:]
def lines():
    out = []
    for l in open(ev):
        try:
            out.append(json.loads(l))
        except ValueError:
            pass  # a line being written
    return out
def wait_for(pred, what, limit):
    n0 = len(lines())
    t0 = time.monotonic()
    subprocess.run([salvo, "ctl", ctl, "rate", what], check=True,
                   stdout=subprocess.DEVNULL)
    while time.monotonic() - t0 < limit:
        for e in lines()[n0:]:
            if pred(e):
                return time.monotonic() - t0, e
        time.sleep(0.005)
    sys.exit("rate %s: no trace line within %.1f s; last: %s"
             % (what, limit, lines()[-1:]))
dt, e = wait_for(lambda e: e["ceiling_mbps"] == 40 and e["rate_mbps"] <= 40.0,
                 "40mbit", 0.3)
print("send_control: rate 40mbit in the trace after %.0f ms: %s"
      % (dt * 1e3, json.dumps(e)))
time.sleep(0.3)
late = [x for x in lines() if x["t"] > e["t"] + 0.05]
assert late and all(x["rate_mbps"] <= 40.0 for x in late), late[-3:]
EOF
ctl 0 "$CTL" status
[ "$(jfield ok)" = True ] && [ "$(jfield policy)" = fair ] &&
	[ "$(jfield ceiling)" = 40mbit ] && [ "$(jfield ceiling_bps)" = 40000000 ] ||
	fail "status: $(cat "$T/ctl.out")"
for k in rate_bps delivery_bps ceiling_bps min_rate_bps bytes_done bytes_total sessions state; do
	jfield "$k" >/dev/null
done
# bad commands: refused by salvo ctl before connecting, with the reason
ctl 2 "$CTL" rate 40xyz
grep -q "allowed:" "$T/ctl.err" || fail "rate 40xyz: $(cat "$T/ctl.err")"
ctl 2 "$CTL" rate 0
grep -q "out of range" "$T/ctl.err" || fail "rate 0: $(cat "$T/ctl.err")"
ctl 2 "$CTL" bogus
grep -q "unknown command 'bogus'" "$T/ctl.err" || fail "bogus: $(cat "$T/ctl.err")"
ctl 2 "$CTL" rate
grep -q "needs one value" "$T/ctl.err" || fail "rate alone: $(cat "$T/ctl.err")"
ctl 1 "$CTL" rate media 50mbit
[ "$(jfield ok)" = False ] && grep -q "no profiles" "$T/ctl.out" ||
	fail "a profile on a send: $(cat "$T/ctl.out")"
ctl 0 "$CTL" min-rate 10mbit
ctl 0 "$CTL" help
# ... and by the server, for a client that is not salvo ctl
python3 - "$CTL" <<'EOF' || fail "raw client"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"rate 40xyz\nstatus\n")
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
a, b = [json.loads(l) for l in got.decode().splitlines()]
assert a["ok"] is False and "allowed:" in a["error"], a
assert b["ok"] is True and b["min_rate_bps"] == 10000000, b
EOF
python3 - "$SALVO" "$CTL" "$T/ev.jsonl" <<'EOF' || fail "rate none did not lift the ceiling"
import json, subprocess, sys, time
salvo, ctl, ev = sys.argv[1:]
n0 = sum(1 for _ in open(ev))
t0 = time.monotonic()
subprocess.run([salvo, "ctl", ctl, "rate", "none"], check=True,
               stdout=subprocess.DEVNULL)
while time.monotonic() - t0 < 1.0:
    for l in list(open(ev))[n0:]:
        try:
            e = json.loads(l)
        except ValueError:
            continue
        if e["ceiling_mbps"] is None and e["rate_mbps"] > 40.0:
            print("send_control: rate none: %.1f Mbit/s after %.0f ms"
                  % (e["rate_mbps"], (time.monotonic() - t0) * 1e3))
            sys.exit(0)
    time.sleep(0.01)
sys.exit("no trace line over 40 Mbit/s without a ceiling within 1 s")
EOF
wait_exit "$LIVE" 60 || fail "the live send did not end within 60 s"
[ "$WAIT_RC" -eq 0 ] || fail "live send: exit $WAIT_RC: $(cat "$T/live.err")"
cmp -s "$T/src/big" "$T/in/big" || fail "the file arrived different"
[ ! -e "$CTL" ] || fail "the socket is still there after the send"
ctl 3 "$CTL" status
grep -q "no control socket" "$T/ctl.err" || fail "status after exit: $(cat "$T/ctl.err")"
python3 - "$T/live.out" <<'EOF' || fail "--json tail: $(cat "$T/live.out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["tail_ms"] > 0 and j["tail_ms"] < 1e3 * j["seconds"], j["tail_ms"]
assert j["tail_rtts"] >= 0
print("send_control: tail %.1f ms, %.1f RTTs" % (j["tail_ms"], j["tail_rtts"]))
EOF

# --- fixed: no "none", no floor; SIGTERM removes the socket
send_bg term --anonymous --overwrite always --rate-policy fixed --rate 20mbit --control "$CTL" "$T/src/big"
wait_socket "$CTL" "$SPID" || fail "no socket (fixed): $(cat "$T/term.err")"
sleep 0.3
ctl 1 "$CTL" rate none
grep -q "fixed policy" "$T/ctl.out" || fail "fixed, rate none: $(cat "$T/ctl.out")"
ctl 1 "$CTL" min-rate 1mbit
ctl 0 "$CTL" rate 30mbit
kill -TERM "$SPID"
wait_exit "$SPID" 10 || fail "send ignored SIGTERM"
[ "$WAIT_RC" -eq 130 ] || fail "SIGTERM: exit $WAIT_RC"
[ ! -e "$CTL" ] || fail "the socket is still there after SIGTERM"

# --- a stale socket (its process died) is replaced
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$CTL"
[ -S "$CTL" ] || fail "no stale socket made"
head -c 100000 "$T/src/big" >"$T/src/small"
run_send stale --anonymous --overwrite always --control "$CTL" "$T/src/small" "127.0.0.1:$PORT"
[ "$SEND_RC" -eq 0 ] || fail "a stale socket at PATH: exit $SEND_RC: $(cat "$T/stale.err")"
[ ! -e "$CTL" ] || fail "the socket is still there after the send (stale case)"
note "send: refusals, live changes, errors, SIGTERM and stale socket ok"

# --- salvo watch --control: the watcher's and a profile's
mkdir -p "$T/w" "$T/win"
WCTL=$T/w.ctl
start_watch w "$T/w" "127.0.0.1:$PORT" --name media --settle 100ms \
	--remote-dir win --anonymous --control "$WCTL"
ctl 0 "$WCTL" status
[ "$(jfield sessions)" = 0 ] || fail "watch status: $(cat "$T/ctl.out")"
ctl 0 "$WCTL" rate 20mbit
ctl 0 "$WCTL" rate media 30mbit
ctl 0 "$WCTL" status media
[ "$(jfield ceiling)" = 30mbit ] || fail "status media: $(cat "$T/ctl.out")"
ctl 1 "$WCTL" rate nosuch 1mbit
grep -q "no profile named 'nosuch'" "$T/ctl.out" || fail "nosuch: $(cat "$T/ctl.out")"
head -c 8M "$T/src/big" >"$T/w/part8"
wait_until 10 '"$SALVO" ctl "$WCTL" status media >"$T/ctl.out" 2>/dev/null &&
	[ "$(jfield sessions)" = 1 ] && [ "$(jfield ceiling_bps)" = 30000000 ] &&
	python3 -c "import json,sys; sys.exit(json.load(open(sys.argv[1]))[\"rate_bps\"] > 30e6)" "$T/ctl.out"' ||
	fail "the profile's session never ran under its 30mbit: $(cat "$T/ctl.out")"
ctl 0 "$WCTL" status
[ "$(jfield sessions)" = 1 ] || fail "the watcher's status misses the session: $(cat "$T/ctl.out")"
ctl 0 "$WCTL" rate media default
ctl 0 "$WCTL" rate none
stop_watch
[ ! -e "$WCTL" ] || fail "the watcher's socket is still there after SIGTERM"
note "watch: watcher and profile control ok"
note ok
