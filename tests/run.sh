#!/usr/bin/env bash
# The whole test suite (`make test` runs it after building the normal and the
# sanitized binaries). Families, in order:
#   layers    scripts/layers.sh on a throwaway tree, then --check on src/ and
#             docs/ARCHITECTURE.md's table: every include points down; then
#             scripts/docs.sh the same way: links and docs inside the repository,
#             every MUSTER_ variable in --help and README.md (needs build/muster);
#             the translation catalogs' completeness (scripts/i18n.sh check)
#   contrib   contrib/: systemd units through systemd-analyze verify, and
#             backup.sh making a working copy (scripts/check-contrib.sh)
#   unit      cmocka tests, built normally and with -fsanitize=address,undefined
#             (the store's conformance suite against SQLite and PostgreSQL)
#   e2e       pytest over HTTP against build/asan/muster with real SMTP servers,
#             twice: on SQLite, then on PostgreSQL (MUSTER_TEST_BACKEND)
#   fuzz      every libFuzzer target for a bounded time over its corpus
#   browser   headless Chromium through playwright-core
# Set MUSTER_TEST_ONLY=layers|contrib|unit|e2e|fuzz|browser to run one family,
# MUSTER_FUZZ_SECONDS to change the fuzzing time (default 60 per target).
# The unit and e2e families need a PostgreSQL cluster: one throw-away cluster
# (scripts/pg-cluster.sh) is started before them, named to the tests in
# MUSTER_TEST_PG, and stopped at the end; a MUSTER_TEST_PG already set is used
# instead.
set -u
cd "$(dirname "$0")/.."
only=${MUSTER_TEST_ONLY:-}
passed=0
failed=0
failures=""

run() { # name, command...
    local name=$1
    shift
    echo "== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures="$failures $name"
        echo "!! FAILED: $name"
    fi
}

want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

# The script itself, on a tree made up here: clean, then one include that
# points up (core -> http), then a table left stale.
layers_selftest() {
    local t out rc=0
    t=$(mktemp -d)
    mkdir -p "$t/src/core" "$t/src/http" "$t/docs"
    printf '#include "core/buf.h"\n' >"$t/src/http/server.c"
    printf 'x\n<!-- layers:begin -->\n<!-- layers:end -->\ny\n' >"$t/docs/ARCHITECTURE.md"
    if ! scripts/layers.sh --root "$t" --update docs/ARCHITECTURE.md ||
        ! out=$(scripts/layers.sh --root "$t" --check); then
        echo "layers: a clean tree failed the check: $out"
        rc=1
    fi
    printf '#include "http/server.h"\n' >"$t/src/core/buf.c"
    scripts/layers.sh --root "$t" --update docs/ARCHITECTURE.md || rc=1
    out=$(scripts/layers.sh --root "$t" --check)
    if [ $? != 1 ] || [ "$out" != "src/core/buf.c:1: core includes http/server.h (layer 8 above 0)" ]; then
        echo "layers: an upward include was not reported as such: $out"
        rc=1
    fi
    rm "$t/src/core/buf.c"
    out=$(scripts/layers.sh --root "$t" --check)
    if [ $? != 1 ] || [ "${out#docs/ARCHITECTURE.md: the layers table is not}" = "$out" ]; then
        echo "layers: a stale table was not reported: $out"
        rc=1
    fi
    rm -rf "$t"
    return $rc
}

# scripts/docs.sh on a made-up tree: clean, then each kind of problem once.
docs_selftest() {
    local t out rc=0 bin
    t=$(mktemp -d)
    mkdir -p "$t/src" "$t/docs" "$t/build"
    bin="$t/build/muster"
    printf '#!/bin/sh\necho "environment: MUSTER_DB"\n' >"$bin"
    chmod +x "$bin"
    printf 'const char *v = getenv("MUSTER_DB");\n' >"$t/src/config.c"
    printf '# R\nSee [the API](docs/API.md). `MUSTER_DB`\n' >"$t/README.md"
    printf '# API\n' >"$t/docs/API.md"
    if ! out=$(scripts/docs.sh --check --root "$t"); then
        echo "docs: a clean tree failed the check: $out"
        rc=1
    fi
    check_reports() { # what to add, the line the check must print
        out=$(scripts/docs.sh --check --root "$t")
        if [ $? != 1 ] || ! grep -qF -- "$1" <<<"$out"; then
            echo "docs: not reported: $1 (got: $out)"
            rc=1
        fi
    }
    printf 'See [x](docs/MISSING.md).\n' >>"$t/README.md"
    check_reports "README.md:3: links to a missing file: docs/MISSING.md"
    printf '# R\n`MUSTER_DB`\nRead [the spec](../shared/SPEC.md).\n' >"$t/README.md"
    check_reports "README.md:3: links outside the repository: ../shared/SPEC.md"
    printf '# R\n`MUSTER_DB`\nAs PRODUCT.md says.\n' >"$t/README.md"
    check_reports "README.md:3: mentions PRODUCT.md, which is not in the repository"
    printf '# R\n`MUSTER_DB`\nmake -C /work/main\n' >"$t/README.md"
    check_reports "README.md:3: names a path of one machine:"
    printf '# R\n`MUSTER_DB`\n' >"$t/README.md"
    printf 'const char *w = getenv("MUSTER_NEW");\n' >>"$t/src/config.c"
    check_reports "muster --help: does not mention MUSTER_NEW, which src/ reads"
    rm -rf "$t"
    return $rc
}

if want layers; then
    run "layers (scripts/layers.sh on a made-up tree)" layers_selftest
    run "layers (scripts/layers.sh --check)" scripts/layers.sh --check
    run "layers (scripts/docs.sh on a made-up tree)" docs_selftest
    run "layers (scripts/docs.sh --check: docs in the repository, --help names every variable)" \
        scripts/docs.sh --check
    run "layers (scripts/i18n.sh selftest: the completeness test fails where it should)" \
        scripts/i18n.sh selftest
    run "layers (scripts/i18n.sh check: every catalog translates every string)" scripts/i18n.sh check
fi

if want contrib; then
    run "contrib (systemd units, backup.sh)" scripts/check-contrib.sh build/muster
fi

pg_dir=""
pg_stop() {
    if [ -n "$pg_dir" ]; then
        scripts/pg-cluster.sh stop "$pg_dir"
        pg_dir=""
    fi
}
trap pg_stop EXIT

# Starts the throw-away cluster once and exports MUSTER_TEST_PG; a failure to
# start it is a failure of the run (the PostgreSQL cases would not run).
pg_start() {
    [ -n "${MUSTER_TEST_PG:-}" ] && return 0
    local started
    started=$(date +%s)
    pg_dir=$(mktemp -d /tmp/muster-pg-XXXXXX)
    local conn
    if conn=$(scripts/pg-cluster.sh start "$pg_dir"); then
        export MUSTER_TEST_PG=$conn
        echo "== PostgreSQL cluster in $pg_dir ($(($(date +%s) - started)) s): $conn"
    else
        failed=$((failed + 1))
        failures="$failures pg-cluster"
        echo "!! FAILED: scripts/pg-cluster.sh start $pg_dir"
        pg_dir=""
    fi
}

if want unit || want e2e; then
    pg_start
fi

if want unit; then
    for t in build/unit/test_* build/asan/unit/test_*; do
        [ -x "$t" ] || continue
        run "$t" "$t"
    done
fi

if want e2e; then
    export MUSTER_BIN=${MUSTER_BIN:-$PWD/build/asan/muster}
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    for backend in sqlite postgres; do
        run "e2e on $backend (pytest)" env MUSTER_TEST_BACKEND=$backend \
            /usr/bin/python3 -m pytest -q -p no:cacheprovider -rs tests/e2e
    done
fi

if want fuzz; then
    # 60 s per target (fuzz/fuzz_*.c).
    secs=${MUSTER_FUZZ_SECONDS:-60}
    if make -s fuzz >/dev/null; then
        # The targets by their sources: build/fuzz also holds crash artifacts.
        for src in fuzz/fuzz_*.c; do
            name=$(basename "$src" .c)
            f=build/fuzz/$name
            corpus=fuzz/corpus/$name
            mkdir -p "$corpus"
            dict=()
            [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
            # New inputs go to a scratch dir; the committed corpus is only read.
            scratch=$(mktemp -d)
            run "fuzz $name (${secs}s)" "$f" -max_total_time="$secs" -timeout=10 \
                -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
                -artifact_prefix=build/fuzz/"$name"- "$scratch" "$corpus"
            rm -rf "$scratch"
        done
    else
        run "fuzz build" false
    fi
fi

if want browser; then
    if [ -d tests/browser/node_modules/playwright-core ]; then
        run "browser (playwright)" node --test tests/browser/
    else
        run "browser (playwright-core not installed: make deps-test)" false
    fi
fi

echo
echo "failed:${failures:- none}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
