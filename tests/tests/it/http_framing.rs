//! HTTP framing partners use: a chunked body (BizTalk sends one) and `Expect: 100-continue`
//! (many Java clients) reach the gateway over a raw TCP connection; the gateway answers
//! `100 Continue` first, reads the chunks, and the message is received with a positive MDN.

use anyhow::{Context, Result, ensure};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::message::{OutboundMessage, Signer, build_outbound};
use as2_e2e::Platform;
use as2_e2e::seed::{identity, tenant};
use as2_store::testing::TestDb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_body_with_expect_continue_is_received() -> Result<()> {
    let p = Platform::start(TestDb::sqlite()).await?;
    let (us, partner) = (identity("framing-us"), identity("framing-partner"));
    tenant(
        &p.db.store,
        "framing",
        "FRAMING-US",
        "FRAMING-PARTNER",
        &us,
        &partner,
        "http://127.0.0.1:9/x",
    );
    let payload = b"ISA*00*chunked~".repeat(500);
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "FRAMING-PARTNER",
        "FRAMING-US",
        &payload,
        "application/edi-x12",
    );
    out.signer = Some(Signer::new(
        &partner.cert,
        partner.key.as_ref(),
        SignOptions::new(std::time::SystemTime::now()),
    ));
    out.encryption = Some(as2_core::message::Encryption::new(
        vec![&us.cert],
        EncryptOptions::default(),
    ));
    out.mdn_to = Some("as2@partner.example".into());
    let built = build_outbound(&out)?;

    let authority = p
        .as2_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .context("gateway address")?
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&authority).await?;
    let mut head = format!("POST /as2/test/receive HTTP/1.1\r\nHost: {authority}\r\n");
    for (name, value) in &built.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(
        "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    stream.write_all(head.as_bytes()).await?;

    // the interim answer comes before any byte of the body is sent
    let mut interim = vec![0u8; 64];
    let n = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read(&mut interim),
    )
    .await
    .context("no 100 Continue within 10 s")??;
    let interim = String::from_utf8_lossy(&interim[..n]).into_owned();
    ensure!(
        interim.starts_with("HTTP/1.1 100 Continue"),
        "interim answer: {interim:?}"
    );

    // the body in uneven chunks
    for chunk in built.body.chunks(1000) {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await?;
        stream.write_all(chunk).await?;
        stream.write_all(b"\r\n").await?;
    }
    stream.write_all(b"0\r\n\r\n").await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer);
    ensure!(
        text.starts_with("HTTP/1.1 200"),
        "answer: {}",
        &text[..text.len().min(300)]
    );
    ensure!(
        text.contains("processed") && !text.contains("processed/error"),
        "the MDN is not positive: {}",
        &text[..text.len().min(2000)]
    );
    Ok(())
}
