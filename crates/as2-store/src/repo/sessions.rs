//! Console sessions, found by the SHA-256 of their token, and the sign-in throttle (failures
//! per email or client address, and the lock-out they lead to).

use as2_domain::Mode;
use as2_domain::id::{SessionId, TenantId, UserId};
use as2_domain::user::{LockoutPolicy, Session, User};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult, not_found};
use crate::repo::parse_column;
use crate::schema::{login_throttles, sessions, users};
use crate::store::Store;
use crate::time::{from_db, to_db};
use crate::tx::with_tx;
use crate::with_conn;

/// Sessions and the sign-in throttle.
#[derive(Debug)]
pub struct Sessions<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: i64,
    user_id: i64,
    csrf_token: String,
    tenant_id: Option<i64>,
    mode: String,
    created_at: chrono::NaiveDateTime,
    last_seen_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;
    fn try_from(row: SessionRow) -> StoreResult<Self> {
        Ok(Self {
            id: SessionId(row.id),
            user_id: UserId(row.user_id),
            csrf_token: row.csrf_token,
            tenant_id: row.tenant_id.map(TenantId),
            mode: parse_column::<Mode>("sessions", &row.mode)?,
            created_at: from_db(row.created_at),
            last_seen_at: from_db(row.last_seen_at),
            expires_at: from_db(row.expires_at),
        })
    }
}

/// A session to open.
#[derive(Debug)]
pub struct NewSession<'a> {
    /// Whose.
    pub user_id: UserId,
    /// SHA-256 (hex) of the token the cookie carries.
    pub token_hash: &'a str,
    /// The session's CSRF token.
    pub csrf_token: &'a str,
    /// The tenant selected first.
    pub tenant_id: Option<TenantId>,
    /// The mode selected first.
    pub mode: Mode,
    /// Now.
    pub now: DateTime<Utc>,
    /// When it ends whatever happens.
    pub expires_at: DateTime<Utc>,
    /// Client address at sign-in.
    pub ip: Option<&'a str>,
    /// `User-Agent` at sign-in.
    pub user_agent: Option<&'a str>,
}

impl Sessions<'_> {
    /// Opens a session.
    pub fn create(&self, new: &NewSession<'_>) -> StoreResult<Session> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(new.now);
        let row: SessionRow = with_conn!(&mut conn, |c| diesel::insert_into(sessions::table)
            .values((
                sessions::user_id.eq(new.user_id.0),
                sessions::token_hash.eq(new.token_hash),
                sessions::csrf_token.eq(new.csrf_token),
                sessions::tenant_id.eq(new.tenant_id.map(|t| t.0)),
                sessions::mode.eq(new.mode.as_str()),
                sessions::created_at.eq(at),
                sessions::last_seen_at.eq(at),
                sessions::expires_at.eq(to_db(new.expires_at)),
                sessions::created_ip.eq(new.ip),
                sessions::created_user_agent.eq(new.user_agent),
            ))
            .returning(SessionRow::as_returning())
            .get_result(c))
        .map_err(StoreError::unique("a session with this token exists"))?;
        row.try_into()
    }

    /// The live session with this token hash and its user: not revoked, not expired, seen
    /// within `idle`, its user not disabled; else `NotFound`. Its last use is recorded (at
    /// most once a minute, to spare writes).
    pub fn active(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> StoreResult<(Session, User)> {
        let mut conn = self.store.db().conn()?;
        let at = to_db(now);
        let idle_since = to_db(now - idle);
        let row: SessionRow = with_conn!(&mut conn, |c| sessions::table
            .inner_join(users::table)
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(at))
            .filter(sessions::last_seen_at.gt(idle_since))
            .filter(users::disabled_at.is_null())
            .select(SessionRow::as_select())
            .first(c))
        .map_err(not_found)?;
        if row.last_seen_at < to_db(now - Duration::minutes(1)) {
            with_conn!(&mut conn, |c| diesel::update(sessions::table.find(row.id))
                .set(sessions::last_seen_at.eq(at))
                .execute(c))?;
        }
        drop(conn);
        let session: Session = row.try_into()?;
        let user = self.store.users().get(session.user_id)?;
        Ok((session, user))
    }

    /// Switches the session to `tenant` and `mode` (the caller has checked the membership).
    pub fn select(&self, id: SessionId, tenant: TenantId, mode: Mode) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(
            sessions::table
                .find(id.0)
                .filter(sessions::revoked_at.is_null())
        )
        .set((
            sessions::tenant_id.eq(Some(tenant.0)),
            sessions::mode.eq(mode.as_str())
        ))
        .execute(c))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Ends one session (signing out); ending it twice is fine.
    pub fn revoke(&self, id: SessionId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        with_conn!(&mut conn, |c| diesel::update(
            sessions::table
                .find(id.0)
                .filter(sessions::revoked_at.is_null())
        )
        .set(sessions::revoked_at.eq(to_db(now)))
        .execute(c))?;
        Ok(())
    }

    /// Ends every session of `user` (signing out everywhere); answers how many were live.
    pub fn revoke_all(&self, user: UserId, now: DateTime<Utc>) -> StoreResult<usize> {
        let mut conn = self.store.db().conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user.0))
                .filter(sessions::revoked_at.is_null())
        )
        .set(sessions::revoked_at.eq(to_db(now)))
        .execute(c))?;
        Ok(n)
    }

    /// Until when `subject` is locked out, if it is now.
    pub fn locked_until(
        &self,
        subject: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let mut conn = self.store.db().conn()?;
        let until: Option<Option<chrono::NaiveDateTime>> = with_conn!(&mut conn, |c| {
            login_throttles::table
                .find(subject)
                .select(login_throttles::locked_until)
                .first(c)
                .optional()
        })?;
        Ok(until.flatten().map(from_db).filter(|until| *until > now))
    }

    /// Counts a failed sign-in of `subject`; answers until when it is now locked out, when
    /// this failure reached the policy's limit.
    pub fn record_failure(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        policy: LockoutPolicy,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.store.transaction(|tx| {
            let found: Option<(i32, chrono::NaiveDateTime)> = with_tx!(tx, |c| {
                login_throttles::table
                    .find(subject)
                    .select((
                        login_throttles::failures,
                        login_throttles::window_started_at,
                    ))
                    .first(c)
                    .optional()
            })?;
            let (failures, window_start) = match found {
                Some((n, start)) if from_db(start) + policy.window > now => (n + 1, start),
                _ => (1, to_db(now)),
            };
            let limit = i32::try_from(policy.max_failures).unwrap_or(i32::MAX);
            let locked = (failures >= limit).then(|| now + policy.lockout);
            // a lock-out starts a new window: the next failures count from zero
            let (failures, window_start) = match locked {
                Some(_) => (0, to_db(now)),
                None => (failures, window_start),
            };
            let locked_db = locked.map(to_db);
            with_tx!(tx, |c| diesel::insert_into(login_throttles::table)
                .values((
                    login_throttles::subject.eq(subject),
                    login_throttles::failures.eq(failures),
                    login_throttles::window_started_at.eq(window_start),
                    login_throttles::locked_until.eq(locked_db),
                ))
                .on_conflict(login_throttles::subject)
                .do_update()
                .set((
                    login_throttles::failures.eq(failures),
                    login_throttles::window_started_at.eq(window_start),
                    login_throttles::locked_until.eq(locked_db),
                ))
                .execute(c))?;
            Ok(locked)
        })
    }

    /// Forgets `subject`'s failures (after a successful sign-in).
    pub fn clear_failures(&self, subject: &str) -> StoreResult<()> {
        let mut conn = self.store.db().conn()?;
        with_conn!(&mut conn, |c| diesel::delete(
            login_throttles::table.find(subject)
        )
        .execute(c))?;
        Ok(())
    }
}
