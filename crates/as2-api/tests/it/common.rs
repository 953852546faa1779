//! The API test harness: the real router in process over a fresh database (SQLite, or
//! PostgreSQL when `AS2_TEST_API_BACKEND=postgres`), with a bootstrapped account and keys.

#![allow(dead_code)]

use std::collections::BTreeSet;

use as2_api::bootstrap::{bootstrap, create_key};
use as2_api::{ApiConfig, AppState, router};
use as2_domain::Mode;
use as2_domain::api_key::{KeyKind, Scope as KeyScope, generate};
use as2_domain::id::{AccountId, TenantId};
use as2_domain::plan::Plan;
use as2_store::payload::PayloadStore;
use as2_store::repo::api_keys::NewApiKey;
use as2_store::testing::TestDb;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

/// A running API over a fresh database.
pub struct TestApi {
    pub db: TestDb,
    pub router: Router,
    pub state: AppState,
    _payloads: tempfile::TempDir,
    /// Account key, test mode, every scope.
    pub key: String,
    /// Account key, live mode, every scope.
    pub live_key: String,
    pub account: AccountId,
    pub tenant: TenantId,
}

/// A response: status, headers, JSON body (Null when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl TestApi {
    pub fn new() -> Self {
        Self::with_config(ApiConfig::default())
    }

    /// A running API with `config`.
    pub fn with_config(config: ApiConfig) -> Self {
        let db = match std::env::var("AS2_TEST_API_BACKEND").as_deref() {
            Ok("postgres") => TestDb::postgres()
                .expect("AS2_TEST_POSTGRES_URL must be set for the postgres API run"),
            _ => TestDb::sqlite(),
        };
        let payloads = tempfile::tempdir().unwrap();
        let boot = bootstrap(&db.store, "AS2PLATFORM").unwrap().unwrap();
        let live = create_key(
            &db.store,
            boot.account_id,
            None,
            KeyKind::Account,
            Mode::Live,
            "live",
        )
        .unwrap();
        let state = AppState::new(
            db.store.clone(),
            PayloadStore::open(payloads.path()).unwrap(),
            config,
        );
        Self {
            router: router(state.clone()),
            state,
            db,
            _payloads: payloads,
            key: boot.test_key,
            live_key: live.secret,
            account: boot.account_id,
            tenant: boot.tenant_id,
        }
    }

    /// A second account with its own tenant and test key.
    pub fn other_account(&self) -> (TenantId, String) {
        let store = &self.db.store;
        let account = store
            .accounts()
            .create_account("Other", Plan::Free)
            .unwrap();
        let tenant = store
            .accounts()
            .create_tenant(account.id, "Other tenant")
            .unwrap();
        let key = create_key(
            store,
            account.id,
            Some(tenant.id),
            KeyKind::Tenant,
            Mode::Test,
            "other",
        )
        .unwrap();
        (tenant.id, key.secret)
    }

    /// A second account on the Enterprise plan (so a long sweep stays under its rate limit):
    /// its tenant, a tenant key and an account key, both test mode with every scope.
    pub fn other_enterprise_account(&self) -> (TenantId, String, String) {
        let store = &self.db.store;
        let account = store
            .accounts()
            .create_account("Other enterprise", Plan::Enterprise)
            .unwrap();
        let tenant = store
            .accounts()
            .create_tenant(account.id, "Other enterprise tenant")
            .unwrap();
        let tenant_key = create_key(
            store,
            account.id,
            Some(tenant.id),
            KeyKind::Tenant,
            Mode::Test,
            "other tenant key",
        )
        .unwrap();
        let account_key = create_key(
            store,
            account.id,
            None,
            KeyKind::Account,
            Mode::Test,
            "other account key",
        )
        .unwrap();
        (tenant.id, tenant_key.secret, account_key.secret)
    }

    /// Sends a request with extra headers; `body` as JSON when given.
    pub async fn call_with_headers(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            builder = builder.header("authorization", format!("Bearer {key}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                builder = builder.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&json).unwrap())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    /// A key of this account with exactly `scopes`.
    pub fn key_with(&self, scopes: &[KeyScope], mode: Mode) -> String {
        let generated = generate(KeyKind::Tenant, mode);
        let scopes: BTreeSet<KeyScope> = scopes.iter().copied().collect();
        self.db
            .store
            .api_keys()
            .create(&NewApiKey {
                account_id: self.account,
                tenant_id: Some(self.tenant),
                kind: KeyKind::Tenant,
                mode,
                name: "scoped",
                scopes: &scopes,
                generated: &generated,
            })
            .unwrap();
        generated.secret
    }

    /// Sends a request; `body` as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_with_headers(method, path, key, body, &[]).await
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            bytes,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(&self.key.clone()), None)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(&self.key.clone()), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(&self.key.clone()), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(&self.key.clone()), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, Some(&self.key.clone()), None)
            .await
    }
}

/// Asserts a 422 naming `field`.
pub fn assert_invalid(reply: &Reply, field: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.body
    );
    assert_eq!(
        reply.body["error"]["type"], "validation_error",
        "{:?}",
        reply.body
    );
    assert!(
        reply.body["errors"][field].is_array(),
        "{field} not named in {:?}",
        reply.body
    );
}
