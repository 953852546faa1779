//! API keys: `pk_`/`tk_` × test/live secrets, scopes, and the hash that is all we store.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::id::{AccountId, ApiKeyId, TenantId};
use crate::mode::Mode;
use crate::named_enum;

named_enum!(
    /// Whose data a key reaches.
    KeyKind, "key kind" {
        /// `pk_`: every tenant of the account (`X-Tenant-ID` picks one).
        Account => "account",
        /// `tk_`: one tenant.
        Tenant => "tenant",
    }
);

named_enum!(
    /// What a key may do.
    Scope, "scope" {
        /// GET.
        Read => "read",
        /// POST, PATCH, PUT.
        Write => "write",
        /// DELETE.
        Delete => "delete",
        /// Tenants, keys and other account administration.
        Admin => "admin",
    }
);

impl KeyKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Account => "pk",
            Self::Tenant => "tk",
        }
    }
}

/// Characters of the random part of a secret (62 symbols × 40 ≈ 238 bits).
const SECRET_LEN: usize = 40;
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A newly made key: the secret (shown once) and what is stored.
#[derive(Debug)]
pub struct GeneratedKey {
    /// The full secret, `pk_test_…`; give it to the user once and drop it.
    pub secret: String,
    /// SHA-256 of the secret, hex: the only thing stored.
    pub hash: String,
    /// The first characters of the secret, shown in lists to recognise the key.
    pub display_prefix: String,
}

/// Makes a new secret for `kind` in `mode`.
pub fn generate(kind: KeyKind, mode: Mode) -> GeneratedKey {
    let mut rng = rand::rng();
    let random: String = (0..SECRET_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    let secret = format!("{}_{}_{random}", kind.prefix(), mode.as_str());
    GeneratedKey {
        hash: hash_secret(&secret),
        display_prefix: secret.chars().take(12).collect(),
        secret,
    }
}

/// The stored form of a secret.
///
/// A plain SHA-256 is enough: the secret has ~238 bits of entropy, so there is nothing
/// for a slow password hash to protect, and lookups stay one indexed query.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Reads kind and mode from a presented secret, `None` when it is not of our shape.
pub fn parse_secret(secret: &str) -> Option<(KeyKind, Mode)> {
    let mut parts = secret.splitn(3, '_');
    let kind = match parts.next()? {
        "pk" => KeyKind::Account,
        "tk" => KeyKind::Tenant,
        _ => return None,
    };
    let mode = parts.next()?.parse().ok()?;
    let random = parts.next()?;
    (random.len() >= 16 && random.len() <= 128 && random.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some((kind, mode))
}

/// A stored API key (the record; never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// `key_…`.
    pub id: ApiKeyId,
    /// The account that owns it.
    pub account_id: AccountId,
    /// For `tk_` keys, the one tenant.
    pub tenant_id: Option<TenantId>,
    /// Account or tenant key.
    pub kind: KeyKind,
    /// Test or live.
    pub mode: Mode,
    /// Display name.
    pub name: String,
    /// First characters of the secret.
    pub display_prefix: String,
    /// What it may do.
    pub scopes: BTreeSet<Scope>,
    /// Last use.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation time; a revoked key authenticates nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl ApiKey {
    /// Whether the key carries `scope` (`admin` implies every scope).
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }
}

/// Parses a comma-separated scope list as stored.
pub fn parse_scopes(text: &str) -> Result<BTreeSet<Scope>, crate::UnknownValue> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

/// The stored form of a scope set.
pub fn format_scopes(scopes: &BTreeSet<Scope>) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl PartialOrd for Scope {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scope {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_parse_and_hash() {
        let key = generate(KeyKind::Tenant, Mode::Live);
        assert!(key.secret.starts_with("tk_live_"));
        assert_eq!(key.secret.len(), "tk_live_".len() + SECRET_LEN);
        assert_eq!(
            parse_secret(&key.secret),
            Some((KeyKind::Tenant, Mode::Live))
        );
        assert_eq!(key.hash, hash_secret(&key.secret));
        assert!(!key.hash.contains(&key.secret[8..]));
        assert_ne!(generate(KeyKind::Tenant, Mode::Live).secret, key.secret);
    }

    #[test]
    fn foreign_secrets_do_not_parse() {
        for bad in [
            "",
            "sk_test_abcdefghijklmnopqrst",
            "pk_prod_abcdefghijklmnopqrst",
            "pk_test_short",
            "pk_test_abc!defghijklmnopqrst",
        ] {
            assert_eq!(parse_secret(bad), None, "{bad}");
        }
    }

    #[test]
    fn scopes_round_trip_and_admin_implies_all() {
        let scopes = parse_scopes("write,read").unwrap();
        assert_eq!(format_scopes(&scopes), "read,write");
        assert!(parse_scopes("read,root").is_err());
    }
}
