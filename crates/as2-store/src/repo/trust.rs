//! Trust records of partners and stations, and their hash-chained event timelines.

use as2_domain::id::{CertificateId, TrustEventId};
use as2_domain::trust::{TrustRecord, TrustState, TrustSubject};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{StoreError, StoreResult};
use crate::repo::parse_column;
use crate::schema::{partners, stations, trust_events, trust_records};
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::tx::{Tx, with_tx};
use crate::with_conn;

pub use super::trust_record::StoredTrust;
use super::trust_record::{RecordRow, record_columns, stored_from};

/// Moves a partner's or station's certificate columns from `$from` to `$to` (those that held
/// `$from`; with no `$from`, the signing column if it was empty), inside a transaction.
macro_rules! swap_certificate {
    ($c:expr, $table:ident, $scope:expr, $id:expr, $from:expr, $to:expr, $at:expr) => {{
        let mine = $table::table
            .filter($table::id.eq($id))
            .filter($table::tenant_id.eq($scope.tenant()));
        match $from {
            Some(from) => {
                diesel::update(mine.filter($table::certificate_id.eq(from)))
                    .set(($table::certificate_id.eq($to), $table::updated_at.eq($at)))
                    .execute($c)?;
                diesel::update(mine.filter($table::encryption_certificate_id.eq(from)))
                    .set((
                        $table::encryption_certificate_id.eq($to),
                        $table::updated_at.eq($at),
                    ))
                    .execute($c)?;
            }
            None => {
                diesel::update(mine.filter($table::certificate_id.is_null()))
                    .set(($table::certificate_id.eq($to), $table::updated_at.eq($at)))
                    .execute($c)?;
            }
        }
    }};
}

/// Moves one of a partner's TLS certificate columns from `$from` to `$to` (when it still
/// holds `$from`; with no `$from`, when it is empty), inside a transaction.
macro_rules! swap_column {
    ($c:expr, $scope:expr, $id:expr, $column:expr, $from:expr, $to:expr, $at:expr) => {{
        let mine = partners::table
            .filter(partners::id.eq($id))
            .filter(partners::tenant_id.eq($scope.tenant()));
        match $from {
            Some(from) => diesel::update(mine.filter($column.eq(from)))
                .set(($column.eq($to), partners::updated_at.eq($at)))
                .execute($c)?,
            None => diesel::update(mine.filter($column.is_null()))
                .set(($column.eq($to), partners::updated_at.eq($at)))
                .execute($c)?,
        };
    }};
}

/// Trust records and events.
#[derive(Debug)]
pub struct Trust<'a> {
    pub(crate) store: &'a Store,
}

/// An event to append to a timeline.
#[derive(Debug, Clone)]
pub struct NewTrustEvent<'e> {
    /// `rollover_scheduled`, `activated`, `retired`, ...
    pub event_type: &'e str,
    /// Who did it (`key_000001`, `scheduler`, ...).
    pub actor: &'e str,
    /// Fingerprint of the current certificate after the event.
    pub current_fingerprint: Option<&'e str>,
    /// Fingerprint of the next certificate after the event.
    pub next_fingerprint: Option<&'e str>,
    /// JSON details.
    pub details: &'e str,
    /// RFC 3161 token over the event hash, when a TSA answered.
    pub timestamp_token: Option<&'e [u8]>,
}

/// A stored timeline event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEvent {
    /// `tev_…`.
    pub id: TrustEventId,
    /// Type.
    pub event_type: String,
    /// Who.
    pub actor: String,
    /// Current certificate's fingerprint.
    pub current_fingerprint: Option<String>,
    /// Next certificate's fingerprint.
    pub next_fingerprint: Option<String>,
    /// JSON details.
    pub details: String,
    /// SHA-256 over the previous hash and this event's fields, hex.
    pub hash: String,
    /// The previous event's hash.
    pub prev_hash: Option<String>,
    /// RFC 3161 token (DER).
    pub timestamp_token: Option<Vec<u8>>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The chain hash of an event: SHA-256 over the previous hash and each field, length-prefixed.
pub fn event_hash(
    prev_hash: Option<&str>,
    subject: TrustSubject,
    subject_id: i64,
    event: &TrustEvent,
) -> String {
    let mut hasher = Sha256::new();
    let fields = [
        prev_hash.unwrap_or(""),
        subject.as_str(),
        &subject_id.to_string(),
        &event.event_type,
        &event.actor,
        event.current_fingerprint.as_deref().unwrap_or(""),
        event.next_fingerprint.as_deref().unwrap_or(""),
        &event.details,
        &event
            .created_at
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string(),
    ];
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

type EventRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<Vec<u8>>,
    chrono::NaiveDateTime,
);

/// At activation: the subject's certificate columns that held `from` now hold `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSwap {
    /// The certificate that was current.
    pub from: Option<CertificateId>,
    /// The one that becomes current.
    pub to: CertificateId,
    /// For a partner's TLS server certificate (which no certificate column names): the
    /// partner's pin and CA bundle after the switch.
    pub tls_server: Option<TlsServerSwap>,
}

/// The partner's server verification after its TLS server certificate rolled over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsServerSwap {
    /// The new `tls_pin_sha256` (`sha256/<base64>`), or `None` to leave the column alone.
    pub pin_sha256: Option<String>,
    /// The new `tls_ca_bundle` (PEM), or `None` to leave the column alone.
    pub ca_bundle: Option<String>,
}

/// A record whose scheduled transition is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueSubject {
    /// Whose record.
    pub scope: Scope,
    /// Partner or station.
    pub subject: TrustSubject,
    /// The partner's or station's row id.
    pub subject_id: i64,
}

impl Trust<'_> {
    /// The record of a subject of `scope`; `current` seeds it when none is stored yet.
    pub fn record(
        &self,
        scope: Scope,
        subject: TrustSubject,
        id: i64,
        current: Option<CertificateId>,
    ) -> StoreResult<TrustRecord> {
        Ok(self.stored(scope, subject, id, current)?.record)
    }

    /// The record of a subject with its version, for a compare-and-swap [`Trust::save`].
    pub fn stored(
        &self,
        scope: Scope,
        subject: TrustSubject,
        id: i64,
        current: Option<CertificateId>,
    ) -> StoreResult<StoredTrust> {
        let mut conn = self.store.db().conn()?;
        let row: Option<RecordRow> = with_conn!(&mut conn, |c| trust_records::table
            .filter(trust_records::tenant_id.eq(scope.tenant()))
            .filter(trust_records::mode.eq(scope.mode()))
            .filter(trust_records::subject.eq(subject.as_str()))
            .filter(trust_records::subject_id.eq(id))
            .select(record_columns!())
            // unique (subject, subject_id): no LIMIT (see `crate::db`)
            .get_result(c)
            .optional())?;
        stored_from(row, current)
    }

    /// Saves the record and appends `event` to the subject's chain, in one transaction (see
    /// [`TrustTx::save`]).
    #[allow(clippy::too_many_arguments)]
    pub fn save(
        &self,
        scope: Scope,
        subject: TrustSubject,
        id: i64,
        expected: Option<i64>,
        record: &TrustRecord,
        swap: Option<CertificateSwap>,
        event: &NewTrustEvent<'_>,
    ) -> StoreResult<TrustEvent> {
        self.store.transaction(|tx| {
            tx.trust()
                .save(scope, subject, id, expected, record, swap, event)
        })
    }

    /// Records whose scheduled activation or retirement is due at `now`, every tenant.
    pub fn due(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<DueSubject>> {
        let at = to_db(now);
        let mut conn = self.store.db().conn()?;
        let rows: Vec<(i64, String, String, i64)> =
            with_conn!(&mut conn, |c| trust_records::table
                .filter(
                    trust_records::state
                        .eq(TrustState::RolloverScheduled.as_str())
                        .and(trust_records::activate_at.le(at))
                        .or(trust_records::state
                            .eq(TrustState::Activated.as_str())
                            .and(trust_records::retire_at.le(at))),
                )
                .order(trust_records::id.asc())
                .limit(limit)
                .select((
                    trust_records::tenant_id,
                    trust_records::mode,
                    trust_records::subject,
                    trust_records::subject_id,
                ))
                .load(c))?;
        rows.into_iter()
            .map(|(tenant, mode, subject, subject_id)| {
                Ok(DueSubject {
                    scope: Scope::new(
                        as2_domain::id::TenantId(tenant),
                        parse_column("trust_records", &mode)?,
                    ),
                    subject: parse_column("trust_records", &subject)?,
                    subject_id,
                })
            })
            .collect()
    }

    /// Events still without a time-stamp token (the TSA did not answer then), oldest first:
    /// `(id, hash)`.
    pub fn unstamped(&self, limit: i64) -> StoreResult<Vec<(TrustEventId, String)>> {
        let mut conn = self.store.db().conn()?;
        let rows: Vec<(i64, String)> = with_conn!(&mut conn, |c| trust_events::table
            .filter(trust_events::timestamp_token.is_null())
            .order(trust_events::id.asc())
            .limit(limit)
            .select((trust_events::id, trust_events::hash))
            .load(c))?;
        Ok(rows
            .into_iter()
            .map(|(id, hash)| (TrustEventId(id), hash))
            .collect())
    }

    /// Attaches the time-stamp token of an event that has none yet (a token is never replaced).
    pub fn set_token(&self, event: TrustEventId, token: &[u8]) -> StoreResult<bool> {
        let mut conn = self.store.db().conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(
            trust_events::table
                .filter(trust_events::id.eq(event.0))
                .filter(trust_events::timestamp_token.is_null())
        )
        .set(trust_events::timestamp_token.eq(token))
        .execute(c))?;
        Ok(n == 1)
    }

    /// The subject's timeline, oldest first.
    pub fn events(
        &self,
        scope: Scope,
        subject: TrustSubject,
        id: i64,
    ) -> StoreResult<Vec<TrustEvent>> {
        let mut conn = self.store.db().conn()?;
        let rows: Vec<EventRow> = with_conn!(&mut conn, |c| trust_events::table
            .filter(trust_events::tenant_id.eq(scope.tenant()))
            .filter(trust_events::mode.eq(scope.mode()))
            .filter(trust_events::subject.eq(subject.as_str()))
            .filter(trust_events::subject_id.eq(id))
            .order(trust_events::id.asc())
            .select((
                trust_events::id,
                trust_events::event_type,
                trust_events::actor,
                trust_events::current_fingerprint,
                trust_events::next_fingerprint,
                trust_events::details,
                trust_events::hash,
                trust_events::prev_hash,
                trust_events::timestamp_token,
                trust_events::created_at,
            ))
            .load(c))?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    event_type,
                    actor,
                    current_fingerprint,
                    next_fingerprint,
                    details,
                    hash,
                    prev_hash,
                    timestamp_token,
                    at,
                )| TrustEvent {
                    id: TrustEventId(id),
                    event_type,
                    actor,
                    current_fingerprint,
                    next_fingerprint,
                    details,
                    hash,
                    prev_hash,
                    timestamp_token,
                    created_at: from_db(at),
                },
            )
            .collect())
    }

    /// Checks the subject's chain: every hash recomputes and links to its predecessor.
    /// Returns the problems found (empty when the chain is intact).
    pub fn verify_chain(
        &self,
        scope: Scope,
        subject: TrustSubject,
        id: i64,
    ) -> StoreResult<(usize, Vec<String>)> {
        let events = self.events(scope, subject, id)?;
        let mut problems = Vec::new();
        let mut prev: Option<&str> = None;
        for event in &events {
            if event.prev_hash.as_deref() != prev {
                problems.push(format!(
                    "{}: does not link to the event before it",
                    event.id
                ));
            }
            if event_hash(event.prev_hash.as_deref(), subject, id, event) != event.hash {
                problems.push(format!("{}: its content does not match its hash", event.id));
            }
            prev = Some(&event.hash);
        }
        Ok((events.len(), problems))
    }
}

/// The trust side of a transaction: [`Tx::trust`].
#[derive(Debug)]
pub struct TrustTx<'t, 'c> {
    tx: &'t mut Tx<'c>,
}

impl<'c> Tx<'c> {
    /// Trust records written in this transaction.
    pub fn trust(&mut self) -> TrustTx<'_, 'c> {
        TrustTx { tx: self }
    }
}

impl TrustTx<'_, '_> {
    /// Saves the record and appends `event` to the subject's chain, in one transaction; with
    /// `swap`, the subject's certificate columns follow the activation in the same transaction.
    ///
    /// The write is a compare-and-swap on `expected` (the version read): when another process
    /// changed the record meanwhile nothing is written and the answer is
    /// [`StoreError::Conflict`], so a transition happens exactly once.
    #[allow(clippy::too_many_arguments)]
    pub fn save(
        &mut self,
        scope: Scope,
        subject: TrustSubject,
        id: i64,
        expected: Option<i64>,
        record: &TrustRecord,
        swap: Option<CertificateSwap>,
        event: &NewTrustEvent<'_>,
    ) -> StoreResult<TrustEvent> {
        let at = now();
        let saved = with_tx!(&mut *self.tx, |c| {
            let values = (
                trust_records::current_certificate_id.eq(record.current.map(|c| c.0)),
                trust_records::next_certificate_id.eq(record.next.map(|c| c.0)),
                trust_records::previous_certificate_id.eq(record.previous.map(|c| c.0)),
                trust_records::activate_at.eq(record.activate_at.map(to_db)),
                trust_records::retire_at.eq(record.retire_at.map(to_db)),
                trust_records::state.eq(record.state.as_str()),
                trust_records::updated_at.eq(to_db(at)),
            );
            let written = match expected {
                Some(version) => diesel::update(
                    trust_records::table
                        .filter(trust_records::tenant_id.eq(scope.tenant()))
                        .filter(trust_records::mode.eq(scope.mode()))
                        .filter(trust_records::subject.eq(subject.as_str()))
                        .filter(trust_records::subject_id.eq(id))
                        .filter(trust_records::version.eq(version)),
                )
                .set((values, trust_records::version.eq(version + 1)))
                .execute(c)?,
                None => diesel::insert_into(trust_records::table)
                    .values((
                        values,
                        trust_records::version.eq(1_i64),
                        trust_records::tenant_id.eq(scope.tenant()),
                        trust_records::mode.eq(scope.mode()),
                        trust_records::subject.eq(subject.as_str()),
                        trust_records::subject_id.eq(id),
                    ))
                    .on_conflict_do_nothing()
                    .execute(c)?,
            };
            if written == 0 {
                return Ok(None);
            }
            if let Some(swap) = swap {
                let (from, to) = (swap.from.map(|f| f.0), swap.to.0);
                match subject {
                    TrustSubject::Partner => {
                        swap_certificate!(c, partners, scope, id, from, to, to_db(at));
                    }
                    TrustSubject::Station => {
                        swap_certificate!(c, stations, scope, id, from, to, to_db(at));
                    }
                    TrustSubject::PartnerTlsClient => {
                        swap_column!(
                            c,
                            scope,
                            id,
                            partners::tls_inbound_client_certificate_id,
                            from,
                            to,
                            to_db(at)
                        );
                    }
                    TrustSubject::PartnerTlsIdentity => {
                        swap_column!(
                            c,
                            scope,
                            id,
                            partners::tls_client_certificate_id,
                            from,
                            to,
                            to_db(at)
                        );
                    }
                    TrustSubject::PartnerTlsServer => {
                        let mine = partners::table
                            .filter(partners::id.eq(id))
                            .filter(partners::tenant_id.eq(scope.tenant()));
                        let server = swap.tls_server.unwrap_or(TlsServerSwap {
                            pin_sha256: None,
                            ca_bundle: None,
                        });
                        if let Some(pin) = server.pin_sha256 {
                            diesel::update(mine)
                                .set((
                                    partners::tls_pin_sha256.eq(pin),
                                    partners::updated_at.eq(to_db(at)),
                                ))
                                .execute(c)?;
                        }
                        if let Some(bundle) = server.ca_bundle {
                            diesel::update(mine)
                                .set((
                                    partners::tls_ca_bundle.eq(bundle),
                                    partners::updated_at.eq(to_db(at)),
                                ))
                                .execute(c)?;
                        }
                    }
                }
            }
            let prev_hash: Option<String> = trust_events::table
                .filter(trust_events::subject.eq(subject.as_str()))
                .filter(trust_events::subject_id.eq(id))
                .order(trust_events::id.desc())
                .select(trust_events::hash)
                .first(c)
                .optional()?;
            let mut stored = TrustEvent {
                id: TrustEventId(0),
                event_type: event.event_type.to_owned(),
                actor: event.actor.to_owned(),
                current_fingerprint: event.current_fingerprint.map(str::to_owned),
                next_fingerprint: event.next_fingerprint.map(str::to_owned),
                details: event.details.to_owned(),
                hash: String::new(),
                prev_hash,
                timestamp_token: event.timestamp_token.map(<[u8]>::to_vec),
                created_at: at,
            };
            stored.hash = event_hash(stored.prev_hash.as_deref(), subject, id, &stored);
            let new_id: i64 = diesel::insert_into(trust_events::table)
                .values((
                    trust_events::tenant_id.eq(scope.tenant()),
                    trust_events::mode.eq(scope.mode()),
                    trust_events::subject.eq(subject.as_str()),
                    trust_events::subject_id.eq(id),
                    trust_events::event_type.eq(&stored.event_type),
                    trust_events::actor.eq(&stored.actor),
                    trust_events::current_fingerprint.eq(stored.current_fingerprint.as_deref()),
                    trust_events::next_fingerprint.eq(stored.next_fingerprint.as_deref()),
                    trust_events::details.eq(&stored.details),
                    trust_events::hash.eq(&stored.hash),
                    trust_events::prev_hash.eq(stored.prev_hash.as_deref()),
                    trust_events::timestamp_token.eq(stored.timestamp_token.as_deref()),
                    trust_events::created_at.eq(to_db(at)),
                ))
                .returning(trust_events::id)
                .get_result(c)?;
            stored.id = TrustEventId(new_id);
            Ok::<_, diesel::result::Error>(Some(stored))
        })?;
        saved.ok_or_else(|| {
            StoreError::Conflict("the trust record was changed by another request".into())
        })
    }
}
