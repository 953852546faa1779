//! The audit log: who changed what, when, from where. Every successful change made through
//! the API or the console is one [`AuditEvent`]; the fields it changed are kept as JSON with
//! every secret replaced by `"[redacted]"` before it is stored.

use chrono::{DateTime, Utc};

use crate::id::{AuditEventId, TenantId};
use crate::mode::Mode;
use crate::named_enum;

named_enum!(
    /// Who acted.
    ActorKind, "actor kind" {
        /// A console user (`usr_…`).
        User => "user",
        /// An API key (`key_…`).
        ApiKey => "api_key",
    }
);

/// Who acted: the kind, the id (`key_000001`, `usr_000001`) and a label a person reads
/// (the key's name, the user's email).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Kind.
    pub kind: ActorKind,
    /// Printed id.
    pub id: String,
    /// Label.
    pub label: String,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Id.
    pub id: AuditEventId,
    /// The tenant the change was made in.
    pub tenant_id: TenantId,
    /// The mode it was made in.
    pub mode: Mode,
    /// Who.
    pub actor: Actor,
    /// What, as `resource.verb` (`partner.create`, `message.retry`, `user.login`).
    pub action: String,
    /// The kind of resource (`partner`).
    pub resource_type: String,
    /// Its id when known (`prt_000001`).
    pub resource_id: Option<String>,
    /// The client's address.
    pub ip: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// The fields sent, as a JSON object, secrets redacted.
    pub changes: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// What the redaction puts in place of a secret.
pub const REDACTED: &str = "[redacted]";

/// Whether a field of that name holds a secret (passwords, keys, tokens, PKCS#12 bodies,
/// passphrases, secrets), whatever its case or separators.
pub fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    const WORDS: [&str; 9] = [
        "password",
        "privatekey",
        "passphrase",
        "secret",
        "private_key",
        "pkcs12",
        "token",
        "credential",
        "pem",
    ];
    WORDS.iter().any(|w| name.contains(w))
        || name == "key"
        || name.ends_with("_key")
        || name.starts_with("key_")
        || name.contains("authorization")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_fields_are_recognised_by_name() {
        for secret in [
            "password",
            "auth_password",
            "Passphrase",
            "private_key",
            "privateKey",
            "pkcs12_base64",
            "secret",
            "webhook-secret",
            "key",
            "signing_key",
            "pem",
            "csrf_token",
        ] {
            assert!(is_secret_field(secret), "{secret}");
        }
        for plain in [
            "name",
            "as2_id",
            "url",
            "keyword_count",
            "monkey",
            "certificate_id",
        ] {
            assert!(!is_secret_field(plain), "{plain}");
        }
    }
}
