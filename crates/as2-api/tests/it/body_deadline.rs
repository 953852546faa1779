//! The request body's deadlines over real HTTP: a client that stops sending a body it
//! announced, or sends it a byte at a time slower than the whole deadline, is answered 408
//! (`body_timeout`) and nothing is created; a body that arrives in time is served.

use std::time::{Duration, Instant};

use as2_api::body_deadline::BodyDeadlines;
use as2_api::state::ApiConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::console::Served;

async fn served() -> Served {
    Served::start_with(ApiConfig {
        body_deadlines: BodyDeadlines {
            whole: Duration::from_millis(1500),
            idle: Duration::from_millis(400),
        },
        ..ApiConfig::default()
    })
    .await
}

/// Sends the head of a partner creation announcing `length` bytes; the stream.
async fn announce(served: &Served, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let head = format!(
        "POST /v1/partners HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
        served.addr, served.api.key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// The whole answer, once the server sends it and closes.
async fn answer(stream: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

async fn partners(served: &Served) -> i64 {
    served.api.get("/v1/partners").await.body["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_body_that_stops_is_answered_408_after_the_idle_deadline() {
    let served = served().await;
    let mut stream = announce(&served, 1000).await;
    let started = Instant::now();
    stream.write_all(br#"{"name": "Acme""#).await.unwrap();
    let answer = answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_eq!(partners(&served).await, 0);
}

#[tokio::test]
async fn a_steady_drip_slower_than_the_whole_deadline_is_answered_408() {
    let served = served().await;
    let body = br#"{"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2"}"#;
    let mut stream = announce(&served, body.len()).await;
    let started = Instant::now();
    // a byte every 100 ms: never idle for 400 ms, but the body would take 7 s
    let mut refused = false;
    for byte in body {
        if stream.write_all(&[*byte]).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    let answer = answer(&mut stream).await;
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "refused {refused}: {answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(partners(&served).await, 0);
}

#[tokio::test]
async fn a_body_in_time_is_served() {
    let served = served().await;
    let body = br#"{"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2"}"#;
    let mut stream = announce(&served, body.len()).await;
    let (first, rest) = body.split_at(10);
    stream.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream.write_all(rest).await.unwrap();
    let answer = answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert_eq!(partners(&served).await, 1);
}
