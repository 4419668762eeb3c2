#!/bin/sh
# The system libraries WeasyPrint needs to render PDFs: Pango (text layout) and HarfBuzz's
# subset library (without it WeasyPrint falls back to a much slower font-subsetting path).
# As root on Debian they are installed; elsewhere they are named and the command fails, so
# nobody runs the product with a silently slow or broken PDF path.
set -eu

missing=""
need() {  # need SONAME DEBIAN_PACKAGE
    if ! ldconfig -p 2>/dev/null | grep -q "$1"; then
        missing="$missing $2"
    fi
}
need libpango-1.0.so.0 libpango-1.0-0
need libpangoft2-1.0.so.0 libpangoft2-1.0-0
need libharfbuzz-subset.so.0 libharfbuzz-subset0
need libfontconfig.so.1 libfontconfig1

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system libraries for WeasyPrint:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 - the package list is meant to split
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
fi

cat >&2 <<MSG
reconnect_clinic renders PDFs with WeasyPrint, which needs these system libraries:
   $missing
Install them with your system's package manager, for example on Debian or Ubuntu:
    sudo apt-get install$missing
(on Fedora: pango harfbuzz fontconfig; on macOS with Homebrew: brew install pango harfbuzz)
then run the make command again.
MSG
exit 1
