#!/usr/bin/env bash
# i18n.sh: muster's translation catalogs (docs/TRANSLATING.md), with GNU
# gettext's tools (Debian's gettext package).
#   scripts/i18n.sh pot      writes po/muster.pot: every string src/ passes to
#                            i18n(lang, "...") or marks with N_("...")
#   scripts/i18n.sh update   merges the template into every po/LANG.po (msgmerge)
#   scripts/i18n.sh check    the completeness test (tests/run.sh, layers family):
#                            po/muster.pot is what the code says now, and every
#                            po/LANG.po translates every string of it (msgcmp),
#                            is valid with matching printf conversions (msgfmt
#                            --check) and compiles (scripts/po2c.sh)
#   scripts/i18n.sh selftest the check on a made-up tree must fail where it should
set -u
cd "$(dirname "$0")/.."
root=.

extract() { # OUT.pot
    (cd "$root" && xgettext --from-code=UTF-8 --language=C -k --keyword=i18n:2 --keyword=N_ \
        --add-comments=TRANSLATORS: --package-name=muster --msgid-bugs-address=- \
        --sort-by-file --no-location --no-wrap -o - src/*/*.c) |
        sed -e '/^"POT-Creation-Date:/d' -e '1,4d' |
        sed -e '1i # The template of muster'"'"'s translation catalogs: every string the code passes\n# to i18n() or marks with N_(). Made by scripts/i18n.sh pot; docs/TRANSLATING.md.' >"$1"
}

check() {
    local tmp rc=0
    tmp=$(mktemp -d)
    check_in "$tmp" || rc=1
    rm -rf "$tmp"
    return $rc
}

check_in() { # TMPDIR
    local tmp=$1 rc=0
    extract "$tmp/now.pot" || return 1
    if ! diff -u "$root/po/muster.pot" "$tmp/now.pot" >"$tmp/diff"; then
        echo "i18n: po/muster.pot is not what the code says; run scripts/i18n.sh pot (then update):"
        cat "$tmp/diff"
        rc=1
    fi
    local po n
    for po in "$root"/po/*.po; do
        [ -e "$po" ] || continue
        if ! msgcmp "$po" "$tmp/now.pot" 2>"$tmp/msgcmp"; then
            echo "i18n: $po lacks translations of strings the code uses:"
            cat "$tmp/msgcmp"
            rc=1
        fi
        if ! msgfmt --check -o /dev/null "$po" 2>"$tmp/msgfmt"; then
            echo "i18n: $po is not a valid catalog:"
            cat "$tmp/msgfmt"
            rc=1
        fi
        n=$(msgattrib --translated --no-fuzzy --no-obsolete "$po" 2>/dev/null | grep -c '^msgid ')
        echo "i18n: $po: $((n - 1)) strings translated"
    done
    scripts/po2c.sh "$tmp/catalogs.c" "$root"/po/*.po || rc=1
    return $rc
}

extract_in() { # ROOT: its po/muster.pot from its src/
    local saved=$root
    root=$1
    extract "$root/po/muster.pot"
    root=$saved
}

check_root() { # ROOT
    local saved=$root rc=0
    root=$1
    check || rc=1
    root=$saved
    return $rc
}

# The check must pass on the tree as it is, and fail for a string the code
# uses without a translation and for a translation whose conversions differ.
selftest() {
    local t rc=0
    t=$(mktemp -d)
    selftest_in "$t" || rc=1
    rm -rf "$t"
    return $rc
}

selftest_in() { # TMPDIR
    local t=$1
    mkdir -p "$t/src/core" "$t/po"
    printf '#include "core/i18n.h"\nvoid f(void) { i18n(l, "Hello %%s"); }\n' >"$t/src/core/a.c"
    extract_in "$t"
    printf 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n#, c-format\nmsgid "Hello %%s"\nmsgstr "Hola %%s"\n' >"$t/po/es.po"
    if ! check_root "$t" >/dev/null; then
        echo "i18n selftest: a complete catalog failed the check"
        return 1
    fi
    printf '#include "core/i18n.h"\nvoid f(void) { i18n(l, "Hello %%s"); i18n(l, "Bye"); }\n' >"$t/src/core/a.c"
    extract_in "$t"
    if check_root "$t" >/dev/null; then
        echo "i18n selftest: a string without a translation passed the check"
        return 1
    fi
    printf '\nmsgid "Bye"\nmsgstr "Adiós %%d"\n' >>"$t/po/es.po"
    if check_root "$t" >/dev/null 2>&1; then
        echo "i18n selftest: a translation with a stray conversion passed the check"
        return 1
    fi
    return 0
}

case "${1:-}" in
pot) extract po/muster.pot ;;
update)
    for po in po/*.po; do
        msgmerge --quiet --update --backup=none --no-wrap "$po" po/muster.pot || exit 1
    done
    ;;
check) check ;;
selftest) selftest ;;
*)
    echo "usage: scripts/i18n.sh pot|update|check|selftest" >&2
    exit 2
    ;;
esac
