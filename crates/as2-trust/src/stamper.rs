//! Time-stamping of timeline events (RFC 3161): the built-in authority, whose identity is
//! created once per installation and kept in the database, or a TSA over HTTP
//! (`application/timestamp-query`, RFC 3161 §3.4).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use as2_core::cert::Certificate;
use as2_evidence::PolicyId;
use as2_evidence::authority::TimeStampAuthority;
use as2_store::Store;
use as2_store::repo::trust::TrustEvent;
use tokio::sync::OnceCell;

use crate::tsa_transport::{TransportError, TsaTransport};

/// Why an event could not be time-stamped (it stays without a token and is retried).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StampError {
    /// The event hash is not a SHA-256 value in hex.
    #[error("the event hash is not a hex SHA-256 value")]
    BadHash,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] as2_store::StoreError),
    /// The built-in authority's identity could not be made or read.
    #[error("the built-in time-stamping authority is unusable: {0}")]
    Authority(String),
    /// The TSA could not be reached or answered with an HTTP error.
    #[error("the TSA at {url} did not answer: {reason}")]
    Unreachable {
        /// The TSA's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The TSA's address is one the destination policy refuses, or it answered with a
    /// redirect (never followed).
    #[error("the TSA at {url} was not used: {reason}")]
    Refused {
        /// The TSA's URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The TSA answered with something that is not a valid token for this event.
    #[error("the TSA's answer is not a valid time-stamp: {0}")]
    Invalid(as2_evidence::Error),
}

/// The policy the built-in authority issues its tokens under (RFC 3161 `TSAPolicyId`) unless
/// the operator names one (`AS2_TSA_POLICY_OID`): an identifier the installation owns without
/// registering anything, `2.25.<UUID>` (ITU-T X.667), the UUID derived from the
/// installation's own TSA certificate (made once, on first use): a version-8 UUID of the first
/// 16 bytes of its SHA-256. It names this installation's time-stamping practice: an event
/// hash, stamped when the event is recorded, by an authority whose key never leaves the
/// installation's database.
#[must_use]
pub fn installation_policy(tsa_certificate: &Certificate) -> PolicyId {
    let digest = as2_evidence::sha256(tsa_certificate.der());
    let mut bytes = [0; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8: a custom UUID (RFC 9562 §5.8)
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // the RFC 9562 variant
    PolicyId::from_uuid(u128::from_be_bytes(bytes))
}

/// Where time-stamp tokens come from.
#[derive(Debug, Clone)]
pub enum TsaConfig {
    /// The built-in authority (one identity per installation, in the database), under the
    /// installation's own policy ([`installation_policy`]).
    BuiltIn,
    /// The built-in authority under the policy the operator names (`AS2_TSA_POLICY_OID`).
    BuiltInUnder(PolicyId),
    /// An RFC 3161 TSA over HTTP, and the certificates its tokens are trusted under.
    Remote {
        /// `http(s)://…` of the TSA.
        url: String,
        /// The TSA's certificate(s) (PEM or DER), to verify its tokens.
        trusted: Vec<Certificate>,
    },
}

impl TsaConfig {
    /// A remote TSA at `url` whose tokens verify under the certificates in `certificates`
    /// (PEM, one or more, or DER).
    ///
    /// # Errors
    /// The URL is not `http(s)://…` or the certificates do not parse.
    pub fn remote(url: &str, certificates: &[u8]) -> Result<Self, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("the TSA URL must be http(s)://…, not {url:?}"));
        }
        let trusted = Certificate::load_all(certificates)
            .map_err(|e| format!("the TSA certificate does not parse: {e}"))?;
        if trusted.is_empty() {
            return Err("the TSA certificate file holds no certificate".into());
        }
        Ok(Self::Remote {
            url: url.to_owned(),
            trusted,
        })
    }

    /// The configuration from `AS2_TSA_URL` and `AS2_TSA_CERT` (a file): the built-in
    /// authority when no URL is set, under `AS2_TSA_POLICY_OID` when that is set.
    ///
    /// # Errors
    /// A URL without a certificate file, an unreadable file, or a bad URL or certificate.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let policy = var("AS2_TSA_POLICY_OID")
            .map(|oid| {
                oid.parse::<PolicyId>()
                    .map_err(|e| format!("AS2_TSA_POLICY_OID: {e}"))
            })
            .transpose()?;
        match (var("AS2_TSA_URL"), var("AS2_TSA_CERT")) {
            (Some(_), _) if policy.is_some() => Err(
                "AS2_TSA_POLICY_OID names the built-in authority's policy; a remote TSA (AS2_TSA_URL) issues under its own"
                    .into(),
            ),
            (None, _) => Ok(policy.map_or(Self::BuiltIn, Self::BuiltInUnder)),
            (Some(_), None) => Err(
                "AS2_TSA_URL needs AS2_TSA_CERT, the TSA's certificate (PEM) to verify its tokens"
                    .into(),
            ),
            (Some(url), Some(path)) => {
                let bytes = std::fs::read(&path)
                    .map_err(|e| format!("cannot read AS2_TSA_CERT {path}: {e}"))?;
                Self::remote(&url, &bytes)
            }
        }
    }
}

/// Issues and checks time-stamp tokens.
#[derive(Debug, Clone)]
pub struct Stamper {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    config: TsaConfig,
    built_in: OnceCell<Arc<BuiltIn>>,
    /// How queries reach a remote TSA; `None`: a remote TSA is unreachable.
    transport: Option<Arc<dyn TsaTransport>>,
}

#[derive(Debug)]
struct BuiltIn {
    id: i64,
    authority: TimeStampAuthority,
}

impl Stamper {
    /// A stamper over `store` (which keeps the built-in identity) with `config` and no way to
    /// reach a remote TSA (enough for [`TsaConfig::BuiltIn`]).
    pub fn new(store: Store, config: TsaConfig) -> Self {
        Self::build(store, config, None)
    }

    /// A stamper whose queries to a remote TSA go through `transport` (the binary passes the
    /// platform's outbound client, with its destination policy and no redirects).
    pub fn with_transport(
        store: Store,
        config: TsaConfig,
        transport: Arc<dyn TsaTransport>,
    ) -> Self {
        Self::build(store, config, Some(transport))
    }

    fn build(store: Store, config: TsaConfig, transport: Option<Arc<dyn TsaTransport>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                config,
                built_in: OnceCell::new(),
                transport,
            }),
        }
    }

    /// A token over `hash` (the hex SHA-256 chain hash of an event).
    pub async fn token(&self, hash: &str) -> Result<Vec<u8>, StampError> {
        let digest = digest(hash)?;
        match &self.inner.config {
            TsaConfig::BuiltIn | TsaConfig::BuiltInUnder(_) => {
                let built_in = self.built_in().await?;
                let store = self.inner.store.clone();
                tokio::task::spawn_blocking(move || {
                    let serial = store.timestamp_authority().next_serial(built_in.id)?;
                    built_in
                        .authority
                        .issue(
                            &digest,
                            None,
                            SystemTime::now(),
                            u128::from(serial.unsigned_abs()),
                        )
                        .map_err(|e| StampError::Authority(e.to_string()))
                })
                .await
                .map_err(|e| StampError::Authority(e.to_string()))?
            }
            TsaConfig::Remote { url, trusted } => self.remote(url, trusted, &digest).await,
        }
    }

    /// Time-stamps a stored event and attaches the token; failures are logged and left for
    /// [`crate::scheduler::stamp_pending`] to retry.
    pub async fn stamp_event(&self, event: &TrustEvent) -> bool {
        let token = match self.token(&event.hash).await {
            Ok(token) => token,
            Err(e) => {
                tracing::warn!(event = %event.id, error = %e, "trust event not time-stamped yet");
                return false;
            }
        };
        let store = self.inner.store.clone();
        let id = event.id;
        match tokio::task::spawn_blocking(move || store.trust().set_token(id, &token)).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                tracing::warn!(event = %id, error = %e, "time-stamp token not stored");
                false
            }
            Err(e) => {
                tracing::warn!(event = %id, error = %e, "time-stamping task failed");
                false
            }
        }
    }

    /// The TSA certificates tokens are verified under.
    pub async fn trusted(&self) -> Result<Vec<Certificate>, StampError> {
        match &self.inner.config {
            TsaConfig::BuiltIn | TsaConfig::BuiltInUnder(_) => {
                Ok(vec![self.built_in().await?.authority.certificate.clone()])
            }
            TsaConfig::Remote { trusted, .. } => Ok(trusted.clone()),
        }
    }

    async fn built_in(&self) -> Result<Arc<BuiltIn>, StampError> {
        let store = self.inner.store.clone();
        let policy = match &self.inner.config {
            TsaConfig::BuiltInUnder(policy) => Some(policy.clone()),
            _ => None,
        };
        self.inner
            .built_in
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || load_or_create(&store, policy))
                    .await
                    .map_err(|e| StampError::Authority(e.to_string()))?
                    .map(Arc::new)
            })
            .await
            .cloned()
    }

    async fn remote(
        &self,
        url: &str,
        trusted: &[Certificate],
        digest: &[u8; 32],
    ) -> Result<Vec<u8>, StampError> {
        let nonce: u64 = rand::random();
        let request = as2_evidence::request::TimeStampRequest::new(digest, Some(nonce))
            .to_der()
            .map_err(StampError::Invalid)?;
        let unreachable = |reason: String| StampError::Unreachable {
            url: url.to_owned(),
            reason,
        };
        let refused = |reason: String| StampError::Refused {
            url: url.to_owned(),
            reason,
        };
        let transport = self.inner.transport.as_ref().ok_or_else(|| {
            unreachable("no HTTP transport is configured for a remote TSA".into())
        })?;
        let body = transport.query(url, request).await.map_err(|e| match e {
            TransportError::Refused(why) => refused(why),
            TransportError::Unreachable(why) => unreachable(why),
        })?;
        as2_evidence::verify::verify_response(&body, digest, Some(nonce), trusted)
            .map_err(StampError::Invalid)?;
        as2_evidence::verify::token_from_response(&body).map_err(StampError::Invalid)
    }
}

/// The hex chain hash as the 32 bytes the token's message imprint carries.
pub fn digest(hash: &str) -> Result<[u8; 32], StampError> {
    hex::decode(hash)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(StampError::BadHash)
}

/// Loads the installation's TSA identity, creating it (an RSA 2048 key and a ten-year
/// certificate with the critical timeStamping usage) on first use.
/// Its tokens carry `policy`, or the installation's own ([`installation_policy`]).
fn load_or_create(store: &Store, policy: Option<PolicyId>) -> Result<BuiltIn, StampError> {
    let stored = match store.timestamp_authority().current()? {
        Some(stored) => stored,
        None => {
            let key = as2_core::keys::generate_rsa_key(
                &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
                2048,
            )
            .map_err(|e| StampError::Authority(e.to_string()))?;
            let certificate = as2_evidence::authority::generate_tsa_certificate(
                &key,
                "CN=AS2 platform time-stamping authority,O=AS2 platform",
                SystemTime::now() - Duration::from_secs(3600),
                Duration::from_secs(10 * 366 * 86_400),
            )
            .map_err(|e| StampError::Authority(e.to_string()))?;
            let pkcs8 = pkcs8::EncodePrivateKey::to_pkcs8_der(&key)
                .map_err(|e| StampError::Authority(e.to_string()))?;
            store
                .timestamp_authority()
                .create_if_absent(certificate.der(), pkcs8.as_bytes())?
        }
    };
    let certificate = Certificate::from_der(&stored.certificate_der)
        .map_err(|e| StampError::Authority(e.to_string()))?;
    let key = as2_core::keys::load_private_key(&stored.private_key, None)
        .map_err(|e| StampError::Authority(e.to_string()))?;
    let policy = policy.unwrap_or_else(|| installation_policy(&certificate));
    Ok(BuiltIn {
        id: stored.id,
        authority: TimeStampAuthority::new(certificate, Box::new(key), policy),
    })
}
