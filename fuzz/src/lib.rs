//! Shared fixtures for the fuzz targets: a fixed RSA key and its certificate
//! (`keys/`, made once with `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem
//! -out cert.pem -days 36500 -subj /CN=as2-fuzz -sha256`), and a splitter for
//! `headers CRLF CRLF body` inputs.

use std::sync::OnceLock;

use as2_core::cert::Certificate;
use as2_core::crypto::PrivateKeyOps;
use as2_core::mime::Headers;

/// The fixed key pair.
pub struct Fixture {
    /// The private key.
    pub key: Box<dyn PrivateKeyOps>,
    /// Its certificate.
    pub cert: Certificate,
}

/// The fixed key pair, loaded once.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture {
        key: Box::new(
            as2_core::keys::load_private_key(include_bytes!("../keys/key.pem"), None)
                .expect("fixed key"),
        ),
        cert: Certificate::load(include_bytes!("../keys/cert.pem")).expect("fixed cert"),
    })
}

/// Split fuzz input into headers and body at the first blank line (CRLF or LF). Returns
/// `None` when the header block does not parse.
pub fn split_message(data: &[u8]) -> Option<(Headers, &[u8])> {
    let (head, body) = if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
        (&data[..i], &data[i + 4..])
    } else if let Some(i) = data.windows(2).position(|w| w == b"\n\n") {
        (&data[..i], &data[i + 2..])
    } else {
        (data, &data[data.len()..])
    };
    Headers::parse(head).ok().map(|h| (h, body))
}
