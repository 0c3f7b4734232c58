#!/usr/bin/env bash
# bench/dispatch.sh [N=100000]: how fast `muster launch` hands N reminders to
# an SMTP relay, against smtp-source (Postfix's load generator) sending N
# messages of the same size to the same kind of sink with the same
# parallelism (20 connections, muster's default MUSTER_SEND_CONCURRENCY).
#
#   1. N confirmed supporters imported (`muster import`).
#   2. The size of a real reminder: a second, small database launched into a
#      Maildir; the average file size.
#   3. smtp-sink on a free loopback port; `MUSTER_SMTP=smtp://... muster launch
#      bench` timed from start to exit (queueing the N outbox rows + sending).
#      Checked: the sink counted N messages and `muster stats` says sent == N.
#   4. A fresh smtp-sink; `smtp-source -d -s 20 -m N -l SIZE` timed.
#   5. Unless COMPARE=0: the same launch from a copy of the database made
#      before step 3, twice more, to show what each part of muster's own
#      SMTP client is worth: against `smtp-sink -p` (no PIPELINING announced,
#      so each command waits for its reply), and with MUSTER_SMTP_CLIENT=curl
#      (libcurl's multi interface, muster's client before it had its own).
#
# Prints muster msgs/s, smtp-source msgs/s and their ratio (target >= 0.5), last.
#
# BENCH_BACKEND=postgres [SERVERS=2] (bench/lib.sh): the outbox in a durable
# PostgreSQL; with SERVERS=2, two `muster launch` processes started together
# on the one database share the sending (claims FOR UPDATE SKIP LOCKED: each
# reminder is sent once in total), timed until both exit. No step 5 there
# (COMPARE=0). Also printed: what PostgreSQL was left with and its top
# statements (pg_report).
# DKIM=rsa or DKIM=ed25519: every mail DKIM-signed with a key of that type (RSA-2048)
# made for the run; also measures `openssl speed` signatures/s for it and prints the
# ratio to min(smtp-source, cores x signatures/s), all in the same run (target >= 0.8).
# COMPARE defaults to 0 then.
# DOMAINS=D (default 1): the supporters' addresses spread over D domains
# (s123@d17.example). PACING=on: a MUSTER_DOMAIN_LIMITS file for the run, a `*`
# rule of 20 connections and no rate, and rules for a few of the bench domains
# (one a comma group) with rates high enough not to bind: the cost of pacing by
# domain, as a ratio to smtp-source in the same run (target >= 0.8). COMPARE
# defaults to 0 with PACING=on.
N=${1:-100000}
DOMAINS=${DOMAINS:-1}
PACING=${PACING:-off}
export DOMAINS
DKIM=${DKIM:-}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-$((120 + N / 100))}
source "$(dirname "$0")/lib.sh"
for tool in /usr/sbin/smtp-sink /usr/sbin/smtp-source; do
    [ -x "$tool" ] || { echo "bench: $tool is missing (apt-get install postfix)" >&2; exit 1; }
done
bench_header "dispatch: N=$N${DKIM:+ DKIM=$DKIM} DOMAINS=$DOMAINS PACING=$PACING"

case "$PACING" in
on)
    {
        echo "# bench/dispatch.sh PACING=on: a limit for every domain, none binding"
        echo "* connections=20 rate=0"
        echo "d0.example,d1.example,d2.example connections=20 rate=100000"
        echo "d3.example connections=10 rate=50000"
        echo "d4.example rate=20000"
    } >"$WORK/domain-limits.conf"
    export MUSTER_DOMAIN_LIMITS=$WORK/domain-limits.conf
    COMPARE=${COMPARE:-0}
    ;;
off) ;;
*) echo "bench: PACING must be on or off, not '$PACING'" >&2; exit 2 ;;
esac

case "$DKIM" in
"") ;;
rsa) DKIM_GEN=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) DKIM_SPEED=rsa2048 ;;
ed25519) DKIM_GEN=(-algorithm ED25519) DKIM_SPEED=ed25519 ;;
*) echo "bench: DKIM must be rsa or ed25519, not '$DKIM'" >&2; exit 2 ;;
esac
if [ -n "$DKIM" ]; then
    openssl genpkey "${DKIM_GEN[@]}" -out "$WORK/dkim.pem" 2>/dev/null
    export MUSTER_DKIM_KEY=$WORK/dkim.pem MUSTER_DKIM_SELECTOR=bench MUSTER_DKIM_DOMAIN=example.org
fi

# --- 2. the size of one reminder (separate database, Maildir transport) ---
(
    export MUSTER_DB=$WORK/size.db MUSTER_MAILDIR=$WORK/size-mail
    "$M" init >/dev/null
    bench_campaign "$WORK/campaign.json"
    "$M" campaign apply "$WORK/campaign.json" >/dev/null
    gen_csv 20 "$WORK/size.csv" size
    "$M" import "$SLUG" "$WORK/size.csv" >/dev/null
    "$M" launch "$SLUG" >/dev/null 2>&1
)
SIZE=$(find "$WORK/size-mail/new" -type f -printf '%s\n' | awk '{s += $1; n++} END {printf "%d", s / n}')
log "a reminder is $SIZE bytes (average of 20 in a Maildir)"
if [ -n "$DKIM" ]; then
    SIGNED=$(grep -l "^DKIM-Signature: v=1; a=$([ "$DKIM" = rsa ] && echo rsa || echo ed25519)-sha256" \
        "$WORK"/size-mail/new/* | wc -l)
    log "$SIGNED of 20 reminders in the Maildir carry a $DKIM DKIM-Signature"
    [ "$SIGNED" = 20 ] || { echo "bench: the reminders are not signed" >&2; exit 1; }
fi

# --- 1. population ---
populate "$N"

if [ -n "$DKIM" ]; then COMPARE=${COMPARE:-0}; else
    COMPARE=${COMPARE:-$([ "$BENCH_BACKEND" = sqlite ] && echo 1 || echo 0)}
fi
[ "$COMPARE" = 1 ] && cp "$MUSTER_DB" "$WORK/before-launch.db"

# --- 3. muster launch to smtp-sink ---
P1=$(free_port)
start_sink "$P1" "$WORK/sink1.out"
log "muster launch ($SERVERS process(es)): $N reminders to smtp-sink on 127.0.0.1:$P1"
pg_mark
t0=$(now)
if [ "$SERVERS" = 1 ]; then
    MUSTER_SMTP=smtp://127.0.0.1:$P1 profile_cmd dispatch-launch "$M" launch "$SLUG" >"$WORK/launch.out" 2>"$WORK/launch.err"
else
    MUSTER_SMTP=smtp://127.0.0.1:$P1 bg /usr/bin/time -f '%U %S %M' -o "$WORK/launch2.time" \
        "$M" launch "$SLUG" >"$WORK/launch2.out" 2>"$WORK/launch2.err"
    L2=$LAST_PID
    MUSTER_SMTP=smtp://127.0.0.1:$P1 profile_cmd dispatch-launch "$M" launch "$SLUG" >"$WORK/launch.out" 2>"$WORK/launch.err"
    wait "$L2" || { echo "bench: the second muster launch failed: $(tail -3 "$WORK/launch2.err")" >&2; exit 1; }
fi
t1=$(now)
MUSTER_SECS=$(elapsed "$t0" "$t1")
profile_report dispatch-launch
sleep 0.5 # the last session's QUIT
stop_pid "$SINK_PID"
SINK1=$(sink_count "$WORK/sink1.out")
SENT=$(stat reminders sent)
LAUNCH_CPU="?"
if [ -f "$WORK/dispatch-launch.time" ]; then
    read -r u s kb <"$WORK/dispatch-launch.time"
    LAUNCH_CPU="$(calc "'%.0f' % (($u + $s) / $MUSTER_SECS * 100)")% of one core (user ${u}s, sys ${s}s), peak RSS $((kb / 1024)) MB"
fi
if [ -f "$WORK/launch2.time" ]; then
    read -r u s kb <"$WORK/launch2.time"
    LAUNCH_CPU="$LAUNCH_CPU; the second: $(calc "'%.0f' % (($u + $s) / $MUSTER_SECS * 100)")% of one core (user ${u}s, sys ${s}s), peak RSS $((kb / 1024)) MB"
    log "second launch: $(tail -1 "$WORK/launch2.out")"
fi
PG_LINES=$(pg_report)
SEND_PHASE=$(sed -n 's/.* in \([0-9.]*\)s$/\1/p' "$WORK/launch.out" | tail -1)
log "$(tail -1 "$WORK/launch.out")"

# --- 4. smtp-source, same size, same parallelism ---
P2=$(free_port)
start_sink "$P2" "$WORK/sink2.out"
log "smtp-source: $N messages of $SIZE bytes, 20 sessions, to 127.0.0.1:$P2"
t0=$(now)
timeout 300 /usr/sbin/smtp-source -d -s 20 -m "$N" -l "$SIZE" -f bench@example.org \
    -t sink@example.org 127.0.0.1:"$P2" >"$WORK/source.out" 2>&1
t1=$(now)
SOURCE_SECS=$(elapsed "$t0" "$t1")
sleep 0.5
stop_pid "$SINK_PID"
SINK2=$(sink_count "$WORK/sink2.out")

# --- 5. the same launch without PIPELINING, and through libcurl ---
# compare_launch LABEL SINK_FLAG ENV...: prints "LABEL msgs/s" (or "? (count)").
compare_launch() {
    local label=$1 flag=$2 port t0 t1 secs count user=()
    shift 2
    cp "$WORK/before-launch.db" "$MUSTER_DB"
    rm -f "$MUSTER_DB-wal" "$MUSTER_DB-shm"
    port=$(free_port)
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    bg /usr/sbin/smtp-sink "${user[@]}" $flag -c -m 512 "127.0.0.1:$port" 1000 >"$WORK/sink-$label.out" 2>&1
    SINK_PID=$LAST_PID
    wait_port "$port" 10
    log "muster launch ($label): $N reminders to 127.0.0.1:$port"
    t0=$(now)
    env MUSTER_SMTP=smtp://127.0.0.1:$port "$@" "$M" launch "$SLUG" >/dev/null 2>"$WORK/launch-$label.err"
    t1=$(now)
    sleep 0.5
    stop_pid "$SINK_PID"
    secs=$(elapsed "$t0" "$t1")
    count=$(sink_count "$WORK/sink-$label.out")
    if [ "$count" = "$N" ]; then
        calc "round($N / $secs)"
    else
        echo "? (sink got $count of $N)"
    fi
}
NOPIPE_RATE=skipped CURL_RATE=skipped
if [ "$COMPARE" = 1 ]; then
    NOPIPE_RATE=$(compare_launch no-pipelining -p)
    CURL_RATE=$(compare_launch curl "" MUSTER_SMTP_CLIENT=curl)
fi

MUSTER_RATE=$(calc "round($N / $MUSTER_SECS)")
SEND_RATE=$(calc "round($N / $SEND_PHASE)" 2>/dev/null || echo "?")
SOURCE_RATE=$(calc "round($N / $SOURCE_SECS)")
RATIO=$(calc "'%.2f' % ($MUSTER_RATE / $SOURCE_RATE)")
TARGET=0.5
[ "$PACING" = on ] && TARGET=0.8
OK=ok
[ "$SINK1" = "$N" ] && [ "$SENT" = "$N" ] || OK="MISMATCH"
[ "$SINK2" = "$N" ] || OK="$OK (smtp-source sink got $SINK2)"

echo "reminder size:            $SIZE bytes"
echo "import $N supporters:     ${IMPORT_SECONDS}s"
echo "muster launch (total):    ${MUSTER_SECS}s (sending phase ${SEND_PHASE}s = $SEND_RATE msgs/s)"
echo "muster launch CPU:        $LAUNCH_CPU"
echo "smtp-source:              ${SOURCE_SECS}s"
echo "muster, relay without PIPELINING: $NOPIPE_RATE msgs/s; muster through libcurl: $CURL_RATE msgs/s"
[ -n "$PG_LINES" ] && echo "$PG_LINES"
echo "count check:              sink received $SINK1, stats reminders.sent $SENT, expected $N: $OK"
echo "dispatch [$CONFIG] domains=$DOMAINS pacing=$PACING muster_msgs_per_s=$MUSTER_RATE smtp_source_msgs_per_s=$SOURCE_RATE ratio=$RATIO (target >= $TARGET) count=$OK"
if [ -n "$DKIM" ]; then
    # The signing reference, measured now: every core signing (openssl speed, one process).
    CORES=$(nproc)
    SIGN_RATE=$(openssl speed -seconds 3 "$DKIM_SPEED" 2>/dev/null |
        awk '/^rsa 2048 bits|Ed25519\)/ {print $(NF-1)}' | tail -1)
    REF=$(calc "min($SOURCE_RATE, $CORES * $SIGN_RATE)")
    DKIM_RATIO=$(calc "'%.2f' % ($MUSTER_RATE / $REF)")
    echo "dkim $DKIM: openssl speed $SIGN_RATE signatures/s per core x $CORES cores; reference min(smtp-source, that) = $(calc "round($REF)") msgs/s"
    echo "dispatch_dkim key=$DKIM muster_msgs_per_s=$MUSTER_RATE reference_msgs_per_s=$(calc "round($REF)") ratio=$DKIM_RATIO (target >= 0.8) count=$OK"
fi
