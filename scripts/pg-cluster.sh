#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests (tests/README.md):
#   scripts/pg-cluster.sh start DIR [--durable]
#                                     initdb + pg_ctl start in DIR (new or empty;
#                                     its parent must let nobody through when
#                                     run as root, as /tmp does); prints the
#                                     connection string (libpq key=value)
#   scripts/pg-cluster.sh stop DIR    stops it and removes DIR
# The server listens on a Unix socket in DIR only (listen_addresses = '', no TCP;
# the socket's mode 0700: only its owner and root may connect), trusts local
# connections of its one user "muster" (a superuser of this cluster alone), and does not fsync: nothing in it has to survive a power cut.
# With --durable (for the benchmarks in bench/, docs/PERFORMANCE.md) it
# keeps PostgreSQL's durable defaults instead (fsync, full_page_writes and
# synchronous_commit on), shared_buffers 128MB, and loads pg_stat_statements
# (shared_preload_libraries), so a benchmark can say which statements took the
# time (CREATE EXTENSION pg_stat_statements in the database it reads). Run as
# root, it runs as the unprivileged user nobody, who owns the data directory.
# Debian's server binaries are found under /usr/lib/postgresql/*/bin.
set -eu
what=${1:-}
dir=${2:-}
durable=no
case "${3:-}" in
"") ;;
--durable) durable=yes ;;
*)
    echo "pg-cluster: unknown option '$3' (--durable)" >&2
    exit 2
    ;;
esac
if [ -z "$what" ] || [ -z "$dir" ]; then
    echo "usage: scripts/pg-cluster.sh start DIR [--durable] | stop DIR" >&2
    exit 2
fi
bindir=""
for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && bindir=$d
done
if [ -z "$bindir" ] && command -v initdb >/dev/null; then
    bindir=$(dirname "$(command -v initdb)")
fi
if [ -z "$bindir" ]; then
    echo "pg-cluster: no initdb found (install Debian's postgresql: make deps-test)" >&2
    exit 1
fi
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}
case "$what" in
start)
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
        echo "pg-cluster: $dir exists and is not empty" >&2
        exit 1
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown nobody: "$dir"
    chmod 700 "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U muster --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # The socket directory must let the tests (root or the same user) in.
    chmod 711 "$dir"
    if [ "$durable" = yes ]; then
        settings="-c fsync=on -c full_page_writes=on -c synchronous_commit=on \
         -c shared_buffers=128MB -c shared_preload_libraries=pg_stat_statements \
         -c pg_stat_statements.track=all"
    else
        settings="-c fsync=off -c full_page_writes=off -c shared_buffers=32MB"
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start -o \
        "-c listen_addresses='' -c unix_socket_directories='$dir' -c port=5432 \
         -c unix_socket_permissions=0700 \
         $settings -c max_connections=300 -c log_min_messages=warning" >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
    echo "host=$dir port=5432 user=muster dbname=postgres"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "pg-cluster: unknown action '$what' (start|stop)" >&2
    exit 2
    ;;
esac
