-- What a step printed (issue 16). A line is keyed by its run's row number and its place in the run: (run_pk, seq)
-- is the table's own order (WITHOUT ROWID), so a run's lines are one range read and no tenant or run id text is
-- repeated in each of ten million rows. ts: Unix milliseconds; level: 0 trace, 1 debug, 2 info, 3 warn, 4 error;
-- cut: the message's length in UTF-8 bytes before it was cut at 16 KB (NULL when whole). The lines go with their
-- run (retention, a delete) by the foreign key.
CREATE TABLE run_logs (
    run_pk  INTEGER NOT NULL REFERENCES runs (pk) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    ts      INTEGER NOT NULL,
    level   INTEGER NOT NULL,
    step_id TEXT,
    message TEXT NOT NULL,
    fields  TEXT,
    cut     INTEGER,
    PRIMARY KEY (run_pk, seq)
) WITHOUT ROWID;

-- Per run: lines kept (the last seq), lines dropped past RunMonitor:Logs:MaxLinesPerRun, the first error line's seq.
CREATE TABLE run_log_counts (
    run_pk      INTEGER PRIMARY KEY REFERENCES runs (pk) ON DELETE CASCADE,
    lines       INTEGER NOT NULL,
    dropped     INTEGER NOT NULL,
    first_error INTEGER
);
