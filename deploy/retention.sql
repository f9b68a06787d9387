-- Tracker store retention: deletes every conversation whose last event is older than
-- :days days (all its events, every session). Rasa never deletes anything by itself.
-- Run it daily, e.g. from cron or a Kubernetes CronJob:
--   psql "$DATABASE_URL" -v days=90 -f deploy/retention.sql
-- An index on timestamp is not needed: the per-sender maximum uses the sender_id index.
BEGIN;
CREATE TEMP TABLE expired ON COMMIT DROP AS
  SELECT sender_id FROM events
  GROUP BY sender_id
  HAVING max(timestamp) < extract(epoch FROM now()) - :days * 86400;
DELETE FROM events WHERE sender_id IN (SELECT sender_id FROM expired);
SELECT count(*) AS conversations_deleted FROM expired;
COMMIT;
