//! The MDN request of an inbound message: `Disposition-Notification-To`,
//! `Disposition-Notification-Options` (RFC 4130 §7.3, parsed in every spelling seen) and
//! `Receipt-Delivery-Option`.

use crate::crypto::DigestAlgorithm;
use crate::error::{Error, Result};
use crate::mime::{Headers, split_unquoted, unquote};

/// `required` or `optional`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Importance {
    /// The receiver must honour the parameter or fail the MDN request.
    Required,
    /// Best effort.
    #[default]
    Optional,
}

/// One parameter: `name=importance, value[, value...]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionParam {
    /// Required or optional.
    pub importance: Importance,
    /// The values, in order, unquoted and trimmed.
    pub values: Vec<String>,
}

/// Parsed `Disposition-Notification-Options`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotificationOptions {
    /// `signed-receipt-protocol`
    pub protocol: Option<OptionParam>,
    /// `signed-receipt-micalg`
    pub micalg: Option<OptionParam>,
}

impl NotificationOptions {
    /// Parse leniently: missing spaces, quotes, any order, a missing importance.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        let mut out = Self::default();
        for param in split_unquoted(value, ';') {
            let Some((name, rest)) = param.split_once('=') else {
                continue;
            };
            let mut values: Vec<String> = split_unquoted(rest, ',')
                .into_iter()
                .map(|v| unquote(&v))
                .filter(|v| !v.is_empty())
                .collect();
            let importance = match values.first().map(|v| v.to_ascii_lowercase()) {
                Some(v) if v == "required" => {
                    values.remove(0);
                    Importance::Required
                }
                Some(v) if v == "optional" => {
                    values.remove(0);
                    Importance::Optional
                }
                _ => Importance::Optional,
            };
            let p = OptionParam { importance, values };
            match name.trim().to_ascii_lowercase().as_str() {
                "signed-receipt-protocol" => out.protocol = Some(p),
                "signed-receipt-micalg" => out.micalg = Some(p),
                _ => {}
            }
        }
        out
    }

    /// Serialise (`signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256`).
    #[must_use]
    pub fn to_header_value(&self) -> String {
        let fmt = |name: &str, p: &OptionParam| {
            let imp = match p.importance {
                Importance::Required => "required",
                Importance::Optional => "optional",
            };
            format!("{name}={imp}, {}", p.values.join(", "))
        };
        let mut parts = Vec::new();
        if let Some(p) = &self.protocol {
            parts.push(fmt("signed-receipt-protocol", p));
        }
        if let Some(p) = &self.micalg {
            parts.push(fmt("signed-receipt-micalg", p));
        }
        parts.join("; ")
    }

    /// Options asking for a signed receipt with these MIC algorithms.
    #[must_use]
    pub fn signed(micalgs: &[DigestAlgorithm]) -> Self {
        Self {
            protocol: Some(OptionParam {
                importance: Importance::Optional,
                values: vec!["pkcs7-signature".into()],
            }),
            micalg: Some(OptionParam {
                importance: Importance::Optional,
                values: micalgs.iter().map(|d| d.as2_name().to_owned()).collect(),
            }),
        }
    }

    /// Whether a signed receipt was asked for (`pkcs7-signature`).
    #[must_use]
    pub fn signed_receipt_requested(&self) -> bool {
        self.protocol.as_ref().is_some_and(|p| {
            p.values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("pkcs7-signature"))
        })
    }

    /// The requested MIC algorithms we support, in the requested order.
    #[must_use]
    pub fn mic_algorithms(&self) -> Vec<DigestAlgorithm> {
        self.micalg
            .as_ref()
            .map(|p| {
                p.values
                    .iter()
                    .filter_map(|v| DigestAlgorithm::from_name(v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Choose the MIC algorithm: the signature's digest when it was requested, else the
    /// first supported requested one, else the signature's digest, else SHA-256.
    ///
    /// # Errors
    /// A `required` protocol other than pkcs7-signature, or `required` MIC algorithms none
    /// of which we support.
    pub fn choose_mic(&self, signature_digest: Option<DigestAlgorithm>) -> Result<DigestAlgorithm> {
        if let Some(p) = &self.protocol
            && p.importance == Importance::Required
            && !self.signed_receipt_requested()
        {
            return Err(Error::UnsupportedFormat(format!(
                "signed-receipt-protocol {}",
                p.values.join(",")
            )));
        }
        let requested = self.mic_algorithms();
        if let Some(d) = signature_digest
            && requested.contains(&d)
        {
            return Ok(d);
        }
        if let Some(d) = requested.first() {
            return Ok(*d);
        }
        if let Some(p) = &self.micalg
            && p.importance == Importance::Required
            && !p.values.is_empty()
        {
            return Err(Error::UnsupportedMicAlgorithm(p.values.join(",")));
        }
        Ok(signature_digest.unwrap_or(DigestAlgorithm::Sha256))
    }
}

/// What an inbound message asks for in return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdnRequest {
    /// `Disposition-Notification-To` (its value must be ignored, kept for the record).
    pub to: String,
    /// Parsed `Disposition-Notification-Options`.
    pub options: NotificationOptions,
    /// `Receipt-Delivery-Option`: the URL of an asynchronous MDN.
    pub receipt_delivery_option: Option<String>,
}

impl MdnRequest {
    /// From the message headers; `None` when no MDN is requested.
    #[must_use]
    pub fn from_headers(headers: &Headers) -> Option<Self> {
        let to = headers.get("disposition-notification-to")?;
        Some(Self {
            to: to.to_owned(),
            options: headers
                .get("disposition-notification-options")
                .map(NotificationOptions::parse)
                .unwrap_or_default(),
            receipt_delivery_option: headers
                .get("receipt-delivery-option")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        })
    }

    /// Whether the MDN is asynchronous.
    #[must_use]
    pub fn is_async(&self) -> bool {
        self.receipt_delivery_option.is_some()
    }

    /// Whether a signed MDN is requested.
    #[must_use]
    pub fn signed(&self) -> bool {
        self.options.signed_receipt_requested()
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
    fn every_spelling() {
        for v in [
            "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256, sha1",
            "signed-receipt-protocol=optional,pkcs7-signature;signed-receipt-micalg=optional,sha256,sha1",
            "Signed-Receipt-MicAlg = optional, \"sha-256\", sha1 ; signed-receipt-protocol=required,pkcs7-signature",
            "signed-receipt-protocol=pkcs7-signature; signed-receipt-micalg=sha_256,sha1",
        ] {
            let o = NotificationOptions::parse(v);
            assert!(o.signed_receipt_requested(), "{v}");
            assert_eq!(
                o.mic_algorithms(),
                vec![DigestAlgorithm::Sha256, DigestAlgorithm::Sha1],
                "{v}"
            );
            assert_eq!(
                o.choose_mic(Some(DigestAlgorithm::Sha1)).unwrap(),
                DigestAlgorithm::Sha1
            );
            assert_eq!(
                o.choose_mic(Some(DigestAlgorithm::Sha512)).unwrap(),
                DigestAlgorithm::Sha256
            );
        }
        let o = NotificationOptions::parse(
            "signed-receipt-protocol=required, pkcs7-signature; signed-receipt-micalg=required, md2",
        );
        assert!(matches!(
            o.choose_mic(None),
            Err(Error::UnsupportedMicAlgorithm(_))
        ));
        let o2 = NotificationOptions::parse(
            &NotificationOptions::signed(&[DigestAlgorithm::Sha256]).to_header_value(),
        );
        assert_eq!(o2.mic_algorithms(), vec![DigestAlgorithm::Sha256]);
    }
}
