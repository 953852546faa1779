//! Cross-site request forgery: every console `POST` must come from the console's own origin
//! (`Sec-Fetch-Site: same-origin` when the browser sends it, an `Origin` naming the `Host`
//! when it is sent) and, once signed in, carry the session's token in the `csrf_token`
//! field, compared in constant time (the sign-in form excepted: it starts a new session). A refusal is 403 and nothing is done.
//! An upload (`multipart/form-data`) carries the token as its first field
//! (`csrf_multipart`) and is refused with 413 before it is read when its `Content-Length` is
//! over the API's limit.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::html;
use subtle::ConstantTimeEq;

use crate::console::csrf_multipart;
use crate::console::layout::page;
use crate::console::session::ConsoleSession;
use crate::error::ApiError;

/// The largest upload: the API's own limit on a body.
pub const MAX_UPLOAD: usize = crate::json::MAX_JSON_BODY;

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
    if crate::routes::form::is_multipart(&request) {
        return multipart(request, next, &expected).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large").into_response();
    };
    let sent = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    if !matches(&sent, &expected) {
        return refused("the form's security token is missing or wrong");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn matches(sent: &str, expected: &str) -> bool {
    bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) && !sent.is_empty()
}

/// An upload: its size bounded before anything is read, the token its first field.
async fn multipart(request: Request, next: Next, expected: &str) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(MAX_UPLOAD).unwrap_or(u64::MAX)) {
        let body = ApiError::payload_too_large(MAX_UPLOAD).body();
        let content = html! {
            p class="error" role="alert" { (body["message"].as_str().unwrap_or_default()) ". Nothing was changed." }
        };
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            page("Too large", None, content),
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let Some(content_type) = parts.headers.get(header::CONTENT_TYPE).cloned() else {
        return refused("the form's security token is missing or wrong");
    };
    let (sent, body) = csrf_multipart::token(&content_type, body).await;
    if !sent.is_some_and(|sent| matches(&sent, expected)) {
        return refused("the form's security token is missing or wrong");
    }
    next.run(Request::from_parts(parts, body)).await
}
