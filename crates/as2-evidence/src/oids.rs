//! Object identifiers of time-stamping (RFC 3161, RFC 5035) beyond those as2-core names.

use der::asn1::ObjectIdentifier as Oid;

/// id-ct-TSTInfo: the eContentType of a time-stamp token.
pub const ID_CT_TST_INFO: Oid = const_oid::db::rfc3161::ID_CT_TST_INFO;
/// id-kp-timeStamping: the only extended key usage of a TSA certificate.
pub const ID_KP_TIME_STAMPING: Oid = const_oid::db::rfc5280::ID_KP_TIME_STAMPING;
/// id-aa-signingCertificate (RFC 2634, ESSCertID with SHA-1).
pub const ID_AA_SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-aa-signingCertificateV2 (RFC 5035, ESSCertIDv2).
pub const ID_AA_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelled_as_in_the_rfcs() {
        assert_eq!(ID_CT_TST_INFO.to_string(), "1.2.840.113549.1.9.16.1.4");
        assert_eq!(ID_KP_TIME_STAMPING.to_string(), "1.3.6.1.5.5.7.3.8");
    }
}
