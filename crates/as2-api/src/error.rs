//! `ApiError`: the one boundary where an error becomes an HTTP status and the JSON error
//! envelope of the API overview (`{"message", "errors", "error": {"type", "code", "details"}}`).
//!
//! Internal errors are logged with their cause and answered with a generic sentence: no
//! internals (SQL, paths, stack traces) ever reach a client.

use std::collections::BTreeMap;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// The error categories of the API overview, plus the request-level ones it leaves implicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401: no key, an unknown key or a revoked key.
    Authentication,
    /// 403: a valid key without the scope, mode or tenant the request needs.
    Authorization,
    /// 422: the body or query failed validation; `errors` lists every bad field.
    Validation,
    /// 404: the resource does not exist (or is not the caller's to see).
    Resource,
    /// 429: the key's rate limit is spent; `Retry-After` says for how long.
    RateLimit,
    /// 400: an AS2 transmission problem.
    Transmission,
    /// 400: a certificate or key could not be read or does not fit.
    Certificate,
    /// 402: the plan's usage limit is reached.
    Billing,
    /// 400/406/413/415: the request itself is malformed.
    InvalidRequest,
    /// 422/409: `Idempotency-Key` reused with another body, or a concurrent duplicate.
    Idempotency,
    /// 409: the request conflicts with the resource's state.
    Conflict,
    /// 500: our fault; details are in the logs, never in the response.
    Server,
    /// 503: a dependency (the database) is unavailable.
    Unavailable,
}

impl ErrorKind {
    /// The `error.type` string of the envelope.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authentication => "authentication_error",
            Self::Authorization => "authorization_error",
            Self::Validation => "validation_error",
            Self::Resource => "resource_error",
            Self::RateLimit => "rate_limit_error",
            Self::Transmission => "transmission_error",
            Self::Certificate => "certificate_error",
            Self::Billing => "billing_error",
            Self::InvalidRequest => "invalid_request_error",
            Self::Idempotency => "idempotency_error",
            Self::Conflict => "conflict_error",
            Self::Server => "server_error",
            Self::Unavailable => "service_unavailable",
        }
    }
}

/// The `Retry-After` of [`ApiError::database_unavailable`]: a restart of the database takes
/// seconds, and the pool reconnects on its own.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 2;

/// Field name → the sentences that say what is wrong with it.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// An error answer of the API (boxed: handlers return it by value on every error path).
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    kind: ErrorKind,
    code: &'static str,
    message: String,
    errors: Option<FieldErrors>,
    details: Option<Value>,
    retry_after: Option<u64>,
}

/// The result type of every handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A general constructor; prefer the named ones below.
    pub fn new(
        status: StatusCode,
        kind: ErrorKind,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self(Box::new(Inner {
            status,
            kind,
            code,
            message: message.into(),
            errors: None,
            details: None,
            retry_after: None,
        }))
    }

    /// 422 listing every bad field.
    pub fn validation(errors: FieldErrors) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Validation,
            "validation_failed",
            "Validation failed",
        );
        e.0.errors = Some(errors);
        e
    }

    /// 422 for one field.
    pub fn field(field: &str, sentence: impl Into<String>) -> Self {
        Self::validation(FieldErrors::from([(
            field.to_owned(),
            vec![sentence.into()],
        )]))
    }

    /// 404 that never says whether the resource exists for someone else.
    pub fn not_found(resource: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorKind::Resource,
            "resource_not_found",
            format!("{resource} not found"),
        )
    }

    /// Names `resource` in a generic not-found answer from the store.
    #[must_use]
    pub fn or_not_found(mut self, resource: &str) -> Self {
        if self.0.code == "resource_not_found" && self.0.message == "Resource not found" {
            self.0.message = format!("{resource} not found");
        }
        self
    }

    /// Moves the field errors of `from` to `to` (for surfaces that name fields differently).
    #[must_use]
    pub fn rename_field(mut self, from: &str, to: &str) -> Self {
        if let Some(errors) = self.0.errors.as_mut()
            && let Some(sentences) = errors.remove(from)
        {
            errors.entry(to.to_owned()).or_default().extend(sentences);
        }
        self
    }

    /// 404 for a path that matches no route.
    pub fn no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorKind::Resource,
            "route_not_found",
            "No such endpoint",
        )
    }

    /// 405 for a known path with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::InvalidRequest,
            "method_not_allowed",
            "This endpoint does not accept that HTTP method",
        )
    }

    /// 401.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Authentication,
            "authentication_failed",
            message,
        )
    }

    /// 403.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorKind::Authorization,
            code,
            message,
        )
    }

    /// 400 for a malformed request.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorKind::InvalidRequest,
            code,
            message,
        )
    }

    /// 400 for a certificate or key that cannot be used.
    pub fn certificate(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorKind::Certificate,
            code,
            message,
        )
    }

    /// 409.
    pub fn conflict(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, code, message)
    }

    /// 415.
    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::InvalidRequest,
            "unsupported_media_type",
            format!("Content-Type must be {expected}"),
        )
    }

    /// 406.
    pub fn not_acceptable() -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            ErrorKind::InvalidRequest,
            "not_acceptable",
            "This endpoint answers application/json; set Accept to application/json or */*",
        )
    }

    /// 408: the request body did not arrive within its deadlines (`body_deadline`).
    pub fn body_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorKind::InvalidRequest,
            "body_timeout",
            "The request body did not arrive in time; send it again without pausing",
        )
    }

    /// 413.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::InvalidRequest,
            "payload_too_large",
            format!("The request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::RateLimit,
            "rate_limit_exceeded",
            "Too many requests; retry after the time given in Retry-After",
        );
        e.0.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// 429: the account has as many requests in flight as its plan allows at once.
    pub fn too_many_in_flight(concurrent: u32) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::RateLimit,
            "concurrent_requests_exceeded",
            format!(
                "This account already has {concurrent} requests in progress, as many as its plan allows at once; retry when one has finished"
            ),
        );
        e.0.retry_after = Some(1);
        e
    }

    /// 503.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Unavailable,
            "service_unavailable",
            message,
        )
    }

    /// 503 with `Retry-After`: the database cannot be reached (the pool found no live
    /// connection in time, the server refused or dropped the connection). Nothing was done;
    /// the request may be sent again.
    pub fn database_unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Unavailable,
            "database_unavailable",
            "The database is unavailable; retry after the time given in Retry-After",
        );
        e.0.retry_after = Some(DATABASE_RETRY_AFTER_SECS);
        e
    }

    /// 500: logs the cause, answers a generic sentence.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Server,
            "internal_error",
            "An internal error occurred; it has been logged",
        )
    }

    /// Adds machine-readable details to the envelope.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.0.details = Some(details);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The sentences of a validation error, by field.
    pub fn field_errors(&self) -> Option<&FieldErrors> {
        self.0.errors.as_ref()
    }

    /// The category.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let inner = &self.0;
        let mut body = json!({
            "message": inner.message,
            "error": {
                "type": inner.kind.as_str(),
                "code": inner.code,
                "details": inner.details.clone().unwrap_or_else(|| json!({})),
            }
        });
        if let (Some(errors), Some(obj)) = (&inner.errors, body.as_object_mut()) {
            obj.insert("errors".to_owned(), json!(errors));
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0.status, Json(self.body())).into_response();
        if let Some(secs) = self.0.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_list_every_field() {
        let mut errors = FieldErrors::new();
        errors.insert("as2_id".into(), vec!["The AS2 ID field is required".into()]);
        errors.insert(
            "url".into(),
            vec!["The URL must be a valid HTTPS endpoint".into()],
        );
        let e = ApiError::validation(errors);
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = e.body();
        assert_eq!(body["message"], "Validation failed");
        assert_eq!(body["error"]["type"], "validation_error");
        assert_eq!(body["errors"]["as2_id"][0], "The AS2 ID field is required");
        assert_eq!(
            body["errors"]["url"][0],
            "The URL must be a valid HTTPS endpoint"
        );
    }

    #[test]
    fn internal_errors_leak_nothing() {
        let cause = std::io::Error::other("SELECT * FROM secrets failed at /var/lib/x");
        let body = ApiError::internal(&cause).body();
        let text = body.to_string();
        assert!(!text.contains("SELECT"), "{text}");
        assert!(!text.contains("/var/lib"), "{text}");
        assert_eq!(body["error"]["type"], "server_error");
    }

    #[test]
    fn rate_limited_sets_retry_after() {
        let response = ApiError::rate_limited(7).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }
}
