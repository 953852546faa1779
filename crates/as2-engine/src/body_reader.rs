//! Reading an admitted AS2 request's body from the socket within its limits: the size limit
//! (413 as soon as it is over, chunked or not), the whole-body and idle timeouts (408), and
//! the budget of bytes held in memory across requests (503). A message's body is streamed to
//! its pipeline through a bounded channel ([`pump`]); an MDN, small, is read whole
//! ([`read_whole`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::admission::Admitted;
use crate::http::InboundLimits;
use crate::inbound::body::BodyEvent;
use crate::metrics::Metrics;
use crate::refusal::Refusal;

/// The largest MDN the gateway reads (MDNs are read whole; a real one is a few KiB).
pub const MAX_MDN_BYTES: u64 = 4 * 1024 * 1024;

/// Pieces of a message body in the channel between the socket and the pipeline at once.
pub const CHANNEL_PIECES: usize = 4;

/// What a message in flight may hold of its body beyond the decoder's own buffer: the
/// channel's pieces (hyper reads at most a few hundred KiB at a time) and the bytes read
/// ahead to tell a message from an MDN.
pub const TRANSIT_BYTES: u64 = 2 * 1024 * 1024;

/// How much of a `multipart/signed` body is read to tell a signed MDN from a message.
const SNIFF_BYTES: usize = 4096;

/// An admitted request's body being read within its limits.
pub(crate) struct BodyReader {
    body: Body,
    admitted: Arc<Admitted>,
    limits: Arc<InboundLimits>,
    metrics: Arc<Metrics>,
    deadline: tokio::time::Instant,
    received: u64,
    ended: bool,
}

impl BodyReader {
    /// Starts reading `body`; the whole-body timeout runs from now.
    pub(crate) fn new(
        body: Body,
        admitted: Arc<Admitted>,
        limits: Arc<InboundLimits>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let deadline = tokio::time::Instant::now() + limits.body_timeout;
        Self {
            body,
            admitted,
            limits,
            metrics,
            deadline,
            received: 0,
            ended: false,
        }
    }

    /// The next bytes of the body, `None` at its end, or the refusal that ends the request.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>, Refusal> {
        loop {
            if self.ended {
                return Ok(None);
            }
            let idle = tokio::time::Instant::now() + self.limits.body_idle_timeout;
            let frame = match tokio::time::timeout_at(self.deadline.min(idle), self.body.frame())
                .await
            {
                Err(_) => {
                    self.metrics.body_timeouts.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        partner = %self.admitted.partner_id(),
                        received = self.received,
                        "refused: the request body did not arrive in time"
                    );
                    return Err(Refusal::BodyTimeout {
                        whole_secs: self.limits.body_timeout.as_secs(),
                        idle_secs: self.limits.body_idle_timeout.as_secs(),
                    });
                }
                Ok(None) => {
                    self.ended = true;
                    return Ok(None);
                }
                Ok(Some(Err(e))) => {
                    tracing::info!(error = %e, received = self.received, "the request body broke off");
                    return Err(Refusal::BodyBroken(e.to_string()));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            self.received = self
                .received
                .saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
            if let Some(refusal) = self.admitted.refuse_size(self.received) {
                return Err(refusal);
            }
            if !data.is_empty() {
                return Ok(Some(data));
            }
        }
    }

    /// Reads the start of a `multipart/signed` body, enough to tell a signed MDN from a
    /// message; the pieces read.
    pub(crate) async fn sniff(&mut self) -> Result<Vec<Bytes>, Refusal> {
        let mut pieces = Vec::new();
        let mut held = 0;
        while held < SNIFF_BYTES {
            let Some(piece) = self.next().await? else {
                break;
            };
            held += piece.len();
            pieces.push(piece);
        }
        Ok(pieces)
    }
}

/// The first [`SNIFF_BYTES`] of `pieces`, joined.
pub(crate) fn head_of(pieces: &[Bytes]) -> Vec<u8> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    for piece in pieces {
        let room = SNIFF_BYTES - head.len();
        head.extend_from_slice(&piece[..piece.len().min(room)]);
        if head.len() == SNIFF_BYTES {
            break;
        }
    }
    head
}

/// Streams the rest of the body (after `read_ahead`) into `sender` until its end, a refusal,
/// or the pipeline hanging up; whether the body was read to its end.
pub(crate) async fn pump(
    reader: &mut BodyReader,
    read_ahead: Vec<Bytes>,
    sender: mpsc::Sender<BodyEvent>,
) -> bool {
    for piece in read_ahead {
        if sender.send(BodyEvent::Data(piece)).await.is_err() {
            return false;
        }
    }
    loop {
        let event = match reader.next().await {
            Ok(Some(piece)) => BodyEvent::Data(piece),
            Ok(None) => {
                // the pipeline may have finished already (a refusal that needs no body)
                let _ = sender.send(BodyEvent::End).await;
                return true;
            }
            Err(refusal) => {
                let _ = sender.send(BodyEvent::Refused(refusal)).await;
                return false;
            }
        };
        if sender.send(event).await.is_err() {
            return false;
        }
    }
}

/// Reads a whole MDN (after `read_ahead`), at most [`MAX_MDN_BYTES`], reserving what it
/// holds from the budget as it arrives.
pub(crate) async fn read_whole(
    reader: &mut BodyReader,
    read_ahead: Vec<Bytes>,
    budget: &Budget,
    reserved: &mut Reserved,
) -> Result<Vec<u8>, Refusal> {
    read_all(reader, read_ahead, MAX_MDN_BYTES, Some((budget, reserved))).await
}

/// A message body declared at most this long is read whole before its pipeline starts
/// ([`read_small`]).
pub const SMALL_BODY_BYTES: u64 = 64 * 1024;

/// Reads a whole message body whose declared length is at most [`SMALL_BODY_BYTES`] (after
/// `read_ahead`): the pipeline then never waits for it, one hand-off between threads fewer
/// per message. Its message's share of the budget ([`TRANSIT_BYTES`], reserved before)
/// holds it.
pub(crate) async fn read_small(
    reader: &mut BodyReader,
    read_ahead: Vec<Bytes>,
) -> Result<Vec<u8>, Refusal> {
    read_all(reader, read_ahead, SMALL_BODY_BYTES, None).await
}

/// Reads a whole body (after `read_ahead`), at most `limit` bytes, reserving what it holds
/// from `budget` as it arrives when one is given.
async fn read_all(
    reader: &mut BodyReader,
    read_ahead: Vec<Bytes>,
    limit: u64,
    mut budget: Option<(&Budget, &mut Reserved)>,
) -> Result<Vec<u8>, Refusal> {
    let mut buffer = BytesMut::new();
    let mut next = read_ahead.into_iter();
    loop {
        let piece = match next.next() {
            Some(piece) => piece,
            None => match reader.next().await? {
                Some(piece) => piece,
                None => break,
            },
        };
        let total = u64::try_from(buffer.len() + piece.len()).unwrap_or(u64::MAX);
        if total > limit {
            tracing::warn!(
                bytes = total,
                limit,
                "refused: a body larger than the gateway reads whole"
            );
            return Err(Refusal::TooLarge {
                limit,
                tenant: false,
            });
        }
        if let Some((budget, reserved)) = budget.as_mut() {
            budget.reserve(reserved, u64::try_from(piece.len()).unwrap_or(u64::MAX))?;
        }
        buffer.extend_from_slice(&piece);
    }
    Ok(buffer.to_vec())
}

/// The budget of request body bytes held in memory at once across requests
/// (`AS2_MAX_BUFFERED_BYTES`).
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pool: Arc<Semaphore>,
    total: u64,
    metrics: Arc<Metrics>,
}

impl Budget {
    /// A budget of `total` bytes.
    pub(crate) fn new(total: u64, metrics: Arc<Metrics>) -> Self {
        Self {
            pool: Arc::new(Semaphore::new(
                usize::try_from(total)
                    .unwrap_or(usize::MAX)
                    .min(Semaphore::MAX_PERMITS),
            )),
            total,
            metrics,
        }
    }

    /// Reserves `bytes` more into `reserved`, or refuses (503) when fewer are left.
    pub(crate) fn reserve(&self, reserved: &mut Reserved, bytes: u64) -> Result<(), Refusal> {
        if reserved.grow(&self.pool, bytes) {
            return Ok(());
        }
        self.metrics
            .shed_buffered_bytes
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            bytes,
            budget = self.total,
            "refused: the request bodies held in memory would exceed AS2_MAX_BUFFERED_BYTES"
        );
        Err(Refusal::BufferFull)
    }
}

/// Bytes reserved from the budget; given back when dropped.
#[derive(Debug, Default)]
pub(crate) struct Reserved(Option<OwnedSemaphorePermit>);

impl Reserved {
    /// Reserves `n` more bytes, or nothing when fewer are left.
    fn grow(&mut self, pool: &Arc<Semaphore>, n: u64) -> bool {
        let mut taken = Self::default();
        let mut left = n;
        while left > 0 {
            let piece = u32::try_from(left).unwrap_or(u32::MAX);
            let Ok(permit) = pool.clone().try_acquire_many_owned(piece) else {
                // what was taken so far goes back when `taken` drops
                return false;
            };
            taken.merge(permit);
            left -= u64::from(piece);
        }
        if let Some(permit) = taken.0 {
            self.merge(permit);
        }
        true
    }

    fn merge(&mut self, permit: OwnedSemaphorePermit) {
        match &mut self.0 {
            Some(held) => held.merge(permit),
            None => self.0 = Some(permit),
        }
    }
}
