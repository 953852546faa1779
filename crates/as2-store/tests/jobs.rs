//! The job queue: exclusive claims under concurrency, lease expiry, backoff, dead jobs.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use as2_domain::job::JobKind;
use as2_store::jobs::FailOutcome;
use as2_store::testing::TestDb;
use as2_store::{Database, PoolOptions};
use chrono::{Duration, Utc};

const KINDS: &[JobKind] = &[JobKind::SendMessage];

#[test]
fn concurrent_claimants_never_share_a_job() {
    for db in TestDb::all() {
        claim_concurrently(&db);
    }
}

fn claim_concurrently(db: &TestDb) {
    const JOBS: usize = 200;
    for _ in 0..JOBS {
        db.store
            .jobs()
            .enqueue(
                JobKind::SendMessage,
                "{}",
                Utc::now() - Duration::seconds(1),
                3,
            )
            .unwrap();
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
                let store = as2_store::Store::new(pool, as2_store::testing::test_secrets());
                while let Some(job) = store
                    .jobs()
                    .claim(KINDS, Utc::now(), Duration::minutes(5))
                    .unwrap()
                {
                    assert!(store.jobs().complete(&job, Utc::now()).unwrap());
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
        jobs.enqueue(JobKind::SendMessage, "{}", now, 3).unwrap();
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
            !jobs.complete(&first, later).unwrap(),
            "the stale owner cannot complete it"
        );
        assert!(jobs.complete(&second, later).unwrap());
        assert_eq!(
            jobs.claim(KINDS, later + Duration::hours(1), Duration::seconds(30))
                .unwrap(),
            None
        );
    }
}

#[test]
fn failed_job_comes_back_after_its_backoff_then_dies() {
    for db in TestDb::all() {
        let jobs = db.store.jobs();
        let now = Utc::now();
        let id = jobs.enqueue(JobKind::SendMessage, "{}", now, 2).unwrap();
        let job = jobs
            .claim(KINDS, now, Duration::seconds(30))
            .unwrap()
            .unwrap();
        let outcome = jobs
            .fail(&job, "connection refused", now, Duration::seconds(60))
            .unwrap();
        assert_eq!(
            outcome,
            Some(FailOutcome::RetryAt(now + Duration::seconds(60)))
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
        assert_eq!(
            jobs.fail(&again, "still refused", now, Duration::seconds(60))
                .unwrap(),
            Some(FailOutcome::Dead)
        );
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
        jobs.enqueue(JobKind::DeliverWebhook, "{}", now, 3).unwrap();
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
