//! Cross-site request forgery: every console `POST` must come from the console's own origin
//! (`Sec-Fetch-Site: same-origin` when the browser sends it, an `Origin` naming the `Host`
//! when it is sent) and, once signed in, carry the session's token in the `csrf_token`
//! field, compared in constant time (the sign-in form excepted: it starts a new session). A refusal is 403 and nothing is done.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::html;
use subtle::ConstantTimeEq;

use crate::console::layout::page;
use crate::console::session::ConsoleSession;

/// The name of the hidden field every console form carries.
pub const FIELD: &str = "csrf_token";

/// Largest console form read (the token check reads the body).
const MAX_FORM: usize = 256 * 1024;

/// Whether the request comes from the console's own pages, by the headers browsers set.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text("sec-fetch-site")
        && site != "same-origin"
    {
        return false;
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

fn refused(why: &str) -> Response {
    let content = html! {
        p class="error" role="alert" { "Refused: " (why) ". Nothing was changed." }
        p { a href="/console" { "Back to the console" } " (reload the page and try again)." }
    };
    (StatusCode::FORBIDDEN, page("Refused", None, content)).into_response()
}

/// Middleware: the origin check on every `POST`, the token check on every signed-in one.
pub async fn guard(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    if !same_origin(request.headers()) {
        return refused("the form was not sent from this console");
    }
    // the sign-in form carries no token: it makes a new session whatever the cookie named
    // (a session planted in the browser ends there), and the origin check above keeps
    // another site from signing the browser in
    let signing_in = request.uri().path() == "/console/login";
    let expected = request
        .extensions()
        .get::<ConsoleSession>()
        .map(|c| c.session.csrf_token.clone());
    let Some(expected) = expected.filter(|_| !signing_in) else {
        // signed out: only the sign-in form is served, and the handlers refuse the rest
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large").into_response();
    };
    let sent = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) || sent.is_empty() {
        return refused("the form's security token is missing or wrong");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
