//! Snapshots of what as2-core builds and a person reads: MDNs (unsigned, signed, error) and
//! outbound MIME entities, as crates.io's `emails_snapshot` does. Built with a fixed time, a
//! seeded `SecureRandom` and the fixed key of `tests/vectors/` (README there gives the
//! openssl command), then shown with the random parts filtered out: the `Message-ID`, any
//! `Date`, MIME boundaries and the base64 bytes of a signature. Lines end in CRLF on the wire;
//! the snapshots show them as LF.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use as2_core::CryptoProvider;
use as2_core::Modifier;
use as2_core::cert::Certificate;
use as2_core::cms::{EncryptOptions, SignOptions};
use as2_core::crypto::GetRandomFailed;
use as2_core::crypto::{
    ContentEncryption, DigestAlgorithm, MicAlgStyle, SecureRandom, rust_crypto,
};
use as2_core::mdn::{self, MdnDisposition, MdnParams};
use as2_core::message::{
    self, Compression, Encryption, Mic, NotificationOptions, OutboundMessage, Signer,
};

// openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 36500 \
//     -subj "/CN=as2-core snapshot tests" -keyout snapshot.key.pem -out snapshot.cert.pem
const KEY_PEM: &[u8] = include_bytes!("../vectors/snapshot.key.pem");
const CERT_PEM: &[u8] = include_bytes!("../vectors/snapshot.cert.pem");

/// The fixed time of every build: 2023-11-14T22:13:20Z.
fn fixed_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A deterministic generator (splitmix64 from a seed): the same bytes on every run. For
/// tests only; it is not secure.
#[derive(Debug)]
struct SeededRandom(Mutex<u64>);

impl SecureRandom for SeededRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), GetRandomFailed> {
        let mut state = self.0.lock().map_err(|_| GetRandomFailed)?;
        for chunk in dest.chunks_mut(8) {
            *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A provider whose randomness is seeded (one generator per test, so tests running in
/// parallel do not share it) and whose keys are the RustCrypto ones.
fn seeded_provider(seed: u64) -> CryptoProvider {
    CryptoProvider {
        secure_random: Box::leak(Box::new(SeededRandom(Mutex::new(seed)))),
        ..rust_crypto::DEFAULT_PROVIDER
    }
}

fn key() -> rsa::PrivateKey {
    as2_core::keys::load_private_key(KEY_PEM, None).expect("the fixed key")
}

fn certificate() -> Certificate {
    Certificate::load(CERT_PEM).expect("the fixed certificate")
}

/// Headers and body as a person reads them, with the random parts replaced, in the way of
/// crates.io's `emails_snapshot`.
fn assert_entity_snapshot(name: &str, headers: &[(String, String)], body: &[u8]) {
    let mut text = String::new();
    for (field, value) in headers {
        text.push_str(&format!("{field}: {value}\n"));
    }
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(body).replace("\r\n", "\n"));
    insta::with_settings!({
        filters => vec![
            (r"(?m)^Message-ID: <[^>\n]*>", "Message-ID: [message-id]"),
            (r"(?m)^Date: .*$", "Date: [date]"),
            (r"----=_Part_[0-9a-f]{32}", "[boundary]"),
            (r"(?m)^(?:[A-Za-z0-9+/]{76}\n)*[A-Za-z0-9+/]{4,75}={0,2}\n", "[base64 signature]\n"),
        ],
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn fixed_vectors_load() {
    let cert = certificate();
    assert!(cert.subject().contains("CN=as2-core snapshot tests"));
    assert_eq!(cert.public_key().unwrap(), key().to_public_key());
}

#[test]
fn unsigned_processed_mdn() {
    let provider = seeded_provider(1);
    let mut params = MdnParams::new(
        &provider,
        "US",
        "PARTNER",
        "<original-1@partner.example>",
        MdnDisposition::Processed,
    );
    params.mic = Some(Mic::compute(
        DigestAlgorithm::Sha256,
        b"ISA*00*payload~\r\n",
    ));
    let built = mdn::build_mdn(&params).unwrap();
    assert_entity_snapshot("unsigned_processed_mdn", &built.headers, &built.body);
}

#[test]
fn signed_processed_mdn() {
    let provider = seeded_provider(2);
    let (key, cert) = (key(), certificate());
    let mut params = MdnParams::new(
        &provider,
        "US",
        "PARTNER",
        "<original-2@partner.example>",
        MdnDisposition::Processed,
    );
    params.mic = Some(Mic::compute(
        DigestAlgorithm::Sha256,
        b"ISA*00*payload~\r\n",
    ));
    params.signer = Some(Signer::new(&cert, &key, SignOptions::new(fixed_time())));
    let built = mdn::build_mdn(&params).unwrap();
    assert_entity_snapshot("signed_processed_mdn", &built.headers, &built.body);
}

#[test]
fn signed_error_mdn_with_legacy_micalg() {
    let provider = seeded_provider(3);
    let (key, cert) = (key(), certificate());
    let mut params = MdnParams::new(
        &provider,
        "US",
        "PARTNER",
        "<original-3@partner.example>",
        MdnDisposition::Failed(Modifier::DecryptionFailed),
    );
    params.mic_style = MicAlgStyle::Rfc3851;
    params.signer = Some(Signer::new(
        &cert,
        &key,
        SignOptions::new(fixed_time()).with_digest(DigestAlgorithm::Sha1),
    ));
    let built = mdn::build_mdn(&params).unwrap();
    assert_entity_snapshot(
        "signed_error_mdn_with_legacy_micalg",
        &built.headers,
        &built.body,
    );
}

#[test]
fn plain_message_requesting_an_async_mdn() {
    let provider = seeded_provider(4);
    let mut msg = OutboundMessage::new(
        &provider,
        "US",
        "PARTNER",
        b"ISA*00*payload~\r\n",
        "application/edi-x12",
    );
    msg.filename = Some("order 1.edi".to_owned());
    msg.subject = "Order 1".to_owned();
    msg.mdn_to = Some("as2@us.example".to_owned());
    msg.receipt_delivery_option = Some("https://us.example/as2/mdn".to_owned());
    let built = message::build_outbound(&msg).unwrap();
    assert_entity_snapshot(
        "plain_message_requesting_an_async_mdn",
        &built.headers,
        &built.body,
    );
    insta::assert_snapshot!(
        "plain_message_mic",
        built.mic.to_header_value(MicAlgStyle::Rfc5751)
    );
}

#[test]
fn signed_message_requesting_a_signed_mdn() {
    let provider = seeded_provider(5);
    let (key, cert) = (key(), certificate());
    let mut msg = OutboundMessage::new(
        &provider,
        "US",
        "PARTNER",
        b"ISA*00*payload~\r\n",
        "application/edi-x12",
    );
    msg.signer = Some(Signer::new(&cert, &key, SignOptions::new(fixed_time())));
    msg.mdn_to = Some("as2@us.example".to_owned());
    msg.mdn_options = Some(NotificationOptions::signed(&[DigestAlgorithm::Sha256]));
    let built = message::build_outbound(&msg).unwrap();
    assert_entity_snapshot(
        "signed_message_requesting_a_signed_mdn",
        &built.headers,
        &built.body,
    );
}

/// Encrypted and compressed bodies are DER: only the headers are shown.
#[test]
fn signed_compressed_encrypted_message_headers() {
    let provider = seeded_provider(6);
    let (key, cert) = (key(), certificate());
    let mut msg = OutboundMessage::new(
        &provider,
        "US",
        "PARTNER",
        b"ISA*00*payload~\r\n",
        "application/edi-x12",
    );
    msg.signer = Some(Signer::new(&cert, &key, SignOptions::new(fixed_time())));
    msg.compression = Compression::BeforeSigning;
    msg.encryption = Some(Encryption::new(
        vec![&cert],
        EncryptOptions::new(ContentEncryption::Aes256Cbc),
    ));
    let built = message::build_outbound(&msg).unwrap();
    assert_entity_snapshot(
        "signed_compressed_encrypted_message_headers",
        &built.headers,
        b"",
    );
}
