#!/usr/bin/env bash
# RunMonitor's benchmark: seed N runs (default 1,000,000), start the app in Release on a free loopback
# port, measure latency, throughput and ingest with the load client, and report resident memory. Then,
# when Debian's postgresql is installed, the same on PostgreSQL: a throwaway cluster in the work folder,
# the seeded store moved there with `copy-store`, the app started on it, measured again; both side by side.
# Usage: bench/run.sh [--runs N] [--seconds S] [--no-postgres] [--durability full|relaxed]   results: bench/results/latest.md
# --durability (or BENCH_DURABILITY) is the app's RunMonitor:Durability: full (the default) syncs every commit.
#        bench/run.sh --postgres-only [--runs N]  the PostgreSQL half alone (the SQLite store is seeded when missing, as
#                                           the copy reads it; kept with its cluster): bench/results/postgres-N.md
#        bench/run.sh --deep [--runs N]     deep pages of the list with the list cache off, idle and while 8 writers
#                                           ingest, on the SQLite store: bench/results/deep-N.md
#        bench/run.sh --prepare [...]       only seed (and load, and copy into PostgreSQL) what the same command
#                                           without --prepare measures, then stop: the long part, run ahead of time
#        bench/run.sh --peers [--runs N]    Hangfire 1.8's dashboard and RunMonitor on one PostgreSQL holding N jobs and
#                                           N runs, the same questions asked of both, interleaved: bench/results/peers-N.md
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
seconds=10
postgres=auto
postgres_only=no
durability="${BENCH_DURABILITY:-full}"
peers=no
deep=no
prepare=no
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --no-postgres) postgres=no; shift ;;
    --postgres-only) postgres_only=yes; shift ;;
    --durability) durability="$2"; shift 2 ;;
    --peers) peers=yes; shift ;;
    --deep) deep=yes; shift ;;
    --prepare) prepare=yes; shift ;;
    *) echo "usage: bench/run.sh [--runs N] [--seconds S] [--no-postgres | --postgres-only] [--durability full|relaxed] [--peers | --deep] [--prepare]" >&2; exit 2 ;;
  esac
done
case "$durability" in full|relaxed) ;; *) echo "--durability accepts full or relaxed" >&2; exit 2 ;; esac
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ "$postgres" = auto ] && { [ -n "$pg_bin" ] && postgres=yes || postgres=no; }
[ "$postgres_only" = yes ] && [ "$postgres" = no ] && { echo "--postgres-only needs Debian's postgresql (and not --no-postgres)" >&2; exit 2; }

work="${BENCH_DIR:-/tmp/runmonitor-bench}"
db="$work/bench-$runs.db"
port="${BENCH_PORT:-5099}"
mkdir -p "$work" bench/results

dotnet build RunMonitor.Web -c Release -v quiet -nologo >/dev/null
dotnet build bench/RunMonitor.Bench -c Release -v quiet -nologo >/dev/null
app="RunMonitor.Web/bin/Release/net10.0/RunMonitor.Web"

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# start_cluster DIR PORT FRESH: a throwaway PostgreSQL in DIR/data on PORT (made anew when FRESH is yes).
# Durability as the SQLite store has it: full flushes the WAL at every commit (synchronous_commit=on); relaxed
# lets an OS crash lose the last moment of commits but never corrupts (synchronous_commit=off, like NORMAL).
sync_commit=$([ "$durability" = relaxed ] && echo off || echo on)
start_cluster() {
  if [ "$3" = yes ]; then
    rm -rf "$1"; mkdir -p "$1"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$1"
    as_postgres "$pg_bin/initdb" -D "$1/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
  fi
  as_postgres "$pg_bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w -o \
    "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_connections=200 -c synchronous_commit=$sync_commit" start >/dev/null
}

if [ "$peers" = yes ]; then
  [ -n "$pg_bin" ] || { echo "--peers needs Debian's postgresql" >&2; exit 1; }
  dotnet build bench/peers -c Release -v quiet -nologo >/dev/null
  peers_app="bench/peers/bin/Release/net10.0/Peers"
  peers_dir="$work/peers-$runs"
  pg_port=$((port + 1)); hf_port=$((port + 2))
  start_cluster "$peers_dir" "$pg_port" "$([ -f "$peers_dir/loaded" ] && echo no || echo yes)"
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; as_postgres "$pg_bin/pg_ctl" -D "$peers_dir/data" -m fast stop >/dev/null 2>&1 || true' EXIT
  pg="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
  if [ ! -f "$peers_dir/loaded" ]; then
    RunMonitor__Database="$pg" "$app" seed --runs "$runs"
    "$peers_app" load --db "$pg" --jobs "$runs"
    touch "$peers_dir/loaded"
  fi
  [ "$prepare" = yes ] && exit 0
  RunMonitor__Database="$pg" ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning \
    "$app" --contentRoot "$PWD/RunMonitor.Web" --urls "http://127.0.0.1:$port" >"$peers_dir/runmonitor.log" 2>&1 & pids+=($!)
  ASPNETCORE_ENVIRONMENT=Production "$peers_app" serve --db "$pg" --urls "http://127.0.0.1:$hf_port" >"$peers_dir/hangfire.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$port/css/site.css" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$hf_port/hangfire" >/dev/null 2>&1 && break
    sleep 0.2
  done
  out="bench/results/peers-$runs.md"
  {
    echo "# Hangfire and RunMonitor on one PostgreSQL"
    echo
    echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr), .NET $(dotnet --version), PostgreSQL $("$pg_bin/postgres" --version | awk '{ print $3 }')"
    echo "- store: $runs RunMonitor runs (seed) and $runs Hangfire jobs (85% succeeded, 10% failed, 5% enqueued over 30 days) in one database"
    echo
  } > "$out"
  "$peers_app" compare --db "$pg" --hangfire "http://127.0.0.1:$hf_port" --runmonitor "http://127.0.0.1:$port" --jobs "$runs" --out "$peers_dir/table.md"
  cat "$peers_dir/table.md" >> "$out"
  echo; cat "$out"
  exit 0
fi

if [ ! -f "$db.done" ]; then
  rm -f "$db" "$db-wal" "$db-shm"
  start=$(date +%s.%N)
  RunMonitor__Database="$db" "$app" seed --runs "$runs"
  end=$(date +%s.%N)
  seed_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  echo "$seed_seconds" > "$db.done"
fi
# The seed leaves gigabytes of dirty pages for the kernel to write out; measured on top of that writeback, every
# fsync (a checkpoint's) waits behind it. Measure a settled store.
sync
seed_seconds=$(cat "$db.done")

# start_app <RunMonitor:Database>: the app in Release on $port, waited for; its pid in $pid.
start_app() {
  RunMonitor__Database="$1" RunMonitor__Durability="$durability" ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning \
    "$app" --contentRoot "$PWD/RunMonitor.Web" --urls "http://127.0.0.1:$port" >"$work/app.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$port/css/site.css" >/dev/null 2>&1 && return 0
    kill -0 $pid 2>/dev/null || { echo "the app stopped; see $work/app.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "the app did not answer; see $work/app.log" >&2; exit 1
}
stop_app() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; }
pid=""
pg_data="$work/pg-$runs"
cleanup() {
  [ -n "$pid" ] && stop_app
  [ -d "$pg_data/data" ] && as_postgres "$pg_bin/pg_ctl" -D "$pg_data/data" -m fast stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

bench_client() { dotnet bench/RunMonitor.Bench/bin/Release/net10.0/RunMonitor.Bench.dll --url "http://127.0.0.1:$port" --seconds "$seconds" "$@"; }
rss() { echo "$(( $(awk '/VmRSS/ { print $2 }' "/proc/$pid/status") / 1024 )) MB (peak $(( $(awk '/VmHWM/ { print $2 }' "/proc/$pid/status") / 1024 )) MB)"; }

# postgres_store: the throwaway cluster started on $pg_port, the seeded store copied into it once; its connection in $pg.
postgres_store() {
  pg_port=$((port + 1))
  start_cluster "$pg_data" "$pg_port" "$([ -f "$pg_data/copied" ] && echo no || echo yes)"
  pg="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
  if [ ! -f "$pg_data/copied" ]; then
    start=$(date +%s.%N)
    "$app" copy-store --from "$db" --to "$pg"
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }' > "$pg_data/copied"
    sync
  fi
  copy_seconds=$(cat "$pg_data/copied")
}

if [ "$prepare" = yes ]; then
  [ "$postgres" = yes ] && [ "$deep" = no ] && postgres_store
  exit 0
fi

if [ "$deep" = yes ]; then
  RunMonitor__Lists__Cache=false start_app "$db"
  out="bench/results/deep-$runs.md"
  {
    echo "# Deep pages of the run list, without the list cache"
    echo
    echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr), .NET $(dotnet --version)"
    echo "- store: SQLite, $runs runs; the app started with RunMonitor__Lists__Cache=false, so every answer is read from the store"
    echo "- each target: 500 requests at one client idle, then 500 while 8 writers create runs (POST /api/runs)"
    echo
  } > "$out"
  dotnet bench/RunMonitor.Bench/bin/Release/net10.0/RunMonitor.Bench.dll --deep --url "http://127.0.0.1:$port" | tee -a "$out"
  exit 0
fi

out="bench/results/latest.md"
if [ "$postgres_only" = yes ]; then
  out="bench/results/postgres-$runs.md"
  {
    echo "# RunMonitor benchmark, PostgreSQL alone"
    echo
    echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr), .NET $(dotnet --version)"
    echo "- store: $runs runs seeded into SQLite, copied once; the cluster is kept, so ingest of earlier runs is still in it"
    echo "- durability: $durability (RunMonitor:Durability)"
  } > "$out"
else
start_app "$db"
bench_client --out "$work/table.md" --tsv "$work/sqlite.tsv"
sqlite_rss=$(rss)
stop_app

{
  echo "# RunMonitor benchmark"
  echo
  echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr), .NET $(dotnet --version)"
  echo "- store: SQLite, $runs runs seeded in ${seed_seconds}s ($(du -h "$db" | cut -f1))"
  echo "- durability: $durability (RunMonitor:Durability)"
  echo
  echo "## SQLite"
  echo
  cat "$work/table.md"
  echo
  echo "Resident memory after the run: $sqlite_rss."
} > "$out"
fi

if [ "$postgres" = yes ]; then
  postgres_store
  start_app "$pg"
  pg_runs_before=$(as_postgres "$pg_bin/psql" -h "$pg_data" -p "$pg_port" -U postgres -d postgres -Atc "SELECT count(*) FROM runs" || echo "an unknown number of")
  bench_client --out "$work/pg-table.md" --tsv "$work/postgres.tsv"
  pg_rss=$(rss)
  stop_app
  {
    echo
    echo "## PostgreSQL $("$pg_bin/postgres" --version | awk '{ print $3 }')"
    echo
    echo "The same $runs runs, moved from the SQLite store with \`copy-store\` in ${copy_seconds}s; the server on the same"
    echo "machine (shared_buffers=1GB, synchronous_commit=$sync_commit), so client, app and database share its cores."
    echo "The store held $pg_runs_before runs when this run started (ingest adds to it)."
    echo
    cat "$work/pg-table.md"
    echo
    echo "Resident memory of the app after the run: $pg_rss."
  } >> "$out"
  if [ "$postgres_only" = no ]; then
    {
      echo
      echo "## Side by side"
      echo
      dotnet bench/RunMonitor.Bench/bin/Release/net10.0/RunMonitor.Bench.dll --combine SQLite="$work/sqlite.tsv" PostgreSQL="$work/postgres.tsv"
    } >> "$out"
  fi
fi
echo
cat "$out"
