#!/bin/bash
# --overwrite rename: the receiver's log names where a file was stored.
# The same file sent three times is stored as one.bin, one.bin.1 and
# one.bin.2 (in a folder too: sub/two.bin.1); the text log line and the
# JSON event file_received name the stored path and say the file was
# renamed because the name existed.  Before, both said "one.bin" for
# the file stored as one.bin.2.  Each send is a new version (a new
# mtime): the very same file sent again unchanged would be acknowledged
# without a second commit (docs/HOTFOLDER.md, the receiver's memory of
# recent commits).
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"

mkdir -p "$T/src/sub" "$T/in"
head -c 1000 /dev/urandom >"$T/src/one.bin"
head -c 500 /dev/urandom >"$T/src/sub/two.bin"
start_recv "$T/in" --overwrite rename --log-file "$T/recv.jsonl" --log-format json
for i in 0 1 2; do
	touch -d "@$((1700000000 + i))" "$T/src/one.bin"
	run_send "s$i" --overwrite always "$T/src/one.bin" "127.0.0.1:$PORT"
	[ "$SEND_RC" -eq 0 ] || fail "send $i: exit $SEND_RC: $(cat "$T/s$i.err")"
done
for i in 0 1; do
	touch -d "@$((1700000010 + i))" "$T/src/one.bin" "$T/src/sub/two.bin"
	run_send "t$i" --overwrite always "$T/src" "127.0.0.1:$PORT"
	[ "$SEND_RC" -eq 0 ] || fail "tree send $i: exit $SEND_RC: $(cat "$T/t$i.err")"
done
for f in one.bin one.bin.1 one.bin.2; do
	cmp "$T/src/one.bin" "$T/in/$f" || fail "$f not stored"
done
cmp "$T/src/sub/two.bin" "$T/in/src/sub/two.bin.1" || fail "src/sub/two.bin.1 not stored"
stop_recv
python3 - "$T/recv.jsonl" <<'PY' || fail "file_received events: $(grep file_received "$T/recv.jsonl")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if '"file_received"' in l]
got = {e["file"]: e["message"] for e in ev}
want = {"one.bin": None, "one.bin.1": "one.bin", "one.bin.2": "one.bin",
        "src/one.bin": None, "src/one.bin.1": "src/one.bin",
        "src/sub/two.bin": None, "src/sub/two.bin.1": "src/sub/two.bin"}
assert set(got) == set(want), ("files", sorted(got))
for f, sent in want.items():
    m = got[f]
    assert m.startswith("received %s " % f), m
    if sent:
        assert "renamed" in m and ("%s existed" % sent) in m, m
    else:
        assert "renamed" not in m, m
PY
note ok
