//! Issue 15, support, over real HTTP on SQLite and PostgreSQL: a message A delivered to B is
//! sent again with `POST /v1/messages/{id}/resend` as a new message (a new AS2 Message-ID,
//! linked by `resent_from`) that is delivered too; B finds it by that Message-ID; a
//! delivered message cannot be cancelled.

use anyhow::{Context as _, Result, ensure};
use as2_e2e::Platform;
use as2_store::testing::TestDb;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::json;

async fn resend_and_find(db: TestDb) -> Result<()> {
    let p = Platform::start(db).await?;
    let partner = p.link_a_to_b().await?;
    let content = b"ISA*00*RESEND~IEA*1*000000001~";
    let sent = p
        .create(
            &p.key_a,
            "/v1/messages",
            json!({"partner_id": partner, "content": STANDARD.encode(content),
                   "filename": "resend-me.edi", "subject": "Resend test"}),
        )
        .await?;
    let id = sent["id"].as_str().context("id")?.to_owned();
    let first = p.wait_final(&p.key_a, &id).await?;
    ensure!(first["status"] == "delivered", "first: {first}");

    let (status, copy) = p
        .call(
            &p.key_a,
            Method::POST,
            &format!("/v1/messages/{id}/resend"),
            Some(json!({})),
        )
        .await?;
    ensure!(status == 201, "resend answered {status}: {copy}");
    let copy = &copy["data"];
    let copy_id = copy["id"].as_str().context("copy id")?.to_owned();
    ensure!(copy_id != id, "{copy}");
    ensure!(copy["resent_from"] == id.as_str(), "{copy}");
    let copy_as2 = copy["message_id"]
        .as_str()
        .context("message_id")?
        .to_owned();
    ensure!(
        copy_as2 != first["message_id"].as_str().unwrap_or(""),
        "{copy}"
    );
    let done = p.wait_final(&p.key_a, &copy_id).await?;
    ensure!(done["status"] == "delivered", "copy: {done}");

    // B received both; the copy under its own Message-ID, found without its angle brackets
    let bare = copy_as2.trim_start_matches('<').trim_end_matches('>');
    let query = bare.replace('@', "%40");
    let found = p
        .get(&p.key_b, &format!("/v1/messages?message_id={query}"))
        .await?;
    ensure!(found["total"] == 1, "{found}");
    ensure!(found["data"][0]["direction"] == "inbound", "{found}");
    let inbound_id = found["data"][0]["id"].as_str().context("inbound id")?;
    let bytes = p
        .download(&p.key_b, &format!("/v1/messages/{inbound_id}/payload"))
        .await?;
    ensure!(bytes == content, "B holds other bytes");
    let by_name = p
        .get(&p.key_b, "/v1/messages?filename=RESEND-ME&sort=created_at")
        .await?;
    ensure!(by_name["total"] == 2, "{by_name}");
    ensure!(by_name["data"][1]["id"] == inbound_id, "{by_name}");

    // an inbound message cannot be resent, a delivered one not cancelled
    let (status, body) = p
        .call(
            &p.key_b,
            Method::POST,
            &format!("/v1/messages/{inbound_id}/resend"),
            Some(json!({})),
        )
        .await?;
    ensure!(status == 409, "resend of inbound: {status} {body}");
    let (status, body) = p
        .call(
            &p.key_a,
            Method::POST,
            &format!("/v1/messages/{id}/cancel"),
            Some(json!({})),
        )
        .await?;
    ensure!(status == 409, "cancel of delivered: {status} {body}");
    ensure!(body["error"]["type"] == "conflict_error", "{body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resend_is_delivered_on_sqlite() -> Result<()> {
    resend_and_find(TestDb::sqlite()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resend_is_delivered_on_postgres() -> Result<()> {
    let Some(db) = TestDb::postgres() else {
        eprintln!("AS2_TEST_POSTGRES_URL is not set: PostgreSQL case skipped");
        return Ok(());
    };
    resend_and_find(db).await
}
