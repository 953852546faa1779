//! Digest algorithms with their AS2 `micalg` names (RFC 3851 and RFC 5751 spellings; the
//! SHA-3 digests of RFC 8702 as `sha3-256`, `sha3-384`, `sha3-512`, the IANA "Hash Function
//! Textual Names", in every spelling style: RFC 8551 names no SHA-3 `micalg`).

use der::asn1::ObjectIdentifier;
use sha2::Digest as _;

use super::oids;
use crate::error::{Error, Result};

/// A digest algorithm AS2 partners use. MD5 is for verifying old partners only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// MD5 (verification of old partners only)
    Md5,
    /// SHA-1
    Sha1,
    /// SHA-224
    Sha224,
    /// SHA-256
    Sha256,
    /// SHA-384
    Sha384,
    /// SHA-512
    Sha512,
    /// SHA3-256 (RFC 8702)
    Sha3_256,
    /// SHA3-384 (RFC 8702)
    Sha3_384,
    /// SHA3-512 (RFC 8702)
    Sha3_512,
}

/// How to spell a `micalg` / MIC algorithm name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MicAlgStyle {
    /// RFC 5751: `sha-1`, `sha-256`, ...
    Rfc5751,
    /// The common AS2 spelling: `sha1`, `sha-256`, ... (sha1 without hyphen)
    #[default]
    As2,
    /// RFC 3851-era: `sha1`, `sha256`, ...
    Rfc3851,
}

impl DigestAlgorithm {
    /// Every algorithm, strongest first.
    pub const ALL: [Self; 9] = [
        Self::Sha3_512,
        Self::Sha3_384,
        Self::Sha3_256,
        Self::Sha512,
        Self::Sha384,
        Self::Sha256,
        Self::Sha224,
        Self::Sha1,
        Self::Md5,
    ];

    /// The usual AS2 name: `md5`, `sha1`, `sha-224`, `sha-256`, `sha-384`, `sha-512`.
    #[must_use]
    pub fn as2_name(self) -> &'static str {
        self.name(MicAlgStyle::As2)
    }

    /// The name in a given spelling.
    #[must_use]
    pub fn name(self, style: MicAlgStyle) -> &'static str {
        match (self, style) {
            (Self::Md5, _) => "md5",
            (Self::Sha1, MicAlgStyle::Rfc5751) => "sha-1",
            (Self::Sha1, _) => "sha1",
            (Self::Sha224, MicAlgStyle::Rfc3851) => "sha224",
            (Self::Sha224, _) => "sha-224",
            (Self::Sha256, MicAlgStyle::Rfc3851) => "sha256",
            (Self::Sha256, _) => "sha-256",
            (Self::Sha384, MicAlgStyle::Rfc3851) => "sha384",
            (Self::Sha384, _) => "sha-384",
            (Self::Sha512, MicAlgStyle::Rfc3851) => "sha512",
            (Self::Sha512, _) => "sha-512",
            (Self::Sha3_256, _) => "sha3-256",
            (Self::Sha3_384, _) => "sha3-384",
            (Self::Sha3_512, _) => "sha3-512",
        }
    }

    /// Parse any spelling: `sha256`, `SHA-256`, `sha_256`, `rsa-sha1`, `sha-1`, `md5`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let n: String = name
            .trim()
            .trim_matches('"')
            .to_ascii_lowercase()
            .chars()
            .filter(|c| *c != '-' && *c != '_' && !c.is_whitespace())
            .collect();
        let n = n.strip_prefix("rsa").unwrap_or(&n);
        match n {
            "md5" => Some(Self::Md5),
            "sha1" | "sha" => Some(Self::Sha1),
            "sha224" => Some(Self::Sha224),
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            "sha3256" => Some(Self::Sha3_256),
            "sha3384" => Some(Self::Sha3_384),
            "sha3512" => Some(Self::Sha3_512),
            _ => None,
        }
    }

    /// The algorithm's OID.
    #[must_use]
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Md5 => oids::MD5,
            Self::Sha1 => oids::SHA1,
            Self::Sha224 => oids::SHA224,
            Self::Sha256 => oids::SHA256,
            Self::Sha384 => oids::SHA384,
            Self::Sha512 => oids::SHA512,
            Self::Sha3_256 => oids::SHA3_256,
            Self::Sha3_384 => oids::SHA3_384,
            Self::Sha3_512 => oids::SHA3_512,
        }
    }

    /// From a digest OID, or from an `xxxWithRSAEncryption` or `ecdsa-with-xxx` OID.
    ///
    /// # Errors
    /// Unknown OID.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self> {
        let o = *oid;
        Ok(match o {
            _ if o == oids::MD5 || o == oids::MD5_WITH_RSA => Self::Md5,
            _ if o == oids::SHA1 || o == oids::SHA1_WITH_RSA => Self::Sha1,
            _ if o == oids::SHA224 || o == oids::SHA224_WITH_RSA => Self::Sha224,
            _ if o == oids::SHA256 || o == oids::SHA256_WITH_RSA => Self::Sha256,
            _ if o == oids::SHA384 || o == oids::SHA384_WITH_RSA => Self::Sha384,
            _ if o == oids::SHA512 || o == oids::SHA512_WITH_RSA => Self::Sha512,
            _ if o == oids::SHA3_256 || o == oids::RSA_WITH_SHA3_256 => Self::Sha3_256,
            _ if o == oids::SHA3_384 || o == oids::RSA_WITH_SHA3_384 => Self::Sha3_384,
            _ if o == oids::SHA3_512 || o == oids::RSA_WITH_SHA3_512 => Self::Sha3_512,
            _ if o == oids::ECDSA_WITH_SHA1 => Self::Sha1,
            _ if o == oids::ECDSA_WITH_SHA224 => Self::Sha224,
            _ if o == oids::ECDSA_WITH_SHA256 => Self::Sha256,
            _ if o == oids::ECDSA_WITH_SHA384 => Self::Sha384,
            _ if o == oids::ECDSA_WITH_SHA512 => Self::Sha512,
            _ if o == oids::ECDSA_WITH_SHA3_256 => Self::Sha3_256,
            _ if o == oids::ECDSA_WITH_SHA3_384 => Self::Sha3_384,
            _ if o == oids::ECDSA_WITH_SHA3_512 => Self::Sha3_512,
            _ => return Err(Error::UnsupportedAlgorithm(format!("digest {o}"))),
        })
    }

    /// The `xxxWithRSAEncryption` OID (`id-rsassa-pkcs1-v1_5-with-sha3-xxx` for SHA-3).
    #[must_use]
    pub fn rsa_signature_oid(self) -> ObjectIdentifier {
        match self {
            Self::Md5 => oids::MD5_WITH_RSA,
            Self::Sha1 => oids::SHA1_WITH_RSA,
            Self::Sha224 => oids::SHA224_WITH_RSA,
            Self::Sha256 => oids::SHA256_WITH_RSA,
            Self::Sha384 => oids::SHA384_WITH_RSA,
            Self::Sha512 => oids::SHA512_WITH_RSA,
            Self::Sha3_256 => oids::RSA_WITH_SHA3_256,
            Self::Sha3_384 => oids::RSA_WITH_SHA3_384,
            Self::Sha3_512 => oids::RSA_WITH_SHA3_512,
        }
    }

    /// The `ecdsa-with-xxx` OID (RFC 5758, RFC 8702); none for MD5.
    #[must_use]
    pub fn ecdsa_signature_oid(self) -> Option<ObjectIdentifier> {
        Some(match self {
            Self::Md5 => return None,
            Self::Sha1 => oids::ECDSA_WITH_SHA1,
            Self::Sha224 => oids::ECDSA_WITH_SHA224,
            Self::Sha256 => oids::ECDSA_WITH_SHA256,
            Self::Sha384 => oids::ECDSA_WITH_SHA384,
            Self::Sha512 => oids::ECDSA_WITH_SHA512,
            Self::Sha3_256 => oids::ECDSA_WITH_SHA3_256,
            Self::Sha3_384 => oids::ECDSA_WITH_SHA3_384,
            Self::Sha3_512 => oids::ECDSA_WITH_SHA3_512,
        })
    }

    /// Output length in bytes.
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 | Self::Sha3_512 => 64,
            Self::Sha3_256 => 32,
            Self::Sha3_384 => 48,
        }
    }

    /// Whether it is one of the SHA-3 digests (RFC 8702).
    #[must_use]
    pub fn is_sha3(self) -> bool {
        matches!(self, Self::Sha3_256 | Self::Sha3_384 | Self::Sha3_512)
    }

    /// Whether we may produce signatures with it (MD5 is verify-only).
    #[must_use]
    pub fn can_sign(self) -> bool {
        !matches!(self, Self::Md5)
    }

    /// Hash data.
    #[must_use]
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Md5 => md5::Md5::digest(data).to_vec(),
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha224 => sha2::Sha224::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
            Self::Sha3_256 => sha3::Sha3_256::digest(data).to_vec(),
            Self::Sha3_384 => sha3::Sha3_384::digest(data).to_vec(),
            Self::Sha3_512 => sha3::Sha3_512::digest(data).to_vec(),
        }
    }
}

#[cfg(test)]
impl DigestAlgorithm {
    /// Hash the concatenation of `parts` without building it.
    pub(crate) fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            Self::Md5 => run::<md5::Md5>(parts),
            Self::Sha1 => run::<sha1::Sha1>(parts),
            Self::Sha224 => run::<sha2::Sha224>(parts),
            Self::Sha256 => run::<sha2::Sha256>(parts),
            Self::Sha384 => run::<sha2::Sha384>(parts),
            Self::Sha512 => run::<sha2::Sha512>(parts),
            Self::Sha3_256 => run::<sha3::Sha3_256>(parts),
            Self::Sha3_384 => run::<sha3::Sha3_384>(parts),
            Self::Sha3_512 => run::<sha3::Sha3_512>(parts),
        }
    }
}

impl std::fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as2_name())
    }
}

impl std::str::FromStr for DigestAlgorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s).ok_or_else(|| Error::UnsupportedAlgorithm(format!("digest {s}")))
    }
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
    fn names() {
        for a in DigestAlgorithm::ALL {
            for s in [MicAlgStyle::As2, MicAlgStyle::Rfc3851, MicAlgStyle::Rfc5751] {
                assert_eq!(DigestAlgorithm::from_name(a.name(s)), Some(a));
            }
            assert_eq!(DigestAlgorithm::from_oid(&a.oid()).unwrap(), a);
            assert_eq!(a.digest(b"x").len(), a.output_len());
            assert_eq!(a.digest_parts(&[b"ab", b"", b"c"]), a.digest(b"abc"));
        }
        assert_eq!(
            DigestAlgorithm::from_name("rsa-sha1"),
            Some(DigestAlgorithm::Sha1)
        );
        assert_eq!(
            DigestAlgorithm::from_name("SHA_256"),
            Some(DigestAlgorithm::Sha256)
        );
        assert_eq!(DigestAlgorithm::from_name("pkcs7-signature"), None);
        assert_eq!(
            DigestAlgorithm::from_name("SHA3-256"),
            Some(DigestAlgorithm::Sha3_256)
        );
        assert_eq!(DigestAlgorithm::Sha3_384.as2_name(), "sha3-384");
    }
}
