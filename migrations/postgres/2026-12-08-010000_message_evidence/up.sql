-- Issue 15 (evidence of delivery): the evidence bundle of a message, made once when it is
-- first asked for and kept, so that every later download is the same evidence under the
-- same RFC 3161 token. The MDN itself stays where it is (mdns.raw or the payload store);
-- manifest.json names its SHA-256.
CREATE TABLE message_evidence (
    message_id BIGINT PRIMARY KEY REFERENCES messages (id),
    tenant_id BIGINT NOT NULL,
    mode TEXT NOT NULL,
    manifest BYTEA NOT NULL,
    timeline BYTEA NOT NULL,
    signer_chain BYTEA NOT NULL,
    tsa_chain BYTEA NOT NULL,
    timestamp_response BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
