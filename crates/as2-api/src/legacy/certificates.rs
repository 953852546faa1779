//! `/api/v1/certificates…`: list (with the `kind` filter), detail, create (upload) and
//! download, in seed 000's style over the same rows as `/v1/certificates`.

use as2_domain::ValidationErrors;
use as2_domain::certificate::{Certificate, CertificateKind};
use as2_domain::id::CertificateId;
use as2_domain::pagination::PageRequest;
use as2_store::repo::certificates::CertificateFilter;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::reply::{RawBody, Success, body, id_field, optional_body};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::certificates::{
    CertificateUpload, certificate_file, json_source, store as store_certificate,
};
use crate::state::AppState;
use crate::time::format;

/// A certificate or key pair in seed 000's shape (integer id; never the private key).
#[derive(Debug, Serialize)]
pub struct LegacyCertificate {
    id: i64,
    certificate_id: i64,
    name: String,
    kind: String,
    subject: String,
    issuer: String,
    serial: String,
    fingerprint_sha256: String,
    not_before: String,
    not_after: String,
    key_usage: Vec<String>,
    created_at: String,
}

impl From<Certificate> for LegacyCertificate {
    fn from(c: Certificate) -> Self {
        Self {
            id: c.id.0,
            certificate_id: c.id.0,
            name: c.name,
            kind: c.kind.to_string(),
            subject: c.info.subject,
            issuer: c.info.issuer,
            serial: c.info.serial,
            fingerprint_sha256: c.info.fingerprint_sha256,
            not_before: format(c.info.not_before),
            not_after: format(c.info.not_after),
            key_usage: c.info.key_usage,
            created_at: format(c.created_at),
        }
    }
}

/// Body of the list call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListBody {
    kind: Option<String>,
}

/// Body of the detail call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailBody {
    id: Option<i64>,
}

/// Body of the download call.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadBody {
    id: Option<i64>,
    format: Option<String>,
}

/// `POST /api/v1/certificates`: every certificate of the tenant (`kind`: `certificate` or
/// `key_pair`).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<Vec<LegacyCertificate>>, ApiError> {
    let body: ListBody = optional_body(&bytes)?;
    let kind = match body.kind.as_deref() {
        None => None,
        Some(kind) => Some(
            kind.parse::<CertificateKind>()
                .map_err(|_| ApiError::field("kind", "The kind must be certificate or key_pair"))?,
        ),
    };
    let certificates = state
        .blocking("Certificate", move |s| {
            let mut all = Vec::new();
            for page in 1.. {
                let filter = CertificateFilter {
                    expires_before: None,
                    kind,
                };
                let (rows, total) = s.store().certificates().list(
                    caller.scope(),
                    filter,
                    PageRequest {
                        page,
                        per_page: 100,
                    },
                )?;
                let empty = rows.is_empty();
                all.extend(rows);
                if empty || i64::try_from(all.len()).unwrap_or(i64::MAX) >= total {
                    break;
                }
            }
            Ok(all)
        })
        .await?;
    Ok(Success::ok(
        "Certificates retrieved",
        certificates.into_iter().map(Into::into).collect(),
    ))
}

/// `POST /api/v1/certificates/detail`: one certificate by integer id.
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyCertificate>, ApiError> {
    let body: DetailBody = body(&bytes)?;
    let id = CertificateId(id_field(body.id, "id")?);
    let certificate = state
        .blocking("Certificate", move |s| {
            Ok(s.store().certificates().get(caller.scope(), id)?)
        })
        .await?;
    Ok(Success::ok("Certificate retrieved", certificate.into()))
}

/// `POST /api/v1/certificates/create`: uploads a certificate or key pair with the fields of
/// `POST /v1/certificates` (`name` and one of `pem`, `der_base64`, `pkcs12_base64` with
/// `password`).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Success<LegacyCertificate>, ApiError> {
    let upload: CertificateUpload = body(&bytes)?;
    let (name, source) = json_source(upload)?;
    let certificate = state
        .blocking("Certificate", move |s| {
            let parsed = source.parse()?;
            store_certificate(s, caller.scope(), &name, &parsed)
        })
        .await?;
    Ok(Success::ok("Certificate created", certificate.into()))
}

/// `POST /api/v1/certificates/download`: the certificate file (`format`: `pem`, the default,
/// with its chain; or `der`), never the private key.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: DownloadBody = body(&bytes)?;
    let mut errors = ValidationErrors::new();
    let id = match id_field(body.id, "id") {
        Ok(id) => Some(CertificateId(id)),
        Err(_) if body.id.is_none() => {
            errors.add("id", "The id field is required");
            None
        }
        Err(_) => {
            errors.add("id", "The id must be a positive integer");
            None
        }
    };
    let der = match body.format.as_deref().map(str::trim) {
        None | Some("pem") => false,
        Some("der") => true,
        Some(_) => {
            errors.add("format", "The format must be pem or der");
            false
        }
    };
    errors.into_result(())?;
    let id = id.ok_or_else(|| ApiError::field("id", "The id field is required"))?;
    certificate_file(&state, caller.scope(), id, der).await
}
