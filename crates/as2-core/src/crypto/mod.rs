//! Cryptographic algorithms: digests, content ciphers, RSA signatures and key transport.

mod cipher;
mod digest;
mod key_ops;
pub mod oids;
mod provider;
mod rsa;
pub(crate) mod stream_decrypt;

pub use self::cipher::ContentEncryption;
pub use self::digest::{DigestAlgorithm, MicAlgStyle};
pub use self::key_ops::PrivateKeyOps;
pub(crate) use self::provider::Rng;
pub use self::provider::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, rust_crypto};
pub use self::rsa::{KeyTransport, SignatureScheme};
pub(crate) use self::rsa::{
    SigAlg, parse_signature_algorithm, sign as rsa_sign, verify as rsa_verify,
    verify_prehashed as rsa_verify_prehashed,
};

#[cfg(test)]
pub(crate) use self::rsa::tests::test_key;
