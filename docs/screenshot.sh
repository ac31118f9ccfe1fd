#!/usr/bin/env bash
# Makes docs/live.png, the README's picture of `blackfriday run --live`: the
# view runs in a detached tmux pane of 120x35 (a projector's size), the pane
# is captured with its colours once the run is over, turned into HTML by
# `aha` and rendered to PNG by headless chromium. Nothing is drawn by hand:
# the picture is what the program put on the screen.
#
# Needs: tmux, aha, chromium (Debian: apt-get install -y tmux aha chromium),
# redis-server on PATH. Usage: docs/screenshot.sh [OUT.png]
set -euo pipefail

cd "$(dirname "$0")/.."
out="${1:-docs/live.png}"
cols=120
rows=35
for tool in tmux aha chromium; do
  command -v "$tool" >/dev/null || {
    echo "docs/screenshot.sh needs $tool (Debian: apt-get install -y tmux aha chromium)" >&2
    exit 2
  }
done

cargo build --quiet
bin="$PWD/target/debug/blackfriday"
work="$(mktemp -d)"
session="bf-shot-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

# The open-model demo of the README's "On stage", shortened: broken goes
# below zero on every seed, watch stops at 0.
tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
  "$bin run --live --rate 2000/s --duration 4s --gap 5ms..10ms --seed 2026; sleep 30"

# The run is over when the footer asks for q; give up after two minutes.
for _ in $(seq 240); do
  if tmux capture-pane -p -t "$session" | grep -q "q shows the summary"; then
    break
  fi
  sleep 0.5
done
tmux capture-pane -p -t "$session" | grep -q "q shows the summary" || {
  echo "the live view never reached its final screen:" >&2
  tmux capture-pane -p -t "$session" >&2
  exit 1
}
tmux capture-pane -e -p -t "$session" >"$work/pane.ansi"
tmux send-keys -t "$session" q

{
  echo '<!doctype html><meta charset="utf-8"><style>'
  echo 'body{margin:0;background:#000}'
  echo "pre{margin:12px;font:16px/1 'DejaVu Sans Mono',monospace;color:#ddd}"
  echo '</style><body><pre>'
  # --no-header leaves out aha's own page and its <pre>: ours sets the font.
  aha --black --no-header <"$work/pane.ansi"
  echo '</pre></body>'
} >"$work/pane.html"

# 16px DejaVu Sans Mono at line-height 1 (borders and bars then join): a
# cell is about 9.7 x 16 pixels.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$(mktemp -d)" \
  --screenshot="$PWD/$out" --window-size=1190,590 "file://$work/pane.html" 2>/dev/null
echo "wrote $out"
