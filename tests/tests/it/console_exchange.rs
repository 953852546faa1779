//! The console in real Chromium with the gateway behind it: an operator of tenant A signs in,
//! sends a file to tenant B from the console's form (signed, encrypted, a signed receipt
//! asked for), lands on the message's page and watches it reach `delivered`: the page shows
//! B's MDN (`processed`, signature verified, MIC matched), and B holds the same bytes. The
//! page is saved as a PNG under `target/console-screenshots/`.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use as2_api::console_users::create_user;
use as2_domain::user::Role;
use as2_e2e::Platform;
use as2_store::testing::TestDb;
use as2_test_support::browser::{self, Browser, Driver};
use fantoccini::Locator;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

/// A's partner for B: signed, encrypted, a signed synchronous receipt.
async fn partners(p: &Platform) -> Result<String> {
    let (a_pair, a_pem) = p.key_pair(&p.key_a, "tenant-a").await?;
    let (b_pair, b_pem) = p.key_pair(&p.key_b, "tenant-b").await?;
    let (a_station, b_station) = p.stations(&a_pair, &b_pair).await?;
    let a_at_b = p.upload_certificate(&p.key_b, "tenant A", &a_pem).await?;
    let b_at_a = p.upload_certificate(&p.key_a, "tenant B", &b_pem).await?;
    p.create(
        &p.key_b,
        "/v1/partners",
        json!({"name": "Tenant A", "as2_id": "TENANT-A", "url": "http://127.0.0.1:9/unused",
               "station_id": b_station, "certificate_id": a_at_b, "encrypt": false,
               "require_signed": true, "require_encrypted": true}),
    )
    .await?;
    let partner = p
        .create(
            &p.key_a,
            "/v1/partners",
            json!({"name": "Tenant B", "as2_id": "TENANT-B", "url": p.as2_url,
                   "station_id": a_station, "certificate_id": b_at_a,
                   "sign": true, "encrypt": true, "mdn_mode": "sync", "mdn_signed": true}),
        )
        .await?;
    Ok(partner["id"].as_str().context("partner id")?.to_owned())
}

/// The `dd` after the `dt` reading `label`, in the section under the heading `section`.
fn fact(section: &str, label: &str) -> String {
    format!(
        "//h2[normalize-space()='{section}']/following-sibling::dl[1]/dt[normalize-space()='{label}']/following-sibling::dd[1]"
    )
}

async fn read(browser: &Browser, xpath: &str) -> Result<String> {
    let found = browser.client.find(Locator::XPath(xpath)).await?;
    Ok(found.text().await?.trim().to_owned())
}

async fn walk(browser: &Browser, p: &Platform, partner: &str) -> Result<()> {
    let file = tempfile::NamedTempFile::with_suffix(".edi")?;
    let sent =
        b"ISA*00*          *00*          *ZZ*TENANTA *ZZ*TENANTB *000042~\r\nGS*PO~\r\n".repeat(40);
    std::fs::write(file.path(), &sent)?;

    browser.sign_in("ada@a.example", PASSWORD).await;
    browser.open("/console/messages/new").await;
    browser.wait_page("Send a message").await;
    browser.select("partner_id", partner).await;
    browser.type_into("subject", "Purchase order 42").await;
    browser
        .client
        .find(Locator::Id("file"))
        .await?
        .send_keys(&file.path().display().to_string())
        .await?;
    browser.shot("message-send").await;
    browser.click_button("Send").await;
    browser
        .wait_for(
            "//main/h1[starts-with(normalize-space(), 'Message msg_')]",
            "the new message's page",
        )
        .await;
    let url = browser.client.current_url().await?.to_string();
    let id = url.rsplit('/').next().context("the message id")?.to_owned();

    // the page is read again until the message is final
    let status = "//dt[normalize-space()='Status']/following-sibling::dd[1]";
    let deadline = Instant::now() + Duration::from_secs(60);
    let last = loop {
        let shown = read(browser, status).await?;
        if shown == "delivered" || shown == "failed" || Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        browser.client.refresh().await?;
        browser.wait_page(&format!("Message {id}")).await;
    };
    ensure!(
        last == "delivered",
        "the message ended {last}: {}",
        browser.text().await
    );
    ensure!(
        read(browser, &fact("MDN", "Disposition"))
            .await?
            .ends_with("processed")
    );
    ensure!(read(browser, &fact("MDN", "Positive")).await? == "yes");
    ensure!(read(browser, &fact("MDN", "Signed")).await? == "yes");
    ensure!(read(browser, &fact("MDN", "Signature verified")).await? == "yes");
    ensure!(read(browser, &fact("MDN", "MIC matched")).await? == "yes");
    browser.client.set_window_size(1280, 1400).await?;
    browser.shot("message-delivered").await;

    // B received the same bytes
    let inbound = p.get(&p.key_b, "/v1/messages?direction=inbound").await?;
    ensure!(inbound["total"] == 1, "B's messages: {inbound}");
    let theirs = inbound["data"][0]["id"].as_str().context("B's message")?;
    let bytes = p
        .download(&p.key_b, &format!("/v1/messages/{theirs}/payload"))
        .await?;
    ensure!(bytes == sent, "B holds what A's operator sent");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sends_from_the_console_and_watches_the_message_delivered() -> Result<()> {
    let Some((chromium, chromedriver)) = browser::binaries() else {
        return Ok(());
    };
    let p = Platform::start(TestDb::sqlite()).await?;
    let partner = partners(&p).await?;
    let tenant_a = p.scope_of(&p.key_a).await?.tenant_id;
    create_user(
        &p.db.store,
        "ada@a.example",
        "Ada",
        Some(PASSWORD),
        tenant_a,
        Role::Operator,
    )?;
    let driver = Driver::start(&chromedriver);
    let client = driver.session(&chromium).await;
    let browser = Browser {
        client: client.clone(),
        base: p.api_url.clone(),
        shots: browser::screenshots(env!("CARGO_TARGET_TMPDIR")),
    };
    let walked = walk(&browser, &p, &partner).await;
    let _ = client.close().await;
    drop(driver);
    walked
}
