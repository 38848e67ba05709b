#!/usr/bin/env bash
# Lighthouse 12.2.3 (npm) in Debian's Chromium, desktop and mobile, on /ui/runs and a failed run's page of the
# demo app; prints each category's score. Run by hand (not in CI): docs/lighthouse.sh [port]. Needs network access
# to the npm registry once, to install Lighthouse into /tmp/lighthouse-12.2.3.
set -euo pipefail
cd "$(dirname "$0")/.."
lh=/tmp/lighthouse-12.2.3
[ -x "$lh/node_modules/.bin/lighthouse" ] || npm install --prefix "$lh" --no-audit --no-fund --loglevel=error lighthouse@12.2.3 >/dev/null
source docs/demo-app.sh "${1:-5182}"

export CHROME_PATH=/usr/bin/chromium
for path in /ui/runs "/runs/$failed"; do
  for form in desktop mobile; do
    preset=(); [ "$form" = desktop ] && preset=(--preset=desktop)
    "$lh/node_modules/.bin/lighthouse" "$base$path" "${preset[@]}" --quiet --output=json --output-path="$work/lh.json" \
      --only-categories=performance,accessibility,best-practices \
      --chrome-flags="--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update --disable-sync"
    node -e 'const r = require(process.argv[1]); const c = r.categories;
      console.log([process.argv[2], process.argv[3], ...["performance", "accessibility", "best-practices"].map(k => k + " " + Math.round(c[k].score * 100))].join("  "))' \
      "$work/lh.json" "$path" "$form"
  done
done
