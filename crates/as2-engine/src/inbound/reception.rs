//! One admitted message being received: [`Reception`] holds what it is (route, headers,
//! envelope, Message-ID) and what receives it (stores, options), and its methods do the steps:
//! detect a duplicate, decode and verify the body as it arrives into a spool, then accept
//! (the spool becomes the stored payload) or reject (the spool is discarded), then answer
//! the MDN.

use std::io::{self, Write};

use as2_core::MdnDisposition;
use as2_core::cert::Certificate;
use as2_core::cms::DecryptionKey;
use as2_core::crypto::MicAlgStyle;
use as2_core::message::{Envelope, InboundConfig, InboundDecoder, InboundLimits, InboundVerdict};
use as2_core::mime::Headers;
use as2_domain::message::{Direction, Message, MessageError, MessageStatus};
use as2_domain::webhook::EventType;
use as2_store::payload::{PayloadStore, SpooledPayload};
use as2_store::repo::messages::ReceivedPayload;
use as2_store::{Announce, Store};

use super::body::{BodySource, drain};
use super::cem::cem_document;
use super::decode::{Stopped, decode_body};
use super::new_record::{NewRecord, Outcome};
use super::{ReceiveOptions, Route, error_kind, mdn_mode};
use crate::material::{PrivateKey, reception_material};
use crate::mdn::answer_inbound::{
    MdnAnswer, PreparedMdn, answer_mdn, answer_prepared, prepare_mdn, replay_mdn,
};
use crate::mdn::stored;
use crate::outcome::HttpAnswer;

/// Errors that make us answer 503 (the partner retries): nothing was acknowledged.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProcessError {
    /// The body was refused while it arrived: its own answer, not a 503.
    #[error("the request body was refused: {0:?}")]
    Body(crate::refusal::Refusal),
    #[error(transparent)]
    Store(#[from] as2_store::StoreError),
    #[error("payload store: {0}")]
    Payload(#[from] io::Error),
    #[error(transparent)]
    Material(#[from] crate::material::MaterialError),
    #[error("building the MDN: {0}")]
    Mdn(as2_core::Error),
    #[error("recording a certificate exchange: {0}")]
    Trust(as2_trust::TrustOpError),
}

impl From<Stopped> for ProcessError {
    fn from(stopped: Stopped) -> Self {
        match stopped {
            Stopped::Body(refusal) => Self::Body(refusal),
            Stopped::Sink(e) => Self::Payload(e),
        }
    }
}

impl From<stored::LoadError> for ProcessError {
    fn from(error: stored::LoadError) -> Self {
        match error {
            stored::LoadError::Store(e) => Self::Store(e),
            stored::LoadError::Payload(e) => Self::Payload(e),
        }
    }
}

/// What the codec and the certificate exchange made of a message.
enum Verdict {
    /// Authenticated as the partner's settings demand, and readable: its payload stored.
    Accept {
        verdict: Box<InboundVerdict>,
        stored: SpooledPayload,
        cem: Option<as2_trust::cem::Effects>,
    },
    /// Refused with this error; `authenticated` when its signature verified all the same.
    Reject {
        error: as2_core::Error,
        authenticated: bool,
    },
}

/// The largest certificate exchange document read back into memory (a CEM request with a
/// few certificates is a few KiB).
const MAX_CEM_BYTES: u64 = 1024 * 1024;

/// One admitted message being received.
pub(crate) struct Reception<'a> {
    pub(super) store: &'a Store,
    pub(super) payloads: &'a PayloadStore,
    pub(super) options: ReceiveOptions<'a>,
    pub(super) route: &'a Route,
    pub(super) headers: &'a Headers,
    pub(super) envelope: &'a Envelope,
    pub(super) message_id: &'a str,
    /// What all compressed layers may inflate to.
    pub(super) decompression_budget: u64,
    /// The station's signing pair, once read for decoding: the MDN is signed with it.
    pub(super) signer: std::cell::OnceCell<(Certificate, PrivateKey)>,
}

impl Reception<'_> {
    /// Receives the body as it arrives: the MDN to answer, or an error that acknowledges
    /// nothing.
    pub(super) fn receive(&self, body: &mut dyn BodySource) -> Result<HttpAnswer, ProcessError> {
        let (store, scope, partner) = (self.store, self.route.scope, &self.route.partner);
        // the route said whether there is one: a new message costs no lookup (a resend racing
        // its original past this point meets the unique key when its row is written)
        let existing = if self.route.received_before {
            store.messages().find_by_as2_id(
                scope,
                partner.id,
                Direction::Inbound,
                self.message_id,
            )?
        } else {
            None
        };
        if let Some(existing) = &existing
            && existing.status == MessageStatus::Received
        {
            return self.duplicate(existing, body);
        }
        // The MDN is built once the payload (and the inbox copy) is durable, then recorded
        // with the message's row in one transaction.
        let (message, mdn, authenticated) = match self.open(body)? {
            Verdict::Accept {
                verdict,
                stored,
                cem,
            } => {
                self.deliver(&verdict, &stored, cem.as_ref())?;
                // Accepted: signed by a certificate trusted for the partner, or the partner's
                // settings (require_signed off) accept it without.
                let answer = MdnAnswer {
                    disposition: MdnDisposition::Processed,
                    mic: Some(verdict.mic.clone()),
                    authenticated: true,
                };
                let mdn = self.prepare(&answer)?;
                let message = self.accept(
                    &verdict,
                    stored,
                    cem.as_ref(),
                    existing.as_ref(),
                    mdn.as_ref(),
                );
                (message?, mdn, answer.authenticated)
            }
            Verdict::Reject {
                error,
                authenticated,
            } => {
                let answer = MdnAnswer {
                    disposition: MdnDisposition::from(&error),
                    mic: None,
                    authenticated,
                };
                let mdn = self.prepare(&answer)?;
                let message = self.reject(&error, existing.as_ref(), mdn.as_ref())?;
                (message, mdn, authenticated)
            }
        };
        answer_prepared(store, scope, &message, mdn, authenticated)
    }

    /// The MDN the sender asked for, built before the row it is recorded with.
    fn prepare(&self, answer: &MdnAnswer) -> Result<Option<PreparedMdn>, ProcessError> {
        prepare_mdn(
            self.options.crypto,
            self.store,
            self.route,
            self.envelope,
            self.message_id,
            answer,
            self.signer.get().cloned(),
        )
    }

    /// A Message-ID received before: its original MDN again, or (when the process stopped
    /// between storing the payload and answering) the MDN it never got, from the MIC recorded
    /// with the payload.
    fn duplicate(
        &self,
        existing: &Message,
        body: &mut dyn BodySource,
    ) -> Result<HttpAnswer, ProcessError> {
        let (store, scope) = (self.store, self.route.scope);
        // The resend's own headers name where an async MDN goes: trusted only when the
        // resend itself is authenticated as the partner's settings demand (checked only
        // when it asks for one: a sync MDN goes back on this connection). Its payload is
        // decoded and dropped.
        let asks_async = self.envelope.mdn.as_ref().is_some_and(|r| r.is_async());
        let authenticated = if asks_async {
            self.decode(body, &mut io::sink())?.is_ok()
        } else {
            drain(body).map_err(ProcessError::Body)?;
            false
        };
        store.messages().add_event(
            scope,
            existing.id,
            "duplicate_received",
            Some("The partner sent this Message-ID again; the original MDN was returned"),
        )?;
        if store.messages().mdn(scope, existing.id)?.is_some() {
            return replay_mdn(
                store,
                self.payloads,
                scope,
                existing,
                self.envelope,
                authenticated,
            );
        }
        let mic = existing
            .mic
            .as_deref()
            .and_then(|m| as2_core::message::Mic::parse(m).ok());
        let answer = MdnAnswer {
            disposition: MdnDisposition::Processed,
            mic,
            authenticated,
        };
        self.answer(existing, &answer)
    }

    /// Decrypts, decompresses and verifies the body as the partner's settings demand, as it
    /// arrives, writing the payload to `sink`; the inner error is the codec's refusal (the
    /// body is read to its end all the same).
    fn decode(
        &self,
        body: &mut dyn BodySource,
        sink: &mut dyn Write,
    ) -> Result<Result<InboundVerdict, as2_core::Error>, ProcessError> {
        let (crypto, store, route) = (self.options.crypto, self.store, self.route);
        let material = reception_material(
            crypto,
            store,
            route.scope,
            (&route.station, &route.trust.station),
            (&route.partner, &route.trust.partner),
        )?;
        let keys = material.station_keys;
        // the station's signing pair is among them: kept for the MDN (no second read)
        if let Some((_, cert, key)) = keys
            .iter()
            .find(|(id, ..)| Some(*id) == route.station.settings.certificate_id)
        {
            let _ = self.signer.set((cert.clone(), key.clone()));
        }
        let decryption: Vec<DecryptionKey<'_>> = keys
            .iter()
            .map(|(_, c, k)| DecryptionKey {
                certificate: c,
                key: k.as_ref(),
            })
            .collect();
        let trusted = material.partner_certificates;
        let settings = &route.partner.settings;
        let config = InboundConfig::new(crypto, &decryption, &trusted)
            .with_require_signature(settings.require_signed)
            .with_require_encryption(settings.require_encrypted)
            .with_mic_choice(self.options.mic_choice)
            .with_unsigned_mic(crate::outbound::unsigned_mic(settings.unsigned_mic))
            .with_limits(
                InboundLimits::new()
                    .with_max_decompressed_total(self.decompression_budget)
                    .with_max_buffered(self.options.buffer_bytes),
            );
        let decoder = match InboundDecoder::new(self.headers, &config) {
            Ok(decoder) => decoder,
            Err(error) => {
                drain(body).map_err(ProcessError::Body)?;
                return Ok(Err(error));
            }
        };
        Ok(decode_body(decoder, body, sink)?)
    }

    /// Decodes the body into a spool that becomes the stored payload only once the verdict
    /// accepts it (any refusal discards it), and hands a certificate exchange to the trust
    /// lifecycle.
    fn open(&self, body: &mut dyn BodySource) -> Result<Verdict, ProcessError> {
        // A small payload stays in memory (it goes into the row); a larger one is spooled
        // into the payload store as it is decoded.
        let mut spool = self.payloads.spool();
        let verdict = match self.decode(body, &mut spool)? {
            Ok(verdict) => verdict,
            Err(error) => {
                // dropping the spool discards it: nothing unauthenticated is kept
                drop(spool);
                return Ok(Verdict::Reject {
                    error,
                    authenticated: false,
                });
            }
        };
        let stored = spool.finish()?;
        let Some(content_type) = cem_document(&verdict) else {
            return Ok(Verdict::Accept {
                verdict: Box::new(verdict),
                stored,
                cem: None,
            });
        };
        // A certificate exchange is handled before the MDN: a malformed or unauthenticated
        // one is refused, and its stored payload removed.
        let outcome = self.exchange(&verdict, &stored, &content_type);
        match outcome {
            Ok(Ok(effects)) => Ok(Verdict::Accept {
                verdict: Box::new(verdict),
                stored,
                cem: Some(effects),
            }),
            Ok(Err(error)) => {
                self.discard(&stored);
                Ok(Verdict::Reject {
                    error,
                    authenticated: verdict.signature.is_some(),
                })
            }
            Err(e) => {
                self.discard(&stored);
                Err(e)
            }
        }
    }

    /// Reads a stored CEM document back (it is small) and hands it to the trust lifecycle.
    fn exchange(
        &self,
        verdict: &InboundVerdict,
        stored: &SpooledPayload,
        content_type: &str,
    ) -> Result<Result<as2_trust::cem::Effects, as2_core::Error>, ProcessError> {
        if stored.size > MAX_CEM_BYTES {
            return Ok(Err(as2_core::Error::Mime(format!(
                "a certificate exchange document may be at most {MAX_CEM_BYTES} bytes"
            ))));
        }
        let document = self.payloads.read_ref(&stored.payload)?;
        self.certificate_exchange(verdict, &document, content_type)
    }

    /// Removes a stored payload that will not be recorded (the orphan sweep would, later).
    fn discard(&self, stored: &SpooledPayload) {
        if let Err(e) = self.payloads.discard(&stored.payload) {
            tracing::warn!(error = %e, payload = ?stored.payload, "could not remove a refused payload; the orphan sweep will");
        }
    }

    /// A new message's first record, owned (written by `Store::transaction_owned`), with
    /// what every inbound message has and `outcome`.
    fn new_record(
        &self,
        outcome: Outcome,
        mdn: Option<&PreparedMdn>,
        announce: Announce,
        note: Option<(&'static str, String)>,
    ) -> NewRecord {
        NewRecord {
            scope: self.route.scope,
            partner_id: self.route.partner.id,
            station_id: self.route.station.id,
            as2_message_id: self.message_id.to_owned(),
            subject: self.envelope.subject.clone(),
            mdn_mode: mdn_mode(self.envelope),
            outcome,
            mdn: mdn.map(PreparedMdn::owned_record),
            announce,
            note,
        }
    }

    /// Delivers an accepted, stored payload to the application's inbox (unless it is a
    /// certificate exchange, which is ours to handle).
    fn deliver(
        &self,
        verdict: &InboundVerdict,
        stored: &SpooledPayload,
        cem: Option<&as2_trust::cem::Effects>,
    ) -> Result<(), ProcessError> {
        let Some(inbox) = self.options.inbox.filter(|_| cem.is_none()) else {
            return Ok(());
        };
        let route = self.route;
        let filename = verdict.safe_filename();
        // The application's copy goes first: a crash before the row exists makes the partner
        // resend, which finds the same bytes already there and writes nothing (never a second
        // file, never an overwrite).
        let mut payload = self.payloads.open_ref(&stored.payload)?;
        inbox.deliver(
            &crate::inbox::Delivery {
                tenant: &route.station.tenant_id.to_string(),
                mode: route.scope.mode,
                station_as2_id: &route.station.settings.as2_id,
                partner_as2_id: &route.partner.settings.as2_id,
                message_id: self.message_id,
                filename: filename.as_deref(),
            },
            &mut payload,
        )?;
        Ok(())
    }

    /// Records the message received with its stored payload (taken over by a new message's
    /// record) and its MDN, in one transaction.
    fn accept(
        &self,
        verdict: &InboundVerdict,
        stored: SpooledPayload,
        cem: Option<&as2_trust::cem::Effects>,
        existing: Option<&Message>,
        mdn: Option<&PreparedMdn>,
    ) -> Result<Message, ProcessError> {
        let scope = self.route.scope;
        let mic = verdict.mic.to_header_value(MicAlgStyle::Rfc5751);
        let filename = verdict.safe_filename();
        let content_type = verdict.content_type().mime_type;
        let bytes = i64::try_from(stored.size).unwrap_or(i64::MAX);
        let received = Announce::with(
            EventType::MessageReceived,
            serde_json::json!({ "filename": filename }),
        );
        let note = cem.map(|cem| {
            (
                "certificate_exchange",
                format!(
                    "A certificate exchange document: {} request(s) recorded, {} answer(s) queued",
                    cem.requests.len(),
                    cem.messages.len()
                ),
            )
        });
        let Some(failed) = existing else {
            let record = self.new_record(
                Outcome::Received {
                    filename,
                    content_type,
                    bytes,
                    sha256: stored.sha256,
                    payload: stored.payload,
                    mic,
                },
                mdn,
                received,
                note,
            );
            return Ok(self.store.transaction_owned(move |tx| record.write(tx))?);
        };
        // a resend of a message that failed before: its row becomes the received one
        let message = self.store.transaction(|tx| {
            let message = tx.messages().set_received(
                scope,
                failed.id,
                ReceivedPayload {
                    payload: &stored.payload,
                    bytes,
                    sha256: &stored.sha256,
                    mic: &mic,
                },
                Some(&received),
            )?;
            if let Some((event_type, detail)) = &note {
                tx.messages()
                    .add_event(scope, message.id, event_type, Some(detail))?;
            }
            record_mdn(tx, scope, &message, mdn)?;
            Ok(message)
        })?;
        Ok(message)
    }

    /// Records a refused message failed (or notes a resend of one that failed before).
    fn reject(
        &self,
        error: &as2_core::Error,
        existing: Option<&Message>,
        mdn: Option<&PreparedMdn>,
    ) -> Result<Message, ProcessError> {
        let (store, scope) = (self.store, self.route.scope);
        let failure = MessageError {
            kind: error_kind(&MdnDisposition::from(error)),
            sentence: error.to_string(),
        };
        let failed = Announce::new(EventType::MessageFailed);
        let Some(previous) = existing else {
            let record = self.new_record(Outcome::Failed(failure), mdn, failed, None);
            return Ok(store.transaction_owned(move |tx| record.write(tx))?);
        };
        // a resend of a message that failed before: noted on its row
        store.transaction(|tx| {
            tx.messages()
                .add_event(scope, previous.id, "failed_again", Some(&failure.sentence))?;
            tx.messages().announce_as_is(scope, previous, &failed)?;
            record_mdn(tx, scope, previous, mdn)?;
            Ok(())
        })?;
        Ok(previous.clone())
    }

    /// The MDN of `message`, as the sender asked for it.
    fn answer(&self, message: &Message, answer: &MdnAnswer) -> Result<HttpAnswer, ProcessError> {
        answer_mdn(
            self.options.crypto,
            self.store,
            self.route,
            self.envelope,
            message,
            answer,
        )
    }
}

/// Records `mdn` about `message`, a message seen before (a resend of one that failed, or one
/// answered before a crash), in `tx`, unless it has one: it keeps the first MDN recorded. (A
/// new message's MDN is written with its row: `create_with_mdn`.)
fn record_mdn(
    tx: &mut as2_store::Tx<'_>,
    scope: as2_store::Scope,
    message: &Message,
    mdn: Option<&PreparedMdn>,
) -> Result<(), as2_store::StoreError> {
    let Some(mdn) = mdn else {
        return Ok(());
    };
    if tx.messages().has_mdn(scope, message.id)? {
        return Ok(());
    }
    let (record, raw) = mdn.record_for(message);
    tx.messages()
        .record_mdn_of(scope, message, &record, Some(raw))
}
