//! `POST /v1/partners/{id}/test`: tests the connection to a partner's AS2 URL (resolve,
//! connect, TLS with the partner's own settings) and reports each step with a sentence and
//! the certificate the partner presented. Nothing is sent to the partner unless the body asks
//! for the `message` step (`partner_test_message.rs`).

use std::time::Duration;

use as2_domain::connection_test::{ConnectionTest, PresentedCertificate, TestReport};
use as2_domain::id::PartnerId;
use as2_store::Scope;
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::envelope::Envelope;
use crate::error::ApiError;
use crate::json::{ACCEPTED_BODIES, BodyFormat};
use crate::params::path_id;
use crate::state::AppState;
use crate::time::format;

use super::partner_test_message::{ConnectionTestInput, message_step};

/// The largest body of a connection test request.
const MAX_BODY: usize = 4 * 1024;

/// One step of the test.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestStepDto {
    /// `url`, `resolve`, `connect`, `tls`, or `message` (asked for with `send_message`).
    pub step: &'static str,
    /// Whether it succeeded; the first failed step ends the test.
    pub ok: bool,
    /// What happened, in a sentence.
    pub detail: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

/// The TLS certificate the partner presented.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresentedCertificateDto {
    /// Its subject.
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
    /// The end of its validity (RFC 3339).
    pub not_after: String,
    /// SHA-256 of its DER (hex pairs joined by colons).
    pub sha256: String,
    /// Its key's pin, as `tls_pin_sha256` takes it.
    pub pin_sha256: String,
}

/// The test's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTestDto {
    /// Whether every step succeeded.
    pub ok: bool,
    /// The URL tested.
    pub url: String,
    /// The steps, in order.
    pub steps: Vec<TestStepDto>,
    /// The partner's TLS certificate (HTTPS, once the handshake got that far).
    pub certificate: Option<PresentedCertificateDto>,
    /// The test message (`msg_…`), when the `message` step queued one.
    pub message_id: Option<String>,
}

impl ConnectionTestDto {
    /// The report in one sentence (the envelope's `message`).
    pub fn summary(&self) -> &'static str {
        if self.ok {
            "The partner's endpoint answered every step"
        } else {
            "The connection test failed; the last step says why"
        }
    }

    fn new(url: String, report: TestReport, message_id: Option<String>) -> Self {
        Self {
            ok: report.ok(),
            url,
            steps: report
                .steps
                .into_iter()
                .map(|s| TestStepDto {
                    step: s.step,
                    ok: s.ok,
                    detail: s.detail,
                    duration_ms: s.duration_ms,
                })
                .collect(),
            certificate: report.certificate.map(|c: PresentedCertificate| {
                PresentedCertificateDto {
                    subject: c.subject,
                    issuer: c.issuer,
                    not_after: format(c.not_after),
                    sha256: c.sha256,
                    pin_sha256: c.pin_sha256,
                }
            }),
            message_id,
        }
    }
}

/// Tests the connection to a partner: resolves its URL's host (every address checked against
/// the platform's outbound destination policy), connects, and for HTTPS completes the TLS
/// handshake with the partner's TLS settings, reporting the certificate it presented. With
/// `send_message` in the body, once those steps passed, a small test message is sent with the
/// partner's settings and followed until delivered (the `message` step, with the MDN's
/// verdict). The answer is 200 whether the partner was reached or not (`ok` says); without
/// `send_message` nothing is sent to it.
#[utoipa::path(post, path = "/v1/partners/{id}/test", tag = "partners", params(("id" = String, Path)),
    request_body(content = ConnectionTestInput, description = "Optional (an empty body tests the connection only): ask for the test message"),
    responses((status = 200, description = "The test's report", body = ConnectionTestDto),
        (status = 404, description = "Not found", body = Object),
        (status = 413, description = "Body too large", body = Object),
        (status = 415, description = "Not JSON or form fields", body = Object),
        (status = 422, description = "The partner has no URL to test, or a field is wrong", body = Object),
        (status = 503, description = "This server does not run connection tests", body = Object)))]
async fn test_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Envelope<ConnectionTestDto>, ApiError> {
    let id = path_id::<PartnerId>(&id, "Partner")?;
    let wait = options(request).await?.message_wait()?;
    let report = run_test(&state, caller.scope(), id, wait).await?;
    Ok(Envelope::ok(report.summary(), report))
}

/// Tests partner `id` of `scope` (the route's and the console's one path): its URL, the
/// client certificate its TLS settings name, the network steps, then, with `wait` and once
/// those passed, the test message followed for at most `wait`. A partner without a URL, or
/// whose TLS client certificate has no key, is the 422 naming the field; a server without a
/// tester the 503.
pub async fn run_test(
    state: &AppState,
    scope: Scope,
    id: PartnerId,
    wait: Option<Duration>,
) -> Result<ConnectionTestDto, ApiError> {
    let tester = state
        .config()
        .connection_tester
        .clone()
        .ok_or_else(|| ApiError::unavailable("This server does not run connection tests"))?;
    let test = state
        .blocking("Partner", move |s| {
            let partner = s.store().partners().get(scope, id)?;
            if partner.settings.url.trim().is_empty() {
                return Err(ApiError::field(
                    "url",
                    "The partner has no URL: it only sends to us, there is nothing to test",
                ));
            }
            let client_identity = match partner.settings.tls.client_certificate_id {
                Some(cert) => match s.store().certificates().key_pair(scope, cert)? {
                    (der, Some(key)) => Some((der, key)),
                    (_, None) => {
                        return Err(ApiError::field(
                            "tls_client_certificate_id",
                            "The partner's TLS client certificate has no private key",
                        ));
                    }
                },
                None => None,
            };
            Ok(ConnectionTest {
                url: partner.settings.url.clone(),
                tls: partner.settings.tls.clone(),
                client_identity,
            })
        })
        .await?;
    let url = test.url.clone();
    let mut report = tester.test(test).await;
    let mut message_id = None;
    if let Some(wait) = wait
        && report.ok()
    {
        let (step, message) = message_step(state, scope, id, wait).await;
        report.steps.push(step);
        message_id = message.map(|m| m.to_string());
    }
    Ok(ConnectionTestDto::new(url, report, message_id))
}

/// The request's options: none without a body.
async fn options(request: Request) -> Result<ConnectionTestInput, ApiError> {
    let format = BodyFormat::of(request.headers());
    let bytes = to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| ApiError::payload_too_large(MAX_BODY))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ConnectionTestInput::default());
    }
    let format = format.ok_or_else(|| ApiError::unsupported_media_type(ACCEPTED_BODIES))?;
    format.parse(&bytes)
}

/// The route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(test_partner))
}
