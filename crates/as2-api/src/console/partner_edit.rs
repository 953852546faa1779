//! The partner edit pages (admins and owners): the settings form (`partner_fields`) filled
//! with the partner's values, saved through the API's own `save_partner` as a PATCH, so the
//! API's validation sentences show beside the fields they name.

use std::collections::HashMap;

use as2_domain::id::PartnerId;
use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::console::changes::{allowed, record};
use crate::console::layout::page;
use crate::console::partner_fields::{form, values_of};
use crate::console::partners::recorded;
use crate::console::session::ConsoleSession;
use crate::console::trust::{Holder, failure, not_found};
use crate::error::{ApiError, FieldErrors};
use crate::routes::partner_input::PartnerInput;
use crate::routes::partners::save_partner;
use crate::state::AppState;

/// `GET /console/partners/{id}/edit` (admins and owners).
pub async fn edit(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<PartnerId>() else {
        return not_found(&console, Holder::Partner);
    };
    let found = state
        .blocking("Partner", move |s| {
            Ok(s.store().partners().get(scope, id)?)
        })
        .await;
    match found {
        Ok(partner) => {
            let title = format!("Edit partner {}", partner.settings.name);
            let values = values_of(partner.into());
            let content = form(&console, &raw, &values, &FieldErrors::new());
            page(&title, Some(&console), content).into_response()
        }
        Err(error) => failure(&console, Holder::Partner, &error),
    }
}

/// The API's PATCH body from the form: every field it shows; a number that is not one is
/// said beside its field before anything is saved.
fn input_of(values: &HashMap<String, String>) -> Result<PartnerInput, FieldErrors> {
    let text = |name: &str| values.get(name).map(|v| v.trim().to_owned());
    let checked = |name: &str| Some(values.contains_key(name));
    let kept = |name: &str| text(name).filter(|v| !v.is_empty());
    let mut errors = FieldErrors::new();
    let mut number = |name: &str| {
        let value = text(name).unwrap_or_default();
        value.parse::<i32>().map(Some).unwrap_or_else(|_| {
            errors.insert(
                name.to_owned(),
                vec![format!(
                    "The {} must be a whole number",
                    name.replace('_', " ")
                )],
            );
            None
        })
    };
    let retry_attempts = number("retry_attempts");
    let retry_interval = number("retry_interval");
    let timeout = number("timeout");
    if !errors.is_empty() {
        return Err(errors);
    }
    let password = if values.contains_key("remove_password") {
        Some(String::new())
    } else {
        values
            .get("auth_password")
            .filter(|p| !p.is_empty())
            .cloned()
    };
    let networks = text("allowed_networks").unwrap_or_default();
    Ok(PartnerInput {
        name: text("name"),
        as2_id: text("as2_id"),
        url: text("url"),
        email: text("email"),
        station_id: text("station_id"),
        sign: checked("sign"),
        sign_algorithm: kept("sign_algorithm"),
        encrypt: checked("encrypt"),
        encrypt_algorithm: kept("encrypt_algorithm"),
        compress: checked("compress"),
        signature_scheme: kept("signature_scheme"),
        key_transport: kept("key_transport"),
        compression_order: kept("compression_order"),
        unsigned_mic: kept("unsigned_mic"),
        mdn_mode: kept("mdn_mode"),
        mdn_signed: checked("mdn_signed"),
        mdn_url: text("mdn_url"),
        certificate_id: kept("certificate_id"),
        encryption_certificate_id: kept("encryption_certificate_id"),
        auth: checked("auth"),
        auth_user: text("auth_user"),
        auth_password: password,
        firewall: checked("firewall"),
        allowed_networks: Some(
            networks
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        retry_attempts,
        retry_interval,
        timeout,
        active: checked("active"),
        require_signed: checked("require_signed"),
        require_encrypted: checked("require_encrypted"),
        tls_ca_bundle: text("tls_ca_bundle"),
        tls_ca_only: checked("tls_ca_only"),
        tls_pin_sha256: text("tls_pin_sha256"),
        tls_client_certificate_id: text("tls_client_certificate_id"),
        tls_inbound_client_certificate_id: text("tls_inbound_client_certificate_id"),
        url_optional: false,
    })
}

/// `POST /console/partners/{id}/edit`: saves, or shows the form again with the API's
/// sentences beside the fields (422).
pub async fn save(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let Ok(id) = raw.parse::<PartnerId>() else {
        return not_found(&console, Holder::Partner);
    };
    let refused = |errors: &FieldErrors| {
        let content = form(&console, &raw, &values, errors);
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Edit partner", Some(&console), content),
        )
            .into_response()
    };
    let input = match input_of(&values) {
        Ok(input) => input,
        Err(errors) => return refused(&errors),
    };
    let changes = recorded(&values);
    let actor = console.clone();
    let saved = state
        .blocking("Partner", move |s| {
            let partner = save_partner(s, scope, Some(id), input, false)?;
            let id = partner.id.to_string();
            record(
                s.store(),
                scope,
                &actor,
                "partner.update",
                ("partner", Some(id.as_str())),
                &changes,
            )
            .map_err(ApiError::from)?;
            Ok(partner)
        })
        .await;
    match saved {
        Ok(_) => Redirect::to("/console/partners").into_response(),
        Err(error) => match error.field_errors() {
            Some(errors) => refused(errors),
            None => failure(&console, Holder::Partner, &error),
        },
    }
}
