//! Content decryption in pieces: CBC (3DES, AES) holds back its last block for the padding,
//! AES-GCM decrypts as the ciphertext passes and checks the tag at the end. Every failure
//! is the one [`Error::Decryption`], as for the whole-buffer [`ContentEncryption::decrypt`].

use cipher::array::Array;
use cipher::consts::U16;
use cipher::{
    BlockCipherEncrypt, BlockSizeUser, InnerIvInit as _, KeyInit, KeyIvInit as _, StreamCipher as _,
};
use ghash::universal_hash::UniversalHash as _;
use subtle::{Choice, ConstantTimeEq as _};

use super::ContentEncryption;
use crate::error::{Error, Result};

enum Cbc {
    Des3(cbc::Decryptor<des::TdesEde3>),
    Aes128(cbc::Decryptor<aes::Aes128>),
    Aes192(cbc::Decryptor<aes::Aes192>),
    Aes256(cbc::Decryptor<aes::Aes256>),
}

impl Cbc {
    /// Decrypt whole blocks in place.
    fn decrypt(&mut self, data: &mut [u8]) {
        fn run<D: cipher::BlockModeDecrypt>(d: &mut D, data: &mut [u8]) {
            let (blocks, rest) = Array::slice_as_chunks_mut(data);
            debug_assert!(rest.is_empty());
            d.decrypt_blocks(blocks);
        }
        match self {
            Self::Des3(d) => run(d, data),
            Self::Aes128(d) => run(d, data),
            Self::Aes192(d) => run(d, data),
            Self::Aes256(d) => run(d, data),
        }
    }
}

enum Gcm {
    Aes128(GcmState<aes::Aes128>),
    Aes256(GcmState<aes::Aes256>),
}

struct GcmState<C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>> {
    ctr: ctr::Ctr32BE<C>,
    ghash: ghash::GHash,
    /// E(K, J0), XORed into GHASH for the tag.
    tag_mask: [u8; 16],
    /// Ciphertext bytes not yet a whole GHASH block.
    partial: Vec<u8>,
    ciphertext_len: u64,
}

impl<C> GcmState<C>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    fn new(key: &[u8], nonce: &[u8]) -> Result<Self> {
        if nonce.len() != 12 {
            return Err(Error::Decryption);
        }
        let cipher = C::new_from_slice(key).map_err(|_| Error::Decryption)?;
        let mut h = Array::<u8, U16>::default();
        cipher.encrypt_block(&mut h);
        let mut j0 = Array::<u8, U16>::default();
        j0[..12].copy_from_slice(nonce);
        j0[15] = 1;
        let mut mask = j0;
        cipher.encrypt_block(&mut mask);
        let mut counter = j0;
        counter[15] = 2;
        let ctr = ctr::Ctr32BE::<C>::from_core(ctr::CtrCore::inner_iv_init(cipher, &counter));
        Ok(Self {
            ctr,
            ghash: ghash::GHash::new(&h),
            tag_mask: mask.into(),
            partial: Vec::new(),
            ciphertext_len: 0,
        })
    }

    fn update(&mut self, data: &mut [u8]) {
        self.ciphertext_len += data.len() as u64;
        let mut rest: &[u8] = data;
        if !self.partial.is_empty() {
            let take = (16 - self.partial.len()).min(rest.len());
            self.partial.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.partial.len() == 16 {
                self.ghash.update_padded(&self.partial);
                self.partial.clear();
            }
        }
        let whole = rest.len() / 16 * 16;
        let (blocks, _) = Array::<u8, U16>::slice_as_chunks(&rest[..whole]);
        self.ghash.update(blocks);
        self.partial.extend_from_slice(&rest[whole..]);
        self.ctr.apply_keystream(data);
    }

    fn tag(mut self) -> [u8; 16] {
        self.ghash.update_padded(&self.partial);
        let mut lengths = [0u8; 16];
        lengths[8..].copy_from_slice(&(self.ciphertext_len * 8).to_be_bytes());
        self.ghash.update_padded(&lengths);
        let s = self.ghash.finalize();
        let mut tag = self.tag_mask;
        for (t, s) in tag.iter_mut().zip(s.iter()) {
            *t ^= s;
        }
        tag
    }
}

enum Mode {
    Cbc {
        cbc: Cbc,
        block: usize,
        /// The ciphertext not yet decrypted: at most one block and a partial one.
        held: Vec<u8>,
        seen: bool,
    },
    Gcm {
        gcm: Gcm,
        tag_len: usize,
    },
}

/// A content decryption fed piece by piece.
pub(crate) struct StreamDecryptor {
    mode: Mode,
    /// False (in constant time) for the RFC 3218 substitute key: never a success.
    genuine: Choice,
}

impl StreamDecryptor {
    /// Decrypt `alg` with `key` and `iv` (the GCM nonce); `tag_len` for GCM.
    ///
    /// # Errors
    /// [`Error::Decryption`] for a key or IV of the wrong length.
    pub(crate) fn new(
        alg: ContentEncryption,
        key: &[u8],
        iv: &[u8],
        tag_len: usize,
        genuine: Choice,
    ) -> Result<Self> {
        let fail = |_| Error::Decryption;
        let cbc = |cbc| Mode::Cbc {
            cbc,
            block: alg.block_len(),
            held: Vec::new(),
            seen: false,
        };
        let mode = match alg {
            ContentEncryption::Des3Cbc => cbc(Cbc::Des3(
                cbc::Decryptor::new_from_slices(key, iv).map_err(fail)?,
            )),
            ContentEncryption::Aes128Cbc => cbc(Cbc::Aes128(
                cbc::Decryptor::new_from_slices(key, iv).map_err(fail)?,
            )),
            ContentEncryption::Aes192Cbc => cbc(Cbc::Aes192(
                cbc::Decryptor::new_from_slices(key, iv).map_err(fail)?,
            )),
            ContentEncryption::Aes256Cbc => cbc(Cbc::Aes256(
                cbc::Decryptor::new_from_slices(key, iv).map_err(fail)?,
            )),
            ContentEncryption::Aes128Gcm | ContentEncryption::Aes256Gcm => {
                if tag_len != 12 && tag_len != 16 {
                    return Err(Error::Decryption);
                }
                let gcm = if alg == ContentEncryption::Aes128Gcm {
                    Gcm::Aes128(GcmState::new(key, iv)?)
                } else {
                    Gcm::Aes256(GcmState::new(key, iv)?)
                };
                Mode::Gcm { gcm, tag_len }
            }
        };
        Ok(Self { mode, genuine })
    }

    /// Decrypt `input`, appending the plaintext that is final to `out` (CBC keeps its last
    /// block back until [`Self::finish`]).
    pub(crate) fn update(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match &mut self.mode {
            Mode::Cbc {
                cbc,
                block,
                held,
                seen,
            } => {
                *seen |= !input.is_empty();
                let total = held.len() + input.len();
                let keep = match total % *block {
                    0 => (*block).min(total),
                    r => r,
                };
                let emit = total - keep;
                if emit == 0 {
                    held.extend_from_slice(input);
                    return;
                }
                let start = out.len();
                let from_input = emit - held.len();
                out.extend_from_slice(held);
                out.extend_from_slice(&input[..from_input]);
                cbc.decrypt(&mut out[start..]);
                held.clear();
                held.extend_from_slice(&input[from_input..]);
            }
            Mode::Gcm { gcm, .. } => {
                let start = out.len();
                out.extend_from_slice(input);
                match gcm {
                    Gcm::Aes128(g) => g.update(&mut out[start..]),
                    Gcm::Aes256(g) => g.update(&mut out[start..]),
                }
            }
        }
    }

    /// Whether [`Self::update_in_place`] may be used: no ciphertext is held back from
    /// before (always for GCM; for CBC before the first piece).
    pub(crate) fn can_decrypt_in_place(&self) -> bool {
        match &self.mode {
            Mode::Cbc { held, .. } => held.is_empty(),
            Mode::Gcm { .. } => true,
        }
    }

    /// [`Self::update`] with the plaintext written over the ciphertext `data`, when
    /// [`Self::can_decrypt_in_place`]: returns how many bytes at its end are held back
    /// (CBC's last block and a partial one), which the caller drops from `data`.
    pub(crate) fn update_in_place(&mut self, data: &mut [u8]) -> usize {
        match &mut self.mode {
            Mode::Cbc {
                cbc,
                block,
                held,
                seen,
            } => {
                debug_assert!(held.is_empty(), "ciphertext held back before the piece");
                *seen |= !data.is_empty();
                let keep = match data.len() % *block {
                    0 => (*block).min(data.len()),
                    r => r,
                };
                let emit = data.len() - keep;
                cbc.decrypt(&mut data[..emit]);
                held.extend_from_slice(&data[emit..]);
                keep
            }
            Mode::Gcm { gcm, .. } => {
                match gcm {
                    Gcm::Aes128(g) => g.update(data),
                    Gcm::Aes256(g) => g.update(data),
                }
                0
            }
        }
    }

    /// The end of the ciphertext: the CBC padding is checked and the last plaintext
    /// appended, or the GCM tag (`mac`) is checked.
    ///
    /// # Errors
    /// [`Error::Decryption`]: a bad padding or tag, a truncated ciphertext, or the
    /// substitute key.
    pub(crate) fn finish(self, mac: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let opened = match self.mode {
            Mode::Cbc {
                mut cbc,
                block,
                mut held,
                seen,
            } => {
                if !seen || held.len() != block || !mac.is_empty() {
                    return Err(Error::Decryption);
                }
                cbc.decrypt(&mut held);
                let pad = usize::from(held[block - 1]);
                let ok = pad >= 1
                    && pad <= block
                    && held[block - pad..].iter().all(|b| usize::from(*b) == pad);
                if ok {
                    out.extend_from_slice(&held[..block - pad]);
                }
                Choice::from(u8::from(ok))
            }
            Mode::Gcm { gcm, tag_len } => {
                if mac.len() != tag_len {
                    return Err(Error::Decryption);
                }
                let tag = match gcm {
                    Gcm::Aes128(g) => g.tag(),
                    Gcm::Aes256(g) => g.tag(),
                };
                tag[..tag_len].ct_eq(mac)
            }
        };
        if bool::from(opened & self.genuine) {
            Ok(())
        } else {
            Err(Error::Decryption)
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests use their own randomness"
)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_whole_buffer_decryption_in_any_pieces() {
        let msg: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        for alg in ContentEncryption::ALL {
            let key = vec![3u8; alg.key_len()];
            let iv = vec![5u8; alg.iv_len()];
            for len in [0, 1, 15, 16, 17, 999] {
                let ct = alg.encrypt(&key, &iv, &[], &msg[..len]).unwrap();
                let (body, mac) = if alg.is_aead() {
                    ct.split_at(ct.len() - 16)
                } else {
                    (ct.as_slice(), &[][..])
                };
                for step in [1, 5, 16, 64, 2000] {
                    let mut d = StreamDecryptor::new(alg, &key, &iv, 16, Choice::from(1)).unwrap();
                    let mut out = Vec::new();
                    for c in body.chunks(step) {
                        d.update(c, &mut out);
                    }
                    d.finish(mac, &mut out).unwrap();
                    assert_eq!(out, &msg[..len], "{alg:?} {len} {step}");
                    // the first piece in place, the rest as it comes
                    let mut d = StreamDecryptor::new(alg, &key, &iv, 16, Choice::from(1)).unwrap();
                    let split = step.min(body.len());
                    let mut out = body[..split].to_vec();
                    assert!(d.can_decrypt_in_place());
                    let kept = d.update_in_place(&mut out);
                    out.truncate(out.len() - kept);
                    d.update(&body[split..], &mut out);
                    d.finish(mac, &mut out).unwrap();
                    assert_eq!(out, &msg[..len], "in place: {alg:?} {len} {step}");
                }
                // a flipped bit in the last plaintext block: a bad padding or tag
                let mut bad = body.to_vec();
                let at = if alg.is_aead() {
                    bad.len().checked_sub(1)
                } else {
                    bad.len().checked_sub(alg.block_len() + 1)
                };
                if let Some(at) = at {
                    bad[at] ^= 1;
                    let mut d = StreamDecryptor::new(alg, &key, &iv, 16, Choice::from(1)).unwrap();
                    let mut out = Vec::new();
                    d.update(&bad, &mut out);
                    assert!(matches!(d.finish(mac, &mut out), Err(Error::Decryption)));
                }
                // the substitute key never opens
                let mut d = StreamDecryptor::new(alg, &key, &iv, 16, Choice::from(0)).unwrap();
                d.update(body, &mut Vec::new());
                assert!(d.finish(mac, &mut Vec::new()).is_err());
            }
        }
    }
}
