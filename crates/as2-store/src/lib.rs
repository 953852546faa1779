//! Persistence for the AS2 platform: diesel on embedded SQLite or PostgreSQL, tenant-scoped
//! repositories, the job queue, the payload store and secrets encrypted at rest.
//!
//! Every repository function that reads or writes tenant data takes a [`Scope`] (tenant and
//! mode) as its first argument and puts both in its `WHERE` clause: no call can reach
//! another tenant's rows, or the other mode's.

pub mod db;
pub mod error;
pub mod jobs;
pub mod master_key;
pub mod migrations;
pub mod orphans;
pub mod outbox;
pub mod payload;
pub mod pg_pool;
mod pg_statement;
pub mod repo;
pub mod reseal;
pub mod retention;
pub mod schema;
pub mod scope;
pub mod secrets;
pub mod store;
pub mod testing;
pub mod time;
pub mod tx;
pub mod wal_checkpoint;
pub mod writer_queue;

pub use db::{Backend, Database, DbConn, PoolOptions, SqliteSync};
pub use error::{StoreError, StoreResult};
pub use migrations::{migrate, revert_all};
pub use outbox::Announce;
pub use scope::Scope;
pub use store::Store;
pub use tx::Tx;
pub use wal_checkpoint::WalCheckpoints;

/// A URL with its password replaced by `***`, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
