//! Reading a listener's certificate chain (PEM, leaf first) and private key (PEM: PKCS#8,
//! PKCS#1 or SEC1) into what rustls serves, checking that the key is the certificate's.

use std::path::Path;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::TlsError;

/// The chain in `cert_path` with the key in `key_path`.
///
/// # Errors
/// A file cannot be read, holds no certificate or no key, or the key is not the leaf
/// certificate's. The key's bytes are never part of an error.
pub fn load_certified_key(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let cert_pem = read(cert_path)?;
    let key_pem = read(key_path)?;
    certified_key(cert_path, &cert_pem, key_path, &key_pem)
}

pub(super) fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The chain in `cert_pem` with the key in `key_pem` (the paths name them in errors).
pub(super) fn certified_key(
    cert_path: &Path,
    cert_pem: &[u8],
    key_path: &Path,
    key_pem: &[u8],
) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: cert_path.to_owned(),
            reason: format!("not a PEM certificate chain ({e})"),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Pem {
            path: cert_path.to_owned(),
            reason: "holds no CERTIFICATE block".into(),
        });
    }
    // the error of a key never prints the key: only what kind of failure it was
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem {
        path: key_path.to_owned(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => "holds no PRIVATE KEY block".into(),
            _ => "not a PEM private key".into(),
        },
    })?;
    Ok(CertifiedKey::from_der(
        chain,
        key,
        &super::crypto_provider(),
    )?)
}
