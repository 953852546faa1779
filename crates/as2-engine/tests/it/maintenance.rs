//! The maintenance round over a real store, on SQLite and PostgreSQL: idempotency records
//! are kept their 24 hours and deleted after, so the table does not grow for ever; a
//! delivered message loses its payload after its tenant's payload days and its row after
//! the record days (the round's clock moved forward), a queued one stays.

use std::sync::Arc;
use std::time::Duration;

use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::message::{Direction, MessageStatus, PayloadRef};
use as2_domain::partner::PartnerSettings;
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_engine::maintenance::Maintenance;
use as2_store::payload::PayloadStore;
use as2_store::repo::idempotency::Claim;
use as2_store::repo::messages::NewMessage;
use as2_store::testing::TestDb;
use as2_store::{Scope, StoreError};
use as2_trust::stamper::{Stamper, TsaConfig};
use chrono::Utc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_records_are_purged_after_their_24_hours() {
    for db in TestDb::all() {
        let store = db.store.clone();
        let account = store
            .accounts()
            .create_account("Acme", Plan::Starter)
            .unwrap();
        let tenant = store.accounts().create_tenant(account.id, "Acme").unwrap();
        let now = Utc::now();
        let claimed = store
            .idempotency()
            .claim(tenant.id, "7c9e6679-7425-40de-944b-e07fc1f90ae7", "f", now)
            .unwrap();
        assert_eq!(claimed, Claim::Claimed);
        let payloads = tempfile::tempdir().unwrap();
        let maintenance = Maintenance::new(
            Arc::new(store.clone()),
            Arc::new(PayloadStore::open(payloads.path()).unwrap()),
            Stamper::new(store.clone(), TsaConfig::BuiltIn),
            Duration::from_secs(30),
        );
        // within the 24 hours: kept
        let round = maintenance.round(now + chrono::Duration::hours(23)).await;
        assert_eq!(round.idempotency_purged, 0);
        // after them: deleted by the round
        let round = maintenance.round(now + chrono::Duration::hours(25)).await;
        assert_eq!(round.idempotency_purged, 1);
        let again = store
            .idempotency()
            .claim(
                tenant.id,
                "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                "other",
                now,
            )
            .unwrap();
        assert_eq!(again, Claim::Claimed, "the key is free again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_without_a_row_is_swept_after_the_grace_period() {
    let db = TestDb::sqlite();
    let store = db.store.clone();
    let dir = tempfile::tempdir().unwrap();
    let payloads = Arc::new(PayloadStore::open(dir.path()).unwrap());
    let orphan = payloads.put_bytes(b"no row names me").unwrap();
    let shard = u8::from_str_radix(&orphan.key[..2], 16).unwrap();
    let maintenance = Maintenance::new(
        Arc::new(store.clone()),
        payloads.clone(),
        Stamper::new(store.clone(), TsaConfig::BuiltIn),
        Duration::from_secs(30),
    )
    .with_orphan_grace(Duration::from_secs(600));
    let now = Utc::now();
    // within the grace period: kept
    let swept = maintenance
        .sweep_orphans(now + chrono::Duration::minutes(5), shard)
        .await;
    assert_eq!(swept.orphans_deleted, 0);
    assert!(payloads.read(&orphan.key).is_ok());
    // after it: deleted
    let swept = maintenance
        .sweep_orphans(now + chrono::Duration::minutes(11), shard)
        .await;
    assert_eq!(swept.orphans_deleted, 1);
    assert!(payloads.read(&orphan.key).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_purges_past_retention_as_its_clock_moves() {
    for db in TestDb::all() {
        let store = db.store.clone();
        // Starter: payloads 90 days, records 400
        let account = store
            .accounts()
            .create_account("Acme", Plan::Starter)
            .unwrap();
        let tenant = store.accounts().create_tenant(account.id, "Acme").unwrap();
        let scope = Scope::new(tenant.id, Mode::Test);
        let station = store
            .stations()
            .create(
                scope,
                &StationSettings {
                    name: "Us".into(),
                    as2_id: "US".into(),
                    certificate_id: None,
                    encryption_certificate_id: None,
                    mdn_url: None,
                    is_default: true,
                },
            )
            .unwrap()
            .id;
        let mut settings = PartnerSettings::new(
            "Partner".into(),
            "THEM".into(),
            "https://partner.example/as2".into(),
            station,
        );
        settings.encrypt = false;
        let partner = store.partners().create(scope, &settings, None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let payloads = Arc::new(PayloadStore::open(dir.path()).unwrap());
        let mut sent = Vec::new();
        for name in ["delivered", "queued"] {
            let stored = payloads.put_bytes(name.as_bytes()).unwrap();
            let reference = PayloadRef::Object(stored.key.clone());
            let as2_id = format!("<{name}@us>");
            let message = store
                .messages()
                .create_outbound(
                    scope,
                    &NewMessage {
                        direction: Direction::Outbound,
                        partner_id: partner.id,
                        station_id: station,
                        as2_message_id: &as2_id,
                        subject: None,
                        filename: Some("f.edi"),
                        content_type: "application/edi-x12",
                        bytes: 5,
                        sha256: "00",
                        payload: Some(&reference),
                        mdn_mode: MdnMode::Sync,
                        status: MessageStatus::Queued,
                        error: None,
                        mic: None,
                        destination_url: None,
                    },
                    3,
                    None,
                )
                .unwrap();
            sent.push((message.id, stored.key));
        }
        let (delivered, delivered_key) = sent[0].clone();
        let (queued, queued_key) = sent[1].clone();
        for to in [MessageStatus::Processing, MessageStatus::Delivered] {
            store
                .messages()
                .transition(scope, delivered, to, None, to.as_str(), None)
                .unwrap();
        }
        let maintenance = Maintenance::new(
            Arc::new(store.clone()),
            payloads.clone(),
            Stamper::new(store.clone(), TsaConfig::BuiltIn),
            Duration::from_secs(30),
        );
        let now = Utc::now();

        let round = maintenance.round(now + chrono::Duration::days(89)).await;
        assert_eq!((round.payloads_purged, round.records_purged), (0, 0));
        let round = maintenance.round(now + chrono::Duration::days(91)).await;
        assert_eq!((round.payloads_purged, round.records_purged), (1, 0));
        let kept = store.messages().get(scope, delivered).unwrap();
        assert!(kept.payload.is_none() && kept.payload_purged_at.is_some());
        assert!(payloads.read(&delivered_key).is_err(), "the object is gone");
        // nothing twice
        let round = maintenance.round(now + chrono::Duration::days(92)).await;
        assert_eq!((round.payloads_purged, round.records_purged), (0, 0));

        let round = maintenance.round(now + chrono::Duration::days(401)).await;
        assert_eq!((round.payloads_purged, round.records_purged), (0, 1));
        assert!(matches!(
            store.messages().get(scope, delivered),
            Err(StoreError::NotFound)
        ));
        // a queued message is never purged, whatever its age
        let waiting = store.messages().get(scope, queued).unwrap();
        assert_eq!(waiting.status, MessageStatus::Queued);
        assert!(payloads.read(&queued_key).is_ok());
    }
}
