//! The tenant settings page (admins and owners, as `PATCH /v1/tenants/{id}` needs the
//! `admin` scope): the tenant's name, message size limit, retention and alert recipients,
//! saved through the API's own path (`TenantInput::change`, `apply_change`), the API's
//! sentences beside the fields, every save an audit event.

use std::collections::HashMap;

use as2_domain::retention::Retention;
use as2_domain::tenant::Tenant;
use as2_domain::user::ConsoleAction;
use as2_store::Scope;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::console::changes::{allowed, record};
use crate::console::layout::page;
use crate::console::partners::recorded;
use crate::console::session::ConsoleSession;
use crate::console::settings_form::{form, input_of, values_of};
use crate::error::{ApiError, FieldErrors};
use crate::routes::tenants::apply_change;
use crate::state::AppState;

const TITLE: &str = "Settings";

/// The session's tenant and its plan's name and retention.
fn tenant_and_plan(
    state: &AppState,
    scope: Scope,
) -> Result<(Tenant, (String, Retention)), ApiError> {
    let accounts = state.store().accounts();
    let tenant = accounts.tenant_for_operator(scope.tenant_id)?;
    let plan = accounts.account(tenant.account_id)?.plan;
    Ok((tenant, (plan.to_string(), plan.retention())))
}

/// The page: the form with `values` and `errors`, answered with `status`.
fn shown(
    console: &ConsoleSession,
    status: StatusCode,
    plan: &(String, Retention),
    values: &HashMap<String, String>,
    errors: &FieldErrors,
    saved: bool,
) -> Response {
    let content = html! {
        @if saved { p role="status" { "The settings were saved." } }
        (form(console, (plan.0.as_str(), plan.1), values, errors))
    };
    (status, page(TITLE, Some(console), content)).into_response()
}

/// `GET /console/settings` (admins and owners).
pub async fn show(
    State(state): State<AppState>,
    console: ConsoleSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    match state
        .blocking("Tenant", move |s| tenant_and_plan(s, scope))
        .await
    {
        Ok((tenant, plan)) => shown(
            &console,
            StatusCode::OK,
            &plan,
            &values_of(&tenant),
            &FieldErrors::new(),
            query.contains_key("saved"),
        ),
        Err(error) => error.into_response(),
    }
}

/// `POST /console/settings`: saves through the API's own path and goes back to the page, or
/// shows the form again with the API's sentences beside the fields (422).
pub async fn save(
    State(state): State<AppState>,
    console: ConsoleSession,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let changes = recorded(&values);
    let actor = console.clone();
    let input = input_of(&values);
    let outcome = state
        .blocking("Tenant", move |s| {
            let (tenant, plan) = tenant_and_plan(s, scope)?;
            let input = match input {
                Ok(input) => input,
                Err(errors) => return Ok(Err((plan, errors))),
            };
            let checked = match input.change(false) {
                Ok(checked) => checked,
                Err(error) => return Ok(Err((plan, refusal(error)?))),
            };
            let saved = match apply_change(s.store(), tenant.account_id, tenant.id, &checked) {
                Ok(saved) => saved,
                Err(error) => return Ok(Err((plan, refusal(error)?))),
            };
            let id = saved.id.to_string();
            record(
                s.store(),
                scope,
                &actor,
                "tenant.update",
                ("tenant", Some(id.as_str())),
                &changes,
            )?;
            Ok(Ok(()))
        })
        .await;
    match outcome {
        Ok(Ok(())) => Redirect::to("/console/settings?saved").into_response(),
        Ok(Err((plan, errors))) => shown(
            &console,
            StatusCode::UNPROCESSABLE_ENTITY,
            &plan,
            &values,
            &errors,
            false,
        ),
        Err(error) => error.into_response(),
    }
}

/// The sentences of a 422, or the error itself (anything else is no input's fault).
fn refusal(error: ApiError) -> Result<FieldErrors, ApiError> {
    match error.field_errors() {
        Some(errors) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => Ok(errors.clone()),
        _ => Err(error),
    }
}
