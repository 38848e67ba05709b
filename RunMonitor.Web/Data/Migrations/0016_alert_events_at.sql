-- Retention deletes alert events older than its period (a rule that flaps records two an evaluation), found by time.
CREATE INDEX ix_alert_events_at ON alert_events (at);
