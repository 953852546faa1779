//! A certificate exchange (CEM) document carried by an inbound message: handed to the trust
//! lifecycle only when the message is authenticated as the partner's current or next
//! certificate demands.

use as2_core::message::InboundVerdict;

use super::Route;
use super::reception::{ProcessError, Reception};
use crate::material::partner_certificates_now;

impl Reception<'_> {
    /// Hands a CEM document to the trust lifecycle, but only when the message that carried it
    /// was signed with a certificate the partner is trusted with now (current or next, not a
    /// previous one kept for the overlap) and encrypted when the partner requires it. The inner
    /// error is the refusal (a negative MDN); the outer one a platform failure (503).
    pub(super) fn certificate_exchange(
        &self,
        inbound: &InboundVerdict,
        document: &[u8],
        content_type: &str,
    ) -> Result<Result<as2_trust::cem::Effects, as2_core::Error>, ProcessError> {
        let (store, payloads, options, route) =
            (self.store, self.payloads, self.options, self.route);
        let Route {
            scope,
            station,
            partner,
            ..
        } = route;
        let refuse = |why: &str| {
            tracing::warn!(partner = %partner.id, why, "refused a certificate exchange");
            Ok(Err(as2_core::Error::InsufficientSecurity(why.to_owned())))
        };
        let Some(signature) = &inbound.signature else {
            return refuse(
                "a certificate exchange (CEM) must be signed with the partner's current or next certificate, and this one is not signed",
            );
        };
        let trusted_now = partner_certificates_now(store, *scope, partner)?;
        if !trusted_now
            .iter()
            .any(|c| c.der() == signature.signer.der())
        {
            return refuse(
                "a certificate exchange (CEM) must be signed with the partner's current or next certificate, and this one is signed with a certificate that is being retired",
            );
        }
        if partner.settings.require_encrypted && inbound.encryption.is_none() {
            return refuse("a certificate exchange (CEM) from this partner must be encrypted");
        }
        match as2_trust::cem::receive(
            store,
            payloads,
            *scope,
            partner,
            station,
            content_type,
            document,
            options.cem_policy,
            chrono::Utc::now(),
        ) {
            Ok(effects) => Ok(Ok(effects)),
            Err(as2_trust::cem::ReceiveError::Refused(error)) => Ok(Err(error)),
            // a storage failure acknowledges nothing: the partner resends
            Err(as2_trust::cem::ReceiveError::Failed(error)) => Err(ProcessError::Trust(error)),
        }
    }
}

/// The payload's Content-Type when the payload is a CEM document.
pub(super) fn cem_document(inbound: &InboundVerdict) -> Option<String> {
    let content_type = inbound.payload_headers.get("content-type")?;
    as2_core::cem::classify(content_type).map(|_| content_type.to_owned())
}
