//! The console's overview over real HTTP: the messages of the last two weeks per day and
//! status (a message three days old counted on its day, one older than the window left out)
//! and the webhook deliveries that failed in the last day, to the tenant's users only.

use as2_api::console::ConsoleConfig;
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::id::{PartnerId, StationId, WebhookEndpointId};
use as2_domain::message::{Direction, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::user::Role;
use as2_domain::webhook::EventType;
use as2_store::Scope;
use as2_store::repo::messages::NewMessage;
use chrono::{Duration, Utc};
use serde_json::json;

use crate::console::Served;

/// Message `n`, of the partner's, with `status`, made `days_ago` days ago.
fn message(
    served: &Served,
    ids: (PartnerId, StationId),
    (n, status): (usize, MessageStatus),
    days_ago: i64,
) {
    let scope = Scope::new(served.api.tenant, Mode::Test);
    let made = served
        .api
        .db
        .store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Outbound,
                partner_id: ids.0,
                station_id: ids.1,
                as2_message_id: &format!("<m-{n}@example>"),
                subject: None,
                filename: None,
                content_type: "application/edi-x12",
                bytes: 10,
                sha256: "00",
                payload: None,
                mdn_mode: MdnMode::Sync,
                status,
                error: None,
                mic: None,
                destination_url: None,
            },
            None,
        )
        .unwrap();
    let at = (Utc::now() - Duration::days(days_ago)).format("%Y-%m-%d %H:%M:%S");
    served.api.db.execute(&format!(
        "UPDATE messages SET created_at = '{at}' WHERE id = {}",
        made.id.0
    ));
}

/// The cells of the daily table's row for `days_ago` days ago, if it is shown.
fn day_row(page: &str, days_ago: i64) -> Option<String> {
    let day = (Utc::now() - Duration::days(days_ago))
        .format("%Y-%m-%d")
        .to_string();
    let table = &page[page.find("<table class=\"daily\"")?..];
    let table = &table[..table.find("</table>")?];
    let at = table.find(&format!("<th scope=\"row\">{day}</th>"))?;
    let row = &table[at..];
    Some(row[..row.find("</tr>")?].to_owned())
}

#[tokio::test]
async fn the_overview_counts_messages_per_day_and_shows_failed_webhook_deliveries() {
    let served = Served::start(ConsoleConfig::default()).await;
    let made = served
        .api
        .post(
            "/v1/partners",
            json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2", "encrypt": false}),
        )
        .await;
    assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
    let ids = (
        made.body["data"]["id"].as_str().unwrap().parse().unwrap(),
        made.body["data"]["station_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    );
    message(&served, ids, (1, MessageStatus::Delivered), 0);
    message(&served, ids, (2, MessageStatus::Delivered), 0);
    message(&served, ids, (3, MessageStatus::Failed), 3);
    message(&served, ids, (4, MessageStatus::Failed), 20);

    // an endpoint whose delivery failed for good after a 500
    let endpoint = served
        .api
        .post(
            "/v1/webhook-endpoints",
            json!({"url": "https://hooks.example.com/as2", "events": ["message.*"]}),
        )
        .await;
    assert_eq!(endpoint.status.as_u16(), 201, "{:?}", endpoint.body);
    let endpoint: WebhookEndpointId = endpoint.body["data"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let scope = Scope::new(served.api.tenant, Mode::Test);
    let store = &served.api.db.store;
    store
        .webhooks()
        .publish(scope, EventType::MessageFailed, "{}", Some(endpoint))
        .unwrap();
    let page = PageRequest {
        page: 1,
        per_page: 10,
    };
    let (deliveries, _) = store.webhooks().deliveries(scope, endpoint, page).unwrap();
    store
        .transaction(|tx| {
            tx.webhooks().record_attempt(
                deliveries[0].id,
                Some(500),
                Some("The endpoint answered 500"),
                12,
                None,
                false,
            )
        })
        .unwrap();

    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (vic, _) = served.session("vic@example.com").await;
    let overview = served.get("/console", &vic).await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    let page = overview.body;
    assert!(page.contains("Messages per day"), "{page}");
    // columns: the statuses in MessageStatus::ALL order, then the day's total
    let statuses: Vec<String> = MessageStatus::ALL.iter().map(|s| s.to_string()).collect();
    let cells = |row: &str| -> Vec<String> {
        row.split("<td>")
            .skip(1)
            .map(|c| {
                let c = c.split("</td>").next().unwrap();
                c.rsplit('>').next().unwrap().trim().to_owned()
            })
            .collect()
    };
    let today = cells(&day_row(&page, 0).expect("today's row"));
    let delivered = statuses.iter().position(|s| s == "delivered").unwrap();
    let failed = statuses.iter().position(|s| s == "failed").unwrap();
    assert_eq!(today[delivered], "2", "{today:?}");
    assert_eq!(today[failed], "0", "{today:?}");
    assert_eq!(today.last().unwrap(), "2", "{today:?}");
    let three = cells(&day_row(&page, 3).expect("the row of three days ago"));
    assert_eq!(three[failed], "1", "{three:?}");
    assert!(day_row(&page, 13).is_some(), "two weeks shown");
    assert!(day_row(&page, 20).is_none(), "older than the window");
    assert!(page.contains("Webhook failures of the last 24 hours"));
    assert!(page.contains("https://hooks.example.com/as2"), "{page}");
    assert!(
        page.contains("failed for good") && page.contains("HTTP 500 The endpoint answered 500")
    );

    // another tenant's owner sees none of it
    let (eve, _) = served.session("eve@example.com").await;
    let theirs = served.get("/console", &eve).await.body;
    assert!(theirs.contains("No failed delivery."), "{theirs}");
    assert!(!theirs.contains("hooks.example.com"));
    let today = cells(&day_row(&theirs, 0).expect("today's row"));
    assert_eq!(today.last().unwrap(), "0", "{today:?}");
}
