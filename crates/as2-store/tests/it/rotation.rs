//! Master key rotation: every sealed column re-sealed under the new key in batches; an
//! interrupted run leaves every value readable with both keys and is resumed by running it
//! again; a value no key opens is reported, not fatal; plain idempotent answers are left alone.

use crate::common::*;
use as2_domain::idempotency::StoredResponse;
use as2_store::repo::partners::PasswordChange;
use as2_store::reseal::{IDEMPOTENT_RESPONSE_PURPOSE, Resealer, SealedColumn, rotate};
use as2_store::secrets::{MasterKey, SecretBox};
use as2_store::testing::{TestDb, test_secrets};
use as2_store::{Scope, Store};
use chrono::Utc;

const PARTNERS: usize = 7;
const CERTIFICATES: usize = 4;
const WEBHOOKS: usize = 3;

fn new_key() -> MasterKey {
    MasterKey::from_bytes(&[8; 32])
}

/// The new key current, the test key (`[7; 32]`) for reading.
fn rotated(store: &Store) -> Store {
    Store::new(
        store.db().clone(),
        SecretBox::new(new_key())
            .with_previous(&hex_key(7))
            .unwrap(),
    )
}

fn hex_key(byte: u8) -> String {
    format!("{byte:02x}").repeat(32)
}

struct Seeded {
    scope: Scope,
    partners: Vec<as2_domain::id::PartnerId>,
    certificates: Vec<as2_domain::id::CertificateId>,
    webhooks: Vec<as2_domain::id::WebhookEndpointId>,
}

fn seed(store: &Store) -> Seeded {
    let scope = scopes(store).a;
    let station = station(store, scope, "ROTATE");
    let partners = (0..PARTNERS)
        .map(|i| {
            let mut settings = partner_settings(station, &format!("P{i}"));
            settings.auth = true;
            settings.auth_user = Some("user".into());
            store
                .partners()
                .create(scope, &settings, Some(&format!("password-{i}")))
                .unwrap()
                .id
        })
        .collect();
    let certificates = (0..CERTIFICATES)
        .map(|i| certificate(store, scope, Some(format!("key-{i}").as_bytes())))
        .collect();
    let webhooks = (0..WEBHOOKS)
        .map(|i| {
            let settings = as2_domain::webhook::WebhookSettings {
                url: format!("https://h{i}.example/"),
                description: None,
                events: vec!["*".into()],
                active: true,
            };
            store
                .webhooks()
                .create(scope, &settings, &format!("whsec_{i}"))
                .unwrap()
                .id
        })
        .collect();
    store
        .timestamp_authority()
        .create_if_absent(b"\x30\x00", b"tsa-key")
        .unwrap();
    let keys = store.idempotency();
    for (key, body) in [
        (
            "sealed",
            store
                .secrets()
                .seal(IDEMPOTENT_RESPONSE_PURPOSE, b"{\"id\":1}")
                .into_bytes(),
        ),
        ("plain", b"{\"id\":2}".to_vec()),
    ] {
        keys.claim(scope.tenant_id, key, "fp", Utc::now()).unwrap();
        keys.finish(scope.tenant_id, key, &StoredResponse { status: 201, body })
            .unwrap();
    }
    Seeded {
        scope,
        partners,
        certificates,
        webhooks,
    }
}

/// Every secret reads back with its plaintext through `store`.
fn all_open(store: &Store, seeded: &Seeded) {
    let s = seeded.scope;
    for (i, id) in seeded.partners.iter().enumerate() {
        let password = store.partners().auth_password(s, *id).unwrap();
        assert_eq!(password.as_deref(), Some(format!("password-{i}").as_str()));
    }
    for (i, id) in seeded.certificates.iter().enumerate() {
        let key = store.certificates().private_key(s, *id).unwrap();
        assert_eq!(key, format!("key-{i}").as_bytes());
    }
    for (i, id) in seeded.webhooks.iter().enumerate() {
        assert_eq!(
            store.webhooks().secret(s, *id).unwrap(),
            format!("whsec_{i}")
        );
    }
    let tsa = store.timestamp_authority().current().unwrap().unwrap();
    assert_eq!(tsa.private_key, b"tsa-key");
}

/// Sealed values in all: partners, certificates, webhooks, the TSA key, one idempotent answer.
const SEALED: usize = PARTNERS + CERTIFICATES + WEBHOOKS + 1 + 1;

#[test]
fn an_interrupted_rotation_resumes_and_ends_under_the_new_key() {
    for db in TestDb::all() {
        assert_eq!(
            db.store.secrets().current_key_id(),
            MasterKey::from_bytes(&[7; 32]).id()
        );
        let seeded = seed(&db.store);
        let store = rotated(&db.store);
        assert_eq!(
            Resealer::new(&store, 2).count_not_current().unwrap(),
            SEALED
        );

        // interrupted after three batches of two
        let mut batches = 0;
        let first = rotate(&store, 2, |_, _| {
            batches += 1;
            batches < 3
        })
        .unwrap();
        assert!(!first.finished);
        assert_eq!(first.total_resealed(), 6, "{first:?}");
        assert_eq!(
            Resealer::new(&store, 2).count_not_current().unwrap(),
            SEALED - 6
        );
        // half way, the platform reads everything with both keys configured...
        all_open(&store, &seeded);
        // ...a process still on the old key alone cannot read what was re-sealed...
        let old_only = Store::new(db.store.db().clone(), test_secrets());
        assert!(
            old_only
                .partners()
                .auth_password(seeded.scope, seeded.partners[0])
                .is_err()
        );
        // ...and the API keeps writing: a password changed meanwhile is sealed under the new key
        let changed = seeded.partners[PARTNERS - 1];
        let partner = store.partners().get(seeded.scope, changed).unwrap();
        store
            .partners()
            .update(
                seeded.scope,
                changed,
                &partner.settings,
                PasswordChange::Set(&format!("password-{}", PARTNERS - 1)),
            )
            .unwrap();

        let second = rotate(&store, 2, |_, _| true).unwrap();
        assert!(second.finished, "{second:?}");
        assert!(second.unreadable.is_empty(), "{second:?}");
        assert_eq!(
            first.total_resealed() + second.total_resealed(),
            SEALED - 1,
            "the password changed meanwhile needed nothing: {second:?}"
        );
        assert_eq!(Resealer::new(&store, 2).count_not_current().unwrap(), 0);

        // the old key can go: the new key alone opens everything
        let new_only = Store::new(db.store.db().clone(), SecretBox::new(new_key()));
        all_open(&new_only, &seeded);
        let replayed = |key: &str| {
            let claim = new_only
                .idempotency()
                .claim(seeded.scope.tenant_id, key, "fp", Utc::now())
                .unwrap();
            let as2_store::repo::idempotency::Claim::Existing(record) = claim else {
                panic!("the key was claimed before");
            };
            record.response.unwrap().body
        };
        let sealed = String::from_utf8(replayed("sealed")).unwrap();
        assert!(
            sealed.starts_with(&format!("v1.{}.", new_key().id())),
            "{sealed}"
        );
        assert_eq!(
            new_only
                .secrets()
                .open(IDEMPOTENT_RESPONSE_PURPOSE, &sealed)
                .unwrap(),
            b"{\"id\":1}"
        );
        assert_eq!(
            replayed("plain"),
            b"{\"id\":2}",
            "plain answers are left as they are"
        );

        // a third run finds nothing to do
        let third = rotate(&store, 50, |_, _| true).unwrap();
        assert_eq!(third.total_resealed(), 0);
        assert!(third.finished);
    }
}

#[test]
fn a_value_no_key_opens_is_reported_and_the_rest_rotates() {
    for db in TestDb::all() {
        let seeded = seed(&db.store);
        let stranger = Store::new(
            db.store.db().clone(),
            SecretBox::new(MasterKey::from_bytes(&[9; 32])),
        );
        let other = seeded.certificates[1];
        // sealed under a key nobody configured (a key lost before its rotation)
        let lost_row = certificate(&stranger, seeded.scope, Some(b"foreign"));
        let store = rotated(&db.store);
        let report = rotate(&store, 3, |_, _| true).unwrap();
        assert!(report.finished);
        assert_eq!(report.total_resealed(), SEALED);
        assert_eq!(report.unreadable.len(), 1, "{report:?}");
        let (column, id, why) = &report.unreadable[0];
        assert_eq!(*column, SealedColumn::CertificateKeys);
        assert_eq!(*id, lost_row.0);
        assert!(why.to_string().contains("not configured"), "{why}");
        assert_eq!(
            store
                .certificates()
                .private_key(seeded.scope, other)
                .unwrap(),
            b"key-1"
        );
        assert_eq!(Resealer::new(&store, 3).count_not_current().unwrap(), 1);
    }
}
