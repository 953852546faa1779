//! The console's sign-in over real HTTP (the router served on 127.0.0.1, raw HTTP/1.1):
//! cookie flags, a fresh session at every sign-in (fixation), the CSRF token and the origin
//! check on every form, the lock-out, signing out here and everywhere, the tenant switch.

use std::net::SocketAddr;

use as2_api::console::ConsoleConfig;
use as2_api::console_users::create_user;
use as2_api::{ApiConfig, router};
use as2_domain::id::TenantId;
use as2_domain::user::{LockoutPolicy, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::TestApi;

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// An answer: status, header lines (lower-cased names), body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The session token the answer sets.
    pub(crate) fn session_cookie(&self) -> Option<String> {
        let value = self.header("set-cookie")?;
        let token = value.strip_prefix("as2_console=")?.split(';').next()?;
        (!token.is_empty()).then(|| token.to_owned())
    }
}

/// The console served on a free port of 127.0.0.1.
pub(crate) struct Served {
    pub(crate) api: TestApi,
    pub(crate) addr: SocketAddr,
}

impl Served {
    pub(crate) async fn start(console: ConsoleConfig) -> Self {
        Self::start_with(ApiConfig {
            console,
            ..ApiConfig::default()
        })
        .await
    }

    /// The console of an API with `config`.
    pub(crate) async fn start_with(config: ApiConfig) -> Self {
        let api = TestApi::with_config(config);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(api.state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { api, addr }
    }

    pub(crate) fn user(&self, email: &str, tenant: TenantId, role: Role) {
        create_user(&self.api.db.store, email, "", Some(PASSWORD), tenant, role).unwrap();
    }

    /// One request on its own connection; `extra` header lines as given.
    async fn request(&self, method: &str, path: &str, extra: &[&str], body: &str) -> Answer {
        let form = "application/x-www-form-urlencoded";
        self.request_with(method, path, extra, form, body.as_bytes())
            .await
    }

    /// One request with a body of `content_type` (a `POST`'s) on its own connection.
    async fn request_with(
        &self,
        method: &str,
        path: &str,
        extra: &[&str],
        content_type: &str,
        body: &[u8],
    ) -> Answer {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: text/html\r\n",
            self.addr
        );
        for line in extra {
            head.push_str(line);
            head.push_str("\r\n");
        }
        if method == "POST" {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
            if !extra.iter().any(|l| l.starts_with("Content-Length:")) {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Answer {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    pub(crate) async fn sign_in(&self, email: &str, password: &str, extra: &[&str]) -> Answer {
        let body = format!(
            "email={}&password={}",
            email.replace('@', "%40"),
            password.replace(' ', "+")
        );
        self.request("POST", "/console/login", extra, &body).await
    }

    /// Signs in and answers the session token and its CSRF token.
    pub(crate) async fn session(&self, email: &str) -> (String, String) {
        let answer = self.sign_in(email, PASSWORD, &[]).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        let token = answer.session_cookie().unwrap();
        let page = self.get("/console", &token).await;
        assert_eq!(page.status, 200, "{}", page.body);
        (token, csrf_of(&page.body))
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Answer {
        let cookie = format!("Cookie: as2_console={token}");
        self.request("GET", path, &[&cookie], "").await
    }

    /// A `multipart/form-data` `POST` (`content_type` with its boundary).
    pub(crate) async fn post_multipart(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: &[u8],
    ) -> Answer {
        let cookie = format!("Cookie: as2_console={token}");
        self.request_with("POST", path, &[&cookie], content_type, body)
            .await
    }

    /// A `POST` with exactly the `extra` header lines (a `Content-Length` among them is
    /// sent instead of the body's).
    pub(crate) async fn post_raw(
        &self,
        path: &str,
        extra: &[&str],
        content_type: &str,
        body: &[u8],
    ) -> Answer {
        self.request_with("POST", path, extra, content_type, body)
            .await
    }

    pub(crate) async fn post(&self, path: &str, token: &str, extra: &[&str], body: &str) -> Answer {
        let cookie = format!("Cookie: as2_console={token}");
        let mut lines = vec![cookie.as_str()];
        lines.extend_from_slice(extra);
        self.request("POST", path, &lines, body).await
    }
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    page[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_opens_the_overview() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Owner);

    let anonymous = served.request("GET", "/console", &[], "").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), Some("/console/login"));
    let form = served.request("GET", "/console/login", &[], "").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<label for=\"email\">"), "{}", form.body);
    assert!(form.body.contains("href=\"#main\""), "skip link");

    let wrong = served
        .sign_in("ada@example.com", "not the password", &[])
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("The email or the password is wrong."));
    assert!(wrong.session_cookie().is_none());
    let unknown = served.sign_in("nobody@example.com", PASSWORD, &[]).await;
    assert_eq!(unknown.status, 401, "an unknown email reads the same");

    let signed = served.sign_in("Ada@Example.com", PASSWORD, &[]).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.header("location"), Some("/console"));
    let cookie = signed.header("set-cookie").unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let token = signed.session_cookie().unwrap();
    assert!(token.len() >= 43);

    let overview = served.get("/console", &token).await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(overview.body.contains("Signed in as ada@example.com"));
    assert!(
        overview.body.contains("user.login"),
        "the sign-in is in the audit log"
    );
    assert!(overview.body.contains("<html lang=\"en\">"));
    assert!(
        overview
            .body
            .contains("<a href=\"/console\" aria-current=\"page\">Overview</a>"),
        "the menu marks the page shown"
    );
    let messages = served.get("/console/messages/msg_000009", &token).await;
    assert!(
        messages
            .body
            .contains("<a href=\"/console/messages\" aria-current=\"page\">Messages</a>")
    );
    assert!(!messages.body.contains("\"/console\" aria-current"));
}

#[tokio::test]
async fn over_https_the_cookie_is_secure() {
    let served = Served::start(ConsoleConfig {
        secure_cookie: true,
        ..ConsoleConfig::default()
    })
    .await;
    served.user("ada@example.com", served.api.tenant, Role::Viewer);
    let signed = served.sign_in("ada@example.com", PASSWORD, &[]).await;
    assert!(signed.header("set-cookie").unwrap().contains("; Secure"));
}

#[tokio::test]
async fn a_cookie_planted_before_sign_in_is_not_the_session_after_it() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    served.user("mallory@example.com", served.api.tenant, Role::Viewer);
    // an attacker's own valid session, and a token it made up, planted in the victim's browser
    let (planted, _) = served.session("mallory@example.com").await;
    for before in [
        planted.clone(),
        "attacker-chosen-value-0123456789".to_owned(),
    ] {
        let signed = served
            .sign_in(
                "ada@example.com",
                PASSWORD,
                &[&format!("Cookie: as2_console={before}")],
            )
            .await;
        assert_eq!(signed.status, 303);
        let after = signed.session_cookie().unwrap();
        assert_ne!(after, before);
        let page = served.get("/console", &after).await;
        assert!(page.body.contains("Signed in as ada@example.com"));
    }
    // the planted session was ended by the sign-in over it
    assert_eq!(served.get("/console", &planted).await.status, 303);
}

#[tokio::test]
async fn a_form_without_the_session_token_or_from_another_origin_is_refused() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    let (token, csrf) = served.session("ada@example.com").await;
    let origin = format!("Origin: http://{}", served.addr);
    let attacks: [(&[&str], String); 5] = [
        (&[], String::new()),
        (&[], "csrf_token=".into()),
        (&[], "csrf_token=wrong-token".into()),
        (
            &["Origin: http://evil.example"],
            format!("csrf_token={csrf}"),
        ),
        (
            &["Sec-Fetch-Site: cross-site"],
            format!("csrf_token={csrf}"),
        ),
    ];
    for (extra, body) in attacks {
        let refused = served.post("/console/logout", &token, extra, &body).await;
        assert_eq!(refused.status, 403, "{extra:?} {body}: {}", refused.body);
        assert_eq!(
            served.get("/console", &token).await.status,
            200,
            "still signed in"
        );
    }
    // a sign-in form posted from another site is refused too
    let cross = served
        .sign_in(
            "ada@example.com",
            PASSWORD,
            &["Origin: http://evil.example"],
        )
        .await;
    assert_eq!(cross.status, 403);
    assert!(cross.session_cookie().is_none());

    let done = served
        .post(
            "/console/logout",
            &token,
            &[&origin, "Sec-Fetch-Site: same-origin"],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(
        served.get("/console", &token).await.status,
        303,
        "signed out"
    );
}

#[tokio::test]
async fn failures_lock_the_email_out_even_for_the_right_password() {
    let served = Served::start(ConsoleConfig {
        lockout: LockoutPolicy {
            max_failures: 3,
            ..LockoutPolicy::default()
        },
        ..ConsoleConfig::default()
    })
    .await;
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    for expected in [401, 401, 429] {
        let answer = served
            .sign_in("ada@example.com", "guess guess guess", &[])
            .await;
        assert_eq!(answer.status, expected, "{}", answer.body);
    }
    let right = served.sign_in("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(right.status, 429, "locked out");
    assert!(right.header("retry-after").is_some());
    assert!(right.session_cookie().is_none());
    assert!(right.body.contains("Too many failed sign-ins"));
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Operator);
    let (laptop, csrf) = served.session("ada@example.com").await;
    let (phone, _) = served.session("ada@example.com").await;
    let done = served
        .post(
            "/console/logout-everywhere",
            &laptop,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    for token in [laptop, phone] {
        assert_eq!(served.get("/console", &token).await.status, 303);
    }
}

#[tokio::test]
async fn the_switch_offers_only_the_users_tenants() {
    let served = Served::start(ConsoleConfig::default()).await;
    let store = &served.api.db.store;
    let account = store
        .accounts()
        .tenant_for_operator(served.api.tenant)
        .unwrap()
        .account_id;
    let second = store
        .accounts()
        .create_tenant(account, "Second tenant")
        .unwrap();
    let (foreign, _) = served.api.other_account();
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    let ada = store.users().credentials("ada@example.com").unwrap().0;
    store
        .users()
        .set_role(ada.id, second.id, Role::Viewer)
        .unwrap();
    let (token, csrf) = served.session("ada@example.com").await;

    let page = served.get("/console", &token).await;
    assert!(page.body.contains("Second tenant (viewer)"));
    assert!(!page.body.contains("Other tenant"), "not a tenant of hers");

    let to_second = served
        .post(
            "/console/switch",
            &token,
            &[],
            &format!("csrf_token={csrf}&tenant={}&mode=live", second.id),
        )
        .await;
    assert_eq!(to_second.status, 303, "{}", to_second.body);
    let page = served.get("/console", &token).await;
    assert!(
        page.body.contains("<strong>Second tenant</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<strong>live</strong>"));
    assert!(
        page.body.contains("No change yet."),
        "the first tenant's sign-in is not shown"
    );

    let to_foreign = served
        .post(
            "/console/switch",
            &token,
            &[],
            &format!("csrf_token={csrf}&tenant={foreign}&mode=test"),
        )
        .await;
    assert_eq!(to_foreign.status, 404);
}

#[tokio::test]
async fn a_message_of_another_tenant_or_mode_is_not_found_by_url() {
    use as2_domain::Mode;
    use as2_domain::algorithms::MdnMode;
    use as2_domain::message::{Direction, MessageStatus};
    use as2_store::Scope;
    use as2_store::repo::messages::NewMessage;

    let served = Served::start(ConsoleConfig::default()).await;
    let created = served
        .api
        .post(
            "/v1/partners",
            serde_json::json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2", "encrypt": false}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let partner: as2_domain::id::PartnerId = created.body["data"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let station: as2_domain::id::StationId = created.body["data"]["station_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let message = served
        .api
        .db
        .store
        .messages()
        .create(
            Scope::new(served.api.tenant, Mode::Test),
            &NewMessage {
                direction: Direction::Inbound,
                partner_id: partner,
                station_id: station,
                as2_message_id: "<in@acme>",
                subject: Some("Invoice 42"),
                filename: Some("invoice-42.edi"),
                content_type: "application/edi-x12",
                bytes: 10,
                sha256: "00",
                payload: None,
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Received,
                error: None,
                mic: None,
                destination_url: None,
            },
            None,
        )
        .unwrap();
    let (foreign, _) = served.api.other_account();
    served.user("ada@example.com", served.api.tenant, Role::Viewer);
    served.user("eve@example.com", foreign, Role::Owner);
    let url = format!("/console/messages/{}", message.id);

    let (ada, ada_csrf) = served.session("ada@example.com").await;
    let mine = served.get(&url, &ada).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body.contains("invoice-42.edi") && mine.body.contains("&lt;in@acme&gt;"));
    let listed = served.get("/console/messages?filename=INVOICE", &ada).await;
    assert!(
        listed.body.contains(&message.id.to_string()),
        "{}",
        listed.body
    );
    let none = served.get("/console/messages?status=failed", &ada).await;
    assert!(none.body.contains("No message matches."));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for (query, listed) in [
        (format!("partner={partner}&station={station}"), true),
        ("partner=prt_999999".to_owned(), false),
        (format!("from={today}&to={today}"), true),
        ("to=2000-01-01".to_owned(), false),
        ("from=2999-01-01".to_owned(), false),
        ("from=not-a-date&partner=nonsense".to_owned(), true),
    ] {
        let page = served
            .get(&format!("/console/messages?{query}"), &ada)
            .await;
        assert_eq!(page.status, 200, "{query}");
        assert_eq!(
            page.body.contains(&format!(">{}<", message.id)),
            listed,
            "{query}: {}",
            page.body
        );
    }

    let (eve, _) = served.session("eve@example.com").await;
    let theirs = served.get(&url, &eve).await;
    assert_eq!(theirs.status, 404, "another tenant's message");
    assert!(!theirs.body.contains("invoice-42.edi"));
    assert!(
        !served
            .get("/console/messages", &eve)
            .await
            .body
            .contains(&message.id.to_string())
    );
    assert_eq!(
        served.get("/console/messages/msg_x", &eve).await.status,
        404
    );

    // the same user in live mode does not see the test-mode message
    let switched = served
        .post(
            "/console/switch",
            &ada,
            &[],
            &format!(
                "csrf_token={ada_csrf}&tenant={}&mode=live",
                served.api.tenant
            ),
        )
        .await;
    assert_eq!(switched.status, 303);
    assert_eq!(served.get(&url, &ada).await.status, 404, "the other mode");
}

#[tokio::test]
async fn a_viewer_sees_no_retry_and_a_forged_one_is_refused_while_an_operator_retries() {
    use as2_domain::Mode;
    use as2_domain::algorithms::MdnMode;
    use as2_domain::message::{Direction, MessageStatus};
    use as2_store::Scope;
    use as2_store::repo::messages::NewMessage;

    let served = Served::start(ConsoleConfig::default()).await;
    let created = served
        .api
        .post(
            "/v1/partners",
            serde_json::json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2", "encrypt": false, "sign": false}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let scope = Scope::new(served.api.tenant, Mode::Test);
    let store = &served.api.db.store;
    let message = store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Outbound,
                partner_id: created.body["data"]["id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                station_id: created.body["data"]["station_id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                as2_message_id: "<out@us>",
                subject: None,
                filename: Some("order.edi"),
                content_type: "application/edi-x12",
                bytes: 10,
                sha256: "00",
                payload: None,
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Failed,
                error: None,
                mic: None,
                destination_url: None,
            },
            None,
        )
        .unwrap();
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("olga@example.com", served.api.tenant, Role::Operator);
    let url = format!("/console/messages/{}", message.id);
    let retry = format!("{url}/retry");

    let (vic, vic_csrf) = served.session("vic@example.com").await;
    let page = served.get(&url, &vic).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(">Retry<"), "no form for a viewer");
    let forged = served
        .post(&retry, &vic, &[], &format!("csrf_token={vic_csrf}"))
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(
        store.messages().get(scope, message.id).unwrap().status,
        MessageStatus::Failed,
        "nothing changed"
    );

    let (olga, olga_csrf) = served.session("olga@example.com").await;
    let page = served.get(&url, &olga).await;
    assert!(page.body.contains(">Retry<"), "{}", page.body);
    let done = served
        .post(&retry, &olga, &[], &format!("csrf_token={olga_csrf}"))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        store.messages().get(scope, message.id).unwrap().status,
        MessageStatus::Queued
    );
    let audit = served
        .api
        .get("/v1/audit-events?action=message.retry")
        .await;
    assert_eq!(audit.body["total"], 1, "{:?}", audit.body);
    assert_eq!(audit.body["data"][0]["actor"]["type"], "user");
    assert_eq!(audit.body["data"][0]["actor"]["label"], "olga@example.com");
    assert_eq!(audit.body["data"][0]["resource_id"], message.id.to_string());
}

/// Issue 15's support actions on a message's page, through the API's own functions: an
/// operator sends a failed message again as a new one (linked by `resent_from`), cancels that
/// queued copy, and is refused the evidence of a message without a signed MDN with the API's
/// sentence; a viewer sees no action and a forged one is 403; each action is audited.
#[tokio::test]
async fn an_operator_resends_and_cancels_from_the_message_page_and_a_viewer_cannot() {
    use as2_domain::Mode;
    use as2_domain::algorithms::MdnMode;
    use as2_domain::message::{Direction, MessageStatus, PayloadRef};
    use as2_store::Scope;
    use as2_store::repo::messages::NewMessage;

    let served = Served::start(ConsoleConfig::default()).await;
    let created = served
        .api
        .post(
            "/v1/partners",
            serde_json::json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2", "encrypt": false, "sign": false}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let scope = Scope::new(served.api.tenant, Mode::Test);
    let store = &served.api.db.store;
    let payload = PayloadRef::Inline(b"ISA*00*order~".to_vec());
    let original = store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Outbound,
                partner_id: created.body["data"]["id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                station_id: created.body["data"]["station_id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                as2_message_id: "<failed@us>",
                subject: None,
                filename: Some("order.edi"),
                content_type: "application/edi-x12",
                bytes: 13,
                sha256: "00",
                payload: Some(&payload),
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Failed,
                error: None,
                mic: None,
                destination_url: None,
            },
            None,
        )
        .unwrap();
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    served.user("olga@example.com", served.api.tenant, Role::Operator);
    let url = format!("/console/messages/{}", original.id);

    let (vic, vic_csrf) = served.session("vic@example.com").await;
    let page = served.get(&url, &vic).await;
    assert!(!page.body.contains("/resend\""), "no action for a viewer");
    let forged = served
        .post(
            &format!("{url}/resend"),
            &vic,
            &[],
            &format!("csrf_token={vic_csrf}"),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    let (olga, csrf) = served.session("olga@example.com").await;
    let page = served.get(&url, &olga).await;
    assert!(
        page.body.contains(">Send again as a new message<"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("/evidence"),
        "no signed MDN, no evidence link"
    );
    let resent = served
        .post(
            &format!("{url}/resend"),
            &olga,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(resent.status, 303, "{}", resent.body);
    let copy: as2_domain::id::MessageId = resent
        .header("location")
        .and_then(|l| l.strip_prefix("/console/messages/"))
        .expect("the new message's page")
        .parse()
        .unwrap();
    assert_ne!(copy, original.id);
    let queued = store.messages().get(scope, copy).unwrap();
    assert_eq!(queued.status, MessageStatus::Queued);
    assert_eq!(queued.resent_from, Some(original.id));
    assert_ne!(queued.as2_message_id, original.as2_message_id);

    let page = served
        .get(&format!("/console/messages/{copy}"), &olga)
        .await;
    assert!(page.body.contains(">Cancel<"), "{}", page.body);
    let cancelled = served
        .post(
            &format!("/console/messages/{copy}/cancel"),
            &olga,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    assert_eq!(
        store.messages().get(scope, copy).unwrap().status,
        MessageStatus::Failed
    );
    // cancelling again: the API's 409 and its sentence
    let again = served
        .post(
            &format!("/console/messages/{copy}/cancel"),
            &olga,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);

    let evidence = served.get(&format!("{url}/evidence"), &olga).await;
    assert_eq!(evidence.status, 409, "{}", evidence.body);
    assert!(evidence.body.contains("MDN"), "{}", evidence.body);

    for action in ["message.resend", "message.cancel"] {
        let audit = served
            .api
            .get(&format!("/v1/audit-events?action={action}"))
            .await;
        assert_eq!(audit.body["total"], 1, "{action}: {:?}", audit.body);
        assert_eq!(audit.body["data"][0]["actor"]["label"], "olga@example.com");
    }
}

#[tokio::test]
async fn an_admin_creates_a_partner_after_correcting_what_the_api_refused() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (ada, csrf) = served.session("ada@example.com").await;

    let form = served.get("/console/partners/new", &ada).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("<label for=\"as2_id\">AS2 ID</label>"));

    // the API's own sentences, beside the fields they name; what was typed is kept
    let wrong = served
        .post(
            "/console/partners",
            &ada,
            &[],
            &format!(
                "csrf_token={csrf}&name=Acme&as2_id=ACME+CORP&url=ftp%3A%2F%2Facme.example&email=&sign=true"
            ),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("id=\"as2_id-error\""), "{}", wrong.body);
    assert!(wrong.body.contains("id=\"url-error\""), "{}", wrong.body);
    assert!(!wrong.body.contains("id=\"name-error\""));
    assert!(wrong.body.contains("value=\"ACME CORP\""));
    assert!(wrong.body.contains("aria-invalid=\"true\""));
    let api_says = served
        .api
        .post(
            "/v1/partners",
            serde_json::json!({"name": "Acme", "as2_id": "ACME CORP", "url": "https://acme.example/as2"}),
        )
        .await;
    let sentence = api_says.body["errors"]["as2_id"][0].as_str().unwrap();
    assert!(
        wrong.body.contains(sentence),
        "the API's sentence: {sentence}"
    );

    let right = served
        .post(
            "/console/partners",
            &ada,
            &[],
            &format!(
                "csrf_token={csrf}&name=Acme&as2_id=ACME-CORP&url=https%3A%2F%2Facme.example%2Fas2&sign=true"
            ),
        )
        .await;
    assert_eq!(right.status, 303, "{}", right.body);
    let listed = served.get("/console/partners", &ada).await;
    assert!(listed.body.contains("ACME-CORP"), "{}", listed.body);
    let made = served.api.get("/v1/partners").await;
    assert_eq!(made.body["total"], 1);
    assert_eq!(made.body["data"][0]["sign"], true);
    assert_eq!(made.body["data"][0]["encrypt"], false, "unchecked");
    let audit = served
        .api
        .get("/v1/audit-events?action=partner.create")
        .await;
    assert_eq!(audit.body["total"], 1, "{:?}", audit.body);
    assert_eq!(audit.body["data"][0]["actor"]["label"], "ada@example.com");
    assert_eq!(audit.body["data"][0]["changes"]["as2_id"], "ACME-CORP");
    assert!(audit.body["data"][0]["changes"].get("csrf_token").is_none());

    // a viewer sees the list without the link, and neither the form nor a forged create
    let (vic, vic_csrf) = served.session("vic@example.com").await;
    let listed = served.get("/console/partners", &vic).await;
    assert_eq!(listed.status, 200);
    assert!(listed.body.contains("ACME-CORP"));
    assert!(!listed.body.contains("New partner"));
    assert_eq!(served.get("/console/partners/new", &vic).await.status, 403);
    let forged = served
        .post(
            "/console/partners",
            &vic,
            &[],
            &format!(
                "csrf_token={vic_csrf}&name=Evil&as2_id=EVIL&url=https%3A%2F%2Fevil.example%2Fas2"
            ),
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(served.api.get("/v1/partners").await.body["total"], 1);
}

#[tokio::test]
async fn a_message_page_shows_its_timeline_and_mdn_and_its_files_download_inert() {
    use as2_domain::Mode;
    use as2_domain::algorithms::MdnMode;
    use as2_domain::mdn::MdnRecord;
    use as2_domain::message::{Direction, MessageStatus, PayloadRef};
    use as2_store::Scope;
    use as2_store::repo::messages::NewMessage;

    let served = Served::start(ConsoleConfig::default()).await;
    let created = served
        .api
        .post(
            "/v1/partners",
            serde_json::json!({"name": "Acme", "as2_id": "ACME", "url": "https://acme.example/as2"}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let scope = Scope::new(served.api.tenant, Mode::Test);
    let store = &served.api.db.store;
    let payload = b"<script>alert(1)</script>".to_vec();
    let inline = PayloadRef::Inline(payload.clone());
    let message = store
        .messages()
        .create(
            scope,
            &NewMessage {
                direction: Direction::Inbound,
                partner_id: created.body["data"]["id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                station_id: created.body["data"]["station_id"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                as2_message_id: "<page@acme>",
                subject: None,
                filename: Some("page.html"),
                content_type: "text/html",
                bytes: i64::try_from(payload.len()).unwrap(),
                sha256: "00",
                payload: Some(&inline),
                mdn_mode: MdnMode::Sync,
                status: MessageStatus::Received,
                error: None,
                mic: Some("abc=, sha256"),
                destination_url: None,
            },
            None,
        )
        .unwrap();
    store
        .messages()
        .add_event(
            scope,
            message.id,
            "mdn_sent",
            Some("Signed MDN answered in the response"),
        )
        .unwrap();
    let raw = b"Content-Type: message/disposition-notification\r\n\r\nDisposition: processed\r\n";
    store
        .messages()
        .record_mdn_with_raw(
            scope,
            &MdnRecord {
                message_id: message.id,
                disposition: "automatic-action/MDN-sent-automatically; processed".into(),
                positive: true,
                mic: Some("abc=, sha256".into()),
                mic_matched: Some(true),
                signed: true,
                verified: true,
                original_message_id: Some("<page@acme>".into()),
                raw_key: None,
                created_at: chrono::Utc::now(),
            },
            Some(raw),
        )
        .unwrap();
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let url = format!("/console/messages/{}", message.id);

    let (vic, _) = served.session("vic@example.com").await;
    let page = served.get(&url, &vic).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "<h2>Timeline</h2>",
        "mdn_sent",
        "Signed MDN answered in the response",
        "automatic-action/MDN-sent-automatically; processed",
        "Download the payload",
        "Download the raw MDN",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }

    let file = served.get(&format!("{url}/payload"), &vic).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.body.as_bytes(), payload.as_slice());
    assert_eq!(
        file.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
    assert!(
        file.header("content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(
        file.header("content-disposition"),
        Some("attachment; filename=\"page.html\"")
    );
    let mdn = served.get(&format!("{url}/mdn"), &vic).await;
    assert_eq!(mdn.status, 200);
    assert_eq!(mdn.body.as_bytes(), raw.as_slice());
    assert_eq!(mdn.header("content-type"), Some("application/octet-stream"));

    let (eve, _) = served.session("eve@example.com").await;
    for path in [url.clone(), format!("{url}/payload"), format!("{url}/mdn")] {
        let theirs = served.get(&path, &eve).await;
        assert_eq!(theirs.status, 404, "{path}");
        assert!(!theirs.body.contains("alert(1)"));
    }
}

#[tokio::test]
async fn an_owner_adds_users_changes_roles_and_keeps_one_owner() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    served.user("olga@example.com", served.api.tenant, Role::Operator);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (ada, csrf) = served.session("ada@example.com").await;

    let page = served.get("/console/users", &ada).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("olga@example.com") && !page.body.contains("eve@example.com"));
    assert!(
        page.body.contains("href=\"/console/users\""),
        "the owner's menu"
    );

    // a new user: the generated password is shown once and signs in
    let added = served
        .post(
            "/console/users",
            &ada,
            &[],
            &format!("csrf_token={csrf}&email=Bob%40Example.com&name=Bob&role=operator"),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let at = added.body.find("id=\"new-password\">").unwrap() + 18;
    let password = added.body[at..].split('<').next().unwrap().to_owned();
    assert_eq!(password.len(), 24);
    let signed = served.sign_in("bob@example.com", &password, &[]).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let bob = signed.session_cookie().unwrap();
    assert_eq!(served.get("/console/messages", &bob).await.status, 200);
    assert!(
        !served
            .get("/console", &bob)
            .await
            .body
            .contains("href=\"/console/users\""),
        "no users menu for an operator"
    );
    assert_eq!(served.get("/console/users", &bob).await.status, 403);

    // an existing user of another tenant is given a role here, without a new password
    let existing = served
        .post(
            "/console/users",
            &ada,
            &[],
            &format!("csrf_token={csrf}&email=eve%40example.com&role=viewer"),
        )
        .await;
    assert_eq!(existing.status, 200, "{}", existing.body);
    assert!(existing.body.contains("already had an account"));
    assert!(!existing.body.contains("new-password"));
    let bad = served
        .post(
            "/console/users",
            &ada,
            &[],
            &format!("csrf_token={csrf}&email=not-an-email&role=viewer"),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);

    // roles change, users leave, the last owner stays
    let store = &served.api.db.store;
    let bob_id = store.users().credentials("bob@example.com").unwrap().0.id;
    let ada_id = store.users().credentials("ada@example.com").unwrap().0.id;
    let changed = served
        .post(
            &format!("/console/users/{bob_id}/role"),
            &ada,
            &[],
            &format!("csrf_token={csrf}&role=viewer"),
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(
        store
            .users()
            .membership(bob_id, served.api.tenant)
            .unwrap()
            .role,
        Role::Viewer
    );
    for path in [
        format!("/console/users/{ada_id}/role"),
        format!("/console/users/{ada_id}/remove"),
    ] {
        let refused = served
            .post(&path, &ada, &[], &format!("csrf_token={csrf}&role=admin"))
            .await;
        assert_eq!(refused.status, 409, "{path}: {}", refused.body);
        assert!(refused.body.contains("must keep one owner"));
    }
    let removed = served
        .post(
            &format!("/console/users/{bob_id}/remove"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert!(
        served
            .get("/console", &bob)
            .await
            .body
            .contains("You do not belong to any tenant yet"),
        "bob's session sees no tenant at once"
    );
    let audit = served.api.get("/v1/audit-events?resource_type=user").await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["user.remove", "user.role", "user.add", "user.add"]
    );

    // an operator's forged change is refused
    let (olga, olga_csrf) = served.session("olga@example.com").await;
    let forged = served
        .post(
            &format!("/console/users/{ada_id}/remove"),
            &olga,
            &[],
            &format!("csrf_token={olga_csrf}"),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(store.users().membership(ada_id, served.api.tenant).is_ok());
}

#[tokio::test]
async fn an_admin_creates_a_key_whose_secret_is_shown_once_and_revokes_it() {
    use axum::http::{Method, StatusCode};

    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    served.user("olga@example.com", served.api.tenant, Role::Operator);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (ada, csrf) = served.session("ada@example.com").await;

    let made = served
        .post(
            "/console/api-keys",
            &ada,
            &[],
            &format!("csrf_token={csrf}&name=ci&scope_read=true"),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let at = made.body.find("id=\"new-secret\">").unwrap() + 16;
    let secret = made.body[at..].split('<').next().unwrap().to_owned();
    let reads = served
        .api
        .call(Method::GET, "/v1/partners", Some(&secret), None)
        .await;
    assert_eq!(reads.status, StatusCode::OK, "{:?}", reads.body);
    let writes = served
        .api
        .call(
            Method::POST,
            "/v1/partners",
            Some(&secret),
            Some(serde_json::json!({"name": "X", "as2_id": "X", "url": "https://x.example/as2"})),
        )
        .await;
    assert_eq!(writes.status, StatusCode::FORBIDDEN, "read scope only");
    let listed = served.get("/console/api-keys", &ada).await;
    assert!(
        listed.body.contains("<td>ci</td>") && !listed.body.contains(&secret),
        "shown once"
    );
    let nameless = served
        .post(
            "/console/api-keys",
            &ada,
            &[],
            &format!("csrf_token={csrf}&name=&scope_read=true"),
        )
        .await;
    assert_eq!(nameless.status, 422, "{}", nameless.body);

    // another tenant's owner and an operator cannot touch it
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    let audit = served
        .api
        .get("/v1/audit-events?action=api_key.create")
        .await;
    assert_eq!(audit.body["total"], 1, "{:?}", audit.body);
    assert_eq!(audit.body["data"][0]["actor"]["label"], "ada@example.com");
    let id = audit.body["data"][0]["resource_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !served
            .get("/console/api-keys", &eve)
            .await
            .body
            .contains(">ci<")
    );
    let theirs = served
        .post(
            &format!("/console/api-keys/{id}/revoke"),
            &eve,
            &[],
            &format!("csrf_token={eve_csrf}"),
        )
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    let (olga, olga_csrf) = served.session("olga@example.com").await;
    assert_eq!(served.get("/console/api-keys", &olga).await.status, 403);
    let forged = served
        .post(
            &format!("/console/api-keys/{id}/revoke"),
            &olga,
            &[],
            &format!("csrf_token={olga_csrf}"),
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        served
            .api
            .call(Method::GET, "/v1/partners", Some(&secret), None)
            .await
            .status,
        StatusCode::OK
    );

    let revoked = served
        .post(
            &format!("/console/api-keys/{id}/revoke"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(
        served
            .api
            .call(Method::GET, "/v1/partners", Some(&secret), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn certificates_are_listed_with_their_expiry_and_download_without_their_key() {
    let served = Served::start(ConsoleConfig::default()).await;
    let mut ids = Vec::new();
    for (name, days) in [("Expiring soon", 10), ("Good for a year", 365)] {
        let made = served
            .api
            .post(
                "/v1/certificates/generate",
                serde_json::json!({"name": name, "common_name": "us.example", "days": days, "key_type": "ec-p256"}),
            )
            .await;
        assert_eq!(made.status.as_u16(), 201, "{:?}", made.body);
        ids.push(made.body["data"]["id"].as_str().unwrap().to_owned());
    }
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (vic, _) = served.session("vic@example.com").await;

    let page = served.get("/console/certificates", &vic).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Expiring soon") && page.body.contains("Good for a year"));
    assert_eq!(page.body.matches("expires within 30 days").count(), 1);
    let file = served
        .get(&format!("/console/certificates/{}/download", ids[0]), &vic)
        .await;
    assert_eq!(file.status, 200);
    assert!(
        file.body.starts_with("-----BEGIN CERTIFICATE-----"),
        "{}",
        file.body
    );
    assert!(!file.body.contains("PRIVATE KEY"));
    assert_eq!(file.header("x-content-type-options"), Some("nosniff"));

    let (eve, _) = served.session("eve@example.com").await;
    assert!(
        !served
            .get("/console/certificates", &eve)
            .await
            .body
            .contains("Expiring soon")
    );
    let theirs = served
        .get(&format!("/console/certificates/{}/download", ids[0]), &eve)
        .await;
    assert_eq!(theirs.status, 404);
    assert!(!theirs.body.contains("BEGIN CERTIFICATE"));
}

#[tokio::test]
async fn webhook_endpoints_show_their_deliveries_to_their_tenant_only() {
    let served = Served::start(ConsoleConfig::default()).await;
    let created = served
        .api
        .post(
            "/v1/webhook-endpoints",
            serde_json::json!({"url": "https://hooks.example.com/as2", "description": "Operations", "events": ["message.*"]}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let secret = created.body["data"]["secret"].as_str().unwrap().to_owned();
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let tested = served
        .api
        .post(
            &format!("/v1/webhook-endpoints/{id}/test"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(tested.status.as_u16(), 202, "{:?}", tested.body);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);

    let (vic, _) = served.session("vic@example.com").await;
    let page = served.get("/console/webhooks", &vic).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in [
        "https://hooks.example.com/as2",
        "Operations",
        "message.*",
        "webhook.test",
        "The last 1 of 1 deliveries",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(!page.body.contains(&secret), "never the secret");

    let (eve, _) = served.session("eve@example.com").await;
    let theirs = served.get("/console/webhooks", &eve).await;
    assert!(!theirs.body.contains("hooks.example.com"));
    assert!(theirs.body.contains("No webhook endpoint"));
}
