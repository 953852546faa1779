//! Evidence of delivery for a message (issue 15): the bundle of `as2_evidence::bundle`,
//! made from the store the first time it is asked for and kept (`message_evidence`), so
//! every later download is the same bundle under the same RFC 3161 time-stamp.
//!
//! Made only for a message whose MDN is signed and kept byte for byte: the partner's MDN
//! on a message we sent, or ours on a message we received. The signer is whichever
//! certificate of the tenant (in the message's mode) the MDN's signature verifies under.

use as2_core::cert::Certificate;
use as2_domain::id::MessageId;
use as2_domain::message::{Direction, Message};
use as2_domain::pagination::PageRequest;
use as2_evidence::bundle::{self, Files, Manifest};
use as2_store::payload::PayloadStore;
use as2_store::repo::certificates::CertificateFilter;
use as2_store::repo::message_evidence::StoredEvidence;
use as2_store::{Scope, Store, StoreError};
use chrono::SecondsFormat;

use crate::stamper::{StampError, Stamper};

/// Why a message's evidence could not be given.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The database failed (or the message is not the caller's: `NotFound`).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The payload store failed to give the partner's MDN.
    #[error("the stored MDN could not be read: {0}")]
    Payload(#[from] std::io::Error),
    /// The time-stamp could not be had.
    #[error(transparent)]
    Stamp(#[from] StampError),
    /// There is nothing to prove: no MDN, an unsigned one, or one whose signature no
    /// certificate of the tenant verifies. The sentence says which.
    #[error("{0}")]
    Unavailable(String),
    /// The bundle could not be assembled.
    #[error("the evidence bundle could not be made: {0}")]
    Build(String),
}

/// The evidence bundle of message `id` of `scope`: the stored one, or a new one made,
/// time-stamped and stored now.
///
/// # Errors
/// [`EvidenceError::Unavailable`] when the message has no signed MDN kept; the store,
/// payload store or TSA failing otherwise.
pub async fn bundle(
    store: &Store,
    payloads: &PayloadStore,
    stamper: &Stamper,
    scope: Scope,
    id: MessageId,
) -> Result<Files, EvidenceError> {
    let (s, p) = (store.clone(), payloads.clone());
    let (mdn, kept) = blocking(move || {
        let mdn = signed_mdn(&s, &p, scope, id)?;
        let kept = s.message_evidence().get(scope, id)?;
        Ok((mdn, kept))
    })
    .await?;
    if let Some(kept) = kept {
        return Ok(files(mdn, kept));
    }
    let s = store.clone();
    let raw = mdn.clone();
    let Assembled {
        manifest,
        timeline,
        signer_chain,
    } = blocking(move || assemble(&s, scope, id, &raw)).await?;
    let hash = as2_evidence::sha256(&manifest);
    let token = stamper.token(&hex::encode(hash)).await?;
    let tsa_chain: String = stamper
        .trusted()
        .await?
        .iter()
        .map(Certificate::to_pem)
        .collect();
    let evidence = StoredEvidence {
        manifest,
        timeline,
        signer_chain,
        tsa_chain: tsa_chain.into_bytes(),
        timestamp_response: bundle::response_with_token(&token),
        created_at: chrono::Utc::now(),
    };
    let s = store.clone();
    let kept = blocking(move || Ok(s.message_evidence().keep(scope, id, &evidence)?)).await?;
    Ok(files(mdn, kept))
}

fn files(mdn: Vec<u8>, kept: StoredEvidence) -> Files {
    Files {
        manifest: kept.manifest,
        mdn,
        signer_chain: kept.signer_chain,
        timeline: kept.timeline,
        timestamp: kept.timestamp_response,
        tsa_chain: kept.tsa_chain,
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, EvidenceError> + Send + 'static,
) -> Result<T, EvidenceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| EvidenceError::Build(e.to_string()))?
}

/// The message's MDN as kept, when it is signed.
fn signed_mdn(
    store: &Store,
    payloads: &PayloadStore,
    scope: Scope,
    id: MessageId,
) -> Result<Vec<u8>, EvidenceError> {
    let message = store.messages().get(scope, id)?;
    let Some(record) = store.messages().mdn(scope, id)? else {
        return Err(EvidenceError::Unavailable(format!(
            "Message {} has no MDN yet (status {}); its evidence is given once a signed MDN is recorded",
            message.id, message.status
        )));
    };
    if !record.signed {
        return Err(EvidenceError::Unavailable(format!(
            "The MDN of message {} is not signed: it proves nothing about who received the message",
            message.id
        )));
    }
    if message.direction == Direction::Outbound && !record.verified {
        return Err(EvidenceError::Unavailable(format!(
            "The signature of the MDN of message {} did not verify when it arrived",
            message.id
        )));
    }
    if let Some(raw) = store.messages().mdn_raw(scope, id)? {
        return Ok(raw);
    }
    match record.raw_key {
        Some(key) => Ok(payloads.read(&key)?),
        None => Err(EvidenceError::Unavailable(format!(
            "The MDN of message {} was not kept byte for byte",
            message.id
        ))),
    }
}

/// The files of a bundle made from the database, before the time-stamp.
struct Assembled {
    /// `manifest.json`.
    manifest: Vec<u8>,
    /// `timeline.json`.
    timeline: Vec<u8>,
    /// `signer-chain.pem`.
    signer_chain: Vec<u8>,
}

/// `manifest.json`, `timeline.json` and `signer-chain.pem` of a message whose MDN is `raw`.
fn assemble(
    store: &Store,
    scope: Scope,
    id: MessageId,
    raw: &[u8],
) -> Result<Assembled, EvidenceError> {
    let message = store.messages().get(scope, id)?;
    let record = store
        .messages()
        .mdn(scope, id)?
        .ok_or_else(|| EvidenceError::Build("the MDN row is gone".into()))?;
    let candidates = certificates(store, scope)?;
    let (headers, body) = bundle::mdn_parts(raw).map_err(EvidenceError::Build)?;
    let parsed = as2_core::mdn::parse_mdn(&headers, body, &candidates).map_err(|e| {
        EvidenceError::Unavailable(format!(
            "No certificate of this tenant verifies the signature of the MDN of message {}: {e}",
            message.id
        ))
    })?;
    let signer = parsed
        .signature
        .as_ref()
        .map(|s| s.signer.clone())
        .ok_or_else(|| EvidenceError::Unavailable("the MDN is not signed".into()))?;
    let signer_chain = signer.to_pem().into_bytes();
    let timeline = timeline(store, scope, &message)?;
    let (partner_as2_id, station_as2_id) = as2_ids(store, scope, &message, &headers);
    let computed = message.mic.clone().or_else(|| {
        (message.direction == Direction::Inbound)
            .then(|| parsed.mic_raw.clone())
            .flatten()
    });
    let matched = match (&computed, &parsed.mic) {
        (Some(ours), Some(theirs)) => as2_core::message::Mic::parse(ours)
            .map(|m| m.matches(theirs))
            .unwrap_or(false),
        _ => false,
    };
    let manifest = Manifest {
        format: bundle::FORMAT.to_owned(),
        message: bundle::ManifestMessage {
            id: message.id.to_string(),
            as2_message_id: message.as2_message_id.clone(),
            direction: message.direction.to_string(),
            partner_as2_id,
            station_as2_id,
            mdn_mode: message.mdn_mode.to_string(),
            payload_sha256: message.sha256.clone(),
            payload_bytes: message.bytes,
        },
        mdn: bundle::ManifestMdn {
            direction: match message.direction {
                Direction::Outbound => "received",
                Direction::Inbound => "sent",
            }
            .to_owned(),
            original_message_id: parsed.original_message_id.clone(),
            disposition: parsed.disposition_raw.clone(),
            recorded_at: rfc3339(record.created_at),
        },
        mic: bundle::ManifestMic {
            computed,
            returned: parsed.mic_raw.clone(),
            algorithm: parsed
                .mic_raw
                .as_deref()
                .and_then(|m| m.split_once(','))
                .map(|(_, alg)| alg.trim().to_ascii_lowercase()),
            matched,
        },
        signer: bundle::ManifestSigner {
            subject: signer.subject(),
            issuer: signer.issuer(),
            serial: signer.serial_hex(),
            sha256: signer.fingerprint_sha256_hex(),
        },
        files: bundle::digests(raw, &signer_chain, &timeline),
        made_at: rfc3339(chrono::Utc::now()),
    };
    let manifest = manifest
        .to_json()
        .map_err(|e| EvidenceError::Build(e.to_string()))?;
    Ok(Assembled {
        manifest,
        timeline,
        signer_chain,
    })
}

/// Every certificate of `scope` (the MDN's signer is one of them).
fn certificates(store: &Store, scope: Scope) -> Result<Vec<Certificate>, EvidenceError> {
    let mut all = Vec::new();
    for page in 1..=50 {
        let request = PageRequest {
            page,
            per_page: as2_domain::pagination::MAX_PER_PAGE,
        };
        let (rows, total) =
            store
                .certificates()
                .list(scope, CertificateFilter::default(), request)?;
        for row in &rows {
            let (der, _) = store.certificates().der(scope, row.id)?;
            if let Ok(certificate) = Certificate::from_der(&der) {
                all.push(certificate);
            }
        }
        if rows.is_empty() || page * request.per_page >= total {
            break;
        }
    }
    Ok(all)
}

/// The partner's and the station's AS2 IDs: from their settings, or from the MDN's headers
/// when one was deleted since.
fn as2_ids(
    store: &Store,
    scope: Scope,
    message: &Message,
    headers: &as2_core::mime::Headers,
) -> (String, String) {
    let (from, to) = (
        headers.get("AS2-From").unwrap_or_default().to_owned(),
        headers.get("AS2-To").unwrap_or_default().to_owned(),
    );
    let (partner_header, station_header) = match message.direction {
        Direction::Outbound => (from, to),
        Direction::Inbound => (to, from),
    };
    let partner = store
        .partners()
        .get(scope, message.partner_id)
        .map_or(partner_header, |p| p.settings.as2_id);
    let station = store
        .stations()
        .get(scope, message.station_id)
        .map_or(station_header, |s| s.settings.as2_id);
    (partner, station)
}

/// `timeline.json`: the message's events, oldest first.
fn timeline(store: &Store, scope: Scope, message: &Message) -> Result<Vec<u8>, EvidenceError> {
    let events: Vec<serde_json::Value> = store
        .messages()
        .events(scope, message.id)?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "type": e.event_type,
                "status": e.status.map(|s| s.to_string()),
                "detail": e.detail,
                "at": rfc3339(e.created_at),
            })
        })
        .collect();
    let mut bytes = serde_json::to_vec_pretty(&serde_json::json!({
        "message_id": message.id.to_string(),
        "created_at": rfc3339(message.created_at),
        "events": events,
    }))
    .map_err(|e| EvidenceError::Build(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
