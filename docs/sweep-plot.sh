#!/bin/sh
# The README's sweep plot: run the WATCH-versus-Lua sweep (buyers 100 to
# 20,000 on a log range, stock 1,000), write its own HTML page, and take a
# screenshot of that page with headless chromium (which loads nothing else:
# the page is self-contained). Needs a release build and `chromium`.
#
#   cargo build --release && docs/sweep-plot.sh
set -eu
cd "$(dirname "$0")/.."
bin=${BLACKFRIDAY:-target/release/blackfriday}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The table as an 80-column terminal shows it; a failed point stops here.
COLUMNS=80 "$bin" sweep --buyers 100..20000:8 --stock 1000 -s watch,lua --seed 2026 -q \
    --html docs/sweep-watch-lua.html --csv docs/sweep-watch-lua.csv >docs/sweep-watch-lua.txt
cat docs/sweep-watch-lua.txt
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --screenshot="$PWD/docs/sweep-watch-lua.png" \
    --window-size=1000,1400 "file://$PWD/docs/sweep-watch-lua.html"
echo "wrote docs/sweep-watch-lua.png"
