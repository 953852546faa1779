//! Admission: what the gateway decides from an AS2 request's headers alone, before a byte of
//! its body is read. `AS2-To` on the URL's mode selects our station (one per AS2 ID and mode),
//! `AS2-From` the partner of that station; an inactive partner, the partner's firewall, its
//! basic auth and the size the receiving tenant accepts (against `Content-Length`, when
//! given) are checked here. A refusal is a [`Refusal`] (its answer says why); nothing is stored
//! and nothing the stranger sent is acted on. Only an [`Admitted`] request has its body read.

use std::net::IpAddr;

use as2_core::message::Envelope;
use as2_core::mime::Headers;
use as2_domain::Mode;
use as2_domain::id::{PartnerId, StationId};
use as2_store::{Scope, Store, StoreError};

use crate::inbound::{Route, RouteTrust};
use crate::refusal::Refusal;

/// The headers of one AS2 request (a message or an MDN), as far as admission reads them.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionRequest<'a> {
    /// Header pairs as received.
    pub headers: &'a [(String, String)],
    /// The mode of the URL the request was posted to.
    pub mode: Mode,
    /// The peer address, for the partner firewall.
    pub remote: Option<IpAddr>,
    /// The declared body size (`Content-Length`), when there is one.
    pub content_length: Option<u64>,
    /// The gateway's own ceiling on a request body (`AS2_MAX_MESSAGE_BYTES`).
    pub max_bytes: u64,
    /// The leaf certificate (DER) the client presented in its TLS handshake, if any.
    pub client_certificate: Option<&'a [u8]>,
}

/// A request whose headers passed admission: the body may now be read, up to [`Self::limit`].
#[derive(Debug)]
pub struct Admitted {
    pub(crate) route: Route,
    pub(crate) headers: Headers,
    pub(crate) envelope: Envelope,
    limit: u64,
    tenant_limit: bool,
}

impl Admitted {
    /// The most body bytes the receiver accepts: the gateway's ceiling or the receiving
    /// tenant's own limit, whichever is smaller.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The tenant and mode the request is for.
    pub fn scope(&self) -> Scope {
        self.route.scope
    }

    /// The station the request is for.
    pub fn station_id(&self) -> StationId {
        self.route.station.id
    }

    /// The partner that sent it.
    pub fn partner_id(&self) -> PartnerId {
        self.route.partner.id
    }

    /// The refusal of a body of `bytes` bytes, when it is over [`Self::limit`].
    pub fn refuse_size(&self, bytes: u64) -> Option<Refusal> {
        if bytes <= self.limit {
            return None;
        }
        tracing::warn!(partner = %self.route.partner.id, bytes, limit = self.limit, "refused: over the message size limit");
        Some(Refusal::TooLarge {
            limit: self.limit,
            tenant: self.tenant_limit,
        })
    }
}

/// Decides from the headers whether the request may be read; the admitted route, or the
/// answer that refuses it.
pub fn admit(store: &Store, request: &AdmissionRequest<'_>) -> Result<Admitted, Refusal> {
    let headers = Headers::from_pairs(
        request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str())),
    );
    let envelope = Envelope::from_headers(&headers).map_err(|e| Refusal::NotAs2(e.to_string()))?;
    let (route, tenant_limit) = match route(store, request.mode, &envelope) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(Refusal::UnknownPartner {
                from: envelope.as2_from.clone(),
                to: envelope.as2_to.clone(),
                mode: request.mode.as_str(),
            });
        }
        Err(e) => {
            tracing::error!(error = %e, "routing an inbound request failed");
            return Err(Refusal::Unavailable);
        }
    };
    let partner = &route.partner;
    if !partner.settings.active {
        tracing::warn!(partner = %partner.id, "refused: the partner is inactive");
        return Err(Refusal::PartnerInactive);
    }
    if partner.settings.firewall
        && !request.remote.is_some_and(|ip| {
            partner
                .settings
                .allowed_networks
                .iter()
                .any(|n| n.contains(ip))
        })
    {
        tracing::warn!(partner = %partner.id, remote = ?request.remote, "refused by the partner firewall");
        return Err(Refusal::Firewall);
    }
    // the partner's TLS client certificate and, during a CEM tlsClient rollover, the next one
    match as2_trust::tls::inbound_client_certificates(store, route.scope, partner) {
        Ok(None) => {}
        Ok(Some(accepted)) => {
            // a deleted certificate is left out: nothing can match it
            let presented_ok = request
                .client_certificate
                .is_some_and(|presented| accepted.iter().any(|der| der.as_slice() == presented));
            if !presented_ok {
                tracing::warn!(partner = %partner.id, presented = request.client_certificate.is_some(), "refused: not the partner's TLS client certificate");
                return Err(Refusal::ClientCertificate);
            }
        }
        Err(e) => {
            // like the basic-auth check below: a store failure is ours, so 503 (the
            // partner retries), never a refusal of its certificate
            tracing::error!(error = %e, partner = %partner.id, "reading the partner's TLS client certificate failed");
            return Err(Refusal::Unavailable);
        }
    }
    match basic_auth_ok(store, &route, &headers) {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(partner = %partner.id, "refused: wrong or missing basic auth");
            return Err(Refusal::BasicAuthRequired);
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the partner's credentials failed");
            return Err(Refusal::Unavailable);
        }
    }
    let (limit, tenant) = match tenant_limit.map(i64::unsigned_abs) {
        Some(t) if t < request.max_bytes => (t, true),
        _ => (request.max_bytes, false),
    };
    let admitted = Admitted {
        route,
        headers,
        envelope,
        limit,
        tenant_limit: tenant,
    };
    if let Some(refusal) = request
        .content_length
        .and_then(|declared| admitted.refuse_size(declared))
    {
        return Err(refusal);
    }
    Ok(admitted)
}

/// Whether the request carries the partner's basic-auth credentials (or none are required).
fn basic_auth_ok(store: &Store, route: &Route, headers: &Headers) -> Result<bool, StoreError> {
    let settings = &route.partner.settings;
    if !settings.auth {
        return Ok(true);
    }
    let Some(password) = store
        .partners()
        .auth_password(route.scope, route.partner.id)?
    else {
        return Ok(false);
    };
    let expected = format!(
        "{}:{password}",
        settings.auth_user.as_deref().unwrap_or_default()
    );
    Ok(crate::basic_auth::matches(
        headers.get("authorization"),
        &expected,
    ))
}

/// Our station of `mode` named by `AS2-To`, its partner named by `AS2-From`, the receiving
/// tenant's own message size limit, whether the partner sent this `Message-ID` before and
/// the trust records of both: one query.
fn route(
    store: &Store,
    mode: Mode,
    envelope: &Envelope,
) -> Result<Option<(Route, Option<i64>)>, StoreError> {
    let found = store.stations().inbound_route(
        mode,
        &envelope.as2_to,
        &envelope.as2_from,
        envelope.message_id.as_deref(),
    )?;
    Ok(found.map(|found| {
        let scope = Scope::new(found.station.tenant_id, found.station.mode);
        let route = Route {
            scope,
            station: found.station,
            partner: found.partner,
            received_before: found.received_before,
            trust: RouteTrust {
                station: found.station_trust,
                partner: found.partner_trust,
            },
        };
        (route, found.max_message_bytes)
    }))
}
