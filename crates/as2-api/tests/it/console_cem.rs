//! Certificate exchange and the station's trust page on the console over real HTTP: an
//! admin rejects one of a partner's CEM requests after the API's sentence for an empty
//! reason, accepts another (encryption switches, signing is scheduled, the answer is queued),
//! and offers one of our key pairs after correcting the form; a viewer sees the requests
//! without a button and a forged answer is refused, so is one without its CSRF token, and
//! another tenant's owner does not find them; a station's rollover is scheduled from its own
//! trust page.

use as2_api::console::ConsoleConfig;
use as2_domain::Mode;
use as2_domain::cem::CemDirection;
use as2_domain::id::{CemRequestId, CertificateId, PartnerId, StationId};
use as2_domain::user::Role;
use as2_store::Scope;
use as2_store::repo::cem::NewCemRequest;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::console::Served;
use crate::console_trust::{day, generate};

/// Records a pending CEM request `partner` sent us, offering `certificate` for `usages`, as
/// the gateway does when the policy leaves the answer to an operator.
pub(crate) fn partner_request(
    served: &Served,
    (partner, station): (PartnerId, StationId),
    certificate: &str,
    usages: &[&str],
    request_id: &str,
) -> CemRequestId {
    let usages: Vec<String> = usages.iter().map(|u| (*u).to_owned()).collect();
    let certificate: CertificateId = certificate.parse().unwrap();
    served
        .api
        .db
        .store
        .cem()
        .create(
            Scope::new(served.api.tenant, Mode::Test),
            &NewCemRequest {
                direction: CemDirection::Inbound,
                partner_id: partner,
                station_id: station,
                request_id,
                certificate_id: certificate,
                usages: &usages,
                issuer_name: "CN=acme.example",
                serial_decimal: "4242",
                respond_by: Utc::now() + Duration::days(5),
                response_url: "https://acme.example/as2",
                message_id: None,
            },
        )
        .unwrap()
        .id
}

async fn requests(served: &Served, partner: &str) -> Vec<Value> {
    let listed = served
        .api
        .get(&format!("/v1/partners/{partner}/trust/cem"))
        .await;
    assert_eq!(listed.status.as_u16(), 200, "{:?}", listed.body);
    listed.body["data"].as_array().unwrap().clone()
}

async fn status_of(served: &Served, partner: &str, id: CemRequestId) -> String {
    let all = requests(served, partner).await;
    let found = all.iter().find(|r| r["id"] == id.to_string().as_str());
    found.unwrap()["status"].as_str().unwrap().to_owned()
}

async fn audited(served: &Served, action: &str) -> i64 {
    let audit = served
        .api
        .get(&format!("/v1/audit-events?action={action}"))
        .await;
    audit.body["total"].as_i64().unwrap()
}

#[tokio::test]
async fn an_admin_answers_the_partners_requests_and_offers_a_key_pair_a_viewer_only_reads() {
    let served = Served::start(ConsoleConfig::default()).await;
    let theirs = generate(&served, "acme-old", 365).await;
    let offered = generate(&served, "acme-new", 400).await;
    let ours = generate(&served, "ours", 365).await;
    let ours_next = generate(&served, "ours-next", 400).await;
    let made = served
        .api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2", "certificate_id": theirs}),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    let partner = made.body["data"]["id"].as_str().unwrap().to_owned();
    let station = made.body["data"]["station_id"].as_str().unwrap().to_owned();
    let set = served
        .api
        .patch(
            &format!("/v1/stations/{station}"),
            json!({"certificate_id": ours}),
        )
        .await;
    assert_eq!(set.status.as_u16(), 200, "{:?}", set.body);
    let ids = (partner.parse().unwrap(), station.parse().unwrap());
    let both = ["keyEncipherment", "digitalSignature"];
    let to_accept = partner_request(&served, ids, &offered, &both, "req-accept");
    let to_reject = partner_request(&served, ids, &offered, &both, "req-reject");
    let base = format!("/console/partners/{partner}/trust");
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (ada, csrf) = served.session("ada@example.com").await;

    let shown = served.get(&base, &ada).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("Certificate exchange (CEM)"));
    assert!(shown.body.contains("req-accept") && shown.body.contains("req-reject"));
    assert!(
        shown
            .body
            .contains(&format!("{base}/cem/{to_accept}/accept"))
    );
    assert!(
        shown
            .body
            .contains("<label for=\"offer-certificate_id\">Key pair</label>")
    );

    // a viewer reads the requests, without a button; her forged answers are refused
    let (vic, vic_csrf) = served.session("vic@example.com").await;
    let read = served.get(&base, &vic).await;
    assert!(read.body.contains("req-accept"), "{}", read.body);
    assert!(!read.body.contains("/accept\"") && !read.body.contains("Send the offer"));
    let forged = served
        .post(
            &format!("{base}/cem/{to_accept}/accept"),
            &vic,
            &[],
            &format!("csrf_token={vic_csrf}"),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    // the admin's own form without its token, and another tenant's owner with hers
    let tokenless = served
        .post(&format!("{base}/cem/{to_accept}/accept"), &ada, &[], "")
        .await;
    assert_eq!(tokenless.status, 403, "{}", tokenless.body);
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    assert_eq!(served.get(&base, &eve).await.status, 404);
    let foreign_answer = served
        .post(
            &format!("{base}/cem/{to_accept}/accept"),
            &eve,
            &[],
            &format!("csrf_token={eve_csrf}"),
        )
        .await;
    assert_eq!(foreign_answer.status, 404, "{}", foreign_answer.body);
    assert_eq!(status_of(&served, &partner, to_accept).await, "pending");

    // a rejection needs its reason: the API's sentence beside the field of that request
    let reject = format!("{base}/cem/{to_reject}/reject");
    let empty = served
        .post(&reject, &ada, &[], &format!("csrf_token={csrf}&reason=+"))
        .await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(
        empty
            .body
            .contains(&format!("id=\"reason-{to_reject}-error\"")),
        "{}",
        empty.body
    );
    assert!(empty.body.contains("Say why the certificate is rejected"));
    assert_eq!(status_of(&served, &partner, to_reject).await, "pending");
    let rejected = served
        .post(
            &reject,
            &ada,
            &[],
            &format!("csrf_token={csrf}&reason=Wrong+issuer"),
        )
        .await;
    assert_eq!(rejected.status, 303, "{}", rejected.body);
    let all = requests(&served, &partner).await;
    let row = all
        .iter()
        .find(|r| r["id"] == to_reject.to_string().as_str())
        .unwrap();
    assert_eq!(row["status"], "rejected");
    assert_eq!(row["reason"], "Wrong issuer");

    // the acceptance: encryption to them now, their signing certificate scheduled
    let accepted = served
        .post(
            &format!("{base}/cem/{to_accept}/accept"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(status_of(&served, &partner, to_accept).await, "accepted");
    let record = served
        .api
        .get(&format!("/v1/partners/{partner}/trust"))
        .await;
    assert_eq!(record.body["data"]["state"], "rollover_scheduled");
    assert_eq!(record.body["data"]["next"]["id"], offered.as_str());
    let after = served.api.get(&format!("/v1/partners/{partner}")).await;
    assert_eq!(
        after.body["data"]["encryption_certificate_id"],
        offered.as_str(),
        "{:?}",
        after.body
    );
    let queued = served
        .api
        .get("/v1/messages?subject=Certificate+exchange+response")
        .await;
    assert_eq!(
        queued.body["total"], 2,
        "both answers go out: {:?}",
        queued.body
    );
    // answered already: the lifecycle's sentence, nothing changed
    let twice = served
        .post(
            &format!("{base}/cem/{to_accept}/accept"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(twice.status, 422, "{}", twice.body);
    assert!(twice.body.contains("role=\"alert\""));
    assert_eq!(audited(&served, "partner.trust.cem.accept").await, 1);
    assert_eq!(audited(&served, "partner.trust.cem.reject").await, 1);

    // an offer: the API's sentences beside the fields, the usages chosen kept
    let offer = format!("{base}/cem");
    let wrong = served
        .post(
            &offer,
            &ada,
            &[],
            &format!("csrf_token={csrf}&usages=tlsClient&respond_by=yesterday"),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body.contains("id=\"offer-certificate_id-error\""),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("id=\"offer-respond_by-error\""));
    assert!(
        wrong.body.contains("id=\"offer-usages-error\"") || wrong.body.contains("offer-errors")
    );
    assert!(
        wrong
            .body
            .contains("id=\"offer-usage-tlsClient\" name=\"usages\" value=\"tlsClient\" checked")
    );
    assert!(!wrong.body.contains(
        "id=\"offer-usage-keyEncipherment\" name=\"usages\" value=\"keyEncipherment\" checked"
    ));
    let sent = served
        .post(
            &offer,
            &ada,
            &[],
            &format!(
                "csrf_token={csrf}&certificate_id={ours_next}&usages=keyEncipherment&usages=digitalSignature&respond_by={}&response_url=",
                day(10)
            ),
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let ours_sent: Vec<Value> = requests(&served, &partner)
        .await
        .into_iter()
        .filter(|r| r["direction"] == "outbound")
        .collect();
    assert_eq!(ours_sent.len(), 1, "{ours_sent:?}");
    assert_eq!(ours_sent[0]["certificate_id"], ours_next.as_str());
    assert_eq!(
        ours_sent[0]["usages"],
        json!(["keyEncipherment", "digitalSignature"])
    );
    assert_eq!(audited(&served, "partner.trust.cem").await, 1);
    let shown = served.get(&base, &ada).await;
    assert!(shown.body.contains(">sent<"), "{}", shown.body);
}

#[tokio::test]
async fn a_station_key_pair_rolls_over_from_its_own_trust_page() {
    let served = Served::start(ConsoleConfig::default()).await;
    let ours = generate(&served, "ours", 365).await;
    let next = generate(&served, "ours-next", 400).await;
    // a public certificate (a key pair's, downloaded and uploaded alone): not a choice
    let other = generate(&served, "other", 365).await;
    let pem = served
        .api
        .get(&format!("/v1/certificates/{other}/download"))
        .await;
    let pem = String::from_utf8(pem.bytes).unwrap();
    let uploaded = served
        .api
        .post(
            "/v1/certificates",
            json!({"name": "a partner's", "pem": pem}),
        )
        .await;
    assert_eq!(uploaded.status.as_u16(), 201, "{:?}", uploaded.body);
    let public = uploaded.body["data"]["id"].as_str().unwrap().to_owned();
    let made = served
        .api
        .post(
            "/v1/stations",
            json!({"name": "Billing", "as2_id": "BILLING", "certificate_id": ours}),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    let station = made.body["data"]["id"].as_str().unwrap().to_owned();
    let base = format!("/console/stations/{station}/trust");
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (ada, csrf) = served.session("ada@example.com").await;

    let listed = served.get("/console/stations", &ada).await;
    assert!(
        listed.body.contains(&format!("href=\"{base}\"")),
        "{}",
        listed.body
    );
    let shown = served.get(&base, &ada).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("Trust lifecycle: Billing"));
    assert!(shown.body.contains("All stations"));
    assert!(
        !shown.body.contains("Certificate exchange"),
        "a partner's only"
    );
    assert!(shown.body.contains(&format!("<option value=\"{next}\"")));
    assert!(
        !shown.body.contains(&format!("<option value=\"{public}\"")),
        "a station rolls over to a key pair of ours only"
    );

    let scheduled = served
        .post(
            &format!("{base}/rollover"),
            &ada,
            &[],
            &format!(
                "csrf_token={csrf}&certificate_id={next}&activate_at={}&retire_at={}",
                day(2),
                day(9)
            ),
        )
        .await;
    assert_eq!(scheduled.status, 303, "{}", scheduled.body);
    assert_eq!(scheduled.header("location").unwrap(), base.as_str());
    let record = served
        .api
        .get(&format!("/v1/stations/{station}/trust"))
        .await;
    assert_eq!(record.body["data"]["state"], "rollover_scheduled");
    assert_eq!(record.body["data"]["next"]["id"], next.as_str());
    assert_eq!(audited(&served, "station.trust.rollover").await, 1);
    let verified = served.get(&format!("{base}/verify"), &ada).await;
    assert!(
        verified.body.contains("Chain verification"),
        "{}",
        verified.body
    );

    // a viewer reads it, her forged cancellation is refused; a malformed id is not found
    let (vic, vic_csrf) = served.session("vic@example.com").await;
    assert!(
        !served
            .get(&base, &vic)
            .await
            .body
            .contains("Schedule rollover")
    );
    let forged = served
        .post(
            &format!("{base}/cancel"),
            &vic,
            &[],
            &format!("csrf_token={vic_csrf}"),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let found = served
        .get("/console/stations/stn_nonsense/trust", &ada)
        .await;
    assert_eq!(found.status, 404);
    assert!(found.body.contains("Station not found"));
    let record = served
        .api
        .get(&format!("/v1/stations/{station}/trust"))
        .await;
    assert_eq!(record.body["data"]["state"], "rollover_scheduled");
}
