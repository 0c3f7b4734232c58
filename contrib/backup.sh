#!/bin/sh
# A consistent backup of muster's database into DIR while muster serves, then
# the last 14 kept. SQLite: the online backup API (`sqlite3 DB ".backup FILE"`),
# which copies a consistent snapshot however many writes go on. PostgreSQL
# (MUSTER_DB=postgres://..., postgresql://... or key=value): pg_dump in its
# custom format (restore with pg_restore into an empty database).
# Usage: backup.sh DIR      (MUSTER_DB as for muster itself; default ./muster.db)
set -eu
dir=${1:?usage: backup.sh DIR}
db=${MUSTER_DB:-./muster.db}
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
case "$db" in
postgres://* | postgresql://* | *=*)
    out="$dir/muster-$stamp.pgdump"
    pg_dump --format=custom --no-owner --file="$out.tmp" --dbname="$db"
    ;;
*)
    path=${db#sqlite://}
    path=${path#sqlite:}
    out="$dir/muster-$stamp.db"
    sqlite3 "$path" ".backup '$out.tmp'"
    check=$(sqlite3 "$out.tmp" "PRAGMA integrity_check")
    if [ "$check" != ok ]; then
        echo "backup.sh: the copy of $path failed its integrity check: $check" >&2
        rm -f "$out.tmp"
        exit 1
    fi
    ;;
esac
mv "$out.tmp" "$out"
echo "backup.sh: wrote $out"
# keep the newest 14
ls -1t "$dir"/muster-* 2>/dev/null | tail -n +15 | while read -r old; do rm -f "$old"; done
