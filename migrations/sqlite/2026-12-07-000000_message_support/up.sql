-- Issue 15 (support): a message sent again as a new message names the one it copies, and
-- the message search looks messages up by AS2 Message-ID and by station without a scan
-- (filename and subject are substring matches, which no B-tree index serves).
ALTER TABLE messages ADD COLUMN resent_from BIGINT;
CREATE INDEX messages_scope_as2_message_id ON messages (tenant_id, mode, as2_message_id);
CREATE INDEX messages_scope_station ON messages (tenant_id, mode, station_id, created_at);
