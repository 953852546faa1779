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

/// Reads an optional JSON body (seed 000 allows an empty body on list calls).
pub fn optional_body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    crate::json::parse(bytes)
}

/// Reads a required JSON body.
pub fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    crate::json::parse(bytes)
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

/// The raw request body: empty, or JSON (else 415); over the limit a JSON 413, never axum's
/// plain text.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|r| crate::json::body_error(&r))?;
        if !is_json && !bytes.is_empty() {
            return Err(ApiError::unsupported_media_type("application/json"));
        }
        Ok(Self(bytes))
    }
}
