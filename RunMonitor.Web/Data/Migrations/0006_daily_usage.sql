-- The admin view's month-long tables (top failing workflows; tokens and cost by tenant and model) read a
-- daily rollup the triggers keep, not a month of runs. `model_name` is '' for runs without one.
CREATE TABLE run_daily (
    tenant_id       TEXT NOT NULL,
    day             TEXT NOT NULL,
    workflow_name   TEXT NOT NULL,
    model_name      TEXT NOT NULL,
    status          TEXT NOT NULL,
    runs            INTEGER NOT NULL,
    usage_runs      INTEGER NOT NULL,
    estimated_runs  INTEGER NOT NULL,
    cost_usd        REAL NOT NULL,
    tokens_input    INTEGER NOT NULL,
    tokens_output   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, workflow_name, model_name, status)
) WITHOUT ROWID;

CREATE INDEX ix_run_daily_day ON run_daily (day);

INSERT INTO run_daily (tenant_id, day, workflow_name, model_name, status, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
SELECT tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status, COUNT(*),
       SUM(tokens_input IS NOT NULL OR tokens_output IS NOT NULL OR cost_usd IS NOT NULL), SUM(cost_estimated),
       TOTAL(cost_usd), COALESCE(SUM(tokens_input), 0), COALESCE(SUM(tokens_output), 0)
FROM runs GROUP BY tenant_id, substr(created_at, 1, 10), workflow_name, COALESCE(model_name, ''), status;

CREATE TRIGGER trg_runs_daily_insert AFTER INSERT ON runs BEGIN
    INSERT INTO run_daily (tenant_id, day, workflow_name, model_name, status, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
    VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10), NEW.workflow_name, COALESCE(NEW.model_name, ''), NEW.status, 1,
            NEW.tokens_input IS NOT NULL OR NEW.tokens_output IS NOT NULL OR NEW.cost_usd IS NOT NULL, NEW.cost_estimated,
            COALESCE(NEW.cost_usd, 0.0), COALESCE(NEW.tokens_input, 0), COALESCE(NEW.tokens_output, 0))
    ON CONFLICT (tenant_id, day, workflow_name, model_name, status) DO UPDATE SET
        runs = runs + 1, usage_runs = usage_runs + excluded.usage_runs, estimated_runs = estimated_runs + excluded.estimated_runs,
        cost_usd = cost_usd + excluded.cost_usd, tokens_input = tokens_input + excluded.tokens_input,
        tokens_output = tokens_output + excluded.tokens_output;
END;

CREATE TRIGGER trg_runs_daily_update
AFTER UPDATE OF tenant_id, created_at, workflow_name, model_name, status, cost_usd, cost_estimated, tokens_input, tokens_output ON runs
WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.created_at IS NOT NEW.created_at OR OLD.workflow_name IS NOT NEW.workflow_name
  OR OLD.model_name IS NOT NEW.model_name OR OLD.status IS NOT NEW.status OR OLD.cost_usd IS NOT NEW.cost_usd
  OR OLD.cost_estimated IS NOT NEW.cost_estimated OR OLD.tokens_input IS NOT NEW.tokens_input OR OLD.tokens_output IS NOT NEW.tokens_output
BEGIN
    UPDATE run_daily SET
        runs = runs - 1,
        usage_runs = usage_runs - (OLD.tokens_input IS NOT NULL OR OLD.tokens_output IS NOT NULL OR OLD.cost_usd IS NOT NULL),
        estimated_runs = estimated_runs - OLD.cost_estimated, cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0),
        tokens_input = tokens_input - COALESCE(OLD.tokens_input, 0), tokens_output = tokens_output - COALESCE(OLD.tokens_output, 0)
    WHERE tenant_id = OLD.tenant_id AND day = substr(OLD.created_at, 1, 10) AND workflow_name = OLD.workflow_name
      AND model_name = COALESCE(OLD.model_name, '') AND status = OLD.status;
    INSERT INTO run_daily (tenant_id, day, workflow_name, model_name, status, runs, usage_runs, estimated_runs, cost_usd, tokens_input, tokens_output)
    VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10), NEW.workflow_name, COALESCE(NEW.model_name, ''), NEW.status, 1,
            NEW.tokens_input IS NOT NULL OR NEW.tokens_output IS NOT NULL OR NEW.cost_usd IS NOT NULL, NEW.cost_estimated,
            COALESCE(NEW.cost_usd, 0.0), COALESCE(NEW.tokens_input, 0), COALESCE(NEW.tokens_output, 0))
    ON CONFLICT (tenant_id, day, workflow_name, model_name, status) DO UPDATE SET
        runs = runs + 1, usage_runs = usage_runs + excluded.usage_runs, estimated_runs = estimated_runs + excluded.estimated_runs,
        cost_usd = cost_usd + excluded.cost_usd, tokens_input = tokens_input + excluded.tokens_input,
        tokens_output = tokens_output + excluded.tokens_output;
END;

CREATE TRIGGER trg_runs_daily_delete AFTER DELETE ON runs BEGIN
    UPDATE run_daily SET
        runs = runs - 1,
        usage_runs = usage_runs - (OLD.tokens_input IS NOT NULL OR OLD.tokens_output IS NOT NULL OR OLD.cost_usd IS NOT NULL),
        estimated_runs = estimated_runs - OLD.cost_estimated, cost_usd = cost_usd - COALESCE(OLD.cost_usd, 0.0),
        tokens_input = tokens_input - COALESCE(OLD.tokens_input, 0), tokens_output = tokens_output - COALESCE(OLD.tokens_output, 0)
    WHERE tenant_id = OLD.tenant_id AND day = substr(OLD.created_at, 1, 10) AND workflow_name = OLD.workflow_name
      AND model_name = COALESCE(OLD.model_name, '') AND status = OLD.status;
END;
