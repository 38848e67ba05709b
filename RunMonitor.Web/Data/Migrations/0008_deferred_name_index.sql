-- The trigram index over run names took a run into it inside the insert's own transaction. FTS5 writes what a
-- transaction added as a segment of its own at the commit and merges segments as they pile up, so with ingest's
-- small transactions (a few runs each) the name index cost more than the rest of an insert's indexes together:
-- 8 writers reached ~3,400 runs/s with it and ~4,800 without it (1M runs, this 2-core machine).
--
-- Now the index covers the runs up to a mark, runs_name_fts_mark.indexed_through (a runs.pk), and NameIndexer moves
-- the mark forward a few times a second, indexing the runs past it in one transaction. A search reads the index
-- and the runs past the mark (a LIKE over those few names, read by rowid), so a run is found by name the moment
-- its insert commits, as before.
--
-- Invariant: a run with a name and pk <= indexed_through is in runs_name_fts with the name it has; no run past
-- the mark is. The triggers below keep it whatever writes a run. A new run's pk is one past the largest (SQLite's
-- rowid), so it lands past the mark, except when the newest runs were deleted: then it is indexed at once.

CREATE TABLE runs_name_fts_mark (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);

-- Every run in the store is in the index already (0005's trigger put it there).
INSERT INTO runs_name_fts_mark (id, indexed_through) VALUES (1, COALESCE((SELECT MAX(pk) FROM runs), 0));

DROP TRIGGER trg_runs_fts_insert;
DROP TRIGGER trg_runs_fts_update;
DROP TRIGGER trg_runs_fts_delete;

CREATE TRIGGER trg_runs_fts_insert AFTER INSERT ON runs
WHEN NEW.name IS NOT NULL AND NEW.pk <= (SELECT indexed_through FROM runs_name_fts_mark WHERE id = 1) BEGIN
    INSERT INTO runs_name_fts (rowid, name) VALUES (NEW.pk, NEW.name);
END;

CREATE TRIGGER trg_runs_fts_update AFTER UPDATE OF name ON runs
WHEN OLD.name IS NOT NEW.name AND OLD.pk <= (SELECT indexed_through FROM runs_name_fts_mark WHERE id = 1) BEGIN
    INSERT INTO runs_name_fts (runs_name_fts, rowid, name) SELECT 'delete', OLD.pk, OLD.name WHERE OLD.name IS NOT NULL;
    INSERT INTO runs_name_fts (rowid, name) SELECT NEW.pk, NEW.name WHERE NEW.name IS NOT NULL;
END;

CREATE TRIGGER trg_runs_fts_delete AFTER DELETE ON runs
WHEN OLD.name IS NOT NULL AND OLD.pk <= (SELECT indexed_through FROM runs_name_fts_mark WHERE id = 1) BEGIN
    INSERT INTO runs_name_fts (runs_name_fts, rowid, name) VALUES ('delete', OLD.pk, OLD.name);
END;
