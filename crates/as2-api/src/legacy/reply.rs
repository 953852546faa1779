//! The seed-000 success envelope and its request body reader.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::ApiError;

/// `{"status":"success","msg":…,"data":…}` with 200: seed 000 answers every success with 200,
/// creations included, and its clients may check for exactly that.
#[derive(Debug)]
pub struct Success<T> {
    status: StatusCode,
    msg: &'static str,
    data: T,
}

impl<T: Serialize> Success<T> {
    /// 200.
    pub fn ok(msg: &'static str, data: T) -> Self {
        Self {
            status: StatusCode::OK,
            msg,
            data,
        }
    }
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "status": "success", "msg": self.msg, "data": self.data })),
        )
            .into_response()
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
