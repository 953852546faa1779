//! The orphan sweep on both databases and both payload backends (the file system, and S3 on
//! a real server on 127.0.0.1): a payload no row names is deleted once older than the grace
//! period; one named by a message or by an MDN is kept, and so is a fresh one.

use std::time::{Duration, SystemTime};

use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::partner::{Partner, PartnerSettings};
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_payload_s3::{S3Config, open_s3};
use as2_store::orphans::sweep_shard;
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::NewMessage;
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};
use as2_test_support::s3::S3Server;

const HOUR: Duration = Duration::from_secs(3600);

/// A tenant's test mode.
fn tenant(store: &Store) -> Scope {
    let account = store
        .accounts()
        .create_account("Acme", Plan::Starter)
        .unwrap();
    let tenant = store.accounts().create_tenant(account.id, "Acme").unwrap();
    Scope::new(tenant.id, Mode::Test)
}

/// A partner (and its station) of `scope`.
fn partner(store: &Store, scope: Scope, name: &str) -> Partner {
    let station = StationSettings {
        name: format!("Station {name}"),
        as2_id: format!("US-{name}"),
        certificate_id: None,
        encryption_certificate_id: None,
        mdn_url: None,
        is_default: true,
    };
    let station = store.stations().create(scope, &station).unwrap().id;
    let mut settings = PartnerSettings::new(
        "Partner".into(),
        format!("THEM-{name}"),
        "https://partner.example/as2".into(),
        station,
    );
    settings.encrypt = false;
    store.partners().create(scope, &settings, None).unwrap()
}

fn shard(key: &str) -> u8 {
    u8::from_str_radix(&key[..2], 16).unwrap()
}

/// Sweeps the shards of `keys` with `cutoff`; the orphans deleted.
fn sweep(store: &Store, payloads: &PayloadStore, keys: &[&str], cutoff: SystemTime) -> usize {
    let mut shards: Vec<u8> = keys.iter().map(|k| shard(k)).collect();
    shards.sort_unstable();
    shards.dedup();
    shards
        .into_iter()
        .map(|s| {
            sweep_shard(store, payloads, s, cutoff, false)
                .unwrap()
                .orphans_deleted
        })
        .sum()
}

/// A fresh store of each backend (one bucket per call).
fn backends(
    dir: &std::path::Path,
    server: Option<&S3Server>,
    n: usize,
) -> Vec<(&'static str, PayloadStore)> {
    let mut stores = vec![("fs", PayloadStore::open(dir.join(n.to_string())).unwrap())];
    if let Some(server) = server {
        let bucket = format!("orphans-{n}");
        server.create_bucket(&bucket);
        let config =
            S3Config::from_url(&format!("s3://{bucket}/sweep"), |n| server.var(n)).unwrap();
        stores.push(("s3", open_s3(config).unwrap()));
    }
    stores
}

#[test]
fn payloads_without_a_row_are_deleted_after_the_grace_period() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    for (n, db) in TestDb::all().into_iter().enumerate() {
        for (backend, payloads) in &backends(dir.path(), server.as_ref(), n) {
            let store = &db.store;
            let scope = tenant(store);
            let partner = partner(store, scope, backend);
            let named = payloads.put_bytes(b"a message's payload").unwrap();
            let mdn_raw = payloads.put_bytes(b"a partner's MDN").unwrap();
            let orphan = payloads
                .put_bytes(b"written, then the process died")
                .unwrap();
            let as2_id = format!("<orphans-{backend}@acme>");
            let message = store
                .messages()
                .create_outbound(
                    scope,
                    &NewMessage {
                        direction: Direction::Outbound,
                        partner_id: partner.id,
                        station_id: partner.settings.station_id,
                        as2_message_id: &as2_id,
                        subject: None,
                        filename: None,
                        content_type: "application/edi-x12",
                        bytes: 19,
                        sha256: &named.sha256,
                        payload: Some(&as2_domain::message::PayloadRef::Object(named.key.clone())),
                        mdn_mode: MdnMode::Sync,
                        status: MessageStatus::Queued,
                        error: None,
                        mic: None,
                        destination_url: None,
                    },
                    1,
                    None,
                )
                .unwrap();
            store
                .messages()
                .record_mdn(
                    scope,
                    &MdnRecord {
                        message_id: message.id,
                        disposition: "automatic-action/MDN-sent-automatically; processed".into(),
                        positive: true,
                        mic: None,
                        mic_matched: None,
                        signed: false,
                        verified: false,
                        original_message_id: Some(as2_id.clone()),
                        raw_key: Some(mdn_raw.key.clone()),
                        created_at: as2_store::time::now(),
                    },
                )
                .unwrap();
            let keys = [
                named.key.as_str(),
                mdn_raw.key.as_str(),
                orphan.key.as_str(),
            ];

            // within the grace period: nothing is touched
            let now = SystemTime::now();
            assert_eq!(sweep(store, payloads, &keys, now - HOUR), 0, "{backend}");
            assert!(payloads.read(&orphan.key).is_ok(), "{backend}");

            // after it: the orphan goes, what a row names stays
            assert_eq!(sweep(store, payloads, &keys, now + HOUR), 1, "{backend}");
            assert!(
                payloads.read(&orphan.key).is_err(),
                "{backend}: orphan kept"
            );
            assert_eq!(payloads.read(&named.key).unwrap(), b"a message's payload");
            assert_eq!(payloads.read(&mdn_raw.key).unwrap(), b"a partner's MDN");
            // a second sweep finds nothing more
            assert_eq!(sweep(store, payloads, &keys, now + HOUR), 0, "{backend}");
        }
    }
}
