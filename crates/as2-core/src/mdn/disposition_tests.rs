//! Every error to its disposition, and every disposition to its wire text: the one mapping
//! (`From<&Error> for MdnDisposition`) pinned arm by arm.

use super::{MdnDisposition, Modifier};
use crate::error::{Error, IntegrityError, Limit};

fn error(m: Modifier) -> MdnDisposition {
    MdnDisposition::Error(m)
}

fn failed(m: Modifier) -> MdnDisposition {
    MdnDisposition::Failed(m)
}

#[test]
fn every_error_maps_to_its_modifier() {
    let s = String::new;
    let cases = [
        (Error::Mime(s()), error(Modifier::UnexpectedProcessingError)),
        (
            Error::MissingHeader("AS2-From"),
            error(Modifier::UnexpectedProcessingError),
        ),
        (
            Error::InvalidHeader {
                name: "AS2-To",
                reason: s(),
            },
            error(Modifier::UnexpectedProcessingError),
        ),
        (
            Error::TransferEncoding(s()),
            error(Modifier::UnexpectedProcessingError),
        ),
        (
            Error::UnsupportedFormat(s()),
            failed(Modifier::UnsupportedFormat),
        ),
        (
            Error::UnsupportedAlgorithm(s()),
            error(Modifier::UnexpectedProcessingError),
        ),
        (
            Error::UnsupportedMicAlgorithm(s()),
            failed(Modifier::UnsupportedMicAlgorithms),
        ),
        (Error::Asn1(s()), error(Modifier::UnexpectedProcessingError)),
        (Error::Decryption, error(Modifier::DecryptionFailed)),
        (Error::Signature(s()), error(Modifier::AuthenticationFailed)),
        (Error::UnknownSigner, error(Modifier::AuthenticationFailed)),
        (
            Error::Integrity(IntegrityError::MicMismatch),
            error(Modifier::IntegrityCheckFailed),
        ),
        (
            Error::Integrity(IntegrityError::MicMissing),
            error(Modifier::IntegrityCheckFailed),
        ),
        (
            Error::Integrity(IntegrityError::ContentDigestMismatch),
            error(Modifier::IntegrityCheckFailed),
        ),
        (
            Error::Decompression(s()),
            error(Modifier::DecompressionFailed),
        ),
        (
            Error::InsufficientSecurity(s()),
            error(Modifier::InsufficientMessageSecurity),
        ),
        (Error::Key(s()), error(Modifier::UnexpectedProcessingError)),
        (
            Error::Crypto(s()),
            error(Modifier::UnexpectedProcessingError),
        ),
        (Error::Mdn(s()), error(Modifier::UnexpectedProcessingError)),
        (Error::Cem(s()), error(Modifier::UnexpectedProcessingError)),
        (
            Error::limit(Limit::DecompressedBytes, 1u64),
            error(Modifier::DecompressionFailed),
        ),
        (
            Error::limit(Limit::MimeHeaderLines, 1u64),
            failed(Modifier::UnsupportedFormat),
        ),
        (
            Error::limit(Limit::MimeHeaderBytes, 1u64),
            failed(Modifier::UnsupportedFormat),
        ),
        (
            Error::limit(Limit::MultipartParts, 1u64),
            failed(Modifier::UnsupportedFormat),
        ),
        (
            Error::limit(Limit::CmsRecipients, 1u64),
            failed(Modifier::UnsupportedFormat),
        ),
        (
            Error::limit(Limit::CmsSigners, 1u64),
            failed(Modifier::UnsupportedFormat),
        ),
    ];
    for (e, want) in cases {
        assert_eq!(MdnDisposition::from(&e), want, "{e:?}");
        assert!(!want.is_delivered());
    }
}

#[test]
fn every_disposition_has_its_wire_text() {
    let prefix = "automatic-action/MDN-sent-automatically; ";
    let cases = [
        (MdnDisposition::Processed, "processed"),
        (
            MdnDisposition::Warning("duplicate-document".into()),
            "processed/warning: duplicate-document",
        ),
        (
            error(Modifier::DecryptionFailed),
            "processed/error: decryption-failed",
        ),
        (
            error(Modifier::AuthenticationFailed),
            "processed/error: authentication-failed",
        ),
        (
            error(Modifier::IntegrityCheckFailed),
            "processed/error: integrity-check-failed",
        ),
        (
            error(Modifier::UnexpectedProcessingError),
            "processed/error: unexpected-processing-error",
        ),
        (
            error(Modifier::InsufficientMessageSecurity),
            "processed/error: insufficient-message-security",
        ),
        (
            error(Modifier::DecompressionFailed),
            "processed/error: decompression-failed",
        ),
        (
            failed(Modifier::UnsupportedFormat),
            "failed/Failure: unsupported format",
        ),
        (
            failed(Modifier::UnsupportedMicAlgorithms),
            "failed/Failure: unsupported MIC-algorithms",
        ),
        (
            error(Modifier::Other("x-vendor".into())),
            "processed/error: x-vendor",
        ),
    ];
    for (d, tail) in cases {
        let field = d.to_field();
        assert_eq!(field, format!("{prefix}{tail}"));
        assert_eq!(MdnDisposition::parse(&field), d, "{field}");
        assert_eq!(
            MdnDisposition::parse(&field.to_ascii_uppercase()).is_delivered(),
            d.is_delivered()
        );
    }
    for m in Modifier::KNOWN {
        assert_eq!(Modifier::parse(&m.as_str().to_ascii_uppercase()), m);
    }
}
