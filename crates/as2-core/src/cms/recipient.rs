//! Key-transport recipients: building KeyTransRecipientInfo, and choosing which of our
//! keys (current and next, during a certificate change) opens which recipient.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use der::asn1::OctetString;
use subtle::{Choice, ConditionallySelectable as _};
use zeroize::Zeroizing;

use crate::cert::Certificate;
use crate::crypto::{ContentEncryption, CryptoProvider, KeyTransport, PrivateKeyOps};
use crate::error::{Error, Limit, Result};

/// One of our decryption keys with its certificate.
#[derive(Debug, Clone, Copy)]
pub struct DecryptionKey<'a> {
    /// The certificate partners encrypt to.
    pub certificate: &'a Certificate,
    /// Its private key.
    pub key: &'a dyn PrivateKeyOps,
}

/// A KeyTransRecipientInfo for a certificate, identified by issuer and serial.
pub(crate) fn build_ktri(
    provider: &CryptoProvider,
    cert: &Certificate,
    transport: KeyTransport,
    cek: &[u8],
) -> Result<RecipientInfo> {
    let tbs = cert.x509().tbs_certificate();
    let enc_key = transport.encrypt(&cert.public_key()?, cek, provider.secure_random)?;
    Ok(RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        key_enc_alg: transport.algorithm_identifier()?,
        enc_key: OctetString::new(enc_key)?,
    }))
}

fn rid_matches(rid: &RecipientIdentifier, cert: &Certificate) -> bool {
    match rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => {
            cert.matches_issuer_serial(&ias.issuer, &ias.serial_number)
        }
        RecipientIdentifier::SubjectKeyIdentifier(ski) => cert
            .subject_key_id()
            .is_some_and(|id| id.as_slice() == ski.0.as_bytes()),
    }
}

/// The most recipients an EnvelopedData or AuthEnvelopedData may list; more is
/// [`Error::LimitExceeded`] ([`Limit::CmsRecipients`]).
pub const MAX_RECIPIENTS: usize = 16;

/// The content-encryption key one of our keys yields, and whether it is genuine: false
/// (in constant time) when no recipient unwrapped and `key` is the RFC 3218 substitute.
pub(crate) struct CekCandidate {
    pub key: Zeroizing<Vec<u8>>,
    pub genuine: Choice,
}

/// One content-encryption key per key of ours that may open the message, so that the
/// content is decrypted at most once per key of ours, whatever the number of recipients.
/// A key of ours is tried on the recipients whose identifier matches its certificate, or,
/// when no recipient matches any of our certificates, on every recipient; the first
/// unwrap of the cipher's key length is taken. When none unwraps, the key is a random
/// substitute (RFC 3218) and the candidate is not genuine, so the failure surfaces only as
/// the same [`Error::Decryption`] after the content decryption.
///
/// PKCS#1 v1.5 unwrapping with implicit rejection (`rsa` 0.10) cannot fail: a wrong key
/// yields a pseudo-random message, of the cipher's key length once in about 245 for
/// 2048-bit keys. Such a key counts as genuine (nothing can tell), and the content
/// decryption then fails on the padding or the tag like any wrong key.
///
/// # Errors
/// [`Error::LimitExceeded`] beyond [`MAX_RECIPIENTS`]; [`Error::Decryption`] when there
/// is no key-transport recipient or no key of ours.
pub(crate) fn cek_candidates(
    provider: &CryptoProvider,
    infos: &RecipientInfos,
    keys: &[DecryptionKey<'_>],
    alg: ContentEncryption,
) -> Result<Vec<CekCandidate>> {
    if infos.0.len() > MAX_RECIPIENTS {
        return Err(Error::limit(Limit::CmsRecipients, MAX_RECIPIENTS));
    }
    let ktris: Vec<&KeyTransRecipientInfo> = infos
        .0
        .iter()
        .filter_map(|ri| match ri {
            RecipientInfo::Ktri(k) => Some(k),
            _ => None,
        })
        .collect();
    if ktris.is_empty() || keys.is_empty() {
        return Err(Error::Decryption);
    }
    let any_matches = ktris
        .iter()
        .any(|k| keys.iter().any(|dk| rid_matches(&k.rid, dk.certificate)));
    let candidates: Vec<CekCandidate> = keys
        .iter()
        .filter_map(|dk| {
            let mine: Vec<&KeyTransRecipientInfo> = ktris
                .iter()
                .copied()
                .filter(|k| !any_matches || rid_matches(&k.rid, dk.certificate))
                .collect();
            (!mine.is_empty()).then(|| unwrap_first(provider, &mine, dk, alg.key_len()))
        })
        .collect::<Result<_>>()?;
    Ok(candidates)
}

/// The first content-encryption key of `key_len` bytes that `dk` unwraps from `ktris`,
/// selected without branching on which one it was; the RFC 3218 substitute when none did.
fn unwrap_first(
    provider: &CryptoProvider,
    ktris: &[&KeyTransRecipientInfo],
    dk: &DecryptionKey<'_>,
    key_len: usize,
) -> Result<CekCandidate> {
    let mut key = substitute_key(provider, key_len)?;
    let mut genuine = Choice::from(0);
    for ktri in ktris {
        let unwrapped = KeyTransport::from_algorithm_identifier(&ktri.key_enc_alg).and_then(|t| {
            dk.key
                .decrypt_key(t, ktri.enc_key.as_bytes(), provider.secure_random)
        });
        let (unwrapped, unwrapped_ok) = match unwrapped {
            Ok(cek) if cek.len() == key_len => (cek, Choice::from(1)),
            _ => (Zeroizing::new(vec![0; key_len]), Choice::from(0)),
        };
        let take = unwrapped_ok & !genuine;
        for (k, u) in key.iter_mut().zip(unwrapped.iter()) {
            k.conditional_assign(u, take);
        }
        genuine |= take;
    }
    Ok(CekCandidate { key, genuine })
}

/// The RFC 3218 substitute for a key that did not unwrap: random.
#[cfg(not(test))]
fn substitute_key(provider: &CryptoProvider, len: usize) -> Result<Zeroizing<Vec<u8>>> {
    Ok(Zeroizing::new(provider.random_bytes(len)?))
}

/// The RFC 3218 substitute for a key that did not unwrap: random, or the key a test chose
/// with [`substitute_for_tests::with_substitute`].
#[cfg(test)]
fn substitute_key(provider: &CryptoProvider, len: usize) -> Result<Zeroizing<Vec<u8>>> {
    match substitute_for_tests::chosen().filter(|k| k.len() == len) {
        Some(k) => Ok(Zeroizing::new(k)),
        None => Ok(Zeroizing::new(provider.random_bytes(len)?)),
    }
}

/// Tests choose the substitute key, to prove that even a substitute that decrypts the
/// content (valid padding, valid tag) never makes a decryption succeed.
#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
pub(crate) mod substitute_for_tests {
    use std::cell::RefCell;

    thread_local! {
        static CHOSEN: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    }

    /// Run `f` with `key` as the substitute for every failed unwrap on this thread.
    pub(crate) fn with_substitute<T>(key: &[u8], f: impl FnOnce() -> T) -> T {
        CHOSEN.with(|c| *c.borrow_mut() = Some(key.to_vec()));
        let out = f();
        CHOSEN.with(|c| *c.borrow_mut() = None);
        out
    }

    pub(super) fn chosen() -> Option<Vec<u8>> {
        CHOSEN.with(|c| c.borrow().clone())
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
#[path = "recipient_tests.rs"]
mod tests;
