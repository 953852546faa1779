//! The overview's longer view: the messages of each of the last days by status (a table whose
//! rows carry a bar of the day's total), and the webhook deliveries that failed lately with
//! the endpoints paused after failing for good.

use as2_domain::message::MessageStatus;
use as2_domain::webhook::WebhookEndpoint;
use as2_store::repo::messages::DayCounts;
use as2_store::repo::webhook_failures::DeliveryFailure;
use maud::{Markup, html};

use crate::console::layout::when;

/// How many days the daily table covers.
pub const DAYS: u32 = 14;

fn count(day: &DayCounts, status: MessageStatus) -> i64 {
    day.by_status
        .iter()
        .find(|(s, _)| s == status.as_str())
        .map_or(0, |(_, n)| *n)
}

/// The messages of each of the last [`DAYS`] days by status, newest day first.
pub fn daily(days: &[DayCounts]) -> Markup {
    let total = |d: &DayCounts| d.by_status.iter().map(|(_, n)| n).sum::<i64>();
    let most = days.iter().map(total).max().unwrap_or(0).max(1);
    html! {
        h2 { "Messages per day" }
        div class="table" tabindex="0" { table class="daily" {
            caption { "The last " (DAYS) " days (UTC), newest first, by status" }
            thead { tr {
                th scope="col" { "Day" }
                @for status in MessageStatus::ALL { th scope="col" { (status) } }
                th scope="col" { "All" }
            } }
            tbody {
                @for day in days.iter().rev() {
                    @let all = total(day);
                    tr {
                        th scope="row" { (day.day.format("%Y-%m-%d")) }
                        @for status in MessageStatus::ALL { td { (count(day, *status)) } }
                        td {
                            span class="track" {
                                @if all > 0 { span class="bar" style={ "width:" (all * 100 / most) "%" } {} }
                            }
                            " " (all)
                        }
                    }
                }
            }
        } }
    }
}

/// The deliveries that failed in the last 24 hours and the endpoints paused.
pub fn webhook_failures(
    (failed, total): (&[DeliveryFailure], i64),
    paused: &[WebhookEndpoint],
) -> Markup {
    html! {
        h2 { "Webhook failures of the last 24 hours" }
        @if !paused.is_empty() {
            div class="error" role="alert" {
                p { "Paused after failing for good (re-enable them on the webhooks page):" }
                ul { @for e in paused { li { code { (e.settings.url) } } } }
            }
        }
        @if failed.is_empty() {
            p { "No failed delivery." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { "The last " (failed.len()) " of " (total) " failed deliveries" }
                thead { tr {
                    th scope="col" { "Endpoint" } th scope="col" { "Event" }
                    th scope="col" { "State" } th scope="col" { "Attempts" }
                    th scope="col" { "Answer" } th scope="col" { "When" }
                } }
                tbody {
                    @for f in failed {
                        tr {
                            td { code { (f.url) } }
                            td { (f.event_type) }
                            td { @if f.status == "failed" { "failed for good" } @else { "retrying" } }
                            td { (f.attempts) }
                            td {
                                @if let Some(code) = f.response_status { "HTTP " (code) " " }
                                (f.error.as_deref().unwrap_or(""))
                            }
                            td { (when(f.updated_at)) }
                        }
                    }
                }
            } }
        }
    }
}
