//! `Store`: the database and the secret box together, and the entry to every repository.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::Database;
use crate::jobs::JobQueue;
use crate::repo::{
    accounts::Accounts, api_keys::ApiKeys, certificates::Certificates, idempotency::Idempotency,
    messages::Messages, partners::Partners, stations::Stations, trust::Trust, webhooks::Webhooks,
};
use crate::secrets::SecretBox;

/// The persistence layer: cheap to clone, shared by request handlers and workers.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
    secrets: SecretBox,
    instance: u64,
}

impl Store {
    /// A store over `db`, sealing secrets with `secrets`.
    pub fn new(db: Database, secrets: SecretBox) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            db,
            secrets,
            instance: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A number no other `Store` made by this process has (its clones share it): what a
    /// process-wide cache of rows that never change (a certificate by its id) is keyed by
    /// besides the row's key, so that two stores (two databases) never share an entry.
    pub fn instance(&self) -> u64 {
        self.instance
    }

    /// The connection pool.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The secret box.
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// Accounts and tenants.
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts { store: self }
    }

    /// API keys.
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys { store: self }
    }

    /// Certificates and key pairs.
    pub fn certificates(&self) -> Certificates<'_> {
        Certificates { store: self }
    }

    /// Stations.
    pub fn stations(&self) -> Stations<'_> {
        Stations { store: self }
    }

    /// Partners.
    pub fn partners(&self) -> Partners<'_> {
        Partners { store: self }
    }

    /// Messages, their events and MDNs.
    pub fn messages(&self) -> Messages<'_> {
        Messages { store: self }
    }

    /// Webhook endpoints, events and deliveries.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { store: self }
    }

    /// Email alerts to send: the event and its tenant's recipients.
    pub fn alerts(&self) -> crate::repo::alerts::Alerts<'_> {
        crate::repo::alerts::Alerts { store: self }
    }

    /// Which payload keys rows name (the orphan sweep's question).
    pub fn payload_refs(&self) -> crate::repo::payload_refs::PayloadRefs<'_> {
        crate::repo::payload_refs::PayloadRefs { store: self }
    }

    /// Retention: each tenant's policy, the purges and their record.
    pub fn retention(&self) -> crate::repo::retention::RetentionRepo<'_> {
        crate::repo::retention::RetentionRepo { store: self }
    }

    /// The API's rate-limit buckets, shared by every api-server on this database.
    pub fn rate_limits(&self) -> crate::repo::rate_limits::RateLimits<'_> {
        crate::repo::rate_limits::RateLimits { store: self }
    }

    /// Idempotency records.
    pub fn idempotency(&self) -> Idempotency<'_> {
        Idempotency { store: self }
    }

    /// Certificate Exchange Messaging requests.
    pub fn cem(&self) -> crate::repo::cem::CemRequests<'_> {
        crate::repo::cem::CemRequests { store: self }
    }

    /// The evidence bundles of messages (issue 15).
    pub fn message_evidence(&self) -> crate::repo::message_evidence::MessageEvidence<'_> {
        crate::repo::message_evidence::MessageEvidence { store: self }
    }

    /// The built-in time-stamping authority's identity.
    pub fn timestamp_authority(
        &self,
    ) -> crate::repo::timestamp_authority::TimestampAuthorities<'_> {
        crate::repo::timestamp_authority::TimestampAuthorities { store: self }
    }

    /// Console users and their memberships.
    pub fn users(&self) -> crate::repo::users::Users<'_> {
        crate::repo::users::Users { store: self }
    }

    /// Console sessions and the sign-in throttle.
    pub fn sessions(&self) -> crate::repo::sessions::Sessions<'_> {
        crate::repo::sessions::Sessions { store: self }
    }

    /// The audit log.
    pub fn audit(&self) -> crate::repo::audit::AuditLog<'_> {
        crate::repo::audit::AuditLog { store: self }
    }

    /// Trust records and their event chains.
    pub fn trust(&self) -> Trust<'_> {
        Trust { store: self }
    }

    /// Runs `work` in one transaction (see [`Database::transaction`]).
    ///
    /// # Errors
    /// No connection, a failed statement, or `work`'s own error.
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&mut crate::tx::Tx<'_>) -> crate::error::StoreResult<T>,
    ) -> crate::error::StoreResult<T> {
        self.db.transaction(work)
    }

    /// Runs `work`, which owns what it uses, in one transaction (see
    /// [`Database::transaction_owned`]).
    ///
    /// # Errors
    /// No connection, a failed statement, or `work`'s own error.
    pub fn transaction_owned<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut crate::tx::Tx<'_>) -> crate::error::StoreResult<T> + Send + 'static,
    ) -> crate::error::StoreResult<T> {
        self.db.transaction_owned(work)
    }

    /// The background job queue.
    pub fn jobs(&self) -> JobQueue<'_> {
        JobQueue { db: &self.db }
    }
}
