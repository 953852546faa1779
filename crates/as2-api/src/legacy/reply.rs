//! The seed-000 success envelope and its request body reader.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::envelope::PageMeta;
use crate::error::ApiError;
use crate::json::{ACCEPTED_BODIES, BodyFormat};

/// `{"status":"success","msg":…,"data":…}` with 200: seed 000 answers every success with 200,
/// creations included, and its clients may check for exactly that.
#[derive(Debug)]
pub struct Success<T> {
    status: StatusCode,
    msg: &'static str,
    data: T,
    pagination: Option<PageMeta>,
}

impl<T: Serialize> Success<T> {
    /// 200.
    pub fn ok(msg: &'static str, data: T) -> Self {
        Self {
            status: StatusCode::OK,
            msg,
            data,
            pagination: None,
        }
    }

    /// Adds `pagination` (the `/v1` page fields) next to `data`, for paged lists.
    #[must_use]
    pub fn paged(mut self, meta: PageMeta) -> Self {
        self.pagination = Some(meta);
        self
    }
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        let mut body = json!({ "status": "success", "msg": self.msg, "data": self.data });
        if let Some(meta) = self.pagination {
            body["pagination"] = json!(meta);
        }
        (self.status, Json(body)).into_response()
    }
}

/// Reads an optional body (seed 000 allows an empty body on list calls).
pub fn optional_body<T: DeserializeOwned + Default>(body: &RequestBody) -> Result<T, ApiError> {
    if body.bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    body.format.parse(&body.bytes)
}

/// Reads a required body.
pub fn body<T: DeserializeOwned>(body: &RequestBody) -> Result<T, ApiError> {
    body.format.parse(&body.bytes)
}

/// A positive integer id field, or a 422 naming it.
pub fn id_field(value: Option<i64>, field: &str) -> Result<i64, ApiError> {
    match value {
        Some(n) if n > 0 => Ok(n),
        Some(_) => Err(ApiError::field(
            field,
            format!("The {field} must be a positive integer"),
        )),
        None => Err(ApiError::field(
            field,
            format!("The {field} field is required"),
        )),
    }
}

/// An optional positive integer id (a filter), or a 422 naming it.
pub fn optional_id(value: Option<i64>, field: &str) -> Result<Option<i64>, ApiError> {
    value.map(|v| id_field(Some(v), field)).transpose()
}

/// The raw request body: empty, JSON or form fields (else 415); over the limit a JSON 413,
/// never axum's plain text. Read it with [`body`] or [`optional_body`].
#[derive(Debug)]
pub struct RawBody(pub RequestBody);

/// A request body as received, and how it is written.
#[derive(Debug)]
pub struct RequestBody {
    bytes: Bytes,
    format: BodyFormat,
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let format = BodyFormat::of(request.headers());
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|r| crate::json::body_error(&r))?;
        let format = match format {
            Some(format) => format,
            None if bytes.is_empty() => BodyFormat::Json,
            None => return Err(ApiError::unsupported_media_type(ACCEPTED_BODIES)),
        };
        Ok(Self(RequestBody { bytes, format }))
    }
}
