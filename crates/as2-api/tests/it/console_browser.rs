//! The console in real Chromium: Debian's headless `chromium` driven over WebDriver
//! (`chromedriver` on a free port, the `fantoccini` client) against the router served on
//! 127.0.0.1. It signs in, reads the overview, the messages list (filtered) and a message's
//! detail; a session planted in the browser before sign-in is replaced and ended; a form sent
//! without its CSRF token is refused; a viewer sees no change button and
//! a change forged in its page is refused; a user of another tenant cannot open the message by
//! its URL; an owner's retry is done and is in the audit log, and she creates a partner after
//! correcting what the API's validation said beside the field; she schedules a rollover of a
//! partner's certificate on its trust page, sees it on the timeline and verifies the chain,
//! accepts the partner's certificate exchange request there, and opens the station's page.
//! Every page is saved as a PNG under `target/console-screenshots/`.
//!
//! `.ci/run` installs `chromium` and `chromium-driver`. Without them the test fails under CI
//! (`CI` set) and is skipped, loudly, elsewhere (`as2_test_support::browser`).

use as2_api::console::ConsoleConfig;
use as2_api::console::session::COOKIE;
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::id::{MessageId, PartnerId, StationId};
use as2_domain::message::{Direction, ErrorKind, MessageError, MessageStatus};
use as2_domain::user::Role;
use as2_store::Scope;
use as2_store::repo::messages::NewMessage;
use as2_test_support::browser::{self, Browser, Driver, PAGE_WAIT};
use fantoccini::Locator;
use serde_json::json;

use crate::console::{PASSWORD, Served};

/// What the console shows: a partner, an inbound message and a failed outbound one in the
/// first tenant; its owner, a viewer, and the owner of another account's tenant.
struct Fixture {
    scope: Scope,
    inbound: MessageId,
    outbound: MessageId,
    partner: PartnerId,
    /// The key pair good for a year, the next certificate of the rollover.
    next_certificate: String,
    /// Our station.
    station: StationId,
    /// The partner's pending CEM request (an encryption certificate).
    cem: String,
}

async fn fixture(served: &Served) -> Fixture {
    let created = served
        .api
        .post(
            "/v1/partners",
            json!({"name": "Acme Corporation", "as2_id": "ACME", "url": "https://acme.example/as2",
                   "encrypt": false, "sign": false}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let partner: PartnerId = created.body["data"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let station: StationId = created.body["data"]["station_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // a key pair that expires within the overview's 30 days, and one that does not
    let mut next_certificate = String::new();
    for (name, days) in [("Expiring soon", 10), ("Good for a year", 365)] {
        let made = served
            .api
            .post(
                "/v1/certificates/generate",
                json!({"name": name, "common_name": "us.example", "days": days, "key_type": "ec-p256"}),
            )
            .await;
        assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
        next_certificate = made.body["data"]["id"].as_str().unwrap().to_owned();
    }
    let cem = crate::console_cem::partner_request(
        served,
        (partner, station),
        &next_certificate,
        &["keyEncipherment"],
        "req-from-acme",
    )
    .to_string();
    let scope = Scope::new(served.api.tenant, Mode::Test);
    let store = &served.api.db.store;
    let inbound = store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Inbound,
                partner_id: partner,
                station_id: station,
                as2_message_id: "<invoice-42@acme.example>",
                subject: Some("Invoice 42"),
                filename: Some("invoice-42.edi"),
                content_type: "application/edi-x12",
                bytes: 1830,
                sha256: "00",
                payload: None,
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Received,
                error: None,
                mic: Some("kBzMs0hW3u2Pj1UeL3ZRbhLFTXc3pB4eR8zCz3vmgxE=, sha256"),
                destination_url: None,
            },
            None,
        )
        .unwrap();
    let refused = MessageError {
        kind: ErrorKind::Transport,
        sentence: "The partner answered 503 Service Unavailable; the message will not be \
                   sent again until it is retried"
            .into(),
    };
    let outbound = store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Outbound,
                partner_id: partner,
                station_id: station,
                as2_message_id: "<order-7@as2platform>",
                subject: Some("Purchase order 7"),
                filename: Some("order-7.edi"),
                content_type: "application/edi-x12",
                bytes: 912,
                sha256: "00",
                payload: None,
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Failed,
                error: Some(&refused),
                mic: None,
                destination_url: None,
            },
            None,
        )
        .unwrap();
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    Fixture {
        scope,
        inbound: inbound.id,
        outbound: outbound.id,
        partner,
        next_certificate,
        station,
        cem,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_chromium() {
    let Some((chromium, chromedriver)) = browser::binaries() else {
        return;
    };
    let served = Served::start(ConsoleConfig::default()).await;
    let fixture = fixture(&served).await;
    let driver = Driver::start(&chromedriver);
    let client = driver.session(&chromium).await;
    let browser = Browser {
        client: client.clone(),
        base: format!("http://{}", served.addr),
        shots: browser::screenshots(env!("CARGO_TARGET_TMPDIR")),
    };
    // the walk runs as its own task so that the browser is closed even when it fails
    let walked = tokio::spawn(async move { walk(&browser, &served, &fixture).await }).await;
    let _ = client.close().await;
    drop(driver);
    if let Err(failed) = walked {
        std::panic::resume_unwind(failed.into_panic());
    }
}

async fn walk(browser: &Browser, served: &Served, fixture: &Fixture) {
    let store = &served.api.db.store;
    let status = |id| store.messages().get(fixture.scope, id).unwrap().status;
    let inbound = fixture.inbound.to_string();
    let outbound = fixture.outbound.to_string();

    // signed out, the console sends the browser to the sign-in form; a wrong password is said
    browser.open("/console").await;
    browser.wait_page("Sign in").await;
    browser.type_into("email", "ada@example.com").await;
    browser.type_into("password", "not the password").await;
    browser.click_button("Sign in").await;
    browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Id("sign-in-error"))
        .await
        .unwrap();
    assert!(
        browser
            .text()
            .await
            .contains("The email or the password is wrong.")
    );
    browser.shot("sign-in").await;

    // session fixation: a valid session of someone else planted in the browser before the
    // owner signs in is not her session after it, and it is ended
    let (planted, _) = served.session("vic@example.com").await;
    browser
        .client
        .execute(
            "document.cookie = arguments[0] + '=' + arguments[1] + '; path=/console'",
            vec![json!(COOKIE), json!(planted)],
        )
        .await
        .unwrap();
    browser.type_into("email", "ada@example.com").await;
    browser.type_into("password", PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_page("Overview").await;
    let after = browser.client.get_named_cookie(COOKIE).await.unwrap();
    assert_ne!(after.value(), planted, "a new session at sign-in");
    assert_eq!(after.http_only(), Some(true));
    assert_eq!(format!("{:?}", after.same_site()), "Some(Strict)");
    assert_eq!(
        served.get("/console", &planted).await.status,
        303,
        "the planted session ended"
    );

    // the owner sees the overview; the session cookie is out of scripts' reach
    let text = browser.text().await;
    assert!(text.contains("Signed in as ada@example.com"), "{text}");
    assert!(
        text.contains("user.login"),
        "the sign-in is in the log: {text}"
    );
    assert!(
        text.contains("Failures of the last 24 hours")
            && text.contains("The partner answered 503 Service Unavailable"),
        "the failure and its reason: {text}"
    );
    assert!(
        text.contains("Expiring soon") && !text.contains("Good for a year"),
        "certificates expiring within 30 days: {text}"
    );
    for (status, count) in [("failed", "1"), ("received", "1"), ("delivered", "0")] {
        let cell = browser
            .client
            .find(Locator::XPath(&format!(
                "//table[@class='chart']//tr[th='{status}']/td"
            )))
            .await
            .unwrap();
        assert_eq!(cell.text().await.unwrap().trim(), count, "{status}");
    }
    let cookies = browser
        .client
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    assert_eq!(cookies, json!(""), "the session cookie is HttpOnly");
    browser.shot("overview").await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.shot("overview-phone").await;
    browser.client.set_window_size(1280, 900).await.unwrap();

    // the messages page lists both messages and filters by file name
    browser.click_link("Messages").await;
    browser.wait_page("Messages").await;
    let text = browser.text().await;
    assert!(
        text.contains(&inbound) && text.contains(&outbound),
        "{text}"
    );
    browser.shot("messages").await;
    browser.type_into("f-file", "INVOICE").await;
    browser.click_button("Filter").await;
    browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Css("input#f-file[value='INVOICE']"))
        .await
        .unwrap();
    let text = browser.text().await;
    assert!(
        text.contains(&inbound) && !text.contains(&outbound),
        "{text}"
    );

    // a message's detail: its failure and, for an owner, the retry button
    browser.open("/console/messages").await;
    browser.wait_page("Messages").await;
    browser.click_link(&outbound).await;
    browser.wait_page(&format!("Message {outbound}")).await;
    let text = browser.text().await;
    assert!(
        text.contains("<order-7@as2platform>") && text.contains("transport_error"),
        "{text}"
    );
    assert_eq!(browser.buttons("Retry").await, 1);
    browser.shot("message-detail").await;

    // the same form without its CSRF token is refused and changes nothing
    browser
        .client
        .execute(
            "document.querySelector('form[action$=\"/retry\"] input[name=csrf_token]').remove()",
            vec![],
        )
        .await
        .unwrap();
    browser.click_button("Retry").await;
    browser.wait_page("Refused").await;
    assert!(
        browser.text().await.contains("security token"),
        "{}",
        browser.text().await
    );
    browser.shot("csrf-refused").await;
    assert_eq!(status(fixture.outbound), MessageStatus::Failed);
    browser.open("/console").await;
    browser.wait_page("Overview").await;
    browser.sign_out().await;

    // a viewer sees the message without the button; a retry forged in its page is refused
    browser.sign_in("vic@example.com", PASSWORD).await;
    browser.open(&format!("/console/messages/{outbound}")).await;
    browser.wait_page(&format!("Message {outbound}")).await;
    assert_eq!(browser.buttons("Retry").await, 0, "no change for a viewer");
    browser.shot("viewer-message-detail").await;
    browser
        .client
        .execute(
            "const form = document.createElement('form');
             form.method = 'post';
             form.action = arguments[0];
             form.appendChild(document.querySelector('input[name=csrf_token]').cloneNode());
             document.body.appendChild(form);
             form.submit();",
            vec![json!(format!("/console/messages/{outbound}/retry"))],
        )
        .await
        .unwrap();
    browser.wait_page("Not allowed").await;
    browser.shot("viewer-refused").await;
    browser.open("/console/partners").await;
    browser.wait_page("Partners").await;
    let links = browser
        .client
        .find_all(Locator::LinkText("New partner"))
        .await
        .unwrap();
    assert!(links.is_empty(), "no partner form for a viewer");
    assert_eq!(status(fixture.outbound), MessageStatus::Failed);
    browser.open("/console").await;
    browser.wait_page("Overview").await;
    browser.sign_out().await;

    // the owner of another tenant cannot open the message by its URL, nor see it listed
    browser.sign_in("eve@example.com", PASSWORD).await;
    browser.open(&format!("/console/messages/{inbound}")).await;
    browser.wait_page("Message not found").await;
    assert!(!browser.text().await.contains("invoice-42.edi"));
    browser.shot("other-tenant-not-found").await;
    browser.open("/console/messages").await;
    browser.wait_page("Messages").await;
    let text = browser.text().await;
    assert!(
        !text.contains(&inbound) && !text.contains(&outbound),
        "{text}"
    );
    browser.sign_out().await;

    // the owner retries: the message is queued again and the audit log names her
    browser.sign_in("ada@example.com", PASSWORD).await;
    browser.open(&format!("/console/messages/{outbound}")).await;
    browser.wait_page(&format!("Message {outbound}")).await;
    browser.click_button("Retry").await;
    browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::XPath("//dd[normalize-space()='queued']"))
        .await
        .unwrap();
    assert_eq!(status(fixture.outbound), MessageStatus::Queued);
    browser.click_link("Audit log").await;
    browser.wait_page("Audit log").await;
    let text = browser.text().await;
    assert!(
        text.contains("message.retry") && text.contains("ada@example.com"),
        "{text}"
    );
    assert_eq!(
        text.matches("message.retry").count(),
        1,
        "the viewer's refused retry is no change: {text}"
    );
    browser.shot("audit-log").await;

    // a partner: the API's sentence beside the field it names, corrected, then listed
    browser.click_link("Partners").await;
    browser.wait_page("Partners").await;
    browser.click_link("New partner").await;
    browser.wait_page("New partner").await;
    browser.type_into("name", "Globex").await;
    browser.type_into("as2_id", "GLOBEX CORP").await;
    browser.type_into("url", "https://globex.example/as2").await;
    browser.click_button("Create partner").await;
    let said = browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Id("as2_id-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(said.contains("AS2"), "the API's sentence: {said}");
    browser.shot("partner-form-error").await;
    browser.type_into("as2_id", "GLOBEX").await;
    browser.click_button("Create partner").await;
    browser.wait_page("Partners").await;
    let text = browser.text().await;
    assert!(
        text.contains("GLOBEX") && text.contains("Acme Corporation"),
        "{text}"
    );
    browser.shot("partners").await;
    browser.click_link("Certificates").await;
    browser.wait_page("Certificates").await;
    let text = browser.text().await;
    assert!(
        text.contains("Expiring soon") && text.contains("expires within 30 days"),
        "{text}"
    );
    browser.shot("certificates").await;

    // the partner's trust page: a rollover scheduled to the key pair good for a year is on
    // the timeline, and the chain verifies
    browser.click_link("Partners").await;
    browser.wait_page("Partners").await;
    let trust = format!("/console/partners/{}/trust", fixture.partner);
    browser
        .client
        .find(Locator::Css(&format!("a[href='{trust}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_page("Trust lifecycle: Acme Corporation").await;
    browser
        .client
        .find(Locator::Id("certificate_id"))
        .await
        .unwrap()
        .select_by_value(&fixture.next_certificate)
        .await
        .unwrap();
    let day = |offset| {
        (chrono::Utc::now() + chrono::Duration::days(offset))
            .format("%Y-%m-%d")
            .to_string()
    };
    browser
        .client
        .execute(
            "document.getElementById('activate_at').value = arguments[0];
             document.getElementById('retire_at').value = arguments[1];",
            vec![json!(day(2)), json!(day(9))],
        )
        .await
        .unwrap();
    browser.click_button("Schedule rollover").await;
    browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::XPath(
            "//td[normalize-space()='rollover scheduled']",
        ))
        .await
        .unwrap();
    let text = browser.text().await;
    assert!(
        text.contains(&fixture.next_certificate) && text.contains("Cancel the rollover"),
        "{text}"
    );
    browser.click_button("Verify chain").await;
    browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Id("verification"))
        .await
        .unwrap();
    let text = browser.text().await;
    assert!(text.contains("Intact: 1 event,"), "{text}");
    browser.client.set_window_size(1280, 1500).await.unwrap();
    browser.shot("trust").await;
    browser.client.set_window_size(1280, 900).await.unwrap();

    // the partner's CEM request, accepted on the same page: its row says so, the button goes
    let accept = format!("Accept request {}", fixture.cem);
    assert_eq!(browser.buttons(&accept).await, 1);
    browser
        .client
        .execute("document.getElementById('cem').scrollIntoView()", vec![])
        .await
        .unwrap();
    browser.shot("cem-request").await;
    browser.click_button(&accept).await;
    browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::XPath(&format!(
            "//tr[@id='cem-{}']/td[normalize-space()='accepted']",
            fixture.cem
        )))
        .await
        .unwrap();
    assert_eq!(browser.buttons(&accept).await, 0);
    let partner = store
        .partners()
        .get(fixture.scope, fixture.partner)
        .unwrap();
    assert_eq!(
        partner
            .settings
            .encryption_certificate_id
            .map(|c| c.to_string()),
        Some(fixture.next_certificate.clone()),
        "encryption to the partner switched"
    );
    browser
        .client
        .execute("document.getElementById('cem').scrollIntoView()", vec![])
        .await
        .unwrap();
    browser.shot("trust-cem").await;

    // our station's own trust page
    browser
        .open(&format!("/console/stations/{}/trust", fixture.station))
        .await;
    let station = store
        .stations()
        .get(fixture.scope, fixture.station)
        .unwrap();
    browser
        .wait_page(&format!("Trust lifecycle: {}", station.settings.name))
        .await;
    browser.shot("station-trust").await;

    // the partner's settings, every one of them in its form
    browser
        .open(&format!("/console/partners/{}/edit", fixture.partner))
        .await;
    browser.wait_page("Edit partner Acme Corporation").await;
    browser.shot("partner-edit").await;

    // the owner adds a user: the password is shown once
    browser.click_link("Users").await;
    browser.wait_page("Users").await;
    browser.type_into("new-email", "bob@example.com").await;
    browser.type_into("new-name", "Bob").await;
    browser
        .client
        .find(Locator::Id("new-role"))
        .await
        .unwrap()
        .select_by_value("operator")
        .await
        .unwrap();
    browser.click_button("Add user").await;
    let password = browser
        .client
        .wait()
        .at_most(PAGE_WAIT)
        .for_element(Locator::Id("new-password"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(password.len(), 24, "{password}");
    browser.shot("users").await;
    browser.sign_out().await;
}
