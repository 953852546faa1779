//! Recipients: building KeyTransRecipientInfo (RSA) and KeyAgreeRecipientInfo (ECDH,
//! RFC 5753), and choosing which of our keys (current and next, during a certificate
//! change) opens which recipient.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo, KeyTransRecipientInfo,
    OriginatorIdentifierOrKey, OriginatorPublicKey, RecipientEncryptedKey, RecipientIdentifier,
    RecipientInfo, RecipientInfos,
};
use der::asn1::{BitString, OctetString};
use der::{Decode as _, Encode as _};
use spki::AlgorithmIdentifierOwned;
use subtle::{Choice, ConditionallySelectable as _};
use zeroize::Zeroizing;

use crate::cert::Certificate;
use crate::crypto::{
    ContentEncryption, CryptoProvider, EcPublicKey, KeyAgreement, KeyTransport, PrivateKeyOps,
    PublicKey, ecdh, oids,
};
use crate::error::{Error, Limit, Result};

/// One of our decryption keys with its certificate.
#[derive(Debug, Clone, Copy)]
pub struct DecryptionKey<'a> {
    /// The certificate partners encrypt to.
    pub certificate: &'a Certificate,
    /// Its private key.
    pub key: &'a dyn PrivateKeyOps,
}

/// The recipient for a certificate: key transport ([`KeyTransport`]) to an RSA key, key
/// agreement ([`KeyAgreement`]) with an elliptic-curve one.
pub(crate) fn build_recipient(
    provider: &CryptoProvider,
    cert: &Certificate,
    transport: KeyTransport,
    agreement: KeyAgreement,
    cek: &[u8],
) -> Result<RecipientInfo> {
    match cert.subject_public_key()? {
        PublicKey::Rsa(public) => build_ktri_for(provider, cert, &public, transport, cek),
        PublicKey::Ec(public) => build_kari(provider, cert, &public, agreement, cek),
    }
}

/// A KeyAgreeRecipientInfo (RFC 5753 §3.1.1) for an elliptic-curve certificate: a fresh
/// ephemeral key from `provider` (the originatorKey), the X9.63 KDF, and the content key
/// wrapped with the AES key wrap of its length.
fn build_kari(
    provider: &CryptoProvider,
    cert: &Certificate,
    public: &EcPublicKey,
    agreement: KeyAgreement,
    cek: &[u8],
) -> Result<RecipientInfo> {
    let curve = public.curve();
    let kdf = agreement.kdf(curve);
    let wrap_alg = ecdh::wrap_algorithm(cek.len())?;
    let ephemeral = crate::crypto::EcPrivateKey::generate(provider, curve)?;
    let shared = ephemeral.agree(public)?;
    let kek = ecdh::derive_kek(kdf, &shared, &wrap_alg, None)?;
    let enc_key = ecdh::wrap(&kek, cek)?;
    let tbs = cert.x509().tbs_certificate();
    Ok(RecipientInfo::Kari(KeyAgreeRecipientInfo {
        version: CmsVersion::V3,
        originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
            algorithm: AlgorithmIdentifierOwned {
                oid: oids::EC_PUBLIC_KEY,
                parameters: None,
            },
            public_key: BitString::from_bytes(&ephemeral.public_key().to_sec1())?,
        }),
        ukm: None,
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: ecdh::scheme_oid(kdf)?,
            parameters: Some(der::asn1::Any::from_der(&wrap_alg.to_der()?)?),
        },
        recipient_enc_keys: vec![RecipientEncryptedKey {
            rid: KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            enc_key: OctetString::new(enc_key)?,
        }],
    }))
}

/// A KeyTransRecipientInfo for an RSA certificate (tests build recipients by hand).
#[cfg(test)]
pub(crate) fn build_ktri(
    provider: &CryptoProvider,
    cert: &Certificate,
    transport: KeyTransport,
    cek: &[u8],
) -> Result<RecipientInfo> {
    build_recipient(provider, cert, transport, KeyAgreement::default(), cek)
}

/// A KeyTransRecipientInfo for a certificate, identified by issuer and serial.
fn build_ktri_for(
    provider: &CryptoProvider,
    cert: &Certificate,
    public: &rsa::PublicKey,
    transport: KeyTransport,
    cek: &[u8],
) -> Result<RecipientInfo> {
    let tbs = cert.x509().tbs_certificate();
    let enc_key = transport.encrypt(public, cek, provider.secure_random)?;
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

fn kari_rid_matches(rid: &KeyAgreeRecipientIdentifier, cert: &Certificate) -> bool {
    match rid {
        KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => {
            cert.matches_issuer_serial(&ias.issuer, &ias.serial_number)
        }
        KeyAgreeRecipientIdentifier::RKeyId(rkid) => cert
            .subject_key_id()
            .is_some_and(|id| id.as_slice() == rkid.subject_key_identifier.0.as_bytes()),
    }
}

/// One wrapped content key addressed to one recipient: by key transport, or by key
/// agreement (one of a KeyAgreeRecipientInfo's recipientEncryptedKeys).
#[derive(Clone, Copy)]
enum Wrapped<'a> {
    Transport(&'a KeyTransRecipientInfo),
    Agreement(&'a KeyAgreeRecipientInfo, &'a RecipientEncryptedKey),
}

impl Wrapped<'_> {
    fn addressed_to(&self, cert: &Certificate) -> bool {
        match self {
            Self::Transport(k) => rid_matches(&k.rid, cert),
            Self::Agreement(_, rek) => kari_rid_matches(&rek.rid, cert),
        }
    }

    /// The content key `key` unwraps from it; every failure is [`Error::Decryption`].
    fn unwrap_with(
        &self,
        provider: &CryptoProvider,
        key: &dyn PrivateKeyOps,
    ) -> Result<Zeroizing<Vec<u8>>> {
        match self {
            Self::Transport(ktri) => {
                let transport = KeyTransport::from_algorithm_identifier(&ktri.key_enc_alg)?;
                key.decrypt_key(transport, ktri.enc_key.as_bytes(), provider.secure_random)
            }
            Self::Agreement(kari, rek) => {
                let PublicKey::Ec(ours) = key.public_key() else {
                    return Err(Error::Decryption);
                };
                let OriginatorIdentifierOrKey::OriginatorKey(originator) = &kari.originator else {
                    return Err(Error::Decryption);
                };
                let point = originator.public_key.as_bytes().ok_or(Error::Decryption)?;
                let peer =
                    EcPublicKey::from_sec1(ours.curve(), point).map_err(|_| Error::Decryption)?;
                let kdf = ecdh::scheme_kdf(&kari.key_enc_alg.oid)?;
                let wrap_alg = kari
                    .key_enc_alg
                    .parameters
                    .as_ref()
                    .ok_or(Error::Decryption)?
                    .decode_as::<AlgorithmIdentifierOwned>()
                    .map_err(|_| Error::Decryption)?;
                let shared = key.agree(&peer)?;
                let ukm = kari.ukm.as_ref().map(OctetString::as_bytes);
                let kek = ecdh::derive_kek(kdf, &shared, &wrap_alg, ukm)?;
                ecdh::unwrap(&kek, rek.enc_key.as_bytes())
            }
        }
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
    let mut wrapped: Vec<Wrapped<'_>> = Vec::new();
    for ri in infos.0.iter() {
        match ri {
            RecipientInfo::Ktri(k) => wrapped.push(Wrapped::Transport(k)),
            RecipientInfo::Kari(k) => {
                wrapped.extend(
                    k.recipient_enc_keys
                        .iter()
                        .map(|rek| Wrapped::Agreement(k, rek)),
                );
            }
            _ => {}
        }
    }
    if wrapped.len() > MAX_RECIPIENTS {
        return Err(Error::limit(Limit::CmsRecipients, MAX_RECIPIENTS));
    }
    if wrapped.is_empty() || keys.is_empty() {
        return Err(Error::Decryption);
    }
    let any_matches = wrapped
        .iter()
        .any(|w| keys.iter().any(|dk| w.addressed_to(dk.certificate)));
    let candidates: Vec<CekCandidate> = keys
        .iter()
        .filter_map(|dk| {
            let mine: Vec<Wrapped<'_>> = wrapped
                .iter()
                .copied()
                .filter(|w| !any_matches || w.addressed_to(dk.certificate))
                .collect();
            (!mine.is_empty()).then(|| unwrap_first(provider, &mine, dk, alg.key_len()))
        })
        .collect::<Result<_>>()?;
    Ok(candidates)
}

/// The first content-encryption key of `key_len` bytes that `dk` unwraps from `wrapped`,
/// selected without branching on which one it was; the RFC 3218 substitute when none did.
fn unwrap_first(
    provider: &CryptoProvider,
    wrapped: &[Wrapped<'_>],
    dk: &DecryptionKey<'_>,
    key_len: usize,
) -> Result<CekCandidate> {
    let mut key = substitute_key(provider, key_len)?;
    let mut genuine = Choice::from(0);
    for w in wrapped {
        let unwrapped = w.unwrap_with(provider, dk.key);
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
