//! The console's partner edit form over real HTTP: every setting filled from the partner,
//! the API's sentences beside the fields it refuses, a save through the API's own path that
//! keeps the basic-auth password unless one is typed (never shown, redacted in the audit
//! log); a viewer cannot open or forge it, another tenant does not find the partner.

use as2_api::console::ConsoleConfig;
use as2_domain::user::Role;
use serde_json::{Value, json};

use crate::console::Served;

/// The form body a browser sends for the partner as the API shows it, with `changes` over
/// it (`None` leaves a field out, like an unchecked box).
fn form_of(csrf: &str, partner: &Value, changes: &[(&str, Option<&str>)]) -> String {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (name, value) in partner.as_object().unwrap() {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bool(true) => "true".to_owned(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            _ => continue,
        };
        fields.push((name.clone(), text));
    }
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        if let Some(value) = value {
            fields.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    body.append_pair("csrf_token", csrf);
    for (name, value) in &fields {
        // what the API answers but the form has no field for
        if ![
            "id",
            "has_auth_password",
            "ready_to_send",
            "created_at",
            "updated_at",
        ]
        .contains(&name.as_str())
        {
            body.append_pair(name, value);
        }
    }
    body.finish()
}

#[tokio::test]
async fn an_admin_edits_every_setting_with_the_apis_sentences_and_keeps_the_password() {
    let served = Served::start(ConsoleConfig::default()).await;
    let made = served
        .api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2",
                   "auth": true, "auth_user": "acme", "auth_password": "first-s3cret"}),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    let partner = made.body["data"]["id"].as_str().unwrap().to_owned();
    let stored = made.body["data"].clone();
    let edit = format!("/console/partners/{partner}/edit");
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (ada, csrf) = served.session("ada@example.com").await;

    let listed = served.get("/console/partners", &ada).await;
    assert!(
        listed.body.contains(&format!("href=\"{edit}\"")),
        "{}",
        listed.body
    );
    let shown = served.get(&edit, &ada).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("Edit partner Acme"));
    assert!(shown.body.contains("value=\"ACME\""));
    assert!(
        shown.body.contains("<option value=\"sha256\" selected>"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("value=\"acme\""), "the basic-auth user");
    assert!(!shown.body.contains("first-s3cret"), "never the password");
    for field in [
        "key_transport",
        "tls_pin_sha256",
        "allowed_networks",
        "retry_interval",
        "mdn_mode",
    ] {
        assert!(
            shown.body.contains(&format!("<label for=\"{field}\">")),
            "{field}"
        );
    }

    // the API's own sentences beside the fields; what was typed is kept
    let wrong = served
        .post(
            &edit,
            &ada,
            &[],
            &form_of(
                &csrf,
                &stored,
                &[
                    ("as2_id", Some("ACME CORP")),
                    ("retry_attempts", Some("99")),
                    ("allowed_networks", Some("10.0.0.0/33")),
                ],
            ),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    for field in ["as2_id", "retry_attempts", "allowed_networks"] {
        assert!(
            wrong.body.contains(&format!("id=\"{field}-error\"")),
            "{field}: {}",
            wrong.body
        );
    }
    assert!(!wrong.body.contains("id=\"name-error\""));
    assert!(wrong.body.contains("value=\"ACME CORP\""));
    let api_says = served
        .api
        .patch(
            &format!("/v1/partners/{partner}"),
            json!({"as2_id": "ACME CORP", "retry_attempts": 99}),
        )
        .await;
    for field in ["as2_id", "retry_attempts"] {
        let sentence = api_says.body["errors"][field][0].as_str().unwrap();
        assert!(
            wrong.body.contains(sentence),
            "the API's sentence: {sentence}"
        );
    }
    let not_a_number = served
        .post(
            &edit,
            &ada,
            &[],
            &form_of(&csrf, &stored, &[("timeout", Some("soon"))]),
        )
        .await;
    assert_eq!(not_a_number.status, 422);
    assert!(
        not_a_number
            .body
            .contains("The timeout must be a whole number")
    );
    assert_eq!(
        served
            .api
            .get(&format!("/v1/partners/{partner}"))
            .await
            .body["data"],
        stored
    );

    let saved = served
        .post(
            &edit,
            &ada,
            &[],
            &form_of(
                &csrf,
                &stored,
                &[
                    ("name", Some("Acme Europe")),
                    ("encrypt_algorithm", Some("aes128-gcm")),
                    ("compress", Some("true")),
                    ("mdn_mode", Some("async")),
                    ("mdn_url", Some("https://us.example/mdn")),
                    ("retry_attempts", Some("3")),
                    ("firewall", Some("true")),
                    ("allowed_networks", Some("10.0.0.0/8, 192.168.1.0/24")),
                    ("require_encrypted", None),
                ],
            ),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let now = served
        .api
        .get(&format!("/v1/partners/{partner}"))
        .await
        .body["data"]
        .clone();
    assert_eq!(now["name"], "Acme Europe");
    assert_eq!(now["encrypt_algorithm"], "aes128-gcm");
    assert_eq!(now["compress"], true);
    assert_eq!(now["mdn_mode"], "async");
    assert_eq!(now["retry_attempts"], 3);
    assert_eq!(
        now["allowed_networks"],
        json!(["10.0.0.0/8", "192.168.1.0/24"])
    );
    assert_eq!(now["require_encrypted"], false, "unchecked");
    assert_eq!(now["as2_id"], "ACME", "unchanged");
    assert_eq!(now["has_auth_password"], true, "kept");

    // a new password is taken, never shown, redacted in the audit log; then removed
    let secret = served
        .post(
            &edit,
            &ada,
            &[],
            &form_of(&csrf, &now, &[("auth_password", Some("second-s3cret"))]),
        )
        .await;
    assert_eq!(secret.status, 303, "{}", secret.body);
    let audit = served
        .api
        .get("/v1/audit-events?action=partner.update")
        .await;
    assert_eq!(audit.body["total"], 2, "{:?}", audit.body);
    assert_eq!(audit.body["data"][0]["actor"]["label"], "ada@example.com");
    assert!(!audit.body.to_string().contains("second-s3cret"));
    assert!(!served.get(&edit, &ada).await.body.contains("second-s3cret"));
    let removed = served
        .post(
            &edit,
            &ada,
            &[],
            &form_of(
                &csrf,
                &now,
                &[("auth", None), ("remove_password", Some("true"))],
            ),
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let now = served
        .api
        .get(&format!("/v1/partners/{partner}"))
        .await
        .body["data"]
        .clone();
    assert_eq!(now["has_auth_password"], false);

    // a viewer neither opens nor forges it
    let (vic, vic_csrf) = served.session("vic@example.com").await;
    assert!(
        !served
            .get("/console/partners", &vic)
            .await
            .body
            .contains(&edit)
    );
    assert_eq!(served.get(&edit, &vic).await.status, 403);
    let forged = served
        .post(
            &edit,
            &vic,
            &[],
            &form_of(&vic_csrf, &now, &[("name", Some("Evil"))]),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    // another tenant's owner does not find it
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    assert_eq!(served.get(&edit, &eve).await.status, 404);
    let theirs = served
        .post(
            &edit,
            &eve,
            &[],
            &form_of(&eve_csrf, &now, &[("name", Some("Evil"))]),
        )
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    assert_eq!(
        served
            .api
            .get(&format!("/v1/partners/{partner}"))
            .await
            .body["data"]["name"],
        "Acme Europe"
    );
}
