//! The trust lifecycle page of a partner or a station: the current, next and previous
//! certificate, the rollover window, the hash-chained timeline with its evidence and the
//! "verify chain" result, read through the functions of `/v1/{partners|stations}/{id}/trust…`;
//! a partner's page also lists its CEM requests (`console::cem`). Admins and owners get the
//! forms that act on it (`console::trust_actions`, `console::cem`); the markup is in
//! `console::trust_view`.

use std::collections::HashMap;

use as2_domain::cem::CemRequest;
use as2_domain::certificate::{Certificate, CertificateKind};
use as2_domain::pagination::PageRequest;
use as2_domain::user::ConsoleAction;
use as2_store::repo::certificates::CertificateFilter;
use as2_trust::lifecycle::Subject;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::layout::{not_found_page, page};
use crate::console::session::ConsoleSession;
use crate::console::trust_view::{self, Facts};
use crate::error::{ApiError, FieldErrors};
use crate::routes::trust::{self, Operator, VerificationDto};
use crate::state::AppState;

/// The reason a rollover cancelled in the console records.
const CANCELLED: &str = "cancelled in the console";

/// Whose trust record a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A trading partner (their certificates; CEM requests).
    Partner,
    /// One of our stations (our key pairs).
    Station,
}

impl Holder {
    /// The subject of the path's id, or `None` (a 404) for a malformed id.
    pub fn subject(self, raw: &str) -> Option<Subject> {
        match self {
            Self::Partner => raw.parse().ok().map(Subject::Partner),
            Self::Station => raw.parse().ok().map(Subject::Station),
        }
    }

    /// `partner` or `station`: the audit log's resource type and its actions' prefix.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Partner => "partner",
            Self::Station => "station",
        }
    }

    /// The console's list of such holders.
    pub fn list(self) -> &'static str {
        match self {
            Self::Partner => "/console/partners",
            Self::Station => "/console/stations",
        }
    }

    /// The trust page of holder `raw`; the forms post under it.
    pub fn base(self, raw: &str) -> String {
        format!("{}/{raw}/trust", self.list())
    }
}

/// A route's holder as a type: the handlers are generic over it, so one handler serves the
/// partner's page and the station's.
pub trait Kind: Send + Sync + 'static {
    /// Which holder.
    const HOLDER: Holder;
}

/// The routes under `/console/partners/{id}/trust`.
#[derive(Debug)]
pub struct OfPartner;

impl Kind for OfPartner {
    const HOLDER: Holder = Holder::Partner;
}

/// The routes under `/console/stations/{id}/trust`.
#[derive(Debug)]
pub struct OfStation;

impl Kind for OfStation {
    const HOLDER: Holder = Holder::Station;
}

/// The console user as the operator of trust records in the session's tenant and mode.
pub fn operator(console: &ConsoleSession) -> Option<Operator> {
    Some(Operator {
        scope: console.scope()?,
        actor: console.user.id.to_string(),
        cancel_reason: CANCELLED,
    })
}

/// Which form came back with the API's sentences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentForm {
    /// Schedule a rollover.
    Rollover,
    /// Offer a key pair to the partner (CEM).
    Offer,
    /// Reject the partner's CEM request of this id.
    Reject(String),
}

/// A form as it was sent, shown again with the sentences beside its fields.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Which form.
    pub form: SentForm,
    /// Its values by field name (a repeated field joined by commas).
    pub values: HashMap<String, String>,
    /// The API's sentences, by field.
    pub errors: FieldErrors,
}

impl Sent {
    /// The value sent for `name` when this is `form`, else empty.
    pub fn value(sent: Option<&Self>, form: &SentForm, name: &str) -> String {
        sent.filter(|s| &s.form == form)
            .and_then(|s| s.values.get(name).cloned())
            .unwrap_or_default()
    }
}

/// What the page shows besides the record.
#[derive(Debug, Default)]
pub struct Extra {
    /// The "verify chain" result.
    pub verification: Option<VerificationDto>,
    /// A form refused with the API's sentences.
    pub sent: Option<Sent>,
}

/// The 404 page of a holder not in the session's tenant and mode.
pub fn not_found(console: &ConsoleSession, holder: Holder) -> Response {
    let noun = match holder {
        Holder::Partner => "partner",
        Holder::Station => "station",
    };
    not_found_page(console, noun)
}

/// A refused or failed request as a page (404 for another tenant's holder).
pub fn failure(console: &ConsoleSession, holder: Holder, error: &ApiError) -> Response {
    if error.status() == StatusCode::NOT_FOUND {
        return not_found(console, holder);
    }
    let body = error.body();
    let message = body["message"].as_str().unwrap_or("The request failed");
    (
        error.status(),
        page(
            "Trust lifecycle",
            Some(console),
            html! { p class="error" role="alert" { (message) } },
        ),
    )
        .into_response()
}

/// `GET /console/{partners|stations}/{id}/trust`.
pub async fn show<K: Kind>(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    render(
        &state,
        &console,
        K::HOLDER,
        &raw,
        Extra::default(),
        StatusCode::OK,
    )
    .await
}

/// `GET /console/{partners|stations}/{id}/trust/verify`: the page with the chain verified
/// (every role).
pub async fn verify<K: Kind>(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let holder = K::HOLDER;
    let (Some(subject), Some(operator)) = (holder.subject(&raw), operator(&console)) else {
        return not_found(&console, holder);
    };
    match trust::verify(&state, operator, subject).await {
        Ok(result) => {
            let extra = Extra {
                verification: Some(result),
                ..Extra::default()
            };
            render(&state, &console, holder, &raw, extra, StatusCode::OK).await
        }
        Err(error) => failure(&console, holder, &error),
    }
}

/// The holder's name and the tenant's certificates (the rollover's choices).
async fn holder_facts(
    state: &AppState,
    operator: &Operator,
    subject: Subject,
) -> Result<(String, Vec<Certificate>), ApiError> {
    let scope = operator.scope;
    state
        .blocking("Certificate", move |s| {
            let name = match subject {
                Subject::Station(id) => s.store().stations().get(scope, id)?.settings.name,
                other => match other.partner_id() {
                    Some(id) => s.store().partners().get(scope, id)?.settings.name,
                    None => return Err(ApiError::not_found("Partner")),
                },
            };
            let page = PageRequest {
                page: 1,
                per_page: 100,
            };
            let filter = CertificateFilter::default();
            let (certificates, _) = s.store().certificates().list(scope, filter, page)?;
            Ok((name, certificates))
        })
        .await
}

/// The page of `holder` `raw` with `extra`, answered with `status`.
pub async fn render(
    state: &AppState,
    console: &ConsoleSession,
    holder: Holder,
    raw: &str,
    extra: Extra,
    status: StatusCode,
) -> Response {
    let (Some(subject), Some(operator)) = (holder.subject(raw), operator(console)) else {
        return not_found(console, holder);
    };
    let record = match trust::show(state, operator.clone(), subject).await {
        Ok(record) => record,
        Err(error) => return failure(console, holder, &error),
    };
    let events = match trust::events(state, operator.clone(), subject).await {
        Ok(events) => events,
        Err(error) => return failure(console, holder, &error),
    };
    let (name, mut certificates) = match holder_facts(state, &operator, subject).await {
        Ok(found) => found,
        Err(error) => return failure(console, holder, &error),
    };
    let requests: Vec<CemRequest> = match subject.partner_id() {
        Some(partner) => match crate::routes::cem::list(state, operator.scope, partner).await {
            Ok(requests) => requests,
            Err(error) => return failure(console, holder, &error),
        },
        None => Vec::new(),
    };
    if holder == Holder::Station {
        // a station rolls over to a key pair of ours only
        certificates.retain(|c| c.kind == CertificateKind::KeyPair);
    }
    let may_act = console
        .current
        .as_ref()
        .is_some_and(|m| m.role.may(ConsoleAction::Configure));
    let facts = Facts {
        console,
        holder,
        base: holder.base(raw),
        record: &record,
        events: &events,
        certificates: &certificates,
        requests: &requests,
        extra: &extra,
        may_act,
    };
    let title = format!("Trust lifecycle: {name}");
    (
        status,
        page(&title, Some(console), trust_view::content(&facts)),
    )
        .into_response()
}
