//! `POST /v1/partners/{id}/test`: tests the connection to a partner's AS2 URL (resolve,
//! connect, TLS with the partner's own settings) and reports each step with a sentence and
//! the certificate the partner presented. Nothing is sent to the partner.

use as2_domain::connection_test::{ConnectionTest, PresentedCertificate, TestReport};
use as2_domain::id::PartnerId;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::envelope::Envelope;
use crate::error::ApiError;
use crate::params::path_id;
use crate::state::AppState;
use crate::time::format;

/// One step of the test.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestStepDto {
    /// `url`, `resolve`, `connect` or `tls`.
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
}

impl ConnectionTestDto {
    fn new(url: String, report: TestReport) -> Self {
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
        }
    }
}

/// Tests the connection to a partner: resolves its URL's host (every address checked against
/// the platform's outbound destination policy), connects, and for HTTPS completes the TLS
/// handshake with the partner's TLS settings, reporting the certificate it presented. The
/// answer is 200 whether the partner was reached or not (`ok` says); nothing is sent to it.
#[utoipa::path(post, path = "/v1/partners/{id}/test", tag = "partners", params(("id" = String, Path)),
    responses((status = 200, description = "The test's report", body = ConnectionTestDto),
        (status = 404, description = "Not found", body = Object),
        (status = 422, description = "The partner has no URL to test", body = Object),
        (status = 503, description = "This server does not run connection tests", body = Object)))]
async fn test_partner(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<ConnectionTestDto>, ApiError> {
    let id = path_id::<PartnerId>(&id, "Partner")?;
    let tester = state
        .config()
        .connection_tester
        .clone()
        .ok_or_else(|| ApiError::unavailable("This server does not run connection tests"))?;
    let test = state
        .blocking("Partner", move |s| {
            let scope = caller.scope();
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
    let report = tester.test(test).await;
    let message = if report.ok() {
        "The partner's endpoint answered every step"
    } else {
        "The connection test failed; the last step says why"
    };
    Ok(Envelope::ok(message, ConnectionTestDto::new(url, report)))
}

/// The route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(test_partner))
}
