# bench/lib.sh: shared helpers for the benchmark scripts (sourced, not run).
#
# Each benchmark gets its own temp dir ($WORK), its own database
# ($MUSTER_DB), a copy of the binary under test (so a rebuild during the run does not
# change the binary under test), free loopback ports, a watchdog that ends the
# whole script after $BENCH_TIMEOUT seconds, and a trap that stops every
# process the script started and removes the temp dir (KEEP=1 keeps it).
#
# BENCH_BACKEND=sqlite (default) or postgres: with postgres, the database is
# a fresh one on a DURABLE throw-away cluster of this script's own
# (scripts/pg-cluster.sh start DIR --durable: fsync, full_page_writes and
# synchronous_commit on, pg_stat_statements loaded), removed at the end.
# SERVERS=1 (default) or 2 (postgres only): start_servers starts two
# `muster serve` on that one database behind an nginx that balances them
# (round robin, keepalive connections to both), and the load goes to nginx.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
# perf report on a dwarf call graph takes minutes.
[ -n "${PROFILE_DIR:-}" ] && BENCH_TIMEOUT=$((BENCH_TIMEOUT + 600))

# MUSTER_BIN: the binary under test (default build/muster), e.g. one built
# from an older commit for a before/after comparison.
MUSTER_BIN=${MUSTER_BIN:-$ROOT/build/muster}
if [ ! -x "$MUSTER_BIN" ]; then
    echo "bench: $MUSTER_BIN is missing; run 'make -C $ROOT' first" >&2
    exit 1
fi
for tool in wrk python3 curl; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing (make deps-bench)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/muster-bench.XXXXXX)
cp "$MUSTER_BIN" "$WORK/muster"
M=$WORK/muster
export MUSTER_DB=$WORK/muster.db
export MUSTER_MAILDIR=$WORK/mail
unset MUSTER_SMTP MUSTER_LISTEN MUSTER_BASE_URL MUSTER_PLEDGE_LIMIT MUSTER_SEND_CONCURRENCY \
    MUSTER_SEND_RATE MUSTER_TRUSTED_PROXIES MUSTER_MAX_CONNECTIONS_PER_IP MUSTER_HEADER_TIMEOUT \
    MUSTER_BODY_TIMEOUT 2>/dev/null || true
SLUG=bench
BG_PIDS=()
BENCH_BACKEND=${BENCH_BACKEND:-sqlite}
SERVERS=${SERVERS:-1}
case "$BENCH_BACKEND-$SERVERS" in
sqlite-1 | postgres-1 | postgres-2) ;;
*)
    echo "bench: BENCH_BACKEND=$BENCH_BACKEND SERVERS=$SERVERS: use sqlite with 1, or postgres with 1 or 2" >&2
    exit 1
    ;;
esac
# The label of this configuration in the result lines.
CONFIG="$BENCH_BACKEND,$SERVERS"
PG_DIR=

# Stops what this script started (by pid), then removes the temp dir.
bench_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "${WATCHDOG_PID:-}" ]; then
        # The watchdog first (it waits for its sleep with `wait`, so it ends
        # at once and quietly), then its sleep.
        local sleeper
        sleeper=$(pgrep -P "$WATCHDOG_PID" 2>/dev/null || true)
        kill "$WATCHDOG_PID" 2>/dev/null || true
        [ -n "$sleeper" ] && kill $sleeper 2>/dev/null || true
    fi
    # Newest first: a server stops before the mail sink it sends to.
    local i p
    for ((i = ${#BG_PIDS[@]} - 1; i >= 0; i--)); do
        p=${BG_PIDS[i]}
        kill -TERM "$p" 2>/dev/null || true
        for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "bench: kept $WORK${PG_DIR:+ and the cluster in $PG_DIR (scripts/pg-cluster.sh stop $PG_DIR)}" >&2
    else
        rm -rf "$WORK"
        [ -n "$PG_DIR" ] && "$ROOT/scripts/pg-cluster.sh" stop "$PG_DIR"
    fi
    exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The watchdog: after BENCH_TIMEOUT seconds it stops this script's children
# (found by parent pid, so nothing else on the machine) and the script.
(
    sleep "$BENCH_TIMEOUT" </dev/null >/dev/null 2>&1 &
    wait $!
    echo "bench: $(basename "$0") exceeded ${BENCH_TIMEOUT}s; stopping" >&2
    for c in $(ps -o pid= --ppid $$); do
        [ "$c" != "$BASHPID" ] && kill -TERM "$c" 2>/dev/null
    done
    kill -TERM $$ 2>/dev/null
) &
WATCHDOG_PID=$!
disown "$WATCHDOG_PID" # no "Terminated" notice when the cleanup stops it

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# --- PostgreSQL (BENCH_BACKEND=postgres) ---
if [ "$BENCH_BACKEND" = postgres ]; then
    command -v psql >/dev/null || { echo "bench: psql is missing (make deps-test)" >&2; exit 1; }
    # Not under $WORK: run as root the cluster belongs to nobody, who must be
    # able to reach its directory (/tmp lets it through, $WORK does not).
    PG_DIR=$(mktemp -u /tmp/muster-bench-pg.XXXXXX)
    PG_ADMIN=$("$ROOT/scripts/pg-cluster.sh" start "$PG_DIR" --durable)
    psql "$PG_ADMIN" -qXc "CREATE DATABASE muster_bench" >/dev/null
    export MUSTER_DB="$PG_ADMIN dbname=muster_bench"
    psql "$MUSTER_DB" -qXc "CREATE EXTENSION pg_stat_statements" >/dev/null
    log "PostgreSQL $(psql "$MUSTER_DB" -XAtc 'SHOW server_version'): fsync=$(psql "$MUSTER_DB" -XAtc 'SHOW fsync')," \
        "synchronous_commit=$(psql "$MUSTER_DB" -XAtc 'SHOW synchronous_commit') in $PG_DIR"
fi
# pgq SQL: one value from the bench database.
pgq() { psql "$MUSTER_DB" -XAtc "$1"; }
# pg_mark: the start of a measured run (WAL position; pg_stat_statements emptied).
pg_mark() {
    [ "$BENCH_BACKEND" = postgres ] || return 0
    PG_LSN0=$(pgq "SELECT pg_current_wal_lsn()")
    pgq "SELECT pg_stat_statements_reset()" >/dev/null
}
# pg_report: what the run since pg_mark left behind in PostgreSQL (database
# size, WAL written, the pg_wal directory, outbox rows not sent) and the
# statements that took the most time (pg_stat_statements, total time; COMMIT
# is one of them: its time is mostly the wait for the WAL flush).
pg_report() {
    [ "$BENCH_BACKEND" = postgres ] || return 0
    echo "left behind (PostgreSQL): database $(pgq "SELECT pg_size_pretty(pg_database_size(current_database()))")," \
        "WAL written during the run $(pgq "SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), '$PG_LSN0'))")," \
        "pg_wal directory $(du -sh "$PG_DIR/data/pg_wal" | cut -f1)," \
        "outbox rows pending $(pgq "SELECT count(*) FROM outbox WHERE state = 'pending'")"
    echo "pg_stat_statements, top 6 by total time since the run started (total ms | calls | mean ms | rows | statement):"
    psql "$MUSTER_DB" -XAt -F ' | ' -c "SELECT round(total_exec_time::numeric), calls,
        round(mean_exec_time::numeric, 3), rows, left(regexp_replace(query, '\s+', ' ', 'g'), 120)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC LIMIT 6" | sed 's/^/  /'
}
# pg_pids: the cluster's processes (the postmaster and its children).
pg_pids() {
    [ -n "$PG_DIR" ] || return 0
    local pm
    pm=$(head -1 "$PG_DIR/data/postmaster.pid")
    echo "$pm" $(ps -o pid= --ppid "$pm")
}
# ticks_of PID...: user+system clock ticks used so far by these processes
# (those gone are skipped).
ticks_of() {
    local p t=0 v
    for p in "$@"; do
        v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
# serve_rss: "peak/now MB" of each muster serve.
serve_rss() {
    local p out=""
    for p in "${SERVE_PIDS[@]}"; do out="$out $(rss_mb "$p" VmHWM)/$(rss_mb "$p" VmRSS)"; done
    echo "muster serve memory, peak/now MB of each:$out"
}

# Starts a command in the background and remembers its pid for the cleanup.
bg() {
    "$@" &
    BG_PIDS+=($!)
    LAST_PID=$!
}

stop_pid() {
    local p=$1
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    # Forget it, so the cleanup never signals a recycled pid.
    local keep=() q
    for q in "${BG_PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    BG_PIDS=("${keep[@]}")
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS]: until something accepts connections there.
wait_port() {
    local port=$1 limit=${2:-20} i
    for i in $(seq $((limit * 10))); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "bench: nothing listens on 127.0.0.1:$port after ${limit}s" >&2
    return 1
}

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
# calc EXPR: floating point arithmetic (python syntax).
calc() { python3 -c "print($1)"; }

# The bench campaign: examples/docs-day.json with slug 'bench', a launch moment
# far ahead (`muster launch` moves it to now), a one-week window (so clicks
# during the run are inside it) and NTARGETS github_issue targets without cap
# (every click ends in a 302, as for most real supporters).
bench_campaign() {
    local out=$1 ntargets=${2:-4}
    python3 - "$ROOT/examples/docs-day.json" "$out" "$ntargets" <<'EOF'
import json, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = json.load(open(src))
c["slug"] = "bench"
c["launch"] = {"at": "2035-01-01T10:00:00", "timezone": "UTC", "window_minutes": 10080}
c["targets"] = [{"id": f"repo{i}", "kind": "github_issue", "label": f"Repository {i}",
                 "repo": f"bench-org/repo{i}", "labels": ["docs"]} for i in range(n)]
c["fallback"] = [t["id"] for t in c["targets"]]
c.pop("close_after_reports", None)
json.dump(c, open(out, "w"), indent=2)
EOF
}

# gen_csv N FILE [PREFIX]: N consenting supporters, header email,name,consent,timezone.
# With DOMAINS=D (> 1) their addresses are spread over D domains, s123@d17.example
# (supporter i on domain i % D), else all on bench.example.org.
gen_csv() {
    local n=$1 out=$2 prefix=${3:-s}
    awk -v n="$n" -v p="$prefix" -v d="${DOMAINS:-1}" 'BEGIN {
        split("UTC Europe/Berlin America/New_York Asia/Tokyo", tz, " ");
        print "email,name,consent,timezone";
        for (i = 0; i < n; i++) {
            domain = d > 1 ? sprintf("d%d.example", i % d) : "bench.example.org";
            printf "%s%d@%s,Supporter %d,yes,%s\n", p, i, domain, i, tz[i % 4 + 1];
        }
    }' > "$out"
}

# populate N: init, apply the bench campaign, import N confirmed supporters.
populate() {
    local n=$1 t0 t1
    "$M" init >/dev/null
    bench_campaign "$WORK/campaign.json" "${NTARGETS:-4}"
    "$M" campaign apply "$WORK/campaign.json" >/dev/null
    gen_csv "$n" "$WORK/supporters.csv"
    t0=$(now)
    "$M" import "$SLUG" "$WORK/supporters.csv" >&2
    t1=$(now)
    IMPORT_SECONDS=$(elapsed "$t0" "$t1")
    log "imported $n supporters in ${IMPORT_SECONDS}s"
    rm -f "$WORK/supporters.csv"
}

# stat FIELD [FIELD...]: a value from `muster stats bench --json` (nested keys).
stat() {
    "$M" stats "$SLUG" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1:]:
    d = d[k]
print(d)' "$@"
}

# start_serve PORT LOGFILE: `muster serve` on 127.0.0.1:PORT, waits for /healthz.
# wrk opens up to 256 connections, all from 127.0.0.1: above the default
# MUSTER_MAX_CONNECTIONS_PER_IP (128), so the limit is raised (and still
# counted, so its cost is measured).
start_serve() {
    local port=$1 logf=$2 i
    MUSTER_LISTEN=127.0.0.1:$port MUSTER_BASE_URL=http://127.0.0.1:$port \
        MUSTER_MAX_CONNECTIONS_PER_IP=1024 bg "$M" serve >"$logf" 2>&1
    SERVE_PID=$LAST_PID
    for i in $(seq 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || { cat "$logf" >&2; return 1; }
        sleep 0.1
    done
    echo "bench: muster serve did not answer /healthz" >&2
    return 1
}

# start_servers LOGPREFIX: SERVERS `muster serve` (with the caller's
# environment: `VAR=value start_servers ...`), and with 2 an nginx balancing
# them. Sets SERVE_URL (where the load goes), SERVE_PIDS (the muster
# processes), SERVE_PID (the first), LB_PIDS (nginx and its workers; empty
# with one server).
start_servers() {
    local prefix=$1 i port ports=() upstream="" lb
    SERVE_PIDS=()
    LB_PIDS=()
    for i in $(seq "$SERVERS"); do
        port=$(free_port)
        start_serve "$port" "$prefix$i.log"
        SERVE_PIDS+=("$SERVE_PID")
        ports+=("$port")
    done
    SERVE_PID=${SERVE_PIDS[0]}
    if [ "$SERVERS" = 1 ]; then
        SERVE_URL=http://127.0.0.1:${ports[0]}
        return 0
    fi
    lb=$(free_port)
    for port in "${ports[@]}"; do upstream="$upstream server 127.0.0.1:$port;"; done
    start_nginx lb "$lb" "upstream muster { $upstream keepalive 64; }" \
        'location / { proxy_pass http://muster; proxy_http_version 1.1;
            proxy_set_header Connection ""; proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr; }'
    # shellcheck disable=SC2207 # pids are words
    LB_PIDS=("$NGINX_PID" $(ps -o pid= --ppid "$NGINX_PID"))
    SERVE_URL=http://127.0.0.1:$lb
}

# start_nginx NAME PORT HTTP_EXTRA LOCATIONS: an nginx (2 workers, no access
# log) in $WORK/NAME on 127.0.0.1:PORT; sets NGINX_PID.
start_nginx() {
    local port=$2 extra=$3 locations=$4 d=$WORK/$1
    NGINX=${NGINX:-/usr/sbin/nginx}
    [ -x "$NGINX" ] || { echo "bench: $NGINX is missing (apt-get install nginx-light)" >&2; exit 1; }
    mkdir -p "$d/tmp"
    cat >"$d/nginx.conf" <<EOF
worker_processes 2;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    $extra
    server {
        listen 127.0.0.1:$port;
        $locations
    }
}
EOF
    bg "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" -g 'daemon off;'
    NGINX_PID=$LAST_PID
    wait_port "$port" 10
}

# start_sink PORT OUTFILE: smtp-sink on 127.0.0.1:PORT with running counters.
start_sink() {
    local port=$1 out=$2 user=()
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    bg /usr/sbin/smtp-sink "${user[@]}" -c -m 512 "127.0.0.1:$port" 1000 >"$out" 2>&1
    SINK_PID=$LAST_PID
    wait_port "$port" 10
}

# sink_count OUTFILE: messages the sink received (its last 'mesg=' counter).
sink_count() {
    tr '\r' '\n' <"$1" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2 | grep . || echo 0
}

# wrk_field FILE: parses wrk --latency output into shell variables
# RPS, P50_MS, P99_MS, REQS, WRK_SECS, NON2XX3XX, SOCKERR.
wrk_parse() {
    eval "$(python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    x = float(m.group(1))
    return {"us": x / 1000, "ms": x, "s": x * 1000}[m.group(2)]
rps = re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)
p50 = re.search(r"^\s+50%\s+(\S+)", t, re.M)
p99 = re.search(r"^\s+99%\s+(\S+)", t, re.M)
m = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", t)
secs = float(m.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(3)]
non = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err = re.search(r"Socket errors: (.*)", t)
print(f"RPS={rps}")
print(f"P50_MS={ms(p50.group(1)) if p50 else 0:.3f}")
print(f"P99_MS={ms(p99.group(1)) if p99 else 0:.3f}")
print(f"REQS={m.group(1)}")
print(f"WRK_SECS={secs:.3f}")
print(f"NON2XX3XX={non.group(1) if non else 0}")
print(f"SOCKERR='{err.group(1).strip() if err else 'none'}'")
EOF
)"
}

# cpu_ticks PID: user+system clock ticks used so far; fails (with the
# server's log) when the process is gone.
cpu_ticks() {
    if ! awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; then
        echo "bench: process $1 is gone" >&2
        [ -n "${2:-}" ] && tail -20 "$2" >&2
        return 1
    fi
}

# rss_mb PID: VmHWM and VmRSS of a process in MB.
rss_mb() {
    awk -v k="$2:" '$1 == k {printf "%.1f", $2 / 1024}' "/proc/$1/status"
}

# Profiling (optional): with PROFILE_DIR=/some/dir, the scripts record the
# muster process with `perf record -g` during their first muster run and
# write NAME.perf.data and NAME.txt (perf report, flat and by caller) there.
# Also NAME.syscalls.txt: counts of the syscalls that say where a request
# waits (fdatasync/fsync: commits; clock_nanosleep: SQLite's busy handler
# sleeping for a lock; fcntl: SQLite's file locks; futex: mutexes).
# Profiled runs are slower; their numbers are not the benchmark's.
# PROFILE_SYSTEM=1 records the whole machine (perf record -a) instead of the
# one muster process, for a run where the time is spread over several
# processes (two serves, PostgreSQL's backends, nginx); NAME.txt then starts
# with the share of each command (other work on the machine included).
SYSCALL_EVENTS=syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_clock_nanosleep,syscalls:sys_enter_nanosleep,syscalls:sys_enter_fcntl,syscalls:sys_enter_futex,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg
profile_start() { # PID NAME
    PROF_PID=
    [ -n "${PROFILE_DIR:-}" ] || return 0
    command -v perf >/dev/null || { log "perf is missing; not profiling"; return 0; }
    mkdir -p "$PROFILE_DIR"
    # setsid: perf signals its whole process group when it ends
    local target=(-p "$1")
    [ "${PROFILE_SYSTEM:-0}" = 1 ] && target=(-a)
    setsid perf record -q -F 499 --call-graph "${PROFILE_CALLGRAPH:-fp}" -o "$PROFILE_DIR/$2.perf.data" "${target[@]}" >/dev/null 2>&1 &
    PROF_PID=$!
    setsid perf stat -e "$SYSCALL_EVENTS" -o "$PROFILE_DIR/$2.syscalls.txt" -p "$1" >/dev/null 2>&1 &
    PROF_STAT_PID=$!
    PROF_NAME=$2
    sleep 0.5
}
profile_stop() {
    [ -n "${PROF_PID:-}" ] || return 0
    kill -INT "$PROF_PID" "$PROF_STAT_PID" 2>/dev/null || true
    wait "$PROF_PID" "$PROF_STAT_PID" 2>/dev/null || true
    profile_report "$PROF_NAME"
    PROF_PID=
}
# profile_cmd NAME CMD...: runs CMD under perf record, or under GNU time
# (user s, system s, peak RSS KB into $WORK/NAME.time); the caller writes
# the report (profile_report NAME) after its timing.
profile_cmd() {
    local name=$1
    shift
    if [ -n "${PROFILE_DIR:-}" ] && command -v perf >/dev/null; then
        mkdir -p "$PROFILE_DIR"
        setsid -w perf stat -e "$SYSCALL_EVENTS" -o "$PROFILE_DIR/$name.syscalls.txt" -- \
            perf record -q -F 499 --call-graph "${PROFILE_CALLGRAPH:-fp}" -o "$PROFILE_DIR/$name.perf.data" -- "$@"
        return
    fi
    /usr/bin/time -f '%U %S %M' -o "$WORK/$name.time" "$@"
}
profile_report() {
    [ -n "${PROFILE_DIR:-}" ] && [ -f "$PROFILE_DIR/$1.perf.data" ] || return 0
    local d=$PROFILE_DIR/$1.perf.data
    {
        echo "## $1: samples by command"
        perf report -i "$d" --stdio --no-children --sort comm -g none 2>/dev/null | grep -v "^#" | grep . | head -15 || true
        echo
        echo "## $1: self time by symbol"
        perf report -i "$d" --stdio --no-children --sort dso,sym -g none 2>/dev/null | grep -v "^#" | grep . | head -40 || true
        echo
        echo "## $1: inclusive time by symbol (callers included)"
        perf report -i "$d" --stdio --children --sort sym -g none 2>/dev/null | grep -v "^#" | grep . | head -60 || true
    } >"$PROFILE_DIR/$1.txt"
    log "profile: $PROFILE_DIR/$1.txt"
}

bench_header() {
    local rev
    if [ "$MUSTER_BIN" = "$ROOT/build/muster" ]; then
        rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
        if [ -n "$(git -C "$ROOT" status --porcelain -- src 2>/dev/null)" ]; then rev="$rev+dirty-src"; fi
    else
        rev=$MUSTER_BIN
    fi
    echo "== $1 [$CONFIG] ($(date -u +%Y-%m-%dT%H:%MZ), muster $rev, $(nproc) cores, load before: $(cut -d" " -f1-3 /proc/loadavg))"
}
