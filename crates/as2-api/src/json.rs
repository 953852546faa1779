//! `JsonBody<T>`: the body extractor of every handler, whose failures are precise 4xx answers:
//! broken JSON is 400, a wrong type or an unknown field is 422 naming the field, a body over
//! the limit is 413, a missing or wrong Content-Type is 415. Never a 500.
//!
//! Where JSON is accepted, so is `application/x-www-form-urlencoded` (seed 002 lists form
//! submissions): the same fields, flat, a list as the field repeated
//! (`allowed_networks=10.0.0.0/8&allowed_networks=192.0.2.0/24`), `true`/`false` and numbers
//! written out; the same rules and the same 422 answers naming the field.

use axum::{
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldErrors};

/// The largest JSON body accepted (message content travels base64-encoded inside it).
pub const MAX_JSON_BODY: usize = 64 * 1024 * 1024;

/// A deserialized request body (JSON, or form fields).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// How a request body is written, where a JSON body is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

impl BodyFormat {
    /// The format the `Content-Type` names, if it is one of ours.
    pub fn of(headers: &HeaderMap) -> Option<Self> {
        let media = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)?;
        if media.eq_ignore_ascii_case("application/json") {
            Some(Self::Json)
        } else if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            Some(Self::Form)
        } else {
            None
        }
    }

    /// Parses `bytes` written in this format.
    pub fn parse<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, ApiError> {
        match self {
            Self::Json => parse(bytes),
            Self::Form => parse_form(bytes),
        }
    }
}

/// What a 415 names as accepted where JSON is.
pub const ACCEPTED_BODIES: &str = "application/json or application/x-www-form-urlencoded";

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Some(format) = BodyFormat::of(request.headers()) else {
            return Err(ApiError::unsupported_media_type(ACCEPTED_BODIES));
        };
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|r| body_error(&r))?;
        format.parse(&bytes).map(JsonBody)
    }
}

/// The answer to a body that could not be read (413 over the limit, 408 too slow, else 400).
pub(crate) fn body_error(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(MAX_JSON_BODY)
    } else if crate::body_deadline::timed_out(rejection) {
        ApiError::body_timeout()
    } else {
        ApiError::bad_request("unreadable_body", "The request body could not be read")
    }
}

/// Parses a JSON body, mapping each kind of failure to its answer.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "empty_body",
            "The request body is empty; send a JSON object",
        ));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(ApiError::field(
            "body",
            "The request body must be a JSON object",
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => invalid_json(&inner),
            // A field can be refused before the parser reaches a syntax error further on:
            // broken JSON is a 400 whatever it contains.
            Category::Data => match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Err(syntax) => invalid_json(&syntax),
                Ok(_) => data_error(&path, &inner.to_string()),
            },
        }
    })
}

/// Parses form fields, with the answers of [`parse`]: empty is 400, a wrong value or an
/// unknown field 422 naming it.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "empty_body",
            "The request body is empty; send form fields",
        ));
    }
    let deserializer = serde_html_form::Deserializer::from_bytes(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        data_error(&path, &err.into_inner().to_string())
    })
}

fn invalid_json(error: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "invalid_json",
        format!(
            "The request body is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ),
    )
}

/// A JSON value of the wrong shape: 422 naming the field.
fn data_error(path: &str, detail: &str) -> ApiError {
    // serde's message ends with " at line L column C"; that position helps nobody here.
    let detail = detail.split(" at line ").next().unwrap_or(detail);
    let (field, sentence) = if detail.starts_with("unknown field `") {
        // serde_path_to_error's path already ends with the unknown field's name.
        (path.to_owned(), "This field is not recognised".to_owned())
    } else if let Some(rest) = detail.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        let field = if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        (field, "This field is required".to_owned())
    } else {
        let field = if path == "." || path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        };
        (field, format!("Invalid value: {detail}"))
    };
    ApiError::validation(FieldErrors::from([(field, vec![sentence])]))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Partner {
        name: String,
        sign: Option<bool>,
    }

    #[test]
    fn broken_json_is_400() {
        let e = parse::<Partner>(b"{\"name\": ").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.body()["error"]["code"], "invalid_json");
        // even when a field before the break is unknown or of the wrong type
        for broken in [&b"{\"colour\": 1, "[..], b"{\"sign\": \"yes\", \"name\": "] {
            let e = parse::<Partner>(broken).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{e:?}");
        }
    }

    #[test]
    fn wrong_type_is_422_naming_the_field() {
        let e = parse::<Partner>(br#"{"name": "a", "sign": "yes"}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let errors = &e.body()["errors"];
        assert!(
            errors["sign"][0]
                .as_str()
                .unwrap()
                .starts_with("Invalid value"),
            "{errors}"
        );
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let e = parse::<Partner>(br#"{"name": "a", "colour": 1}"#).unwrap_err();
        assert_eq!(
            e.body()["errors"]["colour"][0],
            "This field is not recognised"
        );
        let e = parse::<Partner>(br#"{}"#).unwrap_err();
        assert_eq!(e.body()["errors"]["name"][0], "This field is required");
    }

    #[test]
    fn form_fields_follow_the_same_rules() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Partner {
            name: String,
            sign: Option<bool>,
            retries: Option<i32>,
            #[serde(default)]
            networks: Option<Vec<String>>,
        }
        let p: Partner = parse_form(
            b"name=Acme+Corp&sign=true&retries=3&networks=10.0.0.0%2F8&networks=192.0.2.0%2F24",
        )
        .unwrap();
        assert_eq!(p.name, "Acme Corp");
        assert_eq!((p.sign, p.retries), (Some(true), Some(3)));
        assert_eq!(
            p.networks.unwrap(),
            vec!["10.0.0.0/8".to_owned(), "192.0.2.0/24".to_owned()]
        );
        let e = parse_form::<Partner>(b"name=a&sign=yes").unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            e.body()["errors"]["sign"][0]
                .as_str()
                .unwrap()
                .starts_with("Invalid value"),
            "{:?}",
            e.body()
        );
        let e = parse_form::<Partner>(b"name=a&colour=red").unwrap_err();
        assert_eq!(
            e.body()["errors"]["colour"][0],
            "This field is not recognised"
        );
        let e = parse_form::<Partner>(b"sign=true").unwrap_err();
        assert_eq!(e.body()["errors"]["name"][0], "This field is required");
        assert_eq!(
            parse_form::<Partner>(b"").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn empty_body_is_400() {
        assert_eq!(
            parse::<Partner>(b"  ").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn a_non_object_is_422_on_the_body() {
        let e = parse::<Partner>(b"[1,2]").unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.body()["errors"]["body"].is_array());
    }
}
