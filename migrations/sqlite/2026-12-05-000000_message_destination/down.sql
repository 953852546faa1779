ALTER TABLE messages DROP COLUMN destination_url;
