//! `AS2_PAYLOAD_STORE`: the one setting that chooses the payload store. Unset or empty: the
//! file system under the default directory (`<AS2_DATA_DIR>/payloads`); a path or
//! `file:///path`: the file system there; `s3://bucket/prefix`: that bucket, with
//! credentials, region and endpoint from the standard AWS variables.

use std::io;
use std::path::Path;
use std::sync::Arc;

use as2_store::payload::PayloadStore;

use crate::S3Config;
use crate::s3::{S3Backend, S3Payloads};

/// The variable's name.
pub const PAYLOAD_STORE_VAR: &str = "AS2_PAYLOAD_STORE";

/// The variable holding the largest payload kept in its message's row instead of the
/// store (bytes; 0 keeps every payload in the store).
pub const INLINE_PAYLOAD_BYTES_VAR: &str = "AS2_INLINE_PAYLOAD_BYTES";

/// The inline limit `setting` names (the value of `AS2_INLINE_PAYLOAD_BYTES`), 64 KiB when
/// it is unset or empty.
///
/// # Errors
/// The value is not a whole number of bytes, or is over
/// [`as2_store::payload::MAX_INLINE_PAYLOAD_BYTES`].
pub fn inline_limit(setting: Option<&str>) -> io::Result<u64> {
    use as2_store::payload::{DEFAULT_INLINE_PAYLOAD_BYTES, MAX_INLINE_PAYLOAD_BYTES};
    let refused = |value: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{INLINE_PAYLOAD_BYTES_VAR} must be a number of bytes from 0 (every payload in the payload store) to {MAX_INLINE_PAYLOAD_BYTES}, not {value:?}"
            ),
        )
    };
    match setting.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_INLINE_PAYLOAD_BYTES),
        Some(value) => match value.parse::<u64>() {
            Ok(bytes) if bytes <= MAX_INLINE_PAYLOAD_BYTES => Ok(bytes),
            _ => Err(refused(value)),
        },
    }
}

/// A store in an S3-compatible bucket.
///
/// # Errors
/// The configuration is refused (a bucket name, an endpoint URL) or the client's runtime
/// cannot start. Nothing is sent to the server yet.
pub fn open_s3(config: S3Config) -> io::Result<PayloadStore> {
    Ok(PayloadStore::with_backend(Arc::new(S3Payloads(Arc::new(
        S3Backend::new(config)?,
    )))))
}

/// The store `setting` names (the value of `AS2_PAYLOAD_STORE`), `default_dir` when it
/// is unset; `env` reads the AWS variables of an S3 store.
///
/// # Errors
/// The setting is malformed, or the store cannot be opened.
pub fn from_setting(
    setting: Option<&str>,
    default_dir: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> io::Result<PayloadStore> {
    match setting.map(str::trim).filter(|s| !s.is_empty()) {
        None => PayloadStore::open(default_dir),
        Some(url) if url.starts_with("s3://") => open_s3(S3Config::from_url(url, env)?),
        Some(url) if url.starts_with("file://") => {
            let path = url.trim_start_matches("file://");
            if !path.starts_with('/') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{PAYLOAD_STORE_VAR} must be file:///absolute/path, not {url:?}"),
                ));
            }
            PayloadStore::open(path)
        }
        Some(other) if other.contains("://") => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{PAYLOAD_STORE_VAR} must be a directory, file:///path or s3://bucket/prefix, not {other:?}"
            ),
        )),
        Some(path) => PayloadStore::open(path),
    }
}

/// The store of the process's environment: `AS2_PAYLOAD_STORE` and the AWS variables.
///
/// # Errors
/// As [`from_setting`].
pub fn from_env(default_dir: &Path) -> io::Result<PayloadStore> {
    let setting = std::env::var(PAYLOAD_STORE_VAR).ok();
    let inline = inline_limit(std::env::var(INLINE_PAYLOAD_BYTES_VAR).ok().as_deref())?;
    Ok(from_setting(setting.as_deref(), default_dir, |name| {
        std::env::var(name).ok()
    })?
    .with_inline_limit(inline))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn unset_is_the_default_directory_and_a_path_or_file_url_is_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("payloads");
        let store = from_setting(None, &default, none).unwrap();
        assert_eq!(
            store.describe(),
            format!("file system at {}", default.display())
        );
        assert!(default.join("objects").is_dir());
        let other = dir.path().join("elsewhere");
        let url = format!("file://{}", other.display());
        let store = from_setting(Some(&url), &default, none).unwrap();
        assert_eq!(
            store.describe(),
            format!("file system at {}", other.display())
        );
        let plain = dir.path().join("plain");
        let store = from_setting(Some(plain.to_str().unwrap()), &default, none).unwrap();
        assert_eq!(
            store.describe(),
            format!("file system at {}", plain.display())
        );
    }

    #[test]
    fn the_inline_limit_defaults_to_64_kib_and_refuses_what_is_not_a_number() {
        assert_eq!(inline_limit(None).unwrap(), 64 * 1024);
        assert_eq!(inline_limit(Some(" ")).unwrap(), 64 * 1024);
        assert_eq!(inline_limit(Some("0")).unwrap(), 0);
        assert_eq!(inline_limit(Some("4096")).unwrap(), 4096);
        assert_eq!(inline_limit(Some("1048576")).unwrap(), 1024 * 1024);
        // held in memory before the sender is authenticated: never past 1 MiB
        let too_big = inline_limit(Some("1048577")).unwrap_err();
        assert!(too_big.to_string().contains("1048576"), "{too_big}");
        let refused = inline_limit(Some("64k")).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        assert!(
            refused.to_string().contains("AS2_INLINE_PAYLOAD_BYTES"),
            "{refused}"
        );
    }

    #[test]
    fn an_s3_url_is_a_bucket_and_other_schemes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env =
            |name: &str| (name == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:9".to_owned());
        let store = from_setting(Some("s3://b/as2"), dir.path(), env).unwrap();
        assert_eq!(store.describe(), "s3://b/as2/");
        for bad in ["ftp://host/x", "file://relative", "s3://"] {
            assert!(from_setting(Some(bad), dir.path(), none).is_err(), "{bad}");
        }
    }
}
