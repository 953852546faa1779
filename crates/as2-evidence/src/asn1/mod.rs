//! The ASN.1 structures of RFC 3161 (TimeStampReq, TimeStampResp, TSTInfo and their parts)
//! and of RFC 5035 (ESSCertIDv2, SigningCertificateV2), derived with `der`.
//!
//! Why not the `x509-tsp` crate: the only release on crates.io, 0.1.0, is built on `der`
//! 0.7, `cms` 0.2 and `cmpv2` 0.2, the generation before the one the workspace uses (`der`
//! 0.8, `cms` =0.3.0-pre.1, `x509-cert` 0.3); its types cannot be mixed with ours, and no
//! pre-release for the new generation is published. These definitions are small, follow
//! the RFC text field by field, and can be swapped for `x509-tsp` once it catches up.

mod ess;
mod gen_time;
mod request;
mod response;
mod tst_info;

pub use ess::{EssCertId, EssCertIdV2, IssuerSerial, SigningCertificate, SigningCertificateV2};
pub use gen_time::GenTime;
pub use request::{MessageImprint, TimeStampReq};
pub use response::{PkiStatusInfo, TimeStampResp};
pub use tst_info::{Accuracy, TstInfo};

use der::{Decode, DecodeOwned};

/// Decode DER, and BER when DER fails (other implementations send indefinite lengths).
pub(crate) fn decode_lenient<T>(bytes: &[u8]) -> der::Result<T>
where
    T: DecodeOwned + for<'a> Decode<'a, Error = der::Error>,
{
    T::from_der(bytes).or_else(|e| T::from_ber(bytes).map_err(|_| e))
}
