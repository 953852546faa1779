//! The trust lifecycle through both surfaces: `/v1/{partners,stations}/{id}/trust…` and
//! `/api/v1/partners/cem/…`: every rule a 422 naming its field, the full rollover, the
//! time-stamped hash chain, tamper detection, and tokens that `openssl ts -verify` accepts.

#![allow(clippy::print_stderr)]

use crate::common::*;
use axum::http::StatusCode;
use base64::Engine as _;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

async fn generate(api: &TestApi, name: &str, days: i64) -> String {
    let reply = api
        .post(
            "/v1/certificates/generate",
            json!({"name": name, "common_name": format!("{name}.example"), "days": days}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn partner_with(api: &TestApi, certificate: &str) -> String {
    let reply = api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2",
                   "certificate_id": certificate}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

fn at(offset: Duration) -> String {
    (Utc::now() + offset).to_rfc3339()
}

fn window(next: &str) -> Value {
    json!({"certificate_id": next, "activate_at": at(Duration::days(1)), "retire_at": at(Duration::days(8))})
}

#[tokio::test]
async fn a_scheduled_rollover_can_be_cancelled_and_the_timeline_says_so() {
    let api = TestApi::new();
    let old = generate(&api, "old", 365).await;
    let new = generate(&api, "new", 400).await;
    let partner = partner_with(&api, &old).await;
    let base = format!("/v1/partners/{partner}/trust");
    // nothing scheduled: nothing to cancel
    let nothing = api.post(&format!("{base}/cancel"), json!({})).await;
    assert_eq!(
        nothing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        nothing.body
    );
    assert!(
        nothing.body.to_string().contains("no scheduled rollover"),
        "{:?}",
        nothing.body
    );
    let scheduled = api.post(&format!("{base}/rollover"), window(&new)).await;
    assert_eq!(scheduled.status, StatusCode::OK, "{:?}", scheduled.body);
    let cancelled = api.post(&format!("{base}/cancel"), json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["message"], "Rollover cancelled successfully");
    let data = &cancelled.body["data"];
    assert_eq!(data["state"], "active");
    assert_eq!(data["current"]["id"], old.as_str());
    assert_eq!(data["next"], Value::Null);
    assert_eq!(data["activate_at"], Value::Null);
    // the partner keeps its certificate, and the timeline records both steps
    let partner_now = api.get(&format!("/v1/partners/{partner}")).await;
    assert_eq!(partner_now.body["data"]["certificate_id"], old.as_str());
    let events = api.get(&format!("{base}/events")).await;
    let types: Vec<&str> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["rollover_scheduled", "rollover_cancelled"]);
    // a station's rollover is cancelled the same way
    let stations = api.get("/v1/stations").await;
    let station = stations.body["data"][0]["id"].as_str().unwrap().to_owned();
    let none = api
        .post(&format!("/v1/stations/{station}/trust/cancel"), json!({}))
        .await;
    assert_eq!(
        none.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        none.body
    );
}

#[tokio::test]
async fn a_partner_rollover_runs_schedule_activate_retire_with_evidence() {
    let api = TestApi::new();
    let old = generate(&api, "old", 365).await;
    let new = generate(&api, "new", 400).await;
    let partner = partner_with(&api, &old).await;
    let base = format!("/v1/partners/{partner}/trust");

    let record = api.get(&base).await;
    assert_eq!(record.status, StatusCode::OK, "{:?}", record.body);
    let data = &record.body["data"];
    assert_eq!(data["subject"], "partner");
    assert_eq!(data["id"], partner.as_str());
    assert_eq!(data["state"], "active");
    assert_eq!(data["current"]["id"], old.as_str());
    assert_eq!(data["next"], Value::Null);
    assert_eq!(data["activate_at"], Value::Null);

    let scheduled = api.post(&format!("{base}/rollover"), window(&new)).await;
    assert_eq!(scheduled.status, StatusCode::OK, "{:?}", scheduled.body);
    let data = &scheduled.body["data"];
    assert_eq!(data["state"], "rollover_scheduled");
    assert_eq!(data["current"]["id"], old.as_str());
    assert_eq!(data["next"]["id"], new.as_str());
    assert!(data["activate_at"].as_str().unwrap().ends_with('Z'));

    let activated = api.post(&format!("{base}/activate"), json!({})).await;
    assert_eq!(activated.status, StatusCode::OK, "{:?}", activated.body);
    let data = &activated.body["data"];
    assert_eq!(data["state"], "activated");
    assert_eq!(data["current"]["id"], new.as_str());
    assert_eq!(data["previous"]["id"], old.as_str());
    // outbound work follows: the partner's certificate is the new one now
    let partner_now = api.get(&format!("/v1/partners/{partner}")).await;
    assert_eq!(partner_now.body["data"]["certificate_id"], new.as_str());

    let retired = api.post(&format!("{base}/retire"), json!({})).await;
    assert_eq!(retired.status, StatusCode::OK, "{:?}", retired.body);
    assert_eq!(retired.body["data"]["state"], "active");
    assert_eq!(retired.body["data"]["previous"], Value::Null);
    assert_eq!(retired.body["data"]["current"]["id"], new.as_str());

    let events = api.get(&format!("{base}/events")).await;
    assert_eq!(events.status, StatusCode::OK, "{:?}", events.body);
    let list = events.body["data"].as_array().unwrap();
    let types: Vec<&str> = list.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["rollover_scheduled", "activated", "retired"]);
    assert_eq!(events.body["total"], 3, "{:?}", events.body);
    assert_eq!(list[0]["prev_hash"], Value::Null);
    for pair in list.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
    for event in list {
        assert!(event["id"].as_str().unwrap().starts_with("tev_"));
        assert!(
            event["actor"].as_str().unwrap().starts_with("key_"),
            "{event}"
        );
        assert_eq!(event["hash"].as_str().unwrap().len(), 64);
        let token = event["timestamp_token"]
            .as_str()
            .expect("a time-stamp token");
        assert!(
            base64::engine::general_purpose::STANDARD
                .decode(token)
                .is_ok()
        );
    }
    assert_eq!(list[0]["details"]["certificate_id"], new.as_str());
    assert_eq!(
        list[1]["current_fingerprint"],
        api.get(&format!("/v1/certificates/{new}")).await.body["data"]["fingerprint_sha256"]
    );

    let verified = api.get(&format!("{base}/verify")).await;
    assert_eq!(verified.status, StatusCode::OK, "{:?}", verified.body);
    assert_eq!(
        verified.body["data"],
        json!({"valid": true, "events": 3, "problems": []})
    );
}

#[tokio::test]
async fn every_lifecycle_rule_is_a_422_naming_its_field() {
    let api = TestApi::new();
    let old = generate(&api, "old", 365).await;
    let new = generate(&api, "new", 400).await;
    let short = generate(&api, "short", 3).await;
    let partner = partner_with(&api, &old).await;
    let base = format!("/v1/partners/{partner}/trust");

    let reply = api.post(&format!("{base}/rollover"), json!({})).await;
    for field in ["certificate_id", "activate_at", "retire_at"] {
        assert_invalid(&reply, field);
    }
    let reply = api
        .post(
            &format!("{base}/rollover"),
            json!({"certificate_id": "nope", "activate_at": "tomorrow", "retire_at": at(Duration::days(2))}),
        )
        .await;
    assert_invalid(&reply, "certificate_id");
    assert_invalid(&reply, "activate_at");
    let reply = api
        .post(
            &format!("{base}/rollover"),
            json!({"certificate_id": new, "activate_at": at(-Duration::days(1)), "retire_at": at(-Duration::days(2))}),
        )
        .await;
    assert_invalid(&reply, "activate_at");
    assert_invalid(&reply, "retire_at");
    // the next certificate must be valid over the whole window
    let reply = api.post(&format!("{base}/rollover"), window(&short)).await;
    assert_invalid(&reply, "certificate_id");
    assert!(
        reply.body["errors"]["certificate_id"][0]
            .as_str()
            .unwrap()
            .contains("whole rollover window"),
        "{:?}",
        reply.body
    );
    let reply = api.post(&format!("{base}/rollover"), window(&old)).await;
    assert_invalid(&reply, "certificate_id");
    let reply = api
        .post(&format!("{base}/rollover"), window("cert_999999"))
        .await;
    assert_invalid(&reply, "certificate_id");
    let reply = api
        .post(&format!("{base}/rollover"), json!({"certificate_id": new, "activate_at": at(Duration::days(1)), "retire_at": at(Duration::days(2)), "extra": 1}))
        .await;
    assert!(reply.status.is_client_error(), "{:?}", reply.body);
    // nothing to activate or retire yet; no retire before activation
    assert_invalid(
        &api.post(&format!("{base}/activate"), json!({})).await,
        "state",
    );
    assert_invalid(
        &api.post(&format!("{base}/retire"), json!({})).await,
        "state",
    );
    let ok = api.post(&format!("{base}/rollover"), window(&new)).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_invalid(
        &api.post(&format!("{base}/retire"), json!({})).await,
        "state",
    );
    // a station's next certificate must be a key pair: upload a plain certificate
    let pem = api
        .get(&format!("/v1/certificates/{new}/download?format=pem"))
        .await;
    let text = String::from_utf8(pem.bytes.clone()).unwrap();
    let plain = api
        .post("/v1/certificates", json!({"name": "plain", "pem": text}))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED, "{:?}", plain.body);
    let plain = plain.body["data"]["id"].as_str().unwrap().to_owned();
    let stations = api.get("/v1/stations").await;
    let station = stations.body["data"][0]["id"].as_str().unwrap().to_owned();
    let reply = api
        .post(
            &format!("/v1/stations/{station}/trust/rollover"),
            window(&plain),
        )
        .await;
    assert_invalid(&reply, "certificate_id");
    // unknown and malformed subjects are 404
    assert_eq!(
        api.get("/v1/partners/prt_999999/trust").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/v1/partners/xyz/trust/events").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post("/v1/stations/stn_999999/trust/activate", json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_station_key_pair_rolls_over_and_the_station_follows() {
    let api = TestApi::new();
    let next = generate(&api, "next-key", 400).await;
    let stations = api.get("/v1/stations").await;
    let station = stations.body["data"][0]["id"].as_str().unwrap().to_owned();
    let base = format!("/v1/stations/{station}/trust");
    let before = api.get(&base).await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    let reply = api.post(&format!("{base}/rollover"), window(&next)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let reply = api.post(&format!("{base}/activate"), json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let now = api.get(&format!("/v1/stations/{station}")).await;
    assert_eq!(now.body["data"]["certificate_id"], next.as_str());
    let verified = api.get(&format!("{base}/verify")).await;
    assert_eq!(verified.body["data"]["valid"], true, "{:?}", verified.body);
    assert_eq!(verified.body["data"]["events"], 2);
}

#[tokio::test]
async fn tampering_with_an_event_or_its_token_is_detected() {
    let api = TestApi::new();
    let old = generate(&api, "old", 365).await;
    let new = generate(&api, "new", 400).await;
    let partner = partner_with(&api, &old).await;
    let base = format!("/v1/partners/{partner}/trust");
    assert_eq!(
        api.post(&format!("{base}/rollover"), window(&new))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        api.post(&format!("{base}/activate"), json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let events = api.get(&format!("{base}/events")).await;
    let first = events.body["data"][0]["id"].as_str().unwrap().to_owned();
    let second = events.body["data"][1]["id"].as_str().unwrap().to_owned();
    let first_row: i64 = first.trim_start_matches("tev_").parse().unwrap();
    let second_row: i64 = second.trim_start_matches("tev_").parse().unwrap();

    // an edited detail: the event's hash no longer matches its content
    api.db.execute(&format!(
        "UPDATE trust_events SET details = '{{\"certificate_id\":\"cert_000666\"}}' WHERE id = {first_row}"
    ));
    let verified = api.get(&format!("{base}/verify")).await;
    let data = &verified.body["data"];
    assert_eq!(data["valid"], false, "{data}");
    let problems = data["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().starts_with(&first)
                && p.as_str().unwrap().contains("does not match its hash")),
        "{problems:?}"
    );

    // a forged token on the second event (another event's token: valid, wrong imprint)
    let token_of_first = events.body["data"][0]["timestamp_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let hex = hex::encode(
        base64::engine::general_purpose::STANDARD
            .decode(token_of_first)
            .unwrap(),
    );
    let literal = match api.db.url.starts_with("postgres") {
        true => format!("'\\x{hex}'::bytea"),
        false => format!("X'{hex}'"),
    };
    api.db.execute(&format!(
        "UPDATE trust_events SET timestamp_token = {literal} WHERE id = {second_row}"
    ));
    let verified = api.get(&format!("{base}/verify")).await;
    let problems = verified.body["data"]["problems"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().starts_with(&second)
                && p.as_str()
                    .unwrap()
                    .contains("time-stamp token does not verify")),
        "{problems:?}"
    );

    // a deleted event breaks the chain
    api.db
        .execute(&format!("DELETE FROM trust_events WHERE id = {first_row}"));
    let verified = api.get(&format!("{base}/verify")).await;
    let problems = verified.body["data"]["problems"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("does not link")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn the_seed_000_cem_operations_drive_the_same_record() {
    let api = TestApi::new();
    let old = generate(&api, "old", 365).await;
    let new = generate(&api, "new", 400).await;
    let partner = partner_with(&api, &old).await;
    let row = |prefixed: &str| -> i64 { prefixed.rsplit('_').next().unwrap().parse().unwrap() };
    let id = row(&partner);

    let reply = api
        .post("/api/v1/partners/cem/schedule-rollover", json!({"id": id}))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["status"], "error");
    assert!(
        reply.body["errors"]["certificate_id"].is_array(),
        "{:?}",
        reply.body
    );

    let reply = api
        .post(
            "/api/v1/partners/cem/schedule-rollover",
            json!({"id": id, "certificate_id": row(&new), "activate_at": at(Duration::days(1)), "retire_at": at(Duration::days(8))}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "success");
    let data = &reply.body["data"];
    assert_eq!(data["partner_id"], id);
    assert_eq!(data["current_certificate_id"], row(&old));
    assert_eq!(data["next_certificate_id"], row(&new));
    assert_eq!(data["state"], "rollover_scheduled");
    // the same record through /v1
    let v1 = api.get(&format!("/v1/partners/{partner}/trust")).await;
    assert_eq!(v1.body["data"]["next"]["id"], new.as_str());

    let reply = api
        .post("/api/v1/partners/cem/activate", json!({"id": id}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["current_certificate_id"], row(&new));
    assert_eq!(reply.body["data"]["previous_certificate_id"], row(&old));
    let reply = api
        .post("/api/v1/partners/cem/retire", json!({"id": id}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["data"]["state"], "active");
    let reply = api
        .post("/api/v1/partners/cem/retire", json!({"id": id}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body["errors"]["state"].is_array(), "{:?}", reply.body);

    let events = api
        .post("/api/v1/partners/cem/events", json!({"id": id}))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{:?}", events.body);
    let list = events.body["data"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(list[0]["id"].is_i64(), "{:?}", list[0]);
    assert_eq!(list[2]["type"], "retired");
    assert!(list[2]["timestamp_token"].is_string());
    let verify = api
        .post("/api/v1/partners/cem/verify", json!({"id": id}))
        .await;
    assert_eq!(verify.body["data"]["valid"], true, "{:?}", verify.body);
    let missing = api
        .post("/api/v1/partners/cem/events", json!({"id": 999_999}))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// `openssl ts -verify -digest <event hash> -in token.der -token_in -CAfile tsa.pem`
/// accepts every token the platform stored.
#[tokio::test]
async fn tokens_verify_with_openssl_ts() {
    if !as2_test_support::openssl::available("the openssl cross-check") {
        return;
    }
    let api = TestApi::new();
    let old = generate(&api, "old", 365).await;
    let new = generate(&api, "new", 400).await;
    let partner = partner_with(&api, &old).await;
    let base = format!("/v1/partners/{partner}/trust");
    assert_eq!(
        api.post(&format!("{base}/rollover"), window(&new))
            .await
            .status,
        StatusCode::OK
    );
    let events = api.get(&format!("{base}/events")).await;
    let event = &events.body["data"][0];
    let token = base64::engine::general_purpose::STANDARD
        .decode(event["timestamp_token"].as_str().unwrap())
        .unwrap();
    let tsa = api
        .db
        .store
        .timestamp_authority()
        .current()
        .unwrap()
        .unwrap();
    let tsa_pem = as2_core::cert::Certificate::from_der(&tsa.certificate_der)
        .unwrap()
        .to_pem();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token.der"), &token).unwrap();
    std::fs::write(dir.path().join("tsa.pem"), tsa_pem).unwrap();
    let out = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args(["ts", "-verify", "-digest", event["hash"].as_str().unwrap()])
        .args(["-in", "token.der", "-token_in", "-CAfile", "tsa.pem"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("Verification: OK"),
        "{text}"
    );
    // and a token over another hash is refused by openssl too
    let out = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args(["ts", "-verify", "-digest", &"00".repeat(32)])
        .args(["-in", "token.der", "-token_in", "-CAfile", "tsa.pem"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// A CEM request from the partner, recorded as the gateway would with the manual policy.
fn partner_offers(api: &TestApi, partner: &str, request_id: &str) {
    use as2_core::cem;
    let scope = as2_store::Scope::new(api.tenant, as2_domain::Mode::Test);
    let store = &api.db.store;
    let partner: as2_domain::id::PartnerId = partner.parse().unwrap();
    let partner = store.partners().get(scope, partner).unwrap();
    let station = store
        .stations()
        .get(scope, partner.settings.station_id)
        .unwrap();
    let key =
        as2_core::keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048)
            .unwrap();
    let cert = as2_core::cert::generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &key,
        "CN=acme 2027",
        std::time::SystemTime::now(),
        std::time::Duration::from_secs(400 * 86_400),
    )
    .unwrap();
    let respond_by = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
    let built = cem::build_request(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &cem::CemRequest {
            request_id: request_id.into(),
            sender_as2_id: "ACME".into(),
            message_originated: std::time::SystemTime::now(),
            requests: vec![cem::TrustRequest::new(
                cert,
                vec![cem::CertUsage::DigitalSignature],
                respond_by,
                "https://acme.example/as2",
                format!("{request_id}@acme"),
            )],
        },
    )
    .unwrap();
    as2_trust::cem::receive(
        store,
        api.state.payloads(),
        scope,
        &partner,
        &station,
        &built.content_type,
        &built.body,
        as2_trust::cem::CemPolicy::Manual,
        Utc::now(),
    )
    .unwrap();
}

#[tokio::test]
async fn an_operator_answers_a_partner_cem_request_and_offers_our_key() {
    let api = TestApi::new();
    let old = generate(&api, "old", 365).await;
    let partner = partner_with(&api, &old).await;
    partner_offers(&api, &partner, "req-accept");
    partner_offers(&api, &partner, "req-reject");
    let list = api.get(&format!("/v1/partners/{partner}/trust/cem")).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let requests = list.body["data"].as_array().unwrap().clone();
    assert_eq!(requests.len(), 2);
    let by_request = |rid: &str| {
        requests.iter().find(|r| r["request_id"] == rid).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for r in &requests {
        assert_eq!(r["direction"], "inbound");
        assert_eq!(r["status"], "pending");
        assert_eq!(r["usages"], json!(["digitalSignature"]));
    }
    let accept_id = by_request("req-accept");
    let reject_id = by_request("req-reject");

    let accepted = api
        .post(
            &format!("/v1/partners/{partner}/trust/cem/{accept_id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    assert_eq!(accepted.body["data"]["status"], "accepted");
    let record = api.get(&format!("/v1/partners/{partner}/trust")).await;
    assert_eq!(record.body["data"]["state"], "rollover_scheduled");
    assert_eq!(
        record.body["data"]["next"]["id"],
        accepted.body["data"]["certificate_id"]
    );
    // the answer is queued to the partner as an AS2 message
    let messages = api.get("/v1/messages?direction=outbound").await;
    assert_eq!(
        messages.body["data"].as_array().unwrap().len(),
        1,
        "{:?}",
        messages.body
    );
    assert_eq!(messages.body["data"][0]["status"], "queued");
    // answered already; a missing reason; another partner's path
    let again = api
        .post(
            &format!("/v1/partners/{partner}/trust/cem/{accept_id}/accept"),
            json!({}),
        )
        .await;
    assert_invalid(&again, "status");
    let no_reason = api
        .post(
            &format!("/v1/partners/{partner}/trust/cem/{reject_id}/reject"),
            json!({}),
        )
        .await;
    assert_invalid(&no_reason, "reason");
    let elsewhere = api
        .post(
            &format!("/v1/partners/prt_999999/trust/cem/{reject_id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);

    // the seed-000 surface: reject with a reason, list with integer ids
    let row = |prefixed: &str| -> i64 { prefixed.rsplit('_').next().unwrap().parse().unwrap() };
    let rejected = api
        .post(
            "/api/v1/partners/cem/reject",
            json!({"id": row(&partner), "cem_request_id": row(&reject_id), "reason": "Key too short"}),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{:?}", rejected.body);
    assert_eq!(rejected.body["data"]["status"], "rejected");
    assert_eq!(rejected.body["data"]["reason"], "Key too short");
    assert_eq!(rejected.body["data"]["id"], row(&reject_id));
    let legacy = api
        .post(
            "/api/v1/partners/cem/requests",
            json!({"id": row(&partner)}),
        )
        .await;
    assert_eq!(legacy.body["data"].as_array().unwrap().len(), 2);

    // we offer our station's next key pair
    let next = generate(&api, "next", 400).await;
    let bad = api
        .post(
            &format!("/v1/partners/{partner}/trust/cem"),
            json!({"certificate_id": next, "usages": ["signing"], "respond_by": "soon"}),
        )
        .await;
    assert_invalid(&bad, "usages");
    assert_invalid(&bad, "respond_by");
    let offered = api
        .post(
            &format!("/v1/partners/{partner}/trust/cem"),
            json!({"certificate_id": next, "respond_by": at(Duration::days(2))}),
        )
        .await;
    assert_eq!(offered.status, StatusCode::CREATED, "{:?}", offered.body);
    let data = &offered.body["data"];
    assert_eq!(data["direction"], "outbound");
    assert_eq!(
        data["usages"],
        json!(["keyEncipherment", "digitalSignature"])
    );
    assert_eq!(
        data["response_url"],
        "http://127.0.0.1:8081/as2/test/receive"
    );
    assert!(data["message_id"].as_str().unwrap().starts_with("msg_"));
    let message = api
        .get(&format!(
            "/v1/messages/{}",
            data["message_id"].as_str().unwrap()
        ))
        .await;
    assert!(
        message.body["data"]["content_type"]
            .as_str()
            .unwrap()
            .starts_with("multipart/related"),
        "{:?}",
        message.body
    );
    let stations = api.get("/v1/stations").await;
    let station = stations.body["data"][0]["id"].as_str().unwrap().to_owned();
    let station_trust = api.get(&format!("/v1/stations/{station}/trust")).await;
    assert_eq!(station_trust.body["data"]["state"], "rollover_scheduled");
    assert_eq!(station_trust.body["data"]["next"]["id"], next.as_str());
    // another key pair while the station's rollover is under way is refused, naming the field
    let legacy_offer = api
        .post(
            "/api/v1/partners/cem/send",
            json!({"id": row(&partner), "certificate_id": row(&old), "respond_by": at(Duration::days(2))}),
        )
        .await;
    assert_eq!(
        legacy_offer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        legacy_offer.body
    );
    assert_eq!(legacy_offer.body["status"], "error");
    assert!(
        legacy_offer.body["errors"]["certificate_id"][0]
            .as_str()
            .unwrap()
            .contains("another rollover"),
        "{:?}",
        legacy_offer.body
    );
}
