-- The operator console's people and the platform's audit log (issue 14).
-- users: sign-in by email (unique in the installation, stored lower-cased), argon2id hash.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP
);

-- A user's role in a tenant (owner, admin, operator, viewer).
CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, tenant_id)
);
CREATE INDEX memberships_tenant ON memberships (tenant_id);

-- Console sessions: only the SHA-256 of the 256-bit token is kept. The CSRF token is per
-- session; tenant_id and mode are what the header's switch selected.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    tenant_id BIGINT REFERENCES tenants (id),
    mode TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_ip TEXT,
    created_user_agent TEXT,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins per subject (an email or a client address) in the current window, and
-- until when the subject is locked out.
CREATE TABLE login_throttles (
    subject TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

-- Every change made through the API or the console; changes is a JSON object of the fields
-- sent, secrets redacted.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    mode TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT,
    ip TEXT,
    user_agent TEXT,
    changes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_scope ON audit_events (tenant_id, mode, created_at);
CREATE INDEX audit_events_resource ON audit_events (tenant_id, mode, resource_type, resource_id);
