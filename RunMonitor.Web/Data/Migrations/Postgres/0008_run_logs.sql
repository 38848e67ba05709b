-- SQLite's 0013: what a step printed, keyed by the run's row number and the line's place in the run (the primary
-- key's index is the read order). ts: Unix milliseconds; level 0 trace .. 4 error; cut: the message's UTF-8 length
-- before it was cut at 16 KB, NULL when whole. Lines go with their run by the foreign key. Integers are BIGINT as
-- everywhere in this schema (copy-store writes bigint, text, double and bytea).
CREATE TABLE run_logs (
    run_pk  BIGINT NOT NULL REFERENCES runs (pk) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    ts      BIGINT NOT NULL,
    level   BIGINT NOT NULL,
    step_id TEXT COLLATE "C",
    message TEXT COLLATE "C" NOT NULL,
    fields  TEXT COLLATE "C",
    cut     BIGINT,
    PRIMARY KEY (run_pk, seq)
);

CREATE TABLE run_log_counts (
    run_pk      BIGINT PRIMARY KEY REFERENCES runs (pk) ON DELETE CASCADE,
    lines       BIGINT NOT NULL,
    dropped     BIGINT NOT NULL,
    first_error BIGINT
);
