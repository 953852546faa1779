//! Test certificates for real TLS on 127.0.0.1: a private CA and server (or client)
//! certificates it issues, as PEM, made with rcgen; and `openssl s_client` runs against a
//! listener, the independent client the TLS tests check protocol versions with.

use std::path::Path;
use std::process::{Command, Stdio};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A private certificate authority that issues leaf certificates.
#[derive(Debug)]
pub struct TestCa {
    /// The CA certificate (PEM), what a client trusts.
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate (PEM) and its private key (PKCS#8 PEM).
#[derive(Debug, Clone)]
pub struct TestPair {
    /// The certificate, then the CA's (the chain a server presents).
    pub chain_pem: String,
    /// The private key.
    pub key_pem: String,
}

impl TestCa {
    /// A new CA named `name`.
    ///
    /// # Panics
    /// rcgen fails (a test fixture).
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `localhost` and `127.0.0.1`, with `common_name` as its
    /// subject (so two of them can be told apart).
    ///
    /// # Panics
    /// rcgen fails (a test fixture).
    pub fn server(&self, common_name: &str) -> TestPair {
        self.leaf(
            common_name,
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate named `common_name` (for mutual TLS).
    ///
    /// # Panics
    /// rcgen fails (a test fixture).
    pub fn client(&self, common_name: &str) -> TestPair {
        self.leaf(common_name, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(
        &self,
        common_name: &str,
        names: Vec<String>,
        usage: ExtendedKeyUsagePurpose,
    ) -> TestPair {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::new(names).expect("leaf params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![usage];
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        TestPair {
            chain_pem: format!("{}{}", cert.pem(), self.cert_pem),
            key_pem: key.serialize_pem(),
        }
    }
}

impl TestPair {
    /// Writes the chain and key to `cert` and `key`.
    ///
    /// # Errors
    /// A file cannot be written.
    pub fn write(&self, cert: &Path, key: &Path) -> std::io::Result<()> {
        std::fs::write(cert, &self.chain_pem)?;
        std::fs::write(key, &self.key_pem)
    }
}

/// What `openssl s_client` made of a handshake.
#[derive(Debug)]
pub struct Handshake {
    /// Whether the handshake succeeded (a protocol was negotiated).
    pub succeeded: bool,
    /// Everything it printed (stdout and stderr), for the assertion message.
    pub output: String,
}

/// Runs `openssl s_client -connect 127.0.0.1:{port} {version_flag}` (for example `-tls1_1`),
/// trusting `ca_file`. Security level 0 lets openssl itself offer TLS 1.0 and 1.1, so a
/// refusal is the server's.
///
/// # Panics
/// `openssl` cannot be started (check [`crate::openssl::available`] first).
pub fn s_client(port: u16, version_flag: &str, ca_file: &Path) -> Handshake {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .arg(version_flag)
        .args(["-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile"])
        .arg(ca_file)
        .args(["-verify_return_error", "-servername", "localhost"])
        .stdin(Stdio::null())
        .output()
        .expect("running openssl s_client");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let succeeded = out.status.success()
        && output.contains("Verify return code: 0 (ok)")
        && !output.contains("Cipher is (NONE)");
    Handshake { succeeded, output }
}
