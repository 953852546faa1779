//! A round-robin TCP proxy on 127.0.0.1, what a load balancer in front of several gateways
//! is: each new connection goes to the next backend in turn, and a backend that refuses the
//! connection (its process is dead) is skipped for the next one. Bytes are forwarded as they
//! are; a backend that dies mid-connection closes the client's connection too.

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
    accepting: JoinHandle<()>,
}

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
        let shared = backends.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let candidates = shared.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let first = next.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(forward(client, candidates, first));
            }
        });
        Ok(Self {
            addr,
            backends,
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
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Connects `client` to the first of `candidates` from `first` on (in turn, wrapping) that
/// accepts, and forwards both ways until either side closes; with none, drops the client.
async fn forward(mut client: TcpStream, mut candidates: Vec<SocketAddr>, first: usize) {
    if candidates.is_empty() {
        return;
    }
    let turn = first % candidates.len();
    candidates.rotate_left(turn);
    for backend in candidates {
        if let Ok(mut upstream) = TcpStream::connect(backend).await {
            let _ = client.set_nodelay(true);
            let _ = upstream.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            return;
        }
    }
}
