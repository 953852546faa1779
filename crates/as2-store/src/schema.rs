//! The diesel schema of both backends, kept by hand to match migrations/ (the repository tests read and write every column on both).

#![allow(missing_docs)]

diesel::table! {
    accounts (id) {
        id -> BigInt,
        name -> Text,
        plan -> Text,
        rate_limit_per_minute -> Nullable<Integer>,
        rate_limit_burst -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tenants (id) {
        id -> BigInt,
        account_id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        max_message_bytes -> Nullable<BigInt>,
        retention_payload_days -> Nullable<Integer>,
        retention_record_days -> Nullable<Integer>,
        alert_emails -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        account_id -> BigInt,
        tenant_id -> Nullable<BigInt>,
        kind -> Text,
        mode -> Text,
        name -> Text,
        display_prefix -> Text,
        secret_hash -> Text,
        scopes -> Text,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certificates (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        name -> Text,
        kind -> Text,
        subject -> Text,
        issuer -> Text,
        serial -> Text,
        fingerprint_sha256 -> Text,
        not_before -> Timestamp,
        not_after -> Timestamp,
        key_usage -> Text,
        certificate_der -> Binary,
        chain_der -> Nullable<Binary>,
        private_key_secret -> Nullable<Text>,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    stations (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        name -> Text,
        as2_id -> Text,
        certificate_id -> Nullable<BigInt>,
        encryption_certificate_id -> Nullable<BigInt>,
        mdn_url -> Nullable<Text>,
        is_default -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partners (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        station_id -> BigInt,
        name -> Text,
        as2_id -> Text,
        url -> Text,
        email -> Nullable<Text>,
        sign -> Bool,
        sign_algorithm -> Text,
        encrypt -> Bool,
        encrypt_algorithm -> Text,
        compress -> Bool,
        mdn_mode -> Text,
        mdn_signed -> Bool,
        mdn_url -> Nullable<Text>,
        certificate_id -> Nullable<BigInt>,
        encryption_certificate_id -> Nullable<BigInt>,
        auth -> Bool,
        auth_user -> Nullable<Text>,
        auth_password_secret -> Nullable<Text>,
        firewall -> Bool,
        allowed_networks -> Text,
        retry_attempts -> Integer,
        retry_interval_secs -> Integer,
        timeout_secs -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        require_signed -> Bool,
        require_encrypted -> Bool,
        signature_scheme -> Text,
        key_transport -> Text,
        compression_order -> Text,
        tls_ca_bundle -> Nullable<Text>,
        tls_ca_only -> Bool,
        tls_pin_sha256 -> Nullable<Text>,
        tls_client_certificate_id -> Nullable<BigInt>,
        tls_inbound_client_certificate_id -> Nullable<BigInt>,
        unsigned_mic -> Text,
    }
}

diesel::table! {
    trust_records (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        subject -> Text,
        subject_id -> BigInt,
        current_certificate_id -> Nullable<BigInt>,
        next_certificate_id -> Nullable<BigInt>,
        previous_certificate_id -> Nullable<BigInt>,
        activate_at -> Nullable<Timestamp>,
        retire_at -> Nullable<Timestamp>,
        state -> Text,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    trust_events (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        subject -> Text,
        subject_id -> BigInt,
        event_type -> Text,
        actor -> Text,
        current_fingerprint -> Nullable<Text>,
        next_fingerprint -> Nullable<Text>,
        details -> Text,
        hash -> Text,
        prev_hash -> Nullable<Text>,
        timestamp_token -> Nullable<Binary>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        direction -> Text,
        partner_id -> BigInt,
        station_id -> BigInt,
        as2_message_id -> Text,
        subject -> Nullable<Text>,
        filename -> Nullable<Text>,
        content_type -> Text,
        bytes -> BigInt,
        sha256 -> Text,
        payload_key -> Nullable<Text>,
        mdn_mode -> Text,
        status -> Text,
        attempts -> Integer,
        error_type -> Nullable<Text>,
        error_message -> Nullable<Text>,
        mic -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        destination_url -> Nullable<Text>,
        resent_from -> Nullable<BigInt>,
        payload_inline -> Nullable<Binary>,
        payload_purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    purges (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        kind -> Text,
        items -> BigInt,
        bytes -> BigInt,
        older_than -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mdns (id) {
        id -> BigInt,
        message_id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        disposition -> Text,
        positive -> Bool,
        mic -> Nullable<Text>,
        mic_matched -> Nullable<Bool>,
        signed -> Bool,
        verified -> Bool,
        original_message_id -> Nullable<Text>,
        raw_key -> Nullable<Text>,
        created_at -> Timestamp,
        raw -> Nullable<Binary>,
    }
}

diesel::table! {
    message_events (id) {
        id -> BigInt,
        message_id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        event_type -> Text,
        status -> Nullable<Text>,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        url -> Text,
        description -> Nullable<Text>,
        events -> Text,
        secret -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        event_type -> Text,
        data -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        endpoint_id -> BigInt,
        event_id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        status -> Text,
        attempts -> Integer,
        response_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        redelivery_of -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempt -> Integer,
        response_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rate_limit_buckets (bucket) {
        bucket -> Text,
        tat_us -> BigInt,
        allowed -> Bool,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        idem_key -> Text,
        fingerprint -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Binary>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        lease_token -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    timestamp_authorities (id) {
        id -> BigInt,
        certificate_der -> Binary,
        private_key_secret -> Text,
        next_serial -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    cem_requests (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        direction -> Text,
        partner_id -> BigInt,
        station_id -> BigInt,
        request_id -> Text,
        certificate_id -> BigInt,
        usages -> Text,
        issuer_name -> Text,
        serial_decimal -> Text,
        respond_by -> Timestamp,
        response_url -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        message_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    certificate_expiry_notices (certificate_id, threshold_days) {
        certificate_id -> BigInt,
        threshold_days -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (id) {
        id -> BigInt,
        user_id -> BigInt,
        tenant_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        csrf_token -> Text,
        tenant_id -> Nullable<BigInt>,
        mode -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        created_ip -> Nullable<Text>,
        created_user_agent -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttles (subject) {
        subject -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        actor_kind -> Text,
        actor_id -> Text,
        actor_label -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        changes -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    partner_reachability (partner_id) {
        partner_id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        failed_attempts -> Integer,
        first_failed_at -> Timestamp,
        last_failed_at -> Timestamp,
        last_error -> Text,
        alerted_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(tenants -> accounts (account_id));
diesel::joinable!(api_keys -> accounts (account_id));
diesel::joinable!(api_keys -> tenants (tenant_id));
diesel::joinable!(certificates -> tenants (tenant_id));
diesel::joinable!(stations -> tenants (tenant_id));
diesel::joinable!(partners -> tenants (tenant_id));
diesel::joinable!(partners -> stations (station_id));
diesel::joinable!(trust_records -> tenants (tenant_id));
diesel::joinable!(trust_events -> tenants (tenant_id));
diesel::joinable!(messages -> tenants (tenant_id));
diesel::joinable!(messages -> partners (partner_id));
diesel::joinable!(messages -> stations (station_id));
diesel::table! {
    message_evidence (message_id) {
        message_id -> BigInt,
        tenant_id -> BigInt,
        mode -> Text,
        manifest -> Binary,
        timeline -> Binary,
        signer_chain -> Binary,
        tsa_chain -> Binary,
        timestamp_response -> Binary,
        created_at -> Timestamp,
    }
}

diesel::joinable!(mdns -> messages (message_id));
diesel::joinable!(message_evidence -> messages (message_id));
diesel::joinable!(mdns -> tenants (tenant_id));
diesel::joinable!(message_events -> messages (message_id));
diesel::joinable!(message_events -> tenants (tenant_id));
diesel::joinable!(webhook_endpoints -> tenants (tenant_id));
diesel::joinable!(events -> tenants (tenant_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> events (event_id));
diesel::joinable!(webhook_deliveries -> tenants (tenant_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));
diesel::joinable!(idempotency_keys -> tenants (tenant_id));
diesel::joinable!(purges -> tenants (tenant_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> tenants (tenant_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(audit_events -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    tenants,
    api_keys,
    certificates,
    stations,
    partners,
    trust_records,
    trust_events,
    messages,
    mdns,
    message_events,
    message_evidence,
    webhook_endpoints,
    events,
    webhook_deliveries,
    webhook_attempts,
    idempotency_keys,
    jobs,
    timestamp_authorities,
    cem_requests,
    certificate_expiry_notices,
    purges,
    users,
    memberships,
    sessions,
    login_throttles,
    audit_events,
    partner_reachability,
);
