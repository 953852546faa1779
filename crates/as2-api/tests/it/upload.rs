//! Helpers of the resource tests: multipart bodies, requests with a body of any type, and
//! test certificates (as2-core's generator, or the openssl command line for PKCS#12).

#![allow(dead_code)]

use std::process::Command;
use std::time::Duration;

use as2_core::cert::Certificate;
use axum::body::Body;
use axum::http::{Method, Request};

use crate::common::{Reply, TestApi};

/// One part of a multipart body: name, optional file name, content.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content: &'a [u8],
}

/// A `multipart/form-data` body and its Content-Type.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----as2-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part.filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                    part.name
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", part.name)
                    .as_bytes(),
            ),
        }
        body.extend_from_slice(part.content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// POSTs a multipart body with the test key.
pub async fn post_multipart(api: &TestApi, path: &str, parts: &[Part<'_>]) -> Reply {
    let (content_type, body) = multipart(parts);
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {}", api.key))
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    api.send(request).await
}

/// A fresh RSA key with a self-signed certificate valid for `days`: (key PEM, certificate).
pub fn key_and_certificate(subject: &str, days: u64) -> (String, Certificate) {
    let key =
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .unwrap();
    let cert = as2_core::cert::generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &key,
        subject,
        std::time::SystemTime::now(),
        Duration::from_secs(days * 86_400),
    )
    .unwrap();
    let pem = as2_core::keys::private_key_to_pem(&key).unwrap();
    (pem.as_str().to_owned(), cert)
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(as2_core::crypto::DigestAlgorithm::Sha256.digest(data))
}

/// A key pair made by openssl and bundled as PKCS#12 under `password`:
/// (PKCS#12 bytes, key PEM, certificate PEM). The commands:
///
/// ```text
/// openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -subj /CN=test -days 30
/// openssl pkcs12 -export -inkey k.pem -in c.pem -out b.p12 -passout pass:<password>
/// ```
pub fn openssl_pkcs12(password: &str) -> (Vec<u8>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("openssl must be installed for this test");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-out", "c.pem",
        "-subj", "/CN=test", "-days", "30",
    ]);
    let pass = format!("pass:{password}");
    run(&[
        "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-out", "b.p12", "-passout", &pass,
    ]);
    let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
    (
        read("b.p12"),
        String::from_utf8(read("k.pem")).unwrap(),
        String::from_utf8(read("c.pem")).unwrap(),
    )
}

/// The base64 body lines of a PEM text (to look for them in responses).
pub fn pem_body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .map(str::to_owned)
        .collect()
}
