//! Secrets at rest: the raw rows never hold the plaintext, and a wrong master key fails
//! with a clear error instead of returning garbage.

use crate::common::*;
use as2_store::secrets::{MasterKey, SecretBox, SecretError};
use as2_store::testing::TestDb;
use as2_store::{DbConn, Store, StoreError};
use diesel::prelude::*;
use diesel::sql_types::Text;

#[derive(QueryableByName)]
struct Raw {
    #[diesel(sql_type = Text)]
    value: String,
}

fn raw(db: &as2_store::Database, sql: &str) -> Vec<String> {
    let mut conn = db.conn().unwrap();
    let rows: Vec<Raw> = match &mut conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).load(&mut **c).unwrap(),
        DbConn::Postgres(c) => diesel::sql_query(sql).load(&mut ***c).unwrap(),
    };
    rows.into_iter().map(|r| r.value).collect()
}

#[test]
fn plaintext_never_reaches_the_rows() {
    const PASSWORD: &str = "correct-horse-battery-staple";
    const KEY: &[u8] = b"-----PRIVATE KEY MATERIAL-----";
    const WEBHOOK: &str = "whsec_0123456789abcdef";
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let cert = certificate(store, s.a, Some(KEY));
        let station = station(store, s.a, "ACME");
        let mut settings = partner_settings(station, "P1");
        settings.auth = true;
        settings.auth_user = Some("acme".into());
        let p = store
            .partners()
            .create(s.a, &settings, Some(PASSWORD))
            .unwrap();
        let settings = as2_domain::webhook::WebhookSettings {
            url: "https://h.example/".into(),
            description: None,
            events: vec!["*".into()],
            active: true,
        };
        let wh = store.webhooks().create(s.a, &settings, WEBHOOK).unwrap();

        let mut stored = raw(
            store.db(),
            "SELECT auth_password_secret AS value FROM partners",
        );
        stored.extend(raw(
            store.db(),
            "SELECT private_key_secret AS value FROM certificates",
        ));
        stored.extend(raw(
            store.db(),
            "SELECT secret AS value FROM webhook_endpoints",
        ));
        assert_eq!(stored.len(), 3);
        for value in &stored {
            assert!(value.starts_with("v1."), "{value}");
            assert!(
                !value.contains(PASSWORD)
                    && !value.contains("PRIVATE KEY")
                    && !value.contains("0123456789abcdef")
            );
        }

        assert_eq!(
            store
                .partners()
                .auth_password(s.a, p.id)
                .unwrap()
                .as_deref(),
            Some(PASSWORD)
        );
        assert_eq!(store.certificates().private_key(s.a, cert).unwrap(), KEY);
        assert_eq!(store.webhooks().secret(s.a, wh.id).unwrap(), WEBHOOK);

        let wrong = Store::new(
            store.db().clone(),
            SecretBox::new(MasterKey::from_bytes(&[9; 32])),
        );
        let error = wrong.partners().auth_password(s.a, p.id).unwrap_err();
        assert!(
            matches!(error, StoreError::Secret(SecretError::UnknownKey(_))),
            "{error:?}"
        );
        assert!(error.to_string().contains("not configured"), "{error}");
        assert!(matches!(
            wrong.certificates().private_key(s.a, cert),
            Err(StoreError::Secret(_))
        ));
    }
}
