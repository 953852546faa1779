//! `as2 inspect FILE`: the layers of a captured AS2 request or MDN, without any key.
//!
//! Encrypted layers show the cipher and each recipient (issuer and serial, key transport);
//! signatures show the digest, signature algorithm, signer identifier and embedded
//! certificates; compressed layers are inflated (no key needed) and inspected further.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use as2_core::crypto::{ContentEncryption, DigestAlgorithm, KeyTransport, MicAlgStyle, oids};
use as2_core::mime::Entity;
use cms::content_info::ContentInfo;
use cms::enveloped_data::{RecipientIdentifier, RecipientInfo, RecipientInfos};
use cms::signed_data::{SignedData, SignerIdentifier};
use der::EncodingRules;
use der::asn1::ObjectIdentifier;
use serde_json::{Value, json};

use crate::Outcome;
use crate::capture;

/// A readable name for an OID.
fn oid_name(oid: &ObjectIdentifier) -> String {
    if let Ok(c) = ContentEncryption::from_oid(oid) {
        return c.name().to_owned();
    }
    if let Ok(d) = DigestAlgorithm::from_oid(oid) {
        return d.name(MicAlgStyle::Rfc5751).to_owned();
    }
    const_oid::db::DB
        .by_oid(oid)
        .map_or_else(|| oid.to_string(), str::to_owned)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode<T>(ci: &ContentInfo) -> Result<T>
where
    T: for<'a> der::Choice<'a> + for<'a> der::DecodeValue<'a, Error = der::Error>,
{
    Ok(ci.content.decode_as_encoding::<T>(EncodingRules::Ber)?)
}

fn recipients_json(infos: &RecipientInfos) -> Vec<Value> {
    infos
        .0
        .iter()
        .map(|ri| match ri {
            RecipientInfo::Ktri(k) => {
                let transport = KeyTransport::from_algorithm_identifier(&k.key_enc_alg)
                    .map_or_else(|_| oid_name(&k.key_enc_alg.oid), |t| format!("{t:?}"));
                let mut v = match &k.rid {
                    RecipientIdentifier::IssuerAndSerialNumber(ias) => json!({
                        "issuer": ias.issuer.to_string(),
                        "serial": hex(ias.serial_number.as_bytes()),
                    }),
                    RecipientIdentifier::SubjectKeyIdentifier(ski) => {
                        json!({ "subject_key_id": hex(ski.0.as_bytes()) })
                    }
                };
                v["key_transport"] = json!(transport);
                v
            }
            _ => json!({ "kind": "not key transport (kari/kekri/pwri/ori)" }),
        })
        .collect()
}

/// The layer description of an encrypted entity.
fn enveloped(data: &[u8]) -> Result<Value> {
    let ci = as2_core::cms::parse_content_info(data)?;
    if ci.content_type == oids::AUTH_ENVELOPED_DATA {
        let aed: cms::authenveloped_data::AuthEnvelopedData = decode(&ci)?;
        let eci = &aed.auth_encrypted_content_info;
        return Ok(json!({
            "layer": "encrypted",
            "cms": "AuthEnvelopedData",
            "algorithm": oid_name(&eci.content_enc_alg.oid),
            "recipients": recipients_json(&aed.recip_infos),
        }));
    }
    let ed: cms::enveloped_data::EnvelopedData = decode(&ci)?;
    let eci = &ed.encrypted_content;
    Ok(json!({
        "layer": "encrypted",
        "cms": "EnvelopedData",
        "algorithm": oid_name(&eci.content_enc_alg.oid),
        "encrypted_bytes": eci.encrypted_content.as_ref().map_or(0, |c| c.as_bytes().len()),
        "recipients": recipients_json(&ed.recip_infos),
    }))
}

/// The signer infos and certificates of a SignedData.
fn signature(data: &[u8]) -> Result<Value> {
    let ci = as2_core::cms::parse_content_info(data)?;
    let sd: SignedData = decode(&ci)?;
    let signers: Vec<Value> = sd
        .signer_infos
        .0
        .iter()
        .map(|si| {
            let mut v = match &si.sid {
                SignerIdentifier::IssuerAndSerialNumber(ias) => json!({
                    "issuer": ias.issuer.to_string(),
                    "serial": hex(ias.serial_number.as_bytes()),
                }),
                SignerIdentifier::SubjectKeyIdentifier(ski) => {
                    json!({ "subject_key_id": hex(ski.0.as_bytes()) })
                }
            };
            v["digest"] = json!(oid_name(&si.digest_alg.oid));
            v["signature_algorithm"] = json!(oid_name(&si.signature_algorithm.oid));
            v["signed_attributes"] = json!(si.signed_attrs.is_some());
            v
        })
        .collect();
    let certs: Vec<Value> = as2_core::cms::embedded_certificates(data)
        .unwrap_or_default()
        .iter()
        .map(crate::creds::cert_json)
        .collect();
    Ok(json!({ "signers": signers, "certificates": certs }))
}

/// Describe an entity and the entities inside it, outermost first.
fn walk(entity: &Entity, layers: &mut Vec<Value>, depth: usize) -> Result<()> {
    let ct = entity.content_type();
    if depth > 8 {
        layers.push(json!({ "layer": "error", "error": "nesting deeper than 8 layers" }));
        return Ok(());
    }
    if ct.is("multipart/signed") {
        let (inner, sig_part) = entity.split_signed()?;
        let mut v = signature(&sig_part.decoded_body()?)?;
        v["layer"] = json!("signed");
        v["micalg"] = json!(ct.param("micalg"));
        layers.push(v);
        return walk(&inner, layers, depth + 1);
    }
    if ct.is_pkcs7_mime() {
        let data = entity.decoded_body()?;
        let oid = as2_core::cms::content_type_of(&data)?;
        if oid == oids::ENVELOPED_DATA || oid == oids::AUTH_ENVELOPED_DATA {
            layers.push(enveloped(&data)?);
            return Ok(());
        }
        if oid == oids::COMPRESSED_DATA {
            let inflated =
                as2_core::cms::decompress(&data, as2_core::cms::DEFAULT_MAX_DECOMPRESSED)?;
            layers.push(json!({
                "layer": "compressed",
                "algorithm": "zlib",
                "compressed_bytes": data.len(),
                "inflated_bytes": inflated.len(),
            }));
            return walk(&Entity::parse_or_body(&inflated), layers, depth + 1);
        }
        if oid == oids::SIGNED_DATA {
            let mut v = signature(&data)?;
            v["layer"] = json!("signed (opaque, signed-data)");
            layers.push(v);
            return Ok(());
        }
        layers.push(json!({ "layer": "cms", "content_type": oid_name(&oid) }));
        return Ok(());
    }
    if ct.is("multipart/report") || ct.is("message/disposition-notification") {
        let parsed = as2_core::mdn::parse_mdn(entity.headers(), entity.body(), &[])?;
        layers.push(json!({
            "layer": "mdn",
            "disposition": parsed.disposition_raw,
            "delivered": parsed.is_delivered(),
            "original_message_id": parsed.original_message_id,
            "final_recipient": parsed.final_recipient,
            "received_content_mic": parsed.mic_raw,
            "reporting_ua": parsed.reporting_ua,
            "text": parsed.text,
        }));
        return Ok(());
    }
    let payload = entity.decoded_body()?;
    layers.push(json!({
        "layer": "payload",
        "content_type": entity.headers().get("content-type"),
        "content_transfer_encoding": entity.headers().get("content-transfer-encoding"),
        "filename": entity.filename(),
        "bytes": payload.len(),
    }));
    Ok(())
}

fn line_for(layer: &Value) -> String {
    let mut s = format!("- {}", layer["layer"].as_str().unwrap_or("?"));
    if let Value::Object(map) = layer {
        for (k, v) in map {
            if k == "layer" || v.is_null() {
                continue;
            }
            match v {
                Value::Array(items) => {
                    let _ = write!(s, "\n    {k}:");
                    for it in items {
                        let _ = write!(s, "\n      {it}");
                    }
                }
                Value::String(t) => {
                    let _ = write!(s, "\n    {k}: {t}");
                }
                other => {
                    let _ = write!(s, "\n    {k}: {other}");
                }
            }
        }
    }
    s
}

/// Run `inspect`.
///
/// # Errors
/// The file cannot be read or split.
pub fn run(file: &Path) -> Result<Outcome> {
    let cap = capture::read(file)?;
    let headers: Vec<Value> = cap
        .headers
        .iter()
        .map(|(n, v)| json!({ "name": n, "value": v }))
        .collect();
    let envelope = as2_core::message::Envelope::from_headers(&cap.headers).ok();
    let top = Entity::from_parts(cap.headers.clone(), &cap.body);
    let mut layers = Vec::new();
    let mut code = 0;
    if let Err(e) = walk(&top, &mut layers, 0) {
        layers.push(json!({ "layer": "error", "error": format!("{e:#}") }));
        code = 1;
    }
    let json = json!({
        "start_line": cap.start_line,
        "headers": headers,
        "as2_from": envelope.as_ref().map(|e| e.as2_from.clone()),
        "as2_to": envelope.as_ref().map(|e| e.as2_to.clone()),
        "message_id": cap.headers.get("message-id"),
        "body_bytes": cap.body.len(),
        "layers": layers,
    });
    let mut text = String::new();
    if let Some(l) = &cap.start_line {
        let _ = writeln!(text, "{l}");
    }
    for (n, v) in cap.headers.iter() {
        let _ = writeln!(text, "{n}: {v}");
    }
    let _ = writeln!(text, "\nbody: {} bytes\nlayers:", cap.body.len());
    for l in &layers {
        let _ = writeln!(text, "{}", line_for(l));
    }
    Ok(Outcome { json, text, code })
}
