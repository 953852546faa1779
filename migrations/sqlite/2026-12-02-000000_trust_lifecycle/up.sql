-- The trust lifecycle: a version on trust records (the scheduler's transitions are
-- compare-and-swap, so two gateways never both activate), the built-in time-stamping
-- authority's identity, Certificate Exchange Messaging requests, and the expiry notices
-- already sent (each threshold once per certificate), a message size limit per tenant, and
-- our MDNs inline.
ALTER TABLE trust_records ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
-- The largest AS2 message a tenant takes or sends (NULL: the platform's AS2_MAX_MESSAGE_BYTES).
ALTER TABLE tenants ADD COLUMN max_message_bytes BIGINT;
-- Our own MDN as sent, kept in its row (a duplicate gets it again; an async one is posted
-- from it) instead of a file per message.
ALTER TABLE mdns ADD COLUMN raw BLOB;
CREATE INDEX trust_records_due ON trust_records (state, activate_at, retire_at);
CREATE INDEX trust_events_unstamped ON trust_events (id) WHERE timestamp_token IS NULL;

CREATE TABLE timestamp_authorities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    certificate_der BLOB NOT NULL,
    private_key_secret TEXT NOT NULL,
    next_serial BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE cem_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    direction TEXT NOT NULL,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    station_id BIGINT NOT NULL REFERENCES stations (id),
    request_id TEXT NOT NULL,
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    usages TEXT NOT NULL,
    issuer_name TEXT NOT NULL,
    serial_decimal TEXT NOT NULL,
    respond_by TIMESTAMP NOT NULL,
    response_url TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    message_id BIGINT REFERENCES messages (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (partner_id, direction, request_id, serial_decimal)
);
CREATE INDEX cem_requests_scope ON cem_requests (tenant_id, mode, created_at);

CREATE TABLE certificate_expiry_notices (
    certificate_id BIGINT NOT NULL REFERENCES certificates (id),
    threshold_days INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (certificate_id, threshold_days)
);
