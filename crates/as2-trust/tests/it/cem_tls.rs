//! CEM `tlsClient` / `tlsServer` on every backend: a partner's TLS client certificate, pin and
//! CA bundle roll over with an overlap until the RespondByDate, each step an event on a
//! time-stamped timeline; our own TLS client key pair rolls over with an offer.

use std::sync::OnceLock;
use std::time::SystemTime;

use crate::common::{
    Fixture, PARTNER_AS2_ID, backend, fake_certificate, fixture, store_x509, x509,
};
use as2_core::cem::{self as codec, BuiltCem, CertUsage, TrustRequest};
use as2_core::cert::Certificate as X509;
use as2_domain::cem::CemStatus;
use as2_domain::id::CertificateId;
use as2_domain::partner::Partner;
use as2_domain::trust::TrustState;
use as2_store::payload::PayloadStore;
use as2_store::repo::partners::PasswordChange;
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};
use as2_trust::cem::{self, CemPolicy, Offer};
use as2_trust::lifecycle::{self, Subject};
use as2_trust::scheduler;
use as2_trust::stamper::{Stamper, TsaConfig};
use as2_trust::tls::{self, ServerOverlap};
use chrono::{DateTime, Duration, Utc};

/// A second RSA key, so a certificate over it has another SPKI (another pin).
fn other_key() -> &'static rsa::PrivateKey {
    static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .unwrap()
    })
}

fn x509_other_key(subject: &str) -> X509 {
    as2_core::cert::generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        other_key(),
        subject,
        SystemTime::now(),
        Duration::days(365).to_std().unwrap(),
    )
    .unwrap()
}

fn partner_fixture(store: &Store) -> Fixture {
    fixture(store, |store, scope| {
        Some(fake_certificate(
            store,
            scope,
            Utc::now() + Duration::days(365),
        ))
    })
}

fn payloads() -> (tempfile::TempDir, PayloadStore) {
    let dir = tempfile::tempdir().unwrap();
    let payloads = PayloadStore::open(dir.path()).unwrap();
    (dir, payloads)
}

/// The partner's CEM request offering `cert` for `usages`.
fn request(
    request_id: &str,
    cert: &X509,
    usages: &[CertUsage],
    respond_by: DateTime<Utc>,
) -> BuiltCem {
    let trust = TrustRequest::new(
        cert.clone(),
        usages.to_vec(),
        respond_by.into(),
        "https://partner.example/as2",
        "cert-1@partner.example",
    );
    codec::build_request(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &codec::CemRequest {
            request_id: request_id.into(),
            sender_as2_id: PARTNER_AS2_ID.into(),
            message_originated: SystemTime::now(),
            requests: vec![trust],
        },
    )
    .unwrap()
}

/// Receives the request by the accept-valid policy and time-stamps what it did, as the
/// gateway does.
async fn receive(
    store: &Store,
    stamper: &Stamper,
    payloads: &PayloadStore,
    fx: &Fixture,
    built: &BuiltCem,
) -> cem::Effects {
    let effects = cem::receive(
        store,
        payloads,
        fx.scope,
        &fx.partner,
        &fx.station,
        &built.content_type,
        &built.body,
        CemPolicy::AcceptValid,
        Utc::now(),
    )
    .unwrap();
    for transition in &effects.transitions {
        assert!(stamper.stamp_event(&transition.event).await);
    }
    effects
}

fn update(store: &Store, fx: &mut Fixture, change: impl FnOnce(&mut Partner)) {
    let mut partner = fx.partner.clone();
    change(&mut partner);
    fx.partner = store
        .partners()
        .update(
            fx.scope,
            partner.id,
            &partner.settings,
            PasswordChange::Keep,
        )
        .unwrap();
}

fn event_types(store: &Store, scope: Scope, subject: Subject) -> Vec<String> {
    store
        .trust()
        .events(scope, subject.kind(), subject.row_id())
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

/// Every event of the subject is chained and carries a verifying time-stamp token.
async fn assert_evidence(store: &Store, stamper: &Stamper, scope: Scope, subject: Subject) {
    let verified = as2_trust::verify::verify_timeline(store, stamper, scope, subject)
        .await
        .unwrap();
    assert!(verified.valid, "{:?}", verified.problems);
    for event in store
        .trust()
        .events(scope, subject.kind(), subject.row_id())
        .unwrap()
    {
        assert!(event.timestamp_token.is_some(), "{}", event.event_type);
        assert_eq!(event.hash.len(), 64);
    }
}

fn inbound(store: &Store, fx: &Fixture) -> Option<Vec<Vec<u8>>> {
    let partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
    tls::inbound_client_certificates(store, fx.scope, &partner).unwrap()
}

fn overlap(store: &Store, fx: &Fixture) -> ServerOverlap {
    let partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
    tls::server_overlap(store, fx.scope, &partner).unwrap()
}

fn new_certificate_id(effects: &cem::Effects) -> CertificateId {
    assert_eq!(effects.requests.len(), 1);
    assert_eq!(effects.requests[0].status, CemStatus::Accepted);
    effects.requests[0].certificate_id
}

#[tokio::test]
async fn a_tls_client_certificate_rolls_over_with_an_overlap_until_the_respond_by_date() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let stamper = Stamper::new(store.clone(), TsaConfig::BuiltIn);
        let (_dir, payloads) = payloads();
        let mut fx = partner_fixture(store);
        let old_cert = x509("CN=Partner TLS client 2026", Duration::days(365));
        let old = store_x509(store, fx.scope, &old_cert, false);
        update(store, &mut fx, |p| {
            p.settings.tls_inbound_client_certificate_id = Some(old);
        });
        assert_eq!(
            inbound(store, &fx),
            Some(vec![old_cert.der().to_vec()]),
            "{name}"
        );

        let new_cert = x509_other_key("CN=Partner TLS client 2027");
        let respond_by = Utc::now() + Duration::days(3);
        let effects = receive(
            store,
            &stamper,
            &payloads,
            &fx,
            &request(
                "tls-client-1",
                &new_cert,
                &[CertUsage::TlsClient],
                respond_by,
            ),
        )
        .await;
        let new = new_certificate_id(&effects);
        let subject = Subject::PartnerTlsClient(fx.partner.id);
        // until the RespondByDate both are accepted; the column still names the old one
        assert_eq!(
            inbound(store, &fx),
            Some(vec![old_cert.der().to_vec(), new_cert.der().to_vec()]),
            "{name}"
        );
        let partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
        assert_eq!(
            partner.settings.tls_inbound_client_certificate_id,
            Some(old),
            "{name}"
        );
        // signing and encryption did not move
        assert_eq!(
            partner.settings.certificate_id, fx.partner.settings.certificate_id,
            "{name}"
        );
        assert_eq!(partner.settings.encryption_certificate_id, None, "{name}");
        let record = lifecycle::load(store, fx.scope, subject).unwrap().record;
        assert_eq!(
            (record.state, record.current, record.next),
            (TrustState::RolloverScheduled, Some(old), Some(new)),
            "{name}"
        );
        assert_eq!(
            event_types(store, fx.scope, subject),
            ["rollover_scheduled"],
            "{name}"
        );
        let accepted = store
            .trust()
            .events(
                fx.scope,
                as2_domain::trust::TrustSubject::Partner,
                fx.partner.id.0,
            )
            .unwrap()
            .into_iter()
            .find(|e| e.event_type == "cem_request_accepted")
            .unwrap();
        assert!(
            accepted
                .details
                .contains("\"tls_rollovers\":[\"partner_tls_client\"]"),
            "{name}: {}",
            accepted.details
        );

        // at the RespondByDate the scheduler switches: only the new one from then on
        let after = respond_by + Duration::seconds(1);
        assert_eq!(
            scheduler::run_due(store, &stamper, after).await,
            1,
            "{name}"
        );
        assert_eq!(
            inbound(store, &fx),
            Some(vec![new_cert.der().to_vec()]),
            "{name}"
        );
        let partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
        assert_eq!(
            partner.settings.tls_inbound_client_certificate_id,
            Some(new),
            "{name}"
        );
        // the record closes a minute later; the old certificate stays refused
        let closed = after + tls::TLS_RETIRE_AFTER;
        assert_eq!(
            scheduler::run_due(store, &stamper, closed).await,
            1,
            "{name}"
        );
        assert_eq!(
            inbound(store, &fx),
            Some(vec![new_cert.der().to_vec()]),
            "{name}"
        );
        assert_eq!(
            event_types(store, fx.scope, subject),
            ["rollover_scheduled", "activated", "retired"],
            "{name}"
        );
        assert_evidence(store, &stamper, fx.scope, subject).await;
        assert_evidence(store, &stamper, fx.scope, Subject::Partner(fx.partner.id)).await;
    }
}

#[tokio::test]
async fn a_partner_without_mutual_tls_is_not_switched_to_it_by_a_cem() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let stamper = Stamper::new(store.clone(), TsaConfig::BuiltIn);
        let (_dir, payloads) = payloads();
        let fx = partner_fixture(store);
        let cert = x509_other_key("CN=Partner TLS");
        let respond_by = Utc::now() + Duration::days(3);
        receive(
            store,
            &stamper,
            &payloads,
            &fx,
            &request(
                "tls-both",
                &cert,
                &[CertUsage::TlsClient, CertUsage::TlsServer],
                respond_by,
            ),
        )
        .await;
        assert_eq!(inbound(store, &fx), None, "{name}");
        assert_eq!(overlap(store, &fx), ServerOverlap::default(), "{name}");
        for subject in [
            Subject::PartnerTlsClient(fx.partner.id),
            Subject::PartnerTlsServer(fx.partner.id),
        ] {
            assert!(event_types(store, fx.scope, subject).is_empty(), "{name}");
        }
        assert_eq!(
            scheduler::run_due(store, &stamper, respond_by + Duration::seconds(1)).await,
            0,
            "{name}"
        );
        let partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
        assert_eq!(
            partner.settings.tls_inbound_client_certificate_id, None,
            "{name}"
        );
        assert_eq!(partner.settings.tls, fx.partner.settings.tls, "{name}");
    }
}

#[tokio::test]
async fn a_tls_server_certificate_adds_its_pin_for_the_overlap_then_replaces_the_pin() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let stamper = Stamper::new(store.clone(), TsaConfig::BuiltIn);
        let (_dir, payloads) = payloads();
        let mut fx = partner_fixture(store);
        let old_cert = x509("CN=partner.example 2026", Duration::days(365));
        let old_pin = as2_trust::certificate::tls_pin(&old_cert).unwrap();
        update(store, &mut fx, |p| {
            p.settings.tls.pin_sha256 = Some(old_pin);
        });

        let new_cert = x509_other_key("CN=partner.example 2027");
        let new_pin = as2_trust::certificate::tls_pin(&new_cert).unwrap();
        assert_ne!(new_pin, old_pin);
        let respond_by = Utc::now() + Duration::days(3);
        receive(
            store,
            &stamper,
            &payloads,
            &fx,
            &request(
                "tls-server-1",
                &new_cert,
                &[CertUsage::TlsServer],
                respond_by,
            ),
        )
        .await;
        // beside the old pin during the overlap ...
        assert_eq!(
            overlap(store, &fx),
            ServerOverlap {
                pins: vec![new_pin],
                ca_pem: vec![],
            },
            "{name}"
        );
        let partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
        assert_eq!(partner.settings.tls.pin_sha256, Some(old_pin), "{name}");
        // ... and instead of it after the RespondByDate
        assert_eq!(
            scheduler::run_due(store, &stamper, respond_by + Duration::seconds(1)).await,
            1,
            "{name}"
        );
        let partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
        assert_eq!(partner.settings.tls.pin_sha256, Some(new_pin), "{name}");
        assert_eq!(overlap(store, &fx), ServerOverlap::default(), "{name}");
        // an operator's later pin holds alone: the certificate a CEM installed is not kept
        let mut by_hand = fx.partner.clone();
        by_hand.settings.tls.pin_sha256 = Some(old_pin);
        store
            .partners()
            .update(
                fx.scope,
                by_hand.id,
                &by_hand.settings,
                PasswordChange::Keep,
            )
            .unwrap();
        assert_eq!(overlap(store, &fx), ServerOverlap::default(), "{name}");
        let subject = Subject::PartnerTlsServer(fx.partner.id);
        assert_eq!(
            event_types(store, fx.scope, subject),
            ["rollover_scheduled", "activated"],
            "{name}"
        );
        assert_evidence(store, &stamper, fx.scope, subject).await;
    }
}

#[tokio::test]
async fn a_self_signed_tls_server_certificate_joins_the_ca_bundle_and_replaces_its_predecessor() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let stamper = Stamper::new(store.clone(), TsaConfig::BuiltIn);
        let (_dir, payloads) = payloads();
        let mut fx = partner_fixture(store);
        let operators = x509("CN=Partner private CA", Duration::days(365));
        let bundle = format!("# the partner's CA\n{}", operators.to_pem());
        update(store, &mut fx, |p| {
            p.settings.tls.ca_bundle = Some(bundle.clone());
        });

        let first = x509_other_key("CN=partner.example self-signed 1");
        let respond_by = Utc::now() + Duration::days(3);
        receive(
            store,
            &stamper,
            &payloads,
            &fx,
            &request("tls-ca-1", &first, &[CertUsage::TlsServer], respond_by),
        )
        .await;
        assert_eq!(overlap(store, &fx).ca_pem, [first.to_pem()], "{name}");
        let at = respond_by + Duration::seconds(1);
        assert_eq!(scheduler::run_due(store, &stamper, at).await, 1, "{name}");
        let after_first = store
            .partners()
            .get(fx.scope, fx.partner.id)
            .unwrap()
            .settings
            .tls
            .ca_bundle
            .unwrap();
        assert!(after_first.starts_with("# the partner's CA\n"), "{name}");
        assert!(after_first.contains(operators.to_pem().trim()), "{name}");
        assert!(after_first.contains(first.to_pem().trim()), "{name}");
        assert!(overlap(store, &fx).ca_pem.is_empty(), "{name}");
        assert_eq!(
            scheduler::run_due(store, &stamper, at + tls::TLS_RETIRE_AFTER).await,
            1,
            "{name}"
        );

        // the next rollover replaces the certificate the first one added, not the operator's
        let second = x509("CN=partner.example self-signed 2", Duration::days(365));
        fx.partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
        let respond_by = Utc::now() + Duration::days(4);
        receive(
            store,
            &stamper,
            &payloads,
            &fx,
            &request("tls-ca-2", &second, &[CertUsage::TlsServer], respond_by),
        )
        .await;
        let at = respond_by + Duration::seconds(1);
        assert_eq!(scheduler::run_due(store, &stamper, at).await, 1, "{name}");
        let after_second = store
            .partners()
            .get(fx.scope, fx.partner.id)
            .unwrap()
            .settings
            .tls
            .ca_bundle
            .unwrap();
        assert!(after_second.contains(operators.to_pem().trim()), "{name}");
        assert!(after_second.contains(second.to_pem().trim()), "{name}");
        assert!(!after_second.contains(first.to_pem().trim()), "{name}");
        assert_evidence(
            store,
            &stamper,
            fx.scope,
            Subject::PartnerTlsServer(fx.partner.id),
        )
        .await;
    }
}

#[tokio::test]
async fn offering_our_tls_client_key_pair_rolls_it_over_and_not_the_station() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let stamper = Stamper::new(store.clone(), TsaConfig::BuiltIn);
        let (_dir, payloads) = payloads();
        let mut fx = partner_fixture(store);
        let ours_now = store_x509(
            store,
            fx.scope,
            &x509("CN=Our TLS client 2026", Duration::days(365)),
            true,
        );
        update(store, &mut fx, |p| {
            p.settings.tls.client_certificate_id = Some(ours_now);
        });
        let ours_next = store_x509(
            store,
            fx.scope,
            &x509("CN=Our TLS client 2027", Duration::days(365)),
            true,
        );
        let respond_by = Utc::now() + Duration::days(3);
        let effects = cem::offer(
            store,
            &payloads,
            fx.scope,
            fx.partner.id,
            &Offer {
                certificate_id: ours_next,
                usages: vec![CertUsage::TlsClient],
                respond_by,
                response_url: "https://as2.example/as2".into(),
            },
            "key_test",
            Utc::now(),
        )
        .unwrap();
        for transition in &effects.transitions {
            assert!(stamper.stamp_event(&transition.event).await, "{name}");
        }
        assert_eq!(effects.messages.len(), 1, "{name}");
        let subject = Subject::PartnerTlsIdentity(fx.partner.id);
        let record = lifecycle::load(store, fx.scope, subject).unwrap().record;
        assert_eq!(
            (record.state, record.current, record.next),
            (
                TrustState::RolloverScheduled,
                Some(ours_now),
                Some(ours_next)
            ),
            "{name}"
        );
        // the station's key pair is not what a TLS usage replaces
        let station = lifecycle::load(store, fx.scope, Subject::Station(fx.station.id))
            .unwrap()
            .record;
        assert_eq!(station.state, TrustState::Active, "{name}");
        assert_eq!(station.next, None, "{name}");
        // we present the new one from the RespondByDate
        assert_eq!(
            scheduler::run_due(store, &stamper, respond_by + Duration::seconds(1)).await,
            1,
            "{name}"
        );
        let partner = store.partners().get(fx.scope, fx.partner.id).unwrap();
        assert_eq!(
            partner.settings.tls.client_certificate_id,
            Some(ours_next),
            "{name}"
        );
        assert_evidence(store, &stamper, fx.scope, subject).await;
    }
}
