//! One message's page: its facts, the support actions that apply (operators and up: retry,
//! send again, cancel, send the MDN again), the evidence download (a signed MDN), the
//! timeline, the MDN (disposition, MIC, signature verdict, raw MDN) and the payload.

use as2_domain::algorithms::MdnMode;
use as2_domain::mdn::MdnRecord;
use as2_domain::message::{Direction, Message, MessageStatus};
use as2_domain::user::ConsoleAction;
use as2_store::repo::messages::MessageEvent;
use maud::{Markup, html};

use crate::console::layout::{csrf_field, when};
use crate::console::session::ConsoleSession;

/// What the page shows of a message.
#[derive(Debug)]
pub struct Detail {
    /// The message.
    pub message: Message,
    /// Its timeline, oldest first.
    pub events: Vec<MessageEvent>,
    /// Its MDN, once there is one.
    pub mdn: Option<MdnRecord>,
    /// Whether the MDN's bytes are kept.
    pub raw_mdn: bool,
}

/// The support actions that apply to `m` now: the path under the message and the button.
fn actions(m: &Message) -> Vec<(&'static str, &'static str)> {
    let mut actions = Vec::new();
    match (m.direction, m.status) {
        (Direction::Outbound, MessageStatus::Queued) => actions.push(("cancel", "Cancel")),
        (Direction::Outbound, MessageStatus::Delivered | MessageStatus::Failed) => {
            if m.status == MessageStatus::Failed {
                actions.push(("retry", "Retry"));
            }
            actions.push(("resend", "Send again as a new message"));
        }
        (Direction::Inbound, _) if m.mdn_mode == MdnMode::Async => {
            actions.push(("mdn-resend", "Send the MDN again"));
        }
        _ => {}
    }
    actions
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// The page's content.
pub fn markup(console: &ConsoleSession, d: &Detail) -> Markup {
    let m = &d.message;
    let may_retry = console
        .current
        .as_ref()
        .is_some_and(|c| c.role.may(ConsoleAction::OperateMessages));
    html! {
        @if may_retry {
            div class="actions" {
                @for (path, label) in actions(m) {
                    form method="post" action={ "/console/messages/" (m.id) "/" (path) } {
                        (csrf_field(console))
                        button type="submit" { (label) }
                    }
                }
            }
        }
        dl class="facts" {
            dt { "AS2 Message-ID" } dd { code { (m.as2_message_id) } }
            dt { "Direction" } dd { (m.direction) }
            dt { "Status" } dd { (m.status) }
            dt { "Partner" } dd { (m.partner_id) }
            dt { "Station" } dd { (m.station_id) }
            dt { "Subject" } dd { (m.subject.as_deref().unwrap_or("")) }
            dt { "File" } dd { (m.filename.as_deref().unwrap_or("")) " (" (m.bytes) " bytes, " (m.content_type) ")" }
            dt { "Attempts" } dd { (m.attempts) }
            @if let Some(error) = &m.error {
                dt { "Error" } dd class="error" { (error.kind) ": " (error.sentence) }
            }
            dt { "MIC" } dd { (m.mic.as_deref().unwrap_or("")) }
            dt { "Created" } dd { (when(m.created_at)) }
        }
        @if d.mdn.as_ref().is_some_and(|mdn| mdn.signed) {
            p { a href={ "/console/messages/" (m.id) "/evidence" } download { "Download the evidence of delivery" } }
        }
        @if m.payload.is_some() {
            p { a href={ "/console/messages/" (m.id) "/payload" } download { "Download the payload" } }
        }
        h2 { "MDN" }
        @if let Some(mdn) = &d.mdn {
            dl class="facts" {
                dt { "Disposition" } dd { code { (mdn.disposition) } }
                dt { "Positive" } dd { (yes_no(mdn.positive)) }
                dt { "MIC" } dd { (mdn.mic.as_deref().unwrap_or("")) }
                dt { "MIC matched" } dd {
                    @match mdn.mic_matched { Some(true) => "yes", Some(false) => "no", None => "nothing to compare" }
                }
                dt { "Signed" } dd { (yes_no(mdn.signed)) }
                dt { "Signature verified" } dd { (yes_no(mdn.verified)) }
                dt { "Received" } dd { (when(mdn.created_at)) }
            }
            @if d.raw_mdn {
                p { a href={ "/console/messages/" (m.id) "/mdn" } download { "Download the raw MDN" } }
            }
        } @else {
            p { "No MDN yet." }
        }
        h2 { "Timeline" }
        @if d.events.is_empty() {
            p { "No event yet." }
        } @else {
            div class="table" tabindex="0" { table {
                caption { "Oldest first" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Event" }
                    th scope="col" { "Status" } th scope="col" { "Detail" }
                } }
                tbody {
                    @for e in &d.events {
                        tr {
                            td { (when(e.created_at)) }
                            td { (e.event_type) }
                            td { @if let Some(status) = e.status { (status) } }
                            td { (e.detail.as_deref().unwrap_or("")) }
                        }
                    }
                }
            } }
        }
    }
}
