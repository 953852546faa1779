//! The frame of every console page: language, viewport, a skip link, the header with the
//! tenant and mode switch and the sign-out forms, the navigation, one `h1` in `main`.

use as2_domain::Mode;
use as2_domain::user::ConsoleAction;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::console::csrf::FIELD;
use crate::console::session::ConsoleSession;

/// The console's style sheet: small, inline (no other request, no CDN); readable on a phone
/// (one column under 40em, wide tables scroll in their own box) and with visible focus.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;line-height:1.5;color:#1b1b1b}\
a{color:#0b57d0}header,nav,main{padding:.5rem 1rem}main{max-width:75rem}\
header{background:#f1f3f4;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}\
header form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0}header label{margin:0}\
header .who{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-left:auto}\
nav a[aria-current=page]{font-weight:700;text-decoration:none}nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:1rem;margin:0;padding:0}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}\
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}label{display:block;margin-top:.5rem}\
input,select,button{font:inherit;padding:.25rem .5rem}button{cursor:pointer}\
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;margin-bottom:1rem}\
form.filters label{margin:0}.field{display:flex;flex-direction:column}\
form .field{margin-bottom:.75rem;max-width:32rem}small{color:#555}fieldset{max-width:32rem;margin-bottom:1rem}\
fieldset label{display:block}[aria-invalid=true]{border:2px solid #b3261e}.field .error{margin:.25rem 0 0}\
.table{overflow-x:auto}table{border-collapse:collapse;width:100%}\
caption{text-align:left;font-weight:600;padding:.25rem 0}\
th,td{text-align:left;vertical-align:top;border-bottom:1px solid #ddd;padding:.25rem .5rem}\
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1.5rem}\
time{white-space:nowrap}.fp{display:inline-block;max-width:17em;word-break:break-all}dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}.error{color:#b3261e}\
.mode-live header{background:#fde7e9}\
form.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0}\
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
table.chart{max-width:40rem}.track{display:inline-block;width:75%;vertical-align:middle}\
.bar{display:block;height:.8em;background:#0b57d0;min-width:2px}\
@media(max-width:40em){header .who{margin-left:0}dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.5rem}}";

/// A time as people read it (`2026-12-06 04:25:30 UTC`), the exact instant in `datetime`.
pub fn when(at: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(crate::time::format(at)) { (at.format("%Y-%m-%d %H:%M:%S")) " UTC" }
    }
}

/// The menu: where, what, and the action a user's role must allow to see it.
const MENU: [(&str, &str, ConsoleAction); 10] = [
    ("/console", "Overview", ConsoleAction::Read),
    ("/console/messages", "Messages", ConsoleAction::Read),
    ("/console/stations", "Stations", ConsoleAction::Read),
    ("/console/partners", "Partners", ConsoleAction::Read),
    ("/console/certificates", "Certificates", ConsoleAction::Read),
    ("/console/webhooks", "Webhooks", ConsoleAction::Read),
    ("/console/audit", "Audit log", ConsoleAction::Read),
    ("/console/api-keys", "API keys", ConsoleAction::Configure),
    ("/console/users", "Users", ConsoleAction::ManageUsers),
    ("/console/settings", "Settings", ConsoleAction::Configure),
];

/// `page` when `path` is the menu entry `href` or under it (`aria-current`).
fn current(path: &str, href: &str) -> Option<&'static str> {
    let under = href != "/console" && path.starts_with(&format!("{href}/"));
    (path == href || path == format!("{href}/") || under).then_some("page")
}

/// The hidden CSRF field of a form of this session.
pub fn csrf_field(console: &ConsoleSession) -> Markup {
    html! { input type="hidden" name=(FIELD) value=(console.session.csrf_token); }
}

/// A whole page titled `title` around `content`; signed-in pages get the header and the
/// navigation.
pub fn page(title: &str, console: Option<&ConsoleSession>, content: Markup) -> Html<String> {
    let live = console.is_some_and(|c| c.session.mode == Mode::Live);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · AS2 console" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body class=[live.then_some("mode-live")] {
                a class="skip" href="#main" { "Skip to content" }
                @if let Some(console) = console {
                    (header(console))
                    nav aria-label="Main" {
                        ul {
                            @for (href, label, action) in MENU {
                                @if console.current.as_ref().is_some_and(|m| m.role.may(action)) {
                                    li { a href=(href) aria-current=[current(&console.path, href)] { (label) } }
                                }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (maud::PreEscaped(content.into_string()))
                }
            }
        }
    };
    Html(markup.into_string())
}

fn header(console: &ConsoleSession) -> Markup {
    let current = console.current.as_ref().map(|m| m.tenant_id);
    html! {
        header {
            strong { "AS2 console" }
            @if !console.memberships.is_empty() {
                form method="post" action="/console/switch" aria-label="Tenant and mode" {
                    (csrf_field(console))
                    label for="switch-tenant" { "Tenant" }
                    select id="switch-tenant" name="tenant" {
                        @for m in &console.memberships {
                            option value=(m.tenant_id) selected[Some(m.tenant_id) == current] {
                                (m.tenant_name) " (" (m.role) ")"
                            }
                        }
                    }
                    label for="switch-mode" { "Mode" }
                    select id="switch-mode" name="mode" {
                        @for mode in [Mode::Test, Mode::Live] {
                            option value=(mode) selected[mode == console.session.mode] { (mode) }
                        }
                    }
                    button type="submit" { "Switch" }
                }
            }
            div class="who" {
                span { "Signed in as " (console.user.email) }
                form method="post" action="/console/logout" {
                    (csrf_field(console))
                    button type="submit" { "Sign out" }
                }
                form method="post" action="/console/logout-everywhere" {
                    (csrf_field(console))
                    button type="submit" { "Sign out everywhere" }
                }
            }
        }
    }
}

/// The 404 page of a `noun` (lower case: "station", "webhook endpoint") that is not in the
/// session's tenant and mode, or not at all: the two are not told apart.
pub fn not_found_page(console: &ConsoleSession, noun: &str) -> Response {
    let mut title = noun.to_owned();
    if let Some(first) = title.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let content = html! { p { "There is no such " (noun) " in this tenant and mode." } };
    (
        StatusCode::NOT_FOUND,
        page(&format!("{title} not found"), Some(console), content),
    )
        .into_response()
}
