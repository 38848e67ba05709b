-- A one- or two-character `q` matched the start of a name through two NOCASE indexes (per tenant and for all
-- tenants). Every insert paid for them at a place of its own in each (names do not arrive in order): about a
-- sixth of an insert's work, and two of the seed's index builds. Names are now searched from three characters
-- on, through the trigram index only; a shorter `q` matches run ids by prefix (the unique index on id).
DROP INDEX IF EXISTS ix_runs_tenant_name;
DROP INDEX IF EXISTS ix_runs_name_nocase;
