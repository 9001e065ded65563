#!/bin/bash
# A file written slowly, in 100 chunks over 5 s, each chunk opened,
# appended and closed (so every chunk is an IN_CLOSE_WRITE), with a settle
# time of 1 s: it is sent once, complete.  Then a file rewritten while it
# is being sent (a 40 MiB file at 100 Mbit/s): the receiver ends up with
# the final version, never the torn one, and the log says it went again.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"

mkdir -p "$T/src" "$T/in"
start_recv "$T/in" --overwrite replace
start_watch w "$T/src" "127.0.0.1:$PORT" --settle 1s --verbose --rate-policy fixed --rate 100mbit
python3 - "$T/src/slow.bin" <<'PY'
import os, sys, time
for i in range(100):
    with open(sys.argv[1], "ab") as f:
        f.write(bytes([i]) * 10000)
    time.sleep(0.05)
PY
wait_until 20 '[ "$(wstat "$T/src" sent)" = 1 ]' || fail "slow.bin not sent"
cmp "$T/src/slow.bin" "$T/in/slow.bin" || fail "slow.bin differs"
sleep 1.5
[ "$(grep -c 'sent slow.bin ' "$T/w.log")" = 1 ] || fail "slow.bin sent $(grep -c 'sent slow.bin ' "$T/w.log") times, want 1"
note "slow.bin (1,000,000 bytes in 100 chunks over 5 s) sent once"

# changed while being sent
make_file "$T/big.bin" 40
mv "$T/big.bin" "$T/src/big.bin"
wait_until 20 '[ "$(wstat "$T/src" sending)" = 1 ]' || fail "big.bin never sending"
sleep 0.5
python3 - "$T/src/big.bin" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(1 << 20)
    f.write(b"rewritten while it was being sent" * 1000)
PY
wait_until 60 'grep -q "sent big.bin " "$T/w.log"' || fail "big.bin never sent"
sleep 3
wait_until 30 'cmp -s "$T/src/big.bin" "$T/in/big.bin"' || fail "receiver's big.bin is not the final version"
grep -q 'big.bin changed while it was sent' "$T/w.log" ||
	note "(the rewrite landed before the send started: sent once)"
[ -z "$(find "$T/in" -name '*.part')" ] || fail "a part-file was left at the receiver"
note "big.bin rewritten mid-send: receiver holds the final version"
stop_watch
stop_recv
note ok
