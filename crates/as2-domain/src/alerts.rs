//! Email alerts: which events a tenant's people are told about by email (beside webhooks),
//! and the list of addresses they go to, checked field by field.

use crate::validation::ValidationErrors;
use crate::webhook::EventType;

/// The most addresses one tenant's alerts go to.
pub const MAX_ALERT_RECIPIENTS: usize = 10;

/// The longest address (RFC 5321's path limit less its angle brackets).
pub const MAX_ADDRESS_LEN: usize = 254;

/// Whether `event` is told by email to the tenant's alert recipients: a message that failed
/// for good, a certificate about to expire (30, 14, 7 and 1 days before), a webhook
/// endpoint the platform paused, and a partner that stopped answering (and answers again).
pub fn emailed(event: EventType) -> bool {
    matches!(
        event,
        EventType::MessageFailed
            | EventType::CertificateExpiring
            | EventType::WebhookEndpointDisabled
            | EventType::PartnerUnreachable
            | EventType::PartnerReachable
    )
}

/// Reads the requested recipients for `field`: at most [`MAX_ALERT_RECIPIENTS`] plain
/// addresses (`name@example.com`: no display name, no spaces, a domain with a dot), trimmed,
/// duplicates (ignoring case) dropped; an empty list means no email alerts.
pub fn alert_recipients(
    field: &str,
    requested: &[String],
) -> Result<Vec<String>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if requested.len() > MAX_ALERT_RECIPIENTS {
        errors.add(
            field,
            format!("At most {MAX_ALERT_RECIPIENTS} addresses receive alerts"),
        );
    }
    let mut kept: Vec<String> = Vec::new();
    for (i, address) in requested.iter().enumerate() {
        let address = address.trim();
        if let Err(why) = check_address(address) {
            errors.add(&format!("{field}[{i}]"), why);
        } else if !kept.iter().any(|k| k.eq_ignore_ascii_case(address)) {
            kept.push(address.to_owned());
        }
    }
    errors.into_result(kept)
}

/// One plain address, or the sentence saying what is wrong with it.
fn check_address(address: &str) -> Result<(), String> {
    if address.is_empty() || address.len() > MAX_ADDRESS_LEN {
        return Err(format!(
            "An address is 1 to {MAX_ADDRESS_LEN} characters long"
        ));
    }
    let forbidden = |c: char| {
        c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c) || !c.is_ascii()
    };
    if address.chars().any(forbidden) {
        return Err(
            "An address is a plain name@example.com: no display name, spaces or quotes".into(),
        );
    }
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with(['.', '-'])
                && !domain.ends_with(['.', '-'])
                && !domain.contains("..") =>
        {
            Ok(())
        }
        _ => Err("An address is a plain name@example.com with a domain name after the @".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(addresses: &[&str]) -> Vec<String> {
        addresses.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn plain_addresses_are_kept_once() {
        let kept = alert_recipients(
            "alert_emails",
            &list(&[
                " ops@acme.example ",
                "OPS@acme.example",
                "edi+as2@acme.co.uk",
            ]),
        )
        .unwrap();
        assert_eq!(kept, ["ops@acme.example", "edi+as2@acme.co.uk"]);
        assert!(alert_recipients("alert_emails", &[]).unwrap().is_empty());
    }

    #[test]
    fn each_bad_address_is_named_by_its_index() {
        let errors = alert_recipients(
            "alert_emails",
            &list(&[
                "ops@acme.example",
                "Ops <ops@acme.example>",
                "no-at-sign",
                "a@localhost",
                "x@acme.example\r\nBcc: all@evil.example",
                "",
            ]),
        )
        .unwrap_err();
        for i in 1..=5 {
            assert!(errors.has(&format!("alert_emails[{i}]")), "{errors:?}");
        }
        assert!(!errors.has("alert_emails[0]"));
        let many: Vec<String> = (0..11).map(|i| format!("u{i}@acme.example")).collect();
        assert!(
            alert_recipients("alert_emails", &many)
                .unwrap_err()
                .has("alert_emails")
        );
    }

    #[test]
    fn failures_and_expiring_certificates_are_emailed() {
        assert!(emailed(EventType::MessageFailed));
        assert!(emailed(EventType::CertificateExpiring));
        assert!(emailed(EventType::WebhookEndpointDisabled));
        assert!(emailed(EventType::PartnerUnreachable));
        assert!(emailed(EventType::PartnerReachable));
        assert!(!emailed(EventType::MessageDelivered));
        assert!(!emailed(EventType::WebhookTest));
    }
}
