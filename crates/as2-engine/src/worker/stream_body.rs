//! A request body fed from a blocking thread through a bounded channel of chunks: it
//! delivers exactly the announced length or fails, and a failure aborts the request (hyper
//! drops the connection), so a partner never gets a truncated body under a correct-looking
//! `Content-Length`.

use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};

/// Chunks waiting in the channel at most: with the encoder's own buffers and the chunk
/// being read, what an outbound send holds whatever the message size.
pub(super) const DEPTH: usize = 4;

/// One item of the channel: a piece of the body, or why the body cannot be finished.
pub(super) type Item = Result<Bytes, String>;

/// Why a streamed body failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum StreamError {
    /// Its producer failed (the payload could not be read, the encoder failed).
    #[error("the body could not be produced: {0}")]
    Producer(String),
    /// The producer stopped before the announced length.
    #[error("the body ended {0} bytes short of its announced length")]
    Short(u64),
    /// The producer gave more than the announced length.
    #[error("the body is longer than its announced length")]
    Long,
}

/// The producer's end, used on a blocking thread (never in an async context).
#[derive(Debug)]
pub(super) struct ChunkSender {
    chunks: mpsc::Sender<Item>,
    /// Ends when the request is done with (its [`Stop`] dropped): a producer waiting for
    /// room in the channel gives up then, even while the connection still holds the body.
    stop: watch::Receiver<()>,
    runtime: Handle,
}

/// Held by the request's side; dropping it stops the producer.
#[derive(Debug)]
pub(super) struct Stop(#[allow(dead_code, reason = "held for its drop")] watch::Sender<()>);

/// The request is gone (it failed, was answered before the whole body, or is done with):
/// the producer stops.
#[derive(Debug)]
pub(super) struct Abandoned;

impl ChunkSender {
    /// Hands on a piece of the body, waiting while the channel is full.
    ///
    /// # Errors
    /// The request is gone.
    pub(super) fn send(&mut self, chunk: Vec<u8>) -> Result<(), Abandoned> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.put(Ok(Bytes::from(chunk)))
    }

    /// Fails the body with `reason` (nothing happens when the request is gone).
    pub(super) fn fail(&mut self, reason: String) {
        let _ = self.put(Err(reason));
    }

    fn put(&mut self, item: Item) -> Result<(), Abandoned> {
        let (chunks, stop) = (&self.chunks, &mut self.stop);
        self.runtime.block_on(async move {
            tokio::select! {
                sent = chunks.send(item) => sent.map_err(|_| Abandoned),
                _ = stop.changed() => Err(Abandoned),
            }
        })
    }
}

/// A bounded channel: the producer's end, the receiving end [`ChannelBody::new`] takes, and
/// the [`Stop`] the request's side holds. Called in the runtime.
pub(super) fn channel() -> (ChunkSender, mpsc::Receiver<Item>, Stop) {
    let (tx, rx) = mpsc::channel(DEPTH);
    let (stop_tx, stop_rx) = watch::channel(());
    let sender = ChunkSender {
        chunks: tx,
        stop: stop_rx,
        runtime: Handle::current(),
    };
    (sender, rx, Stop(stop_tx))
}

/// The body of a request: the channel's chunks, `remaining` bytes in all.
#[derive(Debug)]
pub(super) struct ChannelBody {
    chunks: mpsc::Receiver<Item>,
    remaining: u64,
}

impl ChannelBody {
    /// The body of `length` bytes that `chunks` delivers.
    pub(super) fn new(chunks: mpsc::Receiver<Item>, length: u64) -> Self {
        Self {
            chunks,
            remaining: length,
        }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = StreamError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamError>>> {
        let item = match self.chunks.poll_recv(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(item) => item,
        };
        Poll::Ready(match item {
            Some(Ok(chunk)) => {
                let len = chunk.len() as u64;
                if len > self.remaining {
                    Some(Err(StreamError::Long))
                } else {
                    self.remaining -= len;
                    Some(Ok(Frame::data(chunk)))
                }
            }
            Some(Err(reason)) => Some(Err(StreamError::Producer(reason))),
            None if self.remaining > 0 => Some(Err(StreamError::Short(self.remaining))),
            None => None,
        })
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn collect(body: ChannelBody) -> Result<Vec<u8>, StreamError> {
        Ok(body.collect().await?.to_bytes().to_vec())
    }

    #[tokio::test]
    async fn the_announced_length_passes() {
        let (mut tx, rx, _stop) = channel();
        let producer = tokio::task::spawn_blocking(move || {
            for _ in 0..10 {
                tx.send(vec![7; 1000]).map_err(|_| "abandoned")?;
            }
            Ok::<_, &str>(())
        });
        let body = collect(ChannelBody::new(rx, 10_000)).await;
        assert_eq!(body.map(|b| b.len()).ok(), Some(10_000));
        assert!(producer.await.is_ok_and(|r| r.is_ok()));
    }

    #[tokio::test]
    async fn a_failure_short_or_long_body_is_an_error() {
        let (mut tx, rx, _stop) = channel();
        std::thread::spawn(move || {
            let _ = tx.send(vec![1; 10]);
            tx.fail("the disk is gone".into());
        });
        let error = collect(ChannelBody::new(rx, 100)).await.err();
        assert!(matches!(error, Some(StreamError::Producer(r)) if r == "the disk is gone"));

        let (mut tx, rx, _stop) = channel();
        std::thread::spawn(move || tx.send(vec![1; 10]));
        let error = collect(ChannelBody::new(rx, 100)).await.err();
        assert!(matches!(error, Some(StreamError::Short(90))));

        let (mut tx, rx, _stop) = channel();
        std::thread::spawn(move || tx.send(vec![1; 101]));
        let error = collect(ChannelBody::new(rx, 100)).await.err();
        assert!(matches!(error, Some(StreamError::Long)));
    }

    #[tokio::test]
    async fn a_producer_waiting_for_room_stops_when_the_request_is_done_with() {
        let (mut tx, rx, stop) = channel();
        let producer = tokio::task::spawn_blocking(move || {
            // nobody reads: the channel fills, then the producer waits for room
            (0..100).try_for_each(|_| tx.send(vec![0; 10]))
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(stop);
        assert!(matches!(producer.await, Ok(Err(Abandoned))));
        drop(rx);
    }
}
