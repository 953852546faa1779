//! The console's partner connection test over real HTTP, through the route's own
//! `run_test` and the engine's network tester: against a local listener every step passes
//! (and the listener saw the connection), against a closed port the test ends at `connect`,
//! against an HTTPS endpoint of a private CA the page shows the certificate the API reports;
//! the test message is queued and linked to its page; each test is audited as `partner.test`.
//! A viewer is refused (the API needs `write`), a form without its CSRF token is refused,
//! another tenant's partner is the 404 page, a wrong wait is the API's sentence beside it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use as2_api::ApiConfig;
use as2_api::console::ConsoleConfig;
use as2_domain::destination::DestinationPolicy;
use as2_domain::user::Role;
use as2_engine::connection_test::NetworkTester;
use as2_engine::tls::{ReloadingCertificate, acceptor};
use as2_test_support::tls::TestCa;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::console::Served;

/// The console of an API that runs connection tests to loopback addresses.
async fn served() -> Served {
    let loopback = DestinationPolicy::loopback();
    Served::start_with(ApiConfig {
        destinations: loopback.clone(),
        connection_tester: Some(Arc::new(NetworkTester::new(
            loopback,
            Duration::from_secs(5),
        ))),
        ..ApiConfig::default()
    })
    .await
}

/// A TCP listener on 127.0.0.1 that accepts and closes: its port and how many it accepted.
async fn answering() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, accepted)
}

/// A port of 127.0.0.1 nothing listens on.
fn refusing() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// An HTTPS endpoint on 127.0.0.1 with a certificate of `ca` named `partner`: its port.
async fn tls_endpoint(ca: &TestCa, dir: &std::path::Path) -> u16 {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    ca.server("partner").write(&cert, &key).unwrap();
    let tls = acceptor(ReloadingCertificate::load(&cert, &key).unwrap()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tls = tls.clone();
            tokio::spawn(async move { drop(tls.accept(stream).await) });
        }
    });
    port
}

async fn partner(served: &Served, url: &str, extra: Value) -> String {
    let mut body = json!({"name": "Acme", "as2_id": "ACME", "url": url, "encrypt": false});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let made = served.api.post("/v1/partners", body).await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    made.body["data"]["id"].as_str().unwrap().to_owned()
}

/// The row of step `name` in the page's table: its outcome cell and sentence.
fn step_row<'a>(page: &'a str, name: &str) -> Option<&'a str> {
    let at = page.find(&format!("<th scope=\"row\">{name}</th>"))?;
    page[at..].split("</tr>").next()
}

#[tokio::test]
async fn an_operator_tests_a_partner_step_by_step_and_sends_a_linked_test_message() {
    let served = served().await;
    let (port, accepted) = answering().await;
    let id = partner(&served, &format!("http://127.0.0.1:{port}/as2"), json!({})).await;
    let path = format!("/console/partners/{id}/test");
    served.user("olga@example.com", served.api.tenant, Role::Operator);
    let (olga, csrf) = served.session("olga@example.com").await;

    let listed = served.get("/console/partners", &olga).await;
    assert!(
        listed.body.contains(&format!("href=\"{path}\"")),
        "{}",
        listed.body
    );
    let form = served.get(&path, &olga).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Test the connection to Acme"));
    assert!(form.body.contains("<label for=\"wait_secs\">"));
    assert!(form.body.contains("name=\"csrf_token\""));
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "showing the form connects nowhere"
    );

    let done = served
        .post(&path, &olga, &[], &format!("csrf_token={csrf}"))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    for step in ["url", "resolve", "connect"] {
        let row = step_row(&done.body, step).unwrap_or_else(|| panic!("{step}: {}", done.body));
        assert!(row.contains("<td>passed</td>"), "{row}");
    }
    assert!(done.body.contains("answered every step"), "{}", done.body);
    assert!(!done.body.contains("Test message</h2>"), "nothing was sent");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the connect step was real"
    );

    // the test message: queued (no worker runs here), reported after the wait, linked
    let sent = served
        .post(
            &path,
            &olga,
            &[],
            &format!("csrf_token={csrf}&send_message=true&wait_secs=1"),
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let row = step_row(&sent.body, "message").unwrap_or_else(|| panic!("{}", sent.body));
    assert!(
        row.contains("failed") && row.contains("still queued after 1 s"),
        "{row}"
    );
    let link = sent
        .body
        .find("href=\"/console/messages/msg_")
        .expect("the message's link");
    let message = sent.body[link + 6..].split('"').next().unwrap().to_owned();
    let shown = served.get(&message, &olga).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown.body.contains("as2-connection-test.txt"),
        "{}",
        shown.body
    );
    assert!(
        sent.body.contains("aria-describedby=\"test-hint\" checked"),
        "the box stays checked"
    );

    let audit = served.api.get("/v1/audit-events?action=partner.test").await;
    assert_eq!(audit.body["total"], 2, "{:?}", audit.body);
    let event = &audit.body["data"][0];
    assert_eq!(event["actor"]["type"], "user");
    assert_eq!(event["actor"]["label"], "olga@example.com");
    assert_eq!(event["resource_id"], id);
    assert!(
        !event.to_string().contains(&csrf),
        "the CSRF token is not recorded"
    );

    // a closed port: the test ends at connect, said as a failure
    let moved = served
        .api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"url": format!("http://127.0.0.1:{}/as2", refusing())}),
        )
        .await;
    assert_eq!(moved.status.as_u16(), 200, "{:?}", moved.body);
    let failed = served
        .post(&path, &olga, &[], &format!("csrf_token={csrf}"))
        .await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    let row = step_row(&failed.body, "connect").unwrap_or_else(|| panic!("{}", failed.body));
    assert!(row.contains("failed"), "{row}");
    assert!(
        failed
            .body
            .contains("role=\"alert\">The connection test failed"),
        "{}",
        failed.body
    );

    // the API's wait rule, beside the field
    for wait in ["0", "121", "soon"] {
        let wrong = served
            .post(
                &path,
                &olga,
                &[],
                &format!("csrf_token={csrf}&send_message=true&wait_secs={wait}"),
            )
            .await;
        assert_eq!(wrong.status, 422, "{wait}: {}", wrong.body);
        assert!(
            wrong.body.contains("id=\"wait_secs-error\""),
            "{}",
            wrong.body
        );
        assert!(wrong.body.contains("The wait is 1 to 120 seconds"));
        assert!(wrong.body.contains("aria-invalid=\"true\""));
    }
    let audit = served.api.get("/v1/audit-events?action=partner.test").await;
    assert_eq!(audit.body["total"], 3, "a refused test is not audited");
}

#[tokio::test]
async fn the_tls_step_shows_the_certificate_the_api_reports() {
    let served = served().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Partner private CA");
    let port = tls_endpoint(&ca, dir.path()).await;
    let id = partner(
        &served,
        &format!("https://localhost:{port}/as2"),
        json!({"tls_ca_bundle": ca.cert_pem, "tls_ca_only": true}),
    )
    .await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (ada, csrf) = served.session("ada@example.com").await;

    let done = served
        .post(
            &format!("/console/partners/{id}/test"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let row = step_row(&done.body, "tls").unwrap_or_else(|| panic!("{}", done.body));
    assert!(row.contains("<td>passed</td>"), "{row}");
    assert!(done.body.contains("Certificate presented</h2>"));

    let api = served
        .api
        .post(&format!("/v1/partners/{id}/test"), json!({}))
        .await;
    assert_eq!(api.status.as_u16(), 200, "{:?}", api.body);
    let certificate = &api.body["data"]["certificate"];
    for field in ["subject", "issuer", "sha256", "pin_sha256"] {
        let value = certificate[field].as_str().unwrap();
        assert!(done.body.contains(value), "{field} {value}: {}", done.body);
    }
    assert!(
        certificate["issuer"]
            .as_str()
            .unwrap()
            .contains("Partner private CA")
    );
    let until = certificate["not_after"].as_str().unwrap();
    assert!(
        done.body.contains(&format!("datetime=\"{until}\"")),
        "{until}"
    );
}

#[tokio::test]
async fn a_viewer_a_forged_form_and_another_tenant_are_refused() {
    let served = served().await;
    let (port, accepted) = answering().await;
    let id = partner(&served, &format!("http://127.0.0.1:{port}/as2"), json!({})).await;
    let path = format!("/console/partners/{id}/test");
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("olga@example.com", served.api.tenant, Role::Operator);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);

    let (vic, vic_csrf) = served.session("vic@example.com").await;
    let listed = served.get("/console/partners", &vic).await;
    assert!(
        !listed.body.contains(&format!("href=\"{path}\"")),
        "{}",
        listed.body
    );
    assert_eq!(served.get(&path, &vic).await.status, 403);
    let forged = served
        .post(&path, &vic, &[], &format!("csrf_token={vic_csrf}"))
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("does not allow this change"));

    let (olga, _) = served.session("olga@example.com").await;
    let no_token = served.post(&path, &olga, &[], "send_message=true").await;
    assert_eq!(no_token.status, 403, "{}", no_token.body);

    let (eve, eve_csrf) = served.session("eve@example.com").await;
    let elsewhere = served.get(&path, &eve).await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    assert!(elsewhere.body.contains("Partner not found"));
    let elsewhere = served
        .post(&path, &eve, &[], &format!("csrf_token={eve_csrf}"))
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    let malformed = served.get("/console/partners/nope/test", &eve).await;
    assert_eq!(malformed.status, 404);

    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "no refused test connected"
    );
    let audit = served.api.get("/v1/audit-events?action=partner.test").await;
    assert_eq!(audit.body["total"], 0, "{:?}", audit.body);
}

#[tokio::test]
async fn a_server_without_a_tester_says_so() {
    let served = Served::start(ConsoleConfig::default()).await;
    let id = partner(&served, "https://acme.example/as2", json!({})).await;
    served.user("olga@example.com", served.api.tenant, Role::Operator);
    let (olga, csrf) = served.session("olga@example.com").await;
    let refused = served
        .post(
            &format!("/console/partners/{id}/test"),
            &olga,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.body.contains("does not run connection tests"));
}
