//! The maintenance round over a real store, on SQLite and PostgreSQL: idempotency records
//! are kept their 24 hours and deleted after, so the table does not grow for ever.

use std::sync::Arc;
use std::time::Duration;

use as2_domain::plan::Plan;
use as2_engine::maintenance::Maintenance;
use as2_store::payload::PayloadStore;
use as2_store::repo::idempotency::Claim;
use as2_store::testing::TestDb;
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
