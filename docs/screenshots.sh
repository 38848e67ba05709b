#!/usr/bin/env bash
# Regenerates the README's screenshots in docs/: the app with --demo on a throwaway store, photographed by
# Debian's Chromium (headless) in light and dark, at desk and phone widths. Usage: docs/screenshots.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
source docs/demo-app.sh "${1:-5181}"

# shot NAME PATH WIDTH HEIGHT [dark]
shot() {
  local scheme=()
  [ "${5:-}" = dark ] && scheme=(--force-dark-mode)
  chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --hide-scrollbars --force-device-scale-factor=1 "${scheme[@]}" --virtual-time-budget=2000 \
    --window-size="$3,$4" --screenshot="docs/$1.png" "$base$2" >/dev/null 2>&1
  echo "docs/$1.png  $2 (${3}x$4${5:+, $5})"
}

shot runs-page       /ui/runs          1600 1000
shot runs-page-dark  /ui/runs          1600 1000 dark
shot run-page        "/runs/$failed"   1440 1700
shot run-page-dark   "/runs/$failed"   1440 1700 dark
shot admin           /admin            1440 1400
shot admin-dark      /admin            1440 1400 dark
shot phone-runs      /ui/runs          390  844
shot phone-run-page  "/runs/$failed"   390  1600 dark
