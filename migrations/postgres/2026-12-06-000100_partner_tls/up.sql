-- The TLS of our requests to a partner (issue 12): a private CA bundle (PEM) trusted beside
-- the public roots or, with tls_ca_only, instead of them; a pinned server key (SPKI SHA-256,
-- stored as sha256/<base64>); our client certificate (a key pair) for mutual TLS.
ALTER TABLE partners ADD COLUMN tls_ca_bundle TEXT;
ALTER TABLE partners ADD COLUMN tls_ca_only BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE partners ADD COLUMN tls_pin_sha256 TEXT;
ALTER TABLE partners ADD COLUMN tls_client_certificate_id BIGINT REFERENCES certificates (id);
-- The TLS client certificate the partner must present to our AS2 listener (mutual TLS).
ALTER TABLE partners ADD COLUMN tls_inbound_client_certificate_id BIGINT REFERENCES certificates (id);
