-- As SQLite's 0007: a one- or two-character `q` matches run ids by prefix only, names are searched from three
-- characters on through the trigram index, and inserts no longer keep the two lower(name) prefix indexes.
DROP INDEX IF EXISTS ix_runs_name_nocase;
DROP INDEX IF EXISTS ix_runs_tenant_name;
