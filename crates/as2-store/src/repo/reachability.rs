//! A partner's reachability: the send attempts in a row that got no answer from it, the
//! `partner.unreachable` alert raised once when they reach the installation's threshold, and
//! `partner.reachable` when it answers again after that alert.
//!
//! A row exists only while a streak of failures runs, so a send that got an answer costs one
//! `DELETE … RETURNING` that usually finds nothing. Both writes are single atomic statements
//! (an upsert that counts, a compare-and-swap that raises the alert), so workers on several
//! machines sending to the same partner count every attempt once and alert once.

use as2_domain::id::PartnerId;
use as2_domain::partner::Partner;
use as2_domain::webhook::EventType;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::StoreResult;
use crate::schema::partner_reachability;
use crate::scope::Scope;
use crate::time::{from_db, now, to_db};
use crate::tx::{Tx, with_tx};

/// The longest error sentence kept and announced.
const MAX_ERROR: usize = 1000;

/// What one send attempt to a partner learnt about reaching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The partner (its server, not a proxy in front of it) answered, whatever the answer.
    Answered,
    /// No answer: the sentence saying why.
    NoAnswer(String),
}

/// What recording an attempt announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReachChange {
    /// Nothing.
    None,
    /// The streak reached the threshold: `partner.unreachable` was published.
    Unreachable,
    /// The partner answered after an alert: `partner.reachable` was published.
    Reachable,
}

/// The reachability side of a transaction: [`Tx::reachability`].
#[derive(Debug)]
pub struct ReachabilityTx<'t, 'c> {
    tx: &'t mut Tx<'c>,
}

impl<'c> Tx<'c> {
    /// Partners' reachability, written in this transaction.
    pub fn reachability(&mut self) -> ReachabilityTx<'_, 'c> {
        ReachabilityTx { tx: self }
    }
}

impl ReachabilityTx<'_, '_> {
    /// Records `reach` for an attempt to `partner`; after `alert_after` failed attempts in a
    /// row (at least 1) `partner.unreachable` is published once, and `partner.reachable` when
    /// it answers after that.
    ///
    /// # Errors
    /// A failed statement.
    pub fn record(
        &mut self,
        scope: Scope,
        partner: &Partner,
        reach: &Reach,
        alert_after: u32,
    ) -> StoreResult<ReachChange> {
        match reach {
            Reach::Answered => self.answered(scope, partner),
            Reach::NoAnswer(reason) => self.no_answer(scope, partner, reason, alert_after),
        }
    }

    fn answered(&mut self, scope: Scope, partner: &Partner) -> StoreResult<ReachChange> {
        let id = partner.id.0;
        let ended: Option<(i32, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> =
            with_tx!(&mut *self.tx, |c| diesel::delete(
                partner_reachability::table.filter(partner_reachability::partner_id.eq(id))
            )
            .returning((
                partner_reachability::failed_attempts,
                partner_reachability::first_failed_at,
                partner_reachability::alerted_at,
            ))
            .get_result(c)
            .optional())?;
        let Some((attempts, since, Some(_alerted))) = ended else {
            return Ok(ReachChange::None);
        };
        let data = serde_json::json!({
            "partner_id": partner.id.to_string(),
            "name": partner.settings.name,
            "as2_id": partner.settings.as2_id,
            "url": partner.settings.url,
            "failed_attempts": attempts,
            "unreachable_since": rfc3339(from_db(since)),
        });
        self.tx
            .webhooks()
            .publish(scope, EventType::PartnerReachable, &data.to_string(), None)?;
        Ok(ReachChange::Reachable)
    }

    fn no_answer(
        &mut self,
        scope: Scope,
        partner: &Partner,
        reason: &str,
        alert_after: u32,
    ) -> StoreResult<ReachChange> {
        let id = partner.id.0;
        let at = to_db(now());
        let reason: String = reason.chars().take(MAX_ERROR).collect();
        let threshold = i32::try_from(alert_after.max(1)).unwrap_or(i32::MAX);
        let raised: Option<(i32, chrono::NaiveDateTime)> = with_tx!(&mut *self.tx, |c| {
            diesel::insert_into(partner_reachability::table)
                .values((
                    partner_reachability::partner_id.eq(id),
                    partner_reachability::tenant_id.eq(scope.tenant()),
                    partner_reachability::mode.eq(scope.mode()),
                    partner_reachability::failed_attempts.eq(1),
                    partner_reachability::first_failed_at.eq(at),
                    partner_reachability::last_failed_at.eq(at),
                    partner_reachability::last_error.eq(&reason),
                ))
                .on_conflict(partner_reachability::partner_id)
                .do_update()
                .set((
                    partner_reachability::failed_attempts
                        .eq(partner_reachability::failed_attempts + 1),
                    partner_reachability::last_failed_at.eq(at),
                    partner_reachability::last_error.eq(&reason),
                ))
                .execute(c)?;
            // the alert once per streak: whoever moves alerted_at from NULL announces it
            diesel::update(
                partner_reachability::table
                    .filter(partner_reachability::partner_id.eq(id))
                    .filter(partner_reachability::alerted_at.is_null())
                    .filter(partner_reachability::failed_attempts.ge(threshold)),
            )
            .set(partner_reachability::alerted_at.eq(at))
            .returning((
                partner_reachability::failed_attempts,
                partner_reachability::first_failed_at,
            ))
            .get_result(c)
            .optional()
        })?;
        let Some((attempts, since)) = raised else {
            return Ok(ReachChange::None);
        };
        let data = serde_json::json!({
            "partner_id": partner.id.to_string(),
            "name": partner.settings.name,
            "as2_id": partner.settings.as2_id,
            "url": partner.settings.url,
            "failed_attempts": attempts,
            "unreachable_since": rfc3339(from_db(since)),
            "last_error": reason,
        });
        self.tx.webhooks().publish(
            scope,
            EventType::PartnerUnreachable,
            &data.to_string(),
            None,
        )?;
        Ok(ReachChange::Unreachable)
    }
}

/// How many failed attempts in a row `partner` has now (0 when it answered last).
///
/// # Errors
/// A failed statement.
pub fn failed_attempts(tx: &mut Tx<'_>, partner: PartnerId) -> StoreResult<u32> {
    let attempts: Option<i32> = with_tx!(tx, |c| partner_reachability::table
        .filter(partner_reachability::partner_id.eq(partner.0))
        .select(partner_reachability::failed_attempts)
        .get_result(c)
        .optional())?;
    Ok(attempts.map_or(0, |n| u32::try_from(n).unwrap_or(0)))
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
