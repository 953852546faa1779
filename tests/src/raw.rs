//! Raw HTTP/1.1 over a blocking TCP socket, for tests that must control what a client sends
//! and when: headers without the body they announce, a body streamed until the server stops
//! reading, bytes trickled slowly. The answer is read on a second thread while the body is
//! still being sent, so an early refusal is seen even when the server then resets the
//! connection.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the client sends after the request head.
#[derive(Debug, Clone)]
pub enum Body {
    /// Nothing: the head only (the body it announces never comes).
    Nothing,
    /// These bytes, then nothing more while the connection stays open.
    Partial(Vec<u8>),
    /// `total` bytes of zeros in 1 MiB pieces, in chunked framing when `chunked`, until all
    /// is sent or the server answers or stops reading.
    Stream {
        /// Bytes of body.
        total: u64,
        /// Chunked transfer encoding (else the head carries a `Content-Length`).
        chunked: bool,
    },
    /// `piece` every `every`, `times` times (a slow client).
    Trickle {
        /// What is sent each time.
        piece: Vec<u8>,
        /// The pause between two pieces.
        every: Duration,
        /// How many pieces.
        times: usize,
    },
}

/// What happened on the connection.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// The final status code, when an answer was read.
    pub status: Option<u16>,
    /// Whether an interim `100 Continue` came before it.
    pub continued: bool,
    /// Everything read, as text.
    pub text: String,
    /// Body bytes the client managed to send.
    pub sent: u64,
    /// The server closed or reset the connection.
    pub closed: bool,
    /// The connection was reset (rather than closed cleanly).
    pub reset: bool,
    /// From the first byte sent to the end of reading.
    pub elapsed: Duration,
}

impl Exchange {
    /// The answer's body (after the final head).
    pub fn body(&self) -> &str {
        self.text
            .rsplit_once("\r\n\r\n")
            .map_or("", |(_, body)| body)
    }

    /// A header of the final answer, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// A request head: `method path`, `Host`, the given headers, and the blank line.
pub fn head(addr: SocketAddr, path: &str, headers: &[(String, String)]) -> String {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Opens a connection and sends `bytes` (a head, perhaps part of a body); the open socket.
///
/// # Errors
/// The connection or the write failed.
pub fn open(addr: SocketAddr, bytes: &[u8]) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr)?;
    stream.write_all(bytes)?;
    Ok(stream)
}

/// Sends `head` then `body` on a new connection while reading the answer until the server
/// closes the connection or `wait` has passed after the client stopped sending; what
/// happened.
///
/// # Errors
/// The connection could not be made or the head not sent.
pub fn exchange(
    addr: SocketAddr,
    head: &str,
    body: &Body,
    wait: Duration,
) -> std::io::Result<Exchange> {
    let started = Instant::now();
    let mut stream = open(addr, head.as_bytes())?;
    let answered = Arc::new(AtomicBool::new(false));
    let done_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mut reader = stream.try_clone()?;
    let (seen, done) = (answered.clone(), done_at.clone());
    let reading = std::thread::spawn(move || {
        let mut text = Vec::new();
        let (mut closed, mut reset) = (false, false);
        let mut buf = vec![0u8; 64 * 1024];
        // Short reads, so that the wait can start when the sender is done.
        let _ = reader.set_read_timeout(Some(Duration::from_millis(50)));
        loop {
            match reader.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => {
                    text.extend_from_slice(&buf[..n]);
                    if final_status(&String::from_utf8_lossy(&text)).0.is_some() {
                        seen.store(true, Ordering::SeqCst);
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    let finished = done
                        .lock()
                        .ok()
                        .and_then(|d| *d)
                        .is_some_and(|at| at.elapsed() > wait);
                    if finished {
                        break;
                    }
                }
                Err(e) => {
                    reset = e.kind() == ErrorKind::ConnectionReset;
                    closed = true;
                    break;
                }
            }
        }
        // the sender stops too
        seen.store(true, Ordering::SeqCst);
        (text, closed, reset)
    });
    let sent = send_body(&mut stream, body, &answered);
    if let Ok(mut done) = done_at.lock() {
        *done = Some(Instant::now());
    }
    let (text, closed, reset) = reading.join().unwrap_or_default();
    let text = String::from_utf8_lossy(&text).into_owned();
    let (status, continued) = final_status(&text);
    Ok(Exchange {
        status,
        continued,
        text,
        sent,
        closed,
        reset,
        elapsed: started.elapsed(),
    })
}

/// Sends the body until done, answered or broken; the body bytes sent.
fn send_body(stream: &mut TcpStream, body: &Body, answered: &AtomicBool) -> u64 {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(20)));
    let mut sent = 0u64;
    match body {
        Body::Nothing => {}
        Body::Partial(bytes) => {
            if stream.write_all(bytes).is_ok() {
                sent = bytes.len() as u64;
            }
        }
        Body::Stream { total, chunked } => {
            let piece = vec![0u8; 1 << 20];
            while sent < *total && !answered.load(Ordering::SeqCst) {
                let n = usize::try_from((*total - sent).min(piece.len() as u64)).unwrap_or(0);
                let ok = if *chunked {
                    stream
                        .write_all(format!("{n:x}\r\n").as_bytes())
                        .and_then(|()| stream.write_all(&piece[..n]))
                        .and_then(|()| stream.write_all(b"\r\n"))
                } else {
                    stream.write_all(&piece[..n])
                };
                if ok.is_err() {
                    break;
                }
                sent += n as u64;
            }
            if *chunked && sent == *total {
                let _ = stream.write_all(b"0\r\n\r\n");
            }
        }
        Body::Trickle {
            piece,
            every,
            times,
        } => {
            for _ in 0..*times {
                if answered.load(Ordering::SeqCst) || stream.write_all(piece).is_err() {
                    break;
                }
                sent += piece.len() as u64;
                std::thread::sleep(*every);
            }
        }
    }
    sent
}

/// The final (non-100) status in `text`, and whether a `100 Continue` came first.
fn final_status(text: &str) -> (Option<u16>, bool) {
    let mut continued = false;
    for line in text.split("\r\n") {
        let Some(rest) = line.strip_prefix("HTTP/1.1 ") else {
            continue;
        };
        let Some(code) = rest.get(..3).and_then(|c| c.parse::<u16>().ok()) else {
            continue;
        };
        if code == 100 {
            continued = true;
        } else {
            return (Some(code), continued);
        }
    }
    (None, continued)
}

/// The peak resident memory of process `pid` (`VmHWM`), in bytes.
///
/// # Errors
/// `/proc/<pid>/status` could not be read or has no `VmHWM`.
pub fn peak_rss(pid: u32) -> std::io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| std::io::Error::other("no VmHWM in /proc/<pid>/status"))
}
