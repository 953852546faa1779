//! The served OpenAPI document as a JSON snapshot (`snapshots/it__openapi__*.snap`), as
//! crates.io's `src/tests/openapi.rs` does: a change to the API shows up in review as a diff
//! of the document a client generator reads.

use crate::common::*;
use axum::http::{Method, StatusCode};

#[tokio::test]
async fn openapi_document() {
    let api = TestApi::new();
    let doc = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK, "{:?}", doc.body);
    insta::assert_json_snapshot!(doc.body);
}
