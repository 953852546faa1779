//! The console's trust lifecycle page over real HTTP: the record and the timeline, a rollover
//! scheduled after correcting what the API refused, cancelled, scheduled again, activated and
//! the previous certificate retired, the chain verified; a viewer reads but cannot act, and
//! another tenant's user does not find the partner.

use as2_api::console::ConsoleConfig;
use as2_domain::user::Role;
use chrono::{Duration, Utc};
use serde_json::json;

use crate::console::Served;

/// A key pair `name` generated through the API, valid for `days`; its id.
pub(crate) async fn generate(served: &Served, name: &str, days: i64) -> String {
    let made = served
        .api
        .post(
            "/v1/certificates/generate",
            json!({"name": name, "common_name": format!("{name}.example"), "days": days}),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    made.body["data"]["id"].as_str().unwrap().to_owned()
}

/// The UTC day `offset` days from today, as a date input holds it.
pub(crate) fn day(offset: i64) -> String {
    (Utc::now() + Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

fn rollover_form(csrf: &str, certificate: &str) -> String {
    format!(
        "csrf_token={csrf}&certificate_id={certificate}&activate_at={}&retire_at={}",
        day(2),
        day(9)
    )
}

async fn event_types(served: &Served, partner: &str) -> Vec<String> {
    let events = served
        .api
        .get(&format!("/v1/partners/{partner}/trust/events"))
        .await;
    events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_runs_a_rollover_from_the_trust_page_and_a_viewer_only_reads_it() {
    let served = Served::start(ConsoleConfig::default()).await;
    let old = generate(&served, "old", 365).await;
    let new = generate(&served, "new", 400).await;
    let made = served
        .api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2", "certificate_id": old}),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    let partner = made.body["data"]["id"].as_str().unwrap().to_owned();
    let base = format!("/console/partners/{partner}/trust");
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (ada, csrf) = served.session("ada@example.com").await;

    let listed = served.get("/console/partners", &ada).await;
    assert!(
        listed.body.contains(&format!("href=\"{base}\"")),
        "{}",
        listed.body
    );
    let shown = served.get(&base, &ada).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("Trust lifecycle: Acme"));
    assert!(shown.body.contains(&old), "the current certificate");
    assert!(
        shown
            .body
            .contains("<label for=\"certificate_id\">Next certificate</label>")
    );
    // the rollover's choices (the CEM offer's key pairs are another select)
    let start = shown.body.find("<select id=\"certificate_id\"").unwrap();
    let choices = &shown.body[start..];
    let choices = &choices[..choices.find("</select>").unwrap()];
    assert!(choices.contains(&format!("<option value=\"{new}\"")));
    assert!(
        !choices.contains(&format!("<option value=\"{old}\"")),
        "not the current one"
    );

    // the API's sentences beside the fields; what was chosen is kept
    let wrong = served
        .post(
            &format!("{base}/rollover"),
            &ada,
            &[],
            &format!(
                "csrf_token={csrf}&certificate_id=&activate_at=soon&retire_at={}",
                day(9)
            ),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body.contains("id=\"certificate_id-error\""),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("The certificate_id field is required"));
    assert!(wrong.body.contains("id=\"activate_at-error\""));
    assert!(
        wrong
            .body
            .contains("The activate_at must be an RFC 3339 time")
    );
    assert!(!wrong.body.contains("id=\"retire_at-error\""));
    assert!(wrong.body.contains(&format!("value=\"{}\"", day(9))));
    // a rule of the lifecycle, not only of the form: retirement before activation
    let backwards = served
        .post(
            &format!("{base}/rollover"),
            &ada,
            &[],
            &format!(
                "csrf_token={csrf}&certificate_id={new}&activate_at={}&retire_at={}",
                day(9),
                day(2)
            ),
        )
        .await;
    assert_eq!(backwards.status, 422, "{}", backwards.body);
    assert!(
        backwards.body.contains("aria-invalid=\"true\""),
        "{}",
        backwards.body
    );
    assert!(event_types(&served, &partner).await.is_empty());

    let scheduled = served
        .post(
            &format!("{base}/rollover"),
            &ada,
            &[],
            &rollover_form(&csrf, &new),
        )
        .await;
    assert_eq!(scheduled.status, 303, "{}", scheduled.body);
    let record = served
        .api
        .get(&format!("/v1/partners/{partner}/trust"))
        .await;
    assert_eq!(record.body["data"]["state"], "rollover_scheduled");
    assert_eq!(record.body["data"]["next"]["id"], new.as_str());
    assert!(
        record.body["data"]["activate_at"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}T00:00:00", day(2)))
    );
    let shown = served.get(&base, &ada).await;
    assert!(shown.body.contains("rollover scheduled"), "{}", shown.body);
    assert!(shown.body.contains("Activate the next certificate now"));
    assert!(shown.body.contains("Cancel the rollover"));
    let audit = served
        .api
        .get("/v1/audit-events?action=partner.trust.rollover")
        .await;
    assert_eq!(audit.body["total"], 1, "{:?}", audit.body);
    assert_eq!(audit.body["data"][0]["actor"]["label"], "ada@example.com");
    assert_eq!(audit.body["data"][0]["resource_id"], partner.as_str());
    let events = served
        .api
        .get(&format!("/v1/partners/{partner}/trust/events"))
        .await;
    let actor = events.body["data"][0]["actor"].as_str().unwrap().to_owned();
    assert!(actor.starts_with("usr_"), "the user's id: {actor}");
    assert!(shown.body.contains(&actor));

    // a viewer reads the page and the verification, without a form; a forged change fails
    let (vic, vic_csrf) = served.session("vic@example.com").await;
    let read = served.get(&base, &vic).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(read.body.contains("rollover scheduled"));
    assert!(!read.body.contains("Schedule rollover"));
    assert!(!read.body.contains("Cancel the rollover"));
    let verified = served.get(&format!("{base}/verify"), &vic).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert!(verified.body.contains("Chain verification"));
    let api_verdict = served
        .api
        .get(&format!("/v1/partners/{partner}/trust/verify"))
        .await;
    let intact = api_verdict.body["data"]["valid"].as_bool().unwrap();
    assert_eq!(
        verified.body.contains("Intact: 1 event,"),
        intact,
        "{}",
        verified.body
    );
    for action in ["cancel", "activate", "retire"] {
        let forged = served
            .post(
                &format!("{base}/{action}"),
                &vic,
                &[],
                &format!("csrf_token={vic_csrf}"),
            )
            .await;
        assert_eq!(forged.status, 403, "{action}: {}", forged.body);
    }
    let forged = served
        .post(
            &format!("{base}/rollover"),
            &vic,
            &[],
            &rollover_form(&vic_csrf, &old),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(event_types(&served, &partner).await, ["rollover_scheduled"]);

    // cancel, schedule again, activate, retire
    let cancelled = served
        .post(
            &format!("{base}/cancel"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    let shown = served.get(&base, &ada).await;
    assert!(
        shown.body.contains("cancelled in the console"),
        "{}",
        shown.body
    );
    let again = served
        .post(
            &format!("{base}/rollover"),
            &ada,
            &[],
            &rollover_form(&csrf, &new),
        )
        .await;
    assert_eq!(again.status, 303, "{}", again.body);
    let activated = served
        .post(
            &format!("{base}/activate"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(activated.status, 303, "{}", activated.body);
    let record = served
        .api
        .get(&format!("/v1/partners/{partner}/trust"))
        .await;
    assert_eq!(record.body["data"]["current"]["id"], new.as_str());
    assert_eq!(record.body["data"]["previous"]["id"], old.as_str());
    assert!(
        served
            .get(&base, &ada)
            .await
            .body
            .contains("Retire the previous certificate now")
    );
    let retired = served
        .post(
            &format!("{base}/retire"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(retired.status, 303, "{}", retired.body);
    // nothing left to retire: the lifecycle's own sentence, nothing changed
    let twice = served
        .post(
            &format!("{base}/retire"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(twice.status, 422, "{}", twice.body);
    assert!(twice.body.contains("role=\"alert\""));
    assert_eq!(
        event_types(&served, &partner).await,
        [
            "rollover_scheduled",
            "rollover_cancelled",
            "rollover_scheduled",
            "activated",
            "retired"
        ]
    );
    for action in ["cancel", "activate", "retire"] {
        let audit = served
            .api
            .get(&format!("/v1/audit-events?action=partner.trust.{action}"))
            .await;
        assert_eq!(audit.body["total"], 1, "{action}: {:?}", audit.body);
    }

    // another tenant's owner finds no such partner, by page or by form
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    assert_eq!(served.get(&base, &eve).await.status, 404);
    assert_eq!(
        served.get(&format!("{base}/verify"), &eve).await.status,
        404
    );
    let theirs = served
        .post(
            &format!("{base}/rollover"),
            &eve,
            &[],
            &rollover_form(&eve_csrf, &old),
        )
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    assert_eq!(
        served
            .get("/console/partners/prt_nonsense/trust", &ada)
            .await
            .status,
        404
    );
}
