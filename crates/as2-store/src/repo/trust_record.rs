//! A trust record as a row: the columns it is read from (by the record's own reads,
//! `repo::trust`, and with an inbound route, `repo::inbound_route`) and the record, seeded
//! from the subject's certificate while no row is stored.

use as2_domain::id::CertificateId;
use as2_domain::trust::{TrustRecord, TrustState};

use crate::error::StoreResult;
use crate::repo::parse_column;
use crate::time::from_db;

/// The columns of a trust record that make a [`RecordRow`].
macro_rules! record_columns {
    () => {
        (
            $crate::schema::trust_records::current_certificate_id,
            $crate::schema::trust_records::next_certificate_id,
            $crate::schema::trust_records::previous_certificate_id,
            $crate::schema::trust_records::activate_at,
            $crate::schema::trust_records::retire_at,
            $crate::schema::trust_records::state,
            $crate::schema::trust_records::version,
        )
    };
}
pub(super) use record_columns;

/// The values of [`record_columns!`].
pub(super) type RecordRow = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    String,
    i64,
);

/// A trust record as stored, with the version a change must start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTrust {
    /// The record (seeded from the subject's certificate when no row exists yet).
    pub record: TrustRecord,
    /// The row's version; `None` when no row exists yet.
    pub version: Option<i64>,
}

/// The stored trust of a subject from its row, or seeded from `current` when it has none.
pub(super) fn stored_from(
    row: Option<RecordRow>,
    current: Option<CertificateId>,
) -> StoreResult<StoredTrust> {
    let Some((current, next, previous, activate_at, retire_at, state, version)) = row else {
        return Ok(StoredTrust {
            record: TrustRecord::with_current(current),
            version: None,
        });
    };
    Ok(StoredTrust {
        record: TrustRecord {
            current: current.map(CertificateId),
            next: next.map(CertificateId),
            previous: previous.map(CertificateId),
            activate_at: activate_at.map(from_db),
            retire_at: retire_at.map(from_db),
            state: parse_column::<TrustState>("trust_records", &state)?,
        },
        version: Some(version),
    })
}
