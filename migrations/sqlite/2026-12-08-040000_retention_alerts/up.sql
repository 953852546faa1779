-- Issue 15 (retention): how long a tenant keeps payloads and raw MDNs, and message rows with
-- their events (NULL: the plan's default); when a message's payload was purged; and what
-- each purge did (one row per batch, the tenant's record of deletions).
ALTER TABLE tenants ADD COLUMN retention_payload_days INTEGER;
ALTER TABLE tenants ADD COLUMN retention_record_days INTEGER;
ALTER TABLE messages ADD COLUMN payload_purged_at TIMESTAMP;
CREATE TABLE purges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    kind TEXT NOT NULL,
    items BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    older_than TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX purges_scope ON purges (tenant_id, mode, created_at);
