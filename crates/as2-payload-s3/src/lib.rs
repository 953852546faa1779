//! The payload store's S3-compatible backend (AWS S3, MinIO, Ceph, Garage) through
//! `object_store`, and `AS2_PAYLOAD_STORE`, the setting that chooses between it and the file
//! system. A crate of its own so that as2-store, and everything that depends on it, names no
//! HTTP client: the S3 client talks only to the bucket the operator configured.
//!
//! - `s3_config`: bucket, prefix and the standard AWS variables;
//! - `s3`: the backend (whole-object calls, listings, bulk deletes);
//! - `s3_io`: the streamed writer (one PUT, or a multipart upload) and reader;
//! - `s3_bridge`: the runtime that carries `object_store`'s async calls for synchronous
//!   callers;
//! - `setting`: `AS2_PAYLOAD_STORE`.

mod s3;
mod s3_bridge;
mod s3_config;
mod s3_io;
mod setting;

pub use s3_config::{DEFAULT_PART_SIZE, MIN_PART_SIZE, S3Config};
pub use setting::{
    INLINE_PAYLOAD_BYTES_VAR, PAYLOAD_STORE_VAR, from_env, from_setting, inline_limit, open_s3,
};
