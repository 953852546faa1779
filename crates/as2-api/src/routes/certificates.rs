//! `/v1/certificates`: partners' certificates and our key pairs (upload as JSON or multipart,
//! self-signed generation, download). The private key is stored sealed and never answered.

use std::time::Duration;

use as2_domain::ValidationErrors;
use as2_domain::certificate::{Certificate, CertificateKind};
use as2_domain::id::CertificateId;
use as2_store::Scope;
use as2_store::repo::certificates::{CertificateFilter, NewCertificate};
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::certificate_input::{self as input, ParsedCertificate};
use super::form;
use crate::auth::Caller;
use crate::envelope::{Envelope, ListEnvelope};
use crate::error::ApiError;
use crate::json::{JsonBody, MAX_JSON_BODY};
use crate::params::{QueryMap, meta, only, page, parsed, path_id};
use crate::state::AppState;
use crate::time::format;

/// A certificate or key pair on the wire (never the private key).
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateDto {
    /// `cert_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `certificate` or `key_pair`.
    pub kind: String,
    /// Subject DN (RFC 4514).
    pub subject: String,
    /// Issuer DN (RFC 4514).
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// SHA-256 of the DER, lowercase hex.
    pub fingerprint_sha256: String,
    /// Start of validity.
    pub not_before: String,
    /// End of validity.
    pub not_after: String,
    /// Key usages named by the certificate.
    pub key_usage: Vec<String>,
    /// Creation time.
    pub created_at: String,
}

impl From<Certificate> for CertificateDto {
    fn from(c: Certificate) -> Self {
        Self {
            id: c.id.to_string(),
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

/// Upload body (JSON): `name` and exactly one of `pem`, `der_base64`, `pkcs12_base64`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateUpload {
    /// Display name.
    pub name: Option<String>,
    /// PEM text: a certificate, a chain, or a private key with its certificate.
    pub pem: Option<String>,
    /// A DER certificate, base64.
    pub der_base64: Option<String>,
    /// A PKCS#12 bundle, base64 (needs `password`).
    pub pkcs12_base64: Option<String>,
    /// Password of the PKCS#12 bundle or of an encrypted PEM key.
    pub password: Option<String>,
}

/// Body of `POST /v1/certificates/generate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateInput {
    /// Display name.
    pub name: Option<String>,
    /// The subject's common name.
    pub common_name: Option<String>,
    /// Validity in days, 1–3650 (default 365).
    pub days: Option<i64>,
    /// The key: `rsa` (default), `ec-p256` or `ec-p384` (ECDSA signatures and ECDH
    /// key agreement, RFC 5753).
    pub key_type: Option<String>,
    /// RSA key size: 2048 (default), 3072 or 4096 (RSA keys only).
    pub key_size: Option<i64>,
}

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_certificates, upload_certificate))
        .routes(routes!(generate_certificate))
        .routes(routes!(get_certificate, delete_certificate))
        .routes(routes!(download_certificate))
}

fn check_name(name: Option<&str>, errors: &mut ValidationErrors) -> String {
    let name = name.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        errors.add("name", "The name field is required");
    } else if name.chars().count() > 255 {
        errors.add("name", "The name must be at most 255 characters");
    }
    name.to_owned()
}

fn decode(value: &str, field: &str, errors: &mut ValidationErrors) -> Option<Vec<u8>> {
    let cleaned: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    match STANDARD.decode(cleaned) {
        Ok(bytes) if !bytes.is_empty() => Some(bytes),
        Ok(_) => {
            errors.add(field, format!("The {field} field is empty"));
            None
        }
        Err(_) => {
            errors.add(field, format!("The {field} field must be valid base64"));
            None
        }
    }
}

/// What to parse, decided from the upload before any crypto runs.
pub(crate) enum Source {
    Pem(String, Option<String>),
    Der(Vec<u8>),
    Pkcs12(Vec<u8>, String),
    File(Vec<u8>, Option<String>),
}

impl Source {
    /// Reads the upload (a 400 `certificate_error` when it cannot be read).
    pub(crate) fn parse(self) -> Result<ParsedCertificate, ApiError> {
        match self {
            Self::Pem(text, password) => input::from_pem(text.as_bytes(), password.as_deref()),
            Self::Der(der) => input::from_der(&der),
            Self::Pkcs12(data, password) => input::from_pkcs12(&data, &password),
            Self::File(data, password) => input::from_file(&data, password.as_deref()),
        }
    }
}

pub(crate) fn json_source(upload: CertificateUpload) -> Result<(String, Source), ApiError> {
    let mut errors = ValidationErrors::new();
    let name = check_name(upload.name.as_deref(), &mut errors);
    let given: Vec<&str> = [
        ("pem", upload.pem.is_some()),
        ("der_base64", upload.der_base64.is_some()),
        ("pkcs12_base64", upload.pkcs12_base64.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect();
    match given.as_slice() {
        [] => errors.add("pem", "One of pem, der_base64 or pkcs12_base64 is required"),
        [_] => {}
        [_, rest @ ..] => {
            for field in rest {
                errors.add(field, "Send only one of pem, der_base64 or pkcs12_base64");
            }
        }
    }
    let source = if let Some(pem) = upload.pem {
        if pem.trim().is_empty() {
            errors.add("pem", "The pem field is empty");
        }
        Some(Source::Pem(pem, upload.password))
    } else if let Some(der) = upload.der_base64 {
        decode(&der, "der_base64", &mut errors).map(Source::Der)
    } else if let Some(p12) = upload.pkcs12_base64 {
        let data = decode(&p12, "pkcs12_base64", &mut errors);
        match upload.password {
            None => {
                errors.add(
                    "password",
                    "The password field is required with pkcs12_base64",
                );
                None
            }
            Some(password) => data.map(|d| Source::Pkcs12(d, password)),
        }
    } else {
        None
    };
    errors.into_result(())?;
    let source = source.ok_or_else(|| {
        ApiError::field("pem", "One of pem, der_base64 or pkcs12_base64 is required")
    })?;
    Ok((name, source))
}

/// The upload of a `multipart/form-data` body (`name`, `file`, `password`); the fields named
/// in `skip` are passed over (the console's CSRF token), any other is refused.
pub(crate) async fn multipart_source(
    request: Request,
    skip: &[&str],
) -> Result<(String, Source), ApiError> {
    let mut multipart = form::open(request).await?;
    let (mut name, mut file, mut password) = (None, None, None);
    while let Some(field) = form::next(&mut multipart, MAX_JSON_BODY).await? {
        match field.name().unwrap_or_default() {
            skipped if skip.contains(&skipped) => {}
            "name" => name = Some(form::text(field, "name").await?),
            "password" => password = Some(form::text(field, "password").await?),
            "file" => file = Some(form::bytes(field, MAX_JSON_BODY).await?),
            other => {
                return Err(ApiError::field(
                    &other.chars().take(64).collect::<String>(),
                    "This field is not recognised",
                ));
            }
        }
    }
    let mut errors = ValidationErrors::new();
    let name = check_name(name.as_deref(), &mut errors);
    match &file {
        None => errors.add("file", "The file field is required"),
        Some(data) if data.is_empty() => errors.add("file", "The file is empty"),
        Some(_) => {}
    }
    errors.into_result(())?;
    let file = file.unwrap_or_default();
    Ok((name, Source::File(file, password.filter(|p| !p.is_empty()))))
}

/// Stores a parsed upload in `scope`.
pub(crate) fn store(
    state: &AppState,
    scope: Scope,
    name: &str,
    parsed: &ParsedCertificate,
) -> Result<Certificate, ApiError> {
    Ok(state.store().certificates().create(
        scope,
        &NewCertificate {
            name,
            info: &parsed.info,
            der: &parsed.der,
            chain_der: parsed.chain_der.as_deref(),
            private_key_der: parsed.private_key_der.as_ref().map(|k| k.as_bytes()),
        },
    )?)
}

/// Certificates of the tenant in the key's mode (`kind`, `expires_soon` filter).
#[utoipa::path(get, path = "/v1/certificates", tag = "certificates",
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query),
        ("kind" = Option<String>, Query, description = "certificate or key_pair"),
        ("expires_soon" = Option<bool>, Query, description = "only those expiring within 30 days")),
    responses((status = 200, description = "A page of certificates", body = Object), (status = 422, description = "Bad parameter", body = Object)))]
async fn list_certificates(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<ListEnvelope<CertificateDto>, ApiError> {
    let mut errors = ValidationErrors::new();
    only(
        &query,
        &["page", "per_page", "kind", "expires_soon"],
        &mut errors,
    );
    let page = page(&query, &mut errors);
    let kind: Option<CertificateKind> = parsed(
        &query,
        "kind",
        "The kind must be certificate or key_pair",
        &mut errors,
    );
    let expires_soon: Option<bool> = parsed(
        &query,
        "expires_soon",
        "The expires soon filter must be true or false",
        &mut errors,
    );
    errors.into_result(())?;
    let filter = CertificateFilter {
        expires_before: (expires_soon == Some(true))
            .then(|| chrono::Utc::now() + chrono::Duration::days(30)),
        kind,
    };
    let (certs, total) = state
        .blocking("Certificate", move |s| {
            Ok(s.store()
                .certificates()
                .list(caller.scope(), filter, page)?)
        })
        .await?;
    let shown = certs.len();
    Ok(ListEnvelope::new(
        "Certificates retrieved successfully",
        certs.into_iter().map(CertificateDto::from).collect(),
        meta(page, total, shown),
    ))
}

/// Uploads a certificate or key pair (JSON, or multipart with `file`, `password`, `name`).
#[utoipa::path(post, path = "/v1/certificates", tag = "certificates",
    request_body(content = CertificateUpload, description = "JSON; or multipart/form-data with file, password, name"),
    responses((status = 201, description = "Stored", body = Object), (status = 400, description = "Unreadable certificate", body = Object),
        (status = 422, description = "Validation failed", body = Object)))]
async fn upload_certificate(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<Envelope<CertificateDto>, ApiError> {
    let (name, source) = if form::is_multipart(&request) {
        multipart_source(request, &[]).await?
    } else {
        let JsonBody(upload) = JsonBody::<CertificateUpload>::from_request(request, &()).await?;
        json_source(upload)?
    };
    let cert = upload(&state, caller.scope(), name, source).await?;
    Ok(Envelope::created(
        "Certificate uploaded successfully",
        cert.into(),
    ))
}

/// Reads an upload and stores it in `scope` (both API surfaces and the console).
pub(crate) async fn upload(
    state: &AppState,
    scope: Scope,
    name: String,
    source: Source,
) -> Result<Certificate, ApiError> {
    state
        .blocking("Certificate", move |s| {
            let parsed = source.parse()?;
            store(s, scope, &name, &parsed)
        })
        .await
}

/// Escapes a value for an RFC 4514 distinguished name.
fn escape_dn(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || edge_space
            || (i == 0 && c == '#')
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Generates a key pair (RSA, or P-256/P-384 with `key_type`) and its self-signed certificate.
#[utoipa::path(post, path = "/v1/certificates/generate", tag = "certificates", request_body = GenerateInput,
    responses((status = 201, description = "Generated", body = Object), (status = 422, description = "Validation failed", body = Object)))]
async fn generate_certificate(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<GenerateInput>,
) -> Result<Envelope<CertificateDto>, ApiError> {
    let cert = generate(&state, caller.scope(), input).await?;
    Ok(Envelope::created(
        "Certificate generated successfully",
        cert.into(),
    ))
}

/// Checks a generation request, generates the key pair and its self-signed certificate and
/// stores them in `scope` (the API and the console).
pub(crate) async fn generate(
    state: &AppState,
    scope: Scope,
    input: GenerateInput,
) -> Result<Certificate, ApiError> {
    let mut errors = ValidationErrors::new();
    let name = check_name(input.name.as_deref(), &mut errors);
    let common_name = input.common_name.as_deref().map(str::trim).unwrap_or("");
    if common_name.is_empty() {
        errors.add("common_name", "The common name field is required");
    } else if common_name.chars().count() > 64 {
        errors.add(
            "common_name",
            "The common name must be at most 64 characters",
        );
    } else if common_name.chars().any(char::is_control) {
        errors.add(
            "common_name",
            "The common name must not contain control characters",
        );
    }
    let days = input.days.unwrap_or(365);
    if !(1..=3650).contains(&days) {
        errors.add("days", "The days must be between 1 and 3650");
    }
    let curve = match input.key_type.as_deref().map(str::trim) {
        None | Some("rsa") => None,
        Some("ec-p256") => Some(as2_core::crypto::EcCurve::P256),
        Some("ec-p384") => Some(as2_core::crypto::EcCurve::P384),
        Some(_) => {
            errors.add(
                "key_type",
                "The key type must be one of: rsa, ec-p256, ec-p384",
            );
            None
        }
    };
    let key_size = input.key_size.unwrap_or(2048);
    if ![2048, 3072, 4096].contains(&key_size) {
        errors.add("key_size", "The key size must be 2048, 3072 or 4096");
    } else if curve.is_some() && input.key_size.is_some() {
        errors.add(
            "key_size",
            "The key size applies to RSA keys only; an elliptic-curve key's size is its curve",
        );
    }
    errors.into_result(())?;
    let subject = format!("CN={}", escape_dn(common_name));
    let bits = usize::try_from(key_size).unwrap_or(2048);
    let valid_for = Duration::from_secs(u64::try_from(days).unwrap_or(365) * 86_400);
    state
        .blocking("Certificate", move |s| {
            let provider = &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER;
            let key = match curve {
                None => as2_core::keys::generate_rsa_key(provider, bits)
                    .map(as2_core::keys::AnyPrivateKey::Rsa),
                Some(curve) => as2_core::keys::generate_ec_key(provider, curve)
                    .map(as2_core::keys::AnyPrivateKey::Ec),
            }
            .map_err(|e| ApiError::internal(&std::io::Error::other(e.to_string())))?;
            let cert = as2_core::cert::generate_self_signed_for(
                provider,
                key.as_ops(),
                &subject,
                std::time::SystemTime::now(),
                valid_for,
            )
            .map_err(|_| {
                ApiError::field(
                    "common_name",
                    "The common name cannot be used in a certificate subject",
                )
            })?;
            let parsed = input::assemble(&cert, &[], Some(&key))?;
            store(s, scope, &name, &parsed)
        })
        .await
}

/// One certificate.
#[utoipa::path(get, path = "/v1/certificates/{id}", tag = "certificates", params(("id" = String, Path, description = "cert_…")),
    responses((status = 200, description = "The certificate", body = Object), (status = 404, description = "Not found", body = Object)))]
async fn get_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<CertificateDto>, ApiError> {
    let id: CertificateId = path_id(&id, "Certificate")?;
    let cert = state
        .blocking("Certificate", move |s| {
            Ok(s.store().certificates().get(caller.scope(), id)?)
        })
        .await?;
    Ok(Envelope::ok(
        "Certificate retrieved successfully",
        cert.into(),
    ))
}

/// Deletes a certificate.
///
/// Refused (409 `certificate_in_use`) while a station, partner, trust record or pending
/// certificate exchange still uses it.
#[utoipa::path(delete, path = "/v1/certificates/{id}", tag = "certificates", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted", body = Object), (status = 404, description = "Not found", body = Object),
        (status = 409, description = "In use: the message names what uses it, details.used_by lists every use", body = Object)))]
async fn delete_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Envelope<serde_json::Value>, ApiError> {
    let id: CertificateId = path_id(&id, "Certificate")?;
    state
        .blocking("Certificate", move |s| {
            super::deletion::delete_certificate(s, caller.scope(), id)
        })
        .await?;
    Ok(Envelope::ok(
        "Certificate deleted successfully",
        serde_json::json!({ "id": id.to_string(), "deleted": true }),
    ))
}

/// The certificate (with its chain in PEM), never the private key.
#[utoipa::path(get, path = "/v1/certificates/{id}/download", tag = "certificates",
    params(("id" = String, Path), ("format" = Option<String>, Query, description = "pem (default) or der")),
    responses((status = 200, description = "application/x-pem-file or application/pkix-cert"),
        (status = 404, description = "Not found", body = Object), (status = 422, description = "Bad format", body = Object)))]
async fn download_certificate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    let id: CertificateId = path_id(&id, "Certificate")?;
    let mut errors = ValidationErrors::new();
    only(&query, &["format"], &mut errors);
    let format = query.get("format").map_or("pem", |f| f.trim());
    let der = match format {
        "pem" => false,
        "der" => true,
        _ => {
            errors.add("format", "The format must be pem or der");
            false
        }
    };
    errors.into_result(())?;
    certificate_file(&state, caller.scope(), id, der).await
}

/// A certificate (with its chain when PEM) as a download, never the private key (both API
/// surfaces).
pub(crate) async fn certificate_file(
    state: &AppState,
    scope: Scope,
    id: CertificateId,
    der: bool,
) -> Result<Response, ApiError> {
    let (cert, chain) = state
        .blocking("Certificate", move |s| {
            Ok(s.store().certificates().der(scope, id)?)
        })
        .await?;
    let filename = format!("{id}.{}", if der { "cer" } else { "pem" });
    let disposition = format!("attachment; filename=\"{filename}\"");
    if der {
        return Ok((
            [
                (header::CONTENT_TYPE, "application/pkix-cert".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            cert,
        )
            .into_response());
    }
    let mut pem = pem_block(&cert);
    for der in chain.as_deref().map(input::split_der).unwrap_or_default() {
        pem.push_str(&pem_block(der));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-pem-file".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pem,
    )
        .into_response())
}

fn pem_block(der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
