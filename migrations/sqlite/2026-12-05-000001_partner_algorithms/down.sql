ALTER TABLE partners DROP COLUMN compression_order;
ALTER TABLE partners DROP COLUMN key_transport;
ALTER TABLE partners DROP COLUMN signature_scheme;
