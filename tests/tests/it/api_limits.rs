//! The plan's concurrent-request limit over real HTTP: an account with as many requests in
//! flight as its plan allows gets 429 for the next one, other accounts do not, and the place
//! comes back when a request ends.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use as2_api::bootstrap::create_key;
use as2_domain::Mode;
use as2_domain::api_key::KeyKind;
use as2_domain::plan::Plan;
use as2_e2e::Platform;
use as2_e2e::raw;
use as2_store::testing::TestDb;
use reqwest::Method;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_gets_429_beyond_its_plans_requests_in_flight() {
    let p = Platform::start(TestDb::sqlite()).await.unwrap();
    // a Free account: 5 requests at once (seed 002's table)
    let store = &p.db.store;
    let account = store
        .accounts()
        .create_account("Free Co", Plan::Free)
        .unwrap();
    let tenant = store
        .accounts()
        .create_tenant(account.id, "Free Co")
        .unwrap();
    let key = create_key(
        store,
        account.id,
        Some(tenant.id),
        KeyKind::Tenant,
        Mode::Test,
        "k",
    )
    .unwrap()
    .secret;
    let addr: SocketAddr = p.api_url.trim_start_matches("http://").parse().unwrap();
    // five uploads that announce a body and send only its first bytes: in flight
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"partner_id\":"
    );
    let held: Vec<_> = (0..5)
        .map(|_| raw::open(addr, head.as_bytes()).unwrap())
        .collect();
    // the server takes their places once it has read their heads: the sixth request then
    // fails (each try spends a token of the Free plan's burst of 20, so they are spaced)
    let mut tries = 0;
    let refused = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (status, body) = p
            .call(&key, Method::GET, "/v1/partners", None)
            .await
            .unwrap();
        if status == 429 {
            break body;
        }
        assert_eq!(status, 200, "{body}");
        tries += 1;
        assert!(tries < 12, "the sixth request was never refused");
    };
    assert_eq!(refused["error"]["type"], "rate_limit_error", "{refused}");
    assert_eq!(
        refused["error"]["code"], "concurrent_requests_exceeded",
        "{refused}"
    );
    // another account is not affected
    let (status, _) = p
        .call(&p.key_b, Method::GET, "/v1/partners", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    // the uploads end (the client goes away): their places come back
    drop(held);
    // (spaced by more than the plan's refill interval, 0.6 s, so the polling itself is not
    // what is refused)
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let (status, body) = p
            .call(&key, Method::GET, "/v1/partners", None)
            .await
            .unwrap();
        if status == 200 {
            break;
        }
        assert_eq!(status, 429, "{body}");
        assert!(
            Instant::now() < deadline,
            "the places never came back: {body}"
        );
    }
}
