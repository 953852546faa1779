//! A webhook redelivery through the real worker, on SQLite and PostgreSQL: an endpoint on
//! 127.0.0.1 first answers 500 (the delivery waits for its retry), then a redelivery posts
//! the same body (the same event id, data and timestamp) under its own `X-Webhook-Id` and
//! succeeds, while the original keeps its attempt and its answer.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
use as2_domain::Mode;
use as2_domain::destination::DestinationPolicy;
use as2_domain::pagination::PageRequest;
use as2_domain::plan::Plan;
use as2_domain::webhook::{EventType, WebhookSettings};
use as2_engine::metrics::Metrics;
use as2_engine::{Worker, WorkerConfig};
use as2_store::Scope;
use as2_store::payload::PayloadStore;
use as2_store::repo::webhook_redelivery::Redelivery;
use as2_store::testing::TestDb;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

/// What the endpoint received: `X-Webhook-Id` and the body, in order.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook endpoint on 127.0.0.1 answering the status in `status`.
async fn receiver(status: Arc<AtomicU16>, seen: Seen) -> String {
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let (status, seen) = (status.clone(), seen.clone());
            async move {
                let id = headers
                    .get("x-webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push((id, body));
                StatusCode::from_u16(status.load(Ordering::SeqCst))
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}/hook")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_posts_the_same_event_again_under_its_own_delivery_id() {
    for db in TestDb::all() {
        let store = db.store.clone();
        let status = Arc::new(AtomicU16::new(500));
        let seen: Seen = Arc::default();
        let url = receiver(status.clone(), seen.clone()).await;
        let account = store
            .accounts()
            .create_account("Acme", Plan::Starter)
            .unwrap();
        let tenant = store
            .accounts()
            .create_tenant(account.id, "Acme EU")
            .unwrap();
        let scope = Scope::new(tenant.id, Mode::Test);
        let settings = WebhookSettings {
            url,
            description: None,
            events: vec!["*".into()],
            active: true,
        };
        let endpoint = store
            .webhooks()
            .create(scope, &settings, "whsec_0123456789abcdef")
            .unwrap()
            .id;
        store
            .webhooks()
            .publish(scope, EventType::WebhookTest, r#"{"n":1}"#, Some(endpoint))
            .unwrap();
        let mut config = WorkerConfig::new(&DEFAULT_PROVIDER);
        config.destinations = DestinationPolicy::loopback();
        let dir = tempfile::tempdir().unwrap();
        let worker = Worker::new(
            Arc::new(store.clone()),
            Arc::new(PayloadStore::open(dir.path()).unwrap()),
            config,
            Arc::new(Metrics::default()),
        )
        .unwrap();

        assert_eq!(worker.drain().await.unwrap(), 1);
        let page = PageRequest {
            page: 1,
            per_page: 10,
        };
        let (list, _) = store.webhooks().deliveries(scope, endpoint, page).unwrap();
        let first = list[0].clone();
        assert_eq!(
            (first.status.as_str(), first.attempts, first.response_status),
            ("pending", 1, Some(500)),
            "the first attempt failed; its retry is not due yet"
        );

        status.store(200, Ordering::SeqCst);
        let Redelivery::Queued(again) = store
            .webhooks()
            .redeliver(scope, endpoint, first.id)
            .unwrap()
        else {
            panic!("the endpoint is active");
        };
        assert_eq!(worker.drain().await.unwrap(), 1, "only the redelivery");
        let (_, again) = store.webhooks().delivery(again.id).unwrap();
        assert_eq!(again.redelivery_of, Some(first.id));
        assert_eq!(
            (again.status.as_str(), again.attempts, again.response_status),
            ("succeeded", 1, Some(200))
        );
        let (_, original) = store.webhooks().delivery(first.id).unwrap();
        assert_eq!(original, first, "the original is as it was");

        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].0, first.id.to_string());
        assert_eq!(seen[1].0, again.id.to_string());
        assert_eq!(seen[0].1, seen[1].1, "the same event, byte for byte");
        let body: serde_json::Value = serde_json::from_str(&seen[1].1).unwrap();
        assert_eq!(body["id"], first.event_id.to_string());
        assert_eq!(body["data"], serde_json::json!({"n": 1}));
    }
}
