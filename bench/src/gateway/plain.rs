//! The load generator's plain-HTTP sender: keep-alive connections driven by hyper's HTTP/1.1
//! client on one current-thread runtime, the requests prepared before the clock starts. Its
//! own CPU per message is then hyper writing one request and parsing one response on the
//! thread that owns the socket (reqwest's blocking client, used over HTTPS, hands every
//! request to a runtime thread of its own and back: two more thread switches per message on
//! the two cores the gateway is measured on).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use as2_core::message::BuiltMessage;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;

/// One message as a request, ready to send.
struct Prepared {
    headers: hyper::HeaderMap,
    body: Bytes,
}

/// The requests of `messages`, prepared once so that the measured window only sends them.
pub(crate) struct Requests {
    host: HeaderValue,
    path: String,
    prepared: Vec<Prepared>,
}

impl Requests {
    pub(crate) fn new(addr: SocketAddr, path: &str, messages: &[BuiltMessage]) -> Result<Self> {
        let prepared = messages
            .iter()
            .map(|m| {
                let mut headers = hyper::HeaderMap::new();
                for (name, value) in &m.headers {
                    headers.append(
                        HeaderName::try_from(name.as_str())?,
                        HeaderValue::try_from(value.as_str())?,
                    );
                }
                Ok(Prepared {
                    headers,
                    body: Bytes::from(m.body.clone()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            host: HeaderValue::try_from(addr.to_string())?,
            path: path.to_owned(),
            prepared,
        })
    }

    fn request(&self, index: usize) -> Option<Request<Full<Bytes>>> {
        let prepared = self.prepared.get(index)?;
        let mut request = Request::post(self.path.as_str())
            .body(Full::new(prepared.body.clone()))
            .ok()?;
        *request.headers_mut() = prepared.headers.clone();
        request
            .headers_mut()
            .insert(hyper::header::HOST, self.host.clone());
        Some(request)
    }
}

/// Sends every request over `connections` keep-alive connections to `addr`, each message
/// once, and returns each one's latency; fails if any was not answered 2xx with a body (a
/// sync MDN).
pub(crate) fn send_all(
    addr: SocketAddr,
    requests: &Arc<Requests>,
    connections: usize,
) -> Result<Vec<Duration>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..connections {
            tasks.spawn(connection(addr, requests.clone(), next.clone()));
        }
        let mut latencies = Vec::with_capacity(requests.prepared.len());
        while let Some(done) = tasks.join_next().await {
            latencies.extend(done??);
        }
        Ok(latencies)
    })
}

/// One connection: takes the next message until none is left.
async fn connection(
    addr: SocketAddr,
    requests: Arc<Requests>,
    next: Arc<AtomicUsize>,
) -> Result<Vec<Duration>> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .context("connecting to the gateway")?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(conn);
    let mut latencies = Vec::new();
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.request(index) else {
            break;
        };
        let sent = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        latencies.push(sent.elapsed());
        if !status.is_success() || body.is_empty() {
            bail!(
                "message {index}: answered {status} with {} bytes",
                body.len()
            );
        }
    }
    drop(sender);
    driver.await??;
    Ok(latencies)
}
