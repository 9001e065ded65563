#!/bin/bash
# A tree of 1,000,000 files (every 8th of 1-16 bytes, the rest empty)
# crosses loopback with both sides under `ulimit -n 256` and each side's
# peak RSS at most 256 MiB; every file arrives (names, sizes, and 500
# compared).  The body is tests/integ/send_many_files.sh.
set -euo pipefail
MANY_FILES=1000000 MANY_EVERY=8 MANY_RSS_MIB=256 MANY_SECONDS=840 \
	exec bash "$(dirname "$0")/../send_many_files.sh"
