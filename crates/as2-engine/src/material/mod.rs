//! Trust material from the store: the station's key pairs and the partner's certificates that
//! are accepted now (current, and next or previous during a rollover).

use std::sync::Arc;

use as2_core::cert::Certificate;
use as2_core::crypto::{CryptoProvider, PrivateKeyOps};
use as2_domain::id::CertificateId;
use as2_domain::partner::Partner;
use as2_domain::station::Station;
use as2_domain::trust::{TrustRecord, TrustSubject};
use as2_store::{Scope, Store, StoreError};
use cache::{ById, ContentCache, Loaded};

mod cache;

/// Why trust material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MaterialError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored certificate or key does not parse.
    #[error("stored certificate {0} cannot be read: {1}")]
    Unreadable(CertificateId, as2_core::Error),
}

/// A certificate's DER parsed (cached by content).
fn parsed(der: &[u8], id: CertificateId) -> Result<Certificate, MaterialError> {
    static PARSED: ContentCache<Certificate> = ContentCache::new();
    PARSED.get_or_parse(der, || {
        Certificate::from_der(der).map_err(|e| MaterialError::Unreadable(id, e))
    })
}

/// A stored certificate of `scope`, parsed.
pub fn certificate(
    store: &Store,
    scope: Scope,
    id: CertificateId,
) -> Result<Certificate, MaterialError> {
    let (der, _) = store.certificates().der(scope, id)?;
    parsed(&der, id)
}

/// A private key behind the codec's seam, loaded by the crypto provider the binary chose
/// (`ReceiveOptions::crypto`, `OutboundConfig::crypto`).
pub type PrivateKey = Arc<dyn PrivateKeyOps>;

/// Loads a stored key with `crypto`'s key provider. The cache is keyed by content: a
/// process uses one provider (the binary's), so an entry never serves another.
fn load_key(
    crypto: &CryptoProvider,
    bytes: &[u8],
    id: CertificateId,
) -> Result<PrivateKey, MaterialError> {
    static LOADED: ContentCache<PrivateKey> = ContentCache::new();
    LOADED.get_or_parse(bytes, || {
        crypto
            .load_private_key(bytes)
            .map_err(|e| MaterialError::Unreadable(id, e))
    })
}

/// The station's decryption and signing key pairs, current first, each with its id (one
/// query per key pair).
pub fn station_keys(
    crypto: &CryptoProvider,
    store: &Store,
    scope: Scope,
    station: &Station,
) -> Result<Vec<(CertificateId, Certificate, PrivateKey)>, MaterialError> {
    let record = store.trust().record(
        scope,
        TrustSubject::Station,
        station.id.0,
        station.settings.certificate_id,
    )?;
    let mut pairs = Vec::new();
    for id in station_key_ids(station, &record) {
        let (der, key_bytes) = store.certificates().key_pair(scope, id)?;
        if let Some(pair) = key_pair(crypto, id, &der, key_bytes.as_deref())? {
            pairs.push(pair);
        }
    }
    Ok(pairs)
}

/// The ids of the station's key pairs: a separate decryption key pair first when the station
/// has one, then those its trust record accepts (it follows the signing pair,
/// `certificate_id`), then the signing pair.
fn station_key_ids(station: &Station, record: &TrustRecord) -> Vec<CertificateId> {
    let mut ids: Vec<CertificateId> = station
        .settings
        .encryption_certificate_id
        .into_iter()
        .collect();
    for id in record
        .accepted()
        .into_iter()
        .chain(station.settings.certificate_id)
    {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// A stored key pair parsed and loaded; `None` for a certificate without its key.
fn key_pair(
    crypto: &CryptoProvider,
    id: CertificateId,
    der: &[u8],
    key_bytes: Option<&[u8]>,
) -> Result<Option<(CertificateId, Certificate, PrivateKey)>, MaterialError> {
    let cert = parsed(der, id)?;
    let Some(key_bytes) = key_bytes else {
        return Ok(None);
    };
    Ok(Some((id, cert, load_key(crypto, key_bytes, id)?)))
}

/// What receiving a message needs: the station's key pairs (as [`station_keys`]) and the
/// partner's certificates accepted now (as [`partner_certificates`]).
pub struct ReceptionMaterial {
    /// The station's decryption and signing key pairs, current first, with their ids.
    pub station_keys: Vec<(CertificateId, Certificate, PrivateKey)>,
    /// The partner's certificates accepted for its signatures now.
    pub partner_certificates: Vec<Certificate>,
}

impl std::fmt::Debug for ReceptionMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceptionMaterial")
            .field("station_keys", &self.station_keys.len())
            .field("partner_certificates", &self.partner_certificates.len())
            .finish()
    }
}

/// [`station_keys`] and [`partner_certificates`] together, from the station's and the
/// partner's trust records as the route read them: every certificate and key pair they name
/// that this process has not loaded before, in one query (on PostgreSQL; SQLite reads each
/// by its own cached statement, see `as2_store::repo::material`), none for a partner whose
/// certificates it has.
pub fn reception_material(
    crypto: &CryptoProvider,
    store: &Store,
    scope: Scope,
    (station, station_record): (&Station, &TrustRecord),
    (partner, partner_record): (&Partner, &TrustRecord),
) -> Result<ReceptionMaterial, MaterialError> {
    static LOADED: ById = ById::new();
    let key_ids = station_key_ids(station, station_record);
    let partner_ids = partner_certificate_ids(partner, partner_record.accepted());
    let wanted = key_ids
        .iter()
        .map(|&id| (id, true))
        .chain(partner_ids.iter().map(|&id| (id, false)));
    let mut found: Vec<(CertificateId, Loaded)> = Vec::new();
    let (mut missing, mut missing_keys) = (Vec::new(), Vec::new());
    for (id, key) in wanted {
        if let Some(loaded) = LOADED.get(store, scope, id, key) {
            found.push((id, loaded));
        } else if !missing.contains(&id) {
            missing.push(id);
            if key {
                missing_keys.push(id);
            }
        }
    }
    for pair in store.certificates().many(scope, &missing, &missing_keys)? {
        let key = if missing_keys.contains(&pair.id) {
            let loaded = pair
                .key
                .as_deref()
                .map(|bytes| load_key(crypto, bytes, pair.id));
            Some(loaded.transpose()?)
        } else {
            None
        };
        let loaded = Loaded {
            certificate: parsed(&pair.der, pair.id)?,
            key,
        };
        LOADED.insert(store, scope, pair.id, loaded.clone());
        found.push((pair.id, loaded));
    }
    // an id may be found twice, as a key pair and as a partner's certificate
    let take = |id: CertificateId, key: bool| {
        found
            .iter()
            .find(|(found, loaded)| *found == id && (!key || loaded.key.is_some()))
            .map(|(_, loaded)| loaded.clone())
            .ok_or(StoreError::NotFound)
    };
    let mut station_keys = Vec::with_capacity(key_ids.len());
    for &id in &key_ids {
        let loaded = take(id, true)?;
        if let Some(Some(key)) = loaded.key {
            station_keys.push((id, loaded.certificate, key));
        }
    }
    let partner_certificates = partner_ids
        .iter()
        .map(|&id| Ok(take(id, false)?.certificate))
        .collect::<Result<_, MaterialError>>()?;
    Ok(ReceptionMaterial {
        station_keys,
        partner_certificates,
    })
}

/// The station's signing pair (its `certificate_id`), if it has one.
pub fn station_signer(
    crypto: &CryptoProvider,
    store: &Store,
    scope: Scope,
    station: &Station,
) -> Result<Option<(Certificate, PrivateKey)>, MaterialError> {
    let Some(id) = station.settings.certificate_id else {
        return Ok(None);
    };
    let (der, key_bytes) = store.certificates().key_pair(scope, id)?;
    let cert = parsed(&der, id)?;
    let key_bytes = key_bytes.ok_or(StoreError::NotFound)?;
    Ok(Some((cert, load_key(crypto, &key_bytes, id)?)))
}

/// The partner's certificates it is trusted with now: current and, during a scheduled
/// rollover, next; never a previous one kept only until it is retired. What a certificate
/// exchange (CEM) must be signed with.
pub fn partner_certificates_now(
    store: &Store,
    scope: Scope,
    partner: &Partner,
) -> Result<Vec<Certificate>, MaterialError> {
    partner_certificates_by(store, scope, partner, |record| {
        record.current.into_iter().chain(record.next).collect()
    })
}

/// The partner's certificates accepted for their signatures now.
pub fn partner_certificates(
    store: &Store,
    scope: Scope,
    partner: &Partner,
) -> Result<Vec<Certificate>, MaterialError> {
    partner_certificates_by(store, scope, partner, TrustRecord::accepted)
}

/// The certificates `pick` takes from the partner's trust record, then its configured ones
/// (the current certificate, and a separate encryption certificate, which may sign too).
fn partner_certificates_by(
    store: &Store,
    scope: Scope,
    partner: &Partner,
    pick: impl FnOnce(&TrustRecord) -> Vec<CertificateId>,
) -> Result<Vec<Certificate>, MaterialError> {
    let record = store.trust().record(
        scope,
        TrustSubject::Partner,
        partner.id.0,
        partner.settings.certificate_id,
    )?;
    partner_certificate_ids(partner, pick(&record))
        .into_iter()
        .map(|id| certificate(store, scope, id))
        .collect()
}

/// `picked` from the partner's trust record, then its current certificate and its separate
/// encryption certificate when not among them.
fn partner_certificate_ids(partner: &Partner, picked: Vec<CertificateId>) -> Vec<CertificateId> {
    let mut ids = picked;
    for extra in [
        partner.settings.certificate_id,
        partner.settings.encryption_certificate_id,
    ]
    .into_iter()
    .flatten()
    {
        if !ids.contains(&extra) {
            ids.push(extra);
        }
    }
    ids
}
