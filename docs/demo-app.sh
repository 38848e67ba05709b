# Sourced by docs/screenshots.sh and docs/lighthouse.sh: starts the app with --demo on a throwaway store at
# $base (port $1, default 5181), stopped and removed when the calling script exits; $failed is a failed run's id.
port=${1:-5181}
base="http://127.0.0.1:$port"
work=$(mktemp -d /tmp/runmonitor-demo.XXXXXX)
dotnet build RunMonitor.Web -c Release -nologo -v q >/dev/null
RunMonitor__Database="$work/runmonitor.db" dotnet run --no-build -c Release --project RunMonitor.Web -- --demo --urls "$base" >"$work/app.log" 2>&1 &
app=$!
trap 'kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 240); do curl -fsS "$base/ui/runs/stats" >/dev/null 2>&1 && break; sleep 0.5; done
# The newest failed run: its page opens on the failing step.
failed=$(curl -fsS "$base/api/runs?status=failed&limit=1" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
