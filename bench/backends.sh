#!/usr/bin/env bash
# bench/backends.sh [REPS=3]: the click, dispatch and pledge benchmarks on
# each configuration in CONFIGS (default "sqlite,1 postgres,1 postgres,2":
# SQLite; a durable PostgreSQL with one `muster serve`; the same with two
# behind a balancing nginx, bench/lib.sh), REPS times in a row, round after
# round (so a slower minute of the machine touches every configuration), and
# then the median and the spread (min-max) of each figure per configuration.
# Each run measures its own reference (nginx `return 302`, smtp-source) in the
# same run, as the single scripts do. The load average of the machine is
# sampled every 5 s during the whole run and summarised last: the 2 cores are
# shared with whatever else runs.
#
# Environment: CLICK_N (default 2000), CLICK_SECONDS (5; one round of c64 and
# c256 per run), DISPATCH_N (5000), PLEDGE_SECONDS (5), OUT (a directory
# that keeps every run's full output; default a new one under /tmp, printed).
# Every run has its own time limit (BENCH_TIMEOUT, default here 600 s: on a
# loaded machine PostgreSQL's runs take minutes) and this script one for all:
# BACKENDS_TIMEOUT (default 2400 s).
set -uo pipefail
cd "$(dirname "$0")"
REPS=${1:-3}
CONFIGS=${CONFIGS:-"sqlite,1 postgres,1 postgres,2"}
CLICK_N=${CLICK_N:-2000}
CLICK_SECONDS=${CLICK_SECONDS:-5}
DISPATCH_N=${DISPATCH_N:-5000}
export BENCH_TIMEOUT=${BENCH_TIMEOUT:-600}
PLEDGE_SECONDS=${PLEDGE_SECONDS:-5}
OUT=${OUT:-$(mktemp -d /tmp/muster-backends.XXXXXX)}
mkdir -p "$OUT"
deadline=$(($(date +%s) + ${BACKENDS_TIMEOUT:-2400}))
echo "== backends: REPS=$REPS CONFIGS='$CONFIGS' click N=$CLICK_N ${CLICK_SECONDS}s, dispatch N=$DISPATCH_N," \
    "pledge ${PLEDGE_SECONDS}s ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores); every output in $OUT"

# The load average, every 5 s, until this script ends.
(
    while :; do
        cut -d' ' -f1 /proc/loadavg >>"$OUT/loadavg"
        sleep 5
    done
) &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null' EXIT

for rep in $(seq "$REPS"); do
    for config in $CONFIGS; do
        backend=${config%,*} servers=${config#*,}
        for b in click dispatch pledge; do
            left=$((deadline - $(date +%s)))
            if [ "$left" -lt 60 ]; then
                echo "backends: the time limit is spent; stopping before $b $config #$rep" >&2
                break 3
            fi
            case $b in
            click) args=("$CLICK_N" "$CLICK_SECONDS") ;;
            dispatch) args=("$DISPATCH_N") ;;
            pledge) args=("$PLEDGE_SECONDS") ;;
            esac
            f="$OUT/$b-$backend-$servers-$rep.txt"
            echo "[$(date +%H:%M:%S)] $b $config #$rep" >&2
            BENCH_BACKEND=$backend SERVERS=$servers ROUNDS=1 timeout "$left" "./$b.sh" "${args[@]}" >"$f" 2>"$f.err" ||
                echo "backends: $b $config #$rep failed (exit $?): $(tail -2 "$f.err")" >&2
            tail -1 "$f" >&2
        done
    done
done

echo
echo "== medians (the lower middle value for an even count) of the runs done, $REPS asked (min-max), $(date -u +%Y-%m-%dT%H:%MZ)"
python3 - "$OUT" "$CONFIGS" <<'PY'
import glob, os, re, statistics, sys
out, configs = sys.argv[1], sys.argv[2].split()
figures = [("click", "ratio_c64", r"ratio_c64=([\d.]+)"), ("click", "ratio_c256", r"ratio_c256=([\d.]+)"),
           ("click", "p99_c256_ms", r"muster_p99_c256=([\d.]+)ms"),
           ("dispatch", "msgs_per_s", r"muster_msgs_per_s=(\d+)"), ("dispatch", "ratio", r" ratio=([\d.]+)"),
           ("pledge", "pledges_per_s", r"pledges_per_s=(\d+)"), ("pledge", "p99_ms", r"p99=([\d.]+)ms")]
print("%-12s %-10s %-14s %9s %19s  %s" % ("config", "bench", "figure", "median", "min-max", "runs"))
for config in configs:
    backend, servers = config.split(",")
    for bench, name, rx in figures:
        vals = []
        for f in sorted(glob.glob(f"{out}/{bench}-{backend}-{servers}-*.txt")):
            lines = open(f).read().strip().splitlines()
            m = re.search(rx, lines[-1]) if lines else None
            if m:
                vals.append(float(m.group(1)))
        if not vals:
            print("%-12s %-10s %-14s %9s" % (config, bench, name, "no runs"))
            continue
        med = statistics.median_low(vals)
        print("%-12s %-10s %-14s %9g %19s  %s" % (config, bench, name, med, "%g-%g" % (min(vals), max(vals)),
                                                  " ".join("%g" % v for v in vals)))
loads = [float(x) for x in open(f"{out}/loadavg").read().split()] if os.path.exists(f"{out}/loadavg") else []
if loads:
    print("load average (1 min) during the runs: min %.2f, median %.2f, max %.2f (%d samples)" %
          (min(loads), statistics.median(loads), max(loads), len(loads)))
PY
