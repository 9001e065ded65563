#!/bin/bash
# salvo watch --status checks that the watcher it names still runs (the
# watcher holds a lock on its journal; a free lock means none runs).
# While it runs the status says running; after kill -9 it says not
# running, naming the dead pid; a restart says running again; after
# SIGTERM it says stopped.  Before, the status said "running" with the
# dead pid after the kill.
set -euo pipefail
. "$(dirname "$0")/../helpers/integ.sh"
. "$(dirname "$0")/../helpers/watch_lib.sh"

mkdir -p "$T/src" "$T/in"
start_recv "$T/in"
args=("$T/src" "127.0.0.1:$PORT" --settle 200ms)
state() { "$SALVO" watch --status "$T/src" | sed -n 's/^state: //p'; }

start_watch w "${args[@]}"
wait_until 20 '[ "$(wstat "$T/src" state)" = running ]' ||
	fail "status never said running: $(cat "$T/src/.salvo/status")"
[ "$(state)" = running ] || fail "--status of a live watcher: $(state)"
dead=$WATCH_PID
kill -KILL "$WATCH_PID"
wait "$WATCH_PID" 2>/dev/null || true
s=$(state)
[ "$s" = "not running (stale status from pid $dead, which is gone)" ] ||
	fail "--status after kill -9 says: $s"

start_watch w "${args[@]}"
wait_until 20 '[ "$(wstat "$T/src" pid)" = "$WATCH_PID" ]' ||
	fail "the restarted watcher did not write its status"
[ "$(state)" = running ] || fail "--status after a restart: $(state)"
stop_watch
[ "$(state)" = stopped ] || fail "--status after SIGTERM: $(state)"
stop_recv
note ok
