//! Digests computed as bytes pass: one hasher per algorithm, cloneable so that a canonical
//! variant of the signed entity can branch off the exact bytes where they first differ.

use sha2::Digest as _;

use crate::crypto::DigestAlgorithm;

/// A running digest of any [`DigestAlgorithm`].
#[derive(Clone)]
pub(crate) enum Hasher {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
    Sha3_256(sha3::Sha3_256),
    Sha3_384(sha3::Sha3_384),
    Sha3_512(sha3::Sha3_512),
}

impl Hasher {
    /// An empty hasher for `alg`.
    pub(crate) fn new(alg: DigestAlgorithm) -> Self {
        match alg {
            DigestAlgorithm::Md5 => Self::Md5(md5::Md5::new()),
            DigestAlgorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            DigestAlgorithm::Sha224 => Self::Sha224(sha2::Sha224::new()),
            DigestAlgorithm::Sha384 => Self::Sha384(sha2::Sha384::new()),
            DigestAlgorithm::Sha512 => Self::Sha512(sha2::Sha512::new()),
            DigestAlgorithm::Sha3_256 => Self::Sha3_256(sha3::Sha3_256::new()),
            DigestAlgorithm::Sha3_384 => Self::Sha3_384(sha3::Sha3_384::new()),
            DigestAlgorithm::Sha3_512 => Self::Sha3_512(sha3::Sha3_512::new()),
            _ => Self::Sha256(sha2::Sha256::new()),
        }
    }

    /// Hash more bytes.
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Self::Md5(h) => h.update(data),
            Self::Sha1(h) => h.update(data),
            Self::Sha224(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
            Self::Sha3_256(h) => h.update(data),
            Self::Sha3_384(h) => h.update(data),
            Self::Sha3_512(h) => h.update(data),
        }
    }

    /// The digest.
    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            Self::Md5(h) => h.finalize().to_vec(),
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha224(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
            Self::Sha3_256(h) => h.finalize().to_vec(),
            Self::Sha3_384(h) => h.finalize().to_vec(),
            Self::Sha3_512(h) => h.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_one_shot_digest() {
        for alg in DigestAlgorithm::ALL {
            let mut h = Hasher::new(alg);
            h.update(b"ab");
            let mut branch = h.clone();
            h.update(b"c");
            branch.update(b"d");
            assert_eq!(h.finish(), alg.digest(b"abc"));
            assert_eq!(branch.finish(), alg.digest(b"abd"));
        }
    }
}
