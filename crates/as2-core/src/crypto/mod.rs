//! Cryptographic algorithms: digests, content ciphers, RSA signatures and key transport,
//! ECDSA signatures and ECDH key agreement (RFC 5753) on P-256 and P-384, and signature
//! verification behind the provider.

mod cipher;
mod digest;
mod ec;
pub(crate) mod ecdh;
mod hasher;
mod key_ops;
pub mod oids;
mod provider;
mod public_key;
mod rsa;
pub(crate) mod stream_decrypt;
mod stream_encrypt;
mod verify;

pub use self::cipher::ContentEncryption;
pub use self::digest::{DigestAlgorithm, MicAlgStyle};
pub use self::ec::{EcCurve, EcPrivateKey, EcPublicKey};
pub use self::ecdh::KeyAgreement;
pub(crate) use self::hasher::Hasher;
pub use self::key_ops::PrivateKeyOps;
pub(crate) use self::provider::Rng;
pub use self::provider::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, rust_crypto};
pub use self::public_key::PublicKey;
pub use self::rsa::{KeyTransport, SignatureScheme};
pub(crate) use self::rsa::{SigAlg, parse_signature_algorithm};
pub(crate) use self::stream_encrypt::{GCM_TAG_LEN, StreamEncryptor};
pub use self::verify::{RustCryptoVerifier, SignatureParams, SignatureVerifier};

#[cfg(test)]
pub(crate) use self::rsa::tests::test_key;
