ALTER TABLE messages DROP COLUMN payload_inline;
