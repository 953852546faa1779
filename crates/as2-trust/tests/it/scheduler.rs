//! The scheduler's transitions on every backend: nothing before the scheduled time, and
//! exactly one activation and one retirement when two gateways (two stores on the same
//! database) run it concurrently, again and again.

use crate::common::{backend, fake_certificate, fixture, second_store};
use as2_domain::trust::TrustState;
use as2_store::Store;
use as2_store::testing::TestDb;
use as2_trust::lifecycle::{self, Subject};
use as2_trust::scheduler;
use as2_trust::stamper::{Stamper, TsaConfig};
use as2_trust::verify::verify_timeline;
use chrono::{DateTime, Duration, Utc};

fn count(store: &Store, fx: &crate::common::Fixture, event_type: &str) -> usize {
    store
        .trust()
        .events(
            fx.scope,
            Subject::Partner(fx.partner.id).kind(),
            fx.partner.id.0,
        )
        .unwrap()
        .iter()
        .filter(|e| e.event_type == event_type)
        .count()
}

/// Runs the scheduler from both gateways at once, `rounds` times; the transitions made.
async fn race(
    (one, two): (&Store, &Store),
    (s1, s2): (&Stamper, &Stamper),
    at: DateTime<Utc>,
    rounds: usize,
) -> usize {
    let mut made = 0;
    for _ in 0..rounds {
        let (a, b) = tokio::join!(
            scheduler::run_due(one, s1, at),
            scheduler::run_due(two, s2, at)
        );
        made += a + b;
    }
    made
}

/// Partners (each in its own tenant) racing at once: more chances for a lost update.
const PARTNERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_gateways_activate_and_retire_exactly_once() {
    for db in TestDb::all() {
        let name = backend(&db);
        let one = db.store.clone();
        let two = second_store(&db);
        let s1 = Stamper::new(one.clone(), TsaConfig::BuiltIn);
        let s2 = Stamper::new(two.clone(), TsaConfig::BuiltIn);
        let now = Utc::now();
        let activate_at = now + Duration::seconds(1);
        let retire_at = now + Duration::hours(1);
        let mut rollovers = Vec::new();
        for _ in 0..PARTNERS {
            let fx = fixture(&one, |store, scope| {
                Some(fake_certificate(store, scope, now + Duration::days(60)))
            });
            let old = fx.partner.settings.certificate_id.unwrap();
            let new = fake_certificate(&one, fx.scope, now + Duration::days(400));
            let scheduled = lifecycle::schedule(
                &one,
                fx.scope,
                Subject::Partner(fx.partner.id),
                new,
                activate_at,
                retire_at,
                "key_test",
                now,
            )
            .unwrap();
            assert!(s1.stamp_event(&scheduled.event).await, "{name}");
            rollovers.push((fx, old, new));
        }

        // before activate_at: nothing is due
        assert_eq!(race((&one, &two), (&s1, &s2), now, 2).await, 0, "{name}");
        for (fx, old, _) in &rollovers {
            let subject = Subject::Partner(fx.partner.id);
            let record = lifecycle::load(&two, fx.scope, subject).unwrap().record;
            assert_eq!(record.state, TrustState::RolloverScheduled, "{name}");
            assert_eq!(record.current, Some(*old), "{name}");
            assert_eq!(count(&one, fx, "activated"), 0, "{name}");
        }

        // activate_at has passed (by a second): one activation each, whoever gets there first
        let due = now + Duration::seconds(2);
        let made = race((&one, &two), (&s1, &s2), due, 5).await;
        assert_eq!(made, PARTNERS, "{name}");
        for (fx, old, new) in &rollovers {
            let subject = Subject::Partner(fx.partner.id);
            assert_eq!(count(&one, fx, "activated"), 1, "{name}");
            let record = lifecycle::load(&two, fx.scope, subject).unwrap().record;
            assert_eq!(record.state, TrustState::Activated, "{name}");
            assert_eq!(
                (record.current, record.next, record.previous),
                (Some(*new), None, Some(*old)),
                "{name}"
            );
            assert_eq!(record.accepted(), vec![*new, *old], "{name}");
            let partner = one.partners().get(fx.scope, fx.partner.id).unwrap();
            assert_eq!(partner.settings.certificate_id, Some(*new), "{name}");
        }

        // between activation and retirement nothing more happens
        let between = now + Duration::minutes(30);
        assert_eq!(
            race((&one, &two), (&s1, &s2), between, 2).await,
            0,
            "{name}"
        );

        // at retire_at: one retirement each
        let retire = retire_at + Duration::seconds(1);
        let made = race((&one, &two), (&s1, &s2), retire, 5).await;
        assert_eq!(made, PARTNERS, "{name}");
        for (fx, _, new) in &rollovers {
            let subject = Subject::Partner(fx.partner.id);
            assert_eq!(count(&one, fx, "retired"), 1, "{name}");
            assert_eq!(count(&one, fx, "activated"), 1, "{name}");
            let record = lifecycle::load(&one, fx.scope, subject).unwrap().record;
            assert_eq!(record.state, TrustState::Active, "{name}");
            assert_eq!(
                (record.current, record.previous),
                (Some(*new), None),
                "{name}"
            );
            assert_eq!(record.accepted(), vec![*new], "{name}");

            // the scheduler's events carry its name and their tokens; the chain holds
            let events = one
                .trust()
                .events(fx.scope, subject.kind(), fx.partner.id.0)
                .unwrap();
            let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
            assert_eq!(
                types,
                ["rollover_scheduled", "activated", "retired"],
                "{name}"
            );
            assert!(
                events[1..].iter().all(|e| e.actor == scheduler::SCHEDULER),
                "{name}"
            );
            let verification = verify_timeline(&two, &s2, fx.scope, subject).await.unwrap();
            assert!(verification.valid, "{name}: {:?}", verification.problems);
            assert_eq!(verification.events, 3, "{name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollover_whose_next_certificate_is_not_valid_yet_is_not_activated() {
    for db in TestDb::all() {
        let name = backend(&db);
        let store = db.store.clone();
        let stamper = Stamper::new(store.clone(), TsaConfig::BuiltIn);
        let now = Utc::now();
        let fx = fixture(&store, |store, scope| {
            Some(fake_certificate(store, scope, now + Duration::days(60)))
        });
        let subject = Subject::Partner(fx.partner.id);
        let new = fake_certificate(&store, fx.scope, now + Duration::days(400));
        lifecycle::schedule(
            &store,
            fx.scope,
            subject,
            new,
            now + Duration::days(1),
            now + Duration::days(8),
            "key_test",
            now,
        )
        .unwrap();
        // due long after the next certificate expired: the activation is refused, logged,
        // and not retried into a half-done state
        let late = now + Duration::days(500);
        assert_eq!(
            scheduler::run_due(&store, &stamper, late).await,
            0,
            "{name}"
        );
        let record = lifecycle::load(&store, fx.scope, subject).unwrap().record;
        assert_eq!(record.state, TrustState::RolloverScheduled, "{name}");
        assert_eq!(count(&store, &fx, "activated"), 0, "{name}");
    }
}
