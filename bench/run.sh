#!/usr/bin/env bash
# bench/run.sh: every benchmark once, in a row (`make bench` calls it), then
# a summary of their result lines. Each script starts its own servers on free
# loopback ports in its own temp dir and stops them; each has its own time
# limit. The whole run takes about 3 minutes on 2 cores (limit: 10).
#
# Environment: DISPATCH_N (default 100000), CLICK_N (20000), RSS_N (1000000),
# MUSTER_BIN (the binary under test; default build/muster), KEEP=1 keeps the
# temp dirs. Exit status: 1 when a benchmark failed to run (a missed target
# is reported, not a failure).
# On SQLite only: bench/backends.sh runs click, dispatch and pledge on SQLite
# and on PostgreSQL with one and two servers (docs/PERFORMANCE.md).
set -uo pipefail
cd "$(dirname "$0")"
DISPATCH_N=${DISPATCH_N:-100000}
CLICK_N=${CLICK_N:-20000}
RSS_N=${RSS_N:-1000000}
start=$(date +%s)
summary=()
failed=0
run() {
    local name=$1
    shift
    echo
    local out rc
    out=$(mktemp /tmp/muster-bench-run.XXXXXX)
    # The scripts' progress goes to stderr (shown as it happens); their
    # results to stdout (shown and kept for the summary).
    # The whole run stays under 10 minutes: each script gets what is left.
    local left=$((600 - ($(date +%s) - start)))
    if [ "$left" -lt 30 ]; then
        summary+=("$name: SKIPPED (the 10-minute budget is spent)")
        failed=1
        return
    fi
    timeout "$left" "./$name" "$@" | tee "$out"
    rc=${PIPESTATUS[0]}
    if [ "$rc" = 0 ]; then
        summary+=("$(tail -1 "$out")")
    else
        summary+=("$name: FAILED (exit $rc)")
        failed=1
    fi
    rm -f "$out"
}
run dispatch.sh "$DISPATCH_N"
run click.sh "$CLICK_N"
run pledge.sh
run rss.sh "$RSS_N"
echo
echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(($(date +%s) - start)) s)"
printf '%s\n' "${summary[@]}"
exit $failed
