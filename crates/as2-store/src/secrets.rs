//! Secrets at rest: AES-256-GCM under a master key from configuration, with a key id so the
//! master key can be rotated (old keys stay configured for reading until re-encrypted).
//!
//! Stored form: `v1.<key id>.<base64 nonce>.<base64 ciphertext+tag>`. The key id is the first
//! 8 hex digits of SHA-256 of the key, so it is stable without being configured. The
//! purpose (`partner.auth_password`, ...) is the associated data: a ciphertext moved to
//! another column does not decrypt.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngExt;
use sha2::{Digest, Sha256};

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The master key configuration is not 32 bytes of base64 or hex.
    #[error("the master key must be 32 bytes, given as 64 hex digits or base64 (AS2_MASTER_KEY)")]
    BadMasterKey,
    /// The value was sealed under a key that is not configured.
    #[error(
        "this secret was encrypted under master key {0}, which is not configured (AS2_MASTER_KEY)"
    )]
    UnknownKey(String),
    /// The ciphertext does not authenticate: wrong master key, tampering, or another column's value.
    #[error(
        "this secret does not decrypt under master key {0}: the key is wrong or the value was altered"
    )]
    Tampered(String),
    /// The stored text is not of the `v1.` form.
    #[error("this secret is not in the expected stored form")]
    Malformed,
}

/// A 256-bit master key and its id.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: Aes256Gcm,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        Self {
            id,
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }

    /// A key from its configured text: 64 hex digits or base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            STANDARD.decode(text).ok()
        };
        let bytes: [u8; 32] = bytes
            .and_then(|b| b.try_into().ok())
            .ok_or(SecretError::BadMasterKey)?;
        Ok(Self::from_bytes(&bytes))
    }

    /// A fresh random key, as hex text (what is written on first start).
    pub fn generate_hex() -> String {
        let bytes: [u8; 32] = rand::rng().random();
        hex::encode(bytes)
    }

    /// The key id written into every value it seals.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Seals with the current key, opens with any configured key.
#[derive(Debug, Clone)]
pub struct SecretBox {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl SecretBox {
    /// One key for everything.
    pub fn new(current: MasterKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// From configuration: comma-separated keys, the first one current, the rest for reading.
    pub fn parse(config: &str) -> Result<Self, SecretError> {
        let mut keys = config
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(MasterKey::parse);
        let current = keys.next().ok_or(SecretError::BadMasterKey)??;
        Ok(Self {
            current,
            previous: keys.collect::<Result<_, _>>()?,
        })
    }

    /// Adds keys for reading only (`AS2_PREVIOUS_MASTER_KEYS`: comma-separated, during and
    /// after a rotation until every value is re-sealed); a key already present is skipped.
    ///
    /// # Errors
    /// One of the keys is malformed.
    pub fn with_previous(mut self, config: &str) -> Result<Self, SecretError> {
        for text in config.split(',').filter(|k| !k.trim().is_empty()) {
            let key = MasterKey::parse(text)?;
            if key.id != self.current.id && self.previous.iter().all(|k| k.id != key.id) {
                self.previous.push(key);
            }
        }
        Ok(self)
    }

    /// The ids of the keys kept for reading only.
    pub fn previous_key_ids(&self) -> Vec<&str> {
        self.previous.iter().map(MasterKey::id).collect()
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        self.current.id()
    }

    /// Encrypts `plaintext` for the column `purpose`.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let nonce: [u8; 12] = rand::rng().random();
        let Ok(ciphertext) = self.current.cipher.encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: purpose.as_bytes(),
            },
        ) else {
            unreachable!("AES-GCM encryption of an in-memory buffer cannot fail below 64 GiB")
        };
        format!(
            "v1.{}.{}.{}",
            self.current.id,
            STANDARD.encode(nonce),
            STANDARD.encode(ciphertext)
        )
    }

    /// Decrypts a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, stored: &str) -> Result<Vec<u8>, SecretError> {
        let mut parts = stored.split('.');
        let (Some("v1"), Some(key_id), Some(nonce), Some(ciphertext), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(SecretError::Malformed);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or_else(|| SecretError::UnknownKey(key_id.chars().take(16).collect()))?;
        let nonce = STANDARD.decode(nonce).map_err(|_| SecretError::Malformed)?;
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| SecretError::Malformed)?;
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SecretError::Malformed)?;
        key.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Tampered(key.id.clone()))
    }

    /// Re-seals a value under the current key (master key rotation); `None` when it already is.
    pub fn reseal(&self, purpose: &str, stored: &str) -> Result<Option<String>, SecretError> {
        if stored.split('.').nth(1) == Some(self.current.id()) {
            return Ok(None);
        }
        let plaintext = self.open(purpose, stored)?;
        Ok(Some(self.seal(purpose, &plaintext)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; 32])
    }

    #[test]
    fn round_trip_hides_the_plaintext() {
        let secrets = SecretBox::new(key(1));
        let sealed = secrets.seal("partner.auth_password", b"hunter2-very-secret");
        assert!(!sealed.contains("hunter2"));
        assert!(sealed.starts_with(&format!("v1.{}.", secrets.current_key_id())));
        assert_eq!(
            secrets.open("partner.auth_password", &sealed).unwrap(),
            b"hunter2-very-secret"
        );
        assert_ne!(
            sealed,
            secrets.seal("partner.auth_password", b"hunter2-very-secret")
        );
    }

    #[test]
    fn wrong_key_purpose_or_tampering_fail_clearly() {
        let sealed = SecretBox::new(key(1)).seal("p", b"x");
        let other = SecretBox::new(key(2));
        assert!(matches!(
            other.open("p", &sealed),
            Err(SecretError::UnknownKey(_))
        ));
        let same_id_wrong_purpose = SecretBox::new(key(1)).open("q", &sealed);
        assert!(matches!(
            same_id_wrong_purpose,
            Err(SecretError::Tampered(_))
        ));
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(SecretBox::new(key(1)).open("p", &tampered).is_err());
        assert_eq!(
            SecretBox::new(key(1)).open("p", "plain"),
            Err(SecretError::Malformed)
        );
    }

    #[test]
    fn rotation_reads_old_and_reseals_under_new() {
        let old = SecretBox::new(key(1));
        let sealed = old.seal("p", b"x");
        let config = format!("{},{}", hex::encode([2u8; 32]), hex::encode([1u8; 32]));
        let rotated = SecretBox::parse(&config).unwrap();
        assert_eq!(rotated.open("p", &sealed).unwrap(), b"x");
        let resealed = rotated.reseal("p", &sealed).unwrap().unwrap();
        assert_eq!(rotated.reseal("p", &resealed).unwrap(), None);
        assert!(SecretBox::new(key(2)).open("p", &resealed).is_ok());
        assert_eq!(
            SecretBox::parse("short").unwrap_err(),
            SecretError::BadMasterKey
        );
    }

    #[test]
    fn previous_keys_open_but_never_seal() {
        let sealed_old = SecretBox::new(key(1)).seal("p", b"x");
        let rotated = SecretBox::new(key(2))
            .with_previous(&format!(
                ",{} , {}",
                hex::encode([1u8; 32]),
                hex::encode([2u8; 32])
            ))
            .unwrap();
        assert_eq!(rotated.previous_key_ids(), vec![key(1).id()]);
        assert_eq!(rotated.open("p", &sealed_old).unwrap(), b"x");
        assert!(
            rotated
                .seal("p", b"y")
                .starts_with(&format!("v1.{}.", key(2).id()))
        );
        assert_eq!(
            SecretBox::new(key(2)).with_previous("nope").unwrap_err(),
            SecretError::BadMasterKey
        );
    }
}
