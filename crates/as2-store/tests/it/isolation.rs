//! Tenant and mode isolation: through every repository, tenant A's scope never reaches
//! tenant B's rows, and test-mode scope never reaches live-mode rows.

use crate::common::*;
use as2_domain::id::TrustEventId;
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::trust::{TrustRecord, TrustSubject};
use as2_domain::webhook::{EventType, WebhookSettings};
use as2_store::repo::certificates::CertificateFilter;
use as2_store::repo::messages::{MessageFilter, NewMessage};
use as2_store::repo::partners::PasswordChange;
use as2_store::testing::TestDb;
use as2_store::{Scope, StoreError};

fn not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// The scopes that must not see tenant A's test-mode rows.
fn outsiders(s: &Scopes) -> [Scope; 2] {
    [s.b, s.a_live]
}

#[test]
fn certificates_are_isolated() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let id = certificate(store, s.a, Some(b"private"));
        for other in outsiders(&s) {
            not_found(store.certificates().get(other, id));
            not_found(store.certificates().der(other, id));
            not_found(store.certificates().private_key(other, id));
            not_found(store.certificates().delete(other, id));
            assert_eq!(
                store
                    .certificates()
                    .list(other, CertificateFilter::default(), PageRequest::default())
                    .unwrap()
                    .1,
                0
            );
        }
        assert_eq!(
            store.certificates().private_key(s.a, id).unwrap(),
            b"private"
        );
    }
}

#[test]
fn stations_are_isolated() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let id = station(store, s.a, "ACME");
        let settings = store.stations().get(s.a, id).unwrap().settings;
        for other in outsiders(&s) {
            not_found(store.stations().get(other, id));
            not_found(store.stations().update(other, id, &settings));
            not_found(store.stations().delete(other, id));
            not_found(store.stations().default_station(other));
            assert_eq!(
                store
                    .stations()
                    .list(other, PageRequest::default())
                    .unwrap()
                    .1,
                0
            );
        }
    }
}

#[test]
fn partners_are_isolated() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let p = partner(store, s.a, "P1");
        for other in outsiders(&s) {
            not_found(store.partners().get(other, p.id));
            not_found(
                store
                    .partners()
                    .update(other, p.id, &p.settings, PasswordChange::Keep),
            );
            not_found(store.partners().auth_password(other, p.id));
            not_found(store.partners().delete(other, p.id));
            not_found(
                store
                    .partners()
                    .find_for_station(other, p.settings.station_id, "P1"),
            );
            assert_eq!(
                store
                    .partners()
                    .list(other, None, PageRequest::default())
                    .unwrap()
                    .1,
                0
            );
        }
    }
}

#[test]
fn messages_are_isolated() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let p = partner(store, s.a, "P1");
        let new = NewMessage {
            bytes: 10,
            ..message(&p, Direction::Inbound, "<in@partner>")
        };
        let m = store.messages().create(s.a, &new, None).unwrap();
        for other in outsiders(&s) {
            not_found(store.messages().get(other, m.id));
            not_found(store.messages().events(other, m.id));
            not_found(store.messages().transition(
                other,
                m.id,
                MessageStatus::Failed,
                None,
                "x",
                None,
            ));
            not_found(store.messages().set_mic(other, m.id, "x"));
            assert_eq!(store.messages().mdn(other, m.id).unwrap(), None);
            assert_eq!(
                store
                    .messages()
                    .find_by_as2_id(other, p.id, Direction::Inbound, "<in@partner>")
                    .unwrap(),
                None
            );
            assert_eq!(
                store
                    .messages()
                    .list(other, MessageFilter::default(), PageRequest::default())
                    .unwrap()
                    .1,
                0
            );
            let usage = store
                .messages()
                .usage(
                    other,
                    chrono::Utc::now() - chrono::Duration::days(1),
                    chrono::Utc::now() + chrono::Duration::days(1),
                )
                .unwrap();
            assert_eq!(usage.inbound_messages, 0);
        }
    }
}

#[test]
fn webhooks_are_isolated() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let settings = WebhookSettings {
            url: "https://hooks.example/a".into(),
            description: None,
            events: vec!["*".into()],
            active: true,
        };
        let wh = store
            .webhooks()
            .create(s.a, &settings, "whsec_abc")
            .unwrap();
        store
            .webhooks()
            .publish(s.a, EventType::PartnerCreated, "{}", None)
            .unwrap();
        for other in outsiders(&s) {
            not_found(store.webhooks().get(other, wh.id));
            not_found(store.webhooks().update(other, wh.id, &settings));
            not_found(store.webhooks().secret(other, wh.id));
            not_found(
                store
                    .webhooks()
                    .deliveries(other, wh.id, PageRequest::default()),
            );
            not_found(store.webhooks().delete(other, wh.id));
            assert_eq!(
                store
                    .webhooks()
                    .list(other, PageRequest::default())
                    .unwrap()
                    .1,
                0
            );
            // an event published in another scope reaches no endpoint of A
            store
                .webhooks()
                .publish(other, EventType::PartnerCreated, "{}", None)
                .unwrap();
        }
        assert_eq!(
            store
                .webhooks()
                .deliveries(s.a, wh.id, PageRequest::default())
                .unwrap()
                .1,
            1
        );
    }
}

#[test]
fn trust_records_and_idempotency_keys_are_isolated() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let p = partner(store, s.a, "P1");
        let event = trust_event("created", "test");
        let mut record = TrustRecord::with_current(None);
        record.retire_at = Some(chrono::Utc::now());
        let saved = store
            .trust()
            .save(
                s.a,
                TrustSubject::Partner,
                p.id.0,
                None,
                &record,
                None,
                &event,
            )
            .unwrap();
        assert_ne!(saved.id, TrustEventId(0));
        for other in outsiders(&s) {
            assert_eq!(
                store
                    .trust()
                    .record(other, TrustSubject::Partner, p.id.0, None)
                    .unwrap()
                    .retire_at,
                None
            );
            assert!(
                store
                    .trust()
                    .events(other, TrustSubject::Partner, p.id.0)
                    .unwrap()
                    .is_empty()
            );
        }
        let now = chrono::Utc::now();
        use as2_store::repo::idempotency::Claim;
        assert_eq!(
            store
                .idempotency()
                .claim(s.a.tenant_id, "k", "fp", now)
                .unwrap(),
            Claim::Claimed
        );
        assert_eq!(
            store
                .idempotency()
                .claim(s.b.tenant_id, "k", "other", now)
                .unwrap(),
            Claim::Claimed,
            "keys are per tenant"
        );
    }
}

#[test]
fn tenants_and_api_keys_are_isolated_by_account() {
    use as2_domain::api_key::{KeyKind, Scope as KeyScope, generate};
    use as2_store::repo::api_keys::NewApiKey;
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let a_account = store
            .accounts()
            .first_tenant(as2_domain::id::AccountId(1))
            .unwrap()
            .account_id;
        let b_tenant = s.b.tenant_id;
        not_found(store.accounts().tenant(a_account, b_tenant));
        not_found(store.accounts().rename_tenant(a_account, b_tenant, "x"));
        not_found(store.accounts().delete_tenant(a_account, b_tenant));
        let scopes_set = [KeyScope::Read].into_iter().collect();
        let generated = generate(KeyKind::Tenant, as2_domain::Mode::Test);
        let key = store
            .api_keys()
            .create(&NewApiKey {
                account_id: a_account,
                tenant_id: Some(s.a.tenant_id),
                kind: KeyKind::Tenant,
                mode: as2_domain::Mode::Test,
                name: "ci",
                scopes: &scopes_set,
                generated: &generated,
            })
            .unwrap();
        let b_account = store
            .accounts()
            .tenant(as2_domain::id::AccountId(2), b_tenant)
            .unwrap()
            .account_id;
        not_found(
            store
                .api_keys()
                .revoke(b_account, as2_domain::Mode::Test, None, key.id),
        );
        not_found(
            store
                .api_keys()
                .revoke(a_account, as2_domain::Mode::Live, None, key.id),
        );
        assert_eq!(
            store
                .api_keys()
                .list(
                    b_account,
                    as2_domain::Mode::Test,
                    None,
                    PageRequest::default()
                )
                .unwrap()
                .1,
            0
        );
        assert_eq!(
            store
                .api_keys()
                .list(
                    a_account,
                    as2_domain::Mode::Live,
                    None,
                    PageRequest::default()
                )
                .unwrap()
                .1,
            0
        );
        assert_eq!(
            store.api_keys().authenticate(&generated.hash).unwrap().0.id,
            key.id
        );
        store
            .api_keys()
            .revoke(a_account, as2_domain::Mode::Test, None, key.id)
            .unwrap();
        not_found(store.api_keys().authenticate(&generated.hash));
    }
}

#[test]
fn cem_requests_are_isolated() {
    use as2_domain::cem::{CemDirection, CemStatus};
    use as2_store::repo::cem::NewCemRequest;
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let p = partner(store, s.a, "P1");
        let certificate = certificate(store, s.a, None);
        let usages = vec!["signature".to_owned()];
        let row = store
            .cem()
            .create(
                s.a,
                &NewCemRequest {
                    direction: CemDirection::Inbound,
                    partner_id: p.id,
                    station_id: p.settings.station_id,
                    request_id: "req-1",
                    certificate_id: certificate,
                    usages: &usages,
                    issuer_name: "CN=partner",
                    serial_decimal: "1",
                    respond_by: chrono::Utc::now() + chrono::Duration::days(7),
                    response_url: "https://partner.example/as2",
                    message_id: None,
                },
            )
            .unwrap();
        for (n, other) in outsiders(&s).into_iter().enumerate() {
            // a message the other scope owns, which it tries to hang on A's request
            let theirs = partner(store, other, &format!("P{}", n + 2));
            let message = store
                .messages()
                .create(
                    other,
                    &NewMessage {
                        content_type: "multipart/related",
                        bytes: 10,
                        ..message(&theirs, Direction::Inbound, "<cem@partner>")
                    },
                    None,
                )
                .unwrap();
            not_found(store.cem().get(other, row.id));
            not_found(store.cem().set_message(other, row.id, message.id));
            assert!(store.cem().list(other, p.id).unwrap().is_empty());
            assert!(
                !store
                    .cem()
                    .answer(other, row.id, CemStatus::Accepted, None)
                    .unwrap()
            );
        }
        let untouched = store.cem().get(s.a, row.id).unwrap();
        assert_eq!(untouched.message_id, None);
        assert_eq!(untouched.status, CemStatus::Pending);
        // the request's own scope links it
        let own = store
            .messages()
            .create(
                s.a,
                &NewMessage {
                    content_type: "multipart/related",
                    bytes: 10,
                    ..message(&p, Direction::Inbound, "<cem@partner>")
                },
                None,
            )
            .unwrap();
        store.cem().set_message(s.a, row.id, own.id).unwrap();
        assert_eq!(
            store.cem().get(s.a, row.id).unwrap().message_id,
            Some(own.id)
        );
    }
}
