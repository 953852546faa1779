//! The multipart/signed layer of the encoder: the signed entity passes through unchanged
//! and is hashed on the way; the detached SignedData (RFC 5652) is written at the end, as
//! a base64 `application/pkcs7-signature` part whose length is known up front.

use crate::cert::Certificate;
use crate::cms::{self, SignOptions};
use crate::crypto::{CryptoProvider, Hasher, MicAlgStyle, PrivateKeyOps};
use crate::error::{Error, Result};
use crate::message::{Mic, Signer};
use crate::mime::{EntityBuilder, Headers, generate_boundary, quote};

/// Signs the entity written through it.
#[derive(Debug)]
pub(super) struct SignLayer<'a> {
    certificate: &'a Certificate,
    key: &'a dyn PrivateKeyOps,
    options: SignOptions,
    boundary: String,
    /// The multipart/signed entity's headers.
    pub(super) headers: Headers,
    hasher: Hasher,
    /// Without signed attributes the key signs the content itself, so it is kept here
    /// (the one case whose memory grows with the message).
    whole: Option<Vec<u8>>,
    /// The length of the DER SignedData the key will produce.
    signature_len: usize,
}

impl<'a> SignLayer<'a> {
    /// A layer signing as `signer` says, with a fresh boundary from `provider`.
    pub(super) fn new(
        provider: &CryptoProvider,
        signer: &Signer<'a>,
        micalg_style: MicAlgStyle,
    ) -> Result<Self> {
        let boundary = generate_boundary(provider)?;
        let mut headers = Headers::new();
        headers.push(
            "Content-Type",
            format!(
                "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg={}; boundary={}",
                signer.options.digest.name(micalg_style),
                quote(&boundary)
            ),
        );
        let signature_len = cms::signed_data_len(signer.certificate, signer.key, &signer.options)?;
        Ok(Self {
            certificate: signer.certificate,
            key: signer.key,
            options: signer.options.clone(),
            boundary,
            headers,
            hasher: Hasher::new(signer.options.digest),
            whole: (!signer.options.signed_attributes).then(Vec::new),
            signature_len,
        })
    }

    /// The body up to the signed entity: the first delimiter.
    pub(super) fn body_prefix(&self) -> Vec<u8> {
        format!("--{}\r\n", self.boundary).into_bytes()
    }

    /// The body after the signed entity, for a signature `signature`.
    fn body_suffix(&self, signature: &[u8]) -> Vec<u8> {
        let part = EntityBuilder::new("application/pkcs7-signature; name=\"smime.p7s\"")
            .header("Content-Disposition", "attachment; filename=\"smime.p7s\"")
            .body_base64(signature)
            .build();
        let b = &self.boundary;
        [
            format!("\r\n--{b}\r\n").as_bytes(),
            &part,
            format!("\r\n--{b}--\r\n").as_bytes(),
        ]
        .concat()
    }

    /// The body's length around a signed entity of `entity_len` bytes.
    pub(super) fn body_len(&self, entity_len: u64) -> u64 {
        let suffix = self.body_suffix(&vec![0; self.signature_len]).len();
        (self.body_prefix().len() + suffix) as u64 + entity_len
    }

    /// Bytes of the signed entity kept (only without signed attributes).
    pub(super) fn buffered_len(&self) -> usize {
        self.whole.as_ref().map_or(0, Vec::capacity)
    }

    /// Hash the next piece of the signed entity (which goes on unchanged).
    pub(super) fn observe(&mut self, data: &[u8]) {
        self.hasher.update(data);
        if let Some(whole) = &mut self.whole {
            whole.extend_from_slice(data);
        }
    }

    /// Sign: the rest of the body, and the MIC (the signed entity's digest, RFC 4130
    /// §7.3.1, which is the signature's messageDigest).
    pub(super) fn finish(mut self, provider: &CryptoProvider) -> Result<(Vec<u8>, Mic)> {
        let hasher = std::mem::replace(&mut self.hasher, Hasher::new(self.options.digest));
        let digest = hasher.finalize();
        let signature = match &self.whole {
            None => cms::sign_content_digest(
                provider,
                &digest,
                self.certificate,
                self.key,
                &self.options,
            )?,
            Some(content) => {
                cms::sign_detached(provider, content, self.certificate, self.key, &self.options)?
            }
        };
        if signature.len() != self.signature_len {
            return Err(Error::Crypto(format!(
                "the signature is {} bytes, {} were announced",
                signature.len(),
                self.signature_len
            )));
        }
        let mic = Mic {
            algorithm: self.options.digest,
            value: digest,
        };
        Ok((self.body_suffix(&signature), mic))
    }
}
