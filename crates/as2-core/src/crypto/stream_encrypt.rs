//! Content encryption of a stream: CBC (PKCS#7 padding in the last block, written at the
//! end) and GCM (CTR keystream and GHASH as the ciphertext passes, the tag at the end),
//! with at most one block of plaintext or ciphertext held between calls. The same
//! ciphertext as [`ContentEncryption::encrypt`] over the whole content.

use cipher::array::Array;
use cipher::block_padding::Pkcs7;
use cipher::consts::U16;
use cipher::{
    BlockCipherEncrypt, BlockModeEncrypt, BlockSizeUser, KeyInit, KeyIvInit, StreamCipher as _,
};
use ghash::GHash;
use ghash::universal_hash::UniversalHash as _;

use super::ContentEncryption;
use crate::error::{Error, Result};

/// The GCM tag length the codec writes (RFC 5084's default is 12; AS2 products send 16).
pub(crate) const GCM_TAG_LEN: usize = 16;

/// A content cipher fed in pieces: [`Self::update`] as the plaintext comes, then
/// [`Self::finish`] for the last block (CBC) or the tag (GCM).
pub(crate) struct StreamEncryptor {
    mode: Mode,
    /// Plaintext (CBC) or ciphertext (GCM) short of a whole block, carried to the next call.
    pending: Vec<u8>,
}

impl std::fmt::Debug for StreamEncryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamEncryptor").finish_non_exhaustive()
    }
}

enum Mode {
    Des3Cbc(cbc::Encryptor<des::TdesEde3>),
    Aes128Cbc(cbc::Encryptor<aes::Aes128>),
    Aes192Cbc(cbc::Encryptor<aes::Aes192>),
    Aes256Cbc(cbc::Encryptor<aes::Aes256>),
    Aes128Gcm(Gcm<aes::Aes128>),
    Aes256Gcm(Gcm<aes::Aes256>),
}

/// GCM with a 96-bit nonce (NIST SP 800-38D, §7.1), no additional data.
struct Gcm<C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>> {
    ctr: ctr::Ctr32BE<C>,
    ghash: GHash,
    /// E(K, J0), XORed into the GHASH value to give the tag.
    tag_mask: [u8; 16],
    /// Ciphertext bytes so far.
    len: u64,
}

impl<C> Gcm<C>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit,
{
    fn new(key: &[u8], nonce: &[u8]) -> Result<Self> {
        let bad = |_| Error::Crypto("bad key or nonce length".into());
        if nonce.len() != 12 {
            return Err(Error::Crypto("bad key or nonce length".into()));
        }
        let block_cipher = C::new_from_slice(key).map_err(bad)?;
        let mut h = Array::<u8, U16>::default();
        block_cipher.encrypt_block(&mut h);
        let ghash = GHash::new(&h);
        let mut j0 = [0u8; 16];
        j0[..12].copy_from_slice(nonce);
        j0[15] = 1;
        let mut ctr = ctr::Ctr32BE::<C>::new_from_slices(key, &j0).map_err(bad)?;
        let mut tag_mask = [0u8; 16];
        ctr.apply_keystream(&mut tag_mask);
        Ok(Self {
            ctr,
            ghash,
            tag_mask,
            len: 0,
        })
    }

    /// Encrypt `data` onto `out`; whole ciphertext blocks go into GHASH, the rest waits in
    /// `pending`.
    fn update(&mut self, data: &[u8], out: &mut Vec<u8>, pending: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(data);
        let ct = &mut out[start..];
        self.ctr.apply_keystream(ct);
        self.len += ct.len() as u64;
        let mut ct: &[u8] = ct;
        if !pending.is_empty() {
            let take = (16 - pending.len()).min(ct.len());
            pending.extend_from_slice(&ct[..take]);
            ct = &ct[take..];
            if pending.len() < 16 {
                return;
            }
            let (blocks, _) = Array::<u8, U16>::slice_as_chunks(pending);
            self.ghash.update(blocks);
            pending.clear();
        }
        let (blocks, rest) = Array::<u8, U16>::slice_as_chunks(ct);
        self.ghash.update(blocks);
        pending.extend_from_slice(rest);
    }

    fn finish(mut self, pending: &[u8]) -> [u8; GCM_TAG_LEN] {
        self.ghash.update_padded(pending);
        let mut lengths = Array::<u8, U16>::default();
        lengths[8..].copy_from_slice(&self.len.wrapping_mul(8).to_be_bytes());
        self.ghash.update(&[lengths]);
        let mut tag = [0u8; GCM_TAG_LEN];
        for ((t, g), m) in tag.iter_mut().zip(self.ghash.finalize()).zip(self.tag_mask) {
            *t = g ^ m;
        }
        tag
    }
}

/// Encrypt the whole blocks of `buf` (a multiple of the block length) in place.
fn cbc_blocks<M: BlockModeEncrypt>(mode: &mut M, buf: &mut [u8]) {
    let (blocks, _) = Array::<u8, M::BlockSize>::slice_as_chunks_mut(buf);
    mode.encrypt_blocks(blocks);
}

/// Encrypt `pending` (less than a block) with PKCS#7 padding onto `out`.
fn cbc_last<M: BlockModeEncrypt>(
    mode: M,
    pending: &[u8],
    block: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut last = vec![0u8; block];
    last[..pending.len()].copy_from_slice(pending);
    let ct = mode
        .encrypt_padded::<Pkcs7>(&mut last, pending.len())
        .map_err(|_| Error::Crypto("CBC padding".into()))?;
    out.extend_from_slice(ct);
    Ok(())
}

impl StreamEncryptor {
    /// `algorithm` with `key` and `iv` (the nonce for GCM).
    ///
    /// # Errors
    /// A key or IV of the wrong length.
    pub(crate) fn new(algorithm: ContentEncryption, key: &[u8], iv: &[u8]) -> Result<Self> {
        let bad = |_| Error::Crypto("bad key or iv length".into());
        let mode = match algorithm {
            ContentEncryption::Des3Cbc => {
                Mode::Des3Cbc(cbc::Encryptor::new_from_slices(key, iv).map_err(bad)?)
            }
            ContentEncryption::Aes128Cbc => {
                Mode::Aes128Cbc(cbc::Encryptor::new_from_slices(key, iv).map_err(bad)?)
            }
            ContentEncryption::Aes192Cbc => {
                Mode::Aes192Cbc(cbc::Encryptor::new_from_slices(key, iv).map_err(bad)?)
            }
            ContentEncryption::Aes256Cbc => {
                Mode::Aes256Cbc(cbc::Encryptor::new_from_slices(key, iv).map_err(bad)?)
            }
            ContentEncryption::Aes128Gcm => Mode::Aes128Gcm(Gcm::new(key, iv)?),
            ContentEncryption::Aes256Gcm => Mode::Aes256Gcm(Gcm::new(key, iv)?),
        };
        Ok(Self {
            mode,
            pending: Vec::with_capacity(16),
        })
    }

    /// The bytes held between calls (less than one block).
    pub(crate) fn buffered_len(&self) -> usize {
        self.pending.len()
    }

    /// Encrypt `data`, appending the ciphertext ready so far to `out`.
    pub(crate) fn update(&mut self, data: &[u8], out: &mut Vec<u8>) {
        match &mut self.mode {
            Mode::Des3Cbc(m) => cbc_update(m, 8, data, &mut self.pending, out),
            Mode::Aes128Cbc(m) => cbc_update(m, 16, data, &mut self.pending, out),
            Mode::Aes192Cbc(m) => cbc_update(m, 16, data, &mut self.pending, out),
            Mode::Aes256Cbc(m) => cbc_update(m, 16, data, &mut self.pending, out),
            Mode::Aes128Gcm(g) => g.update(data, out, &mut self.pending),
            Mode::Aes256Gcm(g) => g.update(data, out, &mut self.pending),
        }
    }

    /// The last ciphertext onto `out` (CBC: the padded block); the tag for GCM.
    ///
    /// # Errors
    /// A padding failure (not expected: the block is sized here).
    pub(crate) fn finish(self, out: &mut Vec<u8>) -> Result<Option<[u8; GCM_TAG_LEN]>> {
        let pending = self.pending;
        match self.mode {
            Mode::Des3Cbc(m) => cbc_last(m, &pending, 8, out).map(|()| None),
            Mode::Aes128Cbc(m) => cbc_last(m, &pending, 16, out).map(|()| None),
            Mode::Aes192Cbc(m) => cbc_last(m, &pending, 16, out).map(|()| None),
            Mode::Aes256Cbc(m) => cbc_last(m, &pending, 16, out).map(|()| None),
            Mode::Aes128Gcm(g) => Ok(Some(g.finish(&pending))),
            Mode::Aes256Gcm(g) => Ok(Some(g.finish(&pending))),
        }
    }
}

/// CBC: whole blocks of `pending` + `data` are encrypted onto `out`, the rest is kept.
fn cbc_update<M: BlockModeEncrypt>(
    mode: &mut M,
    block: usize,
    mut data: &[u8],
    pending: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    if !pending.is_empty() {
        let take = (block - pending.len()).min(data.len());
        pending.extend_from_slice(&data[..take]);
        data = &data[take..];
        if pending.len() < block {
            return;
        }
        let start = out.len();
        out.extend_from_slice(pending);
        cbc_blocks(mode, &mut out[start..]);
        pending.clear();
    }
    let whole = data.len() / block * block;
    let start = out.len();
    out.extend_from_slice(&data[..whole]);
    cbc_blocks(mode, &mut out[start..]);
    pending.extend_from_slice(&data[whole..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every algorithm, fed in pieces of every size from 1 to 40 bytes, gives the
    /// ciphertext (and tag) of the one-shot encryption, for lengths around block edges.
    #[test]
    fn pieces_encrypt_as_the_whole() {
        for alg in ContentEncryption::ALL {
            let key: Vec<u8> = (0..alg.key_len() as u8).collect();
            let iv: Vec<u8> = (0..alg.iv_len() as u8).map(|b| b ^ 0x5a).collect();
            for len in [0usize, 1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 1000] {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
                let expected = alg.encrypt(&key, &iv, &[], &data).unwrap();
                for piece in 1..=40 {
                    let mut enc = StreamEncryptor::new(alg, &key, &iv).unwrap();
                    let mut out = Vec::new();
                    for p in data.chunks(piece) {
                        enc.update(p, &mut out);
                        assert!(enc.buffered_len() < 16);
                    }
                    if let Some(tag) = enc.finish(&mut out).unwrap() {
                        out.extend_from_slice(&tag);
                    }
                    assert_eq!(out, expected, "{alg:?} len {len} piece {piece}");
                }
            }
        }
    }

    #[test]
    fn wrong_key_length_is_an_error() {
        assert!(StreamEncryptor::new(ContentEncryption::Aes256Gcm, &[0; 5], &[0; 12]).is_err());
        assert!(StreamEncryptor::new(ContentEncryption::Aes256Cbc, &[0; 32], &[0; 3]).is_err());
    }
}
