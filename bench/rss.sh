#!/usr/bin/env bash
# bench/rss.sh [N=1000000] [DURATION=10]: memory of `muster serve` with a
# large campaign. N confirmed supporters imported (the CSV generated with
# awk), then `muster serve`; its VmRSS/VmHWM (/proc/PID/status) after
# startup, after DURATION s of wrk (-t2 -c64) on the pledge page /c/bench
# (which shows the live count of confirmed pledges), and after DURATION s on
# /healthz. Also the peak RSS of `muster import` itself (GNU time).
#
# Not covered: /a/ links at this size (their tokens come from a launch, and
# a launch of 1M into a Maildir writes 1M files); click.sh covers /a/.
#
# Prints the peak RSS of serve (VmHWM; target < 300 MB), last.
N=${1:-1000000}
DURATION=${2:-10}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-$((120 + N / 10000 + 3 * DURATION))}
source "$(dirname "$0")/lib.sh"
bench_header "rss: N=$N, ${DURATION}s per wrk run"

"$M" init >/dev/null
bench_campaign "$WORK/campaign.json"
"$M" campaign apply "$WORK/campaign.json" >/dev/null
t0=$(now)
gen_csv "$N" "$WORK/supporters.csv"
t1=$(now)
log "generated $N rows ($(du -m "$WORK/supporters.csv" | cut -f1) MB) in $(elapsed "$t0" "$t1")s"
/usr/bin/time -f '%M %e' -o "$WORK/import.time" "$M" import "$SLUG" "$WORK/supporters.csv" >&2
read -r IMPORT_KB IMPORT_SECS <"$WORK/import.time"
rm -f "$WORK/supporters.csv"
log "import: ${IMPORT_SECS}s, peak RSS $((IMPORT_KB / 1024)) MB; database $(du -m "$MUSTER_DB" | cut -f1) MB"
CONFIRMED=$(stat confirmed)
[ "$CONFIRMED" = "$N" ] || { echo "bench: expected $N confirmed, stats says $CONFIRMED" >&2; exit 1; }

PM=$(free_port)
start_serve "$PM" "$WORK/serve.log"
sleep 1
START_RSS=$(rss_mb "$SERVE_PID" VmRSS)
START_HWM=$(rss_mb "$SERVE_PID" VmHWM)
log "serve after startup: VmRSS $START_RSS MB, VmHWM $START_HWM MB"

profile_start "$SERVE_PID" campaign-page
timeout $((DURATION + 30)) wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$PM/c/$SLUG" \
    >"$WORK/wrk-page.txt" 2>&1
profile_stop
wrk_parse "$WORK/wrk-page.txt"
PAGE="$RPS req/s, p50 $P50_MS ms, p99 $P99_MS ms, non-2xx/3xx $NON2XX3XX"
PAGE_RPS=$RPS
PAGE_RSS=$(rss_mb "$SERVE_PID" VmRSS)
log "/c/$SLUG: $PAGE; VmRSS $PAGE_RSS MB"
# Requests wrk gave up on may still be queued in the server: let them drain.
for _ in $(seq 100); do
    t1=$(cpu_ticks "$SERVE_PID" "$WORK/serve.log"); sleep 0.3; t2=$(cpu_ticks "$SERVE_PID" "$WORK/serve.log")
    [ $((t2 - t1)) -le 3 ] && break
done

timeout $((DURATION + 30)) wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$PM/healthz" \
    >"$WORK/wrk-health.txt" 2>&1
wrk_parse "$WORK/wrk-health.txt"
HEALTH="$RPS req/s, p50 $P50_MS ms, p99 $P99_MS ms, non-2xx/3xx $NON2XX3XX"
END_RSS=$(rss_mb "$SERVE_PID" VmRSS)
PEAK=$(rss_mb "$SERVE_PID" VmHWM)
OK=$(calc "'yes' if $PEAK < 300 else 'no'")

echo "supporters:              $N confirmed (import ${IMPORT_SECS}s, import peak RSS $((IMPORT_KB / 1024)) MB)"
echo "serve after startup:     VmRSS $START_RSS MB"
echo "after wrk /c/$SLUG:       VmRSS $PAGE_RSS MB  ($PAGE)"
echo "after wrk /healthz:      VmRSS $END_RSS MB  ($HEALTH)"
echo "rss serve_peak_mb=$PEAK (VmHWM; target < 300 MB: $OK) campaign_page_rps=$PAGE_RPS at $N supporters"
