//! The worker's HTTP: one POST through the platform's outbound client (the destination
//! policy on every address, no redirects), its answer read within a limit, and transport
//! errors as sentences. (An outbound message's streamed body: `send_message`.)

use std::time::Duration;

use crate::http_client;

use super::Worker;
use crate::outbound::HttpOutcome;

/// Largest answer read from a partner or webhook endpoint (an MDN is a few KB).
const MAX_ANSWER: usize = 10 * 1024 * 1024;

impl Worker {
    pub(super) async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> HttpOutcome {
        post_with(&self.http, url, headers, body, timeout).await
    }
}

/// One POST through `client` (the platform's, or a partner's with its own TLS).
pub(super) async fn post_with(
    client: &http_client::OutboundClient,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> HttpOutcome {
    let mut request = match client.post(url) {
        Ok(request) => request.timeout(timeout).body(body),
        Err(refused) => return HttpOutcome::Refused(refused.to_string()),
    };
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    send(request).await
}

/// Sends `request` (built on an [`http_client::OutboundClient`]'s) and reads its answer
/// within the limit.
pub(super) async fn send(request: reqwest::RequestBuilder) -> HttpOutcome {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return match http_client::refusal(&e) {
                Some(refused) => HttpOutcome::Refused(refused.to_string()),
                None => HttpOutcome::Transport(describe(&e)),
            };
        }
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    match read_limited(response).await {
        Ok(body) => HttpOutcome::Answer {
            status,
            headers,
            body,
        },
        Err(reason) => HttpOutcome::Transport(reason),
    }
}

/// The `Location` of an answer, if it has one.
pub(super) fn location(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        .map(|(_, value)| value.as_str())
}

/// A transport error as a sentence (reqwest's Display hides the cause chain).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER {
                    return Err(format!("the answer is larger than {MAX_ANSWER} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(describe(&e)),
        }
    }
}
