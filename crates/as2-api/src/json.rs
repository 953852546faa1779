//! `JsonBody<T>`: the JSON extractor of every handler, whose failures are precise 4xx answers:
//! broken JSON is 400, a wrong type or an unknown field is 422 naming the field, a body over
//! the limit is 413, a missing or wrong Content-Type is 415. Never a 500.

use axum::{
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::{StatusCode, header},
};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldErrors};

/// The largest JSON body accepted (message content travels base64-encoded inside it).
pub const MAX_JSON_BODY: usize = 64 * 1024 * 1024;

/// A deserialized JSON request body.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::unsupported_media_type("application/json"));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|r| body_error(&r))?;
        parse(&bytes).map(JsonBody)
    }
}

/// The answer to a body that could not be read (413 over the limit, else 400).
pub(crate) fn body_error(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(MAX_JSON_BODY)
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
