#!/usr/bin/env bash
# Installs what muster needs and is missing, from Debian's packages (and npm for
# the browser tests). Fast when everything is there: one dpkg-query.
#   scripts/deps.sh build   compiler and C libraries
#   scripts/deps.sh test    + test tools (cmocka, SMTP servers, pytest, clang, chromium)
#   scripts/deps.sh bench   + benchmark peers (wrk, nginx, postfix)
#   scripts/deps.sh all     everything
set -eu
cd "$(dirname "$0")/.."
what=${1:-all}
build="gcc make pkg-config libmicrohttpd-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libsodium-dev nettle-dev libjansson-dev libssl-dev tzdata sqlite3 ca-certificates libgmime-3.0-dev"
test="systemd libcmocka-dev gettext postgresql python3-aiosmtpd python3-dkim python3-pytest postfix clang libclang-rt-14-dev chromium nginx-light openssl python3-icalendar python3-flufl.bounce"
bench="wrk nginx-light postfix"
case "$what" in
build) want="$build" ;;
test) want="$build $test" ;;
bench) want="$build $test $bench" ;;
all) want="$build $test $bench" ;;
*) echo "deps.sh: unknown set '$what' (build|test|bench|all)" >&2; exit 2 ;;
esac
missing=""
# Node.js may come from elsewhere than Debian (with its own npm): only ask
# Debian for it when the commands are missing.
case "$what" in
test | bench | all)
    command -v node >/dev/null || missing="$missing nodejs"
    command -v npm >/dev/null || missing="$missing npm"
    ;;
esac
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    # postfix asks debconf questions; we only use its smtp-sink/smtp-source tools.
    echo "postfix postfix/main_mailer_type select No configuration" | $sudo_cmd debconf-set-selections
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "$what" = test ] || [ "$what" = all ] || [ "$what" = bench ]; then
    if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
        echo "deps: installing playwright-core and axe-core (npm)"
        (cd tests/browser && npm install --no-audit --no-fund --silent >/dev/null)
    fi
fi
