//! The `/v1` router: every resource, the OpenAPI document generated from the handlers, and
//! the middleware stack (request ids and access log, JSON-only, authentication with rate
//! limits, idempotency).

pub mod api_keys;
pub mod cem;
pub mod certificate_input;
pub mod certificates;
pub mod form;
pub mod message_create;
pub mod messages;
pub mod partner_input;
pub mod partners;
pub mod stations;
pub mod tenants;
pub mod trust;
pub mod usage;
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

/// Every authenticated `/v1` resource with its OpenAPI paths.
fn resources() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(tenants::router())
        .merge(api_keys::router())
        .merge(stations::router())
        .merge(partners::router())
        .merge(trust::router())
        .merge(cem::router())
        .merge(certificates::router())
        .merge(messages::router())
        .merge(webhooks::router())
        .merge(usage::router())
}

/// The OpenAPI 3.1 document of `/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    resources().split_for_parts().1
}

/// The whole API router over `state`.
pub fn router(state: AppState) -> Router {
    let (resources, doc) = resources().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    let authenticated = resources
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::idempotency,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authenticate,
        ));
    let public = Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        );
    let app = Router::new()
        .merge(public)
        .merge(authenticated)
        .merge(crate::legacy::router(&state))
        .fallback(|| async { ApiError::no_route().into_response() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed().into_response() })
        .layer(middleware::from_fn(crate::headers::json_only))
        .layer(DefaultBodyLimit::max(crate::json::MAX_JSON_BODY))
        .with_state(state);
    crate::observability::layer(app)
}
