DROP INDEX messages_scope_station;
DROP INDEX messages_scope_as2_message_id;
ALTER TABLE messages DROP COLUMN resent_from;
