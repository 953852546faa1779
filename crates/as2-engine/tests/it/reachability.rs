//! A partner that stops answering is announced once (`partner.unreachable`, mailed through a
//! real SMTP server) when the send attempts without an answer in a row reach the
//! installation's threshold, and again (`partner.reachable`) when it answers; on SQLite and
//! PostgreSQL, against a partner endpoint on 127.0.0.1 that first answers 503 (a proxy in
//! front of a server that is down) and then accepts. An answer such as 400 from the partner's
//! own server is an answer: it ends a streak without an alert.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::destination::DestinationPolicy;
use as2_domain::id::PartnerId;
use as2_domain::message::{Direction, MessageStatus, PayloadRef};
use as2_domain::partner::PartnerSettings;
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_engine::mail::Mailer;
use as2_engine::metrics::Metrics;
use as2_engine::{Worker, WorkerConfig};
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::NewMessage;
use as2_store::repo::reachability;
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};
use as2_test_support::smtp::SmtpSink;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;

/// A partner endpoint on 127.0.0.1 answering the status in `status` (changed by the test).
async fn endpoint(status: Arc<AtomicU16>) -> String {
    let app = Router::new().route(
        "/as2",
        post(move |_body: axum::body::Bytes| {
            let status = status.clone();
            async move {
                let code = StatusCode::from_u16(status.load(Ordering::SeqCst))
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (code, "answer")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}/as2")
}

struct Setup {
    scope: Scope,
    partner: PartnerId,
    station: as2_domain::id::StationId,
}

/// A tenant with alert recipients, a station and a partner at `url` that gets plain messages
/// without MDNs (a 2xx delivers them).
fn setup(store: &Store, url: &str) -> Setup {
    let account = store
        .accounts()
        .create_account("Acme", Plan::Starter)
        .unwrap();
    let tenant = store
        .accounts()
        .create_tenant(account.id, "Acme EU")
        .unwrap();
    store
        .accounts()
        .set_alert_emails(account.id, tenant.id, &["ops@acme.example".to_owned()])
        .unwrap();
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
    let mut settings = PartnerSettings::new("Globex".into(), "GLOBEX".into(), url.into(), station);
    settings.sign = false;
    settings.encrypt = false;
    settings.mdn_mode = MdnMode::None;
    let partner = store.partners().create(scope, &settings, None).unwrap().id;
    Setup {
        scope,
        partner,
        station,
    }
}

/// A queued message to the partner with one attempt (so each send is its last).
fn queue(store: &Store, s: &Setup, n: usize) {
    let payload = PayloadRef::Inline(b"ISA*00~".to_vec());
    store
        .messages()
        .create_outbound(
            s.scope,
            &NewMessage {
                direction: Direction::Outbound,
                partner_id: s.partner,
                station_id: s.station,
                as2_message_id: &format!("<reach-{n}@us>"),
                subject: None,
                filename: Some("po.edi"),
                content_type: "application/edi-x12",
                bytes: 7,
                sha256: "00",
                payload: Some(&payload),
                mdn_mode: MdnMode::None,
                status: MessageStatus::Queued,
                error: None,
                mic: None,
                destination_url: None,
            },
            1,
            None,
        )
        .unwrap();
}

fn worker(store: &Store, sink: &SmtpSink) -> Worker {
    let mut config = WorkerConfig::new(&DEFAULT_PROVIDER);
    config.destinations = DestinationPolicy::loopback();
    config.outbound.unreachable_alert_after = 3;
    config.mailer = Some(Mailer::new(&sink.url(), "as2@platform.example").unwrap());
    let dir = tempfile::tempdir().unwrap();
    Worker::new(
        Arc::new(store.clone()),
        Arc::new(PayloadStore::open(dir.path()).unwrap()),
        config,
        Arc::new(Metrics::default()),
    )
    .unwrap()
}

fn streak(store: &Store, partner: PartnerId) -> u32 {
    store
        .transaction(|tx| reachability::failed_attempts(tx, partner))
        .unwrap()
}

/// Sends one message (its job and the alert jobs it causes) and returns the mails it caused.
async fn send_one(store: &Store, s: &Setup, sink: &SmtpSink, n: usize) -> Vec<String> {
    let before = sink.mails().len();
    queue(store, s, n);
    worker(store, sink).drain().await.unwrap();
    sink.mails()[before..]
        .iter()
        .map(|m| m.header("Subject").unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_that_stops_answering_is_announced_once_and_again_when_it_answers() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    for db in TestDb::all() {
        let store = db.store.clone();
        let status = Arc::new(AtomicU16::new(503));
        let url = endpoint(status.clone()).await;
        let s = setup(&store, &url);
        let unreachable = "[AS2] Partner \"Globex\" unreachable (test mode)";
        let reachable = "[AS2] Partner \"Globex\" answers again (test mode)";

        // two attempts without an answer: counted, no alert yet (each message fails)
        for n in 0..2 {
            let subjects = send_one(&store, &s, &sink, n).await;
            assert!(!subjects.iter().any(|x| x == unreachable), "{subjects:?}");
        }
        assert_eq!(streak(&store, s.partner), 2);
        // the third: the alert, once
        let subjects = send_one(&store, &s, &sink, 2).await;
        assert_eq!(
            subjects.iter().filter(|x| *x == unreachable).count(),
            1,
            "{subjects:?}"
        );
        let mail = sink
            .mails()
            .into_iter()
            .rev()
            .find(|m| m.header("Subject").as_deref() == Some(unreachable))
            .unwrap();
        let body = mail.body().replace("=\r\n", "");
        assert!(body.contains("The last 3 attempts"), "{body}");
        assert!(body.contains(&url), "{body}");
        assert!(body.contains("HTTP 503"), "{body}");
        assert!(
            body.contains(&format!("/v1/partners/{}/test", s.partner)),
            "{body}"
        );
        // a fourth failure adds to the streak and says nothing new
        let subjects = send_one(&store, &s, &sink, 3).await;
        assert!(!subjects.iter().any(|x| x == unreachable), "{subjects:?}");
        assert_eq!(streak(&store, s.partner), 4);

        // it answers: delivered, the streak ends, the all-clear is mailed
        status.store(200, Ordering::SeqCst);
        let subjects = send_one(&store, &s, &sink, 4).await;
        assert_eq!(subjects, [reachable], "only the all-clear is mailed");
        assert_eq!(streak(&store, s.partner), 0);
        let delivered = store
            .messages()
            .find_by_as2_id(s.scope, s.partner, Direction::Outbound, "<reach-4@us>")
            .unwrap()
            .unwrap();
        assert_eq!(delivered.status, MessageStatus::Delivered);
        // and says nothing more while it answers
        assert!(send_one(&store, &s, &sink, 5).await.is_empty());

        // two failures, then an answer of the partner's own (400): the streak ends quietly
        status.store(502, Ordering::SeqCst);
        for n in 6..8 {
            send_one(&store, &s, &sink, n).await;
        }
        assert_eq!(streak(&store, s.partner), 2);
        status.store(400, Ordering::SeqCst);
        let subjects = send_one(&store, &s, &sink, 8).await;
        assert!(
            !subjects.iter().any(|x| x == unreachable || x == reachable),
            "{subjects:?}"
        );
        assert_eq!(streak(&store, s.partner), 0);
    }
}
