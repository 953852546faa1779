//! The algorithm and MDN settings a partner is configured with, and seed 000's integer codes.
//!
//! These are configuration names; the engine maps them onto `as2-core`'s algorithm types
//! (the domain does not depend on the codec, so the API and the store build without it).

use crate::named_enum;

named_enum!(
    /// Digest of the signature (and of the MIC asked for in the MDN).
    SignAlgorithm, "sign_algorithm" {
        /// SHA-1: still the default of many older partners.
        Sha1 => "sha1",
        /// SHA-256: the recommended default.
        Sha256 => "sha256",
        /// SHA-384.
        Sha384 => "sha384",
        /// SHA-512.
        Sha512 => "sha512",
        /// SHA3-256 (RFC 8702); the MIC is named `sha3-256`.
        Sha3_256 => "sha3-256",
        /// SHA3-384 (RFC 8702).
        Sha3_384 => "sha3-384",
        /// SHA3-512 (RFC 8702).
        Sha3_512 => "sha3-512",
    }
);

named_enum!(
    /// How our signature is made with the station's RSA key (a station with an
    /// elliptic-curve key signs with ECDSA whatever this says).
    SignatureScheme, "signature_scheme" {
        /// RSASSA-PKCS1-v1_5: what every AS2 product verifies.
        Pkcs1v15 => "pkcs1v15",
        /// RSASSA-PSS (RFC 4056), for partners that ask for it.
        Pss => "pss",
    }
);

named_enum!(
    /// How the content-encryption key is wrapped for the partner's RSA certificate (to an
    /// elliptic-curve certificate it is agreed with ECDH, RFC 5753, with the curve's KDF).
    KeyTransport, "key_transport" {
        /// RSAES-PKCS1-v1_5: what every AS2 product unwraps.
        RsaPkcs1v15 => "rsa-pkcs1v15",
        /// RSAES-OAEP with SHA-1 (RFC 4055 defaults).
        RsaOaepSha1 => "rsa-oaep-sha1",
        /// RSAES-OAEP with SHA-256.
        RsaOaepSha256 => "rsa-oaep-sha256",
    }
);

named_enum!(
    /// Where compression goes when a message is compressed and signed (RFC 5402).
    CompressionOrder, "compression_order" {
        /// Compress, then sign: the signature covers the compressed entity.
        BeforeSigning => "before-signing",
        /// Sign, then compress: the signature covers the payload itself.
        AfterSigning => "after-signing",
    }
);

named_enum!(
    /// What the MIC of a plain message (neither signed, encrypted nor compressed) covers,
    /// both in what we expect of their receipts and in ours to them.
    UnsignedMic, "unsigned_mic" {
        /// The content alone (RFC 4130 §7.3.1): the default.
        ContentOnly => "content-only",
        /// The entity with its MIME headers, for partners known to compute it so.
        WithHeaders => "with-headers",
    }
);

named_enum!(
    /// Content encryption of outbound messages.
    EncryptAlgorithm, "encrypt_algorithm" {
        /// Triple DES in CBC mode (legacy partners).
        TripleDes => "3des",
        /// AES-128 in CBC mode.
        Aes128Cbc => "aes128-cbc",
        /// AES-192 in CBC mode.
        Aes192Cbc => "aes192-cbc",
        /// AES-256 in CBC mode.
        Aes256Cbc => "aes256-cbc",
        /// AES-128 in GCM mode (AuthEnvelopedData).
        Aes128Gcm => "aes128-gcm",
        /// AES-256 in GCM mode (AuthEnvelopedData).
        Aes256Gcm => "aes256-gcm",
    }
);

named_enum!(
    /// How the partner returns (or we return) receipts.
    MdnMode, "mdn_mode" {
        /// In the HTTP response of the message.
        Sync => "sync",
        /// Posted later to an MDN URL.
        Async => "async",
        /// No receipt.
        None => "none",
    }
);

impl SignAlgorithm {
    /// Seed 000's `signature` code: 1 sha1, 2 sha256, 3 sha384, 4 sha512 (0 = unsigned);
    /// our additions 5 sha3-256, 6 sha3-384, 7 sha3-512.
    pub fn from_code(code: i64) -> Option<Option<Self>> {
        Some(match code {
            0 => None,
            1 => Some(Self::Sha1),
            2 => Some(Self::Sha256),
            3 => Some(Self::Sha384),
            4 => Some(Self::Sha512),
            5 => Some(Self::Sha3_256),
            6 => Some(Self::Sha3_384),
            7 => Some(Self::Sha3_512),
            _ => return None,
        })
    }

    /// The seed-000 code of this algorithm.
    pub fn code(self) -> i64 {
        match self {
            Self::Sha1 => 1,
            Self::Sha256 => 2,
            Self::Sha384 => 3,
            Self::Sha512 => 4,
            Self::Sha3_256 => 5,
            Self::Sha3_384 => 6,
            Self::Sha3_512 => 7,
        }
    }
}

impl EncryptAlgorithm {
    /// Seed 000's `encryption` code: 1 3des, 2..4 aes128/192/256-cbc, 5 aes128-gcm,
    /// 6 aes256-gcm (0 = not encrypted).
    pub fn from_code(code: i64) -> Option<Option<Self>> {
        Some(match code {
            0 => None,
            1 => Some(Self::TripleDes),
            2 => Some(Self::Aes128Cbc),
            3 => Some(Self::Aes192Cbc),
            4 => Some(Self::Aes256Cbc),
            5 => Some(Self::Aes128Gcm),
            6 => Some(Self::Aes256Gcm),
            _ => return None,
        })
    }

    /// The seed-000 code of this algorithm.
    pub fn code(self) -> i64 {
        match self {
            Self::TripleDes => 1,
            Self::Aes128Cbc => 2,
            Self::Aes192Cbc => 3,
            Self::Aes256Cbc => 4,
            Self::Aes128Gcm => 5,
            Self::Aes256Gcm => 6,
        }
    }
}

/// Seed 000's `mdn` code: the mode and whether the receipt is signed.
///
/// 0 none, 1 sync unsigned, 2 sync signed, 3 async unsigned, 4 async signed.
pub fn mdn_from_code(code: i64) -> Option<(MdnMode, bool)> {
    Some(match code {
        0 => (MdnMode::None, false),
        1 => (MdnMode::Sync, false),
        2 => (MdnMode::Sync, true),
        3 => (MdnMode::Async, false),
        4 => (MdnMode::Async, true),
        _ => return None,
    })
}

/// The seed-000 `mdn` code of a mode and signing choice.
pub fn mdn_code(mode: MdnMode, signed: bool) -> i64 {
    match (mode, signed) {
        (MdnMode::None, _) => 0,
        (MdnMode::Sync, false) => 1,
        (MdnMode::Sync, true) => 2,
        (MdnMode::Async, false) => 3,
        (MdnMode::Async, true) => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for alg in SignAlgorithm::ALL {
            assert_eq!(SignAlgorithm::from_code(alg.code()), Some(Some(*alg)));
        }
        for alg in EncryptAlgorithm::ALL {
            assert_eq!(EncryptAlgorithm::from_code(alg.code()), Some(Some(*alg)));
        }
        for code in 0..=4 {
            let (mode, signed) = mdn_from_code(code).unwrap();
            assert_eq!(mdn_code(mode, signed), code);
        }
        assert_eq!(SignAlgorithm::from_code(9), None);
        assert_eq!(
            "aes256-gcm".parse::<EncryptAlgorithm>(),
            Ok(EncryptAlgorithm::Aes256Gcm)
        );
        assert!("AES256".parse::<EncryptAlgorithm>().is_err());
    }
}
