//! RSA public keys parsed once per process: verifying a signature with an
//! `UnparsedPublicKey` parses the SubjectPublicKeyInfo into a new key every time, and that
//! key computes its Montgomery constants before its first operation, which together cost
//! more than the verification itself (the gateway verifies every received message with one
//! of a few partner certificates). A parsed key keeps both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::signature::{ParsedPublicKey, RsaParameters};

/// The most keys kept: cleared when full (a process verifies with far fewer; a full cache
/// only costs the parses it saved).
const LIMIT: usize = 256;

/// Keys by their algorithm (the address of its static parameters), then by their DER (looked
/// up by the borrowed bytes: a hit copies nothing).
type Keys = HashMap<usize, HashMap<Box<[u8]>, Arc<ParsedPublicKey>>>;

/// `spki_der` parsed as a key for `algorithm`, from the cache or parsed now (and kept).
pub(crate) fn parsed(
    algorithm: &'static RsaParameters,
    spki_der: &[u8],
) -> Result<Arc<ParsedPublicKey>, KeyRejected> {
    static KEYS: OnceLock<Mutex<Keys>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| Mutex::new(HashMap::new()));
    let id = std::ptr::from_ref(algorithm) as usize;
    let hit = keys
        .lock()
        .ok()
        .and_then(|keys| keys.get(&id)?.get(spki_der).cloned());
    if let Some(hit) = hit {
        return Ok(hit);
    }
    let parsed = Arc::new(ParsedPublicKey::new(algorithm, spki_der)?);
    if let Ok(mut keys) = keys.lock() {
        if keys.values().map(HashMap::len).sum::<usize>() >= LIMIT {
            keys.clear();
        }
        keys.entry(id)
            .or_default()
            .insert(spki_der.into(), parsed.clone());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::{
        KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
    };

    use super::*;

    /// A key is parsed once for each algorithm it is used with, and never confused with
    /// another key or algorithm.
    #[test]
    fn a_key_is_parsed_once_per_algorithm() {
        let der = |pair: &KeyPair| pair.public_key().as_der().unwrap().as_ref().to_vec();
        let ours = der(&KeyPair::generate(KeySize::Rsa2048).unwrap());
        let theirs = der(&KeyPair::generate(KeySize::Rsa2048).unwrap());
        let first = parsed(&RSA_PKCS1_2048_8192_SHA256, &ours).unwrap();
        let again = parsed(&RSA_PKCS1_2048_8192_SHA256, &ours).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let pss = parsed(&RSA_PSS_2048_8192_SHA256, &ours).unwrap();
        assert!(!Arc::ptr_eq(&first, &pss));
        let other = parsed(&RSA_PKCS1_2048_8192_SHA256, &theirs).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(other.as_ref().as_ref(), theirs.as_slice());
        assert!(parsed(&RSA_PKCS1_2048_8192_SHA256, b"not a key").is_err());
    }
}
