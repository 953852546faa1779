//! Prefixed identifiers (`tnt_000001`): printed and parsed in this one place.

use std::fmt;
use std::str::FromStr;

/// An identifier that is not of the expected `prefix_000001` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid {prefix}… identifier")]
pub struct IdParseError {
    /// The prefix that was expected, such as `prt_`.
    pub prefix: &'static str,
    /// What was given (truncated to 64 characters).
    pub input: String,
}

/// Digits printed after the prefix at least (zero-padded).
pub const MIN_DIGITS: usize = 6;

/// Parses `prefix` followed by at least six ASCII digits into a positive number.
pub fn parse_prefixed(prefix: &'static str, input: &str) -> Result<i64, IdParseError> {
    let error = || IdParseError {
        prefix,
        input: input.chars().take(64).collect(),
    };
    let digits = input.strip_prefix(prefix).ok_or_else(error)?;
    if digits.len() < MIN_DIGITS || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(error());
    }
    match digits.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(error()),
    }
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// The prefix printed before the digits.
            pub const PREFIX: &'static str = $prefix;

            /// The database row number behind the identifier.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{:0width$}", $prefix, self.0, width = MIN_DIGITS)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_prefixed($prefix, s).map(Self)
            }
        }
    };
}

prefixed_id!(/// An account: the billing owner of tenants and of account (`pk_`) keys.
    AccountId, "acct_");
prefixed_id!(/// A tenant: one company's isolated space.
    TenantId, "tnt_");
prefixed_id!(/// An API key (the record, never the secret).
    ApiKeyId, "key_");
prefixed_id!(/// A station: one of our own AS2 identities.
    StationId, "stn_");
prefixed_id!(/// A trading partner.
    PartnerId, "prt_");
prefixed_id!(/// A certificate or key pair.
    CertificateId, "cert_");
prefixed_id!(/// An AS2 message, inbound or outbound.
    MessageId, "msg_");
prefixed_id!(/// A webhook endpoint.
    WebhookEndpointId, "wh_");
prefixed_id!(/// One delivery attempt series of an event to a webhook endpoint.
    WebhookDeliveryId, "whd_");
prefixed_id!(/// A platform event (what webhooks carry).
    EventId, "evt_");
prefixed_id!(/// An event on a trust timeline.
    TrustEventId, "tev_");
prefixed_id!(/// A certificate exchange (CEM) request, sent or received.
    CemRequestId, "cem_");
prefixed_id!(/// A background job.
    JobId, "job_");
prefixed_id!(/// A person who signs in to the console.
    UserId, "usr_");
prefixed_id!(/// A console sign-in session (the record, never the token).
    SessionId, "ses_");
prefixed_id!(/// An entry of the audit log.
    AuditEventId, "aud_");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_zero_padded_and_parses_back() {
        assert_eq!(PartnerId(107).to_string(), "prt_000107");
        assert_eq!("prt_000107".parse::<PartnerId>(), Ok(PartnerId(107)));
        assert_eq!(TenantId(1_234_567).to_string(), "tnt_1234567");
        assert_eq!("tnt_1234567".parse::<TenantId>(), Ok(TenantId(1_234_567)));
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "prt_",
            "prt_12345",
            "prt_00000a",
            "msg_000001",
            "prt_000000",
            "PRT_000001",
            "prt_+00001",
            "prt_ 00001",
            "prt_0000000000000000000001",
        ] {
            assert!(bad.parse::<PartnerId>().is_err(), "{bad} parsed");
        }
    }
}
