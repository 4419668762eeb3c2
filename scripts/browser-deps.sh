#!/bin/sh
# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; no test tool
# ever downloads a browser). As root on Debian it is installed; elsewhere the browser tests
# skip, and this says so before the suite starts.
set -eu

[ -x /usr/bin/chromium ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
    exit 0
fi

cat >&2 <<MSG
No Chromium at /usr/bin/chromium: the browser tests will be skipped.
To run them, install Debian's (or Ubuntu's) chromium package, for example:
    sudo apt-get install chromium
MSG
