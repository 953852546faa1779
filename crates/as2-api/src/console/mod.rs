//! The operator console under `/console`: HTML rendered on the server (maud) from the same
//! store and rules as the API, for people who sign in with an email and a password.
//!
//! Security choices (docs/CONSOLE.md): sessions live in the database (only the SHA-256 of
//! the 256-bit token), the cookie is `HttpOnly`, `SameSite=Strict`, `Path=/console` and
//! `Secure` over HTTPS; a new session (a new token) is made at every sign-in, so a cookie
//! planted before it is worthless (fixation); every `POST` passes the Origin/`Sec-Fetch-Site`
//! check and, once signed in, carries the session's CSRF token in a hidden field; failed
//! sign-ins lock the email and the client address out after `lockout.max_failures`.

pub mod api_keys;
pub mod audit_log;
pub mod cem;
pub mod certificate_delete;
pub mod certificate_forms;
pub mod certificates;
pub mod changes;
pub mod csrf;
pub mod csrf_multipart;
pub mod layout;
pub mod message_actions;
pub mod message_detail;
pub mod message_export;
pub mod message_files;
pub mod message_filters;
pub mod message_send;
pub mod messages;
pub mod overview;
pub mod overview_history;
pub mod partner_connection;
pub mod partner_edit;
pub mod partner_fields;
pub mod partners;
pub mod session;
pub mod settings;
pub mod settings_form;
pub mod sign_in;
pub mod station_delete;
pub mod station_edit;
pub mod station_form;
pub mod stations;
pub mod trust;
pub mod trust_actions;
pub mod trust_view;
pub mod user_actions;
pub mod users;
pub mod webhook_actions;
pub mod webhook_edit;
pub mod webhook_form;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use chrono::Duration;

use as2_domain::user::LockoutPolicy;

use crate::console::trust::{OfPartner, OfStation};
use crate::state::AppState;

/// The console's settings.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Mark the cookie `Secure` (the API listener speaks HTTPS, or a trusted proxy does).
    pub secure_cookie: bool,
    /// A session ends this long after sign-in whatever happens.
    pub session_lifetime: Duration,
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// Sign-in failures before a lock-out, and its length (`AS2_CONSOLE_MAX_FAILURES`).
    pub lockout: LockoutPolicy,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            secure_cookie: false,
            session_lifetime: Duration::hours(12),
            idle_timeout: Duration::minutes(30),
            lockout: LockoutPolicy::default(),
        }
    }
}

/// The `/console` routes. Every request passes [`csrf::guard`] (the Origin check on every
/// `POST`, the token once signed in) and [`session::resolve`] (the signed-in user, if any).
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/console", get(overview::page_handler))
        .route("/console/", get(overview::page_handler))
        .route("/console/messages", get(messages::list))
        .route(
            "/console/messages/new",
            get(message_send::new)
                .post(message_send::send)
                .layer(DefaultBodyLimit::max(csrf::MAX_UPLOAD)),
        )
        .route("/console/messages/export", get(message_export::download))
        .route("/console/messages/{id}", get(messages::detail))
        .route(
            "/console/messages/{id}/retry",
            post(message_actions::retry_message),
        )
        .route(
            "/console/messages/{id}/resend",
            post(message_actions::resend_message),
        )
        .route(
            "/console/messages/{id}/cancel",
            post(message_actions::cancel),
        )
        .route(
            "/console/messages/{id}/mdn-resend",
            post(message_actions::resend_mdn),
        )
        .route(
            "/console/messages/{id}/evidence",
            get(message_actions::evidence),
        )
        .route(
            "/console/messages/{id}/payload",
            get(message_files::payload),
        )
        .route("/console/messages/{id}/mdn", get(message_files::raw_mdn))
        .route(
            "/console/partners",
            get(partners::list).post(partners::create),
        )
        .route("/console/partners/new", get(partners::new))
        .route(
            "/console/partners/{id}/edit",
            get(partner_edit::edit).post(partner_edit::save),
        )
        .route(
            "/console/partners/{id}/test",
            get(partner_connection::show).post(partner_connection::run),
        )
        .route(
            "/console/stations",
            get(stations::list).post(stations::create),
        )
        .route("/console/stations/new", get(stations::new))
        .route(
            "/console/stations/{id}/edit",
            get(station_edit::edit).post(station_edit::save),
        )
        .route(
            "/console/stations/{id}/delete",
            get(station_delete::confirm).post(station_delete::delete),
        )
        .route(
            "/console/partners/{id}/trust",
            get(trust::show::<OfPartner>),
        )
        .route(
            "/console/partners/{id}/trust/verify",
            get(trust::verify::<OfPartner>),
        )
        .route(
            "/console/partners/{id}/trust/rollover",
            post(trust_actions::rollover::<OfPartner>),
        )
        .route(
            "/console/partners/{id}/trust/activate",
            post(trust_actions::activate::<OfPartner>),
        )
        .route(
            "/console/partners/{id}/trust/retire",
            post(trust_actions::retire::<OfPartner>),
        )
        .route(
            "/console/partners/{id}/trust/cancel",
            post(trust_actions::cancel::<OfPartner>),
        )
        .route("/console/partners/{id}/trust/cem", post(cem::offer))
        .route(
            "/console/partners/{id}/trust/cem/{cem_id}/accept",
            post(cem::accept),
        )
        .route(
            "/console/partners/{id}/trust/cem/{cem_id}/reject",
            post(cem::reject),
        )
        .route(
            "/console/stations/{id}/trust",
            get(trust::show::<OfStation>),
        )
        .route(
            "/console/stations/{id}/trust/verify",
            get(trust::verify::<OfStation>),
        )
        .route(
            "/console/stations/{id}/trust/rollover",
            post(trust_actions::rollover::<OfStation>),
        )
        .route(
            "/console/stations/{id}/trust/activate",
            post(trust_actions::activate::<OfStation>),
        )
        .route(
            "/console/stations/{id}/trust/retire",
            post(trust_actions::retire::<OfStation>),
        )
        .route(
            "/console/stations/{id}/trust/cancel",
            post(trust_actions::cancel::<OfStation>),
        )
        .route(
            "/console/api-keys",
            get(api_keys::list).post(api_keys::create),
        )
        .route("/console/api-keys/{id}/revoke", post(api_keys::revoke))
        .route("/console/users", get(users::list).post(users::add))
        .route("/console/users/{id}/role", post(users::set_role))
        .route("/console/users/{id}/remove", post(users::remove))
        .route("/console/users/{id}/disable", post(user_actions::disable))
        .route("/console/users/{id}/enable", post(user_actions::enable))
        .route(
            "/console/users/{id}/reset-password",
            post(user_actions::reset_password),
        )
        .route("/console/certificates", get(certificates::list))
        .route(
            "/console/certificates/upload",
            post(certificate_forms::upload).layer(DefaultBodyLimit::max(csrf::MAX_UPLOAD)),
        )
        .route(
            "/console/certificates/generate",
            post(certificate_forms::generate),
        )
        .route(
            "/console/certificates/{id}/download",
            get(certificates::download),
        )
        .route(
            "/console/certificates/{id}/delete",
            get(certificate_delete::confirm).post(certificate_delete::delete),
        )
        .route(
            "/console/webhooks",
            get(webhooks::list).post(webhook_edit::create),
        )
        .route("/console/webhooks/new", get(webhook_edit::new))
        .route(
            "/console/webhooks/{id}/edit",
            get(webhook_edit::edit).post(webhook_edit::save),
        )
        .route(
            "/console/webhooks/{id}/delete",
            get(webhook_actions::confirm_delete).post(webhook_actions::delete),
        )
        .route("/console/webhooks/{id}/test", post(webhook_actions::test))
        .route(
            "/console/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(webhook_actions::redeliver_delivery),
        )
        .route(
            "/console/settings",
            get(settings::show).post(settings::save),
        )
        .route("/console/audit", get(audit_log::list))
        .route("/console/login", get(sign_in::form).post(sign_in::submit))
        .route("/console/logout", post(sign_in::logout))
        .route(
            "/console/logout-everywhere",
            post(sign_in::logout_everywhere),
        )
        .route("/console/switch", post(session::switch))
        .layer(middleware::from_fn(csrf::guard))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::resolve,
        ))
}
