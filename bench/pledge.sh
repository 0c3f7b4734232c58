#!/usr/bin/env bash
# bench/pledge.sh [DURATION=10] [CONNS=64]: durable pledges per second over
# HTTP. wrk POSTs JSON pledges to /c/bench/pledge, each with a new email
# (bench/pledge.lua), from 64 connections for 10 s, against `muster serve`
# with MUSTER_PLEDGE_LIMIT=0 and its confirmation mails going to an smtp-sink
# (so the sender thread works as in production). A 202 is an answer given
# after the pledge was committed (WAL, synchronous=FULL).
#
# Checked: the 202s counted by wrk's response() callback against the growth
# of `muster stats` pledges. Also what the run leaves behind: the largest
# size of the write-ahead log (DB-wal, sampled every 100 ms during the run),
# its size and the database's after the run with the server still up, and
# the server's memory (peak and now). Prints pledges/s (202s per second;
# target >= 5000), last.
#
# BENCH_BACKEND=postgres [SERVERS=2] (bench/lib.sh): the same against a durable
# PostgreSQL (synchronous_commit on: a 202 follows the commit's WAL flush),
# with one server or two behind a balancing nginx; instead of the SQLite
# files, what PostgreSQL was left with and its top statements (pg_report),
# and the CPU of PostgreSQL and of the balancing nginx.
DURATION=${1:-10}
CONNS=${2:-64}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-$((90 + DURATION))}
source "$(dirname "$0")/lib.sh"
bench_header "pledge: $CONNS connections, ${DURATION}s"

populate 1000 # a campaign with some supporters already (the supporters table is not empty)
PS=$(free_port)
start_sink "$PS" "$WORK/sink.out"
MUSTER_PLEDGE_LIMIT=0 MUSTER_SMTP=smtp://127.0.0.1:$PS start_servers "$WORK/serve"

code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data '{"email":"probe@pledge.example.org","timezone":"UTC","consent":true}' \
    "$SERVE_URL/c/$SLUG/pledge")
[ "$code" = 202 ] || { echo "bench: a JSON pledge answered $code, not 202" >&2; exit 1; }

before=$(stat pledges)
pg_mark
# shellcheck disable=SC2046 # pids are words
read -r CPU_BEFORE PG_BEFORE LB_BEFORE <<<"$(ticks_of "${SERVE_PIDS[@]}") $(ticks_of $(pg_pids)) $(ticks_of "${LB_PIDS[@]}")"
profile_start "$SERVE_PID" pledge
# The write-ahead log's largest size during the run (the file's size every 100 ms).
(
    max=0
    while [ ! -e "$WORK/wrk.done" ]; do
        s=$(command stat -c %s "$MUSTER_DB-wal" 2>/dev/null || echo 0)
        if [ "$s" -gt "$max" ]; then
            max=$s
            echo "$max" >"$WORK/wal.max"
        fi
        sleep 0.1
    done
) &
WAL_SAMPLER=$!
RUN=$(date +%s) SLUG=$SLUG timeout $((DURATION + 30)) wrk -t2 -c"$CONNS" -d"${DURATION}s" \
    --timeout 10s --latency -s "$BENCH/pledge.lua" "$SERVE_URL" >"$WORK/wrk.txt" 2>&1
touch "$WORK/wrk.done"
wait "$WAL_SAMPLER" 2>/dev/null || true
profile_stop
for p in "${SERVE_PIDS[@]}"; do cpu_ticks "$p" "$WORK/serve1.log" >/dev/null; done
# shellcheck disable=SC2046
read -r CPU_AFTER PG_AFTER LB_AFTER <<<"$(ticks_of "${SERVE_PIDS[@]}") $(ticks_of $(pg_pids)) $(ticks_of "${LB_PIDS[@]}")"
wrk_parse "$WORK/wrk.txt"
after=$(stat pledges)
STATUSES=$(sed -n 's/^statuses: //p' "$WORK/wrk.txt")
N202=$(echo "$STATUSES" | tr ' ' '\n' | sed -n 's/^202=//p')
N202=${N202:-0}
STORED=$((after - before))
sleep 2 # let the sender catch up a little before counting mails
SINK=$(sink_count "$WORK/sink.out")
pct() { calc "'%.0f' % ($1 / $(getconf CLK_TCK) / (2 * $WRK_SECS) * 100)"; }
SERVE_CPU=$(pct $((CPU_AFTER - CPU_BEFORE)))
RATE=$(calc "round($N202 / $WRK_SECS)")
echo "wrk: $REQS requests in ${WRK_SECS}s, statuses: $STATUSES, socket errors: $SOCKERR"
echo "latency: p50 ${P50_MS} ms, p99 ${P99_MS} ms"
echo "stored pledges grew by $STORED (202 answers: $N202; requests in flight when wrk stopped may be stored but not counted)"
echo "confirmation mails at the sink 2 s after the run: $SINK"
if [ "$BENCH_BACKEND" = postgres ]; then
    echo "CPU during the run, % of the 2 cores: muster serve ${SERVE_CPU}, PostgreSQL $(pct $((PG_AFTER - PG_BEFORE)))," \
        "balancing nginx $(pct $((LB_AFTER - LB_BEFORE))) (wrk and the sink: the rest)"
    pg_report
    serve_rss
    echo "pledge [$CONFIG] pledges_per_s=$(calc "round($N202 / $WRK_SECS)") (target >= 5000) p99=${P99_MS}ms"
    exit 0
fi
echo "muster serve CPU during the run: ${SERVE_CPU}% of 2 cores"
WAL_MAX=$(cat "$WORK/wal.max" 2>/dev/null || echo 0)
WAL_AFTER=$(command stat -c %s "$MUSTER_DB-wal" 2>/dev/null || echo 0)
DB_AFTER=$(command stat -c %s "$MUSTER_DB")
echo "left behind: WAL max $(calc "'%.1f' % ($WAL_MAX / 1048576)") MB during the run," \
    "$(calc "'%.1f' % ($WAL_AFTER / 1048576)") MB after it; database" \
    "$(calc "'%.1f' % ($DB_AFTER / 1048576)") MB; muster serve memory: peak" \
    "$(rss_mb "$SERVE_PID" VmHWM) MB, now $(rss_mb "$SERVE_PID" VmRSS) MB"
echo "pledge [$CONFIG] pledges_per_s=$RATE (target >= 5000) p99=${P99_MS}ms"
