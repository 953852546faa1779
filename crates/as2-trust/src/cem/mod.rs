//! Certificate Exchange Messaging on top of the lifecycle.
//!
//! * [`offer`]: we offer a partner our station's new key pair. The request goes out as an
//!   ordinary queued AS2 message; the station's rollover is scheduled for the RespondByDate
//!   (until then inbound traffic may use either key, and signing switches at that date).
//! * [`receive`]: an AS2 message from a partner carried a CEM document. A request stores the
//!   offered certificate and, by [`CemPolicy`], accepts it at once or waits for an operator
//!   ([`accept`], [`reject`]); a response moves our own offer on.
//! * Accepting a partner's certificate: encryption to them switches at once (they can
//!   decrypt with both keys), their signatures are verified with both certificates until
//!   the RespondByDate, when the new one becomes current; the old one retires a week later.
//!
//! Every step is an event on the partner's (and, for an offer, the station's) timeline.

mod answer;
mod offer;
mod receive;

pub use answer::{accept, reject};
pub use offer::offer;
pub use receive::{ReceiveError, receive};

use std::time::SystemTime;

use as2_core::cem::{self as codec, CertUsage};
use as2_domain::algorithms::MdnMode;
use as2_domain::cem::CemRequest;
use as2_domain::id::{CertificateId, PartnerId};
use as2_domain::message::{Direction, Message, MessageStatus, PayloadRef, new_as2_message_id};
use as2_domain::partner::Partner;
use as2_domain::webhook::EventType;
use as2_store::payload::PayloadStore;
use as2_store::repo::messages::NewMessage;
use as2_store::{Announce, Scope, Store, StoreError};
use chrono::{DateTime, Duration, Utc};

use crate::error::TrustOpError;
use crate::lifecycle::Transition;

/// How long the old certificate stays accepted after the new one became current.
pub const OVERLAP: Duration = Duration::days(7);

/// The host part of the Message-IDs of CEM messages we send.
const MESSAGE_ID_HOST: &str = "as2-platform";

/// What to do with a partner's CEM request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CemPolicy {
    /// Accept a certificate that is valid at its RespondByDate and for the overlap after it
    /// (the default; an operator can still schedule, activate or retire by hand).
    #[default]
    AcceptValid,
    /// Record the request and wait for an operator to accept or reject it through the API.
    Manual,
}

/// An offer of a station key pair to a partner.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The station's next key pair.
    pub certificate_id: CertificateId,
    /// What the partner is to trust it for.
    pub usages: Vec<CertUsage>,
    /// When they must answer (and when signing switches).
    pub respond_by: DateTime<Utc>,
    /// Where their answer goes (our AS2 endpoint).
    pub response_url: String,
}

/// What an operation did: the CEM records touched, the AS2 messages queued, and the
/// timeline events to time-stamp.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// CEM requests recorded or answered.
    pub requests: Vec<CemRequest>,
    /// AS2 messages queued (a CEM request or response).
    pub messages: Vec<Message>,
    /// Timeline events appended.
    pub transitions: Vec<Transition>,
}

fn partner(store: &Store, scope: Scope, id: PartnerId) -> Result<Partner, TrustOpError> {
    match store.partners().get(scope, id) {
        Ok(p) => Ok(p),
        Err(StoreError::NotFound) => Err(TrustOpError::NotFound("Partner")),
        Err(e) => Err(e.into()),
    }
}

fn to_system(at: DateTime<Utc>) -> SystemTime {
    at.into()
}

fn usage_tokens(usages: &[CertUsage]) -> Vec<String> {
    usages.iter().map(|u| u.token().to_owned()).collect()
}

/// Queues an AS2 message carrying a CEM document to `partner`, posted to `destination` when
/// given instead of the partner's AS2 URL.
fn queue(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    partner: &Partner,
    built: &codec::BuiltCem,
    subject: &str,
    destination: Option<&str>,
) -> Result<Message, TrustOpError> {
    let stored = payloads
        .put_bytes(&built.body)
        .map_err(|e| TrustOpError::Store(StoreError::Payload(e)))?;
    let as2_id = new_as2_message_id(MESSAGE_ID_HOST, &uuid::Uuid::new_v4().to_string());
    let new = NewMessage {
        direction: Direction::Outbound,
        partner_id: partner.id,
        station_id: partner.settings.station_id,
        as2_message_id: &as2_id,
        subject: Some(subject),
        filename: None,
        content_type: &built.content_type,
        bytes: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: &stored.sha256,
        payload: Some(&PayloadRef::Object(stored.key.clone())),
        mdn_mode: match partner.settings.mdn_mode {
            MdnMode::None => MdnMode::Sync,
            other => other,
        },
        status: MessageStatus::Queued,
        error: None,
        mic: None,
        destination_url: destination,
    };
    let attempts = partner.settings.retry_attempts.saturating_add(1);
    let queued = Announce::new(EventType::MessageQueued);
    match store
        .messages()
        .create_outbound(scope, &new, attempts, Some(&queued))
    {
        Ok(message) => Ok(message),
        Err(e) => {
            let _ = payloads.delete(&stored.key);
            Err(e.into())
        }
    }
}
