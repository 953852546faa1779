//! Drives the streaming decoder ([`as2_core::message::InboundDecoder`]) over a body source:
//! each piece is pushed in as it arrives, the payload goes to a sink (the spool) as it is
//! decoded, and the verdict comes after the last byte. A message the codec refuses part-way
//! is still read to its end, without decoding, so its refusal can be answered as an MDN.

use std::io::{self, Write};

use as2_core::message::{DecoderEvent, InboundDecoder, InboundVerdict};

use super::body::{BodySource, drain};
use crate::refusal::Refusal;

/// Why decoding stopped without a verdict: nothing may be acknowledged.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// The body was refused while it arrived.
    Body(Refusal),
    /// The spool could not be written.
    Sink(io::Error),
}

/// What can end one step of feeding the decoder.
enum StepError {
    Codec(as2_core::Error),
    Sink(io::Error),
}

/// Decodes all of `body` with `decoder`, the payload written to `sink`; the codec's verdict
/// (the inner error is a refusal to answer with a negative MDN).
pub(crate) fn decode_body(
    decoder: InboundDecoder<'_>,
    body: &mut dyn BodySource,
    sink: &mut dyn Write,
) -> Result<Result<InboundVerdict, as2_core::Error>, Stopped> {
    let mut decoder = decoder;
    loop {
        let piece = body.next_piece().map_err(Stopped::Body)?;
        let Some(piece) = piece else {
            break;
        };
        match feed(&mut decoder, piece, sink) {
            Ok(()) => {}
            Err(StepError::Sink(e)) => return Err(Stopped::Sink(e)),
            Err(StepError::Codec(e)) => {
                drain(body).map_err(Stopped::Body)?;
                return Ok(Err(e));
            }
        }
    }
    decoder.end_input();
    match hand_out(&mut decoder, sink) {
        Ok(_) => Ok(decoder.finish()),
        Err(StepError::Sink(e)) => Err(Stopped::Sink(e)),
        Err(StepError::Codec(e)) => Ok(Err(e)),
    }
}

/// Rounds in a row in which the decoder took no byte and handed nothing out before it is
/// taken to be stuck (each round lets its stages move what they hold).
const STALLED_ROUNDS: u32 = 64;

/// Pushes one piece, handing out what it decodes as room is needed.
fn feed(
    decoder: &mut InboundDecoder<'_>,
    mut piece: &[u8],
    sink: &mut dyn Write,
) -> Result<(), StepError> {
    let mut idle_rounds = 0;
    while !piece.is_empty() {
        let taken = decoder.push(piece).map_err(StepError::Codec)?;
        piece = &piece[taken..];
        let events = hand_out(decoder, sink)?;
        idle_rounds = if taken == 0 && events == 0 {
            idle_rounds + 1
        } else {
            0
        };
        if idle_rounds > STALLED_ROUNDS {
            // a decoder that neither takes bytes nor hands any out would spin forever
            return Err(StepError::Codec(as2_core::Error::Mime(
                "the message could not be decoded past this point".into(),
            )));
        }
    }
    Ok(())
}

/// Writes every payload chunk the decoder has ready to `sink`; how many events there were.
fn hand_out(decoder: &mut InboundDecoder<'_>, sink: &mut dyn Write) -> Result<usize, StepError> {
    let mut events = 0;
    while let Some(event) = decoder.next_event().map_err(StepError::Codec)? {
        events += 1;
        if let DecoderEvent::Payload(chunk) = event {
            sink.write_all(chunk).map_err(StepError::Sink)?;
        }
    }
    Ok(events)
}
