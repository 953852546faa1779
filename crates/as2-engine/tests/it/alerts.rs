//! Email alerts through a real SMTP server (aiosmtpd on 127.0.0.1, started by the test), on
//! SQLite and PostgreSQL: a message that failed and a certificate about to expire are mailed
//! by the job worker to the tenant's recipients; a tenant without recipients gets nothing; a
//! webhook endpoint whose delivery failed for good is paused and that is mailed; a mail the
//! server defers (451) is tried again later; without a mail server the job ends with that
//! reason.

use std::sync::Arc;

use as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::certificate::CertificateInfo;
use as2_domain::id::MessageId;
use as2_domain::job::JobKind;
use as2_domain::message::{Direction, ErrorKind, MessageError, MessageStatus, PayloadRef};
use as2_domain::partner::PartnerSettings;
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_domain::webhook::{EventType, WebhookSettings};
use as2_engine::mail::Mailer;
use as2_engine::metrics::Metrics;
use as2_engine::{Worker, WorkerConfig};
use as2_store::outbox::Announce;
use as2_store::payload::PayloadStore;
use as2_store::repo::certificates::NewCertificate;
use as2_store::repo::messages::NewMessage;
use as2_store::testing::TestDb;
use as2_store::{Scope, Store};
use as2_test_support::smtp::SmtpSink;
use chrono::Utc;

const RECIPIENTS: [&str; 2] = ["ops@acme.example", "edi@acme.example"];

/// A tenant of a new account, with `emails` as its alert recipients.
fn tenant(store: &Store, name: &str, emails: &[&str]) -> Scope {
    let account = store
        .accounts()
        .create_account(name, Plan::Starter)
        .unwrap();
    let tenant = store.accounts().create_tenant(account.id, name).unwrap();
    let emails: Vec<String> = emails.iter().map(|e| (*e).to_owned()).collect();
    store
        .accounts()
        .set_alert_emails(account.id, tenant.id, &emails)
        .unwrap();
    Scope::new(tenant.id, Mode::Test)
}

/// An outbound message of `scope` that failed for good, announced as the engine does.
fn failed_message(store: &Store, scope: Scope, as2_id: &str) -> MessageId {
    let station = store
        .stations()
        .create(
            scope,
            &StationSettings {
                name: "Us".into(),
                as2_id: format!("US-{as2_id}"),
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
        as2_id.into(),
        "https://partner.example/as2".into(),
        station,
    );
    settings.encrypt = false;
    let partner = store.partners().create(scope, &settings, None).unwrap();
    let payload = PayloadRef::Inline(b"ISA*00~".to_vec());
    let message_id = format!("<{as2_id}@us>");
    let message = store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Outbound,
                partner_id: partner.id,
                station_id: station,
                as2_message_id: &message_id,
                subject: None,
                filename: Some("po.edi"),
                content_type: "application/edi-x12",
                bytes: 7,
                sha256: "00",
                payload: Some(&payload),
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Processing,
                error: None,
                mic: None,
                destination_url: None,
            },
            None,
        )
        .unwrap();
    let error = MessageError {
        kind: ErrorKind::Transport,
        sentence: "The partner answered HTTP 503 five times; check that their server is up".into(),
    };
    store
        .messages()
        .transition(
            scope,
            message.id,
            MessageStatus::Failed,
            Some(&error),
            "failed",
            Some(&Announce::new(EventType::MessageFailed)),
        )
        .unwrap();
    message.id
}

/// A certificate of `scope` that expires in six days, announced by the expiry watch.
fn expiring_certificate(store: &Store, scope: Scope) {
    let now = Utc::now();
    let info = CertificateInfo {
        subject: "CN=partner signing".into(),
        issuer: "CN=partner signing".into(),
        serial: "0a".into(),
        fingerprint_sha256: "cd".repeat(32),
        not_before: now - chrono::Duration::days(300),
        not_after: now + chrono::Duration::days(6),
        key_usage: vec![],
    };
    store
        .certificates()
        .create(
            scope,
            &NewCertificate {
                name: "Partner signing",
                info: &info,
                der: b"\x30\x03\x02\x01\x01",
                chain_der: None,
                private_key_der: None,
            },
        )
        .unwrap();
    assert!(as2_trust::expiry::announce_expiring(store, now).unwrap() >= 1);
}

fn worker(store: &Store, mailer: Option<Mailer>) -> Worker {
    let mut config = WorkerConfig::new(&DEFAULT_PROVIDER);
    config.mailer = mailer;
    let dir = tempfile::tempdir().unwrap();
    let payloads = PayloadStore::open(dir.path()).unwrap();
    Worker::new(
        Arc::new(store.clone()),
        Arc::new(payloads),
        config,
        Arc::new(Metrics::default()),
    )
    .unwrap()
}

fn mailer(sink: &SmtpSink) -> Mailer {
    Mailer::new(&sink.url(), "AS2 platform <as2@platform.example>").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_and_expiring_certificates_are_mailed_to_the_tenants_recipients() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mut seen = 0;
    for db in TestDb::all() {
        let store = db.store.clone();
        let acme = tenant(&store, "Acme EU", &RECIPIENTS);
        let quiet = tenant(&store, "Globex", &[]);
        let failed = failed_message(&store, acme, "THEM");
        failed_message(&store, quiet, "OTHERS");
        expiring_certificate(&store, acme);

        worker(&store, Some(mailer(&sink))).drain().await.unwrap();
        let mails = sink.mails();
        let ours = &mails[seen..];
        seen = mails.len();
        assert_eq!(ours.len(), 2, "one mail per event of Acme, none for Globex");
        for mail in ours {
            assert_eq!(mail.envelope_from, "as2@platform.example");
            let mut to = mail.envelope_to.clone();
            to.sort();
            assert_eq!(to, ["edi@acme.example", "ops@acme.example"]);
            let header = mail.header("To").unwrap();
            assert!(RECIPIENTS.iter().all(|r| header.contains(r)), "{header}");
        }
        let failure = ours
            .iter()
            .find(|m| m.header("Subject").unwrap().contains("failed"))
            .expect("the failure's mail");
        assert_eq!(
            failure.header("Subject").unwrap(),
            format!("[AS2] Message {failed} failed (test mode)")
        );
        let body = failure.body().replace("=\r\n", "");
        assert!(body.contains("Acme EU"), "{body}");
        assert!(body.contains("HTTP 503"), "{body}");
        assert!(body.contains("<THEM@us>"), "{body}");
        let expiry = ours
            .iter()
            .find(|m| m.header("Subject").unwrap().contains("Certificate"))
            .expect("the certificate's mail");
        assert_eq!(
            expiry.header("Subject").unwrap(),
            "[AS2] Certificate \"Partner signing\" expires within 7 days (test mode)"
        );
        assert!(
            !mails.iter().any(|m| m.message.contains("Globex")),
            "a tenant without recipients is never mailed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_mail_is_tried_again_later_and_no_server_ends_the_job() {
    let Some(sink) = SmtpSink::deferring(1) else {
        return;
    };
    let db = TestDb::sqlite();
    let store = db.store.clone();
    let acme = tenant(&store, "Acme EU", &RECIPIENTS);
    failed_message(&store, acme, "THEM");
    worker(&store, Some(mailer(&sink))).drain().await.unwrap();
    assert!(sink.mails().is_empty(), "the server said 451");
    // not due again at once: the kind's backoff (a minute, doubling)
    let lease = chrono::Duration::minutes(5);
    let jobs = store.jobs();
    assert!(
        jobs.claim(&[JobKind::SendAlert], Utc::now(), lease)
            .unwrap()
            .is_none()
    );
    let later = jobs
        .claim(
            &[JobKind::SendAlert],
            Utc::now() + chrono::Duration::minutes(2),
            lease,
        )
        .unwrap()
        .expect("the alert waits for its next attempt");
    assert_eq!(later.attempts, 2);
    assert!(jobs.release(&later, Utc::now()).unwrap());

    // without a mail server the job ends at once, with the reason
    let other = tenant(&store, "Initech", &["it@initech.example"]);
    failed_message(&store, other, "INITECH");
    worker(&store, None).drain().await.unwrap();
    let depth = store.jobs().depth().unwrap();
    let waiting: i64 = depth
        .iter()
        .filter(|(kind, _)| kind == "send_alert")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(waiting, 1, "only the deferred alert still waits: {depth:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_endpoint_that_fails_for_good_is_paused_and_that_is_mailed() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mut seen = 0;
    for db in TestDb::all() {
        let store = db.store.clone();
        let acme = tenant(&store, "Acme EU", &RECIPIENTS);
        // loopback: refused by the worker's destination policy, so the first attempt is the
        // last (the same path as a delivery whose every attempt failed)
        let settings = WebhookSettings {
            url: "https://127.0.0.1/hooks/as2".into(),
            description: None,
            events: vec!["webhook.test".into()],
            active: true,
        };
        let endpoint = store
            .webhooks()
            .create(acme, &settings, "whsec_0123456789abcdef")
            .unwrap()
            .id;
        store
            .transaction(|tx| {
                tx.webhooks()
                    .publish(acme, EventType::WebhookTest, "{}", None)
                    .map(|_| ())
            })
            .unwrap();

        worker(&store, Some(mailer(&sink))).drain().await.unwrap();
        let paused = store.webhooks().get(acme, endpoint).unwrap();
        assert!(!paused.settings.active, "the endpoint is paused");
        let mails = sink.mails();
        let ours = &mails[seen..];
        seen = mails.len();
        assert_eq!(ours.len(), 1);
        assert_eq!(
            ours[0].header("Subject").unwrap(),
            format!("[AS2] Webhook endpoint {endpoint} disabled (test mode)")
        );
        let body = ours[0].body().replace("=\r\n", "");
        assert!(body.contains("https://127.0.0.1/hooks/as2"), "{body}");
        assert!(body.contains("\"active\": true"), "{body}");

        // a paused endpoint gets nothing more, and is not paused (nor mailed) twice
        store
            .transaction(|tx| {
                tx.webhooks()
                    .publish(acme, EventType::WebhookTest, "{}", None)
                    .map(|_| ())
            })
            .unwrap();
        assert_eq!(
            worker(&store, Some(mailer(&sink))).drain().await.unwrap(),
            0
        );
        assert_eq!(sink.mails().len(), seen);
    }
}
