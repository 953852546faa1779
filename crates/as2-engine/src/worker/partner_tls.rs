//! The outbound client of a partner with its own TLS settings (private CA, pinned server key,
//! client certificate): built once and kept per partner, keyed by a hash of the settings, so
//! a change takes effect on the next send without a restart. Partners without such settings
//! share the platform's client.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::sync::Mutex;

use as2_domain::id::PartnerId;
use as2_domain::partner::Partner;
use as2_domain::partner_tls::PartnerTls as TlsSettings;
use as2_store::Scope;
use as2_trust::tls::ServerOverlap;

use super::Worker;
use crate::http_client::OutboundClient;
use crate::tls::outbound::{ClientIdentity, PartnerTls, Roots, SpkiPin};

/// The clients built for partners, each with the hash of the settings it was built from.
#[derive(Debug, Default)]
pub(super) struct PartnerClients {
    clients: Mutex<HashMap<PartnerId, (u64, OutboundClient)>>,
}

/// The cache key of `settings`: any change (a new bundle, pin or client certificate) differs,
/// and so does a `tlsServer` overlap starting or ending.
fn version(settings: &TlsSettings, overlap: &ServerOverlap) -> u64 {
    let mut hasher = DefaultHasher::new();
    settings.hash(&mut hasher);
    overlap.pins.hash(&mut hasher);
    overlap.ca_pem.hash(&mut hasher);
    hasher.finish()
}

impl PartnerClients {
    fn get(&self, partner: PartnerId, version: u64) -> Option<OutboundClient> {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .get(&partner)
            .filter(|(v, _)| *v == version)
            .map(|(_, client)| client.clone())
    }

    fn put(&self, partner: PartnerId, version: u64, client: OutboundClient) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.insert(partner, (version, client));
    }
}

/// The engine's TLS of `settings` with `client` (the key pair, when one is named) and what a
/// CEM `tlsServer` rollover under way adds during its overlap (as2_trust::tls).
pub(crate) fn engine_tls(
    settings: &TlsSettings,
    overlap: &ServerOverlap,
    client: Option<ClientIdentity>,
) -> PartnerTls {
    let with_overlap = |pem: &String| {
        let mut pem = pem.clone();
        for extra in &overlap.ca_pem {
            pem.push('\n');
            pem.push_str(extra);
        }
        pem
    };
    let roots = match (&settings.ca_bundle, settings.ca_only) {
        (None, _) => Roots::Public,
        (Some(pem), false) => Roots::PublicAnd(with_overlap(pem)),
        (Some(pem), true) => Roots::Only(with_overlap(pem)),
    };
    PartnerTls {
        roots,
        pin: settings.pin_sha256.map(|p| SpkiPin(p.0)),
        also_pins: overlap.pins.iter().map(|p| SpkiPin(p.0)).collect(),
        client,
    }
}

impl Worker {
    /// The client requests to `partner` go through, or why its TLS settings cannot be used
    /// (a sentence: no retry changes that, a corrected setting does).
    pub(super) async fn partner_client(
        &self,
        scope: Scope,
        partner: &Partner,
    ) -> Result<OutboundClient, String> {
        let settings = &partner.settings.tls;
        if !settings.is_custom() {
            return Ok(self.http.clone());
        }
        let overlap = if settings.pin_sha256.is_some() || settings.ca_bundle.is_some() {
            let partner = partner.clone();
            self.blocking(move |store, _| {
                Ok(as2_trust::tls::server_overlap(store, scope, &partner))
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|read| read.map_err(|e| e.to_string()))
            .map_err(|e| format!("The partner's TLS rollover cannot be read: {e}"))?
        } else {
            ServerOverlap::default()
        };
        let version = version(settings, &overlap);
        if let Some(client) = self.partner_clients.get(partner.id, version) {
            return Ok(client);
        }
        let identity = match settings.client_certificate_id {
            None => None,
            Some(id) => {
                let loaded = self
                    .blocking(move |store, _| {
                        let cert = crate::material::certificate(store, scope, id)?;
                        let key = store.certificates().private_key(scope, id)?;
                        Ok((cert, key))
                    })
                    .await;
                let (cert, key) = loaded.map_err(|e| {
                    format!("The partner's TLS client certificate {id} cannot be loaded: {e}")
                })?;
                Some(
                    ClientIdentity::from_der(cert.der().to_vec(), key).map_err(|e| {
                        format!("The partner's TLS client certificate {id} cannot be used: {e}")
                    })?,
                )
            }
        };
        let client = self
            .http
            .with_partner_tls(&engine_tls(settings, &overlap, identity))
            .map_err(|e| format!("The partner's TLS settings cannot be used: {e}"))?;
        self.partner_clients
            .put(partner.id, version, client.clone());
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use as2_domain::partner_tls::TlsPin;

    #[test]
    fn every_setting_changes_the_version() {
        let base = TlsSettings {
            ca_bundle: Some("pem".into()),
            ..TlsSettings::default()
        };
        let mut seen = vec![version(&base, &ServerOverlap::default())];
        for changed in [
            TlsSettings {
                ca_only: true,
                ..base.clone()
            },
            TlsSettings {
                ca_bundle: Some("other pem".into()),
                ..base.clone()
            },
            TlsSettings {
                pin_sha256: Some(TlsPin([1; 32])),
                ..base.clone()
            },
            TlsSettings {
                client_certificate_id: Some(as2_domain::id::CertificateId(3)),
                ..base.clone()
            },
        ] {
            let v = version(&changed, &ServerOverlap::default());
            assert!(!seen.contains(&v), "{changed:?}");
            seen.push(v);
        }
        assert_eq!(version(&base.clone(), &ServerOverlap::default()), seen[0]);
    }

    #[test]
    fn the_settings_map_onto_the_engines_roots_and_pin() {
        let mut s = TlsSettings::default();
        assert_eq!(
            engine_tls(&s, &ServerOverlap::default(), None).roots,
            Roots::Public
        );
        s.ca_bundle = Some("pem".into());
        assert_eq!(
            engine_tls(&s, &ServerOverlap::default(), None).roots,
            Roots::PublicAnd("pem".into())
        );
        s.ca_only = true;
        s.pin_sha256 = Some(TlsPin([9; 32]));
        let tls = engine_tls(&s, &ServerOverlap::default(), None);
        assert_eq!(tls.roots, Roots::Only("pem".into()));
        assert_eq!(tls.pin, Some(SpkiPin([9; 32])));
    }
}
