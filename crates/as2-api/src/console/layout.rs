//! The frame of every console page: language, viewport, a skip link, the header with the
//! tenant and mode switch and the sign-out forms, the navigation, one `h1` in `main`.

use as2_domain::Mode;
use axum::response::Html;
use maud::{DOCTYPE, Markup, html};

use crate::console::csrf::FIELD;
use crate::console::session::ConsoleSession;

/// The console's style sheet: small, inline (no other request, no CDN); readable on a phone
/// (one column under 40em) and with visible focus.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;line-height:1.5;color:#1b1b1b}\
a{color:#0b57d0}header,nav,main{padding:.5rem 1rem}header{background:#f1f3f4;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}\
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:1rem;margin:0;padding:0}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}\
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}label{display:block;margin-top:.5rem}\
input,select,button{font:inherit;padding:.25rem .5rem}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;border-bottom:1px solid #ddd;padding:.25rem .5rem}.error{color:#b3261e}\
.mode-live{background:#fde7e9}@media(max-width:40em){header{flex-direction:column;align-items:flex-start}}";

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
                            li { a href="/console" { "Overview" } }
                            li { a href="/console/messages" { "Messages" } }
                            li { a href="/console/audit" { "Audit log" } }
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
