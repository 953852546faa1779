//! Master key rotation: every secret at rest re-sealed under the current key, a batch at a
//! time, while the platform keeps running.
//!
//! Nothing is kept between runs: a value already under the current key is skipped, so an
//! interrupted rotation is resumed by running it again. Each value is written back only if
//! it is still the value that was read (a compare-and-swap), so a secret changed through the
//! API meanwhile is never overwritten with an older one.

use diesel::prelude::*;

use crate::error::StoreResult;
use crate::schema::{
    certificates, idempotency_keys, partners, timestamp_authorities, webhook_endpoints,
};
use crate::secrets::{SecretBox, SecretError};
use crate::store::Store;
use crate::with_conn;

/// The purpose (associated data) of a kept idempotent response; the API seals with it.
pub const IDEMPOTENT_RESPONSE_PURPOSE: &str = "idempotency_keys.response_body";

/// A column that holds sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `partners.auth_password_secret`.
    PartnerPasswords,
    /// `certificates.private_key_secret`.
    CertificateKeys,
    /// `webhook_endpoints.secret`.
    WebhookSecrets,
    /// `timestamp_authorities.private_key_secret`.
    TimestampAuthorityKeys,
    /// `idempotency_keys.response_body` (kept answers; older ones are plain JSON).
    IdempotentResponses,
}

impl SealedColumn {
    /// Every column with sealed values, in the order a rotation visits them.
    pub const ALL: [Self; 5] = [
        Self::PartnerPasswords,
        Self::CertificateKeys,
        Self::WebhookSecrets,
        Self::TimestampAuthorityKeys,
        Self::IdempotentResponses,
    ];

    /// `table.column`, for reports and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::PartnerPasswords => "partners.auth_password_secret",
            Self::CertificateKeys => "certificates.private_key_secret",
            Self::WebhookSecrets => "webhook_endpoints.secret",
            Self::TimestampAuthorityKeys => "timestamp_authorities.private_key_secret",
            Self::IdempotentResponses => "idempotency_keys.response_body",
        }
    }

    /// The associated data the column's values are sealed with.
    pub fn purpose(self) -> &'static str {
        match self {
            Self::PartnerPasswords => crate::repo::partners::PASSWORD_PURPOSE,
            Self::CertificateKeys => crate::repo::certificates::PRIVATE_KEY_PURPOSE,
            Self::WebhookSecrets => crate::repo::webhooks::SECRET_PURPOSE,
            Self::TimestampAuthorityKeys => crate::repo::timestamp_authority::KEY_PURPOSE,
            Self::IdempotentResponses => IDEMPOTENT_RESPONSE_PURPOSE,
        }
    }
}

/// What one batch of one column did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Rows read.
    pub examined: usize,
    /// Values re-sealed under the current key and written back.
    pub resealed: usize,
    /// Values changed by someone else between the read and the write (left as they are).
    pub changed_meanwhile: usize,
    /// Rows whose value no configured key opens: `(row id, why)`.
    pub unreadable: Vec<(i64, SecretError)>,
    /// The id to continue after, `None` when the column is done.
    pub next_after: Option<i64>,
}

/// Re-seals the store's secrets under its current key.
#[derive(Debug)]
pub struct Resealer<'a> {
    store: &'a Store,
    batch_size: i64,
}

/// A sealed value as read: text, or the bytes of an idempotent response.
type Row = (i64, Option<Vec<u8>>);

macro_rules! load_text {
    ($conn:expr, $table:ident, $column:ident, $after:expr, $limit:expr) => {
        with_conn!($conn, |c| {
            $table::table
                .filter($table::id.gt($after))
                .order($table::id)
                .limit($limit)
                .select(($table::id, $table::$column.nullable()))
                .load::<(i64, Option<String>)>(c)
        })
        .map(|rows| {
            rows.into_iter()
                .map(|(id, v)| (id, v.map(String::into_bytes)))
                .collect::<Vec<Row>>()
        })
    };
}

macro_rules! swap_text {
    ($conn:expr, $table:ident, $column:ident, $id:expr, $old:expr, $new:expr) => {
        with_conn!($conn, |c| {
            diesel::update(
                $table::table
                    .filter($table::id.eq($id))
                    .filter($table::$column.eq($old)),
            )
            .set($table::$column.eq($new))
            .execute(c)
        })
    };
}

impl<'a> Resealer<'a> {
    /// A resealer writing `batch_size` rows per transaction-free batch (at least 1).
    pub fn new(store: &'a Store, batch_size: usize) -> Self {
        Self {
            store,
            batch_size: i64::try_from(batch_size.max(1)).unwrap_or(i64::MAX),
        }
    }

    fn secrets(&self) -> &SecretBox {
        self.store.secrets()
    }

    /// Re-seals the rows of `column` with ids after `after` (a batch of them).
    ///
    /// # Errors
    /// The database failed.
    pub fn batch(&self, column: SealedColumn, after: i64) -> StoreResult<BatchOutcome> {
        let rows = self.load(column, after)?;
        let mut outcome = BatchOutcome {
            examined: rows.len(),
            next_after: (rows.len() as i64 == self.batch_size)
                .then(|| rows.last().map(|(id, _)| *id))
                .flatten(),
            ..BatchOutcome::default()
        };
        for (id, value) in rows {
            let Some(value) = value else { continue };
            let Ok(stored) = std::str::from_utf8(&value) else {
                outcome.unreadable.push((id, SecretError::Malformed));
                continue;
            };
            if column == SealedColumn::IdempotentResponses && !stored.starts_with("v1.") {
                continue; // kept before responses were sealed: plain JSON, nothing to do
            }
            match self.secrets().reseal(column.purpose(), stored) {
                Ok(None) => {}
                Ok(Some(resealed)) => {
                    if self.swap(column, id, stored, &resealed)? == 1 {
                        outcome.resealed += 1;
                    } else {
                        outcome.changed_meanwhile += 1;
                    }
                }
                Err(error) => outcome.unreadable.push((id, error)),
            }
        }
        Ok(outcome)
    }

    /// How many values of every column are not sealed under the current key (plain
    /// idempotent responses from before sealing not counted).
    ///
    /// # Errors
    /// The database failed.
    pub fn count_not_current(&self) -> StoreResult<usize> {
        let current = format!("v1.{}.", self.secrets().current_key_id());
        let mut count = 0;
        for column in SealedColumn::ALL {
            let mut after = 0;
            loop {
                let rows = self.load(column, after)?;
                count += rows
                    .iter()
                    .filter_map(|(_, v)| v.as_deref())
                    .filter(|v| {
                        !v.starts_with(current.as_bytes())
                            && (column != SealedColumn::IdempotentResponses
                                || v.starts_with(b"v1."))
                    })
                    .count();
                match rows.last() {
                    Some((id, _)) if rows.len() as i64 == self.batch_size => after = *id,
                    _ => break,
                }
            }
        }
        Ok(count)
    }

    fn load(&self, column: SealedColumn, after: i64) -> StoreResult<Vec<Row>> {
        let mut conn = self.store.db().conn()?;
        let limit = self.batch_size;
        let rows = match column {
            SealedColumn::PartnerPasswords => {
                load_text!(&mut conn, partners, auth_password_secret, after, limit)?
            }
            SealedColumn::CertificateKeys => {
                load_text!(&mut conn, certificates, private_key_secret, after, limit)?
            }
            SealedColumn::WebhookSecrets => {
                load_text!(&mut conn, webhook_endpoints, secret, after, limit)?
            }
            SealedColumn::TimestampAuthorityKeys => load_text!(
                &mut conn,
                timestamp_authorities,
                private_key_secret,
                after,
                limit
            )?,
            SealedColumn::IdempotentResponses => with_conn!(&mut conn, |c| {
                idempotency_keys::table
                    .filter(idempotency_keys::id.gt(after))
                    .order(idempotency_keys::id)
                    .limit(limit)
                    .select((idempotency_keys::id, idempotency_keys::response_body))
                    .load::<Row>(c)
            })?,
        };
        Ok(rows)
    }

    fn swap(&self, column: SealedColumn, id: i64, old: &str, new: &str) -> StoreResult<usize> {
        let mut conn = self.store.db().conn()?;
        let written = match column {
            SealedColumn::PartnerPasswords => {
                swap_text!(&mut conn, partners, auth_password_secret, id, old, new)?
            }
            SealedColumn::CertificateKeys => {
                swap_text!(&mut conn, certificates, private_key_secret, id, old, new)?
            }
            SealedColumn::WebhookSecrets => {
                swap_text!(&mut conn, webhook_endpoints, secret, id, old, new)?
            }
            SealedColumn::TimestampAuthorityKeys => swap_text!(
                &mut conn,
                timestamp_authorities,
                private_key_secret,
                id,
                old,
                new
            )?,
            SealedColumn::IdempotentResponses => {
                let (old, new) = (old.as_bytes(), new.as_bytes());
                swap_text!(&mut conn, idempotency_keys, response_body, id, old, new)?
            }
        };
        Ok(written)
    }
}

/// What a whole rotation did, column by column.
#[derive(Debug, Default)]
pub struct RotationReport {
    /// Values re-sealed per column.
    pub resealed: Vec<(SealedColumn, usize)>,
    /// Values changed by someone else during the run (run again to be sure of them).
    pub changed_meanwhile: usize,
    /// Values no configured key opens: `(column, row id, why)`.
    pub unreadable: Vec<(SealedColumn, i64, SecretError)>,
    /// `false` when `keep_going` stopped the run before the end.
    pub finished: bool,
}

impl RotationReport {
    /// Values re-sealed in all.
    pub fn total_resealed(&self) -> usize {
        self.resealed.iter().map(|(_, n)| n).sum()
    }
}

/// Re-seals every column, batch after batch; `keep_going` is asked before each batch (with
/// the column and the batch just done) and stops the run when it answers `false` (a signal,
/// or a test's interruption). Running it again resumes: what is current is skipped.
///
/// # Errors
/// The database failed.
pub fn rotate(
    store: &Store,
    batch_size: usize,
    mut keep_going: impl FnMut(SealedColumn, &BatchOutcome) -> bool,
) -> StoreResult<RotationReport> {
    let resealer = Resealer::new(store, batch_size);
    let mut report = RotationReport::default();
    for column in SealedColumn::ALL {
        let mut after = 0;
        let mut resealed = 0;
        loop {
            let outcome = resealer.batch(column, after)?;
            resealed += outcome.resealed;
            report.changed_meanwhile += outcome.changed_meanwhile;
            report.unreadable.extend(
                outcome
                    .unreadable
                    .iter()
                    .map(|(id, why)| (column, *id, why.clone())),
            );
            let next = outcome.next_after;
            if !keep_going(column, &outcome) {
                report.resealed.push((column, resealed));
                return Ok(report);
            }
            match next {
                Some(id) => after = id,
                None => break,
            }
        }
        report.resealed.push((column, resealed));
    }
    report.finished = true;
    Ok(report)
}
