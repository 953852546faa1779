//! Certificate Exchange Messaging on every backend: a partner's request recorded, accepted
//! (rollover scheduled, encryption switched, answer queued) or rejected, by an operator or
//! by policy; our own offer queued with the station's rollover, and the partner's answer
//! moving it on.

use std::time::SystemTime;

use crate::common::{
    Fixture, PARTNER_AS2_ID, STATION_AS2_ID, backend, fake_certificate, fixture, store_x509, x509,
};
use as2_core::cem::{
    self as codec, BuiltCem, CemResponse, CertStatus, CertUsage, TrustRequest, TrustResponse,
};
use as2_core::cert::Certificate as X509;
use as2_domain::cem::{CemDirection, CemStatus};
use as2_domain::certificate::CertificateKind;
use as2_domain::message::{Direction, Message, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::trust::TrustState;
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::MessageFilter;
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};
use as2_trust::TrustOpError;
use as2_trust::cem::{self, CemPolicy, Offer, ReceiveError};
use as2_trust::lifecycle::{self, Subject};
use chrono::{DateTime, Duration, SubsecRound, Utc};

/// A partner whose current certificate is good for a year.
fn partner_fixture(store: &Store) -> Fixture {
    fixture(store, |store, scope| {
        Some(fake_certificate(
            store,
            scope,
            Utc::now() + Duration::days(365),
        ))
    })
}

fn trust_request(cert: &X509, usages: &[CertUsage], respond_by: DateTime<Utc>) -> TrustRequest {
    TrustRequest::new(
        cert.clone(),
        usages.to_vec(),
        respond_by.into(),
        "https://partner.example/as2",
        "cert-1@partner.example",
    )
}

/// The partner's CEM request document offering `trust`.
fn request(request_id: &str, trust: &TrustRequest) -> BuiltCem {
    codec::build_request(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &codec::CemRequest {
            request_id: request_id.into(),
            sender_as2_id: PARTNER_AS2_ID.into(),
            message_originated: SystemTime::now(),
            requests: vec![trust.clone()],
        },
    )
    .unwrap()
}

fn receive(
    store: &Store,
    payloads: &PayloadStore,
    fx: &Fixture,
    built: &BuiltCem,
    policy: CemPolicy,
) -> Result<cem::Effects, ReceiveError> {
    cem::receive(
        store,
        payloads,
        fx.scope,
        &fx.partner,
        &fx.station,
        &built.content_type,
        &built.body,
        policy,
        Utc::now(),
    )
}

fn outbound(store: &Store, fx: &Fixture) -> Vec<Message> {
    let filter = MessageFilter {
        direction: Some(Direction::Outbound),
        ..MessageFilter::default()
    };
    store
        .messages()
        .list(fx.scope, filter, PageRequest::default())
        .unwrap()
        .0
}

/// The CEM response a queued message carries (we are its sender).
fn response_in(payloads: &PayloadStore, message: &Message) -> CemResponse {
    let body = payloads
        .read_ref(message.payload.as_ref().unwrap())
        .unwrap();
    codec::parse_response(&message.content_type, &body, STATION_AS2_ID).unwrap()
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

fn payloads() -> (tempfile::TempDir, PayloadStore) {
    let dir = tempfile::tempdir().unwrap();
    let payloads = PayloadStore::open(dir.path()).unwrap();
    (dir, payloads)
}

#[test]
fn a_request_waits_for_the_operator_then_is_accepted_once() {
    let both = [CertUsage::KeyEncipherment, CertUsage::DigitalSignature];
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let (_dir, payloads) = payloads();
        let fx = partner_fixture(store);
        let (scope, subject) = (fx.scope, Subject::Partner(fx.partner.id));
        let old = fx.partner.settings.certificate_id;
        let offered = x509("CN=Partner 2027", Duration::days(365));
        let respond_by = Utc::now() + Duration::days(3);
        let trust = trust_request(&offered, &both, respond_by);
        let built = request("req-1", &trust);

        let effects = receive(store, &payloads, &fx, &built, CemPolicy::Manual).unwrap();
        assert!(effects.messages.is_empty(), "{name}");
        assert_eq!(effects.requests.len(), 1, "{name}");
        let row = effects.requests[0].clone();
        assert_eq!(row.direction, CemDirection::Inbound, "{name}");
        assert_eq!(row.status, CemStatus::Pending, "{name}");
        assert_eq!(row.request_id, "req-1", "{name}");
        assert_eq!(
            row.usages,
            ["keyEncipherment", "digitalSignature"],
            "{name}"
        );
        assert_eq!(
            (row.issuer_name.as_str(), row.serial_decimal.as_str()),
            (trust.issuer_name.as_str(), trust.serial_decimal.as_str()),
            "{name}"
        );
        assert_eq!(row.respond_by.timestamp(), respond_by.timestamp(), "{name}");
        let stored = store.certificates().get(scope, row.certificate_id).unwrap();
        assert_eq!(stored.kind, CertificateKind::Certificate, "{name}");
        assert_eq!(
            stored.info.fingerprint_sha256,
            hex::encode(offered.fingerprint_sha256()),
            "{name}"
        );
        assert_eq!(
            store
                .certificates()
                .der(scope, row.certificate_id)
                .unwrap()
                .0,
            offered.der(),
            "{name}"
        );
        assert_eq!(
            event_types(store, scope, subject),
            ["cem_request_received"],
            "{name}"
        );
        // nothing changed yet, nothing was answered
        let record = lifecycle::load(store, scope, subject).unwrap().record;
        assert_eq!(
            (record.state, record.current),
            (TrustState::Active, old),
            "{name}"
        );
        let partner = store.partners().get(scope, fx.partner.id).unwrap();
        assert_eq!(partner.settings.encryption_certificate_id, None, "{name}");
        assert!(outbound(store, &fx).is_empty(), "{name}");

        // the partner resends the same request: nothing new is recorded
        let again = receive(store, &payloads, &fx, &built, CemPolicy::Manual).unwrap();
        assert_eq!(again.requests.len(), 1, "{name}");
        assert_eq!(again.requests[0].id, row.id, "{name}");
        assert!(again.transitions.is_empty(), "{name}");
        assert_eq!(
            store.cem().list(scope, fx.partner.id).unwrap().len(),
            1,
            "{name}"
        );
        assert_eq!(
            event_types(store, scope, subject),
            ["cem_request_received"],
            "{name}"
        );

        let accepted =
            cem::accept(store, &payloads, scope, row.id, "key_test", Utc::now()).unwrap();
        // signatures switch at the RespondByDate, the old certificate retires a week later
        let record = lifecycle::load(store, scope, subject).unwrap().record;
        assert_eq!(record.state, TrustState::RolloverScheduled, "{name}");
        assert_eq!(
            (record.current, record.next),
            (old, Some(row.certificate_id)),
            "{name}"
        );
        assert_eq!(record.activate_at, Some(row.respond_by), "{name}");
        assert_eq!(
            record.retire_at,
            Some(row.respond_by + cem::OVERLAP),
            "{name}"
        );
        // encryption switches at once
        let partner = store.partners().get(scope, fx.partner.id).unwrap();
        assert_eq!(
            partner.settings.encryption_certificate_id,
            Some(row.certificate_id),
            "{name}"
        );
        assert_eq!(partner.settings.certificate_id, old, "{name}");
        let answered = store.cem().get(scope, row.id).unwrap();
        assert_eq!(
            (answered.status, answered.reason),
            (CemStatus::Accepted, None),
            "{name}"
        );
        // one answer is queued to the partner, echoing the certificate reference
        let queued = outbound(store, &fx);
        assert_eq!(queued.len(), 1, "{name}");
        assert_eq!(accepted.messages.len(), 1, "{name}");
        assert_eq!(queued[0].id, accepted.messages[0].id, "{name}");
        assert_eq!(queued[0].status, MessageStatus::Queued, "{name}");
        assert_eq!(queued[0].partner_id, fx.partner.id, "{name}");
        let response = response_in(&payloads, &queued[0]);
        assert_eq!(response.request_id, "req-1", "{name}");
        assert_eq!(response.sender_as2_id, STATION_AS2_ID, "{name}");
        assert_eq!(response.responses.len(), 1, "{name}");
        assert_eq!(response.responses[0].status, CertStatus::Accepted, "{name}");
        assert!(response.responses[0].answers(&trust), "{name}");
        assert_eq!(
            event_types(store, scope, subject),
            [
                "cem_request_received",
                "rollover_scheduled",
                "cem_request_accepted"
            ],
            "{name}"
        );

        // answered once: accepting or rejecting again is refused and queues nothing
        let twice = cem::accept(store, &payloads, scope, row.id, "key_test", Utc::now());
        assert!(
            matches!(&twice, Err(TrustOpError::Invalid(e)) if e.has("status")),
            "{name}: {twice:?}"
        );
        let late = cem::reject(store, &payloads, scope, row.id, "too late", "key_test");
        assert!(
            matches!(&late, Err(TrustOpError::Invalid(e)) if e.has("status")),
            "{name}: {late:?}"
        );
        assert_eq!(outbound(store, &fx).len(), 1, "{name}");
        assert_eq!(event_types(store, scope, subject).len(), 3, "{name}");
    }
}

#[test]
fn a_rejected_request_is_answered_with_the_reason_and_changes_nothing() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let (_dir, payloads) = payloads();
        let fx = partner_fixture(store);
        let (scope, subject) = (fx.scope, Subject::Partner(fx.partner.id));
        let offered = x509("CN=Partner 2027", Duration::days(365));
        let trust = trust_request(
            &offered,
            &[CertUsage::KeyEncipherment, CertUsage::DigitalSignature],
            Utc::now() + Duration::days(3),
        );
        let effects = receive(
            store,
            &payloads,
            &fx,
            &request("req-2", &trust),
            CemPolicy::Manual,
        )
        .unwrap();
        let row = &effects.requests[0];
        let reason = "Issued by a CA we do not trust";
        let rejected = cem::reject(store, &payloads, scope, row.id, reason, "key_test").unwrap();
        assert_eq!(rejected.messages.len(), 1, "{name}");
        let answered = store.cem().get(scope, row.id).unwrap();
        assert_eq!(answered.status, CemStatus::Rejected, "{name}");
        assert_eq!(answered.reason.as_deref(), Some(reason), "{name}");
        let queued = outbound(store, &fx);
        assert_eq!(queued.len(), 1, "{name}");
        let response = response_in(&payloads, &queued[0]);
        assert_eq!(response.request_id, "req-2", "{name}");
        assert_eq!(response.responses[0].status, CertStatus::Rejected, "{name}");
        assert_eq!(
            response.responses[0].reason.as_deref(),
            Some(reason),
            "{name}"
        );
        assert!(response.responses[0].answers(&trust), "{name}");
        // the partner's certificates are untouched
        let record = lifecycle::load(store, scope, subject).unwrap().record;
        assert_eq!(record.state, TrustState::Active, "{name}");
        let partner = store.partners().get(scope, fx.partner.id).unwrap();
        assert_eq!(partner.settings, fx.partner.settings, "{name}");
        assert_eq!(
            event_types(store, scope, subject),
            ["cem_request_received", "cem_request_rejected"],
            "{name}"
        );
        let twice = cem::reject(store, &payloads, scope, row.id, reason, "key_test");
        assert!(matches!(twice, Err(TrustOpError::Invalid(_))), "{name}");
    }
}

#[test]
fn the_accept_valid_policy_answers_at_once() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let (_dir, payloads) = payloads();
        let fx = partner_fixture(store);
        let (scope, subject) = (fx.scope, Subject::Partner(fx.partner.id));
        let now = Utc::now();

        // valid from the RespondByDate to a week after it: accepted
        let good = x509("CN=Partner good", Duration::days(365));
        let trust = trust_request(
            &good,
            &[CertUsage::KeyEncipherment, CertUsage::DigitalSignature],
            now + Duration::days(5),
        );
        let effects = receive(
            store,
            &payloads,
            &fx,
            &request("good", &trust),
            CemPolicy::AcceptValid,
        )
        .unwrap();
        assert_eq!(effects.messages.len(), 1, "{name}");
        let row = store.cem().get(scope, effects.requests[0].id).unwrap();
        assert_eq!(row.status, CemStatus::Accepted, "{name}");
        let response = response_in(&payloads, &effects.messages[0]);
        assert_eq!(response.responses[0].status, CertStatus::Accepted, "{name}");
        // the answer goes to the request's ResponseURL, not to the partner's AS2 URL
        assert_eq!(
            effects.messages[0].destination_url.as_deref(),
            Some("https://partner.example/as2"),
            "{name}"
        );
        let record = lifecycle::load(store, scope, subject).unwrap().record;
        assert_eq!(record.state, TrustState::RolloverScheduled, "{name}");
        assert_eq!(record.next, Some(row.certificate_id), "{name}");

        // expires before the RespondByDate plus the week of overlap: rejected
        let short = x509("CN=Partner short", Duration::days(10));
        let trust = trust_request(
            &short,
            &[CertUsage::KeyEncipherment],
            now + Duration::days(5),
        );
        let effects = receive(
            store,
            &payloads,
            &fx,
            &request("short", &trust),
            CemPolicy::AcceptValid,
        )
        .unwrap();
        assert_eq!(effects.messages.len(), 1, "{name}");
        let short_row = store.cem().get(scope, effects.requests[0].id).unwrap();
        assert_eq!(short_row.status, CemStatus::Rejected, "{name}");
        assert!(
            short_row.reason.as_deref().unwrap().contains("respond-by"),
            "{name}: {:?}",
            short_row.reason
        );
        let response = response_in(&payloads, &effects.messages[0]);
        assert_eq!(response.responses[0].status, CertStatus::Rejected, "{name}");
        assert_eq!(response.responses[0].reason, short_row.reason, "{name}");
        // the rejected certificate is used for nothing
        let partner = store.partners().get(scope, fx.partner.id).unwrap();
        assert_eq!(
            partner.settings.encryption_certificate_id,
            Some(row.certificate_id),
            "{name}"
        );
        let record = lifecycle::load(store, scope, subject).unwrap().record;
        assert_eq!(record.next, Some(row.certificate_id), "{name}");

        // an encryption-only certificate switches encryption and leaves the rollover alone
        let encryption = x509("CN=Partner encryption", Duration::days(365));
        let trust = trust_request(
            &encryption,
            &[CertUsage::KeyEncipherment],
            now + Duration::days(5),
        );
        let effects = receive(
            store,
            &payloads,
            &fx,
            &request("encryption", &trust),
            CemPolicy::AcceptValid,
        )
        .unwrap();
        let enc_row = store.cem().get(scope, effects.requests[0].id).unwrap();
        assert_eq!(enc_row.status, CemStatus::Accepted, "{name}");
        let partner = store.partners().get(scope, fx.partner.id).unwrap();
        assert_eq!(
            partner.settings.encryption_certificate_id,
            Some(enc_row.certificate_id),
            "{name}"
        );
        let record = lifecycle::load(store, scope, subject).unwrap().record;
        assert_eq!(record.next, Some(row.certificate_id), "{name}");
        assert_eq!(outbound(store, &fx).len(), 3, "{name}");
    }
}

#[test]
fn a_tls_only_certificate_never_replaces_signing_or_encryption() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let (_dir, payloads) = payloads();
        let fx = partner_fixture(store);
        let (scope, subject) = (fx.scope, Subject::Partner(fx.partner.id));
        let before = store.partners().get(scope, fx.partner.id).unwrap().settings;
        let record_before = lifecycle::load(store, scope, subject).unwrap().record;
        let tls = x509("CN=Partner TLS", Duration::days(365));
        let trust = trust_request(
            &tls,
            &[CertUsage::TlsClient, CertUsage::TlsServer],
            Utc::now() + Duration::days(5),
        );
        let effects = receive(
            store,
            &payloads,
            &fx,
            &request("tls-only", &trust),
            CemPolicy::AcceptValid,
        )
        .unwrap();
        // recorded and answered ...
        let row = store.cem().get(scope, effects.requests[0].id).unwrap();
        assert_eq!(row.status, CemStatus::Accepted, "{name}");
        // ... but neither the encryption certificate nor the signing rollover moved
        let after = store.partners().get(scope, fx.partner.id).unwrap().settings;
        assert_eq!(after.certificate_id, before.certificate_id, "{name}");
        assert_eq!(
            after.encryption_certificate_id, before.encryption_certificate_id,
            "{name}"
        );
        let record = lifecycle::load(store, scope, subject).unwrap().record;
        assert_eq!(record, record_before, "{name}");
    }
}

#[test]
fn accepting_during_another_rollover_is_refused_and_changes_nothing() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let (_dir, payloads) = payloads();
        let fx = partner_fixture(store);
        let (scope, subject) = (fx.scope, Subject::Partner(fx.partner.id));
        let now = Utc::now();
        let manual = fake_certificate(store, scope, now + Duration::days(400));
        lifecycle::schedule(
            store,
            scope,
            subject,
            manual,
            now + Duration::days(1),
            now + Duration::days(8),
            "key_test",
            now,
        )
        .unwrap();
        let offered = x509("CN=Partner 2027", Duration::days(365));
        let trust = trust_request(
            &offered,
            &[CertUsage::KeyEncipherment, CertUsage::DigitalSignature],
            now + Duration::days(3),
        );
        let effects = receive(
            store,
            &payloads,
            &fx,
            &request("req-3", &trust),
            CemPolicy::Manual,
        )
        .unwrap();
        let row = &effects.requests[0];
        let refused = cem::accept(store, &payloads, scope, row.id, "key_test", now);
        assert!(
            matches!(&refused, Err(TrustOpError::Invalid(e)) if e.has("status")),
            "{name}: {refused:?}"
        );
        // a refused acceptance switches nothing: not even encryption
        let partner = store.partners().get(scope, fx.partner.id).unwrap();
        assert_eq!(partner.settings, fx.partner.settings, "{name}");
        assert_eq!(
            store.cem().get(scope, row.id).unwrap().status,
            CemStatus::Pending,
            "{name}"
        );
        let record = lifecycle::load(store, scope, subject).unwrap().record;
        assert_eq!(record.next, Some(manual), "{name}");
        assert!(outbound(store, &fx).is_empty(), "{name}");
    }
}

#[test]
fn our_offer_is_queued_and_the_partners_answer_moves_it_on() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let (_dir, payloads) = payloads();
        let fx = partner_fixture(store);
        let scope = fx.scope;
        let (partner, station) = (
            Subject::Partner(fx.partner.id),
            Subject::Station(fx.station.id),
        );
        let now = Utc::now();
        let cert = x509("CN=Our station 2027", Duration::days(365));
        let key_pair = store_x509(store, scope, &cert, true);
        let certificate_only = store_x509(store, scope, &cert, false);
        let respond_by = now.trunc_subsecs(0) + Duration::days(3);
        let offer = |certificate_id, respond_by| Offer {
            certificate_id,
            usages: vec![CertUsage::KeyEncipherment, CertUsage::DigitalSignature],
            respond_by,
            response_url: "https://us.example/as2".into(),
        };

        // the offer must be one of our key pairs and answerable in the future
        let refused = cem::offer(
            store,
            &payloads,
            scope,
            fx.partner.id,
            &offer(certificate_only, respond_by),
            "key_test",
            now,
        );
        assert!(
            matches!(&refused, Err(TrustOpError::Invalid(e))
                if e.fields().keys().collect::<Vec<_>>() == ["certificate_id"]),
            "{name}: {refused:?}"
        );
        let refused = cem::offer(
            store,
            &payloads,
            scope,
            fx.partner.id,
            &offer(key_pair, now - Duration::hours(1)),
            "key_test",
            now,
        );
        assert!(
            matches!(&refused, Err(TrustOpError::Invalid(e)) if e.has("respond_by")),
            "{name}: {refused:?}"
        );
        assert!(outbound(store, &fx).is_empty(), "{name}");
        assert!(event_types(store, scope, station).is_empty(), "{name}");

        let effects = cem::offer(
            store,
            &payloads,
            scope,
            fx.partner.id,
            &offer(key_pair, respond_by),
            "key_test",
            now,
        )
        .unwrap();
        assert_eq!(effects.messages.len(), 1, "{name}");
        let row = effects.requests[0].clone();
        assert_eq!(row.direction, CemDirection::Outbound, "{name}");
        assert_eq!(row.status, CemStatus::Pending, "{name}");
        assert_eq!(row.certificate_id, key_pair, "{name}");
        assert_eq!(row.message_id, Some(effects.messages[0].id), "{name}");
        // the station's rollover is scheduled for the RespondByDate
        let record = lifecycle::load(store, scope, station).unwrap().record;
        assert_eq!(record.state, TrustState::RolloverScheduled, "{name}");
        assert_eq!(record.next, Some(key_pair), "{name}");
        assert_eq!(record.activate_at, Some(respond_by), "{name}");
        assert_eq!(record.retire_at, Some(respond_by + cem::OVERLAP), "{name}");
        assert_eq!(
            event_types(store, scope, station),
            ["rollover_scheduled"],
            "{name}"
        );
        assert_eq!(
            event_types(store, scope, partner),
            ["cem_request_sent"],
            "{name}"
        );
        // the queued request offers the certificate
        let queued = outbound(store, &fx);
        assert_eq!(queued.len(), 1, "{name}");
        let body = payloads
            .read_ref(queued[0].payload.as_ref().unwrap())
            .unwrap();
        let sent = codec::parse_request(&queued[0].content_type, &body, STATION_AS2_ID).unwrap();
        assert_eq!(sent.request_id, row.request_id, "{name}");
        assert_eq!(sent.requests.len(), 1, "{name}");
        assert_eq!(sent.requests[0].certificate.der(), cert.der(), "{name}");
        assert_eq!(
            sent.requests[0].response_url, "https://us.example/as2",
            "{name}"
        );
        assert_eq!(
            DateTime::<Utc>::from(sent.requests[0].respond_by),
            respond_by,
            "{name}"
        );

        // the partner answers
        let answer = |request_id: &str, sender: &str| {
            codec::build_response(&CemResponse {
                request_id: request_id.into(),
                sender_as2_id: sender.into(),
                message_originated: SystemTime::now(),
                responses: vec![TrustResponse::accepted(&sent.requests[0])],
            })
            .unwrap()
        };
        let unknown = receive(
            store,
            &payloads,
            &fx,
            &answer("no-such-request", PARTNER_AS2_ID),
            CemPolicy::Manual,
        );
        assert!(
            matches!(unknown, Err(ReceiveError::Refused(_))),
            "{name}: {unknown:?}"
        );
        let impostor = receive(
            store,
            &payloads,
            &fx,
            &answer(&row.request_id, "SOMEONE-ELSE"),
            CemPolicy::Manual,
        );
        assert!(
            matches!(impostor, Err(ReceiveError::Refused(_))),
            "{name}: {impostor:?}"
        );
        assert_eq!(
            store.cem().get(scope, row.id).unwrap().status,
            CemStatus::Pending,
            "{name}"
        );

        let accepted = answer(&row.request_id, PARTNER_AS2_ID);
        let effects = receive(store, &payloads, &fx, &accepted, CemPolicy::Manual).unwrap();
        assert_eq!(effects.requests[0].status, CemStatus::Accepted, "{name}");
        assert!(effects.messages.is_empty(), "{name}");
        assert_eq!(
            store.cem().get(scope, row.id).unwrap().status,
            CemStatus::Accepted,
            "{name}"
        );
        assert_eq!(
            event_types(store, scope, partner),
            ["cem_request_sent", "cem_response_accepted"],
            "{name}"
        );
        // the same answer again changes nothing
        receive(store, &payloads, &fx, &accepted, CemPolicy::Manual).unwrap();
        assert_eq!(event_types(store, scope, partner).len(), 2, "{name}");
        assert_eq!(outbound(store, &fx).len(), 1, "{name}");
    }
}

#[test]
fn a_request_with_two_certificates_records_both_and_a_busy_partner_holds_it() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let (_dir, payloads) = payloads();
        let fx = partner_fixture(store);
        let (scope, subject) = (fx.scope, Subject::Partner(fx.partner.id));
        let now = Utc::now();
        let signing = x509("CN=Partner signing", Duration::days(365));
        let encryption = x509("CN=Partner encryption", Duration::days(365));
        let mut first = trust_request(
            &signing,
            &[CertUsage::DigitalSignature],
            now + Duration::days(3),
        );
        first.content_id = "signing@partner.example".into();
        let mut second = trust_request(
            &encryption,
            &[CertUsage::KeyEncipherment],
            now + Duration::days(3),
        );
        second.content_id = "encryption@partner.example".into();
        let built = codec::build_request(
            &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
            &codec::CemRequest {
                request_id: "req-two".into(),
                sender_as2_id: PARTNER_AS2_ID.into(),
                message_originated: SystemTime::now(),
                requests: vec![first.clone(), second.clone()],
            },
        )
        .unwrap();

        // another rollover is under way: the policy cannot accept the signing certificate
        let busy = fake_certificate(store, scope, now + Duration::days(300));
        lifecycle::schedule(
            store,
            scope,
            subject,
            busy,
            now + Duration::days(1),
            now + Duration::days(2),
            "key_test",
            now,
        )
        .unwrap();
        let effects = receive(store, &payloads, &fx, &built, CemPolicy::AcceptValid).unwrap();
        assert_eq!(effects.requests.len(), 2, "{name}");
        let rows = store.cem().list(scope, fx.partner.id).unwrap();
        assert_eq!(rows.len(), 2, "{name}");
        let by_serial = |t: &TrustRequest| {
            rows.iter()
                .find(|r| r.serial_decimal == t.serial_decimal)
                .unwrap_or_else(|| panic!("{name}: no row for {}", t.serial_decimal))
                .clone()
        };
        // the encryption-only certificate is accepted (no rollover needed), the signing one
        // waits for an operator instead of failing the partner's message
        assert_eq!(by_serial(&second).status, CemStatus::Accepted, "{name}");
        assert_eq!(by_serial(&first).status, CemStatus::Pending, "{name}");
        let returned: Vec<_> = effects.requests.iter().map(|r| r.status).collect();
        assert!(
            returned.contains(&CemStatus::Accepted),
            "{name}: {returned:?}"
        );
        assert!(
            event_types(store, scope, subject).contains(&"cem_request_held".to_owned()),
            "{name}"
        );
        // a resend records nothing new
        receive(store, &payloads, &fx, &built, CemPolicy::AcceptValid).unwrap();
        assert_eq!(
            store.cem().list(scope, fx.partner.id).unwrap().len(),
            2,
            "{name}"
        );
    }
}
