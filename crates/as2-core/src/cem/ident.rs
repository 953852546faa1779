//! Certificate identifiers as CEM writes them: the issuer as a string (RFC 4514, or Java's
//! `getIssuerDN()` form with spaces, quotes and `EMAILADDRESS=`) compared by meaning with
//! the certificate's issuer, and the serial number in decimal compared numerically.

use der::Encode as _;
use der::asn1::{Any, ObjectIdentifier};
use der::{Tag, Tagged as _};
use x509_cert::name::Name;

use crate::cert::Certificate;

/// One attribute: its OID (dotted) and its value, normalised for comparison.
type Ava = (String, String);

/// The certificate's serial number in decimal (negative serials keep their sign).
#[must_use]
pub fn serial_decimal(cert: &Certificate) -> String {
    decimal_of_be(cert.x509().tbs_certificate().serial_number().as_bytes())
}

/// A two's complement big-endian integer in decimal.
fn decimal_of_be(bytes: &[u8]) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut mag: Vec<u8> = if negative {
        // magnitude = !x + 1
        let mut m: Vec<u8> = bytes.iter().map(|b| !b).collect();
        for b in m.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        m
    } else {
        bytes.to_vec()
    };
    let mut digits = Vec::new();
    while mag.iter().any(|b| *b != 0) {
        let mut rem = 0u32;
        for b in &mut mag {
            let cur = (rem << 8) | u32::from(*b);
            *b = u8::try_from(cur / 10).unwrap_or(0);
            rem = cur % 10;
        }
        digits.push(char::from(b'0' + u8::try_from(rem).unwrap_or(0)));
    }
    if digits.is_empty() {
        return "0".into();
    }
    if negative {
        digits.push('-');
    }
    digits.iter().rev().collect()
}

/// A decimal integer from the XML, canonical (no `+`, no leading zeros, no `-0`), or `None`.
pub(crate) fn canonical_decimal(s: &str) -> Option<String> {
    let s = s.trim();
    let (negative, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    Some(match (digits.is_empty(), negative) {
        (true, _) => "0".into(),
        (false, true) => format!("-{digits}"),
        (false, false) => digits.to_owned(),
    })
}

/// Whether the issuer string from the XML names the certificate's issuer: the same RDNs
/// (attribute types by OID, values compared case- and space-insensitively) in RFC 4514
/// order or in X.500 order.
pub(crate) fn issuer_matches(xml_issuer: &str, cert: &Certificate) -> bool {
    if xml_issuer.trim() == cert.issuer() {
        return true;
    }
    let Some(mut given) = parse_dn(xml_issuer) else {
        return false;
    };
    let actual = name_rdns(cert.x509().tbs_certificate().issuer());
    if given == actual {
        return true;
    }
    given.reverse();
    given == actual
}

/// The RDNs of a name in RFC 4514 order (last in DER first), attributes sorted.
fn name_rdns(name: &Name) -> Vec<Vec<Ava>> {
    let mut rdns: Vec<Vec<Ava>> = name
        .iter_rdn()
        .map(|rdn| {
            let mut avas: Vec<Ava> = rdn
                .iter()
                .map(|atv| (atv.oid.to_string(), value_of_any(&atv.value)))
                .collect();
            avas.sort();
            avas
        })
        .collect();
    rdns.reverse();
    rdns
}

/// A directory string's text, normalised; other values as `#` and the DER in hex.
fn value_of_any(any: &Any) -> String {
    let v = any.value();
    let text = match any.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            std::str::from_utf8(v).ok().map(str::to_owned)
        }
        Tag::TeletexString => Some(v.iter().map(|b| char::from(*b)).collect()),
        Tag::BmpString if v.len().is_multiple_of(2) => {
            let units: Vec<u16> = v
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    };
    match text {
        Some(t) => normalize_value(&t),
        None => {
            let der = any.to_der().unwrap_or_default();
            let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
            format!("#{hex}")
        }
    }
}

fn normalize_value(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The OID of an attribute type as partners write it (`CN`, `OID.2.5.4.3`, `2.5.4.3`,
/// `EMAILADDRESS`, `E`, `S`, ...).
fn attribute_oid(key: &str) -> Option<ObjectIdentifier> {
    let key = key.trim();
    let dotted = key
        .strip_prefix("OID.")
        .or_else(|| key.strip_prefix("oid."))
        .unwrap_or(key);
    if dotted.starts_with(|c: char| c.is_ascii_digit()) {
        return ObjectIdentifier::new(dotted).ok();
    }
    let alias = match key.to_ascii_uppercase().as_str() {
        "E" | "EMAIL" | "EMAILADDRESS" => "emailAddress",
        "S" => "st",
        "SERIALNUMBER" => "serialNumber",
        _ => key,
    };
    const_oid::db::DB.by_name(alias).copied()
}

/// Parse an RFC 4514 / RFC 2253 / RFC 1779 string into RDNs; `None` when malformed.
fn parse_dn(s: &str) -> Option<Vec<Vec<Ava>>> {
    let mut rdns = Vec::new();
    let mut rdn: Vec<Ava> = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        // attribute type
        let mut key = String::new();
        let mut has_value = false;
        for c in chars.by_ref() {
            if c == '=' {
                has_value = true;
                break;
            }
            key.push(c);
        }
        if !has_value {
            return None;
        }
        let oid = attribute_oid(&key)?;
        // value
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut raw: Vec<u8> = Vec::new();
        let mut hex_form = false;
        let mut end = None;
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => push_escaped(&mut chars, &mut raw)?,
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => push_char(&mut raw, c),
                }
            }
            if !closed {
                return None;
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            end = chars.next();
            if end.is_some_and(|c| !matches!(c, ',' | ';' | '+')) {
                return None;
            }
        } else {
            hex_form = chars.peek() == Some(&'#');
            while let Some(c) = chars.next() {
                match c {
                    '\\' => push_escaped(&mut chars, &mut raw)?,
                    ',' | ';' | '+' => {
                        end = Some(c);
                        break;
                    }
                    c => push_char(&mut raw, c),
                }
            }
        }
        let text = String::from_utf8(raw).ok()?;
        let value = if hex_form {
            let der = hex_decode(text.trim().trim_start_matches('#'))?;
            let any = <Any as der::Decode>::from_der(&der).ok()?;
            value_of_any(&any)
        } else {
            normalize_value(&text)
        };
        rdn.push((oid.to_string(), value));
        match end {
            Some('+') => {}
            Some(_) => {
                rdn.sort();
                rdns.push(std::mem::take(&mut rdn));
            }
            None => {
                rdn.sort();
                rdns.push(rdn);
                return Some(rdns);
            }
        }
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn push_char(raw: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    raw.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// After a backslash: a special character, or two hex digits of a UTF-8 byte.
fn push_escaped(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    raw: &mut Vec<u8>,
) -> Option<()> {
    let c = chars.next()?;
    if c.is_ascii_hexdigit() && chars.peek().is_some_and(char::is_ascii_hexdigit) {
        let lo = chars.next()?;
        let byte = u8::from_str_radix(&format!("{c}{lo}"), 16).ok()?;
        raw.push(byte);
    } else {
        push_char(raw, c);
    }
    Some(())
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "tests read vectors, the clock and their own randomness"
)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cert::generate_self_signed;
    use crate::crypto::test_key;

    #[test]
    fn decimals() {
        assert_eq!(decimal_of_be(&[]), "0");
        assert_eq!(decimal_of_be(&[0x00]), "0");
        assert_eq!(decimal_of_be(&[0x5a, 0x2a, 0x5b, 0x1c]), "1512725276");
        assert_eq!(decimal_of_be(&[0x00, 0xff]), "255");
        assert_eq!(decimal_of_be(&[0xff]), "-1");
        assert_eq!(decimal_of_be(&[0xff, 0x00]), "-256");
        assert_eq!(
            decimal_of_be(&[
                0x00, 0xfc, 0xb1, 0x18, 0xc7, 0xeb, 0xe1, 0x01, 0x4e, 0, 0, 0, 0, 0x50, 0xdb, 0xf8,
                0xff
            ]),
            "335884994098995284219344536225175042303"
        );
        assert_eq!(canonical_decimal(" 007 ").as_deref(), Some("7"));
        assert_eq!(canonical_decimal("-0").as_deref(), Some("0"));
        assert_eq!(canonical_decimal("+12").as_deref(), Some("12"));
        assert_eq!(canonical_decimal("-12").as_deref(), Some("-12"));
        for bad in ["", "-", "0x1f", "1f", "1 2", "١٢"] {
            assert_eq!(canonical_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn issuer_forms() {
        let cert = generate_self_signed(
            crate::testutil::P,
            test_key(),
            "CN=acme as2,OU=B2B\\, EDI,O=Acme,C=DE",
            crate::testutil::now(),
            Duration::from_secs(3600),
        )
        .unwrap();
        for ok in [
            cert.issuer().as_str(),
            "CN=acme as2,OU=B2B\\, EDI,O=Acme,C=DE",
            "CN=ACME  AS2, OU=\"B2B, EDI\", O=Acme, C=de",
            "C=DE, O=Acme, OU=B2B\\2C EDI, CN=acme as2",
            "cn=acme as2;ou=B2B\\, EDI;o=Acme;c=DE",
            "OID.2.5.4.3=acme as2, 2.5.4.11=B2B\\, EDI, O=Acme, C=DE",
        ] {
            assert!(issuer_matches(ok, &cert), "{ok}");
        }
        for bad in [
            "CN=acme,OU=B2B\\, EDI,O=Acme,C=DE",
            "CN=acme as2,O=Acme,C=DE",
            "O=Acme,CN=acme as2,OU=B2B\\, EDI,C=DE",
            "CN=acme as2,OU=\"B2B, EDI,O=Acme,C=DE",
            "XX=acme as2,OU=B2B\\, EDI,O=Acme,C=DE",
            "",
            "garbage",
        ] {
            assert!(!issuer_matches(bad, &cert), "{bad}");
        }
    }

    #[test]
    fn java_style_issuers_of_real_certificates() {
        let Some(dir) = crate::testutil::vectors() else {
            return;
        };
        let mec =
            Certificate::load(&std::fs::read(dir.join("cert_mecas2_public.pem")).unwrap()).unwrap();
        assert_eq!(serial_decimal(&mec), "1512725276");
        // X509Certificate.getIssuerDN().toString(), as mendelson writes it
        assert!(issuer_matches(
            "CN=mendelson test key 3, OU=Do not use in production, O=mendelson-e-commerce GmbH, L=Berlin, ST=Berlin, C=DE, EMAILADDRESS=service@mendelson.de",
            &mec
        ));
        let entrust =
            Certificate::load_all(&std::fs::read(dir.join("cert_sb2bi_public.pem")).unwrap())
                .unwrap();
        assert!(issuer_matches(
            "CN=Entrust Certification Authority - L1K, OU=\"(c) 2012 Entrust, Inc. - for authorized use only\", OU=See www.entrust.net/legal-terms, O=\"Entrust, Inc.\", C=US",
            &entrust[0]
        ));
    }
}
