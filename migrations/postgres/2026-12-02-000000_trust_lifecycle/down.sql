DROP TABLE certificate_expiry_notices;
DROP TABLE cem_requests;
DROP TABLE timestamp_authorities;
DROP INDEX trust_events_unstamped;
DROP INDEX trust_records_due;
ALTER TABLE trust_records DROP COLUMN version;
ALTER TABLE tenants DROP COLUMN max_message_bytes;
ALTER TABLE mdns DROP COLUMN raw;
