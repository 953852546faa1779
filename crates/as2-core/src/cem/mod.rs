//! Certificate Exchange Messaging (CEM, draft-meadors-certificate-exchange): build and parse
//! the request (`multipart/related`: the `application/ediint-cert-exchange+xml` document and
//! one certs-only part per certificate) and the response (the XML document alone).
//!
//! A CEM request or response travels as the payload of an ordinary AS2 message: the caller
//! builds it here and hands `content_type` and `body` to [`crate::message::build_outbound`]
//! as the payload, and on receipt passes the payload's content type and bytes back in.
//! Parsing validates what the draft's schema requires, checks the sender's AS2 name against
//! the message's AS2-From, and ties every `CertificateContentID` to a certificate part whose
//! issuer and serial match; every failure is an [`Error::Cem`](crate::Error::Cem) naming the
//! element, which an MDN reports as `processed/error: unexpected-processing-error`.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use as2_core::{cem, cert, keys};
//!
//! # fn main() -> as2_core::Result<()> {
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
//! let provider = &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
//! let key = keys::generate_rsa_key(provider, 2048)?;
//! let new_cert = cert::generate_self_signed(provider, &key, "CN=acme 2025", now, Duration::from_secs(86_400))?;
//! let request = cem::CemRequest {
//!     request_id: "req-1".into(),
//!     sender_as2_id: "acme".into(),
//!     message_originated: now,
//!     requests: vec![cem::TrustRequest::new(
//!         new_cert,
//!         vec![cem::CertUsage::DigitalSignature, cem::CertUsage::KeyEncipherment],
//!         now + Duration::from_secs(14 * 86_400),
//!         "https://as2.acme.example/as2",
//!         "cert-1@acme.example",
//!     )],
//! };
//! let built = cem::build_request(provider, &request)?;
//! assert_eq!(cem::classify(&built.content_type), Some(cem::CemKind::Request));
//!
//! // the partner, having received it in a message with AS2-From: acme
//! let received = cem::parse_request(&built.content_type, &built.body, "acme")?;
//! let response = cem::CemResponse {
//!     request_id: received.request_id.clone(),
//!     sender_as2_id: "partner".into(),
//!     message_originated: now,
//!     responses: received.requests.iter().map(cem::TrustResponse::accepted).collect(),
//! };
//! let answer = cem::build_response(&response)?;
//! let parsed = cem::parse_response(&answer.content_type, &answer.body, "partner")?;
//! assert_eq!(parsed.responses[0].status, cem::CertStatus::Accepted);
//! # Ok(())
//! # }
//! ```

mod common;
mod datetime;
mod ident;
mod parts;
mod request;
mod response;
mod xml;

#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod response_tests;

use std::time::SystemTime;

pub use ident::serial_decimal;
pub use request::{build_request, parse_request};
pub use response::{build_response, parse_response};

use crate::cert::Certificate;
use crate::mime::ContentType;

/// The CEM XML namespace.
pub const NAMESPACE: &str = "urn:ietf:params:xml:ns:ediintcertificateexchange";
/// The XML-DSig namespace of `X509IssuerName` and `X509SerialNumber`.
pub const DSIG_NAMESPACE: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The media type of the CEM XML document.
pub const XML_CONTENT_TYPE: &str = "application/ediint-cert-exchange+xml";

/// What a certificate is to be trusted for (`CertUsage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertUsage {
    /// `keyEncipherment`: partners encrypt to it (switched to once accepted).
    KeyEncipherment,
    /// `digitalSignature`: it signs messages and MDNs (switched to at RespondByDate).
    DigitalSignature,
    /// `tlsServer`: the HTTPS server certificate.
    TlsServer,
    /// `tlsClient`: the TLS client certificate.
    TlsClient,
}

impl CertUsage {
    /// Every usage, in the order they are written.
    pub const ALL: [Self; 4] = [
        Self::KeyEncipherment,
        Self::DigitalSignature,
        Self::TlsServer,
        Self::TlsClient,
    ];

    /// The XML token.
    #[must_use]
    pub fn token(self) -> &'static str {
        match self {
            Self::KeyEncipherment => "keyEncipherment",
            Self::DigitalSignature => "digitalSignature",
            Self::TlsServer => "tlsServer",
            Self::TlsClient => "tlsClient",
        }
    }

    /// The usage of an XML token (exact, as the schema's enumeration).
    #[must_use]
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.token() == token)
    }
}

/// One certificate offered for trust (`TrustRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustRequest {
    /// What the certificate is for (at least one).
    pub usages: Vec<CertUsage>,
    /// When the partner must answer; signing and TLS certificates switch then.
    pub respond_by: SystemTime,
    /// Where the answer goes (`ResponseURL`, http or https).
    pub response_url: String,
    /// The certificate (from its certs-only part).
    pub certificate: Certificate,
    /// `ds:X509IssuerName` as written in the XML (echo it exactly in the response).
    pub issuer_name: String,
    /// `ds:X509SerialNumber`, decimal without leading zeros.
    pub serial_decimal: String,
    /// The Content-ID of the certificate part, without angle brackets or `cid:`.
    pub content_id: String,
}

impl TrustRequest {
    /// A trust request for `certificate`, its issuer (RFC 4514) and decimal serial taken
    /// from it.
    #[must_use]
    pub fn new(
        certificate: Certificate,
        usages: Vec<CertUsage>,
        respond_by: SystemTime,
        response_url: impl Into<String>,
        content_id: impl Into<String>,
    ) -> Self {
        Self {
            usages,
            respond_by,
            response_url: response_url.into(),
            issuer_name: certificate.issuer(),
            serial_decimal: serial_decimal(&certificate),
            certificate,
            content_id: content_id.into(),
        }
    }
}

/// A CEM request (`EDIINTCertificateExchangeRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CemRequest {
    /// `requestId`, echoed by the response.
    pub request_id: String,
    /// `TradingPartnerInfo/Name qualifier="AS2"`: the requester's AS2 name (its AS2-From).
    pub sender_as2_id: String,
    /// `TradingPartnerInfo/MessageOriginated`.
    pub message_originated: SystemTime,
    /// One per certificate (at least one).
    pub requests: Vec<TrustRequest>,
}

/// The answer to one trust request (`CertStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertStatus {
    /// `Accepted`
    Accepted,
    /// `Rejected`
    Rejected,
}

impl CertStatus {
    /// The XML token.
    #[must_use]
    pub fn token(self) -> &'static str {
        match self {
            Self::Accepted => "Accepted",
            Self::Rejected => "Rejected",
        }
    }
}

/// The answer to one trust request (`TrustResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustResponse {
    /// Accepted or rejected.
    pub status: CertStatus,
    /// `ReasonForRejection`, when given.
    pub reason: Option<String>,
    /// `ds:X509IssuerName`, exactly as the request had it.
    pub issuer_name: String,
    /// `ds:X509SerialNumber`, decimal without leading zeros.
    pub serial_decimal: String,
}

impl TrustResponse {
    /// Accept `request`, echoing its certificate reference.
    #[must_use]
    pub fn accepted(request: &TrustRequest) -> Self {
        Self {
            status: CertStatus::Accepted,
            reason: None,
            issuer_name: request.issuer_name.clone(),
            serial_decimal: request.serial_decimal.clone(),
        }
    }

    /// Reject `request` with a reason.
    #[must_use]
    pub fn rejected(request: &TrustRequest, reason: impl Into<String>) -> Self {
        Self {
            status: CertStatus::Rejected,
            reason: Some(reason.into()),
            ..Self::accepted(request)
        }
    }

    /// Whether this answers `request` (same issuer string, same serial).
    #[must_use]
    pub fn answers(&self, request: &TrustRequest) -> bool {
        self.issuer_name == request.issuer_name && self.serial_decimal == request.serial_decimal
    }
}

/// A CEM response (`EDIINTCertificateExchangeResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CemResponse {
    /// The `requestId` of the request answered.
    pub request_id: String,
    /// `TradingPartnerInfo/Name qualifier="AS2"`: the responder's AS2 name (its AS2-From).
    pub sender_as2_id: String,
    /// `TradingPartnerInfo/MessageOriginated`.
    pub message_originated: SystemTime,
    /// One per trust request (at least one).
    pub responses: Vec<TrustResponse>,
}

/// A built CEM document: the payload of an AS2 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltCem {
    /// The payload's Content-Type value.
    pub content_type: String,
    /// The payload bytes.
    pub body: Vec<u8>,
}

/// Which CEM document a payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CemKind {
    /// `EDIINTCertificateExchangeRequest`
    Request,
    /// `EDIINTCertificateExchangeResponse`
    Response,
}

/// Recognise a CEM payload by its Content-Type: `multipart/related` whose `type` is
/// `application/ediint-cert-exchange+xml` is a request (a response may come that way too;
/// [`kind_of`] reads the root element to be sure), and the bare XML type is a response.
#[must_use]
pub fn classify(content_type: &str) -> Option<CemKind> {
    let ct = ContentType::parse(content_type);
    if ct.is(XML_CONTENT_TYPE) {
        return Some(CemKind::Response);
    }
    let related_xml = ct
        .param("type")
        .is_some_and(|t| ContentType::parse(t).is(XML_CONTENT_TYPE));
    (ct.is("multipart/related") && related_xml).then_some(CemKind::Request)
}

/// Which CEM document a payload holds, by its root element.
///
/// # Errors
/// Not a CEM payload, or no parseable XML document in it.
pub fn kind_of(content_type: &str, body: &[u8]) -> crate::Result<CemKind> {
    let doc = parts::Document::parse(content_type, body)?;
    let root = doc.root()?;
    if root.is(NAMESPACE, request::ROOT) {
        Ok(CemKind::Request)
    } else if root.is(NAMESPACE, response::ROOT) {
        Ok(CemKind::Response)
    } else {
        Err(crate::Error::Cem(format!(
            "root element is {}, not a CEM request or response",
            root.expanded_name()
        )))
    }
}

/// An `Error::Cem`.
fn err(msg: impl Into<String>) -> crate::Error {
    crate::Error::Cem(msg.into())
}
