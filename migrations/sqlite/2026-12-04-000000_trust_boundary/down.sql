DROP INDEX stations_as2_id;
CREATE UNIQUE INDEX stations_as2_id ON stations (tenant_id, mode, as2_id) WHERE deleted_at IS NULL;
ALTER TABLE partners DROP COLUMN require_encrypted;
ALTER TABLE partners DROP COLUMN require_signed;
