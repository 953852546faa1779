//! `/v1/exports/messages`: a tenant's messages and their evidence in a date range, as a zip
//! streamed while it is written: `messages.jsonl` (one line per message: the message as
//! `GET /v1/messages/{id}` shows it, with its MDN and its timeline), then
//! `payloads/<msg id>/<file name>` and `mdns/<msg id>.txt` (the raw MDN, ours or the
//! partner's), and last `manifest.json` (the range, the count, whether the part is complete).
//! What is held is a page of rows, a 64 KiB piece of the zip and the zip's central directory
//! (a few hundred bytes per file, so one export holds at most [`MAX_EXPORT_MESSAGES`]
//! messages; a larger range comes in parts, `export_part.rs`): payloads are copied from the
//! payload store as they are read, whatever their size.

use std::io::{Read, Write};

use as2_domain::message::Message;
use as2_store::repo::messages::MessageWithMdn;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::Channel;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zip::write::SimpleFileOptions;

use super::export_part::{ExportQuery, Manifest, Part, plan};
pub use super::export_part::{MAX_EXPORT_DAYS, MAX_EXPORT_MESSAGES};
use super::messages::{MessageDto, MessageEventDto};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::QueryMap;
use crate::state::AppState;

/// The header naming the next part's cursor.
pub const NEXT_AFTER: &str = "x-export-next-after";

/// Rows read per query.
const PAGE: usize = 100;

/// The piece of zip handed to the response at a time.
const PIECE: usize = 64 * 1024;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_messages))
}

/// The messages created in `[since, until)`, with payloads and raw MDNs, as a zip.
///
/// A range of more than `limit` messages (10000 by default) comes in parts: each names the
/// next in its `Link` and `X-Export-Next-After` headers and its `manifest.json`.
#[utoipa::path(get, path = "/v1/exports/messages", tag = "exports",
    params(("since" = String, Query, description = "RFC 3339 time: messages created at or after it"),
           ("until" = String, Query, description = "RFC 3339 time: messages created before it (at most 31 days after since)"),
           ("after" = Option<String>, Query, description = "The last message id (msg_…) of the previous part: this part holds the messages after it in (created_at, id) order; what X-Export-Next-After and the Link header give"),
           ("limit" = Option<i64>, Query, description = "The most messages of this part, 1 to 10000 (10000 by default)")),
    responses((status = 200, description = "A zip: messages.jsonl, payloads/, mdns/, manifest.json (complete: false and next_after when more messages of the range remain)", content_type = "application/zip",
                headers(("Link" = String, description = "<…&after=msg_…>; rel=\"next\": the next part's URL, when more messages of the range remain"),
                        ("X-Export-Next-After" = String, description = "The next part's after cursor, when more messages of the range remain"))),
              (status = 422, description = "A missing or bad range, after or limit", body = Object)))]
async fn export_messages(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    export(state, caller.scope(), &query, "/v1/exports/messages").await
}

/// The export of `scope`'s messages in the range `query` names (`since`, `until`, `after`,
/// `limit`), or the 422 naming the parameter; the console's export form downloads through
/// it too. When more messages remain, the `Link` header names `base` with the next part's
/// query, and `X-Export-Next-After` its cursor.
pub async fn export(
    state: AppState,
    scope: as2_store::Scope,
    query: &QueryMap,
    base: &str,
) -> Result<Response, ApiError> {
    let query = ExportQuery::parse(query)?;
    let part = state
        .blocking("Message", {
            let query = query.clone();
            move |s| plan(s, scope, &query)
        })
        .await?;
    let name = format!(
        "attachment; filename=\"messages-{}-{}{}.zip\"",
        query.since.format("%Y%m%dT%H%M%SZ"),
        query.until.format("%Y%m%dT%H%M%SZ"),
        query
            .after
            .map(|after| format!("-after-{after}"))
            .unwrap_or_default()
    );
    let next_part = part.next_after.map(|last| {
        let target = format!("<{base}?{}>; rel=\"next\"", query.next_query(last));
        [
            (header::LINK, target),
            (HeaderName::from_static(NEXT_AFTER), last.to_string()),
        ]
    });
    let (mut sender, body) = Channel::<Bytes, std::io::Error>::new(4);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            runtime: runtime.clone(),
            sender: &mut sender,
            piece: Vec::with_capacity(PIECE),
        };
        let written = write_zip(&state, scope, &query, &part, &mut out).and_then(|()| out.flush());
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
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    for (name, value) in next_part.into_iter().flatten() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// The zip, written into `out` (two passes over the range: the lines, then the files).
fn write_zip(
    state: &AppState,
    scope: as2_store::Scope,
    query: &ExportQuery,
    part: &Part,
    out: &mut ChannelWriter<'_>,
) -> std::io::Result<()> {
    let mut zip = zip::ZipWriter::new_stream(out);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("messages.jsonl", options)
        .map_err(std::io::Error::other)?;
    let mut count = 0;
    each_page(state, scope, part, |page| {
        for (message, mdn) in page {
            count += 1;
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
    each_page(state, scope, part, |page| {
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
    zip.start_file("manifest.json", options)
        .map_err(std::io::Error::other)?;
    serde_json::to_writer_pretty(&mut zip, &Manifest::new(query, part, count))?;
    zip.finish().map_err(std::io::Error::other)?;
    Ok(())
}

/// Calls `each` with every page of the part's messages with their MDNs, in order.
fn each_page(
    state: &AppState,
    scope: as2_store::Scope,
    part: &Part,
    mut each: impl FnMut(&[MessageWithMdn]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    for ids in part.ids.chunks(PAGE) {
        let messages = state
            .store()
            .messages()
            .with_mdns(scope, ids)
            .map_err(std::io::Error::other)?;
        each(&messages)?;
    }
    Ok(())
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
