//! The expiry watch on every backend: one `certificate.expiring` notice per certificate and
//! threshold (30, 14, 7, 1 days), the tightest threshold crossed, none for certificates
//! further out or already expired, nothing twice, and the next threshold when its time comes.

use std::collections::BTreeMap;

use crate::common::{backend, fake_certificate, scope};
use as2_domain::id::{CertificateId, WebhookEndpointId};
use as2_domain::pagination::PageRequest;
use as2_domain::webhook::WebhookSettings;
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};
use as2_trust::expiry::announce_expiring;
use chrono::{Duration, Utc};

fn endpoint(store: &Store, scope: Scope, events: &[&str]) -> WebhookEndpointId {
    store
        .webhooks()
        .create(
            scope,
            &WebhookSettings {
                url: "https://hooks.example/as2".into(),
                description: None,
                events: events.iter().map(|e| (*e).to_owned()).collect(),
                active: true,
            },
            "whsec_test",
        )
        .unwrap()
        .id
}

/// The notices delivered to `endpoint`: (certificate id, days), in delivery order.
fn notices(store: &Store, scope: Scope, endpoint: WebhookEndpointId) -> Vec<(String, i64)> {
    let page = PageRequest {
        page: 1,
        per_page: 100,
    };
    let (deliveries, _) = store.webhooks().deliveries(scope, endpoint, page).unwrap();
    let mut notices: Vec<(String, i64)> = deliveries
        .iter()
        .rev()
        .map(|d| {
            assert_eq!(d.event_type, "certificate.expiring");
            let event = store.webhooks().event(d.event_id).unwrap();
            assert_eq!(event.scope, scope);
            let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            (
                data["id"].as_str().unwrap().to_owned(),
                data["days"].as_i64().unwrap(),
            )
        })
        .collect();
    notices.sort();
    notices
}

#[test]
fn each_threshold_is_announced_once_per_certificate() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let scope = scope(store);
        let watcher = endpoint(store, scope, &["certificate.expiring"]);
        let other = endpoint(store, scope, &["message.failed"]);
        let now = Utc::now();
        let ids: BTreeMap<&str, CertificateId> = [
            ("40d", Duration::days(40)),
            ("35d", Duration::days(35)),
            ("20d", Duration::days(20)),
            ("10d", Duration::days(10)),
            ("3d", Duration::days(3)),
            ("12h", Duration::hours(12)),
            ("expired", Duration::days(-1)),
        ]
        .into_iter()
        .map(|(label, left)| (label, fake_certificate(store, scope, now + left)))
        .collect();
        let id = |label: &str| ids[label].to_string();
        let mut expected = vec![
            (id("20d"), 30),
            (id("10d"), 14),
            (id("3d"), 7),
            (id("12h"), 1),
        ];
        expected.sort();

        assert_eq!(announce_expiring(store, Utc::now()).unwrap(), 4, "{name}");
        assert_eq!(notices(store, scope, watcher), expected, "{name}");
        // each threshold once: a second run (or another gateway) publishes nothing
        assert_eq!(announce_expiring(store, Utc::now()).unwrap(), 0, "{name}");
        let other_store = crate::common::second_store(&db);
        assert_eq!(
            announce_expiring(&other_store, Utc::now()).unwrap(),
            0,
            "{name}"
        );
        assert_eq!(notices(store, scope, watcher), expected, "{name}");
        // an endpoint not subscribed gets nothing
        assert_eq!(notices(store, scope, other), vec![], "{name}");

        // eight days on: the 35-day one crosses 30, the 20-day one 14, the 10-day one 7;
        // the 3-day and 12-hour ones have expired by then and the 40-day one is still out
        let later = Utc::now() + Duration::days(8);
        assert_eq!(announce_expiring(store, later).unwrap(), 3, "{name}");
        expected.extend([(id("35d"), 30), (id("20d"), 14), (id("10d"), 7)]);
        expected.sort();
        assert_eq!(notices(store, scope, watcher), expected, "{name}");
        assert_eq!(announce_expiring(store, later).unwrap(), 0, "{name}");
        assert!(
            !expected
                .iter()
                .any(|(c, _)| *c == id("40d") || *c == id("expired")),
            "{name}"
        );
    }
}

#[test]
fn a_deleted_certificate_is_not_announced() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = &db.store;
        let scope = scope(store);
        let watcher = endpoint(store, scope, &["certificate.*"]);
        let gone = fake_certificate(store, scope, Utc::now() + Duration::days(5));
        store.certificates().delete(scope, gone).unwrap();
        assert_eq!(announce_expiring(store, Utc::now()).unwrap(), 0, "{name}");
        assert_eq!(notices(store, scope, watcher), vec![], "{name}");
    }
}
