-- Scale: nothing per request may walk the whole runs table. Triggers keep three derived structures
-- exact whatever path writes a run (ingest, claim, retry, cancel, sweeper, retention, seeding):
--   run_counts   rows per tenant/workflow/status: list totals and queue depth without COUNT(*)
--   run_rollups  per tenant and UTC hour of creation: the stats cards without scanning a week of runs
--   runs_name_fts a trigram index over run names: `q` finds (or fails to find) a name at once

CREATE TABLE run_counts (
    tenant_id     TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    status        TEXT NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, workflow_name, status)
) WITHOUT ROWID;

INSERT INTO run_counts (tenant_id, workflow_name, status, n)
SELECT tenant_id, workflow_name, status, COUNT(*) FROM runs GROUP BY tenant_id, workflow_name, status;

CREATE TRIGGER trg_runs_counts_insert AFTER INSERT ON runs BEGIN
    INSERT INTO run_counts (tenant_id, workflow_name, status, n) VALUES (NEW.tenant_id, NEW.workflow_name, NEW.status, 1)
    ON CONFLICT (tenant_id, workflow_name, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER trg_runs_counts_update AFTER UPDATE OF status, tenant_id, workflow_name ON runs
WHEN OLD.status IS NOT NEW.status OR OLD.tenant_id IS NOT NEW.tenant_id OR OLD.workflow_name IS NOT NEW.workflow_name BEGIN
    UPDATE run_counts SET n = n - 1
    WHERE tenant_id = OLD.tenant_id AND workflow_name = OLD.workflow_name AND status = OLD.status;
    INSERT INTO run_counts (tenant_id, workflow_name, status, n) VALUES (NEW.tenant_id, NEW.workflow_name, NEW.status, 1)
    ON CONFLICT (tenant_id, workflow_name, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER trg_runs_counts_delete AFTER DELETE ON runs BEGIN
    UPDATE run_counts SET n = n - 1
    WHERE tenant_id = OLD.tenant_id AND workflow_name = OLD.workflow_name AND status = OLD.status;
END;

-- `hour` is the first 13 characters of created_at (yyyy-MM-ddTHH), UTC.
CREATE TABLE run_rollups (
    tenant_id      TEXT NOT NULL,
    hour           TEXT NOT NULL,
    status         TEXT NOT NULL,
    dry            INTEGER NOT NULL,
    runs           INTEGER NOT NULL,
    insights       INTEGER NOT NULL,
    cost_usd       REAL NOT NULL,
    tokens_input   INTEGER NOT NULL,
    tokens_output  INTEGER NOT NULL,
    duration_sum   INTEGER NOT NULL,
    duration_count INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, hour, status, dry)
) WITHOUT ROWID;

CREATE INDEX ix_run_rollups_hour ON run_rollups (hour);

INSERT INTO run_rollups (tenant_id, hour, status, dry, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
SELECT tenant_id, substr(created_at, 1, 13), status, dry_run, COUNT(*), COALESCE(SUM(insights_created), 0),
       COALESCE(SUM(cost_usd), 0.0), COALESCE(SUM(tokens_input), 0), COALESCE(SUM(tokens_output), 0),
       COALESCE(SUM(duration_ms), 0), COUNT(duration_ms)
FROM runs GROUP BY tenant_id, substr(created_at, 1, 13), status, dry_run;

CREATE TRIGGER trg_runs_rollups_insert AFTER INSERT ON runs BEGIN
    INSERT INTO run_rollups (tenant_id, hour, status, dry, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
    VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 13), NEW.status, NEW.dry_run, 1, COALESCE(NEW.insights_created, 0),
            COALESCE(NEW.cost_usd, 0.0), COALESCE(NEW.tokens_input, 0), COALESCE(NEW.tokens_output, 0),
            COALESCE(NEW.duration_ms, 0), NEW.duration_ms IS NOT NULL)
    ON CONFLICT (tenant_id, hour, status, dry) DO UPDATE SET
        runs = runs + 1, insights = insights + excluded.insights, cost_usd = cost_usd + excluded.cost_usd,
        tokens_input = tokens_input + excluded.tokens_input, tokens_output = tokens_output + excluded.tokens_output,
        duration_sum = duration_sum + excluded.duration_sum, duration_count = duration_count + excluded.duration_count;
END;

CREATE TRIGGER trg_runs_rollups_update
AFTER UPDATE OF tenant_id, created_at, status, dry_run, insights_created, cost_usd, tokens_input, tokens_output, duration_ms ON runs
WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.created_at IS NOT NEW.created_at OR OLD.status IS NOT NEW.status
  OR OLD.dry_run IS NOT NEW.dry_run OR OLD.insights_created IS NOT NEW.insights_created OR OLD.cost_usd IS NOT NEW.cost_usd
  OR OLD.tokens_input IS NOT NEW.tokens_input OR OLD.tokens_output IS NOT NEW.tokens_output OR OLD.duration_ms IS NOT NEW.duration_ms
BEGIN
    UPDATE run_rollups SET
        runs = runs - 1, insights = insights - COALESCE(OLD.insights_created, 0), cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0),
        tokens_input = tokens_input - COALESCE(OLD.tokens_input, 0), tokens_output = tokens_output - COALESCE(OLD.tokens_output, 0),
        duration_sum = duration_sum - COALESCE(OLD.duration_ms, 0), duration_count = duration_count - (OLD.duration_ms IS NOT NULL)
    WHERE tenant_id = OLD.tenant_id AND hour = substr(OLD.created_at, 1, 13) AND status = OLD.status AND dry = OLD.dry_run;
    INSERT INTO run_rollups (tenant_id, hour, status, dry, runs, insights, cost_usd, tokens_input, tokens_output, duration_sum, duration_count)
    VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 13), NEW.status, NEW.dry_run, 1, COALESCE(NEW.insights_created, 0),
            COALESCE(NEW.cost_usd, 0.0), COALESCE(NEW.tokens_input, 0), COALESCE(NEW.tokens_output, 0),
            COALESCE(NEW.duration_ms, 0), NEW.duration_ms IS NOT NULL)
    ON CONFLICT (tenant_id, hour, status, dry) DO UPDATE SET
        runs = runs + 1, insights = insights + excluded.insights, cost_usd = cost_usd + excluded.cost_usd,
        tokens_input = tokens_input + excluded.tokens_input, tokens_output = tokens_output + excluded.tokens_output,
        duration_sum = duration_sum + excluded.duration_sum, duration_count = duration_count + excluded.duration_count;
END;

CREATE TRIGGER trg_runs_rollups_delete AFTER DELETE ON runs BEGIN
    UPDATE run_rollups SET
        runs = runs - 1, insights = insights - COALESCE(OLD.insights_created, 0), cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0),
        tokens_input = tokens_input - COALESCE(OLD.tokens_input, 0), tokens_output = tokens_output - COALESCE(OLD.tokens_output, 0),
        duration_sum = duration_sum - COALESCE(OLD.duration_ms, 0), duration_count = duration_count - (OLD.duration_ms IS NOT NULL)
    WHERE tenant_id = OLD.tenant_id AND hour = substr(OLD.created_at, 1, 13) AND status = OLD.status AND dry = OLD.dry_run;
END;

-- Names, searched by substring (LIKE '%q%', ASCII case-insensitive) through trigrams.
CREATE VIRTUAL TABLE runs_name_fts USING fts5(name, content = 'runs', content_rowid = 'pk', tokenize = 'trigram case_sensitive 0');

INSERT INTO runs_name_fts (rowid, name) SELECT pk, name FROM runs WHERE name IS NOT NULL;

CREATE TRIGGER trg_runs_fts_insert AFTER INSERT ON runs WHEN NEW.name IS NOT NULL BEGIN
    INSERT INTO runs_name_fts (rowid, name) VALUES (NEW.pk, NEW.name);
END;

CREATE TRIGGER trg_runs_fts_update AFTER UPDATE OF name ON runs WHEN OLD.name IS NOT NEW.name BEGIN
    INSERT INTO runs_name_fts (runs_name_fts, rowid, name) SELECT 'delete', OLD.pk, OLD.name WHERE OLD.name IS NOT NULL;
    INSERT INTO runs_name_fts (rowid, name) SELECT NEW.pk, NEW.name WHERE NEW.name IS NOT NULL;
END;

CREATE TRIGGER trg_runs_fts_delete AFTER DELETE ON runs WHEN OLD.name IS NOT NULL BEGIN
    INSERT INTO runs_name_fts (runs_name_fts, rowid, name) VALUES ('delete', OLD.pk, OLD.name);
END;

-- Admin's layer + status view across tenants, and status sort in one direction.
CREATE INDEX ix_runs_workflow_status_created ON runs (workflow_name, status, created_at);

-- Ascending duration keeps runs without one last, and still reads in index order.
CREATE INDEX ix_runs_duration_nulls_last        ON runs (duration_ms IS NULL, duration_ms);
CREATE INDEX ix_runs_tenant_duration_nulls_last ON runs (tenant_id, duration_ms IS NULL, duration_ms);

-- A one- or two-character `q` matches the start of a name (trigrams need three).
CREATE INDEX ix_runs_name_nocase ON runs (name COLLATE NOCASE);
