//! Loading keys and certificates from files: PEM/DER PKCS#1 or PKCS#8 (encrypted too),
//! PKCS#12, and certificates in PEM or DER.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use as2_core::cert::{self, Certificate};
use as2_core::keys;

/// A private key and the certificate that goes with it.
#[derive(Debug)]
pub struct OwnKey {
    /// The key.
    pub key: rsa::PrivateKey,
    /// Its certificate, from the key file (PKCS#12, or a PEM holding both), from
    /// `--our-cert`, or else a stand-in made from the key (see [`load_key`]).
    pub certificate: Certificate,
    /// Whether `certificate` is a stand-in, not a real certificate.
    pub stand_in: bool,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn matching_cert(certs: Vec<Certificate>, key: &rsa::PrivateKey) -> Option<Certificate> {
    let public = key.to_public_key();
    certs
        .into_iter()
        .find(|c| c.public_key().is_ok_and(|p| p == public))
}

/// Load our private key. Without a certificate for it (a bare PEM key and no
/// `our_cert`), a self-signed stand-in is made: decryption then tries the key on every
/// recipient (no issuer/serial match), and signing is refused by the caller.
///
/// # Errors
/// Unreadable file, no key, wrong password, or a certificate that does not match.
pub fn load_key(path: &Path, password: Option<&str>, our_cert: Option<&Path>) -> Result<OwnKey> {
    let data = read(path)?;
    let (key, mut certificate) = match keys::load_private_key(&data, password) {
        Ok(key) => {
            let certs = Certificate::load_all(&data).unwrap_or_default();
            let c = matching_cert(certs, &key);
            (key, c)
        }
        Err(pem_err) => {
            if as2_core::pem::is_pem(&data) {
                return Err(anyhow!(pem_err)).context(format!("loading {}", path.display()));
            }
            let bundle = keys::load_pkcs12(&data, password.unwrap_or(""))
                .map_err(|p12_err| {
                    anyhow!("not a PKCS#1/PKCS#8 key ({pem_err}) nor PKCS#12 ({p12_err})")
                })
                .with_context(|| format!("loading {}", path.display()))?;
            (bundle.key, Some(bundle.certificate))
        }
    };
    if let Some(p) = our_cert {
        let certs = Certificate::load_all(&read(p)?)
            .with_context(|| format!("loading certificate {}", p.display()))?;
        certificate = Some(
            matching_cert(certs, &key)
                .ok_or_else(|| anyhow!("{} is not the certificate of the key", p.display()))?,
        );
    }
    match certificate {
        Some(certificate) => Ok(OwnKey {
            key,
            certificate,
            stand_in: false,
        }),
        None => {
            let certificate = cert::generate_self_signed(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                &key,
                "CN=as2-cli stand-in",
                std::time::SystemTime::now(),
                Duration::from_secs(86_400),
            )
            .context("making a stand-in certificate for the key")?;
            Ok(OwnKey {
                key,
                certificate,
                stand_in: true,
            })
        }
    }
}

/// Load every certificate of one or more files (PEM with several blocks, or DER).
///
/// # Errors
/// Unreadable file or no certificate.
pub fn load_certs(paths: &[std::path::PathBuf]) -> Result<Vec<Certificate>> {
    let mut out = Vec::new();
    for p in paths {
        let certs = Certificate::load_all(&read(p)?)
            .with_context(|| format!("loading certificate {}", p.display()))?;
        if certs.is_empty() {
            bail!("no certificate in {}", p.display());
        }
        out.extend(certs);
    }
    Ok(out)
}

/// A certificate as JSON: subject, issuer, serial, SHA-256 fingerprint.
pub fn cert_json(c: &Certificate) -> serde_json::Value {
    serde_json::json!({
        "subject": c.subject(),
        "issuer": c.issuer(),
        "serial": c.serial_hex(),
        "sha256": c.fingerprint_sha256_hex(),
    })
}
