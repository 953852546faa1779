//! The CSRF token of a console upload (`multipart/form-data`): it must be the body's first
//! field, as the console's forms put it (a browser sends fields in document order), so it is
//! read from the body's first bytes without holding the upload; the body then goes on whole.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderValue, header};
use futures_util::StreamExt;

use crate::console::csrf::FIELD;

/// The most bytes read while looking for the token (the hidden field is short).
const MAX_PREFIX: usize = 16 * 1024;

/// How many more bytes make another parse of the prefix worth it.
const STEP: usize = 256;

/// What the bytes read so far say about the first field.
enum First {
    /// The first field is the token, whole.
    Token(String),
    /// The first field is something else.
    Other,
    /// More bytes are needed.
    Incomplete,
}

async fn first_field(content_type: &HeaderValue, prefix: &Bytes) -> First {
    let Ok(request) = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(prefix.clone()))
    else {
        return First::Other;
    };
    let Ok(mut multipart) = Multipart::from_request(request, &()).await else {
        return First::Other;
    };
    match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some(FIELD) => match field.text().await {
            Ok(token) => First::Token(token),
            Err(_) => First::Incomplete,
        },
        Ok(Some(_)) => First::Other,
        Ok(None) | Err(_) => First::Incomplete,
    }
}

/// The token the body's first field carries (`None` when it does not start with one within
/// its first 16 KiB) and the body, whole, to hand on. The bytes read so far are parsed again
/// only once `STEP` more have come (or the body ended), so a body sent a byte at a time costs
/// at most `MAX_PREFIX / STEP` parses.
pub async fn token(content_type: &HeaderValue, body: Body) -> (Option<String>, Body) {
    let mut stream = body.into_data_stream();
    let mut prefix = Vec::new();
    let mut parsed_at = 0;
    let mut ended = false;
    let found = loop {
        match stream.next().await {
            Some(Ok(chunk)) => prefix.extend_from_slice(&chunk),
            Some(Err(_)) | None => ended = true,
        }
        if !ended && prefix.len() < parsed_at + STEP {
            continue;
        }
        parsed_at = prefix.len();
        match first_field(content_type, &Bytes::copy_from_slice(&prefix)).await {
            First::Token(token) => break Some(token),
            First::Other => break None,
            First::Incomplete if ended || prefix.len() > MAX_PREFIX => break None,
            First::Incomplete => {}
        }
    };
    let read = futures_util::stream::once(async move { Ok::<_, axum::Error>(Bytes::from(prefix)) });
    (found, Body::from_stream(read.chain(stream)))
}
