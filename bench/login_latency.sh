#!/usr/bin/env bash
# bench/login_latency.sh [LOGINS=4] [DURATION=5]: what organizers logging in
# cost everyone else. A login's Argon2id check (OPSLIMIT/MEMLIMIT_INTERACTIVE)
# takes about 100 ms of one core; the one-click path takes well under 1 ms.
#
#   1. N (default 2000) confirmed supporters, launched into a Maildir; the /a/
#      links are taken from the launch log, as in click.sh. One organizer.
#   2. `muster serve` (default threads: one HTTP thread and one hash thread
#      per core).
#   3. ROUNDS (default 3) rounds of: wrk -t1 -c8 clicks for DURATION s alone
#      (the reference), then the same while a second wrk keeps LOGINS
#      organizers logging in with the right password (wrk -t1 -cLOGINS
#      bench/login.lua, started 1 s before and stopped after the clicks).
#
# Prints each run's click p50/p99 and logins per second, and last the medians
# over the rounds of the ratios p50 with logins / p50 alone, the same for p99
# and for clicks per second, with their spread (min..max), and the logins per
# second. wrk keeps 8 clicks in flight and measures each from when it was
# sent: a click held behind a login is one slow sample while the connections
# of a free thread make thousands of fast ones, so the p50 understates a stall
# and the clicks per second show it too. A ratio near 1: logins do not hold the
# clicks up; a login that runs on an HTTP thread makes every click that thread
# owns wait for it.
LOGINS=${1:-4}
DURATION=${2:-5}
N=${N:-2000}
ROUNDS=${ROUNDS:-3}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-$((120 + ROUNDS * (2 * DURATION + 15)))}
source "$(dirname "$0")/lib.sh"
bench_header "login_latency: $LOGINS organizers logging in, ${DURATION}s per run, $ROUNDS rounds"

populate "$N"
"$M" launch "$SLUG" >"$WORK/launch.out" 2>"$WORK/launch.err"
grep 'event=mail.written kind=reminder' "$WORK/launch.err" |
    sed -n 's#.*links=[^ ]*/a/\([A-Za-z0-9_-]*\) .*#\1#p' >"$WORK/tokens.txt"
rm -rf "$WORK/mail"
NTOK=$(wc -l <"$WORK/tokens.txt")
[ "$NTOK" = "$N" ] || { echo "bench: expected $N /a/ links in the launch log, found $NTOK" >&2; exit 1; }
export TOKENS=$WORK/tokens.txt WRK_THREADS=1
export ORG_EMAIL=organizer@bench.example.org ORG_PASSWORD=bench-password-1234
echo "$ORG_PASSWORD" | "$M" organizer add "$ORG_EMAIL" >/dev/null

PM=$(free_port)
start_serve "$PM" "$WORK/serve.log"
BASE=http://127.0.0.1:$PM
CSRF=$(curl -s -D - -o /dev/null "$BASE/login" | sed -n 's/^Set-Cookie: muster_csrf=\([^;]*\).*/\1/ip' | head -1)
[ -n "$CSRF" ] || { echo "bench: GET /login set no muster_csrf cookie" >&2; exit 1; }
export CSRF
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: muster_csrf=$CSRF" \
    --data "csrf=$CSRF&email=$ORG_EMAIL&password=$ORG_PASSWORD" "$BASE/login")
[ "$code" = 303 ] || { echo "bench: the organizer's login answered $code, not 303" >&2; exit 1; }

# clicks NAME: wrk on the /a/ links into NAME_P50, NAME_P99, NAME_RPS.
clicks() {
    local name=$1
    timeout $((DURATION + 30)) wrk -t1 -c8 -d"${DURATION}s" --timeout 5s --latency \
        -s "$BENCH/click.lua" "$BASE" >"$WORK/wrk-$name.txt" 2>&1
    wrk_parse "$WORK/wrk-$name.txt"
    eval "${name}_P50=$P50_MS ${name}_P99=$P99_MS ${name}_RPS=$RPS ${name}_BAD=$NON2XX3XX"
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo ".." hi}'; }

printf '%-8s %10s %9s %9s %9s %s\n' run clicks/s p50_ms p99_ms logins/s login_statuses
R50="" R99="" RRPS="" LOGIN_RATES=""
for r in $(seq "$ROUNDS"); do
    clicks "alone_$r"
    eval "printf '%-8s %10s %9s %9s %9s %s\n' alone_$r \$alone_${r}_RPS \$alone_${r}_P50 \$alone_${r}_P99 - -"
    timeout $((DURATION + 40)) wrk -t1 -c"$LOGINS" -d"$((DURATION + 2))s" --timeout 10s \
        -s "$BENCH/login.lua" "$BASE" >"$WORK/wrk-logins-$r.txt" 2>&1 &
    LOGIN_WRK=$!
    sleep 1
    clicks "logins_$r"
    wait "$LOGIN_WRK" || { cat "$WORK/wrk-logins-$r.txt" >&2; exit 1; }
    wrk_parse "$WORK/wrk-logins-$r.txt"
    LSTAT=$(sed -n 's/^statuses: //p' "$WORK/wrk-logins-$r.txt")
    eval "printf '%-8s %10s %9s %9s %9s %s\n' logins_$r \$logins_${r}_RPS \$logins_${r}_P50 \$logins_${r}_P99 $RPS '$LSTAT'"
    eval "R50=\"\$R50 \$(calc \"'%.2f' % (\$logins_${r}_P50 / \$alone_${r}_P50)\")\""
    eval "R99=\"\$R99 \$(calc \"'%.2f' % (\$logins_${r}_P99 / \$alone_${r}_P99)\")\""
    eval "RRPS=\"\$RRPS \$(calc \"'%.2f' % (\$logins_${r}_RPS / \$alone_${r}_RPS)\")\""
    LOGIN_RATES="$LOGIN_RATES $RPS"
done
stop_pid "$SERVE_PID"
# shellcheck disable=SC2086 # the lists are meant to split
echo "ratios with logins / alone: p50:$R50; p99:$R99; clicks/s:$RRPS; logins/s:$LOGIN_RATES"
# shellcheck disable=SC2086
echo "login_latency logins=$LOGINS click_p50_ratio=$(median $R50) ($(spread $R50)) click_p99_ratio=$(median $R99) ($(spread $R99)) clicks_per_s_ratio=$(median $RRPS) ($(spread $RRPS)) logins_per_s=$(median $LOGIN_RATES) (medians of $ROUNDS paired runs)"
