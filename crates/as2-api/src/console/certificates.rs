//! The certificates page: the tenant's certificates and key pairs in the mode shown, with
//! their subject, fingerprint and validity (expired and soon-expiring ones marked), and the
//! certificate (never a private key) as a PEM download; admins and owners get the forms that
//! add one (`certificate_forms`) and a "Delete" link per row (`certificate_delete`); after a
//! delete the page names the certificate deleted, read from the store.

use std::collections::HashMap;

use as2_domain::certificate::Certificate;
use as2_domain::id::CertificateId;
use as2_domain::pagination::PageRequest;
use as2_domain::user::ConsoleAction;
use as2_store::repo::certificates::CertificateFilter;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use maud::{Markup, html};

use crate::console::certificate_forms::{self, Forms};
use crate::console::layout::{not_found_page, page, when};
use crate::console::session::ConsoleSession;
use crate::routes::certificates::certificate_file;
use crate::state::AppState;

fn validity(c: &Certificate) -> Markup {
    let now = Utc::now();
    html! {
        @if c.info.not_after <= now {
            strong class="error" { "expired" }
        } @else if c.info.not_after <= now + Duration::days(30) {
            strong class="error" { "expires within 30 days" }
        } @else if c.info.not_before > now {
            "not yet valid"
        } @else {
            "valid"
        }
    }
}

/// `GET /console/certificates` (`?deleted=cert_…` after a delete).
pub async fn list(
    State(state): State<AppState>,
    console: ConsoleSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let deleted = query
        .get("deleted")
        .and_then(|v| v.parse::<CertificateId>().ok());
    shown(&state, &console, &Forms::default(), StatusCode::OK, deleted).await
}

/// The page with the forms as `forms` says, answered with `status`.
pub async fn render(
    state: &AppState,
    console: &ConsoleSession,
    forms: &Forms,
    status: StatusCode,
) -> Response {
    shown(state, console, forms, status, None).await
}

/// The page; with `deleted`, a sentence naming that certificate when the store has it
/// deleted in the session's tenant and mode (a made-up id says nothing).
async fn shown(
    state: &AppState,
    console: &ConsoleSession,
    forms: &Forms,
    status: StatusCode,
    deleted: Option<CertificateId>,
) -> Response {
    let console = console.clone();
    let Some(scope) = console.scope() else {
        return page("Certificates", Some(&console), html! { p { "No tenant." } }).into_response();
    };
    let found = state
        .blocking("Certificate", move |s| {
            let page = PageRequest {
                page: 1,
                per_page: 100,
            };
            let certificates = s.store().certificates();
            let listed = certificates.list(scope, CertificateFilter::default(), page)?;
            let gone = match deleted {
                Some(id) => certificates.deleted_name(scope, id)?.map(|name| (id, name)),
                None => None,
            };
            Ok((listed, gone))
        })
        .await;
    let ((certificates, total), gone) = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let may_add = console
        .current
        .as_ref()
        .is_some_and(|m| m.role.may(ConsoleAction::Configure));
    let content = html! {
        @if let Some((id, name)) = &gone {
            p role="status" { "The certificate " strong { (name) } " (" (id) ") was deleted." }
        }
        @if may_add {
            p { a href="#upload" { "Upload a certificate or key pair" } " · " a href="#generate" { "Generate a key pair" } }
        }
        @if certificates.is_empty() {
            p { "No certificate yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { (certificates.len()) " of " (total) " certificates" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Subject" }
                    th scope="col" { "SHA-256 fingerprint" } th scope="col" { "Valid until" }
                    th scope="col" { "State" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for c in &certificates {
                        tr {
                            td { (c.name) }
                            td { (c.kind) }
                            td { (c.info.subject) }
                            td { code class="fp" { (c.info.fingerprint_sha256) } }
                            td { (when(c.info.not_after)) }
                            td { (validity(c)) }
                            td {
                                a href={ "/console/certificates/" (c.id) "/download" } download
                                    aria-label={ "Download " (c.name) " as PEM" } { "PEM" }
                                @if may_add {
                                    br; a href={ "/console/certificates/" (c.id) "/delete" } { "Delete" span class="visually-hidden" { " " (c.name) } }
                                }
                            }
                        }
                    }
                }
            } }
        }
        @if may_add { (certificate_forms::forms(&console, forms)) }
    };
    (status, page("Certificates", Some(&console), content)).into_response()
}

/// `GET /console/certificates/{id}/download`: the certificate and its chain, PEM.
pub async fn download(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let (Some(scope), Ok(id)) = (console.scope(), raw.parse::<CertificateId>()) else {
        return not_found(&console);
    };
    match certificate_file(&state, scope, id, false).await {
        Ok(mut response) => {
            response.headers_mut().insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Err(_) => not_found(&console),
    }
}

/// The page of a certificate not in the session's tenant and mode.
pub fn not_found(console: &ConsoleSession) -> Response {
    not_found_page(console, "certificate")
}
