#!/bin/bash
# Helpers for tests/integ/watch_*.sh, sourced after tests/helpers/integ.sh.
#
#   start_watch NAME ARGS...   salvo watch ARGS in the background ($WATCH_BIN,
#                              default $SALVO); log $T/NAME.log; sets WATCH_PID
#   stop_watch                 SIGTERM; checks exit 0 within 30 s
#   wstat DIR KEY              a value from the status file DIR/.salvo/status
#   wait_until SECS 'CMD'      evaluates CMD every 0.2 s until it succeeds
#   tree_sums DIR              "sha256  relative-path" lines, sorted
start_watch() { # name args...
	local name=$1
	shift
	"${WATCH_BIN:-$SALVO}" watch "$@" >>"$T/$name.out" 2>>"$T/$name.log" &
	WATCH_PID=$!
	BG_PIDS+=("$WATCH_PID")
	wait_line "$T/$name.log" "watching " 120 "$WATCH_PID" ||
		fail "salvo watch ($name) did not start: $(tail -5 "$T/$name.log")"
}

stop_watch() {
	kill -TERM "$WATCH_PID" 2>/dev/null || true
	wait_exit "$WATCH_PID" 30 || fail "salvo watch ignored SIGTERM for 30 s"
	[ "$WAIT_RC" -eq 0 ] || fail "salvo watch exited $WAIT_RC after SIGTERM, want 0"
}

wstat() { # dir key
	sed -n "s/^$2: //p" "$1/.salvo/status" 2>/dev/null
}

wait_until() { # seconds 'command'
	local i
	for i in $(seq 1 $(($1 * 5))); do
		eval "$2" && return 0
		sleep 0.2
	done
	return 1
}

tree_sums() { # dir
	(cd "$1" && find . -type f ! -path './.salvo/*' -print0 |
		xargs -0r sha256sum | sort -k2)
}

# The watcher has nothing left to do: nothing settling, queued, sending
# or failed, and the source tree (delete/move) is empty.
idle_and_empty() { # dir
	[ "$(wstat "$1" settling)" = 0 ] && [ "$(wstat "$1" queued)" = 0 ] &&
		[ "$(wstat "$1" sending)" = 0 ] && [ "$(wstat "$1" failed)" = 0 ] &&
		[ -z "$(find "$1" -type f ! -path "$1/.salvo/*" -print -quit)" ]
}
