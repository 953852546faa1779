//! Deleting a station only when no live partner sends and receives as it (they could no
//! longer), the check and the soft delete in one transaction; and what a deleted one was.

use as2_domain::id::{PartnerId, StationId};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::repo::deletion::Deletion;
use crate::repo::stations::Stations;
use crate::schema::{partners, stations};
use crate::scope::Scope;
use crate::time::{now, to_db};
use crate::tx::{Tx, with_tx};
use crate::with_conn;

impl Stations<'_> {
    /// The live partners of `scope` that send and receive as station `id`.
    pub fn partners_using(&self, scope: Scope, id: StationId) -> StoreResult<Vec<PartnerId>> {
        self.store.transaction(|tx| partners_of(tx, scope, id))
    }

    /// Deletes (soft) station `id` of `scope` when no live partner uses it (checked and
    /// deleted in one transaction); else deletes nothing and names those partners.
    /// `NotFound` when it is not stored in `scope` (or deleted already).
    pub fn delete_unused(&self, scope: Scope, id: StationId) -> StoreResult<Deletion<PartnerId>> {
        self.store.transaction(|tx| {
            let found: Option<i64> = with_tx!(&mut *tx, |c| scoped!(stations, scope, kept)
                .filter(stations::id.eq(id.0))
                .select(stations::id)
                .first(c)
                .optional())?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
            let partners = partners_of(tx, scope, id)?;
            if !partners.is_empty() {
                return Ok(Deletion::InUse(partners));
            }
            let at = to_db(now());
            with_tx!(&mut *tx, |c| diesel::update(
                scoped!(stations, scope, kept).filter(stations::id.eq(id.0))
            )
            .set(stations::deleted_at.eq(at))
            .execute(c))?;
            Ok(Deletion::Deleted)
        })
    }

    /// The name and AS2 ID of station `id` of `scope` when it was deleted (`None` when it is
    /// not stored in `scope`, or not deleted).
    pub fn deleted_names(
        &self,
        scope: Scope,
        id: StationId,
    ) -> StoreResult<Option<(String, String)>> {
        let mut conn = self.store.db().conn()?;
        Ok(with_conn!(&mut conn, |c| scoped!(stations, scope)
            .filter(stations::id.eq(id.0))
            .filter(stations::deleted_at.is_not_null())
            .select((stations::name, stations::as2_id))
            .first(c)
            .optional())?)
    }
}

fn partners_of(tx: &mut Tx<'_>, scope: Scope, id: StationId) -> StoreResult<Vec<PartnerId>> {
    let ids: Vec<i64> = with_tx!(tx, |c| scoped!(partners, scope, kept)
        .filter(partners::station_id.eq(id.0))
        .select(partners::id)
        .order(partners::id.asc())
        .load(c))?;
    Ok(ids.into_iter().map(PartnerId).collect())
}
