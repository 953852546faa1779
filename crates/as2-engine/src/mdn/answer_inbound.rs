//! The MDN an inbound message is answered with: built (signed when asked, in the requested
//! MIC algorithm) before the message's row is written, recorded with its bytes in the
//! transaction that writes the row, then returned synchronously or queued for asynchronous
//! delivery; and the original MDN replayed when a partner resends a message.

use as2_core::cert::Certificate;
use as2_core::cms::SignOptions;
use as2_core::crypto::{CryptoProvider, MicAlgStyle};
use as2_core::mdn::{MdnDisposition, MdnParams, build_mdn};
use as2_core::message::{Envelope, Signer};
use as2_domain::mdn::MdnRecord;
use as2_domain::message::Message;
use as2_store::payload::PayloadStore;
use as2_store::{Scope, Store};

use crate::inbound::{ProcessError, Route};
use crate::material::{PrivateKey, station_signer};
use crate::mdn::stored;
use crate::outcome::HttpAnswer;

/// What the MDN of one message says, and whether its sender was authenticated.
#[derive(Debug, Clone)]
pub(crate) struct MdnAnswer {
    /// The disposition to report.
    pub(crate) disposition: MdnDisposition,
    /// The MIC of what was received, for a processed message.
    pub(crate) mic: Option<as2_core::message::Mic>,
    /// The message's signature verified (or the partner's settings accept it unsigned). An
    /// asynchronous MDN goes only to an authenticated sender: the `Receipt-Delivery-Option`
    /// URL is a clear header anyone can write.
    pub(crate) authenticated: bool,
}

/// An MDN built for a message whose row is not yet written: what to record with the row
/// (in the same transaction) and what to answer once it is committed.
#[derive(Debug)]
pub(crate) struct PreparedMdn {
    built: as2_core::mdn::BuiltMdn,
    raw: Vec<u8>,
    record: MdnRecord,
    asynchronous: Option<as2_core::message::MdnRequest>,
}

impl PreparedMdn {
    /// The record of this MDN about `message`, with the MDN as sent, for its row.
    pub(crate) fn record_for(&self, message: &Message) -> (MdnRecord, &[u8]) {
        let record = MdnRecord {
            message_id: message.id,
            ..self.record.clone()
        };
        (record, &self.raw)
    }

    /// The record of this MDN (its `message_id` not yet the row's) with the MDN as sent,
    /// owned, for a row written with it
    /// ([`as2_store::repo::messages::MessagesTx::create_with_mdn`]).
    pub(crate) fn owned_record(&self) -> (MdnRecord, Vec<u8>) {
        (self.record.clone(), self.raw.clone())
    }
}

/// Builds the MDN of the message `as2_message_id` as the sender asked for it (none when it
/// asked for none): signed when asked, in the requested MIC algorithm, with `signer` (the
/// station's signing pair when the caller has read it already) or the pair read now. Called
/// once the payload (and the inbox copy) is durable; recorded with the message's row.
pub(crate) fn prepare_mdn(
    crypto: &CryptoProvider,
    store: &Store,
    route: &Route,
    envelope: &Envelope,
    as2_message_id: &str,
    answer: &MdnAnswer,
    signer: Option<(Certificate, PrivateKey)>,
) -> Result<Option<PreparedMdn>, ProcessError> {
    let Some(request) = &envelope.mdn else {
        return Ok(None);
    };
    let positive = answer.disposition.is_delivered();
    let mut params = MdnParams::new(
        crypto,
        &route.station.settings.as2_id,
        &envelope.as2_from,
        as2_message_id,
        answer.disposition.clone(),
    );
    params.reporting_ua = "as2-platform".into();
    params.mic.clone_from(&answer.mic);
    let signer_material = match signer {
        _ if !request.signed() => None,
        Some(pair) => Some(pair),
        None => station_signer(crypto, store, route.scope, &route.station)?,
    };
    params.signer = signer_material.as_ref().map(|(certificate, key)| {
        Signer::new(
            certificate,
            key.as_ref(),
            SignOptions::new(std::time::SystemTime::now()),
        )
    });
    let built = build_mdn(&params).map_err(ProcessError::Mdn)?;
    let raw = stored::serialize(&built.headers, &built.body);
    let record = MdnRecord {
        message_id: as2_domain::id::MessageId(0),
        disposition: params.disposition.to_field(),
        positive,
        mic: params
            .mic
            .as_ref()
            .map(|m| m.to_header_value(MicAlgStyle::Rfc5751)),
        mic_matched: None,
        signed: params.signer.is_some(),
        verified: params.signer.is_some(),
        original_message_id: Some(as2_message_id.to_owned()),
        raw_key: None,
        created_at: chrono::Utc::now(),
    };
    Ok(Some(PreparedMdn {
        built,
        raw,
        record,
        asynchronous: request.is_async().then(|| request.clone()),
    }))
}

/// Answers with a prepared MDN recorded with `message`: returned synchronously, or queued
/// for asynchronous delivery when its sender is `authenticated` (an empty 200 then).
pub(crate) fn answer_prepared(
    store: &Store,
    scope: Scope,
    message: &Message,
    prepared: Option<PreparedMdn>,
    authenticated: bool,
) -> Result<HttpAnswer, ProcessError> {
    let Some(prepared) = prepared else {
        return Ok(HttpAnswer::ok_empty());
    };
    if let Some(request) = &prepared.asynchronous {
        queue_async_if_authenticated(store, scope, message, request, authenticated)?;
        return Ok(HttpAnswer::ok_empty());
    }
    Ok(HttpAnswer {
        status: 200,
        headers: prepared.built.headers,
        body: prepared.built.body,
    })
}

/// Builds, records (in a transaction of its own) and answers the MDN of `message`, a
/// message whose row exists already (a duplicate answered again).
pub(crate) fn answer_mdn(
    crypto: &CryptoProvider,
    store: &Store,
    route: &Route,
    envelope: &Envelope,
    message: &Message,
    answer: &MdnAnswer,
) -> Result<HttpAnswer, ProcessError> {
    let prepared = prepare_mdn(
        crypto,
        store,
        route,
        envelope,
        &message.as2_message_id,
        answer,
        None,
    )?;
    if let Some(prepared) = &prepared {
        let (record, raw) = prepared.record_for(message);
        // A message answered before (a resend after a crash) keeps its first MDN record; the
        // store's uniqueness says so without a read first.
        match store
            .messages()
            .record_mdn_with_raw(route.scope, &record, Some(raw))
        {
            Ok(()) | Err(as2_store::StoreError::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    answer_prepared(store, route.scope, message, prepared, answer.authenticated)
}

/// The original MDN of a message received before, as it was sent; an async one is queued
/// (once) only when the resend that asks for it is `authenticated`.
pub(crate) fn replay_mdn(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    message: &Message,
    envelope: &Envelope,
    authenticated: bool,
) -> Result<HttpAnswer, ProcessError> {
    let Some(request) = &envelope.mdn else {
        return Ok(HttpAnswer::ok_empty());
    };
    if request.is_async() {
        queue_async_if_authenticated(store, scope, message, request, authenticated)?;
        return Ok(HttpAnswer::ok_empty());
    }
    let Some((headers, body)) = stored::load(store, payloads, scope, message.id)? else {
        return Ok(HttpAnswer::ok_empty());
    };
    Ok(HttpAnswer {
        status: 200,
        headers,
        body,
    })
}

/// Queues the asynchronous MDN of `message` when the request that asks for it is
/// authenticated (its URL is in its unsigned headers: otherwise anyone could name one), and
/// notes on the timeline that it was withheld when it is not.
fn queue_async_if_authenticated(
    store: &Store,
    scope: Scope,
    message: &Message,
    request: &as2_core::message::MdnRequest,
    authenticated: bool,
) -> Result<(), ProcessError> {
    if authenticated {
        return queue_async_once(store, scope, message, request);
    }
    store.messages().add_event(
        scope,
        message.id,
        "mdn_async_withheld",
        Some("No asynchronous MDN was sent: the sender was not authenticated, so the URL it asked for is not trusted"),
    )?;
    Ok(())
}

/// Queues the asynchronous MDN of `message` unless one was queued before: once per
/// Message-ID, to the URL of the first (authenticated) request, never once per resend (a
/// resend's headers are not signed, so its URL could be anyone's).
fn queue_async_once(
    store: &Store,
    scope: Scope,
    message: &Message,
    request: &as2_core::message::MdnRequest,
) -> Result<(), ProcessError> {
    let queued_before = store
        .messages()
        .events(scope, message.id)?
        .iter()
        .any(|e| e.event_type == crate::mdn::send_async::QUEUED_EVENT);
    if queued_before {
        store.messages().add_event(
            scope,
            message.id,
            "mdn_async_not_repeated",
            Some("The partner sent this message again; its asynchronous MDN was queued once already and is not sent again"),
        )?;
        return Ok(());
    }
    let url = request
        .receipt_delivery_option
        .as_deref()
        .unwrap_or_default();
    crate::mdn::send_async::enqueue(store, scope, message.id, url)?;
    Ok(())
}
