//! Uploads as `multipart/form-data`: detecting them, opening them, reading text fields, and
//! turning multipart failures into precise answers (400 unreadable, 413 too large).

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};

use crate::error::ApiError;

/// The largest text field (name, password, subject...) read from a form.
const MAX_TEXT_FIELD: usize = 64 * 1024;

fn has_media_type(request: &Request, media: &str) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(media))
}

/// Whether the request carries `multipart/form-data`.
pub fn is_multipart(request: &Request) -> bool {
    has_media_type(request, "multipart/form-data")
}

/// Opens a multipart body (a missing boundary is 400).
pub async fn open(request: Request) -> Result<Multipart, ApiError> {
    Multipart::from_request(request, &()).await.map_err(|_| {
        ApiError::bad_request(
            "invalid_multipart",
            "The multipart/form-data body could not be read (is the boundary set?)",
        )
    })
}

/// A multipart failure: 413 when a limit was hit, else 400.
pub fn error(e: &MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(limit)
    } else {
        ApiError::bad_request(
            "invalid_multipart",
            "The multipart/form-data body is malformed or was cut short",
        )
    }
}

/// The next field, or `None` at the end.
pub async fn next(form: &mut Multipart, limit: usize) -> Result<Option<Field<'_>>, ApiError> {
    form.next_field().await.map_err(|e| error(&e, limit))
}

/// Reads a text field (UTF-8, at most 64 KiB), naming it in a 422 otherwise.
pub async fn text(mut field: Field<'_>, name: &str) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| error(&e, MAX_TEXT_FIELD))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_TEXT_FIELD {
            return Err(ApiError::field(
                name,
                format!("The {name} field must be at most {MAX_TEXT_FIELD} bytes"),
            ));
        }
    }
    String::from_utf8(bytes)
        .map_err(|_| ApiError::field(name, format!("The {name} field must be UTF-8 text")))
}

/// Reads a whole file field up to `limit` bytes (413 beyond).
pub async fn bytes(mut field: Field<'_>, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| error(&e, limit))? {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
