//! A message export of a range larger than one part: each part holds at most `limit`
//! messages in (created_at, id) order after the `after` cursor, says in its `manifest.json`
//! whether it completes the range, and names the next part in `Link` and
//! `X-Export-Next-After`; following the links exports every message exactly once. A bad
//! `after` (malformed, unknown, another tenant's, outside the range) or `limit` is a 422
//! naming it.

use std::io::Read as _;

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::common::{Reply, TestApi, assert_invalid};

async fn partner(api: &TestApi, key: &str) -> String {
    let reply = api
        .call(
            Method::POST,
            "/v1/partners",
            Some(key),
            Some(json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example.com/as2", "sign": false, "encrypt": false})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn send(api: &TestApi, key: &str, partner: &str, n: usize) -> String {
    let reply = api
        .call(
            Method::POST,
            "/v1/messages",
            Some(key),
            Some(json!({"partner_id": partner, "content": STANDARD.encode(b"EDI"), "filename": format!("{n}.edi")})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

/// The range of the last hour to the next, as query parameters.
fn range() -> String {
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "since={}&until={}",
        at(Utc::now() - Duration::hours(1)),
        at(Utc::now() + Duration::hours(1))
    )
}

/// The message ids of a part's `messages.jsonl`, and its manifest.
fn read_part(reply: &Reply) -> (Vec<String>, Value) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(reply.bytes.clone())).unwrap();
    let mut lines = String::new();
    zip.by_name("messages.jsonl")
        .unwrap()
        .read_to_string(&mut lines)
        .unwrap();
    let ids = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["message"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut manifest = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    (ids, serde_json::from_str(&manifest).unwrap())
}

#[tokio::test]
async fn a_range_is_exported_in_parts_that_follow_their_links() {
    let api = TestApi::new();
    let key = api.key.clone();
    let partner = partner(&api, &key).await;
    let mut sent = Vec::new();
    for n in 0..7 {
        sent.push(send(&api, &key, &partner, n).await);
    }
    // the last four share the first one's creation time: the cursor's id breaks the ties
    let number = |id: &str| id.trim_start_matches("msg_").parse::<i64>().unwrap();
    let tied: Vec<String> = sent[3..].iter().map(|id| number(id).to_string()).collect();
    api.db.execute(&format!(
        "UPDATE messages SET created_at = (SELECT created_at FROM messages WHERE id = {}) WHERE id IN ({})",
        number(&sent[0]),
        tied.join(",")
    ));
    let mut expected = Vec::new();
    for id in &sent {
        let shown = api.get(&format!("/v1/messages/{id}")).await;
        let at = shown.body["data"]["created_at"]
            .as_str()
            .unwrap()
            .to_owned();
        expected.push((at, number(id), id.clone()));
    }
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, _, id)| id).collect();
    assert_ne!(expected, sent, "the ties change the order from the ids'");

    let mut next = Some(format!("/v1/exports/messages?{}&limit=3", range()));
    let mut exported = Vec::new();
    let mut parts = Vec::new();
    while let Some(path) = next.take() {
        let reply = api.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        let (ids, manifest) = read_part(&reply);
        assert_eq!(manifest["count"], ids.len(), "{manifest}");
        let cursor = reply
            .headers
            .get("x-export-next-after")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(manifest["complete"], cursor.is_none(), "{manifest}");
        assert_eq!(manifest["next_after"].as_str(), cursor.as_deref());
        if let Some(cursor) = &cursor {
            assert_eq!(
                Some(cursor),
                ids.last(),
                "the cursor is the part's last message"
            );
            let link = reply.headers["link"].to_str().unwrap();
            let (target, rel) = link.split_once(">; ").unwrap();
            assert_eq!(rel, "rel=\"next\"");
            let target = target.trim_start_matches('<');
            assert!(target.starts_with("/v1/exports/messages?"), "{target}");
            assert!(target.contains("limit=3") && target.ends_with(&format!("after={cursor}")));
            next = Some(target.to_owned());
        } else {
            assert!(reply.headers.get("link").is_none());
        }
        parts.push(ids.len());
        exported.extend(ids);
    }
    assert_eq!(parts, [3, 3, 1]);
    assert_eq!(exported, expected, "every message exactly once, in order");

    // without a limit, the whole range is one complete part
    let whole = api.get(&format!("/v1/exports/messages?{}", range())).await;
    let (ids, manifest) = read_part(&whole);
    assert_eq!(ids, expected);
    assert_eq!(manifest["complete"], true);
    assert!(manifest["next_after"].is_null());
    assert!(whole.headers.get("x-export-next-after").is_none());
}

#[tokio::test]
async fn a_bad_cursor_or_limit_is_named() {
    let api = TestApi::new();
    let key = api.key.clone();
    let mine = send(&api, &key, &partner(&api, &key).await, 0).await;
    let (_, other_key) = api.other_account();
    let station = api
        .call(
            Method::POST,
            "/v1/stations",
            Some(&other_key),
            Some(json!({"name": "Other", "as2_id": "OTHER-STN"})),
        )
        .await;
    assert_eq!(station.status, StatusCode::CREATED, "{:?}", station.body);
    let theirs = send(&api, &other_key, &partner(&api, &other_key).await, 0).await;
    let base = format!("/v1/exports/messages?{}", range());
    for after in ["nonsense", "msg_999999", theirs.as_str()] {
        let reply = api.get(&format!("{base}&after={after}")).await;
        assert_invalid(&reply, "after");
    }
    let later = |h: i64| {
        (Utc::now() + Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let outside = api
        .get(&format!(
            "/v1/exports/messages?since={}&until={}&after={mine}",
            later(1),
            later(2)
        ))
        .await;
    assert_invalid(&outside, "after");
    assert!(
        outside.body["errors"]["after"][0]
            .as_str()
            .unwrap()
            .contains("not created in the range")
    );
    for limit in ["0", "10001", "many"] {
        let reply = api.get(&format!("{base}&limit={limit}")).await;
        assert_invalid(&reply, "limit");
    }
    let last = api.get(&format!("{base}&after={mine}")).await;
    assert_eq!(last.status, StatusCode::OK, "{:?}", last.body);
    let (ids, manifest) = read_part(&last);
    assert!(ids.is_empty(), "nothing after the last message");
    assert_eq!(manifest["complete"], true);
    assert_eq!(manifest["after"], mine);
}

/// The console's export over the in-process router (the zip's bytes, not chunks).
async fn console_export(served: &crate::console::Served, token: &str, path: &str) -> Reply {
    let cookie = format!("as2_console={token}");
    served
        .api
        .call_with_headers(
            Method::GET,
            path,
            None,
            None,
            &[("cookie", cookie.as_str()), ("accept", "text/html")],
        )
        .await
}

/// The console's export form explains parts and takes the cursor; a part's `Link` leads to
/// the console's next part; a bad cursor is the API's sentence beside the field.
#[tokio::test]
async fn the_console_exports_in_parts_and_names_a_bad_cursor() {
    use as2_api::console::ConsoleConfig;
    use as2_domain::user::Role;

    let served = crate::console::Served::start(ConsoleConfig::default()).await;
    let key = served.api.key.clone();
    let partner = partner(&served.api, &key).await;
    let first = send(&served.api, &key, &partner, 0).await;
    let second = send(&served.api, &key, &partner, 1).await;
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (vic, _) = served.session("vic@example.com").await;

    let listed = served.get("/console/messages", &vic).await;
    assert!(
        listed.body.contains("<label for=\"export-after\">"),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("A zip holds at most 10000 messages"));

    let today = Utc::now().date_naive();
    let days = format!(
        "since={}&until={}",
        (today - chrono::Days::new(1)).format("%Y-%m-%d"),
        today.format("%Y-%m-%d")
    );
    let part = console_export(
        &served,
        &vic,
        &format!("/console/messages/export?{days}&limit=1"),
    )
    .await;
    assert_eq!(part.status, StatusCode::OK, "{:?}", part.body);
    let (ids, manifest) = read_part(&part);
    assert_eq!(ids, [first.as_str()]);
    assert_eq!(manifest["complete"], false);
    assert_eq!(part.headers["x-export-next-after"], first.as_str());
    let link = part.headers["link"].to_str().unwrap();
    let target = link.trim_start_matches('<').split_once(">; ").unwrap().0;
    assert!(target.starts_with("/console/messages/export?"), "{target}");
    let rest = console_export(&served, &vic, target).await;
    assert_eq!(rest.status, StatusCode::OK, "{:?}", rest.body);
    let (ids, manifest) = read_part(&rest);
    assert_eq!(ids, [second.as_str()]);
    assert_eq!(manifest["complete"], true);

    let typed = console_export(
        &served,
        &vic,
        &format!("/console/messages/export?{days}&after={first}"),
    )
    .await;
    assert_eq!(read_part(&typed).0, [second]);
    let wrong = served
        .get(
            &format!("/console/messages/export?{days}&after=msg_999999"),
            &vic,
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body.contains("id=\"export-after-error\""),
        "{}",
        wrong.body
    );
    assert!(
        wrong
            .body
            .contains("No message of this tenant and mode has this id")
    );
    assert!(
        wrong.body.contains("value=\"msg_999999\""),
        "what was typed is kept"
    );
}
