//! EnvelopedData (CBC) and AuthEnvelopedData (GCM) written around content encrypted as it
//! passes: DER, the same bytes as [`super::encrypt`], when the content length is known up
//! front (the CBC ciphertext is the padded length, the GCM one the content length); BER
//! indefinite lengths with the ciphertext in segments when it is not.

use der::asn1::{Any, OctetString};
use der::{Decode as _, Encode as _, Tag};
use spki::AlgorithmIdentifierOwned;

use super::enveloped::{EncryptOptions, GcmParameters, key_and_recipients};
use super::stream_writer::{
    CONTEXT_0_INDEFINITE, END_OF_CONTENTS, SEQUENCE_INDEFINITE, SegmentWriter, context_0,
    der_header, der_tlv_len,
};
use crate::cert::Certificate;
use crate::crypto::{ContentEncryption, CryptoProvider, GCM_TAG_LEN, StreamEncryptor, oids};
use crate::error::{Error, Result};

/// The DER pieces that do not depend on the content.
#[derive(Debug)]
struct Fixed {
    ci_oid: Vec<u8>,
    version: Vec<u8>,
    recips: Vec<u8>,
    data_oid: Vec<u8>,
    alg_id: Vec<u8>,
}

/// Encrypts content written in pieces into a CMS ContentInfo: [`Self::head`] first, then
/// [`Self::write`] for each piece, then [`Self::finish`].
#[derive(Debug)]
pub(crate) struct EnvelopeWriter {
    algorithm: ContentEncryption,
    encryptor: StreamEncryptor,
    fixed: Fixed,
    /// The plaintext length declared up front (DER), or `None` (BER).
    content_len: Option<u64>,
    written: u64,
    /// BER: the ciphertext as segments, through `scratch`.
    segments: Option<SegmentWriter>,
    scratch: Vec<u8>,
}

impl EnvelopeWriter {
    /// A fresh key and IV from `provider`, wrapped for every recipient (the randomness is
    /// drawn in the order of [`super::encrypt`]), for `content_len` bytes when known.
    ///
    /// # Errors
    /// No recipient, a certificate with neither an RSA nor a P-256/P-384 key, or an encoding
    /// failure.
    pub(crate) fn new(
        provider: &CryptoProvider,
        recipients: &[&Certificate],
        opts: EncryptOptions,
        content_len: Option<u64>,
    ) -> Result<Self> {
        let algorithm = opts.algorithm;
        let (cek, iv, recip_infos) = key_and_recipients(provider, recipients, opts)?;
        let parameters = if algorithm.is_aead() {
            let params = GcmParameters {
                nonce: OctetString::new(iv.as_slice())?,
                icv_len: GCM_TAG_LEN as u8,
            };
            Any::from_der(&params.to_der()?)?
        } else {
            Any::from_der(&OctetString::new(iv.as_slice())?.to_der()?)?
        };
        let ci_oid = if algorithm.is_aead() {
            oids::AUTH_ENVELOPED_DATA
        } else {
            oids::ENVELOPED_DATA
        };
        let fixed = Fixed {
            ci_oid: ci_oid.to_der()?,
            version: if algorithm.is_aead() {
                cms::content_info::CmsVersion::V0
            } else {
                super::enveloped::enveloped_version(&recip_infos)
            }
            .to_der()?,
            recips: recip_infos.to_der()?,
            data_oid: oids::DATA.to_der()?,
            alg_id: AlgorithmIdentifierOwned {
                oid: algorithm.oid(),
                parameters: Some(parameters),
            }
            .to_der()?,
        };
        Ok(Self {
            algorithm,
            encryptor: StreamEncryptor::new(algorithm, &cek, &iv)?,
            fixed,
            content_len,
            written: 0,
            segments: content_len.is_none().then(SegmentWriter::default),
            scratch: Vec::new(),
        })
    }

    fn ciphertext_len(&self, content_len: u64) -> u64 {
        if self.algorithm.is_aead() {
            content_len
        } else {
            let block = self.algorithm.block_len() as u64;
            (content_len / block + 1) * block
        }
    }

    /// The MAC of AuthEnvelopedData (OCTET STRING of the tag), or nothing.
    fn mac_len(&self) -> u64 {
        if self.algorithm.is_aead() {
            2 + GCM_TAG_LEN as u64
        } else {
            0
        }
    }

    /// The DER header lengths from the outside in, for `content_len` bytes of content:
    /// (ContentInfo, `[0]`, EnvelopedData, EncryptedContentInfo, encryptedContent).
    fn der_heads(&self, content_len: u64) -> Result<[Vec<u8>; 5]> {
        let f = &self.fixed;
        let ct_len = self.ciphertext_len(content_len);
        let ct_head = der_header(context_0(false), ct_len)?;
        let eci_len = (f.data_oid.len() + f.alg_id.len() + ct_head.len()) as u64 + ct_len;
        let eci_head = der_header(Tag::Sequence, eci_len)?;
        let ed_len =
            (f.version.len() + f.recips.len() + eci_head.len()) as u64 + eci_len + self.mac_len();
        let ed_head = der_header(Tag::Sequence, ed_len)?;
        let explicit_len = der_tlv_len(Tag::Sequence, ed_len)?;
        let explicit_head = der_header(context_0(true), explicit_len)?;
        let ci_len = (f.ci_oid.len() + explicit_head.len()) as u64 + explicit_len;
        let ci_head = der_header(Tag::Sequence, ci_len)?;
        Ok([ci_head, explicit_head, ed_head, eci_head, ct_head])
    }

    /// The whole encoding's length, when the content length was declared.
    ///
    /// # Errors
    /// A length beyond what DER encodes.
    pub(crate) fn encoded_len(&self) -> Result<Option<u64>> {
        let Some(content_len) = self.content_len else {
            return Ok(None);
        };
        let [ci_head, ..] = self.der_heads(content_len)?;
        let ci_len = self.head()?.len() as u64 - ci_head.len() as u64
            + self.ciphertext_len(content_len)
            + self.mac_len();
        Ok(Some(ci_head.len() as u64 + ci_len))
    }

    /// Everything before the ciphertext.
    ///
    /// # Errors
    /// A length beyond what DER encodes.
    pub(crate) fn head(&self) -> Result<Vec<u8>> {
        let f = &self.fixed;
        let (ci, explicit, ed, eci, ct) = match self.content_len {
            Some(len) => {
                let [ci, explicit, ed, eci, ct] = self.der_heads(len)?;
                (ci, explicit, ed, eci, ct)
            }
            None => (
                SEQUENCE_INDEFINITE.to_vec(),
                CONTEXT_0_INDEFINITE.to_vec(),
                SEQUENCE_INDEFINITE.to_vec(),
                SEQUENCE_INDEFINITE.to_vec(),
                CONTEXT_0_INDEFINITE.to_vec(),
            ),
        };
        Ok([
            ci.as_slice(),
            &f.ci_oid,
            &explicit,
            &ed,
            &f.version,
            &f.recips,
            &eci,
            &f.data_oid,
            &f.alg_id,
            &ct,
        ]
        .concat())
    }

    /// Whether this is AuthEnvelopedData (GCM).
    pub(crate) fn is_aead(&self) -> bool {
        self.algorithm.is_aead()
    }

    /// The bytes held between calls: less than a cipher block and a segment.
    pub(crate) fn buffered_len(&self) -> usize {
        self.encryptor.buffered_len()
            + self
                .segments
                .as_ref()
                .map_or(0, SegmentWriter::buffered_len)
    }

    /// Encrypt `data` onto `out`.
    ///
    /// # Errors
    /// More content than declared.
    pub(crate) fn write(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.written += data.len() as u64;
        if self.content_len.is_some_and(|len| self.written > len) {
            return Err(Error::Crypto("more content than declared".into()));
        }
        match &mut self.segments {
            None => self.encryptor.update(data, out),
            Some(segments) => {
                self.scratch.clear();
                self.encryptor.update(data, &mut self.scratch);
                segments.write(&self.scratch, out)?;
            }
        }
        Ok(())
    }

    /// The last ciphertext, the tag of GCM, and the end of the structure.
    ///
    /// # Errors
    /// Less content than declared.
    pub(crate) fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.content_len.is_some_and(|len| self.written != len) {
            return Err(Error::Crypto("less content than declared".into()));
        }
        let mac = |tag: Option<[u8; GCM_TAG_LEN]>, out: &mut Vec<u8>| -> Result<()> {
            if let Some(tag) = tag {
                out.extend_from_slice(&der_header(Tag::OctetString, GCM_TAG_LEN as u64)?);
                out.extend_from_slice(&tag);
            }
            Ok(())
        };
        match self.segments.take() {
            None => {
                let tag = self.encryptor.finish(out)?;
                mac(tag, out)
            }
            Some(mut segments) => {
                self.scratch.clear();
                let tag = self.encryptor.finish(&mut self.scratch)?;
                segments.write(&self.scratch, out)?;
                segments.finish(out)?;
                out.extend_from_slice(&END_OF_CONTENTS); // encryptedContent
                out.extend_from_slice(&END_OF_CONTENTS); // EncryptedContentInfo
                mac(tag, out)?;
                for _ in 0..3 {
                    // EnvelopedData, [0], ContentInfo
                    out.extend_from_slice(&END_OF_CONTENTS);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cert::generate_self_signed;
    use crate::cms::{DecryptionKey, decrypt, encrypt};
    use crate::crypto::{KeyTransport, test_key};
    use crate::testutil::{P, now, seeded_provider};

    fn streamed(
        opts: EncryptOptions,
        cert: &Certificate,
        data: &[u8],
        known: bool,
        piece: usize,
        seed: u64,
    ) -> Vec<u8> {
        let provider = seeded_provider(seed);
        let len = known.then_some(data.len() as u64);
        let mut w = EnvelopeWriter::new(&provider, &[cert], opts, len).unwrap();
        let declared = w.encoded_len().unwrap();
        let mut out = w.head().unwrap();
        for p in data.chunks(piece.max(1)) {
            w.write(p, &mut out).unwrap();
        }
        if data.is_empty() {
            w.write(&[], &mut out).unwrap();
        }
        w.finish(&mut out).unwrap();
        if let Some(declared) = declared {
            assert_eq!(declared, out.len() as u64);
        }
        out
    }

    /// DER: byte for byte what `encrypt` writes from the same randomness; BER: decrypts to
    /// the content. Every algorithm, both key transports, lengths around block edges.
    #[test]
    fn streamed_envelopes_match_and_decrypt() {
        let key = test_key();
        let cert = generate_self_signed(P, key, "CN=r", now(), Duration::from_secs(3600)).unwrap();
        let keys = [DecryptionKey {
            certificate: &cert,
            key,
        }];
        for alg in ContentEncryption::ALL {
            for kt in [
                KeyTransport::RsaPkcs1v15,
                KeyTransport::RsaOaep(crate::crypto::DigestAlgorithm::Sha256),
            ] {
                let opts = EncryptOptions::new(alg).with_key_transport(kt);
                for len in [0usize, 15, 16, 17, 40_000] {
                    let data: Vec<u8> = (0..len).map(|i| (i % 249) as u8).collect();
                    let expected = encrypt(&seeded_provider(7), &data, &[&cert], opts).unwrap();
                    for piece in [1, 13, 4096, len] {
                        if piece == 1 && len > 100 {
                            continue;
                        }
                        assert_eq!(
                            streamed(opts, &cert, &data, true, piece, 7),
                            expected,
                            "{alg:?} {len} {piece}"
                        );
                        let ber = streamed(opts, &cert, &data, false, piece, 7);
                        assert_eq!(
                            decrypt(P, &ber, &keys).unwrap().content,
                            data,
                            "{alg:?} {len}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn declared_length_is_enforced() {
        let key = test_key();
        let cert = generate_self_signed(P, key, "CN=r", now(), Duration::from_secs(3600)).unwrap();
        let mut w = EnvelopeWriter::new(P, &[&cert], EncryptOptions::default(), Some(4)).unwrap();
        let mut out = Vec::new();
        assert!(w.write(b"12345", &mut out).is_err());
        let mut w = EnvelopeWriter::new(P, &[&cert], EncryptOptions::default(), Some(4)).unwrap();
        w.write(b"123", &mut out).unwrap();
        assert!(w.finish(&mut out).is_err());
    }
}
