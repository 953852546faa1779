//! A deadline on every request body the API server reads: the whole body within
//! [`BodyDeadlines::whole`] of the request's start (`AS2_API_BODY_TIMEOUT_SECS`, 300 s by
//! default) and no pause longer than [`BodyDeadlines::idle`] between its pieces
//! (`AS2_API_BODY_IDLE_SECS`, 30 s). The listener's header read timeout covers only a
//! request's head; without this a client could send a body slowly, or stop, and hold a
//! connection and a handler for as long as it likes. A read that misses either deadline fails
//! with [`BodyTimedOut`], which the body extractors answer with 408; the connection is closed
//! since its body was not read to the end.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as _, Frame, SizeHint};
use tokio::time::{Instant, Sleep, sleep};

/// How long a request body may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDeadlines {
    /// The whole body, from the request's start.
    pub whole: Duration,
    /// The longest pause between two pieces of it.
    pub idle: Duration,
}

impl Default for BodyDeadlines {
    fn default() -> Self {
        Self {
            whole: Duration::from_secs(300),
            idle: Duration::from_secs(30),
        }
    }
}

/// A request body that did not arrive within its deadlines.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// Whether `error`, or an error under it, is a [`BodyTimedOut`].
pub fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<BodyTimedOut>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// The answer to a body read that failed with `error`: 408 when it was too slow, else
/// `otherwise`.
pub fn read_failure(
    error: &(dyn std::error::Error + 'static),
    otherwise: crate::error::ApiError,
) -> crate::error::ApiError {
    if timed_out(error) {
        crate::error::ApiError::body_timeout()
    } else {
        otherwise
    }
}

/// `inner` failing once a deadline passes.
struct DeadlineBody {
    inner: Body,
    whole: Pin<Box<Sleep>>,
    idle: Pin<Box<Sleep>>,
    idle_for: Duration,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        // what has arrived is taken first: only a body that keeps the reader waiting is cut
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if matches!(frame, Some(Ok(_))) {
                this.idle.as_mut().reset(Instant::now() + this.idle_for);
            }
            return Poll::Ready(frame);
        }
        if this.whole.as_mut().poll(cx).is_ready() || this.idle.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The middleware: the request's body under `deadlines` (a body already ended is left as it is).
pub async fn limit(
    State(deadlines): State<BodyDeadlines>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    if body.is_end_stream() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let body = Body::new(DeadlineBody {
        inner: body,
        whole: Box::pin(sleep(deadlines.whole)),
        idle: Box::pin(sleep(deadlines.idle)),
        idle_for: deadlines.idle,
    });
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    fn deadlines(whole: u64, idle: u64) -> BodyDeadlines {
        BodyDeadlines {
            whole: Duration::from_millis(whole),
            idle: Duration::from_millis(idle),
        }
    }

    fn wrapped(body: Body, d: BodyDeadlines) -> Body {
        Body::new(DeadlineBody {
            inner: body,
            whole: Box::pin(sleep(d.whole)),
            idle: Box::pin(sleep(d.idle)),
            idle_for: d.idle,
        })
    }

    /// A body of `pieces` pieces, one every `every` milliseconds.
    fn dripping(pieces: usize, every: u64) -> Body {
        let stream = async_stream(pieces, every);
        Body::from_stream(stream)
    }

    fn async_stream(
        pieces: usize,
        every: u64,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::unfold(0, move |n| async move {
            if n == pieces {
                return None;
            }
            sleep(Duration::from_millis(every)).await;
            Some((Ok(Bytes::from_static(b"x")), n + 1))
        })
    }

    #[tokio::test]
    async fn a_body_within_both_deadlines_is_read_whole() {
        let body = wrapped(dripping(5, 10), deadlines(1000, 100));
        assert_eq!(to_bytes(body, 100).await.unwrap().len(), 5);
    }

    #[tokio::test]
    async fn a_pause_longer_than_the_idle_deadline_fails_the_read() {
        let body = wrapped(dripping(2, 200), deadlines(10_000, 100));
        let error = to_bytes(body, 100).await.unwrap_err();
        assert!(timed_out(&error), "{error}");
    }

    #[tokio::test]
    async fn a_steady_drip_past_the_whole_deadline_fails_the_read() {
        // every piece within the idle deadline, the whole too slow
        let body = wrapped(dripping(50, 50), deadlines(1000, 100));
        let error = to_bytes(body, 100).await.unwrap_err();
        assert!(timed_out(&error), "{error}");
    }

    #[test]
    fn other_errors_are_not_timeouts() {
        let error = std::io::Error::other("reset");
        assert!(!timed_out(&error));
    }
}
