//! A raw HTTP server on 127.0.0.1 for tests of outbound requests: it counts the TCP
//! connections it accepts (so a test can show that nothing reached it) and answers every
//! request with one status, and a `Location` when given (a redirect).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A running counting server.
#[derive(Debug, Clone)]
pub struct CountingServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
}

impl CountingServer {
    /// Starts a server answering `status` (with `Location: location` when given).
    ///
    /// # Errors
    /// No port could be bound.
    pub async fn start(status: u16, location: Option<String>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(socket, status, location.clone()));
            }
        });
        Ok(Self { port, accepted })
    }

    /// The TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// Reads one request (the head, then the body its `Content-Length` announces) and answers.
async fn answer(mut socket: tokio::net::TcpStream, status: u16, location: Option<String>) {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 8192];
    let body_start = loop {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
        if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&seen[..body_start]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while seen.len() < body_start + length {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    }
    let location = location
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    let reply = format!(
        "HTTP/1.1 {status} Answer\r\n{location}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = socket.write_all(reply.as_bytes()).await;
    let _ = socket.shutdown().await;
}
