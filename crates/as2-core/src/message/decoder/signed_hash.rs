//! The digests of a signed entity as it passes, for every candidate the whole-buffer
//! verification tries (RFC 5751 §3.1.1 canonical forms): the exact bytes, the header block
//! canonicalised, and the whole entity canonicalised. A canonical variant costs nothing
//! until it differs from the exact bytes: its hashers branch off (a clone) at the first
//! difference, so a CRLF-clean entity is hashed once per algorithm.

use super::hash::Hasher;
use crate::crypto::DigestAlgorithm;
use crate::mime::canonicalize_crlf;

/// Per algorithm, the digest of each candidate, in the order
/// `[exact, canonical header block (if it differs), canonical entity (if it differs)]`.
pub(crate) type CandidateDigests = Vec<(DigestAlgorithm, Vec<Vec<u8>>)>;

/// The running digests of one signed entity.
pub(crate) struct SignedHashes {
    algs: Vec<DigestAlgorithm>,
    exact: Vec<Hasher>,
    /// The header block canonicalised, the body exact; `None` while it equals `exact`.
    head_canonical: Option<Vec<Hasher>>,
    /// Everything canonicalised; `None` until the body differs from its canonical form.
    canonical: Option<Vec<Hasher>>,
    /// The last body byte fed was a CR (before `canonical` branched off).
    prev_cr: bool,
    /// After the branch: the last canonical output came from a CR (skip one LF).
    pending_cr: bool,
}

fn update(hashers: &mut [Hasher], data: &[u8]) {
    for h in hashers {
        h.update(data);
    }
}

/// Whether `data`, after a CR when `prev_cr`, has no lone CR or LF (a CR at its very end
/// waits for the next piece): every CR followed by a LF and every LF preceded by a CR, so
/// its canonical form is itself. A branch-free pass over the pairs of adjacent bytes (it
/// vectorises), since a text payload has a line break every few dozen bytes.
fn crlf_clean(data: &[u8], prev_cr: bool) -> bool {
    let Some(&first) = data.first() else {
        return true;
    };
    if prev_cr != (first == b'\n') {
        return false;
    }
    // in blocks, to stop early at the first difference
    let mut from = 0;
    while from + 1 < data.len() {
        let to = (from + 4096).min(data.len() - 1);
        let lone = data[from..to]
            .iter()
            .zip(&data[from + 1..=to])
            .fold(false, |lone, (a, b)| {
                lone | ((*a == b'\r') != (*b == b'\n'))
            });
        if lone {
            return false;
        }
        from = to;
    }
    true
}

/// Feed the canonical form of `data` (lone CR or LF become CRLF).
fn update_canonical(hashers: &mut [Hasher], data: &[u8], pending_cr: &mut bool) {
    let mut start = 0;
    for p in memchr::memchr2_iter(b'\r', b'\n', data) {
        if p > start {
            update(hashers, &data[start..p]);
            *pending_cr = false;
        }
        if data[p] == b'\r' {
            update(hashers, b"\r\n");
            *pending_cr = true;
        } else if *pending_cr {
            *pending_cr = false;
        } else {
            update(hashers, b"\r\n");
        }
        start = p + 1;
    }
    if start < data.len() {
        update(hashers, &data[start..]);
        *pending_cr = false;
    }
}

impl SignedHashes {
    /// Hashers for `algs`, fed with the entity's raw header block (blank line included).
    pub(crate) fn new(algs: Vec<DigestAlgorithm>, raw_head: &[u8]) -> Self {
        let mut exact: Vec<Hasher> = algs.iter().map(|a| Hasher::new(*a)).collect();
        let canonical_head = canonicalize_crlf(raw_head);
        let head_canonical = (canonical_head != raw_head).then(|| {
            let mut h = exact.clone();
            update(&mut h, &canonical_head);
            h
        });
        update(&mut exact, raw_head);
        Self {
            algs,
            exact,
            head_canonical,
            canonical: None,
            prev_cr: false,
            pending_cr: false,
        }
    }

    /// The hashers the canonical variant branches from: it equals them until it differs.
    fn base(&self) -> &[Hasher] {
        self.head_canonical.as_deref().unwrap_or(&self.exact)
    }

    fn update_exact(&mut self, data: &[u8]) {
        update(&mut self.exact, data);
        if let Some(h) = &mut self.head_canonical {
            update(h, data);
        }
    }

    /// Hash more body bytes.
    pub(crate) fn body(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if let Some(c) = &mut self.canonical {
            update_canonical(c, data, &mut self.pending_cr);
            self.update_exact(data);
            return;
        }
        if crlf_clean(data, self.prev_cr) {
            self.prev_cr = data.last() == Some(&b'\r');
            self.update_exact(data);
            return;
        }
        // where the canonical form first differs, and whether a LF must be added there
        let mut split = None;
        if self.prev_cr && data[0] != b'\n' {
            split = Some((0, true));
        } else {
            let from = usize::from(self.prev_cr);
            for p in memchr::memchr2_iter(b'\r', b'\n', &data[from..]).map(|p| p + from) {
                if data[p] == b'\n' {
                    if p > 0 && data[p - 1] == b'\r' {
                        continue;
                    }
                    split = Some((p, false));
                    break;
                }
                match data.get(p + 1) {
                    Some(b'\n') | None => {}
                    Some(_) => {
                        split = Some((p + 1, true));
                        break;
                    }
                }
            }
        }
        match split {
            None => {
                self.prev_cr = data.last() == Some(&b'\r');
                self.update_exact(data);
            }
            Some((at, add_lf)) => {
                self.update_exact(&data[..at]);
                let mut c = self.base().to_vec();
                if add_lf {
                    update(&mut c, b"\n");
                }
                self.pending_cr = false;
                update_canonical(&mut c, &data[at..], &mut self.pending_cr);
                self.canonical = Some(c);
                self.update_exact(&data[at..]);
            }
        }
    }

    /// The digests of every candidate.
    pub(crate) fn finish(mut self) -> CandidateDigests {
        if self.canonical.is_none() && self.prev_cr {
            // a trailing lone CR: the canonical form ends in CRLF
            let mut c = self.base().to_vec();
            update(&mut c, b"\n");
            self.canonical = Some(c);
        }
        let mut columns: Vec<Vec<Hasher>> = vec![self.exact];
        columns.extend(self.head_canonical);
        columns.extend(self.canonical);
        let mut out: CandidateDigests = self.algs.iter().map(|a| (*a, Vec::new())).collect();
        for column in columns {
            for (i, h) in column.into_iter().enumerate() {
                out[i].1.push(h.finish());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mime::canonicalize_headers;

    /// The candidates of the whole-buffer verification, deduplicated the same way.
    fn expected(raw: &[u8], head_len: usize) -> Vec<Vec<u8>> {
        let mut c = vec![raw.to_vec()];
        for v in [canonicalize_headers(raw), canonicalize_crlf(raw)] {
            if !c.contains(&v) {
                c.push(v);
            }
        }
        let _ = head_len;
        c
    }

    #[test]
    fn clean_pieces_are_those_without_a_lone_cr_or_lf() {
        assert!(crlf_clean(b"", false));
        assert!(crlf_clean(b"a\r\nb\r\n", false));
        assert!(crlf_clean(b"a\r\nb\r", false));
        assert!(crlf_clean(b"\nb", true));
        assert!(!crlf_clean(b"\nb", false));
        assert!(!crlf_clean(b"b", true));
        assert!(!crlf_clean(b"a\nb", false));
        assert!(!crlf_clean(b"a\rb", false));
        let mut long = b"line\r\n".repeat(2000);
        assert!(crlf_clean(&long, false));
        long[9000] = b'\n';
        assert!(!crlf_clean(&long, false));
    }

    #[test]
    fn every_split_gives_the_whole_buffer_candidates() {
        let cases: [&[u8]; 7] = [
            b"A: b\r\n\r\nline\r\nline\r\n",
            b"A: b\n\nline\r\nline\r\n",
            b"A: b\r\n\r\nline\nline\n",
            b"A: b\n\nline\rline\r",
            b"A: b\r\n\r\nx\r",
            b"A: b\r\n\r\n\r\r\n\n\rz",
            b"\r\nbody only\n",
        ];
        for raw in cases {
            let head_len = crate::mime::Entity::parse(raw).unwrap().raw_headers().len();
            let want: Vec<Vec<u8>> = expected(raw, head_len)
                .iter()
                .map(|c| DigestAlgorithm::Sha256.digest(c))
                .collect();
            let body = &raw[head_len..];
            for step in 1..=body.len().max(1) {
                let mut h = SignedHashes::new(vec![DigestAlgorithm::Sha256], &raw[..head_len]);
                for chunk in body.chunks(step) {
                    h.body(chunk);
                }
                let got = h.finish();
                assert_eq!(
                    got[0].1,
                    want,
                    "{:?} in chunks of {step}",
                    String::from_utf8_lossy(raw)
                );
            }
        }
    }
}
