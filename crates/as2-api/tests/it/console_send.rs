//! Sending a message from the console over real HTTP: an operator's upload (several hundred
//! KiB, so the body goes on whole after its CSRF token is read) is queued with the file's
//! bytes through `POST /v1/messages`'s functions and lands on the message's page; a refusal
//! shows the API's sentences with what was chosen kept; a viewer sees no form and is refused.

use as2_api::console::ConsoleConfig;
use as2_domain::user::Role;
use serde_json::json;

use crate::console::Served;
use crate::upload::{Part, multipart, post_multipart};

async fn partner(served: &Served) -> String {
    let reply = served
        .api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example.com/as2", "encrypt": false}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

/// The form's body: the CSRF token first (when given), then the fields as given.
fn form(csrf: Option<&str>, fields: &[(&str, &str)], file: Option<&[u8]>) -> (String, Vec<u8>) {
    let mut parts = Vec::new();
    if let Some(csrf) = csrf {
        parts.push(Part {
            name: "csrf_token",
            filename: None,
            content: csrf.as_bytes(),
        });
    }
    for (name, value) in fields {
        parts.push(Part {
            name,
            filename: None,
            content: value.as_bytes(),
        });
    }
    if let Some(file) = file {
        parts.push(Part {
            name: "file",
            filename: Some("orders.edi"),
            content: file,
        });
    }
    multipart(&parts)
}

async fn total(served: &Served) -> i64 {
    served.api.get("/v1/messages").await.body["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn an_operator_sends_a_file_that_is_queued_with_its_bytes() {
    let served = Served::start(ConsoleConfig::default()).await;
    let partner = partner(&served).await;
    served.user("ops@example.com", served.api.tenant, Role::Operator);
    let (ops, csrf) = served.session("ops@example.com").await;

    let listed = served.get("/console/messages", &ops).await;
    assert!(listed.body.contains("href=\"/console/messages/new\""));
    let new = served.get("/console/messages/new", &ops).await;
    assert_eq!(new.status, 200, "{}", new.body);
    assert!(new.body.contains("enctype=\"multipart/form-data\""));
    assert!(new.body.contains(&format!("<option value=\"{partner}\">")));
    for field in ["partner_id", "file", "subject"] {
        assert!(
            new.body.contains(&format!("<label for=\"{field}\">")),
            "{field}"
        );
    }

    // 300 KiB that are not all alike: the whole body must reach the handler after the token
    let file: Vec<u8> = (0..300 * 1024u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let (content_type, body) = form(
        Some(&csrf),
        &[("partner_id", &partner), ("subject", "Orders of the week")],
        Some(&file),
    );
    let sent = served
        .post_multipart("/console/messages/new", &ops, &content_type, &body)
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let location = sent.header("location").unwrap().to_owned();
    let id = location.strip_prefix("/console/messages/").unwrap();
    assert!(id.starts_with("msg_"), "{location}");
    let message = served.api.get(&format!("/v1/messages/{id}")).await.body["data"].clone();
    assert_eq!(message["status"], "queued");
    assert_eq!(message["direction"], "outbound");
    assert_eq!(message["partner_id"], partner.as_str());
    assert_eq!(message["subject"], "Orders of the week");
    assert_eq!(message["filename"], "orders.edi");
    assert_eq!(message["content_type"], "application/edi-x12");
    let payload = served.api.get(&format!("/v1/messages/{id}/payload")).await;
    assert_eq!(payload.bytes.len(), file.len());
    assert!(payload.bytes == file, "the file's bytes, whole");
    let shown = served.get(&location, &ops).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("Orders of the week"));

    let audit = served
        .api
        .get(&format!("/v1/audit-events?resource_id={id}"))
        .await;
    let events = audit.body["data"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "message.create" && e["actor"]["label"] == "ops@example.com"),
        "{:?}",
        audit.body
    );
    assert!(!audit.body.to_string().contains(&csrf));
}

#[tokio::test]
async fn a_refusal_shows_the_apis_sentences_and_a_viewer_may_not_send() {
    let served = Served::start(ConsoleConfig::default()).await;
    let partner = partner(&served).await;
    served.user("ops@example.com", served.api.tenant, Role::Operator);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (ops, csrf) = served.session("ops@example.com").await;

    // no file, then a partner that does not exist: the API's sentences beside the fields
    let cases: [(&str, Option<&[u8]>, &str); 2] = [
        (partner.as_str(), None, "file"),
        ("prt_999999", Some(b"ISA*00~"), "partner_id"),
    ];
    for (chosen, file, field) in cases {
        let fields = [("partner_id", chosen), ("subject", "Kept")];
        let (content_type, body) = form(Some(&csrf), &fields, file);
        let answer = served
            .post_multipart("/console/messages/new", &ops, &content_type, &body)
            .await;
        let mut api_parts: Vec<Part<'_>> = fields
            .iter()
            .map(|(name, value)| Part {
                name,
                filename: None,
                content: value.as_bytes(),
            })
            .collect();
        if let Some(file) = file {
            api_parts.push(Part {
                name: "file",
                filename: Some("orders.edi"),
                content: file,
            });
        }
        let api_says = post_multipart(&served.api, "/v1/messages", &api_parts).await;
        assert_eq!(answer.status, api_says.status.as_u16(), "{}", answer.body);
        assert_eq!(answer.status, 422);
        let sentence = api_says.body["errors"][field][0].as_str().unwrap();
        assert!(
            answer.body.contains(sentence),
            "{sentence}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
        assert!(answer.body.contains("value=\"Kept\""), "the subject kept");
        if chosen == partner {
            assert!(
                answer
                    .body
                    .contains(&format!("<option value=\"{partner}\" selected>")),
                "the partner kept"
            );
        }
    }
    // the token after the file is refused before anything is stored
    let (content_type, body) = multipart(&[
        Part {
            name: "partner_id",
            filename: None,
            content: partner.as_bytes(),
        },
        Part {
            name: "file",
            filename: Some("orders.edi"),
            content: b"ISA*00~",
        },
        Part {
            name: "csrf_token",
            filename: None,
            content: csrf.as_bytes(),
        },
    ]);
    let late = served
        .post_multipart("/console/messages/new", &ops, &content_type, &body)
        .await;
    assert_eq!(late.status, 403, "{}", late.body);
    assert_eq!(total(&served).await, 0);

    // a viewer: no link, no form, a forged upload refused
    let (vic, vic_csrf) = served.session("vic@example.com").await;
    let listed = served.get("/console/messages", &vic).await;
    assert_eq!(listed.status, 200);
    assert!(!listed.body.contains("/console/messages/new"));
    assert_eq!(served.get("/console/messages/new", &vic).await.status, 403);
    let (content_type, body) = form(
        Some(&vic_csrf),
        &[("partner_id", &partner)],
        Some(b"ISA*00~"),
    );
    let forged = served
        .post_multipart("/console/messages/new", &vic, &content_type, &body)
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(total(&served).await, 0);
}
