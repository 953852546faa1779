//! Every reason the gateway refuses a request with an HTTP status instead of an MDN, and the
//! one place where each becomes its answer (status, sentence, headers). A refused message
//! acknowledges nothing: the partner may send it again.

use crate::outcome::HttpAnswer;

/// Seconds a client is asked to wait after a refusal for load (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 30;

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The headers are not an AS2 request (400).
    NotAs2(String),
    /// The message has no `Message-ID` (400).
    NoMessageId,
    /// The body broke off while it was read (400).
    BodyBroken(String),
    /// A body sent to the MDN endpoint is not a readable MDN (400).
    UnreadableMdn(String),
    /// No partner of the URL's mode has these AS2 IDs (404).
    UnknownPartner {
        /// `AS2-From`.
        from: String,
        /// `AS2-To`.
        to: String,
        /// `live` or `test`.
        mode: &'static str,
    },
    /// An MDN answers no message of ours that awaits one (404).
    NoMessageAwaitsMdn {
        /// Its `Original-Message-ID`.
        original: String,
        /// Our station's AS2 ID.
        station: String,
        /// The partner's AS2 ID.
        partner: String,
    },
    /// The partner is switched off (403).
    PartnerInactive,
    /// The sender's address is not in the partner's allowed networks (403).
    Firewall,
    /// The partner must present its TLS client certificate and did not (403).
    ClientCertificate,
    /// An MDN that is not authenticated as the partner's (403, with the sentence why).
    MdnNotAuthenticated(String),
    /// The partner requires HTTP basic authentication and it is missing or wrong (401).
    BasicAuthRequired,
    /// The body is over the limit: the tenant's (`tenant`) or the gateway's (413).
    TooLarge {
        /// The limit in bytes.
        limit: u64,
        /// Whether it is the receiving tenant's plan limit.
        tenant: bool,
    },
    /// The body did not arrive in time (408).
    BodyTimeout {
        /// The whole body's limit.
        whole_secs: u64,
        /// The longest pause.
        idle_secs: u64,
    },
    /// As many requests are in flight as the gateway takes at once (503, `Retry-After`).
    Busy,
    /// The buffered bodies would exceed the gateway's byte budget (503, `Retry-After`).
    BufferFull,
    /// The store could not be read to route or admit the request (503, `Retry-After`).
    Unavailable,
    /// The message could not be processed or stored (503, `Retry-After`): nothing was
    /// acknowledged.
    NotProcessed,
    /// The partner's MDN could not be recorded (503, `Retry-After`).
    MdnNotRecorded,
}

impl Refusal {
    /// The HTTP answer of this refusal.
    pub fn answer(&self) -> HttpAnswer {
        let retry_after = RETRY_AFTER_SECS.to_string();
        match self {
            Self::NotAs2(why) => HttpAnswer::text(400, &format!("Not an AS2 request: {why}")),
            Self::NoMessageId => HttpAnswer::text(400, "The message has no Message-ID header"),
            Self::BodyBroken(why) => HttpAnswer::text(
                400,
                &format!("The request body could not be read: {why}"),
            ),
            Self::UnreadableMdn(why) => HttpAnswer::text(400, &format!("Not a readable MDN: {why}")),
            Self::UnknownPartner { from, to, mode } => HttpAnswer::text(
                404,
                &format!("No partner {from:?} is configured for AS2 ID {to:?} in {mode} mode"),
            ),
            Self::NoMessageAwaitsMdn {
                original,
                station,
                partner,
            } => HttpAnswer::text(
                404,
                &format!(
                    "No message {original:?} from {station:?} to {partner:?} is awaiting an MDN"
                ),
            ),
            Self::PartnerInactive => HttpAnswer::text(403, "This partner is inactive"),
            Self::Firewall => HttpAnswer::text(
                403,
                "This address may not send messages for this partner",
            ),
            Self::ClientCertificate => HttpAnswer::text(
                403,
                "This partner must present its TLS client certificate",
            ),
            Self::MdnNotAuthenticated(why) => HttpAnswer::text(403, why),
            Self::BasicAuthRequired => {
                HttpAnswer::text(401, "This partner requires HTTP basic authentication")
                    .with_header("WWW-Authenticate", "Basic realm=\"AS2\"")
            }
            Self::TooLarge { limit, tenant } => {
                let whose = if *tenant {
                    "the receiver"
                } else {
                    "this gateway"
                };
                HttpAnswer::text(
                    413,
                    &format!("The message is larger than {whose} accepts ({limit} bytes)"),
                )
            }
            Self::BodyTimeout {
                whole_secs,
                idle_secs,
            } => HttpAnswer::text(
                408,
                &format!(
                    "The request body did not arrive in time (the whole body within {whole_secs} seconds, no pause over {idle_secs} seconds)"
                ),
            ),
            Self::Busy => HttpAnswer::text(
                503,
                &format!(
                    "The gateway is handling as many AS2 requests as it accepts at once; retry in {RETRY_AFTER_SECS} seconds"
                ),
            )
            .with_header("Retry-After", &retry_after),
            Self::BufferFull => HttpAnswer::text(
                503,
                "The gateway is receiving as much data as it can hold at once; retry later",
            )
            .with_header("Retry-After", &retry_after),
            Self::Unavailable => HttpAnswer::text(
                503,
                "The AS2 service is temporarily unavailable; retry later",
            )
            .with_header("Retry-After", &retry_after),
            Self::NotProcessed => {
                HttpAnswer::text(503, "The message could not be processed; retry later")
                    .with_header("Retry-After", &retry_after)
            }
            Self::MdnNotRecorded => {
                HttpAnswer::text(503, "The MDN could not be recorded; retry later")
                    .with_header("Retry-After", &retry_after)
            }
        }
    }
}

impl From<Refusal> for HttpAnswer {
    fn from(refusal: Refusal) -> Self {
        refusal.answer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_status() {
        let cases = [
            (Refusal::NotAs2("no AS2-To".into()), 400),
            (Refusal::NoMessageId, 400),
            (Refusal::BodyBroken("reset".into()), 400),
            (Refusal::UnreadableMdn("not MIME".into()), 400),
            (
                Refusal::UnknownPartner {
                    from: "A".into(),
                    to: "B".into(),
                    mode: "test",
                },
                404,
            ),
            (
                Refusal::NoMessageAwaitsMdn {
                    original: "<m>".into(),
                    station: "A".into(),
                    partner: "B".into(),
                },
                404,
            ),
            (Refusal::PartnerInactive, 403),
            (Refusal::Firewall, 403),
            (Refusal::ClientCertificate, 403),
            (Refusal::MdnNotAuthenticated("unsigned".into()), 403),
            (Refusal::BasicAuthRequired, 401),
            (
                Refusal::TooLarge {
                    limit: 10,
                    tenant: true,
                },
                413,
            ),
            (
                Refusal::BodyTimeout {
                    whole_secs: 1,
                    idle_secs: 1,
                },
                408,
            ),
            (Refusal::Busy, 503),
            (Refusal::BufferFull, 503),
            (Refusal::Unavailable, 503),
            (Refusal::NotProcessed, 503),
            (Refusal::MdnNotRecorded, 503),
        ];
        for (refusal, status) in cases {
            let answer = refusal.answer();
            assert_eq!(answer.status, status, "{refusal:?}");
            assert!(!answer.body.is_empty(), "{refusal:?} says why");
        }
    }

    #[test]
    fn load_refusals_say_when_to_retry_and_auth_says_how() {
        assert_eq!(Refusal::Busy.answer().header("Retry-After"), Some("30"));
        assert_eq!(
            Refusal::BufferFull.answer().header("Retry-After"),
            Some("30")
        );
        for unavailable in [
            Refusal::Unavailable,
            Refusal::NotProcessed,
            Refusal::MdnNotRecorded,
        ] {
            assert_eq!(
                unavailable.answer().header("Retry-After"),
                Some("30"),
                "{unavailable:?}"
            );
        }
        assert_eq!(
            Refusal::BasicAuthRequired
                .answer()
                .header("WWW-Authenticate"),
            Some("Basic realm=\"AS2\"")
        );
        let tenant = Refusal::TooLarge {
            limit: 7,
            tenant: true,
        };
        assert_eq!(
            tenant.answer().body,
            b"The message is larger than the receiver accepts (7 bytes)"
        );
    }
}
