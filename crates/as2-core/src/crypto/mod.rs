//! Cryptographic algorithms: digests, content ciphers, RSA signatures and key transport.

mod cipher;
mod digest;
mod key_ops;
pub mod oids;
mod rsa;

pub use self::cipher::{ContentEncryption, random_bytes};
pub use self::digest::{DigestAlgorithm, MicAlgStyle};
pub use self::key_ops::PrivateKeyOps;
pub use self::rsa::{KeyTransport, SignatureScheme};
pub(crate) use self::rsa::{
    SigAlg, parse_signature_algorithm, sign as rsa_sign, verify as rsa_verify,
    verify_prehashed as rsa_verify_prehashed,
};

#[cfg(test)]
pub(crate) use self::rsa::tests::test_key;
