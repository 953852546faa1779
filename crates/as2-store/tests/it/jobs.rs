//! The job queue: exclusive claims under concurrency, lease expiry, backoff, dead jobs, and a
//! job's outcome written with its effects in one transaction.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use as2_domain::Mode;
use as2_domain::id::{JobId, MessageId, TenantId, WebhookDeliveryId};
use as2_domain::job::JobKind;
use as2_store::jobs::{
    DeliverWebhook, Fate, Job, JobInput, JobQueue, MessageRef, Outcome, SendMessage,
};
use as2_store::testing::TestDb;
use as2_store::{Database, PoolOptions, Scope, Store, StoreError};
use chrono::{DateTime, Duration, Utc};

const KINDS: &[JobKind] = &[JobKind::SendMessage];

fn send(n: i64) -> SendMessage {
    SendMessage(MessageRef::new(
        Scope::new(TenantId(1), Mode::Test),
        MessageId(n),
    ))
}

/// Enqueues a `send_message` job with `attempts` runs at `at`.
fn enqueue(store: &Store, at: DateTime<Utc>, attempts: i32) -> JobId {
    store
        .transaction(|tx| tx.jobs().enqueue(&send(1), at, attempts))
        .unwrap()
}

fn done(jobs: &JobQueue<'_>, job: &Job, at: DateTime<Utc>) -> bool {
    jobs.finish(job, &Outcome::Done, at, |_, _| Ok(()))
        .unwrap()
        .is_some()
}

fn retry(jobs: &JobQueue<'_>, job: &Job, reason: &str, at: DateTime<Utc>) -> Option<Fate> {
    let outcome = Outcome::Retry {
        reason: reason.into(),
        after: Duration::seconds(60),
    };
    jobs.finish(job, &outcome, at, |_, _| Ok(())).unwrap()
}

#[test]
fn concurrent_claimants_never_share_a_job() {
    for db in TestDb::all() {
        claim_concurrently(&db);
    }
}

fn claim_concurrently(db: &TestDb) {
    const JOBS: usize = 200;
    for _ in 0..JOBS {
        enqueue(&db.store, Utc::now() - Duration::seconds(1), 3);
    }
    let claimed = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            // each claimant is its own pool, as separate gateway processes would be
            let pool = Database::connect(
                &db.url,
                &PoolOptions {
                    max_connections: 1,
                    ..PoolOptions::default()
                },
            )
            .unwrap();
            let claimed = Arc::clone(&claimed);
            std::thread::spawn(move || {
                let store = Store::new(pool, as2_store::testing::test_secrets());
                while let Some(job) = store
                    .jobs()
                    .claim(KINDS, Utc::now(), Duration::minutes(5))
                    .unwrap()
                {
                    assert!(done(&store.jobs(), &job, Utc::now()));
                    claimed.lock().unwrap().push(job.id);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let claimed = claimed.lock().unwrap();
    let unique: HashSet<_> = claimed.iter().collect();
    assert_eq!(claimed.len(), JOBS, "every job claimed exactly once");
    assert_eq!(unique.len(), JOBS);
}

#[test]
fn expired_lease_is_claimed_again_and_the_old_owner_loses_it() {
    for db in TestDb::all() {
        let jobs = db.store.jobs();
        let now = Utc::now();
        enqueue(&db.store, now, 3);
        let first = jobs
            .claim(KINDS, now, Duration::seconds(30))
            .unwrap()
            .unwrap();
        assert_eq!(
            jobs.claim(KINDS, now, Duration::seconds(30)).unwrap(),
            None,
            "leased job is not due"
        );
        let later = now + Duration::seconds(31);
        let second = jobs
            .claim(KINDS, later, Duration::seconds(30))
            .unwrap()
            .unwrap();
        assert_eq!(second.id, first.id);
        assert_eq!(second.attempts, 2);
        assert!(
            !done(&jobs, &first, later),
            "the stale owner cannot complete it"
        );
        assert!(done(&jobs, &second, later));
        assert_eq!(
            jobs.claim(KINDS, later + Duration::hours(1), Duration::seconds(30))
                .unwrap(),
            None
        );
    }
}

#[test]
fn a_renewed_lease_keeps_the_job_and_a_lost_one_cannot_be_renewed() {
    for db in TestDb::all() {
        let jobs = db.store.jobs();
        let now = Utc::now();
        enqueue(&db.store, now, 3);
        let lease = Duration::seconds(30);
        let first = jobs.claim(KINDS, now, lease).unwrap().unwrap();
        let at_20 = now + Duration::seconds(20);
        assert!(jobs.renew(&first, at_20, lease).unwrap(), "owner renews");
        assert_eq!(
            jobs.claim(KINDS, now + Duration::seconds(45), lease)
                .unwrap(),
            None,
            "past the first lease but within the renewed one: not due"
        );
        let after = at_20 + Duration::seconds(31);
        let second = jobs.claim(KINDS, after, lease).unwrap().unwrap();
        assert_eq!(second.id, first.id, "an expired renewal is claimed again");
        assert!(
            !jobs.renew(&first, after, lease).unwrap(),
            "the stale owner cannot renew"
        );
        assert!(jobs.renew(&second, after, lease).unwrap());
        assert!(done(&jobs, &second, after));
        assert!(
            !jobs.renew(&second, after, lease).unwrap(),
            "a finished job has no lease to renew"
        );
    }
}

#[test]
fn failed_job_comes_back_after_its_backoff_then_dies() {
    for db in TestDb::all() {
        let jobs = db.store.jobs();
        let now = Utc::now();
        let id = enqueue(&db.store, now, 2);
        let job = jobs
            .claim(KINDS, now, Duration::seconds(30))
            .unwrap()
            .unwrap();
        assert_eq!(
            retry(&jobs, &job, "connection refused", now),
            Some(Fate::RetryAt(now + Duration::seconds(60)))
        );
        assert_eq!(
            jobs.claim(KINDS, now + Duration::seconds(59), Duration::seconds(30))
                .unwrap(),
            None
        );
        let again = jobs
            .claim(KINDS, now + Duration::seconds(60), Duration::seconds(30))
            .unwrap()
            .unwrap();
        assert_eq!(again.attempts, 2);
        assert_eq!(retry(&jobs, &again, "still refused", now), Some(Fate::Dead));
        let (status, attempts, error, _) = jobs.status(id).unwrap();
        assert_eq!(
            (status.as_str(), attempts, error.as_deref()),
            ("dead", 2, Some("still refused"))
        );
        assert_eq!(
            jobs.claim(KINDS, now + Duration::days(1), Duration::seconds(30))
                .unwrap(),
            None
        );
    }
}

#[test]
fn released_job_is_ready_at_once_without_counting_an_attempt() {
    for db in TestDb::all() {
        let jobs = db.store.jobs();
        let now = Utc::now();
        jobs.enqueue(&DeliverWebhook { delivery_id: 1 }, now)
            .unwrap();
        let kinds = &[JobKind::DeliverWebhook];
        let job = jobs
            .claim(kinds, now, Duration::minutes(5))
            .unwrap()
            .unwrap();
        assert!(jobs.release(&job, now).unwrap());
        let again = jobs
            .claim(kinds, now, Duration::minutes(5))
            .unwrap()
            .unwrap();
        assert_eq!(again.attempts, 1);
        assert_eq!(
            jobs.claim(&[JobKind::SendMessage], now, Duration::minutes(5))
                .unwrap(),
            None,
            "other kinds untouched"
        );
    }
}

#[test]
fn effects_commit_with_the_outcome_or_not_at_all() {
    for db in TestDb::all() {
        let jobs = db.store.jobs();
        let now = Utc::now();
        let id = enqueue(&db.store, now, 3);
        let job = jobs
            .claim(KINDS, now, Duration::minutes(5))
            .unwrap()
            .unwrap();
        // an effect that fails takes the outcome with it: the job is still running, ours
        let failed = jobs.finish(&job, &Outcome::Done, now, |tx, _| {
            tx.jobs()
                .enqueue(&DeliverWebhook { delivery_id: 7 }, now, 1)?;
            Err(StoreError::Conflict("the message moved on".into()))
        });
        assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
        assert_eq!(jobs.status(id).unwrap().0, "running");
        let webhooks = &[JobKind::DeliverWebhook];
        assert_eq!(
            jobs.claim(webhooks, now, Duration::minutes(5)).unwrap(),
            None
        );
        // the same outcome with an effect that succeeds: both are written
        let fate = jobs
            .finish(
                &job,
                &Outcome::Stop {
                    reason: "refused".into(),
                },
                now,
                |tx, fate| {
                    assert_eq!(fate, Fate::Dead, "the effects learn the fate");
                    tx.jobs()
                        .enqueue(&DeliverWebhook { delivery_id: 8 }, now, 1)?;
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(fate, Some(Fate::Dead));
        assert_eq!(jobs.status(id).unwrap().2.as_deref(), Some("refused"));
        let follow_up = jobs
            .claim(webhooks, now, Duration::minutes(5))
            .unwrap()
            .unwrap();
        let input = DeliverWebhook::parse(&follow_up.payload).unwrap();
        assert_eq!(input.delivery(), WebhookDeliveryId(8));
    }
}

#[test]
fn a_stale_owner_writes_neither_outcome_nor_effects() {
    for db in TestDb::all() {
        let jobs = db.store.jobs();
        let now = Utc::now();
        enqueue(&db.store, now, 3);
        let stale = jobs
            .claim(KINDS, now, Duration::seconds(30))
            .unwrap()
            .unwrap();
        let later = now + Duration::seconds(31);
        let owner = jobs
            .claim(KINDS, later, Duration::seconds(30))
            .unwrap()
            .unwrap();
        let mut ran = false;
        let fate = jobs
            .finish(&stale, &Outcome::Done, later, |_, _| {
                ran = true;
                Ok(())
            })
            .unwrap();
        assert_eq!(fate, None);
        assert!(!ran, "effects of a lost lease do not run");
        assert!(done(&jobs, &owner, later));
    }
}

#[test]
fn a_job_is_enqueued_with_its_kinds_attempts() {
    for db in TestDb::all() {
        let jobs = db.store.jobs();
        let now = Utc::now();
        jobs.enqueue(&send(5), now).unwrap();
        let job = jobs
            .claim(KINDS, now, Duration::minutes(5))
            .unwrap()
            .unwrap();
        assert_eq!(job.max_attempts, SendMessage::RETRY.max_attempts);
        assert_eq!(SendMessage::parse(&job.payload).unwrap(), send(5));
    }
}
