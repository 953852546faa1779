//! Shared fixtures of the store's integration tests: tenants, stations, partners, certificates,
//! messages.

#![allow(dead_code)]

use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::certificate::CertificateInfo;
use as2_domain::id::{CertificateId, StationId};
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::partner::{Partner, PartnerSettings};
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_store::repo::certificates::NewCertificate;
use as2_store::repo::messages::NewMessage;
use as2_store::repo::trust::NewTrustEvent;
use as2_store::{Scope, Store};
use chrono::{Duration, Utc};

/// Tenant A in test mode, tenant A in live mode, tenant B in test mode.
pub struct Scopes {
    pub a: Scope,
    pub a_live: Scope,
    pub b: Scope,
}

pub fn scopes(store: &Store) -> Scopes {
    let account = store
        .accounts()
        .create_account("Acme", Plan::Starter)
        .unwrap();
    let other = store
        .accounts()
        .create_account("Globex", Plan::Free)
        .unwrap();
    let a = store
        .accounts()
        .create_tenant(account.id, "Acme EU")
        .unwrap();
    let b = store.accounts().create_tenant(other.id, "Globex").unwrap();
    Scopes {
        a: Scope::new(a.id, Mode::Test),
        a_live: Scope::new(a.id, Mode::Live),
        b: Scope::new(b.id, Mode::Test),
    }
}

pub fn info(fingerprint: &str) -> CertificateInfo {
    let now = Utc::now();
    CertificateInfo {
        subject: "CN=partner".into(),
        issuer: "CN=partner".into(),
        serial: "0a1b".into(),
        fingerprint_sha256: fingerprint.into(),
        not_before: now - Duration::days(1),
        not_after: now + Duration::days(365),
        key_usage: vec!["digitalSignature".into(), "keyEncipherment".into()],
    }
}

pub fn certificate(store: &Store, scope: Scope, private_key: Option<&[u8]>) -> CertificateId {
    let info = info("ab".repeat(32).as_str());
    store
        .certificates()
        .create(
            scope,
            &NewCertificate {
                name: "cert",
                info: &info,
                der: b"\x30\x03\x02\x01\x01",
                chain_der: None,
                private_key_der: private_key,
            },
        )
        .unwrap()
        .id
}

pub fn station(store: &Store, scope: Scope, as2_id: &str) -> StationId {
    let settings = StationSettings {
        name: format!("Station {as2_id}"),
        as2_id: as2_id.into(),
        certificate_id: None,
        encryption_certificate_id: None,
        mdn_url: None,
        is_default: true,
    };
    store.stations().create(scope, &settings).unwrap().id
}

pub fn partner_settings(station: StationId, as2_id: &str) -> PartnerSettings {
    let mut settings = PartnerSettings::new(
        "Partner".into(),
        as2_id.into(),
        "https://partner.example/as2".into(),
        station,
    );
    settings.encrypt = false;
    settings
}

pub fn partner(store: &Store, scope: Scope, as2_id: &str) -> Partner {
    let station = station(store, scope, &format!("US-{as2_id}"));
    store
        .partners()
        .create(scope, &partner_settings(station, as2_id), None)
        .unwrap()
}

/// A 3-byte EDI message of `partner` in `direction` with the AS2 `Message-ID` `as2_message_id`,
/// `received` (inbound) or `queued` (outbound), without a payload; callers change what their
/// test is about with `..message(…)`.
pub fn message<'a>(
    partner: &Partner,
    direction: Direction,
    as2_message_id: &'a str,
) -> NewMessage<'a> {
    NewMessage {
        direction,
        partner_id: partner.id,
        station_id: partner.settings.station_id,
        as2_message_id,
        subject: None,
        filename: None,
        content_type: "application/edi-x12",
        bytes: 3,
        sha256: "00",
        payload: None,
        mdn_mode: MdnMode::Sync,
        status: MessageStatus::initial(direction),
        error: None,
        mic: None,
        destination_url: None,
    }
}

/// A trust event by `actor` with no fingerprints, for a record saved by a test.
pub fn trust_event(event_type: &'static str, actor: &'static str) -> NewTrustEvent<'static> {
    NewTrustEvent {
        event_type,
        actor,
        current_fingerprint: None,
        next_fingerprint: None,
        details: "{}",
        timestamp_token: None,
    }
}
