//! ESS signing-certificate attributes: SigningCertificateV2 with ESSCertIDv2 (RFC 5035),
//! which a TSA must sign (RFC 3161 §2.4.2, RFC 5816), and the older SigningCertificate with
//! the SHA-1 ESSCertID (RFC 2634) that other TSAs still send.

use der::Sequence;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::GeneralNames;
use x509_cert::serial_number::SerialNumber;

/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer                   GeneralNames,
///     serialNumber             CertificateSerialNumber }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    /// The issuer of the certificate (a directoryName).
    pub issuer: GeneralNames,
    /// Its serial number.
    pub serial_number: SerialNumber,
}

/// ```text
/// ESSCertIDv2 ::=  SEQUENCE {
///     hashAlgorithm           AlgorithmIdentifier
///                             DEFAULT {algorithm id-sha256},
///     certHash                 Hash,
///     issuerSerial             IssuerSerial OPTIONAL }
/// ```
/// `der` has no DEFAULT for a structured value, so the field is OPTIONAL here: `None` means
/// SHA-256, and DER requires `None` when it is SHA-256.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    /// The hash algorithm; `None` is SHA-256.
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// The hash of the whole DER certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// ```text
/// SigningCertificateV2 ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    /// The signer's certificate first.
    pub certs: Vec<EssCertIdV2>,
    /// Policies (unused here).
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}

/// ```text
/// ESSCertID ::=  SEQUENCE {
///     certHash                 Hash,   -- SHA-1
///     issuerSerial             IssuerSerial OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertId {
    /// SHA-1 of the whole DER certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial of the certificate.
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// ```text
/// SigningCertificate ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertID,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificate {
    /// The signer's certificate first.
    pub certs: Vec<EssCertId>,
    /// Policies (unused here).
    #[asn1(optional = "true")]
    pub policies: Option<Vec<PolicyInformation>>,
}
