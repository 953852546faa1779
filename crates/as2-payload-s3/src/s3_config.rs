//! The S3 backend's settings: bucket and prefix from `s3://bucket/prefix`, credentials,
//! region and endpoint from the standard AWS variables. The secret key never reaches a log
//! line: `Debug` shows it as `<redacted>`.

use std::fmt;
use std::io;

/// How to reach an S3-compatible bucket.
#[derive(Clone, Default)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// The prefix inside the bucket (no leading or trailing `/`; empty: the bucket's root).
    pub prefix: String,
    /// `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: a non-AWS server (MinIO, Ceph, Garage),
    /// path-style. Plain `http://` is allowed only here, when set explicitly.
    pub endpoint: Option<String>,
    /// `AWS_REGION` or `AWS_DEFAULT_REGION` (default `us-east-1`).
    pub region: Option<String>,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<String>,
    /// Other standard AWS credential settings passed on as they are (web identity, ECS
    /// container credentials), as `(variable, value)`.
    pub credential_sources: Vec<(String, String)>,
    /// The size of a multipart upload's parts, and the largest payload sent in one PUT.
    pub part_size: usize,
}

/// The part size of multipart uploads: what a writer holds in memory per part.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;

/// S3's smallest part (every part but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// Credential settings of the AWS SDKs that are passed through unchanged.
const CREDENTIAL_SOURCES: [&str; 6] = [
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

impl S3Config {
    /// The bucket and prefix of `url` (`s3://bucket/prefix`), the rest from `env` (the
    /// process environment in the binaries; a map in tests).
    ///
    /// # Errors
    /// `url` is not `s3://bucket[/prefix]`.
    pub fn from_url(url: &str, env: impl Fn(&str) -> Option<String>) -> io::Result<Self> {
        let invalid = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the payload store must be s3://bucket/prefix, not {url:?}"),
            )
        };
        let rest = url.strip_prefix("s3://").ok_or_else(invalid)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || bucket.contains(['?', '#', '@', ':']) {
            return Err(invalid());
        }
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: normalize_prefix(prefix),
            endpoint: get("AWS_ENDPOINT_URL_S3").or_else(|| get("AWS_ENDPOINT_URL")),
            region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")),
            access_key_id: get("AWS_ACCESS_KEY_ID"),
            secret_access_key: get("AWS_SECRET_ACCESS_KEY"),
            session_token: get("AWS_SESSION_TOKEN"),
            credential_sources: CREDENTIAL_SOURCES
                .iter()
                .filter_map(|name| get(name).map(|value| ((*name).to_owned(), value)))
                .collect(),
            part_size: DEFAULT_PART_SIZE,
        })
    }
}

/// `a//b/` -> `a/b`: the prefix as path segments without empty ones.
pub(crate) fn normalize_prefix(prefix: &str) -> String {
    prefix
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |set: bool| if set { Some("<redacted>") } else { None };
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &redacted(self.secret_access_key.is_some()),
            )
            .field("session_token", &redacted(self.session_token.is_some()))
            .field(
                "credential_sources",
                &self
                    .credential_sources
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("part_size", &self.part_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn bucket_prefix_and_the_aws_variables_are_read() {
        let config = S3Config::from_url(
            "s3://payloads/as2//prod/",
            env(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
                ("AWS_DEFAULT_REGION", "eu-west-1"),
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/as2"),
            ]),
        )
        .unwrap();
        assert_eq!(config.bucket, "payloads");
        assert_eq!(config.prefix, "as2/prod");
        assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(config.region.as_deref(), Some("eu-west-1"));
        assert_eq!(config.access_key_id.as_deref(), Some("AKIDEXAMPLE"));
        assert_eq!(config.secret_access_key.as_deref(), Some("wJalrXUtnFEMI"));
        assert_eq!(
            config.credential_sources,
            [(
                "AWS_ROLE_ARN".to_owned(),
                "arn:aws:iam::1:role/as2".to_owned()
            )]
        );
        assert_eq!(config.part_size, DEFAULT_PART_SIZE);
        let shown = format!("{config:?}");
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn the_s3_specific_endpoint_wins_and_the_prefix_may_be_empty() {
        let config = S3Config::from_url(
            "s3://bucket",
            env(&[
                ("AWS_ENDPOINT_URL", "https://general.example"),
                ("AWS_ENDPOINT_URL_S3", "https://s3.example"),
            ]),
        )
        .unwrap();
        assert_eq!(config.prefix, "");
        assert_eq!(config.endpoint.as_deref(), Some("https://s3.example"));
    }

    #[test]
    fn what_is_not_an_s3_url_is_refused() {
        for bad in [
            "s3://",
            "s3:///prefix",
            "http://bucket/x",
            "s3://user@bucket/x",
        ] {
            assert!(S3Config::from_url(bad, env(&[])).is_err(), "{bad}");
        }
    }
}
