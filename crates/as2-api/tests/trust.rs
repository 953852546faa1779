//! The trust lifecycle through both surfaces: `/v1/{partners,stations}/{id}/trust…` and
//! `/api/v1/partners/cem/…`: every rule a 422 naming its field, the full rollover, the
//! time-stamped hash chain, tamper detection, and tokens that `openssl ts -verify` accepts.

#![allow(clippy::print_stderr)]

mod common;

use axum::http::StatusCode;
use base64::Engine as _;
use chrono::{Duration, Utc};
use common::*;
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
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("openssl is not installed: skipping the openssl cross-check");
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
