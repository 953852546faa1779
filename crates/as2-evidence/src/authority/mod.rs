//! A time-stamping authority: answers RFC 3161 requests with a TimeStampResp, or issues a
//! token directly for a SHA-256 hash. The clock and the serial number come from the caller.

mod certificate;
mod reply;

use std::fmt;
use std::time::SystemTime;

use as2_core::cert::Certificate;
use as2_core::crypto::PrivateKeyOps;
use as2_core::crypto::oids::SHA256;
use der::Encode as _;
use der::asn1::Uint;
use x509_cert::ext::pkix::name::GeneralName;

pub use self::certificate::generate_tsa_certificate;
use self::reply::Rejection;
use crate::PolicyId;
use crate::asn1::{Accuracy, GenTime, MessageImprint, TstInfo};
use crate::error::{Error, Result};
use crate::int::uint_from_u128;
use crate::request::{ParsedRequest, parse_request, sha256_imprint};
use crate::sign::sign_tst_info;
use crate::status::FailureInfo;

/// A TSA: its certificate (with the critical id-kp-timeStamping EKU, see
/// [`generate_tsa_certificate`]), its key, and the policy its tokens are issued under.
/// Tokens are SHA-256 imprints signed with RSA PKCS#1 v1.5 and SHA-256.
pub struct TimeStampAuthority {
    /// The TSA certificate; must match `key`.
    pub certificate: Certificate,
    /// The signing key.
    pub key: Box<dyn PrivateKeyOps>,
    /// The TSA policy written into every token (a request for another one is rejected).
    pub policy: PolicyId,
    /// The accuracy written into tokens (genTime has whole seconds: one second by default).
    pub accuracy: Option<Accuracy>,
}

impl fmt::Debug for TimeStampAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeStampAuthority")
            .field("certificate", &self.certificate.subject())
            .field("policy", &self.policy)
            .field("accuracy", &self.accuracy)
            .finish_non_exhaustive()
    }
}

impl TimeStampAuthority {
    /// A TSA with an accuracy of one second.
    #[must_use]
    pub fn new(
        certificate: Certificate,
        key: Box<dyn PrivateKeyOps>,
        policy: impl Into<PolicyId>,
    ) -> Self {
        Self {
            certificate,
            key,
            policy: policy.into(),
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
        }
    }

    /// Issue a token (DER ContentInfo) for the SHA-256 hash of some data, at `now`, with
    /// the given serial number (unique per token of this TSA) and optional nonce. The TSA
    /// certificate is included.
    ///
    /// # Errors
    /// The certificate does not match the key, or signing failed.
    pub fn issue(
        &self,
        sha256: &[u8; 32],
        nonce: Option<u64>,
        now: SystemTime,
        serial: u128,
    ) -> Result<Vec<u8>> {
        let nonce = nonce.map(|n| uint_from_u128(n.into())).transpose()?;
        self.issue_for(sha256_imprint(sha256)?, nonce, true, now, serial)
    }

    /// Answer a DER TimeStampReq with a DER TimeStampResp: granted with a token, or a
    /// rejection whose failInfo says why (badDataFormat for bytes that are not a request or
    /// a hash of the wrong length, badAlg for another hash than SHA-256, unacceptedPolicy,
    /// unacceptedExtension, systemFailure when signing fails). Never panics on input.
    #[must_use]
    pub fn respond(&self, request_der: &[u8], now: SystemTime, serial: u128) -> Vec<u8> {
        let outcome = self.check(request_der).and_then(|req| {
            self.grant(&req, now, serial).map_err(|e| {
                Rejection::new(FailureInfo::SystemFailure, format!("cannot issue: {e}"))
            })
        });
        match outcome {
            Ok(token) => reply::granted(&token),
            Err(rejection) => reply::rejected(&rejection),
        }
    }

    /// Whether this TSA grants the request (the checks of OpenSSL's TSA, same failInfo).
    fn check(&self, request_der: &[u8]) -> Result<ParsedRequest, Rejection> {
        let req = parse_request(request_der)
            .map_err(|e| Rejection::new(FailureInfo::BadDataFormat, format!("bad request: {e}")))?;
        if req.hash_algorithm != SHA256 {
            return Err(Rejection::new(
                FailureInfo::BadAlg,
                format!(
                    "message digest algorithm {} is not supported; use SHA-256",
                    req.hash_algorithm
                ),
            ));
        }
        if req.hashed_message.len() != 32 {
            return Err(Rejection::new(
                FailureInfo::BadDataFormat,
                "the message imprint is not a SHA-256 hash",
            ));
        }
        if req.policy.as_ref().is_some_and(|p| *p != self.policy) {
            return Err(Rejection::new(
                FailureInfo::UnacceptedPolicy,
                "requested policy is not supported",
            ));
        }
        if req.has_extensions {
            return Err(Rejection::new(
                FailureInfo::UnacceptedExtension,
                "request extensions are not supported",
            ));
        }
        Ok(req)
    }

    /// The token for a request [`Self::check`] accepted.
    fn grant(&self, req: &ParsedRequest, now: SystemTime, serial: u128) -> Result<Vec<u8>> {
        let sha256: [u8; 32] = req
            .hashed_message
            .as_slice()
            .try_into()
            .map_err(|_| Error::ImprintMismatch)?;
        let nonce = req.nonce.as_deref().map(Uint::new).transpose()?;
        self.issue_for(sha256_imprint(&sha256)?, nonce, req.cert_req, now, serial)
    }

    fn issue_for(
        &self,
        message_imprint: MessageImprint,
        nonce: Option<Uint>,
        include_certificate: bool,
        now: SystemTime,
        serial: u128,
    ) -> Result<Vec<u8>> {
        if self.certificate.subject_public_key()? != self.key.public_key() {
            return Err(Error::BadTsaCertificate(
                "the TSA certificate does not match the key".into(),
            ));
        }
        let tst_info = TstInfo {
            version: 1,
            policy: self.policy.clone(),
            message_imprint,
            serial_number: uint_from_u128(serial)?,
            gen_time: GenTime(now),
            accuracy: self.accuracy,
            ordering: false,
            nonce,
            tsa: Some(GeneralName::DirectoryName(
                self.certificate.x509().tbs_certificate().subject().clone(),
            )),
            extensions: None,
        };
        sign_tst_info(
            &tst_info.to_der()?,
            &self.certificate,
            self.key.as_ref(),
            now,
            include_certificate,
        )
    }
}

/// A granted TimeStampResp carrying `token` (a DER ContentInfo): what a stored token becomes
/// for `openssl ts -verify -in` without `-token_in`.
#[must_use]
pub fn granted_response(token: &[u8]) -> Vec<u8> {
    reply::granted(token)
}

#[cfg(test)]
mod tests;
