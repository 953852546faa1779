-- The initial schema. migrations/postgres has the same shape (identity ids, BYTEA).
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    plan TEXT NOT NULL,
    rate_limit_per_minute INTEGER,
    rate_limit_burst INTEGER,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX tenants_account ON tenants (account_id);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    tenant_id BIGINT REFERENCES tenants (id),
    kind TEXT NOT NULL,
    mode TEXT NOT NULL,
    name TEXT NOT NULL,
    display_prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

CREATE TABLE certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    fingerprint_sha256 TEXT NOT NULL,
    not_before TIMESTAMP NOT NULL,
    not_after TIMESTAMP NOT NULL,
    key_usage TEXT NOT NULL,
    certificate_der BLOB NOT NULL,
    chain_der BLOB,
    private_key_secret TEXT,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX certificates_scope ON certificates (tenant_id, mode, created_at);

CREATE TABLE stations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    name TEXT NOT NULL,
    as2_id TEXT NOT NULL,
    certificate_id BIGINT REFERENCES certificates (id),
    encryption_certificate_id BIGINT REFERENCES certificates (id),
    mdn_url TEXT,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX stations_as2_id ON stations (tenant_id, mode, as2_id) WHERE deleted_at IS NULL;
CREATE INDEX stations_by_as2_id ON stations (as2_id);

CREATE TABLE partners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    station_id BIGINT NOT NULL REFERENCES stations (id),
    name TEXT NOT NULL,
    as2_id TEXT NOT NULL,
    url TEXT NOT NULL,
    email TEXT,
    sign BOOLEAN NOT NULL,
    sign_algorithm TEXT NOT NULL,
    encrypt BOOLEAN NOT NULL,
    encrypt_algorithm TEXT NOT NULL,
    compress BOOLEAN NOT NULL,
    mdn_mode TEXT NOT NULL,
    mdn_signed BOOLEAN NOT NULL,
    mdn_url TEXT,
    certificate_id BIGINT REFERENCES certificates (id),
    encryption_certificate_id BIGINT REFERENCES certificates (id),
    auth BOOLEAN NOT NULL,
    auth_user TEXT,
    auth_password_secret TEXT,
    firewall BOOLEAN NOT NULL,
    allowed_networks TEXT NOT NULL,
    retry_attempts INTEGER NOT NULL,
    retry_interval_secs INTEGER NOT NULL,
    timeout_secs INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX partners_as2_id ON partners (station_id, as2_id) WHERE deleted_at IS NULL;
CREATE INDEX partners_scope ON partners (tenant_id, mode, created_at);

CREATE TABLE trust_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    current_certificate_id BIGINT REFERENCES certificates (id),
    next_certificate_id BIGINT REFERENCES certificates (id),
    previous_certificate_id BIGINT REFERENCES certificates (id),
    activate_at TIMESTAMP,
    retire_at TIMESTAMP,
    state TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (subject, subject_id)
);

CREATE TABLE trust_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    actor TEXT NOT NULL,
    current_fingerprint TEXT,
    next_fingerprint TEXT,
    details TEXT NOT NULL,
    hash TEXT NOT NULL,
    prev_hash TEXT,
    timestamp_token BLOB,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX trust_events_subject ON trust_events (subject, subject_id, id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    direction TEXT NOT NULL,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    station_id BIGINT NOT NULL REFERENCES stations (id),
    as2_message_id TEXT NOT NULL,
    subject TEXT,
    filename TEXT,
    content_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    payload_key TEXT,
    mdn_mode TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error_type TEXT,
    error_message TEXT,
    mic TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX messages_as2_message_id ON messages (partner_id, direction, as2_message_id);
CREATE INDEX messages_scope ON messages (tenant_id, mode, created_at);
CREATE INDEX messages_status ON messages (tenant_id, mode, status);

CREATE TABLE mdns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id BIGINT NOT NULL UNIQUE REFERENCES messages (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    disposition TEXT NOT NULL,
    positive BOOLEAN NOT NULL,
    mic TEXT,
    mic_matched BOOLEAN,
    signed BOOLEAN NOT NULL,
    verified BOOLEAN NOT NULL,
    original_message_id TEXT,
    raw_key TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE message_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX message_events_message ON message_events (message_id, id);

CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX webhook_endpoints_scope ON webhook_endpoints (tenant_id, mode, created_at);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    event_type TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX events_scope ON events (tenant_id, mode, created_at);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    event_id BIGINT NOT NULL REFERENCES events (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    response_status INTEGER,
    error TEXT,
    next_attempt_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id),
    attempt INTEGER NOT NULL,
    response_status INTEGER,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);

CREATE TABLE idempotency_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    response_status INTEGER,
    response_body BLOB,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    lease_token TEXT,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);
