#!/usr/bin/env bash
# docs.sh: checks that what a person who cloned the repository reads is in the
# repository and is true of the code (the `layers` family of tests/run.sh).
#
#   scripts/docs.sh --check [--root DIR] [--bin MUSTER]
#
# It reports, one line each, and exits 1 when there is any:
#   - a Markdown link ([text](target)) to a file that does not exist, to an
#     absolute path, or to a place outside the repository;
#   - a mention of a Markdown file (`NAME.md`) in a doc or a source file that
#     names no file of the repository (a document kept somewhere else);
#   - a path of one machine (/work/..., /home/..., /root/..., /Users/...);
#   - an environment variable the code reads (a "MUSTER_..." string in src/)
#     that `muster --help` or README.md does not mention.
# --bin is the muster binary whose --help is read (default build/muster).
set -u

root=.
bin=
mode=
while [ $# -gt 0 ]; do
    case $1 in
    --check) mode=check ;;
    --root) root=$2; shift ;;
    --bin) bin=$2; shift ;;
    *) echo "usage: scripts/docs.sh --check [--root DIR] [--bin MUSTER]" >&2; exit 2 ;;
    esac
    shift
done
[ "$mode" = check ] || { echo "usage: scripts/docs.sh --check [--root DIR] [--bin MUSTER]" >&2; exit 2; }
root=$(cd "$root" && pwd) || exit 2
bin=${bin:-$root/build/muster}
problems=0
problem() { echo "$*"; problems=$((problems + 1)); }

docs=$(cd "$root" && find . -name '*.md' -not -path './build/*' -not -path '*/node_modules/*' \
    -not -path './.git/*' | sed 's|^\./||' | sort)
sources=$(cd "$root" && find src tests scripts -type f \( -name '*.c' -o -name '*.h' -o -name '*.py' \
    -o -name '*.mjs' -o -name '*.sh' \) -not -path '*/node_modules/*' 2>/dev/null | sort)
md_names=$(for d in $docs; do basename "$d"; done | sort -u)

# Links, line by line: [text](target "title"), not inside `code`.
for doc in $docs; do
    dir=$(dirname "$root/$doc")
    grep -n -o '\]([^) ]*' "$root/$doc" | while IFS= read -r hit; do
        line=${hit%%:*}
        target=${hit#*:](}
        target=${target%%#*}
        case $target in
        '' | http://* | https://* | mailto:*) continue ;;
        /*) echo "$doc:$line: links to an absolute path: $target"; continue ;;
        esac
        resolved=$(realpath -m "$dir/$target")
        case $resolved in
        "$root" | "$root"/*) ;;
        *) echo "$doc:$line: links outside the repository: $target"; continue ;;
        esac
        [ -e "$resolved" ] || echo "$doc:$line: links to a missing file: $target"
    done
done >"${TMPDIR:-/tmp}/docs-check.$$"
while IFS= read -r l; do problem "$l"; done <"${TMPDIR:-/tmp}/docs-check.$$"
rm -f "${TMPDIR:-/tmp}/docs-check.$$"

# Mentions of Markdown files that are not in the repository.
for f in $docs $sources; do
    case $f in scripts/docs.sh | tests/run.sh) continue ;; esac # their own examples
    while IFS= read -r hit; do
        [ -n "$hit" ] || continue
        line=${hit%%:*}
        name=$(basename -- "${hit#*:}")
        grep -qxF "$name" <<<"$md_names" ||
            problem "$f:$line: mentions $name, which is not in the repository"
    done < <(grep -n -o -E '[A-Za-z0-9_./-]*[A-Z][A-Z0-9_]*\.md\b' "$root/$f" 2>/dev/null)
done

# Paths of one machine.
for f in $docs; do
    while IFS= read -r hit; do
        [ -n "$hit" ] && problem "$f:${hit%%:*}: names a path of one machine: ${hit#*:}"
    done < <(grep -n -o -E '(^|[^A-Za-z0-9_.~-])/(work|home|root|Users)/[^ )`"]*' "$root/$f")
done

# Every environment variable the code reads, in --help and in the README.
vars=$(grep -rhoE '"MUSTER_[A-Z0-9_]+"' "$root/src" | tr -d '"' | sort -u)
if [ ! -x "$bin" ]; then
    problem "$bin: not built (make), so muster --help cannot be checked"
else
    help=$("$bin" --help)
    for v in $vars; do
        grep -qw -- "$v" <<<"$help" || problem "muster --help: does not mention $v, which src/ reads"
        grep -qw -- "$v" "$root/README.md" || problem "README.md: does not mention $v, which src/ reads"
    done
fi

[ "$problems" = 0 ] || exit 1
exit 0
