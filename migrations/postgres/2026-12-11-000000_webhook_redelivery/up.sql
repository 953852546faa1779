-- Issue 14 (console webhooks): a redelivery is a new delivery of the same event to the same
-- endpoint, linked to the delivery it repeats (NULL for a first delivery), so the history of
-- every attempt stays as it was. No REFERENCES clause: SQLite cannot drop a column that is
-- part of a foreign key, and the down migration drops it; the repository checks the link.
ALTER TABLE webhook_deliveries ADD COLUMN redelivery_of BIGINT;
