//! Streamed writes and reads of S3 objects in bounded memory.
//!
//! The writer buffers up to one part: a payload that fits is sent as one PUT at `finish`; a
//! larger one becomes a multipart upload whose parts go up while the payload is still being
//! written, at most [`PARTS_IN_FLIGHT`] at once (memory: one part being filled plus those in
//! flight). The object exists only once `finish` has completed the upload; a writer dropped
//! before aborts its upload, leaving nothing visible.
//!
//! The reader holds the GET's body stream and pulls one chunk per `read` through the bridge.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStoreExt as _, PutPayload};

use as2_store::payload::BackendWriter;

use crate::s3::{S3Backend, to_io};

/// Parts uploaded at once by one writer.
pub(crate) const PARTS_IN_FLIGHT: usize = 2;

type PartResult = Result<(), object_store::Error>;

/// A payload on its way into an object.
#[derive(Debug)]
pub(crate) struct S3Writer {
    backend: Arc<S3Backend>,
    location: Path,
    buffer: Vec<u8>,
    upload: Option<Box<dyn MultipartUpload>>,
    in_flight: VecDeque<Receiver<PartResult>>,
}

impl S3Writer {
    pub(crate) fn new(backend: Arc<S3Backend>, key: &str) -> Self {
        let location = backend.location(key);
        Self {
            backend,
            location,
            buffer: Vec::new(),
            upload: None,
            in_flight: VecDeque::new(),
        }
    }

    /// Sends the buffer as the next part (starting the multipart upload with the first).
    fn send_part(&mut self) -> io::Result<()> {
        if self.upload.is_none() {
            let client = self.backend.client.clone();
            let location = self.location.clone();
            let upload = self
                .backend
                .bridge
                .run(async move { client.put_multipart(&location).await })?
                .map_err(to_io)?;
            self.upload = Some(upload);
        }
        while self.in_flight.len() >= PARTS_IN_FLIGHT {
            self.wait_oldest_part()?;
        }
        let part = PutPayload::from(std::mem::take(&mut self.buffer));
        let Some(upload) = self.upload.as_mut() else {
            return Err(io::Error::other("the multipart upload did not start"));
        };
        let sending = upload.put_part(part);
        self.in_flight.push_back(self.backend.bridge.spawn(sending));
        Ok(())
    }

    fn wait_oldest_part(&mut self) -> io::Result<()> {
        if let Some(part) = self.in_flight.pop_front() {
            part.recv()
                .map_err(|_| io::Error::other("the S3 part upload was cancelled"))?
                .map_err(to_io)?;
        }
        Ok(())
    }
}

impl BackendWriter for S3Writer {
    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        let part_size = self.backend.part_size;
        while !buf.is_empty() {
            let take = buf.len().min(part_size - self.buffer.len());
            self.buffer.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.buffer.len() == part_size {
                self.send_part()?;
            }
        }
        Ok(())
    }

    /// Completes the object: one PUT, or the last part and the multipart completion.
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let Some(mut upload) = self.upload.take() else {
            let client = self.backend.client.clone();
            let location = self.location.clone();
            let payload = PutPayload::from(std::mem::take(&mut self.buffer));
            self.backend
                .bridge
                .run(async move { client.put(&location, payload).await })?
                .map_err(to_io)?;
            return Ok(());
        };
        let result = (|| {
            if !self.buffer.is_empty() {
                self.in_flight.push_back(
                    self.backend
                        .bridge
                        .spawn(upload.put_part(std::mem::take(&mut self.buffer).into())),
                );
            }
            while !self.in_flight.is_empty() {
                self.wait_oldest_part()?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            self.upload = Some(upload);
            return Err(e);
        }
        let (upload, completed) = self.backend.bridge.run(async move {
            let completed = upload.complete().await;
            (upload, completed)
        })?;
        if let Err(e) = completed {
            self.upload = Some(upload);
            return Err(to_io(e));
        }
        Ok(())
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        if let Some(mut upload) = self.upload.take() {
            self.backend.bridge.detach(async move {
                if let Err(e) = upload.abort().await {
                    tracing::warn!(error = %e, "could not abort an unfinished multipart upload");
                }
            });
        }
    }
}

/// A GET's body, read as it arrives.
pub(crate) struct S3Reader {
    backend: Arc<S3Backend>,
    body: Option<BoxStream<'static, Result<Bytes, object_store::Error>>>,
    chunk: Bytes,
}

impl std::fmt::Debug for S3Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Reader")
            .field("pending", &self.chunk.len())
            .finish_non_exhaustive()
    }
}

impl S3Reader {
    /// Starts the GET of `key` (checked by the caller); `NotFound` if there is no object.
    pub(crate) fn open(backend: Arc<S3Backend>, key: &str) -> io::Result<Self> {
        let client = backend.client.clone();
        let location = backend.location(key);
        let got = backend
            .bridge
            .run(async move { client.get(&location).await })?
            .map_err(to_io)?;
        Ok(Self {
            backend,
            body: Some(got.into_stream()),
            chunk: Bytes::new(),
        })
    }
}

impl Read for S3Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            let Some(mut body) = self.body.take() else {
                return Ok(0);
            };
            let (body, next) = self.backend.bridge.run(async move {
                let next = body.next().await;
                (body, next)
            })?;
            match next {
                None => return Ok(0),
                Some(chunk) => {
                    self.chunk = chunk.map_err(to_io)?;
                    self.body = Some(body);
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}
