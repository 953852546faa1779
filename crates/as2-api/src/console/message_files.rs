//! A message's files from the console: its payload and its raw MDN, as downloads that the
//! browser never renders (the payload's type and name come from a partner): always
//! `application/octet-stream`, `attachment`, `nosniff` and a sandboxing CSP.

use as2_domain::id::MessageId;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::console::layout::page;
use crate::console::session::ConsoleSession;
use crate::routes::messages::{attachment, payload_response};
use crate::state::AppState;

/// The headers that keep a download from being rendered in the console's origin.
fn inert(headers: &mut HeaderMap, filename: &str) {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_DISPOSITION, attachment(filename));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
}

fn missing(console: &ConsoleSession, what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        page(
            "Not found",
            Some(console),
            html! { p { "There is no " (what) " for such a message in this tenant and mode." } },
        ),
    )
        .into_response()
}

/// `GET /console/messages/{id}/payload`.
pub async fn payload(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let (Some(scope), Ok(id)) = (console.scope(), raw.parse::<MessageId>()) else {
        return missing(&console, "payload");
    };
    match payload_response(&state, scope, id).await {
        Ok(mut response) => {
            let filename = response
                .headers()
                .get(header::CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once("filename=\""))
                .map(|(_, rest)| rest.trim_end_matches('"').to_owned())
                .unwrap_or_else(|| format!("{id}.bin"));
            inert(response.headers_mut(), &filename);
            response
        }
        Err(_) => missing(&console, "payload"),
    }
}

/// `GET /console/messages/{id}/mdn`: the MDN as it was received or sent.
pub async fn raw_mdn(
    State(state): State<AppState>,
    console: ConsoleSession,
    Path(raw): Path<String>,
) -> Response {
    let (Some(scope), Ok(id)) = (console.scope(), raw.parse::<MessageId>()) else {
        return missing(&console, "MDN");
    };
    let found = state
        .blocking("message", move |s| {
            Ok(s.store().messages().mdn_raw(scope, id)?)
        })
        .await;
    match found {
        Ok(Some(bytes)) => {
            let mut response = bytes.into_response();
            inert(response.headers_mut(), &format!("{id}-mdn.txt"));
            response
        }
        Ok(None) | Err(_) => missing(&console, "MDN"),
    }
}
