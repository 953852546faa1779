//! Server-side request forgery, over real HTTP: with the default destination policy a
//! partner, a webhook endpoint or an async MDN's `Receipt-Delivery-Option` whose host name
//! resolves to loopback is never connected to (the message, delivery or MDN fails with a
//! sentence and the listening server accepts no connection); with loopback allowed, a
//! partner or webhook endpoint that answers with a redirect is not followed (the redirect's
//! target gets nothing). Received payloads land in the inbox under tenant, mode, station and
//! partner, readable by the gateway's user only.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::message::{OutboundMessage, Signer, build_outbound};
use as2_domain::destination::DestinationPolicy;
use as2_domain::pagination::PageRequest;
use as2_e2e::listener::CountingServer;
use as2_e2e::seed::{identity, tenant};
use as2_e2e::{Options, Platform};
use as2_store::repo::messages::MessageFilter;
use as2_store::testing::TestDb;
use base64::Engine as _;
use serde_json::{Value, json};

/// Tenant A's partner at `url`: no signing, encryption or MDN, one attempt.
async fn partner_at(p: &Platform, url: &str) -> Result<String> {
    let partner = p
        .create(
            &p.key_a,
            "/v1/partners",
            json!({"name": "Target", "as2_id": "TARGET", "url": url, "sign": false,
                   "encrypt": false, "mdn_mode": "none", "retry_attempts": 0}),
        )
        .await?;
    Ok(partner["id"].as_str().context("partner id")?.to_owned())
}

/// Sends a small file to `partner` and waits for the message's final state.
async fn send(p: &Platform, partner: &str) -> Result<Value> {
    let content = base64::engine::general_purpose::STANDARD.encode(b"ISA*00*ssrf~");
    let message = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": partner, "filename": "po.edi", "content": content}),
        )
        .await?;
    let id = message["id"].as_str().context("message id")?;
    p.wait_final(&p.key_a, id).await
}

/// A webhook endpoint of tenant A at `url`, sent its test event; the delivery once its
/// first attempt is recorded.
async fn webhook_delivery(p: &Platform, url: &str) -> Result<Value> {
    let endpoint = p
        .create(
            &p.key_a,
            "/v1/webhook-endpoints",
            json!({"url": url, "events": ["webhook.test"]}),
        )
        .await?;
    let id = endpoint["id"].as_str().context("endpoint id")?.to_owned();
    p.create(
        &p.key_a,
        &format!("/v1/webhook-endpoints/{id}/test"),
        json!({}),
    )
    .await?;
    for _ in 0..200 {
        let deliveries = p
            .get(&p.key_a, &format!("/v1/webhook-endpoints/{id}/deliveries"))
            .await?;
        let first = deliveries["data"][0].clone();
        if first["attempts"].as_i64().unwrap_or(0) >= 1 {
            return Ok(first);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the webhook delivery was never attempted")
}

fn error_of(message: &Value) -> String {
    message["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_whose_name_resolves_to_loopback_is_never_contacted() -> Result<()> {
    let p = Platform::start_with(
        TestDb::sqlite(),
        Options {
            destinations: DestinationPolicy::strict(),
            ..Options::default()
        },
    )
    .await?;
    let server = CountingServer::start(200, None).await?;
    let partner = partner_at(&p, &format!("http://localhost:{}/as2", server.port)).await?;
    let message = send(&p, &partner).await?;
    ensure!(message["status"] == "failed", "{message}");
    ensure!(
        message["error"]["type"] == "configuration_error",
        "{message}"
    );
    let sentence = error_of(&message);
    ensure!(
        sentence.contains("localhost resolves to")
            && sentence.contains("a loopback address")
            && sentence.contains("AS2_OUTBOUND_ALLOW"),
        "{sentence}"
    );
    ensure!(server.connections() == 0, "the server was contacted");

    // a partner row that names a loopback address itself (saved before the API checked)
    // is refused before anything is sent, in every spelling the URL parser accepts
    let scope = p.scope_of(&p.key_a).await?;
    let id: as2_domain::id::PartnerId = partner.parse().map_err(|_| anyhow::anyhow!("id"))?;
    for url in [
        format!("http://127.0.0.1:{}/as2", server.port),
        format!("http://[::ffff:127.0.0.1]:{}/as2", server.port),
        format!("http://2130706433:{}/as2", server.port),
    ] {
        let mut settings = p.db.store.partners().get(scope, id)?.settings;
        settings.url = url.clone();
        p.db.store.partners().update(
            scope,
            id,
            &settings,
            as2_store::repo::partners::PasswordChange::Keep,
        )?;
        let message = send(&p, &partner).await?;
        ensure!(message["status"] == "failed", "{url}: {message}");
        let sentence = error_of(&message);
        ensure!(
            sentence.contains("127.0.0.1") && sentence.contains("loopback"),
            "{url}: {sentence}"
        );
    }
    ensure!(server.connections() == 0, "the server was contacted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_whose_name_resolves_to_loopback_is_never_contacted() -> Result<()> {
    let p = Platform::start_with(
        TestDb::sqlite(),
        Options {
            destinations: DestinationPolicy::strict(),
            ..Options::default()
        },
    )
    .await?;
    let server = CountingServer::start(200, None).await?;
    let delivery = webhook_delivery(&p, &format!("http://localhost:{}/hook", server.port)).await?;
    ensure!(delivery["status"] == "failed", "{delivery}");
    let error = delivery["error"].as_str().unwrap_or_default();
    ensure!(
        error.contains("localhost resolves to") && error.contains("AS2_OUTBOUND_ALLOW"),
        "{error}"
    );
    ensure!(delivery["next_attempt_at"].is_null(), "{delivery}");
    ensure!(server.connections() == 0, "the server was contacted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() -> Result<()> {
    // loopback allowed (the harness's default): the redirect itself is the refusal
    let p = Platform::start(TestDb::sqlite()).await?;
    let target = CountingServer::start(200, None).await?;
    let redirect = CountingServer::start(307, Some(target.url("/elsewhere"))).await?;

    let partner = partner_at(&p, &redirect.url("/as2")).await?;
    let message = send(&p, &partner).await?;
    ensure!(message["status"] == "failed", "{message}");
    let sentence = error_of(&message);
    ensure!(
        sentence.contains("HTTP 307")
            && sentence.contains(&target.url("/elsewhere"))
            && sentence.contains("not followed"),
        "{sentence}"
    );

    let delivery = webhook_delivery(&p, &redirect.url("/hook")).await?;
    ensure!(delivery["status"] != "succeeded", "{delivery}");
    ensure!(delivery["response_status"] == 307, "{delivery}");
    let error = delivery["error"].as_str().unwrap_or_default();
    ensure!(
        error.contains("HTTP 307") && error.contains("not followed"),
        "{error}"
    );

    ensure!(
        redirect.connections() >= 2,
        "the redirecting server was not asked"
    );
    ensure!(target.connections() == 0, "a redirect was followed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_mdn_to_loopback_is_never_posted_and_the_payload_is_private() -> Result<()> {
    let p = Platform::start_with(
        TestDb::sqlite(),
        Options {
            destinations: DestinationPolicy::strict(),
            ..Options::default()
        },
    )
    .await?;
    let server = CountingServer::start(200, None).await?;
    let (us, partner) = (identity("ssrf-us"), identity("ssrf-partner"));
    let (scope, _, _) = tenant(
        &p.db.store,
        "ssrf",
        "SSRF-US",
        "SSRF-PARTNER",
        &us,
        &partner,
        "https://partner.example/as2",
    );
    let payload = b"ISA*00*async mdn~".to_vec();
    let mut out = OutboundMessage::new(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        "SSRF-PARTNER",
        "SSRF-US",
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
    out.filename = Some("po.edi".into());
    out.mdn_to = Some("as2@partner.example".into());
    out.receipt_delivery_option = Some(format!("http://localhost:{}/mdn", server.port));
    let built = build_outbound(&out)?;
    let mut request = reqwest::Client::new().post(&p.as2_url).body(built.body);
    for (name, value) in &built.headers {
        request = request.header(name, value);
    }
    let answer = request.send().await?;
    ensure!(answer.status().is_success(), "{}", answer.status());

    let (messages, _) =
        p.db.store
            .messages()
            .list(scope, MessageFilter::default(), PageRequest::default())?;
    let message = messages.first().context("the message was not recorded")?;
    let mut refused = None;
    for _ in 0..200 {
        let events = p.db.store.messages().events(scope, message.id)?;
        if let Some(event) = events.iter().find(|e| e.event_type == "mdn_async_refused") {
            refused = event.detail.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.context("the async MDN was not refused")?;
    ensure!(
        refused.contains("localhost resolves to") && refused.contains("AS2_OUTBOUND_ALLOW"),
        "{refused}"
    );
    ensure!(server.connections() == 0, "the MDN URL was contacted");

    // the application's copy: under tenant, mode, station and partner, private
    let dir = p
        .inbox
        .join(scope.tenant_id.to_string())
        .join("test")
        .join("SSRF-US")
        .join("SSRF-PARTNER");
    let name = format!(
        "{}__po.edi",
        as2_engine::inbox::safe_name(&message.as2_message_id)
    );
    let file = dir.join(&name);
    ensure!(std::fs::read(&file)? == payload, "{file:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &std::path::Path| -> Result<u32> {
            Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
        };
        ensure!(mode(&file)? == 0o600, "{file:?}");
        let mut parent = dir.as_path();
        while parent != p.inbox {
            ensure!(mode(parent)? == 0o700, "{parent:?}");
            parent = parent.parent().context("parent")?;
        }
    }
    Ok(())
}
