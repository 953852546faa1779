//! Shared fixtures of the trust lifecycle's integration tests: a tenant with a station and
//! a partner, certificates (metadata only, or real X.509 with one RSA key per test binary),
//! a second store on the same database (another gateway), and an RFC 3161 TSA over HTTP.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration as StdDuration, SystemTime};

use as2_core::cert::Certificate as X509;
use as2_domain::Mode;
use as2_domain::certificate::CertificateInfo;
use as2_domain::id::CertificateId;
use as2_domain::partner::{Partner, PartnerSettings};
use as2_domain::plan::Plan;
use as2_domain::station::{Station, StationSettings};
use as2_evidence::authority::TimeStampAuthority;
use as2_store::repo::certificates::NewCertificate;
use as2_store::testing::{TestDb, test_secrets};
use as2_store::{Database, PoolOptions, Scope, Store};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Duration, Utc};

/// The AS2 ID of our station in every fixture.
pub const STATION_AS2_ID: &str = "STATION";
/// The AS2 ID of the partner in every fixture.
pub const PARTNER_AS2_ID: &str = "PARTNER";

/// A tenant in test mode with one station and one partner.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub scope: Scope,
    pub station: Station,
    pub partner: Partner,
}

/// A fresh tenant (own account) in test mode.
pub fn scope(store: &Store) -> Scope {
    let account = store
        .accounts()
        .create_account("Acme", Plan::Starter)
        .unwrap();
    let tenant = store
        .accounts()
        .create_tenant(account.id, "Acme EU")
        .unwrap();
    Scope::new(tenant.id, Mode::Test)
}

/// A tenant with a station (no key pair) and a partner whose certificate is `partner_cert`
/// (created by `make`, which gets the store and the scope).
pub fn fixture(
    store: &Store,
    make: impl FnOnce(&Store, Scope) -> Option<CertificateId>,
) -> Fixture {
    let scope = scope(store);
    let mut settings = StationSettings {
        name: "Our station".into(),
        as2_id: STATION_AS2_ID.into(),
        certificate_id: None,
        encryption_certificate_id: None,
        mdn_url: None,
        is_default: true,
    };
    // A station's AS2 ID is unique per mode on the platform: the first fixture of a store
    // gets STATION_AS2_ID, the others one of their own.
    let station = match store.stations().create(scope, &settings) {
        Err(as2_store::StoreError::Conflict(_)) => {
            settings.as2_id = format!("{STATION_AS2_ID}-{}", scope.tenant_id);
            store.stations().create(scope, &settings)
        }
        other => other,
    }
    .unwrap();
    let certificate = make(store, scope);
    let mut settings = PartnerSettings::new(
        "Partner".into(),
        PARTNER_AS2_ID.into(),
        "https://partner.example/as2".into(),
        station.id,
    );
    settings.encrypt = false;
    settings.certificate_id = certificate;
    let partner = store.partners().create(scope, &settings, None).unwrap();
    Fixture {
        scope,
        station,
        partner,
    }
}

/// A distinct fake fingerprint per call.
fn fingerprint() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:064x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Certificate metadata valid from a day ago until `not_after`.
pub fn info(not_after: DateTime<Utc>) -> CertificateInfo {
    CertificateInfo {
        subject: "CN=partner".into(),
        issuer: "CN=partner".into(),
        serial: "0a1b".into(),
        fingerprint_sha256: fingerprint(),
        not_before: Utc::now() - Duration::days(1),
        not_after,
        key_usage: vec!["digitalSignature".into(), "keyEncipherment".into()],
    }
}

/// A stored certificate with metadata only (its DER is a placeholder): enough for the
/// lifecycle, which reads the metadata.
pub fn fake_certificate(store: &Store, scope: Scope, not_after: DateTime<Utc>) -> CertificateId {
    store
        .certificates()
        .create(
            scope,
            &NewCertificate {
                name: "fake",
                info: &info(not_after),
                der: b"\x30\x03\x02\x01\x01",
                chain_der: None,
                private_key_der: None,
            },
        )
        .unwrap()
        .id
}

/// The RSA key of this test binary (generated once: key generation is slow).
pub fn key() -> &'static rsa::PrivateKey {
    static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .unwrap()
    })
}

/// A real self-signed certificate over [`key`] (valid from an hour ago for `valid_for`).
pub fn x509(subject: &str, valid_for: Duration) -> X509 {
    as2_core::cert::generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        key(),
        subject,
        SystemTime::now(),
        valid_for.to_std().unwrap(),
    )
    .unwrap()
}

/// Stores a real certificate, with [`key`] as its private key when `key_pair`.
pub fn store_x509(store: &Store, scope: Scope, cert: &X509, key_pair: bool) -> CertificateId {
    let pkcs8 = pkcs8::EncodePrivateKey::to_pkcs8_der(key()).unwrap();
    store
        .certificates()
        .create(
            scope,
            &NewCertificate {
                name: "real",
                info: &as2_trust::certificate::info(cert),
                der: cert.der(),
                chain_der: None,
                private_key_der: key_pair.then_some(pkcs8.as_bytes()),
            },
        )
        .unwrap()
        .id
}

/// Another pool on the same database: a second gateway process.
pub fn second_store(db: &TestDb) -> Store {
    let database = Database::connect(&db.url, &PoolOptions::default()).unwrap();
    Store::new(database, test_secrets())
}

/// The backend's name, for assertion messages.
pub fn backend(db: &TestDb) -> &'static str {
    if db.url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A TSA over HTTP on 127.0.0.1 with one route per behaviour:
/// `/tsa` answers properly, `/garbage` with bytes that are no TimeStampResp,
/// `/other-hash` with a token over another hash (nonce echoed), `/error` with HTTP 500.
#[derive(Debug)]
pub struct HttpTsa {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// The TSA's certificate.
    pub certificate: X509,
    server: tokio::task::JoinHandle<()>,
}

impl HttpTsa {
    /// The URL of a route.
    pub fn url(&self, route: &str) -> String {
        format!("{}{route}", self.base)
    }

    /// The TSA certificate as PEM bytes (what `AS2_TSA_CERT` holds).
    pub fn pem(&self) -> Vec<u8> {
        self.certificate.to_pem().into_bytes()
    }
}

impl Drop for HttpTsa {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct TsaState {
    authority: TimeStampAuthority,
    serial: AtomicU64,
}

fn reply(der: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/timestamp-reply")], der).into_response()
}

async fn good(State(tsa): State<Arc<TsaState>>, body: Bytes) -> Response {
    let serial = u128::from(tsa.serial.fetch_add(1, Ordering::Relaxed));
    reply(tsa.authority.respond(&body, SystemTime::now(), serial))
}

async fn garbage() -> Response {
    reply(b"this is not a time-stamp response".to_vec())
}

async fn other_hash(State(tsa): State<Arc<TsaState>>, body: Bytes) -> Response {
    let asked = as2_evidence::request::parse_request(&body).unwrap();
    let other = as2_evidence::sha256(b"some other event");
    let forged = as2_evidence::request::TimeStampRequest::new(&other, asked.nonce_u64())
        .to_der()
        .unwrap();
    let serial = u128::from(tsa.serial.fetch_add(1, Ordering::Relaxed));
    reply(tsa.authority.respond(&forged, SystemTime::now(), serial))
}

async fn error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "TSA on fire").into_response()
}

/// Starts the TSA (its key is [`key`]).
pub async fn http_tsa() -> HttpTsa {
    let certificate = as2_evidence::authority::generate_tsa_certificate(
        key(),
        "CN=Test TSA,O=Tests",
        SystemTime::now() - StdDuration::from_secs(3600),
        StdDuration::from_secs(30 * 86_400),
    )
    .unwrap();
    let state = Arc::new(TsaState {
        authority: TimeStampAuthority::new(
            certificate.clone(),
            Box::new(key().clone()),
            as2_evidence::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.7"),
        ),
        serial: AtomicU64::new(1),
    });
    let app = Router::new()
        .route("/tsa", post(good))
        .route("/garbage", post(garbage))
        .route("/other-hash", post(other_hash))
        .route("/error", post(error))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    HttpTsa {
        base,
        certificate,
        server,
    }
}

/// A URL on 127.0.0.1 where nothing listens (a port bound and released).
pub async fn closed_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/tsa")
}

/// A stamper whose TSA client may connect to loopback (the test TSA is on 127.0.0.1, which
/// the platform refuses by default).
pub fn local_stamper(
    store: Store,
    config: as2_trust::stamper::TsaConfig,
) -> as2_trust::stamper::Stamper {
    stamper_under(
        store,
        config,
        as2_domain::destination::DestinationPolicy::loopback(),
    )
}

/// A stamper whose TSA queries go through the platform's outbound client under `policy`.
pub fn stamper_under(
    store: Store,
    config: as2_trust::stamper::TsaConfig,
    policy: as2_domain::destination::DestinationPolicy,
) -> as2_trust::stamper::Stamper {
    let client = as2_engine::http_client::OutboundClient::new(
        policy,
        "as2-trust-tests",
        StdDuration::from_secs(30),
    )
    .unwrap();
    as2_trust::stamper::Stamper::with_transport(store, config, Arc::new(client))
}
