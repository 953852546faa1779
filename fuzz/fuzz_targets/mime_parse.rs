//! MIME: entity parsing, multipart splitting, multipart/signed, transfer decoding,
//! header and Content-Type parsing, on arbitrary bytes.
#![no_main]

use as2_core::mime::{ContentType, Entity, Headers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Headers::parse(data);
    let _ = Headers::parse_lenient(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let ct = ContentType::parse(text);
        let _ = ct.param("boundary");
        let _ = as2_core::message::NotificationOptions::parse(text);
        let _ = as2_core::message::Mic::parse(text);
        let _ = as2_core::mdn::MdnDisposition::parse(text);
        let _ = as2_core::mime::sanitize_filename(text);
    }
    let entity = Entity::parse_or_body(data);
    let _ = entity.decoded_body();
    let _ = entity.filename();
    if let Ok(parts) = entity.parts() {
        for p in parts {
            let _ = p.decoded_body();
            let _ = p.parts();
        }
    }
    let _ = entity.split_signed();
});
