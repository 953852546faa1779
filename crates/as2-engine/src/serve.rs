//! The server loop of both listeners, the API's and the gateway's (and of the end-to-end
//! harness): HTTP/1.1 on hyper, over TLS when [`Transport::tls`] is set, with a header read
//! timeout, so a client that trickles its request line and headers (or opens a connection and
//! sends nothing) is cut off (the TLS handshake has the same bound); the peer address is handed
//! to the router as axum's `ConnectInfo` and the client address derived from it and the
//! forwarding headers of a trusted proxy as [`ClientAddr`]; at most `max_connections` are open
//! at once (beyond, new ones wait in the kernel's backlog instead of costing memory); shutdown
//! stops accepting and lets requests in flight end. AS2 is HTTP/1.1: HTTP/2 is not offered.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use as2_domain::forwarded::{ClientAddr, ForwardingHeaders, TrustedProxies};

use crate::tls::PeerCertificate;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// How long a client may take to send a request's line and headers
    /// (`AS2_HEADER_TIMEOUT_SECS`); an idle kept-alive connection is closed after it too.
    pub header_read_timeout: Duration,
    /// How long shutdown waits for requests in flight before it gives up on them.
    pub shutdown_grace: Duration,
    /// Connections open at once (`AS2_MAX_CONNECTIONS`); the next one is accepted only when
    /// one of them ends.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// What a listener speaks and whom it believes.
#[derive(Clone, Default)]
pub struct Transport {
    /// TLS (`None`: plain HTTP).
    pub tls: Option<TlsAcceptor>,
    /// The proxies whose forwarding headers are believed (`AS2_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("tls", &self.tls.is_some())
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// Serves `app` over plain HTTP on `listener` until `shutdown` completes, then waits up to
/// [`ServeOptions::shutdown_grace`] for the connections still open.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, app, options, Transport::default(), shutdown).await;
}

/// Serves `app` on `listener` with `transport` until `shutdown` completes, then waits up to
/// [`ServeOptions::shutdown_grace`] for the connections still open.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    transport: Transport,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    loop {
        // a free slot first: at the cap, connections wait in the backlog, unread
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // out of file descriptors, say: wait a little rather than spin
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Nagle's algorithm held the second of two small writes (a TLS handshake's flights)
        // until the client's delayed ACK: 40 ms on every new HTTPS connection
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, %remote, "could not set TCP_NODELAY");
        }
        let connection = Connection {
            http: http.clone(),
            watcher: graceful.watcher(),
            app: app.clone(),
            remote,
            proxies: Arc::new(transport.trusted_proxies.clone()),
            peer: None,
        };
        let tls = transport.tls.clone();
        let handshake_timeout = options.header_read_timeout;
        tokio::spawn(async move {
            match tls {
                None => connection.run(stream).await,
                Some(tls) => {
                    match tokio::time::timeout(handshake_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let peer = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|chain| chain.first())
                                .map(|leaf| PeerCertificate(Arc::from(leaf.as_ref())));
                            Connection { peer, ..connection }.run(stream).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %remote, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; leaving them");
    }
}

/// One accepted connection, ready to be served once its stream is (after TLS, if any).
struct Connection {
    http: hyper::server::conn::http1::Builder,
    watcher: Watcher,
    app: Router,
    remote: SocketAddr,
    proxies: Arc<TrustedProxies>,
    /// The client certificate presented in the TLS handshake, if any.
    peer: Option<PeerCertificate>,
}

impl Connection {
    async fn run<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Self {
            http,
            watcher,
            app,
            remote,
            proxies,
            peer,
        } = self;
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let client = client_addr(&proxies, remote, request.headers());
            let extensions = request.extensions_mut();
            extensions.insert(ConnectInfo::<SocketAddr>(remote));
            extensions.insert(client);
            if let Some(peer) = &peer {
                extensions.insert(peer.clone());
            }
            let app = app.clone();
            async move {
                let response = app.oneshot(request.map(Body::new)).await;
                Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
            }
        });
        let connection = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, %remote, "connection ended with an error");
        }
    }
}

/// The client of a request from `remote` (the forwarding headers are read only when
/// `remote` is a trusted proxy).
fn client_addr(proxies: &TrustedProxies, remote: SocketAddr, headers: &HeaderMap) -> ClientAddr {
    if !proxies.trusts(remote.ip()) {
        return proxies.client(remote.ip(), ForwardingHeaders::default());
    }
    let lines = |name: &str| -> Vec<&str> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    };
    let (forwarded, for_, proto) = (
        lines("forwarded"),
        lines("x-forwarded-for"),
        lines("x-forwarded-proto"),
    );
    proxies.client(
        remote.ip(),
        ForwardingHeaders {
            forwarded: &forwarded,
            x_forwarded_for: &for_,
            x_forwarded_proto: &proto,
        },
    )
}
