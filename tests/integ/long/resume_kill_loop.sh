#!/bin/bash
# 20 rounds of tests/integ/resume_kill_loop.sh: kill -9 of the sender or
# the receiver at random points, every round finishing identical.
KILL_ROUNDS=20 exec "$(dirname "$0")/../resume_kill_loop.sh"
