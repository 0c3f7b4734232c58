#!/usr/bin/env bash
# layers: draws and checks the include graph between the folders of src/
# (docs/ARCHITECTURE.md, "Layers"). Every `#include "DIR/..."` line under src/
# (src/main.c too) is an edge from the including file's folder to DIR; a
# folder may include only its own folder and the folders below it in LAYERS.
#
#   scripts/layers.sh                  print the table (Markdown): one row per
#                                      folder, its layer, the folders it includes
#                                      with counts ("(up)": an include that
#                                      breaks the rule)
#   scripts/layers.sh --check [DOC]    print every include that points up, every
#                                      folder not in LAYERS, and say whether DOC's
#                                      table (docs/ARCHITECTURE.md) is what
#                                      --update would write; exit 1 if any
#   scripts/layers.sh --update DOC     rewrite DOC's table between the markers
#                                      <!-- layers:begin --> and <!-- layers:end -->
#   --root DIR (first)                 work on DIR instead of this repository
#                                      (the self-test of tests/run.sh)
#
# It only reads src/ and, for --update, rewrites the lines between the markers.
set -euo pipefail

# The layers, bottom to top: the one place the order is written. src/main.c
# sits above all of them.
LAYERS="core campaign targets store webhooks service mail exchange http pages app cli"

BEGIN_MARK='<!-- layers:begin -->'
END_MARK='<!-- layers:end -->'

usage() {
    echo "usage: scripts/layers.sh [--root DIR] [--check [DOC] | --update DOC]" >&2
    exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --root ]; then
    [ $# -ge 2 ] || usage
    root=$2
    shift 2
fi
mode=table
doc=
case "${1:-}" in
"") ;;
--check)
    mode=check
    doc=${2:-docs/ARCHITECTURE.md}
    [ $# -le 2 ] || usage
    ;;
--update)
    mode=update
    [ $# -eq 2 ] || usage
    doc=$2
    ;;
*) usage ;;
esac
cd "$root"
[ -d src ] || {
    echo "layers: no src/ in $root" >&2
    exit 2
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every quoted include with a folder, as FILE:LINE:TEXT, files in a fixed order.
find src -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort >"$tmp/files"
: >"$tmp/includes"
if [ -s "$tmp/files" ]; then
    # awk, not grep: a tree without a single match is no error.
    # shellcheck disable=SC2016 # an awk program, not a shell expansion
    xargs -d '\n' awk '/^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"\/]*\// {
        print FILENAME ":" FNR ":" $0 }' <"$tmp/files" >"$tmp/includes"
fi
find src -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort >"$tmp/folders"
# Files of their own in src/: only main.c has a place there.
find src -mindepth 1 -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' \) ! -name main.c \
    -printf '%f\n' | LC_ALL=C sort >"$tmp/loose"

# graph MODE: MODE=table prints the table, MODE=check the broken rules.
graph() {
    awk -v mode="$1" -v layers="$LAYERS" -v folder_list="$(tr '\n' ' ' <"$tmp/folders")" \
        -v loose_list="$(tr '\n' ' ' <"$tmp/loose")" -v has_main="$([ -f src/main.c ] && echo 1)" '
    BEGIN {
        n = split(layers, order, " ")
        for (i = 1; i <= n; i++)
            layer[order[i]] = i - 1
        order[++n] = "main.c" # src/main.c, above every folder
        layer["main.c"] = n - 1
        nf = split(folder_list, folders, " ")
        for (i = 1; i <= nf; i++) {
            present[folders[i]] = 1
            if (!(folders[i] in layer))
                unknown[++nu] = folders[i]
        }
        if (has_main)
            present["main.c"] = 1
        nl = split(loose_list, loose, " ")
    }
    {
        # FILE:LINE:TEXT (no colon in our paths)
        file = $0
        sub(/:.*/, "", file)
        rest = substr($0, length(file) + 2)
        line = rest
        sub(/:.*/, "", line)
        text = substr(rest, length(line) + 2)
        match(text, /"[^"]*"/)
        header = substr(text, RSTART + 1, RLENGTH - 2)
        dir = header
        sub(/\/.*/, "", dir)
        rel = substr(file, 5) # after "src/"
        from = index(rel, "/") ? substr(rel, 1, index(rel, "/") - 1) : rel
        count[from, dir]++
        targets[dir] = 1
        if (!(from in layer))
            next # its folder is reported below
        if (!(dir in layer)) {
            problems[++np] = file ":" line ": " from " includes " header " (" dir \
                             " is not in the layer list)"
            up[from, dir] = 1
        } else if (layer[dir] > layer[from]) {
            problems[++np] = file ":" line ": " from " includes " header " (layer " \
                             layer[dir] " above " layer[from] ")"
            up[from, dir] = 1
        }
    }
    function cell(from,    i, j, k, s, d, t, extra) {
        s = ""
        for (i = 1; i <= n; i++) {
            d = order[i]
            if ((from, d) in count) {
                s = s (s == "" ? "" : ", ") d " " count[from, d] ((from, d) in up ? " (up)" : "")
            }
        }
        # folders outside the list, in name order
        k = 0
        for (d in targets)
            if (!(d in layer) && (from, d) in count)
                extra[++k] = d
        for (i = 1; i <= k; i++)
            for (j = i + 1; j <= k; j++)
                if (extra[j] < extra[i]) {
                    t = extra[i]; extra[i] = extra[j]; extra[j] = t
                }
        for (i = 1; i <= k; i++)
            s = s (s == "" ? "" : ", ") extra[i] " " count[from, extra[i]] " (up)"
        return s == "" ? "-" : s
    }
    END {
        if (mode == "table") {
            print "| folder | layer | includes (lines per folder) |"
            print "| --- | --- | --- |"
            for (i = 1; i < n; i++)
                if (order[i] in present)
                    print "| " order[i] " | " layer[order[i]] " | " cell(order[i]) " |"
            for (i = 1; i <= nu; i++)
                print "| " unknown[i] " | ? | " cell(unknown[i]) " |"
            if (has_main)
                print "| main.c | " layer["main.c"] " | " cell("main.c") " |"
            exit 0
        }
        for (i = 1; i <= np; i++)
            print problems[i]
        for (i = 1; i <= nu; i++)
            print "src/" unknown[i] "/: " unknown[i] " is not in the layer list (scripts/layers.sh, LAYERS)"
        for (i = 1; i <= nl; i++)
            print "src/" loose[i] ": only src/main.c may sit in src/ itself (no layer)"
        exit (np + nu + nl > 0 ? 1 : 0)
    }' "$tmp/includes"
}

# doc_table DOC: the lines between the markers, without the blank lines
# around the table. Exit 1 (with a message) unless DOC has the begin marker
# once and the end marker once after it.
doc_table() {
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v doc="$1" '
        $0 == b { nb++; inside = 1; next }
        $0 == e { ne++; if (!inside) disorder = 1; inside = 0; next }
        inside && $0 != "" { print }
        END {
            if (nb != 1 || ne != 1 || disorder) {
                print doc ": expected one " b " line and one " e " line after it" > "/dev/stderr"
                exit 1
            }
        }' "$1"
}

graph table >"$tmp/table"

case $mode in
table)
    cat "$tmp/table"
    ;;
update)
    doc_table "$doc" >/dev/null
    awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v table="$tmp/table" '
        $0 == b { print; print ""; while ((getline l < table) > 0) print l; print ""; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$doc" >"$tmp/doc"
    cat "$tmp/doc" >"$doc" # keeps the file's mode and links
    ;;
check)
    status=0
    graph check || status=1
    if ! doc_table "$doc" >"$tmp/doc_table"; then
        status=1
    elif ! cmp -s "$tmp/doc_table" "$tmp/table"; then
        echo "$doc: the layers table is not what scripts/layers.sh writes now" \
            "(run scripts/layers.sh --update $doc):"
        diff -u --label "$doc" --label "scripts/layers.sh" "$tmp/doc_table" "$tmp/table" || true
        status=1
    fi
    exit $status
    ;;
esac
