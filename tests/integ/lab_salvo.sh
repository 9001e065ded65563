#!/bin/bash
# Lab smoke test: one 50 MiB salvo transfer through linkem at 100 Mbit/s,
# 40 ms RTT, 1 % random loss each way.  Checks that the received file has
# the SHA-256 of the sent one, and that goodput (salvo send --json: bytes
# over seconds, handshake included) is at least 85 % of the loss-adjusted
# link rate: 100 Mbit/s x payload share (1448 file bytes per 1500 IP bytes)
# x (1 - 0.01).  This checks the engine at a hand-set rate (--rate-policy
# fixed; the default, fair, finds the rate itself): --rate is 98 % of the
# link's IP rate so that it fills the link without overflowing linkem's
# queue.  On failure it prints salvo's and linkem's
# counters.  Bounded: salvo send 40 s, salvo recv 50 s, about 10 s when it
# passes.
set -euo pipefail
. "$(dirname "$0")/../../perf/testlib.sh"
SALVO=${SALVO:-$ROOT/build/release/salvo}
[ -x "$SALVO" ] || fail "salvo binary $SALVO missing (make)"
export SALVO_NO_USER_CONFIG=1

LINK_MBIT=100 DELAY=20ms LOSS=1 SEND_RATE=98mbit SIZE_MIB=50 PORT=7431
MTU=1500 DATA_HDR=24 # salvo's DATA header (common/core/wire.h)
PAYLOAD=$((MTU - 28 - DATA_HDR))

W=$(mktemp -d "${TMPDIR:-/tmp}/salvo-lab_salvo.XXXXXX")
export SALVO_SYSCONFDIR=$W/etc # no machine config; keys made here
mkdir -p "$SALVO_SYSCONFDIR"
RECV_PID=
cleanup() {
	[ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null
	[ -n "$RECV_PID" ] && wait "$RECV_PID" 2>/dev/null
	lab_stop || true
	rm -rf "$W"
}
lab_start salvo --emulator linkem --rate "${LINK_MBIT}mbit" --delay "$DELAY" --loss "${LOSS}%" \
	--seed 1 >/dev/null
trap cleanup EXIT
mkdir -p "$W/src" "$W/dst"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$W/src/file"

lab B timeout 50 "$SALVO" recv --dir "$W/dst" --port $PORT --bind 10.77.0.2 --once --json --allow-anonymous \
	>"$W/recv.json" 2>"$W/recv.err" &
RECV_PID=$!
for _ in $(seq 50); do
	grep -q '^listening on' "$W/recv.err" 2>/dev/null && break
	kill -0 "$RECV_PID" 2>/dev/null || fail "salvo recv exited early: $(cat "$W/recv.err")"
	sleep 0.1
done
grep -q '^listening on' "$W/recv.err" || fail "salvo recv not listening after 5 s"

rc=0
lab A timeout -k 5 40 "$SALVO" send --json --no-progress --rate-policy fixed --rate "$SEND_RATE" "$W/src/file" \
	10.77.0.2:$PORT >"$W/send.json" 2>"$W/send.err" || rc=$?
counters 'a>b'
declare -A AB=()
for k in "${!CTR[@]}"; do AB[$k]=${CTR[$k]}; done
counters 'b>a'

report() {
	python3 - "$W/send.json" "$W/recv.json" <<'PY' || true
import json, sys
for path, keys in ((sys.argv[1], ("result", "bytes", "seconds", "goodput_mbps", "datagrams",
                                  "wire_bytes", "retx_bytes", "retx_pct", "srtt_ms")),
                   (sys.argv[2], ("result", "bytes", "duplicates", "malformed"))):
    try:
        j = json.load(open(path))
        print(path.rsplit("/", 1)[1] + ": " + " ".join(f"{k}={j.get(k)}" for k in keys))
    except Exception as e:
        print(f"{path}: unreadable ({e})")
PY
	echo "linkem a>b: in=${AB[in_pkts]} out=${AB[out_pkts]} in_bytes=${AB[in_bytes]}" \
		"drop_loss=${AB[drop_loss]} drop_queue=${AB[drop_queue]} drop_mem=${AB[drop_mem]}" \
		"held=${AB[held]}; b>a: in=${CTR[in_pkts]} drop_loss=${CTR[drop_loss]}" \
		"drop_queue=${CTR[drop_queue]}; A lab0 tx_dropped=$(dev_tx_dropped A)"
}
[ $rc = 0 ] || { report; tail -5 "$W/send.err" >&2; fail "salvo send exited $rc"; }
for _ in $(seq 100); do
	kill -0 "$RECV_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$RECV_PID" 2>/dev/null && { report; fail "salvo recv --once still running 10 s after the sender finished"; }
rrc=0
wait "$RECV_PID" || rrc=$?
RECV_PID=
[ $rrc = 0 ] || { report; fail "salvo recv exited $rrc: $(tail -3 "$W/recv.err")"; }

want=$(sha256sum <"$W/src/file" | cut -d' ' -f1)
got=$(sha256sum <"$W/dst/file" | cut -d' ' -f1) || fail "no received file"
[ "$want" = "$got" ] || { report; fail "SHA-256 differs: sent $want, received $got"; }
echo "sha256 ok: $got"

report
read -r goodput floor <<<"$(python3 - "$W/send.json" $LINK_MBIT $PAYLOAD $MTU $LOSS <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
link, payload, mtu, loss = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
goodput = j["bytes"] * 8 / j["seconds"] / 1e6
ideal = link * payload / mtu * (1 - loss / 100)
print(f"{goodput:.2f} {0.85 * ideal:.2f}")
PY
)"
echo "goodput $goodput Mbit/s, floor $floor Mbit/s (85 % of ${LINK_MBIT} x $PAYLOAD/$MTU x (1 - $LOSS %))"
fcheck "$goodput >= $floor" "goodput $goodput Mbit/s below $floor Mbit/s"
echo "lab_salvo: ok"
