//! `DELETE /v1/certificates/{id}` and `DELETE /v1/stations/{id}` refuse (409) while a live
//! station, partner, trust record (a scheduled rollover's next certificate) or partner still
//! uses what they would delete, naming it, and delete once nothing does.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::TestApi;

async fn generate(api: &TestApi, name: &str) -> String {
    let reply = api
        .post(
            "/v1/certificates/generate",
            json!({"name": name, "common_name": format!("{name}.example"), "key_type": "ec-p256"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

fn uses(reply: &crate::common::Reply) -> Vec<(String, String)> {
    reply.body["error"]["details"]["used_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["holder"].as_str().unwrap().to_owned(),
                u["use"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_certificate_in_use_is_not_deleted_until_nothing_uses_it() {
    let api = TestApi::new();
    let theirs = generate(&api, "theirs").await;
    let next = generate(&api, "next").await;
    let ours = generate(&api, "ours").await;
    let partner = api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2",
                   "certificate_id": theirs, "encrypt": false}),
        )
        .await;
    assert_eq!(partner.status, StatusCode::CREATED, "{:?}", partner.body);
    let partner = partner.body["data"]["id"].as_str().unwrap().to_owned();
    let station = api
        .post(
            "/v1/stations",
            json!({"name": "EU", "as2_id": "ACME-EU", "certificate_id": ours}),
        )
        .await;
    assert_eq!(station.status, StatusCode::CREATED, "{:?}", station.body);
    let station = station.body["data"]["id"].as_str().unwrap().to_owned();

    let refused = api.delete(&format!("/v1/certificates/{theirs}")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["type"], "conflict_error");
    assert_eq!(refused.body["error"]["code"], "certificate_in_use");
    assert_eq!(
        refused.body["message"],
        format!(
            "The certificate {theirs} is in use, so it cannot be deleted: partner {partner} (certificate_id). Give them another certificate, or delete them, first"
        )
    );
    assert_eq!(
        uses(&refused),
        [(format!("partner {partner}"), "certificate_id".to_owned())]
    );
    let by_station = api.delete(&format!("/v1/certificates/{ours}")).await;
    assert_eq!(by_station.status, StatusCode::CONFLICT);
    assert_eq!(
        uses(&by_station),
        [(format!("station {station}"), "certificate_id".to_owned())]
    );

    // a scheduled rollover's next certificate is in use until the rollover is cancelled
    let window = json!({"certificate_id": next,
        "activate_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339(),
        "retire_at": (chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339()});
    let trust = format!("/v1/partners/{partner}/trust");
    let scheduled = api.post(&format!("{trust}/rollover"), window).await;
    assert_eq!(scheduled.status, StatusCode::OK, "{:?}", scheduled.body);
    let pending = api.delete(&format!("/v1/certificates/{next}")).await;
    assert_eq!(pending.status, StatusCode::CONFLICT);
    assert_eq!(
        uses(&pending),
        [(
            format!("partner {partner}"),
            "trust record: next".to_owned()
        )]
    );
    let both = api.delete(&format!("/v1/certificates/{theirs}")).await;
    assert!(
        both.body["message"].as_str().unwrap().contains(&format!(
            "partner {partner} (certificate_id, trust record: current)"
        )),
        "{:?}",
        both.body
    );
    for id in [&theirs, &next, &ours] {
        let kept = api.get(&format!("/v1/certificates/{id}")).await;
        assert_eq!(kept.status, StatusCode::OK, "{id} was deleted");
    }
    let cancelled = api.post(&format!("{trust}/cancel"), json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    let deleted = api.delete(&format!("/v1/certificates/{next}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    assert_eq!(deleted.body["data"], json!({"id": next, "deleted": true}));

    // a deleted partner or station uses nothing
    assert_eq!(
        api.delete(&format!("/v1/partners/{partner}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.delete(&format!("/v1/stations/{station}")).await.status,
        StatusCode::OK
    );
    for id in [&theirs, &ours] {
        let deleted = api.delete(&format!("/v1/certificates/{id}")).await;
        assert_eq!(deleted.status, StatusCode::OK, "{id}: {:?}", deleted.body);
        let gone = api.get(&format!("/v1/certificates/{id}")).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
    let again = api.delete(&format!("/v1/certificates/{theirs}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body["message"], "Certificate not found");
}

#[tokio::test]
async fn a_station_partners_use_is_not_deleted_until_they_are_gone() {
    let api = TestApi::new();
    let station = api.get("/v1/stations").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut partners = Vec::new();
    for as2_id in ["ACME", "GLOBEX"] {
        let made = api
            .post(
                "/v1/partners",
                json!({"name": as2_id, "as2_id": as2_id, "url": "https://p.example/as2",
                       "station_id": station, "encrypt": false}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
        partners.push(made.body["data"]["id"].as_str().unwrap().to_owned());
    }
    let refused = api.delete(&format!("/v1/stations/{station}")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["code"], "station_in_use");
    assert_eq!(
        refused.body["message"],
        format!(
            "The station {station} is in use, so it cannot be deleted: partners {}, {} send and receive as it. Give them another station (their station_id), or delete them, first",
            partners[0], partners[1]
        )
    );
    assert_eq!(
        refused.body["error"]["details"]["partners"],
        Value::from(partners.clone())
    );
    assert_eq!(
        api.delete(&format!("/v1/partners/{}", partners[0]))
            .await
            .status,
        StatusCode::OK
    );
    let one = api.delete(&format!("/v1/stations/{station}")).await;
    assert!(
        one.body["message"]
            .as_str()
            .unwrap()
            .contains(&format!("partner {} sends and receives as it", partners[1])),
        "{:?}",
        one.body
    );
    assert_eq!(
        api.get(&format!("/v1/stations/{station}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.delete(&format!("/v1/partners/{}", partners[1]))
            .await
            .status,
        StatusCode::OK
    );
    let deleted = api.delete(&format!("/v1/stations/{station}")).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    assert_eq!(
        api.get(&format!("/v1/stations/{station}")).await.status,
        StatusCode::NOT_FOUND
    );
}
