#!/usr/bin/env bash
# RunMonitor's benchmark: seed N runs (default 1,000,000), start the app in Release on a free loopback
# port, measure latency, throughput and ingest with the load client, and report resident memory.
# Usage: bench/run.sh [--runs N] [--seconds S]        results: bench/results/latest.md
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    *) echo "usage: bench/run.sh [--runs N] [--seconds S]" >&2; exit 2 ;;
  esac
done

work="${BENCH_DIR:-/tmp/runmonitor-bench}"
db="$work/bench-$runs.db"
port="${BENCH_PORT:-5099}"
mkdir -p "$work" bench/results

dotnet build RunMonitor.Web -c Release -v quiet -nologo >/dev/null
dotnet build bench/RunMonitor.Bench -c Release -v quiet -nologo >/dev/null
app="RunMonitor.Web/bin/Release/net10.0/RunMonitor.Web"

if [ ! -f "$db.done" ]; then
  rm -f "$db" "$db-wal" "$db-shm"
  start=$(date +%s.%N)
  RunMonitor__Database="$db" "$app" seed --runs "$runs"
  end=$(date +%s.%N)
  seed_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  echo "$seed_seconds" > "$db.done"
fi
seed_seconds=$(cat "$db.done")

RunMonitor__Database="$db" ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning \
  "$app" --contentRoot "$PWD/RunMonitor.Web" --urls "http://127.0.0.1:$port" >"$work/app.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/css/site.css" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { echo "the app stopped; see $work/app.log" >&2; exit 1; }
  sleep 0.2
done

out="bench/results/latest.md"
{
  echo "# RunMonitor benchmark"
  echo
  echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr), .NET $(dotnet --version)"
  echo "- store: SQLite, $runs runs seeded in ${seed_seconds}s ($(du -h "$db" | cut -f1))"
  echo
} > "$out"
dotnet bench/RunMonitor.Bench/bin/Release/net10.0/RunMonitor.Bench.dll --url "http://127.0.0.1:$port" --seconds "$seconds" --out "$work/table.md"
cat "$work/table.md" >> "$out"
rss_kb=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
hwm_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
{
  echo
  echo "Resident memory after the run: $((rss_kb / 1024)) MB (peak $((hwm_kb / 1024)) MB)."
} >> "$out"
echo
cat "$out"
