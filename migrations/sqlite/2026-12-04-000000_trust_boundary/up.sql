-- What we demand of a partner's inbound messages and receipts (secure by default).
ALTER TABLE partners ADD COLUMN require_signed BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE partners ADD COLUMN require_encrypted BOOLEAN NOT NULL DEFAULT 1;
-- A station's AS2 ID routes inbound traffic: unique in the installation per mode, so no
-- other tenant can register it and receive (or break) its traffic.
DROP INDEX stations_as2_id;
CREATE UNIQUE INDEX stations_as2_id ON stations (mode, as2_id) WHERE deleted_at IS NULL;
