-- Issue 15 (alerts): a partner's consecutive send attempts that got no answer (no
-- connection, TLS failure, timeout, or a 502/503/504 from a proxy in front of it), and when
-- the "partner unreachable" alert was raised for the current streak. A row exists only while
-- a streak runs: the first answer deletes it (and announces partner.reachable when alerted).
CREATE TABLE partner_reachability (
    partner_id BIGINT PRIMARY KEY NOT NULL REFERENCES partners (id),
    tenant_id BIGINT NOT NULL,
    mode TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL,
    first_failed_at TIMESTAMP NOT NULL,
    last_failed_at TIMESTAMP NOT NULL,
    last_error TEXT NOT NULL,
    alerted_at TIMESTAMP
);
