//! A round-robin TCP proxy on 127.0.0.1, what a load balancer in front of several gateways
//! is: each new connection goes to the next backend in turn, and a backend that refuses the
//! connection (its process is dead) is skipped for the next one. Bytes are forwarded as they
//! are; a backend that dies mid-connection closes the client's connection too.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running proxy; it stops accepting when dropped.
#[derive(Debug)]
pub struct RoundRobin {
    /// Where clients connect.
    pub addr: SocketAddr,
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    connections: Connections,
    accepting: JoinHandle<()>,
}

/// Connections forwarded so far, by backend.
type Connections = Arc<Mutex<BTreeMap<SocketAddr, usize>>>;

impl RoundRobin {
    /// Starts a proxy with no backends yet (see [`RoundRobin::add`]).
    ///
    /// # Errors
    /// No port of 127.0.0.1 can be bound.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let backends: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
        let next = Arc::new(AtomicUsize::new(0));
        let connections = Connections::default();
        let (shared, counts) = (backends.clone(), connections.clone());
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let candidates = shared.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let first = next.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(forward(client, candidates, first, counts.clone()));
            }
        });
        Ok(Self {
            addr,
            backends,
            connections,
            accepting,
        })
    }

    /// Adds a backend to the rotation.
    pub fn add(&self, backend: SocketAddr) {
        self.backends
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(backend);
    }

    /// How many connections went to `backend` so far.
    pub fn connections_to(&self, backend: SocketAddr) -> usize {
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&backend)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Connects `client` to the first of `candidates` from `first` on (in turn, wrapping) that
/// accepts, counts it in `connections`, and forwards both ways until either side closes;
/// with none, drops the client.
async fn forward(
    mut client: TcpStream,
    mut candidates: Vec<SocketAddr>,
    first: usize,
    connections: Connections,
) {
    if candidates.is_empty() {
        return;
    }
    let turn = first % candidates.len();
    candidates.rotate_left(turn);
    for backend in candidates {
        if let Ok(mut upstream) = TcpStream::connect(backend).await {
            *connections
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(backend)
                .or_default() += 1;
            let _ = client.set_nodelay(true);
            let _ = upstream.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            return;
        }
    }
}
