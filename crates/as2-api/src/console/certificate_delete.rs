//! Deleting a certificate from the console (admins and owners): a confirmation page saying
//! what will be deleted (or, when something still uses it, the API's sentence naming what,
//! and no button), then the delete through `DELETE /v1/certificates/{id}`'s own function
//! (`routes::deletion::delete_certificate`: the same 409 while it is in use), recorded as
//! `certificate.delete`; the list then names the certificate deleted.

use as2_domain::id::CertificateId;
use as2_domain::user::ConsoleAction;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::certificates::not_found;
use crate::console::changes::{Deleted, allowed, delete_then_list};
use crate::console::layout::{csrf_field, page, when};
use crate::console::session::ConsoleSession;
use crate::routes::deletion::{certificate_in_use, delete_certificate};
use crate::state::AppState;

/// `GET /console/certificates/{id}/delete`: what deleting it does, and the button.
pub async fn confirm(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<CertificateId>() else {
        return not_found(&console);
    };
    let found = state
        .blocking("Certificate", move |s| {
            let certificates = s.store().certificates();
            Ok((certificates.get(scope, id)?, certificates.uses(scope, id)?))
        })
        .await;
    let (certificate, uses) = match found {
        Ok(found) => found,
        Err(error) if error.status() == StatusCode::NOT_FOUND => return not_found(&console),
        Err(error) => return error.into_response(),
    };
    let in_use = (!uses.is_empty()).then(|| {
        certificate_in_use(id, &uses).body()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    let path = format!("/console/certificates/{id}/delete");
    let content = html! {
        dl {
            dt { "Name" } dd { (certificate.name) }
            dt { "Id" } dd { code { (certificate.id) } }
            dt { "Kind" } dd { (certificate.kind) }
            dt { "Subject" } dd { (certificate.info.subject) }
            dt { "SHA-256 fingerprint" } dd { code class="fp" { (certificate.info.fingerprint_sha256) } }
            dt { "Valid until" } dd { (when(certificate.info.not_after)) }
        }
        @if let Some(sentence) = &in_use {
            p class="error" id="in-use" { (sentence) "." }
            p { a href="/console/certificates" { "All certificates" } }
        } @else {
            p {
                "Delete " strong { (certificate.name) } "? It is no longer listed, downloaded or "
                "chosen for a station or partner (a key pair's private key with it); "
                "this cannot be undone. Nothing uses it now."
            }
            form method="post" action=(path) {
                (csrf_field(&console))
                p { button type="submit" { "Delete certificate" } }
            }
            p { a href="/console/certificates" { "Keep it: all certificates" } }
        }
    };
    page("Delete certificate", Some(&console), content).into_response()
}

/// `POST /console/certificates/{id}/delete`: deletes it through the API's function (the
/// API's sentence when it is in use); the list says what was deleted.
pub async fn delete(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    delete_then_list(&state, &console, &raw, CERTIFICATE, delete_certificate).await
}

/// What this page deletes.
const CERTIFICATE: Deleted = Deleted {
    noun: "Certificate",
    resource_type: "certificate",
    list: ("/console/certificates", "All certificates"),
    not_found,
};
