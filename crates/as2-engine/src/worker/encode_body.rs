//! Encodes an outbound message on a blocking thread, from the payload store into the request
//! body: the payload is read [`CHUNK_LEN`] bytes at a time through the streaming encoder and
//! each piece of body goes into the bounded channel as it comes. When the body's length is
//! not known up front (compression), the body is first encoded into a spool file (unnamed,
//! removed by the system when closed, also on error or crash), then sent from it, so the
//! request always carries `Content-Length`.

use std::io::{self, Read, Seek, Write};

use as2_core::message::{BuiltTail, CHUNK_LEN, OutboundEncoder};
use as2_domain::message::Message;
use as2_store::Store;
use as2_store::payload::PayloadStore;
use tokio::sync::oneshot;

use super::stream_body::{Abandoned, ChunkSender};
use crate::error::EngineError;
use crate::outbound::{self, PreparedSend};

/// What the request needs before its body: the encoder's headers and the body's length.
#[derive(Debug)]
pub(super) struct Head {
    /// The AS2 and MIME headers.
    pub(super) headers: Vec<(String, String)>,
    /// The body's exact length.
    pub(super) content_length: u64,
}

/// Why a body could not be produced.
#[derive(Debug, thiserror::Error)]
pub(super) enum EncodeError {
    /// The payload store failed, or the payload is not what the message says.
    #[error("the payload could not be read from the payload store: {0}")]
    Payload(io::Error),
    /// The encoder failed (signing, encryption, a length other than the message's).
    #[error("the message could not be encoded: {0}")]
    Encode(#[from] as2_core::Error),
    /// The spool file failed.
    #[error("the spool file failed: {0}")]
    Spool(io::Error),
    /// The MIC could not be recorded.
    #[error(transparent)]
    Platform(#[from] EngineError),
    /// The request went away before the whole body was handed on.
    #[error("the request ended before its whole body was sent")]
    Abandoned,
}

impl From<Abandoned> for EncodeError {
    fn from(_: Abandoned) -> Self {
        Self::Abandoned
    }
}

/// Encodes `sent` into `chunks`, after handing the [`Head`] on through `head`; returns the
/// message with its MIC recorded (before the body's last bytes are handed on). On failure
/// the body is failed too, so the request is aborted rather than cut short.
///
/// # Errors
/// See [`EncodeError`]; `Abandoned` when the request went first.
pub(super) fn produce(
    store: &Store,
    payloads: &PayloadStore,
    sent: &PreparedSend,
    head: oneshot::Sender<Head>,
    chunks: &mut ChunkSender,
) -> Result<Message, EncodeError> {
    let produced = encode(store, payloads, sent, head, chunks);
    if let Err(e) = &produced {
        chunks.fail(e.to_string());
    }
    produced
}

fn encode(
    store: &Store,
    payloads: &PayloadStore,
    sent: &PreparedSend,
    head: oneshot::Sender<Head>,
    chunks: &mut ChunkSender,
) -> Result<Message, EncodeError> {
    let mut payload = payloads
        .open_ref(sent.recipe.payload())
        .map_err(EncodeError::Payload)?;
    let encoder = sent.recipe.encoder()?;
    let Some(content_length) = encoder.content_length() else {
        return spool(store, sent, payload, encoder, head, chunks);
    };
    head.send(Head {
        headers: encoder.headers().to_vec(),
        content_length,
    })
    .map_err(|_| EncodeError::Abandoned)?;
    let (tail, last) = pump(&mut payload, encoder, &mut |piece: &mut Vec<u8>| {
        Ok(chunks.send(std::mem::take(piece))?)
    })?;
    let message = outbound::record_mic(store, sent.scope, &sent.message, &tail.mic)?;
    chunks.send(last)?;
    Ok(message)
}

/// The length is learnt by encoding into the spool, then the body is sent from it.
fn spool(
    store: &Store,
    sent: &PreparedSend,
    mut payload: Box<dyn Read + Send>,
    encoder: OutboundEncoder<'_>,
    head: oneshot::Sender<Head>,
    chunks: &mut ChunkSender,
) -> Result<Message, EncodeError> {
    let headers = encoder.headers().to_vec();
    let mut spool = tempfile::tempfile().map_err(EncodeError::Spool)?;
    let (tail, last) = pump(&mut payload, encoder, &mut |piece: &mut Vec<u8>| {
        spool.write_all(piece).map_err(EncodeError::Spool)?;
        piece.clear();
        Ok(())
    })?;
    drop(payload);
    spool.write_all(&last).map_err(EncodeError::Spool)?;
    let message = outbound::record_mic(store, sent.scope, &sent.message, &tail.mic)?;
    let content_length = spool.stream_position().map_err(EncodeError::Spool)?;
    spool.rewind().map_err(EncodeError::Spool)?;
    head.send(Head {
        headers,
        content_length,
    })
    .map_err(|_| EncodeError::Abandoned)?;
    let mut sent_len = 0u64;
    loop {
        let mut piece = vec![0; CHUNK_LEN];
        let n = read_some(&mut spool, &mut piece).map_err(EncodeError::Spool)?;
        if n == 0 {
            break;
        }
        piece.truncate(n);
        sent_len += n as u64;
        chunks.send(piece)?;
    }
    if sent_len != content_length {
        return Err(EncodeError::Spool(io::Error::other(format!(
            "{sent_len} bytes read back of {content_length} written"
        ))));
    }
    Ok(message)
}

/// Reads `payload` through `encoder`, handing each piece of body of [`CHUNK_LEN`] bytes or
/// more to `emit` (which empties it); returns the tail and the last bytes, not yet emitted.
fn pump(
    payload: &mut dyn Read,
    mut encoder: OutboundEncoder<'_>,
    emit: &mut dyn FnMut(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(BuiltTail, Vec<u8>), EncodeError> {
    let mut buf = vec![0; CHUNK_LEN];
    let mut out = Vec::with_capacity(2 * CHUNK_LEN);
    loop {
        let n = read_some(payload, &mut buf).map_err(EncodeError::Payload)?;
        let Some(piece) = buf.get(..n).filter(|p| !p.is_empty()) else {
            break;
        };
        encoder.push(piece, &mut out)?;
        if out.len() >= CHUNK_LEN {
            emit(&mut out)?;
            if out.capacity() == 0 {
                out.reserve(2 * CHUNK_LEN);
            }
        }
    }
    let tail = encoder.finish(&mut out)?;
    Ok((tail, out))
}

/// One read, tried again when interrupted.
fn read_some(from: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match from.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            done => return done,
        }
    }
}
