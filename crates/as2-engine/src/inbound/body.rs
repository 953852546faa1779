//! Where a message's body comes from while it is decoded: the HTTP layer's channel of pieces
//! as they arrive from the socket ([`ChannelBody`]), or a buffer already in memory
//! ([`WholeBody`]). The pipeline pulls one piece at a time, so what it holds of the body is
//! one piece, whatever the body's size.

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::refusal::Refusal;

/// A message body handed over piece by piece.
pub trait BodySource: Send {
    /// The next piece; `None` after the last; or the refusal that ends the request (the body
    /// broke off, came too slowly, or grew past the limit): nothing may be acknowledged then.
    ///
    /// # Errors
    /// The refusal above.
    fn next_piece(&mut self) -> Result<Option<&[u8]>, Refusal>;
}

/// Reads and drops the rest of a body (a message refused early is still read to its end, so
/// the sender, still sending, reads the MDN that refuses it).
///
/// # Errors
/// As [`BodySource::next_piece`].
pub fn drain(body: &mut dyn BodySource) -> Result<(), Refusal> {
    while body.next_piece()?.is_some() {}
    Ok(())
}

/// A body in memory, handed out in pieces of at most 64 KiB.
#[derive(Debug, Clone, Copy)]
pub struct WholeBody<'a> {
    rest: &'a [u8],
}

/// The largest piece a [`WholeBody`] hands out.
const PIECE: usize = 64 * 1024;

impl<'a> WholeBody<'a> {
    /// All of `body`.
    #[must_use]
    pub fn new(body: &'a [u8]) -> Self {
        Self { rest: body }
    }
}

impl BodySource for WholeBody<'_> {
    fn next_piece(&mut self) -> Result<Option<&[u8]>, Refusal> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (piece, rest) = self.rest.split_at(self.rest.len().min(PIECE));
        self.rest = rest;
        Ok(Some(piece))
    }
}

/// What the HTTP layer sends down the channel.
#[derive(Debug)]
pub enum BodyEvent {
    /// The next bytes of the body.
    Data(Bytes),
    /// The body ended where it should (its declared length, or the last chunk).
    End,
    /// The body was refused while it was read.
    Refused(Refusal),
}

/// A body arriving through a bounded channel from the task that reads the socket; read from
/// a blocking thread. A channel that closes without [`BodyEvent::End`] (the connection went
/// away) is a broken body, never a complete one.
#[derive(Debug)]
pub struct ChannelBody {
    receiver: mpsc::Receiver<BodyEvent>,
    current: Bytes,
    ended: bool,
}

impl ChannelBody {
    /// The body that `receiver`'s sender delivers.
    #[must_use]
    pub fn new(receiver: mpsc::Receiver<BodyEvent>) -> Self {
        Self {
            receiver,
            current: Bytes::new(),
            ended: false,
        }
    }
}

impl BodySource for ChannelBody {
    fn next_piece(&mut self) -> Result<Option<&[u8]>, Refusal> {
        if self.ended {
            return Ok(None);
        }
        match self.receiver.blocking_recv() {
            Some(BodyEvent::Data(bytes)) => {
                self.current = bytes;
                Ok(Some(&self.current))
            }
            Some(BodyEvent::End) => {
                self.ended = true;
                self.current = Bytes::new();
                Ok(None)
            }
            Some(BodyEvent::Refused(refusal)) => Err(refusal),
            None => Err(Refusal::BodyBroken(
                "the connection closed before the body was complete".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_body_comes_in_pieces_that_add_up_to_it() {
        let body = vec![7u8; 3 * PIECE + 5];
        let mut source = WholeBody::new(&body);
        let mut sizes = Vec::new();
        while let Some(piece) = source.next_piece().unwrap() {
            sizes.push(piece.len());
        }
        assert_eq!(sizes, [PIECE, PIECE, PIECE, 5]);
    }

    #[test]
    fn a_channel_closed_without_its_end_is_a_broken_body() {
        let (sender, receiver) = mpsc::channel(4);
        sender
            .try_send(BodyEvent::Data(Bytes::from_static(b"abc")))
            .unwrap();
        drop(sender);
        let mut body = ChannelBody::new(receiver);
        assert_eq!(body.next_piece().unwrap(), Some(&b"abc"[..]));
        assert!(matches!(body.next_piece(), Err(Refusal::BodyBroken(_))));
    }

    #[test]
    fn a_channel_body_ends_at_its_end_and_passes_a_refusal_on() {
        let (sender, receiver) = mpsc::channel(4);
        sender.try_send(BodyEvent::End).unwrap();
        let mut body = ChannelBody::new(receiver);
        assert_eq!(body.next_piece().unwrap(), None);
        assert_eq!(body.next_piece().unwrap(), None);
        let (sender, receiver) = mpsc::channel(4);
        sender
            .try_send(BodyEvent::Refused(Refusal::NoMessageId))
            .unwrap();
        let mut body = ChannelBody::new(receiver);
        assert_eq!(body.next_piece(), Err(Refusal::NoMessageId));
    }
}
