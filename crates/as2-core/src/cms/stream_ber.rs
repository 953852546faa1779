//! BER framing for the streaming ContentInfo reader: a TLV header from the bytes so far, and
//! the size of a complete TLV (definite or indefinite length, nested) within a budget.

use crate::error::{Error, Limit, Result};

/// The most nested containers accepted (a ContentInfo needs fewer than ten).
pub(super) const MAX_DEPTH: usize = 32;

pub(super) fn asn1(msg: &str) -> Error {
    Error::Asn1(msg.to_owned())
}

/// A TLV header: tag, length (`None` = indefinite) and header size; `None` when incomplete.
pub(super) fn header(buf: &[u8]) -> Result<Option<(u8, Option<u64>, usize)>> {
    let (Some(&tag), Some(&first)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if tag & 0x1f == 0x1f {
        return Err(asn1("high tag numbers are not used in CMS"));
    }
    if first < 0x80 {
        return Ok(Some((tag, Some(u64::from(first)), 2)));
    }
    if first == 0x80 {
        if tag & 0x20 == 0 {
            return Err(asn1("indefinite length on a primitive value"));
        }
        return Ok(Some((tag, None, 2)));
    }
    let n = usize::from(first & 0x7f);
    if n > 8 {
        return Err(asn1("length too long"));
    }
    let Some(bytes) = buf.get(2..2 + n) else {
        return Ok(None);
    };
    let len = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    Ok(Some((tag, Some(len), 2 + n)))
}

/// The size of the complete TLV at the start of `buf`: `Ok(None)` when more bytes are
/// needed; beyond `max` bytes is [`Error::LimitExceeded`].
pub(super) fn tlv_size(buf: &[u8], max: usize, depth: usize) -> Result<Option<usize>> {
    if depth > MAX_DEPTH {
        return Err(asn1("nested too deeply"));
    }
    let Some((_, len, hl)) = header(buf)? else {
        return Ok(None);
    };
    match len {
        Some(len) => {
            let total = usize::try_from(len)
                .ok()
                .and_then(|l| l.checked_add(hl))
                .filter(|t| *t <= max)
                .ok_or_else(|| Error::limit(Limit::BufferedBytes, max))?;
            Ok((buf.len() >= total).then_some(total))
        }
        None => {
            let mut off = hl;
            loop {
                if off > max {
                    return Err(Error::limit(Limit::BufferedBytes, max));
                }
                match buf.get(off..off + 2) {
                    None => return Ok(None),
                    Some([0, 0]) => return Ok(Some(off + 2)),
                    Some(_) => {}
                }
                match tlv_size(&buf[off..], max - off, depth + 1)? {
                    None => return Ok(None),
                    Some(n) => off += n,
                }
            }
        }
    }
}
