//! Detached SignedData: signing (contentType, messageDigest and signingTime signed
//! attributes, signer certificate included) and verification against trusted certificates.

use std::time::SystemTime;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode as _, Encode as _};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

use super::{decode_content, parse_content_info};
use crate::cert::Certificate;
use crate::crypto::{
    CryptoProvider, DigestAlgorithm, PrivateKeyOps, SigAlg, SignatureParams, SignatureScheme, oids,
    parse_signature_algorithm,
};
use crate::error::{Error, IntegrityError, Limit, Result};

/// The most signers a SignedData may have; more is [`Error::LimitExceeded`]
/// ([`Limit::CmsSigners`]).
pub const MAX_SIGNERS: usize = 8;

/// How to sign: [`SignOptions::new`] with the signing time, then the `with_*` setters.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use as2_core::cms::SignOptions;
/// use as2_core::crypto::{DigestAlgorithm, SignatureScheme};
///
/// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
/// let options = SignOptions::new(at)
///     .with_digest(DigestAlgorithm::Sha384)
///     .with_scheme(SignatureScheme::Pss);
/// assert_eq!(options.signing_time, Some(at));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignOptions {
    /// The digest (also the MIC algorithm of a signed AS2 message).
    pub digest: DigestAlgorithm,
    /// PKCS#1 v1.5 or PSS for an RSA key (an elliptic-curve key signs with ECDSA
    /// whatever this says).
    pub scheme: SignatureScheme,
    /// Include signed attributes (some partners accept only signatures without any).
    pub signed_attributes: bool,
    /// The signingTime attribute (with signed attributes), or none: the codec reads no
    /// clock, so the caller says what time it is.
    pub signing_time: Option<SystemTime>,
    /// Further certificates to include (the signer's chain).
    pub extra_certificates: Vec<Certificate>,
}

impl SignOptions {
    /// SHA-256, PKCS#1 v1.5, signed attributes with `signing_time` as the signingTime.
    #[must_use]
    pub fn new(signing_time: SystemTime) -> Self {
        Self {
            digest: DigestAlgorithm::Sha256,
            scheme: SignatureScheme::Pkcs1v15,
            signed_attributes: true,
            signing_time: Some(signing_time),
            extra_certificates: Vec::new(),
        }
    }

    /// SHA-256, PKCS#1 v1.5, signed attributes without a signingTime.
    #[must_use]
    pub fn without_signing_time() -> Self {
        Self {
            digest: DigestAlgorithm::Sha256,
            scheme: SignatureScheme::Pkcs1v15,
            signed_attributes: true,
            signing_time: None,
            extra_certificates: Vec::new(),
        }
    }

    /// With `digest`.
    #[must_use]
    pub fn with_digest(mut self, digest: DigestAlgorithm) -> Self {
        self.digest = digest;
        self
    }

    /// With `scheme`.
    #[must_use]
    pub fn with_scheme(mut self, scheme: SignatureScheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// With or without signed attributes.
    #[must_use]
    pub fn with_signed_attributes(mut self, signed_attributes: bool) -> Self {
        self.signed_attributes = signed_attributes;
        self
    }

    /// With `signing_time` as the signingTime attribute, or none.
    #[must_use]
    pub fn with_signing_time(mut self, signing_time: Option<SystemTime>) -> Self {
        self.signing_time = signing_time;
        self
    }

    /// With `certificates` included beside the signer's (its chain).
    #[must_use]
    pub fn with_extra_certificates(mut self, certificates: Vec<Certificate>) -> Self {
        self.extra_certificates = certificates;
        self
    }
}

fn attribute(oid: der::asn1::ObjectIdentifier, value: &impl der::Encode) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(Any::from_der(&value.to_der()?)?)?;
    Ok(Attribute { oid, values })
}

fn digest_ai(d: DigestAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: d.oid(),
        parameters: None,
    }
}

/// Sign `content` (the exact bytes of the MIME entity); returns a DER ContentInfo with a
/// detached SignedData. The RSA operation takes its randomness from `provider`.
///
/// # Errors
/// MD5, a key/certificate mismatch in the RSA operation, or an encoding failure.
pub fn sign_detached(
    provider: &CryptoProvider,
    content: &[u8],
    signer: &Certificate,
    key: &dyn PrivateKeyOps,
    opts: &SignOptions,
) -> Result<Vec<u8>> {
    Ok(sign(provider, content, signer, key, opts)?.0)
}

/// [`sign_detached`], also returning the digest of `content` with `opts.digest` (the MIC
/// of a signed AS2 message, RFC 4130 §7.3.1): with signed attributes it is the
/// messageDigest the signature covers, so the content is hashed once.
///
/// # Errors
/// As [`sign_detached`].
pub fn sign_detached_with_digest(
    provider: &CryptoProvider,
    content: &[u8],
    signer: &Certificate,
    key: &dyn PrivateKeyOps,
    opts: &SignOptions,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let (signature, digest) = sign(provider, content, signer, key, opts)?;
    let digest = digest.unwrap_or_else(|| opts.digest.digest(content));
    Ok((signature, digest))
}

/// The signature, and the content digest when it was computed (signed attributes).
fn sign(
    provider: &CryptoProvider,
    content: &[u8],
    signer: &Certificate,
    key: &dyn PrivateKeyOps,
    opts: &SignOptions,
) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
    if opts.signed_attributes {
        let content_digest = opts.digest.digest(content);
        let der = sign_content_digest(provider, &content_digest, signer, key, opts)?;
        Ok((der, Some(content_digest)))
    } else {
        let scheme = key.public_key().signature_scheme(opts.scheme);
        let signature = key.sign(scheme, opts.digest, content, provider.secure_random)?;
        Ok((assemble(signer, opts, scheme, None, signature)?, None))
    }
}

/// The signed attributes: contentType, signingTime (when set) and messageDigest.
fn signed_attributes(opts: &SignOptions, content_digest: &[u8]) -> Result<SetOfVec<Attribute>> {
    let mut attrs = SetOfVec::new();
    attrs.insert(attribute(oids::ATTR_CONTENT_TYPE, &oids::DATA)?)?;
    if let Some(at) = opts.signing_time {
        let at = x509_cert::time::Time::try_from(at)?;
        attrs.insert(attribute(oids::ATTR_SIGNING_TIME, &at)?)?;
    }
    let md = OctetString::new(content_digest)?;
    attrs.insert(attribute(oids::ATTR_MESSAGE_DIGEST, &md)?)?;
    Ok(attrs)
}

/// A detached SignedData (DER ContentInfo) over content whose `opts.digest` digest is
/// `content_digest`: the streaming signer hashes the content as it passes and signs at the
/// end. Needs signed attributes (without them the key signs the content itself).
///
/// # Errors
/// `opts` without signed attributes, or as [`sign_detached`].
pub(crate) fn sign_content_digest(
    provider: &CryptoProvider,
    content_digest: &[u8],
    signer: &Certificate,
    key: &dyn PrivateKeyOps,
    opts: &SignOptions,
) -> Result<Vec<u8>> {
    if !opts.signed_attributes {
        return Err(Error::Crypto(
            "a signature over a digest needs signed attributes".into(),
        ));
    }
    let attrs = signed_attributes(opts, content_digest)?;
    let scheme = key.public_key().signature_scheme(opts.scheme);
    let signature = key.sign(
        scheme,
        opts.digest,
        &attrs.to_der()?,
        provider.secure_random,
    )?;
    assemble(signer, opts, scheme, Some(attrs), signature)
}

/// The length of the DER ContentInfo that signing with `key` and `opts` gives, whatever the
/// content: an RSA signature is as long as the modulus, an ECDSA one of ours always the
/// longest DER encoding, and the signed attributes have fixed lengths (a digest, the same
/// signingTime).
///
/// # Errors
/// An encoding failure.
pub(crate) fn signed_data_len(
    signer: &Certificate,
    key: &dyn PrivateKeyOps,
    opts: &SignOptions,
) -> Result<usize> {
    let attrs = if opts.signed_attributes {
        Some(signed_attributes(opts, &vec![0; opts.digest.output_len()])?)
    } else {
        None
    };
    let public = key.public_key();
    let signature = vec![0; public.max_signature_len()];
    let scheme = public.signature_scheme(opts.scheme);
    Ok(assemble(signer, opts, scheme, attrs, signature)?.len())
}

/// The DER ContentInfo of a detached SignedData with one signer.
fn assemble(
    signer: &Certificate,
    opts: &SignOptions,
    scheme: SignatureScheme,
    signed_attrs: Option<SetOfVec<Attribute>>,
    signature: Vec<u8>,
) -> Result<Vec<u8>> {
    let digest = opts.digest;
    let tbs = signer.x509().tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: digest_ai(digest),
        signed_attrs,
        signature_algorithm: scheme.algorithm_identifier(digest)?,
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut certs = vec![CertificateChoices::Certificate(signer.x509().clone())];
    certs.extend(
        opts.extra_certificates
            .iter()
            .map(|c| CertificateChoices::Certificate(c.x509().clone())),
    );
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(digest_ai(digest))?;
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oids::DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    let ci = ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::from_der(&sd.to_der()?)?,
    };
    Ok(ci.to_der()?)
}

/// The certificates embedded in a SignedData (for display, or to pin a partner's new
/// certificate after an out-of-band check; never trusted implicitly).
///
/// # Errors
/// Not a SignedData.
pub fn embedded_certificates(signature: &[u8]) -> Result<Vec<Certificate>> {
    let ci = parse_content_info(signature)?;
    if ci.content_type != oids::SIGNED_DATA {
        return Err(Error::UnsupportedFormat(format!(
            "signature content type {}",
            ci.content_type
        )));
    }
    let sd: SignedData = decode_content(&ci)?;
    sd.certificates
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(x) => Some(Certificate::from_x509(x.clone())),
                    CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_else(|| Ok(Vec::new()))
}

/// A verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The digest algorithm of the signature (the MIC algorithm to report).
    pub digest: DigestAlgorithm,
    /// Which trusted certificate verified it.
    pub signer: Certificate,
    /// Which of the content candidates verified (0 = the first).
    pub content_index: usize,
    /// The signingTime attribute, when present.
    pub signing_time: Option<SystemTime>,
    /// The digest (with `digest`) of the content candidate that verified: the signed
    /// messageDigest attribute, so the MIC of a signed message need not hash it again.
    /// `None` for a signature without signed attributes.
    pub content_digest: Option<Vec<u8>>,
}

fn sid_matches(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            cert.matches_issuer_serial(&ias.issuer, &ias.serial_number)
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .subject_key_id()
            .is_some_and(|id| id.as_slice() == ski.0.as_bytes()),
    }
}

fn find_attr(attrs: &SetOfVec<Attribute>, oid: der::asn1::ObjectIdentifier) -> Option<&Any> {
    attrs
        .iter()
        .find(|a| a.oid == oid)
        .and_then(|a| a.values.iter().next())
}

/// Where the digests of the content candidates come from.
enum Candidates<'a> {
    /// The candidates' bytes: each digest computed once, when first needed.
    Contents(&'a [&'a [u8]]),
    /// Digests computed as the content streamed by: per algorithm, one per candidate.
    Digests(&'a [(DigestAlgorithm, Vec<Vec<u8>>)]),
}

/// The digests of the content candidates, each computed once (when first needed) however
/// many signers and certificates are tried.
struct ContentDigests<'a> {
    source: Candidates<'a>,
    /// Per algorithm, the digest of each candidate computed so far.
    computed: Vec<(DigestAlgorithm, Vec<Option<Vec<u8>>>)>,
}

impl<'a> ContentDigests<'a> {
    fn new(source: Candidates<'a>) -> Self {
        Self {
            source,
            computed: Vec::new(),
        }
    }

    /// How many candidates there are.
    fn len(&self) -> usize {
        match &self.source {
            Candidates::Contents(c) => c.len(),
            Candidates::Digests(d) => d.first().map_or(0, |(_, v)| v.len()),
        }
    }

    /// The digest of candidate `index` with `digest`; `None` when it was not computed as
    /// the content streamed by.
    fn get(&mut self, digest: DigestAlgorithm, index: usize) -> Option<&[u8]> {
        let contents = match &self.source {
            Candidates::Contents(c) => *c,
            Candidates::Digests(d) => {
                return d
                    .iter()
                    .find(|(a, _)| *a == digest)
                    .and_then(|(_, v)| v.get(index))
                    .map(Vec::as_slice);
            }
        };
        let at = match self.computed.iter().position(|(d, _)| *d == digest) {
            Some(at) => at,
            None => {
                self.computed.push((digest, vec![None; contents.len()]));
                self.computed.len() - 1
            }
        };
        let content = contents[index];
        Some(self.computed[at].1[index].get_or_insert_with(|| digest.digest(content)))
    }

    /// The first candidate whose digest is `value`.
    fn position(&mut self, digest: DigestAlgorithm, value: &[u8]) -> Option<usize> {
        (0..self.len()).find(|&i| self.get(digest, i) == Some(value))
    }
}

/// Verify a detached signature over one of `contents` (try the raw bytes first, then
/// canonical forms), with a signer among `trusted`. A signer identified by neither
/// issuer/serial nor key id is tried against every trusted certificate. Each content
/// candidate is hashed at most once per digest algorithm.
///
/// # Errors
/// [`Error::UnknownSigner`] (no trusted certificate), [`Error::Integrity`] (the content
/// digest matches no candidate), [`Error::Signature`] (the signature value is wrong),
/// [`Error::LimitExceeded`] (more than [`MAX_SIGNERS`] signers).
pub fn verify_detached(
    provider: &CryptoProvider,
    signature: &[u8],
    contents: &[&[u8]],
    trusted: &[Certificate],
) -> Result<VerifiedSignature> {
    verify_with(provider, signature, Candidates::Contents(contents), trusted)
}

/// [`verify_detached`] with the candidates' digests computed as the content streamed by
/// (per algorithm, one per candidate): a signer whose digest algorithm is not among them
/// fails as a content digest mismatch.
pub(crate) fn verify_detached_digests(
    provider: &CryptoProvider,
    signature: &[u8],
    digests: &[(DigestAlgorithm, Vec<Vec<u8>>)],
    trusted: &[Certificate],
) -> Result<VerifiedSignature> {
    verify_with(provider, signature, Candidates::Digests(digests), trusted)
}

fn verify_with(
    provider: &CryptoProvider,
    signature: &[u8],
    candidates: Candidates<'_>,
    trusted: &[Certificate],
) -> Result<VerifiedSignature> {
    let ci = parse_content_info(signature)?;
    if ci.content_type != oids::SIGNED_DATA {
        return Err(Error::UnsupportedFormat(format!(
            "signature content type {}",
            ci.content_type
        )));
    }
    let sd: SignedData = decode_content(&ci)?;
    if sd.signer_infos.0.len() > MAX_SIGNERS {
        return Err(Error::limit(Limit::CmsSigners, MAX_SIGNERS));
    }
    let mut digests = ContentDigests::new(candidates);
    let mut last_err = Error::UnknownSigner;
    for si in sd.signer_infos.0.iter() {
        let digest = DigestAlgorithm::from_oid(&si.digest_alg.oid)?;
        let alg = parse_signature_algorithm(&si.signature_algorithm)?;
        let mut certs: Vec<&Certificate> =
            trusted.iter().filter(|c| sid_matches(&si.sid, c)).collect();
        if certs.is_empty() {
            certs = trusted.iter().collect();
        }
        for cert in certs {
            let Ok(public) = cert.subject_public_key_der() else {
                continue;
            };
            let key = Key {
                provider,
                spki_der: &public,
            };
            match verify_one(si, digest, alg, key, &mut digests) {
                Ok((content_index, signing_time, content_digest)) => {
                    return Ok(VerifiedSignature {
                        digest,
                        signer: cert.clone(),
                        content_index,
                        signing_time,
                        content_digest,
                    });
                }
                Err(e) => last_err = e,
            }
        }
    }
    Err(last_err)
}

fn verify_one(
    si: &SignerInfo,
    digest: DigestAlgorithm,
    alg: SigAlg,
    key: Key<'_>,
    digests: &mut ContentDigests<'_>,
) -> Result<(usize, Option<SystemTime>, Option<Vec<u8>>)> {
    let sig = si.signature.as_bytes();
    let Some(attrs) = &si.signed_attrs else {
        let message_digest = alg.message_digest(digest);
        for i in 0..digests.len() {
            let Some(hashed) = digests.get(message_digest, i) else {
                continue;
            };
            if key.verify(alg, digest, hashed, sig).is_ok() {
                return Ok((i, None, None));
            }
        }
        return Err(Error::Signature(
            "signature does not verify over the content".into(),
        ));
    };
    let md = find_attr(attrs, oids::ATTR_MESSAGE_DIGEST)
        .ok_or_else(|| Error::Signature("no messageDigest attribute".into()))?;
    let md = OctetString::from_der(&md.to_der()?)?;
    let index = digests
        .position(digest, md.as_bytes())
        .ok_or(Error::Integrity(IntegrityError::ContentDigestMismatch))?;
    let hashed = alg.message_digest(digest).digest(&attrs.to_der()?);
    key.verify(alg, digest, &hashed, sig)?;
    let signing_time = find_attr(attrs, oids::ATTR_SIGNING_TIME)
        .and_then(|a| a.to_der().ok())
        .and_then(|d| x509_cert::time::Time::from_der(&d).ok())
        .map(|t| t.to_system_time());
    Ok((index, signing_time, Some(md.into_bytes().into_vec())))
}

/// A trusted certificate's public key and the provider that checks signatures with it.
#[derive(Clone, Copy)]
struct Key<'a> {
    provider: &'a CryptoProvider,
    spki_der: &'a [u8],
}

impl Key<'_> {
    /// Verify a signature over `hashed` (the digest [`SigAlg::message_digest`] gives); a
    /// scheme that does not fit the key does not verify.
    fn verify(
        self,
        alg: SigAlg,
        digest: DigestAlgorithm,
        hashed: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        self.provider.signature_verifier.verify_prehashed(
            self.spki_der,
            SignatureParams::from_signer(alg, digest),
            hashed,
            signature,
        )
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
#[path = "signed_tests.rs"]
mod tests;
