//! The overview page of the tenant and mode shown: the last 24 hours' messages by status (a
//! bar chart that is also a table), the queue depth, the last day's failures with their
//! reasons, the messages per day of the last two weeks and the webhook failures
//! (`console::overview_history`), certificates expiring within 30 days, and the latest
//! changes of the audit log. Every figure comes from the same scoped repositories as the API.

use as2_domain::audit::AuditEvent;
use as2_domain::certificate::Certificate;
use as2_domain::message::{Message, MessageStatus};
use as2_domain::pagination::PageRequest;
use as2_domain::webhook::WebhookEndpoint;
use as2_store::repo::audit::AuditFilter;
use as2_store::repo::certificates::CertificateFilter;
use as2_store::repo::messages::{DayCounts, MessageFilter};
use as2_store::repo::webhook_failures::DeliveryFailure;
use as2_store::{Scope, Store, StoreResult};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use maud::{Markup, html};

use crate::console::layout::{page, when};
use crate::console::overview_history::{self, DAYS};
use crate::console::session::ConsoleSession;
use crate::state::AppState;

/// Certificates expiring within this many days are shown.
const EXPIRY_DAYS: i64 = 30;

/// What the overview shows.
#[derive(Debug)]
struct Summary {
    /// Messages created in the last 24 hours, per status.
    last_day: Vec<(MessageStatus, i64)>,
    /// Outbound messages waiting to be sent (any age).
    queued: i64,
    /// The last day's failures, newest first (at most 10), and how many there are.
    failures: (Vec<Message>, i64),
    /// Certificates expiring within [`EXPIRY_DAYS`].
    expiring: Vec<Certificate>,
    /// The latest changes (at most 10) and how many there are.
    changes: (Vec<AuditEvent>, i64),
    /// The messages of each of the last [`DAYS`] days by status.
    daily: Vec<DayCounts>,
    /// The last day's failed webhook deliveries (at most 10) and how many there are.
    webhook_failures: (Vec<DeliveryFailure>, i64),
    /// Webhook endpoints paused after failing for good.
    paused: Vec<WebhookEndpoint>,
}

fn first(n: i64) -> PageRequest {
    PageRequest {
        page: 1,
        per_page: n,
    }
}

fn summary(store: &Store, scope: Scope) -> StoreResult<Summary> {
    let now = Utc::now();
    let since = now - Duration::hours(24);
    let messages = store.messages();
    let count = |filter: MessageFilter| -> StoreResult<i64> {
        Ok(messages.list(scope, filter, first(1))?.1)
    };
    let mut last_day = Vec::new();
    for status in MessageStatus::ALL {
        let total = count(MessageFilter {
            status: Some(*status),
            created_after: Some(since),
            ..MessageFilter::default()
        })?;
        last_day.push((*status, total));
    }
    let queued = count(MessageFilter {
        status: Some(MessageStatus::Queued),
        ..MessageFilter::default()
    })?;
    let failures = messages.list(
        scope,
        MessageFilter {
            status: Some(MessageStatus::Failed),
            created_after: Some(since),
            ..MessageFilter::default()
        },
        first(10),
    )?;
    let (expiring, _) = store.certificates().list(
        scope,
        CertificateFilter {
            expires_before: Some(now + Duration::days(EXPIRY_DAYS)),
            kind: None,
        },
        first(20),
    )?;
    let changes = store
        .audit()
        .list(scope, &AuditFilter::default(), first(10))?;
    let daily = messages.daily_counts(scope, now, DAYS)?;
    let webhooks = store.webhooks();
    let webhook_failures = webhooks.failures_since(scope, since, 10)?;
    let (endpoints, _) = webhooks.list(scope, first(100))?;
    let paused = endpoints
        .into_iter()
        .filter(|e| !e.settings.active)
        .collect();
    Ok(Summary {
        last_day,
        queued,
        failures,
        expiring,
        changes,
        daily,
        webhook_failures,
        paused,
    })
}

/// The last day's messages by status: a table whose cells carry bars.
fn chart(last_day: &[(MessageStatus, i64)]) -> Markup {
    let most = last_day.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    html! {
        div class="table" tabindex="0" { table class="chart" {
            caption { "Messages of the last 24 hours by status" }
            thead { tr { th scope="col" { "Status" } th scope="col" { "Messages" } } }
            tbody {
                @for (status, n) in last_day {
                    tr {
                        th scope="row" { (status) }
                        td {
                            span class="track" {
                                @if *n > 0 { span class="bar" style={ "width:" (n * 100 / most) "%" } {} }
                            }
                            " " (n)
                        }
                    }
                }
            }
        } }
    }
}

fn failures(failed: &[Message], total: i64) -> Markup {
    html! {
        h2 { "Failures of the last 24 hours" }
        @if failed.is_empty() {
            p { "No failure." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { "The last " (failed.len()) " of " (total) " failures" }
                thead { tr {
                    th scope="col" { "Message" } th scope="col" { "Direction" }
                    th scope="col" { "Reason" } th scope="col" { "Created" }
                } }
                tbody {
                    @for m in failed {
                        tr {
                            td { a href={ "/console/messages/" (m.id) } { (m.id) } }
                            td { (m.direction) }
                            td {
                                @if let Some(error) = &m.error { (error.kind) ": " (error.sentence) }
                            }
                            td { (when(m.created_at)) }
                        }
                    }
                }
            } }
        }
    }
}

fn expiring(certificates: &[Certificate]) -> Markup {
    html! {
        h2 { "Certificates expiring within " (EXPIRY_DAYS) " days" }
        @if certificates.is_empty() {
            p { "None." }
        } @else {
            div class="table" tabindex="0" { table {
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Subject" } th scope="col" { "Expires" }
                } }
                tbody {
                    @for c in certificates {
                        tr {
                            td { (c.name) } td { (c.info.subject) } td { (when(c.info.not_after)) }
                        }
                    }
                }
            } }
        }
    }
}

fn changes(events: &[AuditEvent], total: i64) -> Markup {
    html! {
        h2 { "Latest changes" }
        @if events.is_empty() {
            p { "No change yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { "The last " (events.len()) " of " (total) " changes" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" }
                    th scope="col" { "Action" } th scope="col" { "Resource" }
                } }
                tbody {
                    @for e in events {
                        tr {
                            td { (when(e.created_at)) }
                            td { (e.actor.label) }
                            td { (e.action) }
                            td { (e.resource_id.as_deref().unwrap_or(&e.resource_type)) }
                        }
                    }
                }
            } }
        }
    }
}

/// `GET /console`.
pub async fn page_handler(State(state): State<AppState>, console: ConsoleSession) -> Response {
    let Some(scope) = console.scope() else {
        let content = html! {
            p { "You do not belong to any tenant yet. Ask an owner to add you." }
        };
        return page("Overview", Some(&console), content).into_response();
    };
    let found = state
        .blocking("message", move |s| Ok(summary(s.store(), scope)?))
        .await;
    let summary = match found {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let role = console
        .current
        .as_ref()
        .map(|m| m.role.to_string())
        .unwrap_or_default();
    let tenant = console
        .current
        .as_ref()
        .map(|m| m.tenant_name.clone())
        .unwrap_or_default();
    let content = html! {
        p { "Tenant " strong { (tenant) } ", " strong { (console.session.mode) } " mode. Your role: " strong { (role) } "." }
        p { "Queue: " strong { (summary.queued) } " outbound messages waiting to be sent." }
        (chart(&summary.last_day))
        (failures(&summary.failures.0, summary.failures.1))
        (overview_history::webhook_failures(
            (&summary.webhook_failures.0, summary.webhook_failures.1),
            &summary.paused,
        ))
        (overview_history::daily(&summary.daily))
        (expiring(&summary.expiring))
        (changes(&summary.changes.0, summary.changes.1))
    };
    page("Overview", Some(&console), content).into_response()
}
