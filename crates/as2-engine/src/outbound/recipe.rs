//! An outbound message's recipe: everything its encoder needs, owned (the settings, our
//! signing key, the partner's certificate, the payload's key in the payload store), so that
//! a blocking task can encode the message from the payload store on every attempt without
//! the body ever being held whole.

use std::time::SystemTime;

use as2_core::cert::Certificate;
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::{DigestAlgorithm, SignatureScheme};
use as2_core::message::{Encryption, OutboundEncoder, OutboundMessage, Signer};
use as2_domain::message::PayloadRef;

use crate::material::PrivateKey;

/// How to sign: our certificate and key, the digest and the scheme (the signing time is
/// taken when the encoder is made).
#[derive(Debug, Clone)]
pub(super) struct Signing {
    pub(super) certificate: Certificate,
    pub(super) key: PrivateKey,
    pub(super) digest: DigestAlgorithm,
    pub(super) scheme: SignatureScheme,
}

/// How to encode one outbound message; [`Recipe::encoder`] makes a fresh encoder for each
/// attempt (a fresh boundary, content key and signature; the Message-ID stays the message's).
#[derive(Debug, Clone)]
pub struct Recipe {
    /// The settings: no payload bytes, no signer, no encryption (those borrow from here).
    pub(super) template: OutboundMessage<'static>,
    /// Where the payload is: an object of the payload store, or the bytes (a small one).
    pub(super) payload: PayloadRef,
    /// The payload's length as recorded with the message (the encoder holds the payload to
    /// it: a payload that reads shorter or longer fails the attempt).
    pub(super) payload_len: Option<u64>,
    /// Our key, when the partner wants signed messages.
    pub(super) signing: Option<Signing>,
    /// The partner's certificate, when it wants encrypted messages.
    pub(super) encryption: Option<(Certificate, EncryptOptions)>,
}

impl Recipe {
    /// Where the payload is.
    #[must_use]
    pub fn payload(&self) -> &PayloadRef {
        &self.payload
    }

    /// A new encoder for the message; the payload is then pushed into it.
    ///
    /// # Errors
    /// An invalid AS2 name, a failing random generator, an unusable recipient certificate.
    pub fn encoder(&self) -> Result<OutboundEncoder<'_>, as2_core::Error> {
        let mut message: OutboundMessage<'_> = self.template.clone();
        message.signer = self.signing.as_ref().map(|s| {
            Signer::new(
                &s.certificate,
                s.key.as_ref(),
                SignOptions::new(SystemTime::now())
                    .with_digest(s.digest)
                    .with_scheme(s.scheme),
            )
        });
        message.encryption = self
            .encryption
            .as_ref()
            .map(|(certificate, options)| Encryption::new(vec![certificate], *options));
        OutboundEncoder::new(&message, self.payload_len)
    }
}
