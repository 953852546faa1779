//! The bridge from the payload store's synchronous interface to `object_store`'s async one:
//! the S3 backend owns a small tokio runtime on threads of its own, and each blocking call
//! spawns its future there and waits on a std channel.
//!
//! Why this way: callers are synchronous and run on many kinds of threads (tokio's blocking
//! pool, tests' plain threads, now and then an async worker). `Handle::block_on` from inside
//! another runtime panics ("cannot start a runtime from within a runtime"); spawning onto a
//! runtime that is always there and waiting on a std channel works from any thread and
//! never panics. The runtime is driven and finally dropped on its own plain thread, so
//! dropping the store inside an async context is fine too.

use std::future::Future;
use std::io;
use std::sync::mpsc;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

/// A runtime for S3 requests, running until the bridge is dropped.
#[derive(Debug)]
pub(super) struct Bridge {
    handle: Handle,
    /// Dropping it ends the runtime's thread.
    _stop: oneshot::Sender<()>,
}

/// The runtime's worker threads: S3 calls are IO-bound, a few threads carry many of them.
const WORKER_THREADS: usize = 2;

impl Bridge {
    /// Starts the runtime.
    pub(super) fn start() -> io::Result<Self> {
        let (handle_tx, handle_rx) = mpsc::sync_channel(1);
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("as2-s3".into())
            .spawn(move || {
                let runtime = Builder::new_multi_thread()
                    .worker_threads(WORKER_THREADS)
                    .thread_name("as2-s3-worker")
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        let _ = handle_tx.send(Ok(runtime.handle().clone()));
                        runtime.block_on(async {
                            let _ = stopped.await;
                        });
                    }
                    Err(e) => {
                        let _ = handle_tx.send(Err(e));
                    }
                }
            })?;
        let handle = handle_rx
            .recv()
            .map_err(|_| io::Error::other("the S3 runtime did not start"))??;
        Ok(Self {
            handle,
            _stop: stop,
        })
    }

    /// Runs `future` on the runtime and waits for its output.
    pub(super) fn run<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> io::Result<T> {
        self.spawn(future)
            .recv()
            .map_err(|_| io::Error::other("the S3 request was cancelled"))
    }

    /// Starts `future` on the runtime; its output arrives on the returned channel.
    pub(super) fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> mpsc::Receiver<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx
    }

    /// Starts `future` on the runtime and does not wait for it (a clean-up).
    pub(super) fn detach(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.handle.spawn(future);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_from_a_plain_thread() {
        let bridge = Bridge::start().unwrap();
        assert_eq!(bridge.run(async { 6 * 7 }).unwrap(), 42);
    }

    #[test]
    fn runs_and_drops_from_inside_another_runtime() {
        let outer = Builder::new_current_thread().build().unwrap();
        outer.block_on(async {
            let bridge = Bridge::start().unwrap();
            assert_eq!(bridge.run(async { 1 + 1 }).unwrap(), 2);
            drop(bridge);
        });
    }
}
