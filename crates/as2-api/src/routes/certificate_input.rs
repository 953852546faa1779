//! Reading uploaded certificates and key pairs (PEM certificate, chain or key with its
//! certificate; DER; PKCS#12) into what the store keeps: metadata, DER, chain, PKCS#8 key.
//! Anything unreadable is a 400 `certificate_error` with a sentence saying what was wrong.

use as2_core::cert::Certificate;
use as2_core::keys;
use as2_domain::certificate::CertificateInfo;

use crate::error::ApiError;

/// An upload read and checked, ready for `NewCertificate`.
pub struct ParsedCertificate {
    /// What the certificate says.
    pub info: CertificateInfo,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The rest of the chain, concatenated DER.
    pub chain_der: Option<Vec<u8>>,
    /// The private key, PKCS#8 DER (key pairs only).
    pub private_key_der: Option<pkcs8::SecretDocument>,
}

impl std::fmt::Debug for ParsedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedCertificate")
            .field("info", &self.info)
            .field("key_pair", &self.private_key_der.is_some())
            .finish_non_exhaustive()
    }
}

fn unreadable(code: &'static str, sentence: impl Into<String>) -> ApiError {
    ApiError::certificate(code, sentence)
}

pub use as2_trust::certificate::{info, key_usage};

/// A certificate with its chain and optional key (RSA, or elliptic-curve P-256/P-384).
pub fn assemble(
    leaf: &Certificate,
    chain: &[Certificate],
    key: Option<&keys::AnyPrivateKey>,
) -> Result<ParsedCertificate, ApiError> {
    let private_key_der = key
        .map(|k| {
            k.to_pkcs8_der()
                .ok()
                .and_then(|der| pkcs8::SecretDocument::try_from(der.as_slice()).ok())
                .ok_or_else(|| {
                    unreadable(
                        "invalid_private_key",
                        "The private key could not be encoded as PKCS#8",
                    )
                })
        })
        .transpose()?;
    let chain_der =
        (!chain.is_empty()).then(|| chain.iter().flat_map(|c| c.der().iter().copied()).collect());
    Ok(ParsedCertificate {
        info: info(leaf),
        der: leaf.der().to_vec(),
        chain_der,
        private_key_der,
    })
}

/// PEM text: certificates (the first is the leaf), optionally with the leaf's private key.
pub fn from_pem(data: &[u8], password: Option<&str>) -> Result<ParsedCertificate, ApiError> {
    let blocks = as2_core::pem::parse_all(data).map_err(|_| {
        unreadable(
            "invalid_pem",
            "The PEM text could not be read; expected -----BEGIN CERTIFICATE----- blocks",
        )
    })?;
    let mut certs = Certificate::load_all(data).map_err(|_| {
        unreadable(
            "invalid_certificate",
            "A CERTIFICATE block of the PEM text is not a valid X.509 certificate",
        )
    })?;
    if certs.is_empty() {
        return Err(unreadable(
            "no_certificate",
            "The PEM text holds no certificate; a private key must come with its certificate",
        ));
    }
    if !blocks.iter().any(|b| b.label.ends_with("PRIVATE KEY")) {
        let leaf = certs.remove(0);
        return assemble(&leaf, &certs, None);
    }
    let key = keys::load_any_private_key(data, password).map_err(|e| {
        unreadable(
            "invalid_private_key",
            format!("The private key could not be read: {e}"),
        )
    })?;
    let public = key.public_key();
    let position = certs
        .iter()
        .position(|c| c.subject_public_key().is_ok_and(|p| p == public))
        .ok_or_else(|| {
            unreadable(
                "key_certificate_mismatch",
                "The private key does not belong to any certificate in the PEM text",
            )
        })?;
    let leaf = certs.remove(position);
    assemble(&leaf, &certs, Some(&key))
}

/// A DER-encoded certificate.
pub fn from_der(data: &[u8]) -> Result<ParsedCertificate, ApiError> {
    let cert = Certificate::from_der(data).map_err(|_| {
        unreadable(
            "invalid_certificate",
            "The DER data is not a valid X.509 certificate",
        )
    })?;
    assemble(&cert, &[], None)
}

/// A PKCS#12 bundle: key, certificate and chain.
pub fn from_pkcs12(data: &[u8], password: &str) -> Result<ParsedCertificate, ApiError> {
    let bundle = keys::load_pkcs12(data, password).map_err(|e| {
        unreadable(
            "invalid_pkcs12",
            format!("The PKCS#12 file could not be opened (wrong password or damaged file): {e}"),
        )
    })?;
    assemble(
        &bundle.certificate,
        &bundle.chain,
        Some(&keys::AnyPrivateKey::Rsa(bundle.key)),
    )
}

/// An uploaded file of any supported format: PEM, else DER, else PKCS#12.
pub fn from_file(data: &[u8], password: Option<&str>) -> Result<ParsedCertificate, ApiError> {
    if as2_core::pem::is_pem(data) {
        return from_pem(data, password);
    }
    if let Ok(parsed) = from_der(data) {
        return Ok(parsed);
    }
    match password {
        Some(password) => from_pkcs12(data, password),
        None => Err(unreadable(
            "unrecognised_certificate",
            "The file is neither a PEM nor a DER certificate; a PKCS#12 file also needs the password field",
        )),
    }
}

/// Splits concatenated DER certificates (a stored chain) into the single encodings.
pub fn split_der(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while data.len() >= 2 && data[0] == 0x30 {
        let (header, length) = match data[1] {
            n if n < 0x80 => (2, usize::from(n)),
            n => {
                let count = usize::from(n & 0x7f);
                if count == 0 || count > 4 || data.len() < 2 + count {
                    break;
                }
                let length = data[2..2 + count]
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                (2 + count, length)
            }
        };
        let Some(end) = header.checked_add(length).filter(|e| *e <= data.len()) else {
            break;
        };
        out.push(&data[..end]);
        data = &data[end..];
    }
    out
}
