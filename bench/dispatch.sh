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
#
# Prints muster msgs/s, smtp-source msgs/s and their ratio (target >= 0.5), last.
N=${1:-100000}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-$((120 + N / 300))}
source "$(dirname "$0")/lib.sh"
for tool in /usr/sbin/smtp-sink /usr/sbin/smtp-source; do
    [ -x "$tool" ] || { echo "bench: $tool is missing (apt-get install postfix)" >&2; exit 1; }
done
bench_header "dispatch: N=$N"

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

# --- 1. population ---
populate "$N"

# --- 3. muster launch to smtp-sink ---
P1=$(free_port)
start_sink "$P1" "$WORK/sink1.out"
log "muster launch: $N reminders to smtp-sink on 127.0.0.1:$P1"
t0=$(now)
MUSTER_SMTP=smtp://127.0.0.1:$P1 profile_cmd dispatch-launch "$M" launch "$SLUG" >"$WORK/launch.out" 2>"$WORK/launch.err"
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

MUSTER_RATE=$(calc "round($N / $MUSTER_SECS)")
SEND_RATE=$(calc "round($N / $SEND_PHASE)" 2>/dev/null || echo "?")
SOURCE_RATE=$(calc "round($N / $SOURCE_SECS)")
RATIO=$(calc "'%.2f' % ($MUSTER_RATE / $SOURCE_RATE)")
OK=ok
[ "$SINK1" = "$N" ] && [ "$SENT" = "$N" ] || OK="MISMATCH"
[ "$SINK2" = "$N" ] || OK="$OK (smtp-source sink got $SINK2)"

echo "reminder size:            $SIZE bytes"
echo "import $N supporters:     ${IMPORT_SECONDS}s"
echo "muster launch (total):    ${MUSTER_SECS}s (sending phase ${SEND_PHASE}s = $SEND_RATE msgs/s)"
echo "muster launch CPU:        $LAUNCH_CPU"
echo "smtp-source:              ${SOURCE_SECS}s"
echo "count check:              sink received $SINK1, stats reminders.sent $SENT, expected $N: $OK"
echo "dispatch muster_msgs_per_s=$MUSTER_RATE smtp_source_msgs_per_s=$SOURCE_RATE ratio=$RATIO (target >= 0.5) count=$OK"
