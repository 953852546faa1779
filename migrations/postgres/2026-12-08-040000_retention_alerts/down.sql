DROP INDEX purges_scope;
DROP TABLE purges;
ALTER TABLE messages DROP COLUMN payload_purged_at;
ALTER TABLE tenants DROP COLUMN retention_record_days;
ALTER TABLE tenants DROP COLUMN retention_payload_days;
