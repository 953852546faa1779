//! The `/v1` router: every resource, the OpenAPI document generated from the handlers, and
//! the middleware stack (request ids and access log, JSON-only, authentication with rate
//! limits, idempotency, the audit layer); the console's `/console` routes beside it.

pub mod api_keys;
pub mod audit_events;
pub mod cem;
pub mod certificate_input;
pub mod certificates;
pub mod deletion;
pub mod export_part;
pub mod exports;
pub mod form;
pub mod health;
pub mod message_create;
pub mod message_evidence;
pub mod message_search;
pub mod message_support;
pub mod messages;
pub mod partner_input;
pub mod partner_test;
pub mod partner_test_message;
pub mod partners;
pub mod stations;
pub mod tenants;
pub mod trust;
pub mod usage;
pub mod webhook_deliveries;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

/// The OpenAPI description's fixed parts; paths come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "AS2 platform API", version = "1", description = "REST API of the AS2 platform: tenants, keys, stations, partners, certificates, messages, webhooks."),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers any `/v1` operation can give besides its own, from the middleware and the
/// extractors: documented on every operation so that clients (and schemathesis) know them.
struct CommonResponses;

/// `(status, description)` of the cross-cutting answers; each body is the error envelope.
const COMMON_RESPONSES: [(&str, &str); 11] = [
    (
        "400",
        "The request is malformed: not valid JSON, a bad Idempotency-Key",
    ),
    ("401", "No API key, an unknown one or a revoked one"),
    (
        "403",
        "The key lacks the scope, the mode or the tenant the call needs",
    ),
    ("404", "The resource does not exist or is not the caller's"),
    ("406", "The Accept header excludes application/json"),
    (
        "409",
        "A concurrent request with the same Idempotency-Key, or a conflicting state",
    ),
    ("413", "The body is larger than the limit"),
    (
        "415",
        "The body is neither application/json nor application/x-www-form-urlencoded (nor multipart/form-data where uploads are taken)",
    ),
    ("422", "Validation failed; `errors` names every bad field"),
    (
        "429",
        "The key's rate limit is spent; Retry-After says for how long",
    ),
    ("503", "The database is unavailable; retry shortly"),
];

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::ResponseBuilder;
        use utoipa::openapi::content::ContentBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, description) in COMMON_RESPONSES {
                    if operation.responses.responses.contains_key(status) {
                        continue;
                    }
                    let body = ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                        .build();
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content("application/json", body)
                        .build();
                    operation
                        .responses
                        .responses
                        .insert(status.to_owned(), response.into());
                }
            }
        }
    }
}

/// Every operation that takes a JSON body takes the same fields as a form
/// (`application/x-www-form-urlencoded`, seed 002; see `crate::json`): said in the document.
struct FormBodies;

impl utoipa::Modify for FormBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.post, &mut item.put, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let Some(utoipa::openapi::RefOr::T(body)) = operation.request_body.as_mut() else {
                    continue;
                };
                if let Some(json) = body.content.get("application/json").cloned() {
                    body.content
                        .insert("application/x-www-form-urlencoded".to_owned(), json);
                }
            }
        }
    }
}

/// Every authenticated `/v1` resource with its OpenAPI paths.
fn resources() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(tenants::router())
        .merge(api_keys::router())
        .merge(stations::router())
        .merge(partners::router())
        .merge(partner_test::router())
        .merge(trust::router())
        .merge(cem::router())
        .merge(certificates::router())
        .merge(messages::router())
        .merge(webhooks::router())
        .merge(usage::router())
        .merge(audit_events::router())
        .merge(exports::router())
}

/// The routes and the OpenAPI document, the common answers added to every operation (a
/// modifier on `ApiDoc` would run before the routes' paths are merged).
fn resources_and_doc() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use utoipa::Modify as _;
    let (routes, mut doc) = resources().split_for_parts();
    CommonResponses.modify(&mut doc);
    FormBodies.modify(&mut doc);
    (routes, doc)
}

/// The OpenAPI 3.1 document of `/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    resources_and_doc().1
}

/// The whole API router over `state`.
pub fn router(state: AppState) -> Router {
    let (resources, doc) = resources_and_doc();
    let doc = std::sync::Arc::new(doc);
    let authenticated = resources
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::audit::audit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::idempotency,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ));
    let public = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        );
    let api = Router::new()
        .merge(public)
        .merge(authenticated)
        .merge(crate::legacy::router(&state))
        .fallback(|| async { ApiError::no_route().into_response() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed().into_response() })
        .layer(middleware::from_fn(crate::headers::json_only))
        .layer(DefaultBodyLimit::max(crate::json::MAX_JSON_BODY));
    // the console answers HTML, so it is outside the JSON-only layer
    let deadlines = state.config().body_deadlines;
    let app = api
        .merge(crate::console::router(&state))
        .with_state(state)
        .layer(middleware::from_fn_with_state(
            deadlines,
            crate::body_deadline::limit,
        ));
    crate::observability::layer(app)
}
