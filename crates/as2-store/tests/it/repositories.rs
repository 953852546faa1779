//! Repository behaviour on both backends: create, read, update, list, delete, conflicts.

use crate::common::*;
use as2_domain::algorithms::{
    CompressionOrder, KeyTransport, MdnMode, SignAlgorithm, SignatureScheme, UnsignedMic,
};
use as2_domain::id::PartnerId;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, ErrorKind, MessageError, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::partner_tls::{PartnerTls, TlsPin};
use as2_domain::trust::{TrustRecord, TrustSubject};
use as2_store::StoreError;
use as2_store::repo::messages::{MessageFilter, NewMessage};
use as2_store::repo::partners::PasswordChange;
use as2_store::repo::trust::NewTrustEvent;
use as2_store::testing::TestDb;
use chrono::Utc;

#[test]
fn partners_round_trip_every_field() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let station = station(store, s.a, "ACME");
        let cert = certificate(store, s.a, None);
        let mut settings = partner_settings(station, "AS2:CLIENTE_001");
        settings.email = Some("as2@cliente.com".into());
        settings.sign_algorithm = SignAlgorithm::Sha512;
        settings.encrypt = true;
        settings.certificate_id = Some(cert);
        settings.mdn_mode = MdnMode::Async;
        settings.mdn_url = Some("https://acme.example/mdn".into());
        settings.auth = true;
        settings.auth_user = Some("acme".into());
        settings.firewall = true;
        settings.allowed_networks = vec![
            "10.0.0.0/8".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ];
        settings.retry_attempts = 7;
        settings.signature_scheme = SignatureScheme::Pss;
        settings.key_transport = KeyTransport::RsaOaepSha256;
        settings.compression_order = CompressionOrder::AfterSigning;
        settings.unsigned_mic = UnsignedMic::WithHeaders;
        settings.tls = PartnerTls {
            ca_bundle: Some(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
            ),
            ca_only: true,
            pin_sha256: Some(TlsPin([7; 32])),
            client_certificate_id: Some(certificate(store, s.a, Some(b"key"))),
        };
        settings.tls_inbound_client_certificate_id = Some(cert);
        let created = store
            .partners()
            .create(s.a, &settings, Some("s3cret"))
            .unwrap();
        assert!(created.id.to_string().starts_with("prt_"));
        let read = store.partners().get(s.a, created.id).unwrap();
        assert_eq!(read.settings, settings);
        assert!(read.has_auth_password);
        assert_eq!(
            store
                .partners()
                .auth_password(s.a, created.id)
                .unwrap()
                .as_deref(),
            Some("s3cret")
        );

        settings.name = "Renamed".into();
        let updated = store
            .partners()
            .update(s.a, created.id, &settings, PasswordChange::Clear)
            .unwrap();
        assert_eq!(updated.settings.name, "Renamed");
        assert!(!updated.has_auth_password);

        let duplicate = store.partners().create(s.a, &settings, None);
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "{duplicate:?}"
        );

        let (list, total) = store
            .partners()
            .list(s.a, Some(station), PageRequest::default())
            .unwrap();
        assert_eq!((list.len(), total), (1, 1));
        store.partners().delete(s.a, created.id).unwrap();
        assert!(matches!(
            store.partners().get(s.a, created.id),
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.partners().get(s.a, PartnerId(999_999)),
            Err(StoreError::NotFound)
        ));
        // the AS2 ID is free again once the partner is deleted
        store.partners().create(s.a, &settings, None).unwrap();
    }
}

#[test]
fn default_station_moves() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let first = station(store, s.a, "ONE");
        assert_eq!(store.stations().default_station(s.a).unwrap().id, first);
        let second = station(store, s.a, "TWO");
        assert_eq!(store.stations().default_station(s.a).unwrap().id, second);
        assert!(
            !store
                .stations()
                .get(s.a, first)
                .unwrap()
                .settings
                .is_default
        );
        // routing finds the one station of the URL's mode, never the other mode's, with its
        // partner and the tenant's size limit, in one query
        let live_two = station(store, s.a_live, "TWO");
        for (scope, st) in [(s.a, second), (s.a_live, live_two)] {
            store
                .partners()
                .create(scope, &partner_settings(st, "THEM"), None)
                .unwrap();
        }
        let found = |mode, to: &str, from: &str| {
            store
                .stations()
                .inbound_route(mode, to, from, None)
                .unwrap()
                .map(|r| {
                    (
                        r.station.id,
                        r.partner.settings.station_id,
                        r.max_message_bytes,
                    )
                })
        };
        assert_eq!(
            found(as2_domain::Mode::Test, "TWO", "THEM"),
            Some((second, second, None))
        );
        assert_eq!(
            found(as2_domain::Mode::Live, "TWO", "THEM"),
            Some((live_two, live_two, None))
        );
        assert_eq!(found(as2_domain::Mode::Live, "ONE", "THEM"), None);
        assert_eq!(found(as2_domain::Mode::Test, "TWO", "NOBODY"), None);
        // the station without that partner is no route either
        assert_eq!(found(as2_domain::Mode::Test, "ONE", "THEM"), None);
    }
}

/// The route also says whether its partner sent a message with the request's Message-ID
/// before (an inbound one, of that partner, in that mode), so that a new message needs no
/// duplicate lookup of its own.
#[test]
fn the_route_says_whether_the_message_id_was_received_before() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let test_station = station(store, s.a, "US");
        let live_station = station(store, s.a_live, "US");
        let them = store
            .partners()
            .create(s.a, &partner_settings(test_station, "THEM"), None)
            .unwrap();
        store
            .partners()
            .create(s.a_live, &partner_settings(live_station, "THEM"), None)
            .unwrap();
        for (direction, id) in [
            (Direction::Inbound, "<seen@them>"),
            (Direction::Outbound, "<sent@us>"),
        ] {
            let new = message(&them, direction, id);
            store.messages().create(s.a, &new, None).unwrap();
        }
        let before = |mode, message_id: Option<&str>| {
            store
                .stations()
                .inbound_route(mode, "US", "THEM", message_id)
                .unwrap()
                .expect("a route")
                .received_before
        };
        assert!(
            before(as2_domain::Mode::Test, Some("<seen@them>")),
            "{}",
            db.url
        );
        assert!(!before(as2_domain::Mode::Test, Some("<new@them>")));
        // our own outbound message's id, the other mode's partner, no Message-ID at all
        assert!(!before(as2_domain::Mode::Test, Some("<sent@us>")));
        assert!(!before(as2_domain::Mode::Live, Some("<seen@them>")));
        assert!(!before(as2_domain::Mode::Test, None));
    }
}

/// The route carries both trust records, each its own subject's of its own scope (the
/// reception reads no record of its own), seeded from the subject's certificate while none
/// is stored.
#[test]
fn the_route_carries_the_station_and_partner_trust_records() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let ours = certificate(store, s.a, Some(b"key"));
        let (current, next) = (certificate(store, s.a, None), certificate(store, s.a, None));
        let mut station_settings = store
            .stations()
            .get(s.a, station(store, s.a, "US"))
            .unwrap();
        station_settings.settings.certificate_id = Some(ours);
        store
            .stations()
            .update(s.a, station_settings.id, &station_settings.settings)
            .unwrap();
        let mut settings = partner_settings(station_settings.id, "THEM");
        settings.certificate_id = Some(current);
        let them = store.partners().create(s.a, &settings, None).unwrap();
        let route = || {
            store
                .stations()
                .inbound_route(as2_domain::Mode::Test, "US", "THEM", Some("<m@them>"))
                .unwrap()
                .expect("a route")
        };
        let seeded = route();
        assert_eq!(seeded.station_trust, TrustRecord::with_current(Some(ours)));
        assert_eq!(
            seeded.partner_trust,
            TrustRecord::with_current(Some(current))
        );

        let scheduled = TrustRecord {
            next: Some(next),
            activate_at: Some(Utc::now() + chrono::Duration::days(1)),
            retire_at: Some(Utc::now() + chrono::Duration::days(8)),
            state: as2_domain::trust::TrustState::RolloverScheduled,
            ..TrustRecord::with_current(Some(current))
        };
        let event = trust_event("rollover_scheduled", "test");
        let save = |subject, id| {
            store
                .trust()
                .save(s.a, subject, id, None, &scheduled, None, &event)
                .unwrap()
        };
        save(TrustSubject::Partner, them.id.0);
        let stored = route();
        assert_eq!(
            stored.partner_trust.accepted(),
            vec![current, next],
            "{}",
            db.url
        );
        assert_eq!(stored.partner_trust.state, scheduled.state);
        // the station's record is its own, not the partner's with the same subject id
        assert_eq!(stored.station_trust, TrustRecord::with_current(Some(ours)));
        // a record saved for the station is the station's; the live mode's pair has none
        save(TrustSubject::Station, station_settings.id.0);
        assert_eq!(route().station_trust.accepted(), vec![current, next]);
        let live = station(store, s.a_live, "US");
        store
            .partners()
            .create(s.a_live, &partner_settings(live, "THEM"), None)
            .unwrap();
        let live_route = store
            .stations()
            .inbound_route(as2_domain::Mode::Live, "US", "THEM", None)
            .unwrap()
            .expect("the live route");
        assert_eq!(live_route.station_trust, TrustRecord::with_current(None));
        assert_eq!(live_route.partner_trust, TrustRecord::with_current(None));
    }
}

#[test]
fn messages_follow_the_state_machine_with_a_timeline() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let partner = partner(store, s.a, "P1");
        let new = NewMessage {
            subject: Some("Invoice"),
            filename: Some("invoice.edi"),
            bytes: 42,
            ..message(&partner, Direction::Outbound, "<m1@acme>")
        };
        let message = store
            .messages()
            .create_outbound(s.a, &new, 5, None)
            .unwrap();
        assert_eq!(message.status, MessageStatus::Queued);
        let job = store
            .jobs()
            .claim(
                &[as2_domain::job::JobKind::SendMessage],
                Utc::now(),
                chrono::Duration::minutes(1),
            )
            .unwrap();
        assert!(
            job.unwrap()
                .payload
                .contains(&format!("\"message_id\":{}", message.id.0))
        );

        let processing = store
            .messages()
            .transition(
                s.a,
                message.id,
                MessageStatus::Processing,
                None,
                "sending",
                None,
            )
            .unwrap();
        assert_eq!(processing.attempts, 1);
        let refused = store.messages().transition(
            s.a,
            message.id,
            MessageStatus::Received,
            None,
            "bogus",
            None,
        );
        assert!(matches!(refused, Err(StoreError::Conflict(_))));
        let error = MessageError {
            kind: ErrorKind::Transport,
            sentence: "Connection refused by partner.example:443".into(),
        };
        let failed = store
            .messages()
            .transition(
                s.a,
                message.id,
                MessageStatus::Failed,
                Some(&error),
                "failed",
                None,
            )
            .unwrap();
        assert_eq!(failed.error, Some(error));
        let events: Vec<_> = store
            .messages()
            .events(s.a, message.id)
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(events, ["queued", "sending", "failed"]);

        let duplicate = store.messages().create_outbound(s.a, &new, 5, None);
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "{duplicate:?}"
        );
        let found = store
            .messages()
            .find_by_as2_id(s.a, partner.id, Direction::Outbound, "<m1@acme>")
            .unwrap();
        assert_eq!(found.map(|m| m.id), Some(message.id));

        let mdn = MdnRecord {
            message_id: message.id,
            disposition: "automatic-action/MDN-sent-automatically; processed".into(),
            positive: true,
            mic: Some("abc=, sha-256".into()),
            mic_matched: Some(true),
            signed: true,
            verified: true,
            original_message_id: Some("<m1@acme>".into()),
            raw_key: None,
            created_at: as2_store::time::now(),
        };
        store.messages().record_mdn(s.a, &mdn).unwrap();
        assert_eq!(
            store.messages().mdn(s.a, message.id).unwrap(),
            Some(mdn.clone())
        );
        // a page's MDNs in one query: only those asked for, only in the caller's scope
        let unknown = as2_domain::id::MessageId(message.id.0 + 1000);
        let batch = store.messages().mdns(s.a, &[message.id, unknown]).unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(batch.get(&message.id), Some(&mdn));
        assert!(
            store
                .messages()
                .mdns(s.b, &[message.id])
                .unwrap()
                .is_empty()
        );
        assert!(store.messages().mdns(s.a, &[]).unwrap().is_empty());

        let filter = MessageFilter {
            status: Some(MessageStatus::Failed),
            ..MessageFilter::default()
        };
        assert_eq!(
            store
                .messages()
                .list(s.a, filter, PageRequest::default())
                .unwrap()
                .1,
            1
        );
        let filter = MessageFilter {
            direction: Some(Direction::Inbound),
            ..MessageFilter::default()
        };
        assert_eq!(
            store
                .messages()
                .list(s.a, filter, PageRequest::default())
                .unwrap()
                .1,
            0
        );
        let usage = store
            .messages()
            .usage(
                s.a,
                Utc::now() - chrono::Duration::days(1),
                Utc::now() + chrono::Duration::days(1),
            )
            .unwrap();
        assert_eq!(
            (usage.outbound_messages, usage.inbound_messages, usage.bytes),
            (1, 0, 42)
        );
    }
}

#[test]
fn trust_events_form_a_verifiable_chain() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let p = partner(store, s.a, "P1");
        let record = TrustRecord::with_current(None);
        for (version, kind) in [
            (None, "created"),
            (Some(1), "rollover_scheduled"),
            (Some(2), "activated"),
        ] {
            let event = NewTrustEvent {
                event_type: kind,
                actor: "key_000001",
                current_fingerprint: Some("aa"),
                next_fingerprint: None,
                details: "{}",
                timestamp_token: None,
            };
            store
                .trust()
                .save(
                    s.a,
                    TrustSubject::Partner,
                    p.id.0,
                    version,
                    &record,
                    None,
                    &event,
                )
                .unwrap();
        }
        let events = store
            .trust()
            .events(s.a, TrustSubject::Partner, p.id.0)
            .unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(
            events[1].prev_hash.as_deref(),
            Some(events[0].hash.as_str())
        );
        assert_eq!(
            store
                .trust()
                .verify_chain(s.a, TrustSubject::Partner, p.id.0)
                .unwrap(),
            (3, vec![])
        );
        assert!(
            store
                .trust()
                .events(s.b, TrustSubject::Partner, p.id.0)
                .unwrap()
                .is_empty()
        );
        // a writer that read version 2 lost the race: nothing is written, no event appended
        let stale = trust_event("activated", "scheduler");
        let lost = store.trust().save(
            s.a,
            TrustSubject::Partner,
            p.id.0,
            Some(2),
            &record,
            None,
            &stale,
        );
        assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
        let fresh = store.trust().save(
            s.a,
            TrustSubject::Partner,
            p.id.0,
            None,
            &record,
            None,
            &stale,
        );
        assert!(matches!(fresh, Err(StoreError::Conflict(_))), "{fresh:?}");
        assert_eq!(
            store
                .trust()
                .stored(s.a, TrustSubject::Partner, p.id.0, None)
                .unwrap()
                .version,
            Some(3)
        );
        assert_eq!(
            store
                .trust()
                .events(s.a, TrustSubject::Partner, p.id.0)
                .unwrap()
                .len(),
            3
        );
    }
}

#[test]
fn requeue_moves_only_a_failed_outbound_message_back_with_a_job() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let partner = partner(store, s.a, "P1");
        let new = message(&partner, Direction::Outbound, "<retry@acme>");
        let message = store
            .messages()
            .create_outbound(s.a, &new, 3, None)
            .unwrap();
        let kinds = [as2_domain::job::JobKind::SendMessage];
        let lease = chrono::Duration::minutes(1);
        assert!(
            store
                .jobs()
                .claim(&kinds, Utc::now(), lease)
                .unwrap()
                .is_some()
        );
        let refused = store.messages().requeue(s.a, message.id, 3, None);
        match refused {
            Err(StoreError::Conflict(what)) => assert!(what.contains("queued"), "{what}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert!(matches!(
            store.messages().requeue(s.b, message.id, 3, None),
            Err(StoreError::NotFound)
        ));
        store
            .messages()
            .transition(
                s.a,
                message.id,
                MessageStatus::Processing,
                None,
                "sending",
                None,
            )
            .unwrap();
        let error = MessageError {
            kind: ErrorKind::Transport,
            sentence: "Connection refused".into(),
        };
        store
            .messages()
            .transition(
                s.a,
                message.id,
                MessageStatus::Failed,
                Some(&error),
                "failed",
                None,
            )
            .unwrap();
        let queued = store.messages().requeue(s.a, message.id, 4, None).unwrap();
        assert_eq!(queued.status, MessageStatus::Queued);
        assert_eq!(queued.error, None);
        let job = store
            .jobs()
            .claim(&kinds, Utc::now(), lease)
            .unwrap()
            .expect("a new send job");
        assert!(
            job.payload
                .contains(&format!("\"message_id\":{}", message.id.0))
        );
        assert_eq!(job.max_attempts, 4);
        let events: Vec<_> = store
            .messages()
            .events(s.a, message.id)
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(events, ["queued", "sending", "failed", "retry_requested"]);
        assert!(matches!(
            store.messages().requeue(s.a, message.id, 4, None),
            Err(StoreError::Conflict(_))
        ));
    }
}
