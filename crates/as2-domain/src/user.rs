//! Console users: people who sign in with an email and a password, their role in each
//! tenant (owner, admin, operator, viewer) and what each role may do, said as API scopes.

pub mod password;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::api_key::Scope;
use crate::id::{SessionId, TenantId, UserId};
use crate::mode::Mode;
use crate::named_enum;
use crate::validation::ValidationErrors;

named_enum!(
    /// What a user may do in one tenant; each role includes the ones below it.
    Role, "role" {
        /// Everything, including the tenant's users and their roles.
        Owner => "owner",
        /// Configuration: stations, partners, certificates, trust, webhooks, API keys.
        Admin => "admin",
        /// Messages: send, retry, resend, cancel; reads everything.
        Operator => "operator",
        /// Reads everything, changes nothing.
        Viewer => "viewer",
    }
);

impl Role {
    /// The API scopes the role maps onto: a viewer `read`; an operator also `write` (the
    /// console lets it only act on messages, see [`Role::may`]); an admin also `delete`
    /// and `admin`; an owner the same as an admin, plus the users of the tenant.
    pub fn scopes(self) -> BTreeSet<Scope> {
        match self {
            Self::Viewer => BTreeSet::from([Scope::Read]),
            Self::Operator => BTreeSet::from([Scope::Read, Scope::Write]),
            Self::Admin | Self::Owner => {
                BTreeSet::from([Scope::Read, Scope::Write, Scope::Delete, Scope::Admin])
            }
        }
    }

    /// Whether the role may do `action`.
    pub fn may(self, action: ConsoleAction) -> bool {
        let rank = |role: Self| match role {
            Self::Viewer => 0,
            Self::Operator => 1,
            Self::Admin => 2,
            Self::Owner => 3,
        };
        let needed = match action {
            ConsoleAction::Read => Self::Viewer,
            ConsoleAction::OperateMessages => Self::Operator,
            ConsoleAction::Configure => Self::Admin,
            ConsoleAction::ManageUsers => Self::Owner,
        };
        rank(self) >= rank(needed)
    }
}

/// The kinds of things a console user does, each allowed from one role up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleAction {
    /// See any page of the tenant.
    Read,
    /// Send, retry, resend or cancel messages.
    OperateMessages,
    /// Change stations, partners, certificates, trust, webhooks and API keys.
    Configure,
    /// Invite users, change their roles, remove them.
    ManageUsers,
}

/// A console user (the password hash is never part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Email, lower-cased: the sign-in name, unique in the installation.
    pub email: String,
    /// Display name.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was disabled (a disabled user cannot sign in).
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A user's role in one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The user.
    pub user_id: UserId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The tenant's name, for the console's tenant switch.
    pub tenant_name: String,
    /// The role there.
    pub role: Role,
}

/// A console session (the token itself is never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Whose.
    pub user_id: UserId,
    /// The token every form of this session carries (CSRF).
    pub csrf_token: String,
    /// The tenant the header's switch selected.
    pub tenant_id: Option<TenantId>,
    /// The mode the header's switch selected.
    pub mode: Mode,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// Last request.
    pub last_seen_at: DateTime<Utc>,
    /// The session ends then whatever happens.
    pub expires_at: DateTime<Utc>,
}

/// When sign-ins are refused: after `max_failures` failures within `window`, the subject (an
/// email, a client address) is locked out for `lockout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures allowed within the window.
    pub max_failures: u32,
    /// The window the failures are counted in.
    pub window: chrono::Duration,
    /// How long a subject is refused after that.
    pub lockout: chrono::Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: chrono::Duration::minutes(15),
            lockout: chrono::Duration::minutes(15),
        }
    }
}

/// Characters of a session or CSRF token: 43 of 62 symbols, about 256 bits.
const TOKEN_LEN: usize = 43;

/// A fresh random token (a session's cookie value, a CSRF token): about 256 bits.
pub fn new_token() -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..TOKEN_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The stored form of a session token: SHA-256, hex (the token has 256 bits of entropy, so
/// a fast hash is enough, as for API keys).
pub fn hash_token(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Longest email accepted (RFC 5321's path limit).
const MAX_EMAIL_LEN: usize = 254;

/// The email lower-cased and trimmed, or the sentence saying why it is not one.
pub fn normalize_email(input: &str) -> Result<String, ValidationErrors> {
    let email = input.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_LEN
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(ValidationErrors::single(
            "email",
            "The email must be an address such as ops@example.com",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        use ConsoleAction::*;
        assert!(Role::Viewer.may(Read));
        assert!(!Role::Viewer.may(OperateMessages));
        assert!(Role::Operator.may(OperateMessages));
        assert!(!Role::Operator.may(Configure));
        assert!(Role::Admin.may(Configure));
        assert!(!Role::Admin.may(ManageUsers));
        assert!(Role::Owner.may(ManageUsers));
        assert_eq!(Role::Viewer.scopes(), BTreeSet::from([Scope::Read]));
        assert!(!Role::Operator.scopes().contains(&Scope::Admin));
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email(" Ops@Example.COM ").unwrap(),
            "ops@example.com"
        );
        for bad in [
            "",
            "ops",
            "ops@",
            "@example.com",
            "ops@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(normalize_email(bad).unwrap_err().has("email"), "{bad}");
        }
    }
}
