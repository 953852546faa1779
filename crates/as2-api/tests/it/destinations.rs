//! Outbound destinations over the API: partner `url`/`endpoint_url` and `mdn_url` and webhook
//! endpoint `url` whose host is a loopback, private, link-local or otherwise special address
//! (in any form a URL parser reads as one) are refused with 422 naming the field on `/v1` and
//! on seed 000's `/api/v1`, and nothing is stored or changed; the operator's
//! `AS2_OUTBOUND_ALLOW` networks are accepted.

use crate::common::*;
use as2_api::ApiConfig;
use as2_domain::destination::DestinationPolicy;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// The addresses of the issue, and two more spellings of loopback.
const REFUSED: [&str; 6] = [
    "http://10.0.0.1/as2",
    "http://169.254.169.254/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://2130706433/as2",
    "http://127.1:8081/as2",
];

fn partner(url: &str) -> Value {
    json!({"name": "Internal", "as2_id": "INTERNAL", "url": url, "encrypt": false})
}

fn hook(url: &str) -> Value {
    json!({"url": url, "events": ["message.*"]})
}

fn assert_refused(reply: &Reply, field: &str, context: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{context}: {:?}",
        reply.body
    );
    let sentence = reply.body["errors"][field][0]
        .as_str()
        .unwrap_or_else(|| panic!("{context}: {field} not named: {:?}", reply.body));
    assert!(
        sentence.contains("points at") && sentence.contains("AS2_OUTBOUND_ALLOW"),
        "{context}: {sentence}"
    );
}

async fn total(api: &TestApi, path: &str) -> i64 {
    api.get(path).await.body["total"].as_i64().unwrap()
}

#[tokio::test]
async fn partner_urls_naming_internal_addresses_are_refused_on_v1() {
    let api = TestApi::new();
    for url in REFUSED {
        let reply = api.post("/v1/partners", partner(url)).await;
        assert_refused(&reply, "url", url);
        // the alias of seed 000 is the same field
        let mut aliased = partner(url);
        aliased.as_object_mut().unwrap().remove("url");
        aliased["endpoint_url"] = json!(url);
        assert_refused(&api.post("/v1/partners", aliased).await, "url", url);
        let mut mdn = partner("https://partner.example/as2");
        mdn["mdn_mode"] = json!("async");
        mdn["mdn_url"] = json!(url);
        assert_refused(&api.post("/v1/partners", mdn).await, "mdn_url", url);
    }
    assert_eq!(total(&api, "/v1/partners").await, 0, "nothing was stored");

    // an existing partner cannot be pointed inside either, by PATCH or PUT
    let created = api
        .post("/v1/partners", partner("https://partner.example/as2"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    for url in REFUSED {
        let patched = api
            .patch(&format!("/v1/partners/{id}"), json!({"url": url}))
            .await;
        assert_refused(&patched, "url", url);
        let replaced = api.put(&format!("/v1/partners/{id}"), partner(url)).await;
        assert_refused(&replaced, "url", url);
        let patched = api
            .patch(&format!("/v1/partners/{id}"), json!({"mdn_url": url}))
            .await;
        assert_refused(&patched, "mdn_url", url);
    }
    let unchanged = api.get(&format!("/v1/partners/{id}")).await.body["data"].clone();
    assert_eq!(unchanged["url"], "https://partner.example/as2");
    assert!(unchanged["mdn_url"].is_null(), "{unchanged}");
    // a public address is fine
    let public = api
        .patch(
            &format!("/v1/partners/{id}"),
            json!({"url": "http://8.8.8.8/as2"}),
        )
        .await;
    assert_eq!(public.status, StatusCode::OK, "{:?}", public.body);
}

#[tokio::test]
async fn webhook_urls_naming_internal_addresses_are_refused() {
    let api = TestApi::new();
    for url in REFUSED {
        let reply = api.post("/v1/webhook-endpoints", hook(url)).await;
        assert_refused(&reply, "url", url);
    }
    assert_eq!(total(&api, "/v1/webhook-endpoints").await, 0);
    let created = api
        .post(
            "/v1/webhook-endpoints",
            hook("https://hooks.example.com/as2"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    for url in REFUSED {
        let patched = api
            .patch(&format!("/v1/webhook-endpoints/{id}"), json!({"url": url}))
            .await;
        assert_refused(&patched, "url", url);
    }
    let unchanged = api.get(&format!("/v1/webhook-endpoints/{id}")).await;
    assert_eq!(
        unchanged.body["data"]["url"],
        "https://hooks.example.com/as2"
    );
}

#[tokio::test]
async fn seed_000_partner_endpoint_urls_naming_internal_addresses_are_refused() {
    let api = TestApi::new();
    let station = api.post("/api/v1/stations", json!({})).await.body["data"][0]["id"]
        .as_i64()
        .unwrap();
    for url in REFUSED {
        let reply = api
            .post(
                "/api/v1/partners/create",
                json!({"station": station, "as2_id": "INTERNAL", "name": "Internal",
                       "email": "as2@internal.example", "endpoint_url": url, "encryption": 0}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["status"], "error", "{url}");
        let sentence = reply.body["errors"]["endpoint_url"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{url}: endpoint_url not named: {:?}", reply.body));
        assert!(sentence.contains("AS2_OUTBOUND_ALLOW"), "{sentence}");
    }
    let listed = api.post("/api/v1/partners", json!({})).await;
    assert_eq!(listed.body["data"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn the_operators_allowed_networks_are_accepted() {
    let api = TestApi::with_config(ApiConfig {
        destinations: DestinationPolicy::parse(
            "10.0.0.0/8, 169.254.169.254/32, 127.0.0.0/8, fe80::/10",
        )
        .unwrap(),
        ..ApiConfig::default()
    });
    for (n, url) in REFUSED.iter().enumerate() {
        let mut body = partner(url);
        body["as2_id"] = json!(format!("INTERNAL-{n}"));
        body["mdn_url"] = json!(url);
        let reply = api.post("/v1/partners", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{url}: {:?}", reply.body);
        let reply = api.post("/v1/webhook-endpoints", hook(url)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{url}: {:?}", reply.body);
    }
    // what is not allowed stays refused
    let reply = api
        .post("/v1/partners", partner("http://192.168.1.10/as2"))
        .await;
    assert_refused(&reply, "url", "192.168.1.10");
}
