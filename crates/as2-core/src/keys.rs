//! Private keys: RSA (PKCS#1 and PKCS#8, encrypted too, in PEM or DER, and PKCS#12
//! bundles) and elliptic-curve P-256/P-384 (PKCS#8, encrypted too, and SEC 1
//! `EC PRIVATE KEY`).

use std::sync::Arc;

use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;

use crate::cert::Certificate;
use crate::crypto::{CryptoProvider, EcCurve, EcPrivateKey, PrivateKeyOps, PublicKey, Rng};
use crate::error::{Error, Result};
use crate::pem;

/// Load an RSA private key from PEM (`RSA PRIVATE KEY`, `PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`; other blocks such as certificates are skipped) or DER
/// (PKCS#8, PKCS#1 or encrypted PKCS#8).
///
/// # Errors
/// No key, a wrong password, or an unsupported format (legacy `Proc-Type` encryption).
pub fn load_private_key(data: &[u8], password: Option<&str>) -> Result<rsa::PrivateKey> {
    if pem::is_pem(data) {
        for block in pem::parse_all(data)? {
            match block.label.as_str() {
                "RSA PRIVATE KEY" if block.legacy_encrypted => {
                    return Err(Error::Key(
                        "legacy OpenSSL-encrypted PEM keys are unsupported; convert to PKCS#8"
                            .into(),
                    ));
                }
                "RSA PRIVATE KEY" => {
                    return rsa::PrivateKey::from_pkcs1_der(&block.der)
                        .map_err(|e| Error::Key(format!("PKCS#1 key: {e}")));
                }
                "PRIVATE KEY" => {
                    return rsa::PrivateKey::from_pkcs8_der(&block.der)
                        .map_err(|e| Error::Key(format!("PKCS#8 key: {e}")));
                }
                "ENCRYPTED PRIVATE KEY" => return decrypt_pkcs8(&block.der, password),
                _ => {}
            }
        }
        return Err(Error::Key("no private key in PEM data".into()));
    }
    if let Ok(k) = rsa::PrivateKey::from_pkcs8_der(data) {
        return Ok(k);
    }
    if let Ok(k) = rsa::PrivateKey::from_pkcs1_der(data) {
        return Ok(k);
    }
    decrypt_pkcs8(data, password)
}

fn decrypt_pkcs8(der: &[u8], password: Option<&str>) -> Result<rsa::PrivateKey> {
    let password = password.ok_or_else(|| Error::Key("encrypted key needs a password".into()))?;
    rsa::PrivateKey::from_pkcs8_encrypted_der(der, password)
        .map_err(|e| Error::Key(format!("encrypted PKCS#8 key (wrong password?): {e}")))
}

/// A private key of any kind the codec handles.
// A key is loaded once and kept (a handful per process): the size of the RSA variant costs
// nothing worth a box on every use.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnyPrivateKey {
    /// An RSA key.
    Rsa(rsa::PrivateKey),
    /// A P-256 or P-384 key.
    Ec(EcPrivateKey),
}

impl AnyPrivateKey {
    /// The key behind the codec's seam.
    #[must_use]
    pub fn into_ops(self) -> Arc<dyn PrivateKeyOps> {
        match self {
            Self::Rsa(k) => Arc::new(k),
            Self::Ec(k) => Arc::new(k),
        }
    }

    /// The key behind the codec's seam, borrowed.
    #[must_use]
    pub fn as_ops(&self) -> &dyn PrivateKeyOps {
        match self {
            Self::Rsa(k) => k,
            Self::Ec(k) => k,
        }
    }

    /// The public half.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        self.as_ops().public_key()
    }

    /// Unencrypted PKCS#8 DER.
    ///
    /// # Errors
    /// Encoding failure.
    pub fn to_pkcs8_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        match self {
            Self::Rsa(k) => Ok(zeroize::Zeroizing::new(
                pkcs8::EncodePrivateKey::to_pkcs8_der(k)
                    .map_err(|e| Error::Key(format!("encode key: {e}")))?
                    .as_bytes()
                    .to_vec(),
            )),
            Self::Ec(k) => k.to_pkcs8_der(),
        }
    }

    /// Unencrypted PKCS#8 PEM.
    ///
    /// # Errors
    /// Encoding failure.
    pub fn to_pkcs8_pem(&self) -> Result<zeroize::Zeroizing<String>> {
        match self {
            Self::Rsa(k) => private_key_to_pem(k),
            Self::Ec(k) => {
                let der = k.to_pkcs8_der()?;
                let pem = der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &der)
                    .map_err(|e| Error::Key(format!("encode key: {e}")))?;
                Ok(zeroize::Zeroizing::new(pem))
            }
        }
    }
}

/// Load an RSA or elliptic-curve (P-256, P-384) private key: every form
/// [`load_private_key`] reads, and for elliptic curves PKCS#8 (encrypted too) and SEC 1
/// (`EC PRIVATE KEY`), in PEM or DER.
///
/// # Errors
/// No key, a wrong password, or an unsupported key or format.
pub fn load_any_private_key(data: &[u8], password: Option<&str>) -> Result<AnyPrivateKey> {
    match load_private_key(data, password) {
        Ok(k) => Ok(AnyPrivateKey::Rsa(k)),
        Err(rsa_error) => load_ec_private_key(data, password)
            .map(AnyPrivateKey::Ec)
            .map_err(|ec_error| match ec_error {
                Error::Key(m) if m.starts_with("EC ") => Error::Key(m),
                _ => rsa_error,
            }),
    }
}

/// An elliptic-curve key from PEM or DER.
fn load_ec_private_key(data: &[u8], password: Option<&str>) -> Result<EcPrivateKey> {
    if pem::is_pem(data) {
        for block in pem::parse_all(data)? {
            match block.label.as_str() {
                "EC PRIVATE KEY" if block.legacy_encrypted => {
                    return Err(Error::Key(
                        "EC key: legacy OpenSSL-encrypted PEM keys are unsupported; convert to PKCS#8"
                            .into(),
                    ));
                }
                "EC PRIVATE KEY" => return EcPrivateKey::from_sec1_der(&block.der),
                "PRIVATE KEY" => return EcPrivateKey::from_pkcs8_der(&block.der),
                "ENCRYPTED PRIVATE KEY" => {
                    let password = password
                        .ok_or_else(|| Error::Key("encrypted key needs a password".into()))?;
                    return EcPrivateKey::from_pkcs8_encrypted_der(&block.der, password);
                }
                _ => {}
            }
        }
        return Err(Error::Key("no private key in PEM data".into()));
    }
    if let Ok(k) = EcPrivateKey::from_pkcs8_der(data) {
        return Ok(k);
    }
    if let Ok(k) = EcPrivateKey::from_sec1_der(data) {
        return Ok(k);
    }
    let password = password.ok_or_else(|| Error::Key("no private key".into()))?;
    EcPrivateKey::from_pkcs8_encrypted_der(data, password)
}

/// Generate a new elliptic-curve key on `curve` with `provider`'s randomness.
///
/// # Errors
/// The generator failed.
pub fn generate_ec_key(provider: &CryptoProvider, curve: EcCurve) -> Result<EcPrivateKey> {
    EcPrivateKey::generate(provider, curve)
}

/// Generate a new RSA key (2048 bits or more; 3072 recommended for new keys) with
/// `provider`'s randomness.
///
/// # Errors
/// Fewer than 2048 bits, or a generation failure.
pub fn generate_rsa_key(provider: &CryptoProvider, bits: usize) -> Result<rsa::PrivateKey> {
    if bits < 2048 {
        return Err(Error::Key(format!("{bits}-bit RSA keys are too small")));
    }
    rsa::PrivateKey::new(&mut Rng(provider.secure_random), bits)
        .map_err(|e| Error::Key(format!("generate key: {e}")))
}

/// Encode a private key as unencrypted PKCS#8 PEM.
///
/// # Errors
/// Encoding failure.
pub fn private_key_to_pem(key: &rsa::PrivateKey) -> Result<zeroize::Zeroizing<String>> {
    pkcs8::EncodePrivateKey::to_pkcs8_pem(key, pkcs8::LineEnding::LF)
        .map_err(|e| Error::Key(format!("encode key: {e}")))
}

/// A key with its certificate and the rest of its chain, as read from PKCS#12.
#[derive(Debug, Clone)]
pub struct KeyBundle {
    /// The private key.
    pub key: rsa::PrivateKey,
    /// The key's certificate.
    pub certificate: Certificate,
    /// Further certificates (issuers).
    pub chain: Vec<Certificate>,
}

/// Read the first private key and its certificates from a PKCS#12 file.
///
/// # Errors
/// A wrong password, no key, or a non-RSA key.
pub fn load_pkcs12(data: &[u8], password: &str) -> Result<KeyBundle> {
    let store = KeyStore::from_pkcs12(data, password, Pkcs12ImportPolicy::Strict)
        .map_err(|e| Error::Key(format!("PKCS#12: {e}")))?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| Error::Key("PKCS#12 holds no private key".into()))?;
    let key = rsa::PrivateKey::from_pkcs8_der(chain.key().as_der())
        .map_err(|e| Error::Key(format!("PKCS#12 key: {e}")))?;
    let public = key.to_public_key();
    let mut certs = chain
        .certs()
        .iter()
        .map(|c| Certificate::from_der(c.as_der()))
        .collect::<Result<Vec<_>>>()?;
    let pos = certs
        .iter()
        .position(|c| c.public_key().is_ok_and(|p| p == public))
        .ok_or_else(|| Error::Key("PKCS#12 holds no certificate for its key".into()))?;
    let certificate = certs.remove(pos);
    Ok(KeyBundle {
        key,
        certificate,
        chain: certs,
    })
}

/// The DER SubjectPublicKeyInfo of a key (for comparisons).
///
/// # Errors
/// Encoding failure.
pub fn public_key_der(key: &rsa::PublicKey) -> Result<Vec<u8>> {
    let doc = pkcs8::EncodePublicKey::to_public_key_der(key)
        .map_err(|e| Error::Key(format!("encode public key: {e}")))?;
    Ok(doc.as_bytes().to_vec())
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use super::*;

    #[test]
    fn load_vector_keys() {
        let Some(d) = crate::testutil::vectors() else {
            return;
        };
        let k1 = load_private_key(
            &std::fs::read(d.join("cert_test.pem")).unwrap(),
            Some("test"),
        )
        .unwrap();
        let cert = Certificate::load(&std::fs::read(d.join("cert_test.pem")).unwrap()).unwrap();
        assert_eq!(cert.public_key().unwrap(), k1.to_public_key());
        let bundle = load_pkcs12(&std::fs::read(d.join("cert_test.p12")).unwrap(), "test").unwrap();
        assert_eq!(bundle.key, k1);
        let k2 = load_private_key(
            &std::fs::read(d.join("cert_oldpyas2_private.pem")).unwrap(),
            Some("password"),
        )
        .unwrap();
        assert_ne!(k2, k1);
        assert!(
            load_private_key(
                &std::fs::read(d.join("cert_test.pem")).unwrap(),
                Some("bad")
            )
            .is_err()
        );
    }

    #[test]
    fn pem_round_trip() {
        let key = crate::crypto::test_key();
        let pem = private_key_to_pem(key).unwrap();
        assert_eq!(&load_private_key(pem.as_bytes(), None).unwrap(), key);
    }
}
