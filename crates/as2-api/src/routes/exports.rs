//! `/v1/exports/messages`: a tenant's messages and their evidence in a date range, as a zip
//! streamed while it is written: `messages.jsonl` (one line per message: the message as
//! `GET /v1/messages/{id}` shows it, with its MDN and its timeline), then
//! `payloads/<msg id>/<file name>` and `mdns/<msg id>.txt` (the raw MDN, ours or the
//! partner's). What is held is a page of rows, a 64 KiB piece of the zip and the zip's
//! central directory (a few hundred bytes per file, so a range holds at most
//! [`MAX_EXPORT_MESSAGES`] messages): payloads are copied from the payload store as they are
//! read, whatever their size.

use std::io::{Read, Write};

use as2_domain::ValidationErrors;
use as2_domain::message::Message;
use as2_domain::pagination::PageRequest;
use as2_store::repo::messages::{MessageFilter, MessageSort, MessageWithMdn, SortKey};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::Channel;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zip::write::SimpleFileOptions;

use super::messages::{MessageDto, MessageEventDto};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::{QueryMap, only, time};
use crate::state::AppState;

/// The longest range one export covers.
pub const MAX_EXPORT_DAYS: i64 = 31;

/// The most messages one export holds (the zip's directory is kept until its end).
pub const MAX_EXPORT_MESSAGES: i64 = 10_000;

/// Rows read per query.
const PAGE: i64 = 100;

/// The piece of zip handed to the response at a time.
const PIECE: usize = 64 * 1024;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_messages))
}

/// The messages created in `[since, until)`, with payloads and raw MDNs, as a zip.
#[utoipa::path(get, path = "/v1/exports/messages", tag = "exports",
    params(("since" = String, Query, description = "RFC 3339 time: messages created at or after it"),
           ("until" = String, Query, description = "RFC 3339 time: messages created before it (at most 31 days after since, at most 10000 messages in the range)")),
    responses((status = 200, description = "A zip: messages.jsonl, payloads/, mdns/", content_type = "application/zip"),
              (status = 422, description = "A missing or bad range", body = Object)))]
async fn export_messages(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    export(state, caller.scope(), &query).await
}

/// The export of `scope`'s messages in the range `query` names (`since`, `until`), or the
/// 422 naming the parameter; the console's export form downloads through it too.
pub async fn export(
    state: AppState,
    scope: as2_store::Scope,
    query: &QueryMap,
) -> Result<Response, ApiError> {
    let (since, until) = range(query)?;
    let total = state
        .blocking("Message", move |s| {
            let one = PageRequest {
                page: 1,
                per_page: 1,
            };
            Ok(s.store()
                .messages()
                .list(scope, filter(since, until), one)?
                .1)
        })
        .await?;
    if total > MAX_EXPORT_MESSAGES {
        return Err(ValidationErrors::single(
            "until",
            format!(
                "This range holds {total} messages and an export takes at most {MAX_EXPORT_MESSAGES}; end it earlier"
            ),
        )
        .into());
    }
    let (mut sender, body) = Channel::<Bytes, std::io::Error>::new(4);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            runtime: runtime.clone(),
            sender: &mut sender,
            piece: Vec::with_capacity(PIECE),
        };
        let written = write_zip(&state, scope, since, until, &mut out).and_then(|()| out.flush());
        if let Err(error) = written {
            // the client sees a broken body, never a short zip that looks complete
            tracing::warn!(%error, "the message export stopped");
            sender.abort(error);
        }
    });
    let mut response = Body::new(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    let name = format!(
        "attachment; filename=\"messages-{}-{}.zip\"",
        since.format("%Y%m%dT%H%M%SZ"),
        until.format("%Y%m%dT%H%M%SZ")
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `since` and `until`, both required, in order, at most [`MAX_EXPORT_DAYS`] apart.
fn range(query: &QueryMap) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let mut errors = ValidationErrors::new();
    only(query, &["since", "until"], &mut errors);
    let since = time(query, "since", &mut errors);
    let until = time(query, "until", &mut errors);
    for (name, given) in [
        ("since", query.contains_key("since")),
        ("until", query.contains_key("until")),
    ] {
        if !given {
            errors.add(name, "This parameter is required");
        }
    }
    if let (Some(since), Some(until)) = (since, until) {
        if until <= since {
            errors.add("until", "The until time must be after the since time");
        } else if until - since > chrono::Duration::days(MAX_EXPORT_DAYS) {
            errors.add(
                "until",
                format!("An export covers at most {MAX_EXPORT_DAYS} days; split the range"),
            );
        }
    }
    errors.into_result(())?;
    match (since, until) {
        (Some(since), Some(until)) => Ok((since, until)),
        _ => Err(ApiError::internal(&std::io::Error::other(
            "range checked above",
        ))),
    }
}

/// The zip, written into `out` (two passes over the range: the lines, then the files).
fn write_zip(
    state: &AppState,
    scope: as2_store::Scope,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    out: &mut ChannelWriter<'_>,
) -> std::io::Result<()> {
    let mut zip = zip::ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("messages.jsonl", options)
        .map_err(std::io::Error::other)?;
    each_page(state, scope, since, until, |page| {
        for (message, mdn) in page {
            let events: Vec<MessageEventDto> = state
                .store()
                .messages()
                .events(scope, message.id)
                .map_err(std::io::Error::other)?
                .into_iter()
                .map(Into::into)
                .collect();
            let line = serde_json::json!({
                "message": MessageDto::new(message.clone(), mdn.clone()),
                "events": events,
            });
            serde_json::to_writer(&mut zip, &line)?;
            zip.write_all(b"\n")?;
        }
        Ok(())
    })?;
    each_page(state, scope, since, until, |page| {
        for (message, mdn) in page {
            if let Some(payload) = &message.payload {
                match state.payloads().open_ref(payload) {
                    Ok(mut payload) => {
                        let name = format!("payloads/{}/{}", message.id, file_name(message));
                        zip.start_file(name, options)
                            .map_err(std::io::Error::other)?;
                        copy(&mut payload, &mut zip)?;
                    }
                    // purged by retention since the page was read: its line says what it was
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            // a partner's MDN is an object of the payload store, ours is kept in its row
            let raw = match mdn.as_ref().and_then(|m| m.raw_key.as_deref()) {
                Some(key) => match state.payloads().read(key) {
                    Ok(raw) => Some(raw),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                },
                None if mdn.is_some() => state
                    .store()
                    .messages()
                    .mdn_raw(scope, message.id)
                    .map_err(std::io::Error::other)?,
                None => None,
            };
            if let Some(raw) = raw {
                zip.start_file(format!("mdns/{}.txt", message.id), options)
                    .map_err(std::io::Error::other)?;
                zip.write_all(&raw)?;
            }
        }
        Ok(())
    })?;
    zip.finish().map_err(std::io::Error::other)?;
    Ok(())
}

/// Calls `each` with every page of the range (messages with their MDNs), oldest first.
fn each_page(
    state: &AppState,
    scope: as2_store::Scope,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    mut each: impl FnMut(&[MessageWithMdn]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let filter = filter(since, until);
    for page in 1.. {
        let (messages, _) = state
            .store()
            .messages()
            .list_with_mdns(
                scope,
                filter.clone(),
                PageRequest {
                    page,
                    per_page: PAGE,
                },
            )
            .map_err(std::io::Error::other)?;
        each(&messages)?;
        if messages.len() < usize::try_from(PAGE).unwrap_or(usize::MAX) {
            break;
        }
    }
    Ok(())
}

/// The messages created in `[since, until)`, oldest first.
fn filter(since: DateTime<Utc>, until: DateTime<Utc>) -> MessageFilter {
    MessageFilter {
        created_after: Some(since),
        created_before: Some(until),
        sort: MessageSort {
            key: SortKey::CreatedAt,
            descending: false,
        },
        ..MessageFilter::default()
    }
}

/// The payload's file name inside the zip: the message's own without any path, or
/// `payload.bin`.
fn file_name(message: &Message) -> String {
    let name = message
        .filename
        .as_deref()
        .and_then(|f| f.rsplit(['/', '\\']).next())
        .map(|f| f.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|f| !f.is_empty() && f != "." && f != "..");
    name.unwrap_or_else(|| "payload.bin".to_owned())
}

fn copy(from: &mut dyn Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buffer = vec![0u8; PIECE];
    loop {
        match from.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => to.write_all(&buffer[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The zip's output: pieces of 64 KiB handed to the response body, waiting while the
/// client is slower than the export (the channel holds four pieces).
struct ChannelWriter<'a> {
    runtime: tokio::runtime::Handle,
    sender: &'a mut http_body_util::channel::Sender<Bytes, std::io::Error>,
    piece: Vec<u8>,
}

impl ChannelWriter<'_> {
    fn send_piece(&mut self) -> std::io::Result<()> {
        if self.piece.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::replace(
            &mut self.piece,
            Vec::with_capacity(PIECE),
        ));
        self.runtime
            .block_on(self.sender.send_data(piece))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl Write for ChannelWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = PIECE - self.piece.len();
        let taken = buf.len().min(room);
        self.piece.extend_from_slice(&buf[..taken]);
        if self.piece.len() == PIECE {
            self.send_piece()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_piece()
    }
}
