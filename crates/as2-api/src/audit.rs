//! The audit layer: every successful change made through `/v1` or `/api/v1` (a `POST`,
//! `PUT`, `PATCH` or `DELETE` that answered 2xx; on `/api/v1`, the calls that need the
//! `write` scope) becomes one audit event: the key that made it, the action and resource read
//! from the matched route, the client's address and `User-Agent`, and the fields sent with
//! every secret redacted by name.
//!
//! It sits inside authentication (it needs the [`Caller`]) and inside idempotency (a replayed
//! answer is not a second change). The event is written before the answer leaves, so a
//! client that saw the answer can read the event.

use as2_domain::audit::{Actor, ActorKind, REDACTED, is_secret_field};
use as2_domain::forwarded::ClientAddr;
use as2_store::repo::audit::NewAuditEvent;
use axum::body::{Body, Bytes, HttpBody, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::auth::{Caller, needs_write};
use crate::error::ApiError;
use crate::state::AppState;

/// Request bodies larger than this are not kept in the event (their fields are not read).
const MAX_RECORDED_BODY: usize = 256 * 1024;
/// Answers larger than this are not read for the new resource's id.
const MAX_READ_ANSWER: usize = 1 << 20;
/// A string field longer than this is recorded as its length only.
const MAX_RECORDED_VALUE: usize = 512;

/// What a change did, read from its route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAction {
    /// `partner.create`.
    pub action: String,
    /// `partner`.
    pub resource_type: String,
    /// The id in the path, when there is one.
    pub resource_id: Option<String>,
}

/// The resource type of a path segment (`webhook-endpoints` → `webhook_endpoint`).
fn singular(segment: &str) -> String {
    let name = segment.replace('-', "_");
    match name.as_str() {
        "certificates" => "certificate".into(),
        "cem" => "cem".into(),
        other => other.strip_suffix('s').unwrap_or(other).to_owned(),
    }
}

/// The action of `method` on the matched route `template` (`/v1/partners/{id}/trust/rollover`)
/// whose real path is `path`.
pub fn route_action(method: &Method, template: &str, path: &str) -> Option<RouteAction> {
    let (legacy, rest) = if let Some(rest) = template.strip_prefix("/api/v1/") {
        (true, rest)
    } else {
        (false, template.strip_prefix("/v1/")?)
    };
    let real = path
        .strip_prefix(if legacy { "/api/v1/" } else { "/v1/" })
        .unwrap_or_default();
    let segments: Vec<&str> = rest.split('/').collect();
    let values: Vec<&str> = real.split('/').collect();
    let resource_type = singular(segments.first()?);
    let mut resource_id = None;
    let mut verbs = Vec::new();
    for (i, segment) in segments.iter().enumerate().skip(1) {
        if segment.starts_with('{') {
            if resource_id.is_none() {
                resource_id = values.get(i).map(|v| (*v).to_owned());
            }
        } else {
            verbs.push(segment.replace('-', "_"));
        }
    }
    if verbs.is_empty() {
        let verb = match *method {
            Method::POST => "create",
            Method::PUT | Method::PATCH => "update",
            Method::DELETE if resource_type == "api_key" => "revoke",
            Method::DELETE => "delete",
            _ => return None,
        };
        verbs.push(verb.to_owned());
    }
    Some(RouteAction {
        action: format!("{resource_type}.{}", verbs.join(".")),
        resource_type,
        resource_id,
    })
}

/// `value` with every secret field replaced by [`REDACTED`] and every long string by its
/// length, at any depth.
pub fn redacted(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| {
                    let value = if is_secret_field(&name) && !value.is_null() {
                        Value::String(REDACTED.into())
                    } else {
                        redacted(value)
                    };
                    (name, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redacted).collect()),
        Value::String(text) if text.len() > MAX_RECORDED_VALUE => {
            Value::String(format!("[{} bytes]", text.len()))
        }
        other => other,
    }
}

/// The fields of a JSON or form body as a JSON object; anything else (an upload, a body
/// too large to keep) is described, not kept.
fn fields_of(headers: &HeaderMap, body: Option<&Bytes>) -> Value {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let Some(body) = body else {
        return if media.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::json!({ "_body": format!("{media} (not recorded)") })
        };
    };
    if body.is_empty() {
        return Value::Object(Map::new());
    }
    let parsed = if media == "application/x-www-form-urlencoded" {
        Some(Value::Object(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        ))
    } else {
        serde_json::from_slice::<Value>(body).ok()
    };
    match parsed {
        Some(object @ Value::Object(_)) => redacted(object),
        _ => serde_json::json!({ "_body": "not a JSON object (not recorded)" }),
    }
}

/// Whether the request's body is one the layer reads: JSON or a form whose length is known
/// (its `Content-Length`, or the body's own bound) and within [`MAX_RECORDED_BODY`].
fn recordable(headers: &HeaderMap, body: &Body) -> bool {
    let media_ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase())
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/x-www-form-urlencoded")
        });
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let bound = length.or_else(|| {
        body.size_hint()
            .upper()
            .and_then(|n| usize::try_from(n).ok())
    });
    media_ok && bound.is_some_and(|n| n <= MAX_RECORDED_BODY)
}

/// The `data.id` of a JSON answer (a created resource), as text.
fn answered_id(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    match value.get("data")?.get("id")? {
        Value::String(id) => Some(id.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether the request is a change the layer records.
fn is_change(method: &Method, path: &str) -> bool {
    if path.starts_with("/api/v1/") {
        return needs_write(method, path);
    }
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The middleware (see the module's documentation).
pub async fn audit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let caller = request.extensions().get::<Caller>().cloned();
    let (Some(template), Some(caller), true) = (template, caller, is_change(&method, &path)) else {
        return next.run(request).await;
    };
    let Some(route) = route_action(&method, &template, &path) else {
        return next.run(request).await;
    };
    let ip = request
        .extensions()
        .get::<ClientAddr>()
        .map(|c| c.ip.to_string());
    let (parts, body) = request.into_parts();
    let (changes, request) = if recordable(&parts.headers, &body) {
        match to_bytes(body, MAX_RECORDED_BODY).await {
            Ok(bytes) => (
                fields_of(&parts.headers, Some(&bytes)),
                Request::from_parts(parts, Body::from(bytes)),
            ),
            Err(error) => {
                let unreadable = ApiError::bad_request(
                    "body_unreadable",
                    "The request body ended before its Content-Length",
                );
                return crate::body_deadline::read_failure(&error, unreadable).into_response();
            }
        }
    } else {
        // not read: handed on as it came (an upload, a body of unknown length)
        (
            fields_of(&parts.headers, None),
            Request::from_parts(parts, body),
        )
    };
    let response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    // an answer of unknown or large size is passed on untouched (never cut to read an id)
    let readable = body
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_READ_ANSWER as u64);
    let (response, resource_id) = if route.resource_id.is_some() || !readable {
        (Response::from_parts(parts, body), route.resource_id.clone())
    } else {
        match to_bytes(body, MAX_READ_ANSWER).await {
            Ok(bytes) => {
                let id = answered_id(&bytes);
                (Response::from_parts(parts, Body::from(bytes)), id)
            }
            Err(_) => (Response::from_parts(parts, Body::empty()), None),
        }
    };
    let actor = Actor {
        kind: ActorKind::ApiKey,
        id: caller.key.id.to_string(),
        label: caller.key.name.clone(),
    };
    let scope = caller.scope();
    let user_agent = caller.user_agent.clone();
    let recorded = state
        .blocking("audit event", move |s| {
            let changes = changes.to_string();
            s.store().audit().record(
                scope,
                &NewAuditEvent {
                    actor: &actor,
                    action: &route.action,
                    resource_type: &route.resource_type,
                    resource_id: resource_id.as_deref(),
                    ip: ip.as_deref(),
                    user_agent: user_agent.as_deref(),
                    changes: &changes,
                },
            )?;
            Ok(())
        })
        .await;
    if let Err(error) = recorded {
        tracing::error!(?error, "could not record an audit event");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(method: &Method, template: &str, path: &str) -> (String, String, Option<String>) {
        let a = route_action(method, template, path).unwrap();
        (a.action, a.resource_type, a.resource_id)
    }

    #[test]
    fn actions_are_read_from_the_route() {
        assert_eq!(
            action(&Method::POST, "/v1/partners", "/v1/partners"),
            ("partner.create".into(), "partner".into(), None)
        );
        assert_eq!(
            action(
                &Method::PATCH,
                "/v1/partners/{id}",
                "/v1/partners/prt_000007"
            ),
            (
                "partner.update".into(),
                "partner".into(),
                Some("prt_000007".into())
            )
        );
        assert_eq!(
            action(
                &Method::POST,
                "/v1/partners/{id}/trust/rollover",
                "/v1/partners/prt_000007/trust/rollover"
            ),
            (
                "partner.trust.rollover".into(),
                "partner".into(),
                Some("prt_000007".into())
            )
        );
        assert_eq!(
            action(
                &Method::DELETE,
                "/v1/api-keys/{id}",
                "/v1/api-keys/key_000002"
            )
            .0,
            "api_key.revoke"
        );
        assert_eq!(
            action(
                &Method::POST,
                "/v1/webhook-endpoints/{id}/test",
                "/v1/webhook-endpoints/wh_000001/test"
            )
            .0,
            "webhook_endpoint.test"
        );
        assert_eq!(
            action(
                &Method::POST,
                "/v1/certificates/generate",
                "/v1/certificates/generate"
            )
            .0,
            "certificate.generate"
        );
        assert_eq!(
            action(
                &Method::POST,
                "/api/v1/partners/cem/schedule-rollover",
                "/api/v1/partners/cem/schedule-rollover"
            ),
            (
                "partner.cem.schedule_rollover".into(),
                "partner".into(),
                None
            )
        );
        assert!(route_action(&Method::GET, "/v1/partners", "/v1/partners").is_none());
        assert!(route_action(&Method::POST, "/healthz", "/healthz").is_none());
    }

    #[test]
    fn secrets_and_long_values_are_not_kept() {
        let sent = serde_json::json!({
            "name": "Acme",
            "auth_password": "hunter2",
            "tls": {"client_private_key": "-----BEGIN", "pin": "ab"},
            "pkcs12_base64": "MIIK",
            "content": "x".repeat(600),
            "certificate_id": null,
        });
        assert_eq!(
            redacted(sent),
            serde_json::json!({
                "name": "Acme",
                "auth_password": REDACTED,
                "tls": {"client_private_key": REDACTED, "pin": "ab"},
                "pkcs12_base64": REDACTED,
                "content": "[600 bytes]",
                "certificate_id": null,
            })
        );
    }
}
