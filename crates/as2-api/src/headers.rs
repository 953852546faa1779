//! Content negotiation: a request body must be JSON (or multipart for uploads), a JSON
//! endpoint must be allowed to answer JSON. Anything else is 415 or 406 with a JSON error.
//! File downloads (a payload, a certificate, a message's evidence, an export) answer the
//! file's own type, so an `Accept` of that type or of `application/octet-stream` is theirs to
//! serve, not a 406.

use axum::{
    extract::Request,
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::ApiError;

/// The media type of a header value, lower-cased, without parameters.
fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether the request's `Accept` allows `application/json` (absent means anything).
pub fn accepts(headers: &HeaderMap, offered: &str) -> bool {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return true;
    };
    let Ok(accept) = accept.to_str() else {
        return false;
    };
    let (offered_top, _) = offered.split_once('/').unwrap_or((offered, ""));
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        !refused
            && (media == offered
                || media == "*/*"
                || media
                    .strip_suffix("/*")
                    .is_some_and(|top| top == offered_top))
    })
}

/// Whether the request has a body to speak of.
fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

/// Middleware for JSON endpoints: 415 unless a body is `application/json`,
/// `application/x-www-form-urlencoded` or `multipart/form-data`; 406 unless `Accept` allows
/// JSON.
pub async fn json_only(request: Request, next: Next) -> Response {
    let headers = request.headers();
    if matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH
    ) && has_body(headers)
    {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(media_type)
            .unwrap_or_default();
        if !matches!(
            content_type.as_str(),
            "application/json" | "application/x-www-form-urlencoded" | "multipart/form-data"
        ) {
            return ApiError::unsupported_media_type(
                "application/json, application/x-www-form-urlencoded or multipart/form-data",
            )
            .into_response();
        }
    }
    if !accepts(headers, "application/json") && !is_file_download(request.uri().path()) {
        return ApiError::not_acceptable().into_response();
    }
    next.run(request).await
}

/// Whether `path` answers a file rather than JSON: a message's payload and a certificate,
/// on both API surfaces (`/v1/messages/{id}/payload`, `/v1/certificates/{id}/download`,
/// `/api/v1/messages/download`, `/api/v1/certificates/download`), a message's evidence zip
/// (`/v1/messages/{id}/evidence`) and the export of messages (`/v1/exports/messages`).
fn is_file_download(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    (path.starts_with("/v1/messages/")
        && (path.ends_with("/payload") || path.ends_with("/evidence")))
        || path == "/v1/exports/messages"
        || (path.starts_with("/v1/certificates/") && path.ends_with("/download"))
        || path == "/api/v1/messages/download"
        || path == "/api/v1/certificates/download"
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn file_downloads_are_told_apart() {
        assert!(is_file_download("/v1/messages/msg_000001/payload"));
        assert!(is_file_download("/v1/certificates/cert_000001/download"));
        assert!(is_file_download("/api/v1/messages/download"));
        assert!(is_file_download("/api/v1/certificates/download"));
        assert!(is_file_download("/v1/messages/msg_000001/evidence"));
        assert!(is_file_download("/v1/exports/messages"));
        assert!(!is_file_download("/v1/exports"));
        assert!(!is_file_download("/v1/messages/msg_000001"));
        assert!(!is_file_download("/v1/messages/msg_000001/mdn"));
        assert!(!is_file_download("/v1/partners/download"));
    }

    #[test]
    fn accept_ranges() {
        assert!(accepts(&HeaderMap::new(), "application/json"));
        assert!(accepts(
            &with_accept("application/json"),
            "application/json"
        ));
        assert!(accepts(
            &with_accept("text/html, */*;q=0.1"),
            "application/json"
        ));
        assert!(accepts(&with_accept("application/*"), "application/json"));
        assert!(accepts(
            &with_accept("Application/JSON; charset=utf-8"),
            "application/json"
        ));
        assert!(!accepts(&with_accept("text/html"), "application/json"));
        assert!(!accepts(
            &with_accept("application/json;q=0"),
            "application/json"
        ));
        assert!(!accepts(&with_accept("text/*"), "application/json"));
    }

    #[test]
    fn media_types_drop_parameters() {
        assert_eq!(
            media_type("application/JSON; charset=utf-8"),
            "application/json"
        );
        assert_eq!(
            media_type("multipart/form-data; boundary=x"),
            "multipart/form-data"
        );
    }
}
