//! The payload store's S3 backend: objects `<prefix>/objects/ab/<key>` in one bucket,
//! through `object_store`'s S3 client (AWS S3 and compatible servers, path-style when an
//! endpoint is set). Whole-object calls live here; the streamed writer and reader in
//! `s3_io`. Keys arrive checked by `as2_store::payload::PayloadStore`.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use as2_store::payload::{BackendWriter, ListedPayload, PayloadBackend, is_key};

use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt as _};

use crate::s3_bridge::Bridge;
use crate::s3_config::{MIN_PART_SIZE, S3Config};
use crate::s3_io::{S3Reader, S3Writer};

/// A bucket and prefix, and the runtime its requests run on.
#[derive(Debug)]
pub(crate) struct S3Backend {
    pub(crate) client: Arc<AmazonS3>,
    pub(crate) bridge: Bridge,
    pub(crate) part_size: usize,
    bucket: String,
    /// `<prefix>/objects` (or `objects`).
    objects: String,
}

/// How long connecting to the object store may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one read of a body may wait for bytes: a stalled connection, not a slow one.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// The HTTP client's timeouts. object_store's default bounds a whole request at 30 s, body
/// included, which cuts the download of any payload that takes longer (a large file, or an
/// API client reading slowly through the stream's back-pressure): the whole-request bound is
/// off, a connection is bounded by [`CONNECT_TIMEOUT`] and a stall by [`READ_TIMEOUT`].
fn client_options() -> ClientOptions {
    ClientOptions::new()
        .with_timeout_disabled()
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_read_timeout(READ_TIMEOUT)
}

impl S3Backend {
    pub(crate) fn new(config: S3Config) -> io::Result<Self> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(config.region.as_deref().unwrap_or("us-east-1"))
            .with_client_options(client_options());
        if let Some(endpoint) = &config.endpoint {
            // An endpoint set on purpose (MinIO, Ceph, a local test server): path-style
            // requests, and plain HTTP only because the operator named an http:// URL.
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(id) = &config.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        if let Some(token) = &config.session_token {
            builder = builder.with_token(token);
        }
        for (name, value) in &config.credential_sources {
            if let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, value);
            }
        }
        let client = builder.build().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the S3 payload store cannot be configured: {e}"),
            )
        })?;
        let objects = if config.prefix.is_empty() {
            "objects".to_owned()
        } else {
            format!("{}/objects", config.prefix)
        };
        Ok(Self {
            client: Arc::new(client),
            bridge: Bridge::start()?,
            part_size: config.part_size.max(MIN_PART_SIZE),
            bucket: config.bucket,
            objects,
        })
    }

    fn describe(&self) -> String {
        format!(
            "s3://{}/{}",
            self.bucket,
            self.objects.trim_end_matches("objects")
        )
    }

    /// The object of a key (checked by the caller).
    pub(crate) fn location(&self, key: &str) -> Path {
        Path::from(format!("{}/{}/{key}", self.objects, &key[..2]))
    }

    pub(crate) fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        let client = self.client.clone();
        let location = self.location(key);
        let bytes = self.bridge.run(async move {
            let got = client.get(&location).await?;
            got.bytes().await
        })?;
        Ok(bytes.map_err(to_io)?.to_vec())
    }

    /// Deletes `keys` (checked by the caller) in bulk requests; missing ones are fine.
    pub(crate) fn delete_many(&self, keys: &[String]) -> io::Result<usize> {
        let client = self.client.clone();
        let locations: Vec<_> = keys.iter().map(|key| Ok(self.location(key))).collect();
        let results = self.bridge.run(async move {
            client
                .delete_stream(futures_util::stream::iter(locations).boxed())
                .collect::<Vec<_>>()
                .await
        })?;
        let mut deleted = 0;
        for result in results {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => deleted += 1,
                Err(e) => return Err(to_io(e)),
            }
        }
        Ok(deleted)
    }

    /// The objects whose keys start with `shard`.
    pub(crate) fn list(&self, shard: &str) -> io::Result<Vec<ListedPayload>> {
        let client = self.client.clone();
        let prefix = Path::from(format!("{}/{shard}", self.objects));
        let metas = self
            .bridge
            .run(async move { client.list(Some(&prefix)).try_collect::<Vec<_>>().await })?;
        Ok(metas
            .map_err(to_io)?
            .into_iter()
            .filter_map(|meta| {
                let key = meta.location.filename()?.to_owned();
                (is_key(&key) && key.starts_with(shard)).then(|| ListedPayload {
                    key,
                    modified: meta.last_modified.into(),
                })
            })
            .collect())
    }
}

/// The S3 backend as the payload store sees it.
#[derive(Debug)]
pub(crate) struct S3Payloads(pub(crate) Arc<S3Backend>);

impl PayloadBackend for S3Payloads {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn begin(&self, key: &str) -> io::Result<Box<dyn BackendWriter>> {
        Ok(Box::new(S3Writer::new(self.0.clone(), key)))
    }

    fn open_read(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(S3Reader::open(self.0.clone(), key)?))
    }

    fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        self.0.read(key)
    }

    fn delete_many(&self, keys: &[String]) -> io::Result<()> {
        self.0.delete_many(keys).map(drop)
    }

    fn list(&self, shard: &str) -> io::Result<Vec<ListedPayload>> {
        self.0.list(shard)
    }

    /// None on S3: an unfinished multipart upload is invisible, and the bucket's lifecycle
    /// rule removes it (docs/OPERATIONS.md).
    fn remove_stale_temporaries(&self, _cutoff: SystemTime) -> io::Result<usize> {
        Ok(0)
    }
}

/// An `object_store` error as an IO error: `NotFound` stays `NotFound`.
pub(crate) fn to_io(error: object_store::Error) -> io::Error {
    match error {
        object_store::Error::NotFound { .. } => {
            io::Error::new(io::ErrorKind::NotFound, "no such payload")
        }
        other => io::Error::other(other),
    }
}
