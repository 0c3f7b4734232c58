#!/usr/bin/env bash
# Checks what contrib/ ships, against the binary just built:
#   - every systemd unit passes `systemd-analyze verify` with no word of
#     complaint (an unknown key is only a warning there, so any output fails),
#     as an instance "a" of the templates, with the paths pointed at this tree;
#   - contrib/backup.sh copies a SQLite database through the online backup,
#     and the copy passes PRAGMA integrity_check and opens in muster.
# Usage: scripts/check-contrib.sh [MUSTER_BIN]   (default build/muster)
set -u
cd "$(dirname "$0")/.."
bin=$(realpath -m "${1:-build/muster}")
if [ ! -x "$bin" ]; then
    echo "contrib: no muster binary at $bin (make first)"
    exit 1
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
rc=0

for unit in contrib/systemd/*; do
    name=$(basename "$unit")
    sed -e "s|/usr/local/bin/muster|$bin|g" \
        -e "s|/usr/local/share/muster/backup.sh|$PWD/contrib/backup.sh|g" \
        "$unit" >"$t/${name/@./@a.}"
done
if ! out=$(cd "$t" && systemd-analyze verify --man=no ./*.service ./*.timer 2>&1) || [ -n "$out" ]; then
    echo "contrib: systemd-analyze verify complained:"
    echo "$out"
    rc=1
fi

# backup.sh on a live SQLite database
export MUSTER_DB="$t/live.db" MUSTER_MAILDIR="$t/mail"
"$bin" init >/dev/null && "$bin" campaign apply examples/docs-day.json >/dev/null || {
    echo "contrib: could not make a database to back up"
    exit 1
}
if ! contrib/backup.sh "$t/backups" >"$t/backup.out" 2>&1; then
    echo "contrib: backup.sh failed: $(cat "$t/backup.out")"
    rc=1
else
    copy=$(ls "$t"/backups/muster-*.db)
    if [ "$(sqlite3 "$copy" 'PRAGMA integrity_check')" != ok ] ||
        ! MUSTER_DB="$copy" "$bin" campaign list | grep -q '^docs-day'; then
        echo "contrib: the backup $copy is not a working muster database"
        rc=1
    fi
fi
[ $rc = 0 ] && echo "contrib: 3 units verified, backup.sh made a working copy"
exit $rc
