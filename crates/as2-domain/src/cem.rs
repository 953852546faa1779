//! Certificate Exchange Messaging requests as the platform tracks them: who offered which
//! certificate to whom, by when an answer is due, and the answer.

use chrono::{DateTime, Utc};

use crate::id::{CemRequestId, CertificateId, MessageId, PartnerId, StationId};
use crate::named_enum;

named_enum!(
    /// Which way a CEM request went.
    CemDirection, "CEM direction" {
        /// A partner offered us their new certificate.
        Inbound => "inbound",
        /// We offered a partner our station's new certificate.
        Outbound => "outbound",
    }
);

named_enum!(
    /// Where a CEM request stands.
    CemStatus, "CEM status" {
        /// No answer yet.
        Pending => "pending",
        /// The certificate was accepted.
        Accepted => "accepted",
        /// The certificate was rejected.
        Rejected => "rejected",
    }
);

/// A CEM request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CemRequest {
    /// `cem_…`.
    pub id: CemRequestId,
    /// Which way it went.
    pub direction: CemDirection,
    /// The partner on the other side.
    pub partner_id: PartnerId,
    /// Our station.
    pub station_id: StationId,
    /// The `requestId` of the XML.
    pub request_id: String,
    /// The certificate offered (stored as a certificate of the tenant).
    pub certificate_id: CertificateId,
    /// `keyEncipherment`, `digitalSignature`, `tlsServer`, `tlsClient`.
    pub usages: Vec<String>,
    /// `ds:X509IssuerName` as the request wrote it (a response echoes it exactly).
    pub issuer_name: String,
    /// `ds:X509SerialNumber`, decimal.
    pub serial_decimal: String,
    /// When an answer is due (and signing certificates switch).
    pub respond_by: DateTime<Utc>,
    /// Where the answer goes.
    pub response_url: String,
    /// Pending, accepted or rejected.
    pub status: CemStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The AS2 message that carried the request.
    pub message_id: Option<MessageId>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}
