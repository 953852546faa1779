//! The console's settings page and messages export over real HTTP: retention and alert
//! recipients saved through the API's own `PATCH /v1/tenants/{id}` path with its sentences
//! beside the fields and an audit event; a viewer sees neither the page nor its menu entry and
//! a forged save is 403; another tenant's owner sees and changes only their own; the export
//! downloads the API's zip for two days or shows the API's 422 sentence.

use std::io::Read;

use as2_api::console::ConsoleConfig;
use as2_domain::user::Role;
use axum::http::Method;
use serde_json::json;

use crate::console::Served;

fn form(csrf: &str, fields: &[(&str, &str)]) -> String {
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.append_pair("csrf_token", csrf);
    for (name, value) in fields {
        body.append_pair(name, value);
    }
    body.finish()
}

#[tokio::test]
async fn an_admin_saves_retention_and_alert_recipients_with_the_apis_sentences() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (ada, csrf) = served.session("ada@example.com").await;
    let tenant_path = format!("/v1/tenants/{}", served.api.tenant);

    let shown = served.get("/console/settings", &ada).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown
            .body
            .contains("<a href=\"/console/settings\" aria-current=\"page\">Settings</a>")
    );
    for field in [
        "retention_payload_days",
        "retention_record_days",
        "alert_emails",
    ] {
        assert!(
            shown.body.contains(&format!("<label for=\"{field}\">")),
            "{field}"
        );
    }
    // the bootstrap's account is on Enterprise: 90 days of payloads, 400 of records
    assert!(shown.body.contains("default, 90 days"), "{}", shown.body);
    assert!(shown.body.contains("default, 400 days"));

    // a bad address: the API's own sentence, naming the entry, beside the field
    let typed = "ops@example.com\n\nnot an address";
    let bad = served
        .post(
            "/console/settings",
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("retention_payload_days", "30"),
                    ("retention_record_days", ""),
                    ("alert_emails", typed),
                ],
            ),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let api_says = served
        .api
        .patch(
            &tenant_path,
            json!({"alert_emails": ["ops@example.com", "not an address"]}),
        )
        .await;
    assert_eq!(api_says.status.as_u16(), 422);
    let sentence = api_says.body["errors"]["alert_emails[1]"][0]
        .as_str()
        .unwrap();
    assert!(bad.body.contains("id=\"alert_emails-error\""));
    assert!(bad.body.contains("alert_emails[1]"), "{}", bad.body);
    assert!(bad.body.contains(sentence), "{sentence}: {}", bad.body);
    assert!(bad.body.contains("not an address"), "what was typed kept");
    assert!(!bad.body.contains("id=\"retention_payload_days-error\""));

    // records kept for less than payloads: the API's sentence beside the record days
    let order = served
        .post(
            "/console/settings",
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("retention_payload_days", "100"),
                    ("retention_record_days", "50"),
                    ("alert_emails", ""),
                ],
            ),
        )
        .await;
    assert_eq!(order.status, 422, "{}", order.body);
    assert!(order.body.contains("id=\"retention_record_days-error\""));
    assert!(
        order
            .body
            .contains("Records must be kept at least as long as payloads")
    );
    let out_of_range = served
        .post(
            "/console/settings",
            &ada,
            &[],
            &form(&csrf, &[("retention_payload_days", "9999")]),
        )
        .await;
    assert_eq!(out_of_range.status, 422);
    let api_says = served
        .api
        .patch(&tenant_path, json!({"retention_payload_days": 9999}))
        .await;
    let sentence = api_says.body["errors"]["retention_payload_days"][0]
        .as_str()
        .unwrap();
    assert!(out_of_range.body.contains(sentence), "{sentence}");
    let unchanged = served.api.get(&tenant_path).await.body["data"].clone();
    assert_eq!(unchanged["retention_payload_days"], serde_json::Value::Null);
    assert_eq!(unchanged["alert_emails"], json!([]));

    let saved = served
        .post(
            "/console/settings",
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("retention_payload_days", "30"),
                    ("retention_record_days", ""),
                    (
                        "alert_emails",
                        "ops@example.com\r\n\r\nOn-Call@Example.com\r\n",
                    ),
                ],
            ),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.header("location"), Some("/console/settings?saved"));
    let now = served.api.get(&tenant_path).await.body["data"].clone();
    assert_eq!(now["retention_payload_days"], 30);
    assert_eq!(now["retention_record_days"], serde_json::Value::Null);
    assert_eq!(
        now["alert_emails"],
        json!(["ops@example.com", "On-Call@Example.com"])
    );
    let again = served.get("/console/settings?saved", &ada).await;
    assert!(again.body.contains("The settings were saved."));
    assert!(again.body.contains("value=\"30\""));
    assert!(again.body.contains("ops@example.com\nOn-Call@Example.com"));

    // emptied: the plan's default again, and no email alerts
    let cleared = served
        .post(
            "/console/settings",
            &ada,
            &[],
            &form(
                &csrf,
                &[
                    ("retention_payload_days", ""),
                    ("retention_record_days", ""),
                    ("alert_emails", ""),
                ],
            ),
        )
        .await;
    assert_eq!(cleared.status, 303, "{}", cleared.body);
    let now = served.api.get(&tenant_path).await.body["data"].clone();
    assert_eq!(now["retention_payload_days"], serde_json::Value::Null);
    assert_eq!(now["alert_emails"], json!([]));

    let audit = served
        .api
        .get(&format!(
            "/v1/audit-events?resource_id={}",
            served.api.tenant
        ))
        .await;
    let by_ada: Vec<&serde_json::Value> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["label"] == "ada@example.com")
        .collect();
    assert_eq!(by_ada.len(), 2, "one event a save, none for a refusal");
    assert!(by_ada.iter().all(|e| e["action"] == "tenant.update"));
    assert!(
        !audit.body.to_string().contains(&csrf),
        "never the CSRF token"
    );
}

#[tokio::test]
async fn a_viewer_cannot_reach_settings_and_another_tenant_sees_only_its_own() {
    let served = Served::start(ConsoleConfig::default()).await;
    let tenant_path = format!("/v1/tenants/{}", served.api.tenant);
    let set = served
        .api
        .patch(
            &tenant_path,
            json!({"alert_emails": ["ours@example.com"], "retention_payload_days": 45}),
        )
        .await;
    assert_eq!(set.status.as_u16(), 200, "{:?}", set.body);
    let stored = served.api.get(&tenant_path).await.body["data"].clone();
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("otto@example.com", served.api.tenant, Role::Operator);
    let (foreign, foreign_key) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);

    for email in ["vic@example.com", "otto@example.com"] {
        let (token, csrf) = served.session(email).await;
        let overview = served.get("/console", &token).await;
        assert!(!overview.body.contains("/console/settings"), "{email}");
        let page = served.get("/console/settings", &token).await;
        assert_eq!(page.status, 403, "{email}");
        assert!(!page.body.contains("ours@example.com"));
        assert!(
            !page
                .body
                .contains("<form method=\"post\" action=\"/console/settings\"")
        );
        let forged = form(
            &csrf,
            &[
                ("retention_payload_days", "1"),
                ("alert_emails", "evil@example.com"),
            ],
        );
        let answer = served.post("/console/settings", &token, &[], &forged).await;
        assert_eq!(answer.status, 403, "{email}");
    }
    assert_eq!(served.api.get(&tenant_path).await.body["data"], stored);

    // without the token, even an admin's save is refused
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (ada, _) = served.session("ada@example.com").await;
    let tokenless = served
        .post(
            "/console/settings",
            &ada,
            &[],
            "retention_payload_days=1&alert_emails=evil%40example.com",
        )
        .await;
    assert_eq!(tokenless.status, 403);
    assert_eq!(served.api.get(&tenant_path).await.body["data"], stored);

    // another account's owner: their own tenant's settings, never ours
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    let theirs = served.get("/console/settings", &eve).await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert!(!theirs.body.contains("ours@example.com"));
    assert!(!theirs.body.contains("value=\"45\""));
    assert!(theirs.body.contains("default, 30 days"), "the Free plan's");
    let saved = served
        .post(
            "/console/settings",
            &eve,
            &[],
            &form(&eve_csrf, &[("alert_emails", "eve@example.com")]),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(served.api.get(&tenant_path).await.body["data"], stored);
    let other = served
        .api
        .call(Method::GET, "/v1/tenants/current", Some(&foreign_key), None)
        .await;
    assert_eq!(
        other.body["data"]["alert_emails"],
        json!(["eve@example.com"])
    );
}

#[tokio::test]
async fn an_owner_renames_the_tenant_and_sets_its_message_limit_with_the_apis_sentences() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("olga@example.com", served.api.tenant, Role::Owner);
    let (olga, csrf) = served.session("olga@example.com").await;
    let tenant_path = format!("/v1/tenants/{}", served.api.tenant);
    let before = served.api.get(&tenant_path).await.body["data"].clone();
    let name = before["name"].as_str().unwrap().to_owned();

    let shown = served.get("/console/settings", &olga).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown
            .body
            .contains("<label for=\"name\">Tenant name</label>")
    );
    assert!(shown.body.contains("<label for=\"max_message_bytes\">"));
    assert!(
        shown.body.contains(&format!("value=\"{name}\"")),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("AS2_MAX_MESSAGE_BYTES"));

    // the API's sentences beside the fields, what was typed kept, nothing saved
    let all = |name: &str, limit: &str| {
        form(
            &csrf,
            &[
                ("name", name),
                ("max_message_bytes", limit),
                ("retention_payload_days", ""),
                ("retention_record_days", ""),
                ("alert_emails", ""),
            ],
        )
    };
    let bad = served
        .post("/console/settings", &olga, &[], &all("   ", "100"))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for (field, body) in [
        ("name", json!({"name": "   "})),
        ("max_message_bytes", json!({"max_message_bytes": 100})),
    ] {
        let api_says = served.api.patch(&tenant_path, body).await;
        assert_eq!(api_says.status.as_u16(), 422, "{field}");
        let sentence = api_says.body["errors"][field][0].as_str().unwrap();
        assert!(bad.body.contains(sentence), "{sentence}: {}", bad.body);
        assert!(
            bad.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
        assert!(
            bad.body
                .contains(&format!("aria-describedby=\"{field}-hint {field}-error\"")),
            "{field}"
        );
    }
    assert!(bad.body.contains("value=\"100\""), "what was typed kept");
    let not_a_number = served
        .post("/console/settings", &olga, &[], &all("Renamed", "lots"))
        .await;
    assert_eq!(not_a_number.status, 422);
    assert!(not_a_number.body.contains("Enter a whole number of bytes"));
    assert!(not_a_number.body.contains("value=\"Renamed\""));
    assert_eq!(served.api.get(&tenant_path).await.body["data"], before);

    let saved = served
        .post(
            "/console/settings",
            &olga,
            &[],
            &all("  Renamed Ltd ", "2048"),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let now = served.api.get(&tenant_path).await.body["data"].clone();
    assert_eq!(now["name"], "Renamed Ltd");
    assert_eq!(now["max_message_bytes"], 2048);
    let again = served.get("/console/settings?saved", &olga).await;
    assert!(again.body.contains("value=\"Renamed Ltd\""));
    assert!(again.body.contains("value=\"2048\""));
    assert!(
        again.body.contains("Renamed Ltd (owner)"),
        "the header's switch"
    );

    // an empty limit: the platform's again
    let cleared = served
        .post("/console/settings", &olga, &[], &all("Renamed Ltd", ""))
        .await;
    assert_eq!(cleared.status, 303, "{}", cleared.body);
    let now = served.api.get(&tenant_path).await.body["data"].clone();
    assert_eq!(now["max_message_bytes"], serde_json::Value::Null);

    let audit = served
        .api
        .get(&format!(
            "/v1/audit-events?resource_id={}",
            served.api.tenant
        ))
        .await;
    let events: Vec<&serde_json::Value> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["label"] == "olga@example.com")
        .collect();
    assert_eq!(events.len(), 2, "one event a save, none for a refusal");
    assert!(events.iter().all(|e| e["action"] == "tenant.update"));
    assert!(
        audit.body.to_string().contains("Renamed Ltd"),
        "the change is recorded"
    );
}

#[tokio::test]
async fn viewers_and_operators_cannot_rename_the_tenant_nor_change_its_limit() {
    let served = Served::start(ConsoleConfig::default()).await;
    let tenant_path = format!("/v1/tenants/{}", served.api.tenant);
    let before = served.api.get(&tenant_path).await.body["data"].clone();
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("otto@example.com", served.api.tenant, Role::Operator);
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    for email in ["vic@example.com", "otto@example.com"] {
        let (token, csrf) = served.session(email).await;
        let forged = form(
            &csrf,
            &[("name", "Taken over"), ("max_message_bytes", "1024")],
        );
        let answer = served.post("/console/settings", &token, &[], &forged).await;
        assert_eq!(answer.status, 403, "{email}");
    }
    let (ada, _) = served.session("ada@example.com").await;
    let tokenless = served
        .post(
            "/console/settings",
            &ada,
            &[],
            "name=Taken+over&max_message_bytes=1024",
        )
        .await;
    assert_eq!(tokenless.status, 403);
    assert_eq!(served.api.get(&tenant_path).await.body["data"], before);
}

/// The console's export over the in-process router (the zip's bytes, not chunks).
async fn export(served: &Served, token: &str, query: &str) -> crate::common::Reply {
    let cookie = format!("as2_console={token}");
    served
        .api
        .call_with_headers(
            Method::GET,
            &format!("/console/messages/export?{query}"),
            None,
            None,
            &[("cookie", cookie.as_str()), ("accept", "text/html")],
        )
        .await
}

fn lines_of(bytes: Vec<u8>) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut lines = String::new();
    zip.by_name("messages.jsonl")
        .unwrap()
        .read_to_string(&mut lines)
        .unwrap();
    lines
}

#[tokio::test]
async fn the_export_downloads_the_apis_zip_for_two_days_or_shows_its_sentence() {
    let served = Served::start(ConsoleConfig::default()).await;
    let partner = served
        .api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example.com/as2", "encrypt": false}),
        )
        .await;
    assert_eq!(partner.status.as_u16(), 201, "{:?}", partner.body);
    let sent = served
        .api
        .post(
            "/v1/messages",
            json!({"partner_id": partner.body["data"]["id"], "content": "SVNBKg==", "filename": "a.edi"}),
        )
        .await;
    assert_eq!(sent.status.as_u16(), 202, "{:?}", sent.body);
    let id = sent.body["data"]["id"].as_str().unwrap().to_owned();
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (vic, _) = served.session("vic@example.com").await;

    let listed = served.get("/console/messages", &vic).await;
    assert!(
        listed.body.contains("action=\"/console/messages/export\""),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("<label for=\"export-since\">"));
    let today = chrono::Utc::now().date_naive();
    let first = (today - chrono::Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    let last = today.format("%Y-%m-%d").to_string();
    let zip = export(&served, &vic, &format!("since={first}&until={last}")).await;
    assert_eq!(zip.status.as_u16(), 200);
    assert_eq!(zip.headers["content-type"], "application/zip");
    let name = zip.headers["content-disposition"].to_str().unwrap();
    let next = (today + chrono::Days::new(1)).format("%Y%m%d").to_string();
    assert!(
        name.contains(&format!("T000000Z-{next}T000000Z.zip")),
        "{name}"
    );
    assert!(lines_of(zip.bytes).contains(&id), "the last day included");
    let before = (today - chrono::Days::new(2))
        .format("%Y-%m-%d")
        .to_string();
    let earlier = export(&served, &vic, &format!("since={before}&until={first}")).await;
    assert!(!lines_of(earlier.bytes).contains(&id));

    // another tenant's export of the same days holds none of ours
    let (eve, _) = served.session("eve@example.com").await;
    let theirs = export(&served, &eve, &format!("since={first}&until={last}")).await;
    assert_eq!(theirs.status.as_u16(), 200);
    assert!(!lines_of(theirs.bytes).contains(&id));

    // refused ranges: the API's sentences beside the fields, what was typed kept
    let too_long = served
        .get(
            "/console/messages/export?since=2026-01-01&until=2026-03-01",
            &vic,
        )
        .await;
    assert_eq!(too_long.status, 422, "{}", too_long.body);
    let api_says = served
        .api
        .get("/v1/exports/messages?since=2026-01-01T00:00:00Z&until=2026-03-02T00:00:00Z")
        .await;
    let sentence = api_says.body["errors"]["until"][0].as_str().unwrap();
    assert!(
        too_long.body.contains(sentence),
        "{sentence}: {}",
        too_long.body
    );
    assert!(too_long.body.contains("id=\"export-until-error\""));
    assert!(too_long.body.contains("value=\"2026-03-01\""));
    let missing = served
        .get("/console/messages/export?since=2026-01-01&until=", &vic)
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("This parameter is required"));
    let reversed = served
        .get(
            "/console/messages/export?since=2026-01-05&until=2026-01-01",
            &vic,
        )
        .await;
    assert_eq!(reversed.status, 422);
    assert!(
        reversed
            .body
            .contains("The until time must be after the since time")
    );
}
