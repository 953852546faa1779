//! The words of an email alert: a subject and a plain-text body a person acts on, from the
//! event the webhooks get (`message.failed`, `certificate.expiring`,
//! `webhook_endpoint.disabled`, `partner.unreachable`, `partner.reachable`). Values that come from
//! tenants or partners (names, error sentences) are kept on one line each, without control
//! characters, and cut to a sane length.

use as2_domain::Mode;
use as2_store::repo::alerts::AlertToSend;
use serde_json::Value;

/// The longest value quoted from an event.
const MAX_VALUE: usize = 300;

/// The subject and body of `alert` for the tenant's `mode`.
pub fn compose(alert: &AlertToSend, mode: Mode) -> (String, String) {
    let data: Value = serde_json::from_str(&alert.data).unwrap_or(Value::Null);
    let field = |name: &str| one_line(data.get(name));
    let tenant = one_line(Some(&Value::String(alert.tenant_name.clone())));
    let suffix = match mode {
        Mode::Test => " (test mode)",
        Mode::Live => "",
    };
    let (subject, lines) = match alert.event_type.as_str() {
        "message.failed" => {
            let error = data.get("error");
            let sentence = one_line(error.and_then(|e| e.get("message")));
            let kind = one_line(error.and_then(|e| e.get("type")));
            (
                format!("[AS2] Message {} failed{suffix}", field("id")),
                vec![
                    format!(
                        "The {} message {} of tenant {tenant} failed for good.",
                        field("direction"),
                        field("id")
                    ),
                    String::new(),
                    format!("AS2 Message-ID: {}", field("message_id")),
                    format!("Partner: {}", field("partner_id")),
                    format!("Error ({kind}): {sentence}"),
                    String::new(),
                    "Look at its timeline with GET /v1/messages/{id}/events; once the cause is \
                     fixed, POST /v1/messages/{id}/retry (or /resend) sends it again."
                        .replace("{id}", &field("id")),
                ],
            )
        }
        "certificate.expiring" => (
            format!(
                "[AS2] Certificate \"{}\" expires within {} days{suffix}",
                field("name"),
                field("days")
            ),
            vec![
                format!(
                    "The certificate \"{}\" ({}) of tenant {tenant} expires at {}.",
                    field("name"),
                    field("id"),
                    field("not_after")
                ),
                String::new(),
                format!("Subject: {}", field("subject")),
                format!("SHA-256 fingerprint: {}", field("fingerprint_sha256")),
                String::new(),
                "Schedule its successor before then (POST /v1/partners/{id}/trust/rollover or the \
                 station's): messages signed or encrypted with an expired certificate fail."
                    .to_owned(),
            ],
        ),
        "webhook_endpoint.disabled" => (
            format!("[AS2] Webhook endpoint {} disabled{suffix}", field("id")),
            vec![
                format!(
                    "The webhook endpoint {} ({}) of tenant {tenant} was paused: a delivery to it failed for good.",
                    field("id"),
                    field("url")
                ),
                String::new(),
                format!("Delivery: {}", field("delivery_id")),
                format!("Last error: {}", field("reason")),
                String::new(),
                "It gets no events until it is turned on again: fix the endpoint, then PATCH \
                 /v1/webhook-endpoints/{id} with {\"active\": true}. GET \
                 /v1/webhook-endpoints/{id}/deliveries lists what it missed."
                    .replace("{id}", &field("id")),
            ],
        ),
        "partner.unreachable" => (
            format!("[AS2] Partner \"{}\" unreachable{suffix}", field("name")),
            vec![
                format!(
                    "The last {} attempts of tenant {tenant} to send to partner \"{}\" ({}, AS2 ID {}) got no answer.",
                    field("failed_attempts"),
                    field("name"),
                    field("partner_id"),
                    field("as2_id")
                ),
                String::new(),
                format!("URL: {}", field("url")),
                format!("Failing since: {}", field("unreachable_since")),
                format!("Last error: {}", field("last_error")),
                String::new(),
                "Messages to it are retried on their schedule and fail once their attempts are \
                 used up. Check the partner's server and the URL; POST /v1/partners/{id}/test \
                 checks the connection step by step. You get another mail when it answers again."
                    .replace("{id}", &field("partner_id")),
            ],
        ),
        "partner.reachable" => (
            format!("[AS2] Partner \"{}\" answers again{suffix}", field("name")),
            vec![
                format!(
                    "Partner \"{}\" ({}) of tenant {tenant} answered again after {} attempts without an answer (since {}).",
                    field("name"),
                    field("partner_id"),
                    field("failed_attempts"),
                    field("unreachable_since")
                ),
                String::new(),
                format!("URL: {}", field("url")),
                String::new(),
                "Messages that failed meanwhile can be sent again with POST \
                 /v1/messages/{id}/retry."
                    .to_owned(),
            ],
        ),
        other => (
            format!(
                "[AS2] {}{suffix}",
                one_line(Some(&Value::String(other.to_owned())))
            ),
            vec![format!("Tenant {tenant}: {}", one_line(Some(&data)))],
        ),
    };
    let mut body = lines.join("\n");
    body.push_str(&format!(
        "\n\nEvent at {}.\nYou get this mail because this address is one of the tenant's alert_emails (PATCH /v1/tenants/{{id}}).\n",
        alert.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    ));
    (subject, body)
}

/// A value as one line of text: strings as they are, anything else as JSON; control
/// characters replaced by spaces; at most [`MAX_VALUE`] characters.
fn one_line(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_VALUE)
        .collect();
    if text.chars().count() > MAX_VALUE {
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(event_type: &str, data: &str) -> AlertToSend {
        AlertToSend {
            event_type: event_type.into(),
            data: data.into(),
            created_at: chrono::Utc::now(),
            tenant_name: "Acme EU".into(),
            recipients: vec!["ops@acme.example".into()],
        }
    }

    #[test]
    fn a_failure_says_what_failed_and_what_to_do() {
        let (subject, body) = compose(
            &alert(
                "message.failed",
                r#"{"id":"msg_000007","message_id":"<a@b>","direction":"outbound","partner_id":"prt_000001","error":{"type":"transport","message":"The partner answered HTTP 503\r\nBcc: x@evil.example"}}"#,
            ),
            Mode::Live,
        );
        assert_eq!(subject, "[AS2] Message msg_000007 failed");
        assert!(body.contains("Error (transport): The partner answered HTTP 503  Bcc"));
        assert!(!body.contains("\r"));
        assert!(body.contains("POST /v1/messages/msg_000007/retry"));
    }

    #[test]
    fn an_expiring_certificate_names_itself_and_its_mode() {
        let (subject, body) = compose(
            &alert(
                "certificate.expiring",
                r#"{"id":"cert_000002","name":"Partner signing","days":7,"not_after":"2027-01-01T00:00:00Z"}"#,
            ),
            Mode::Test,
        );
        assert_eq!(
            subject,
            "[AS2] Certificate \"Partner signing\" expires within 7 days (test mode)"
        );
        assert!(body.contains("expires at 2027-01-01T00:00:00Z"));
    }
}
