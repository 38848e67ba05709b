-- pgbench script: one run created per transaction, as the ingest's INSERT does, for the counters' contention alone
-- (no app, no HTTP). A store migrated to the version to measure, then:
--   pgbench -n -h 127.0.0.1 -p PORT -U postgres -c 8 -j 2 -T 10 -f bench/pg-create.sql DATABASE
\set r random(1, 1000000000)
BEGIN;
INSERT INTO runs (id, tenant_id, workflow_name, name, status, created_at, updated_at, steps_total) VALUES ('b' || :client_id || '-' || :r || '-' || txid_current(), 'default', 'bench-ingest', 'Nightly reflection ' || :r, 'running', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 2);
COMMIT;
