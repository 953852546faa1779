ALTER TABLE partners DROP COLUMN tls_inbound_client_certificate_id;
ALTER TABLE partners DROP COLUMN tls_client_certificate_id;
ALTER TABLE partners DROP COLUMN tls_pin_sha256;
ALTER TABLE partners DROP COLUMN tls_ca_only;
ALTER TABLE partners DROP COLUMN tls_ca_bundle;
