//! The console's tables on both backends: users and memberships, sessions (expiry, idle
//! timeout, revocation, one user's sessions ended together), the sign-in throttle, and the
//! audit log with its filters and its tenant and mode isolation.

use crate::common::*;
use as2_domain::Mode;
use as2_domain::audit::{Actor, ActorKind};
use as2_domain::pagination::PageRequest;
use as2_domain::user::{LockoutPolicy, Role};
use as2_store::StoreError;
use as2_store::repo::audit::{AuditFilter, NewAuditEvent};
use as2_store::repo::sessions::NewSession;
use as2_store::testing::TestDb;
use chrono::{Duration, Utc};

#[test]
fn users_have_one_email_and_a_role_per_tenant() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let users = store.users();
        assert!(!users.any().unwrap());
        let ada = users
            .create("ada@example.com", "Ada", "$argon2id$x")
            .unwrap();
        assert!(users.any().unwrap());
        assert!(matches!(
            users.create("ada@example.com", "Other Ada", "$argon2id$y"),
            Err(StoreError::Conflict(_))
        ));
        let (found, hash) = users.credentials("ada@example.com").unwrap();
        assert_eq!((found.id, hash.as_str()), (ada.id, "$argon2id$x"));
        users.set_password(ada.id, "$argon2id$z").unwrap();
        assert_eq!(
            users.credentials("ada@example.com").unwrap().1,
            "$argon2id$z"
        );
        assert!(matches!(
            users.credentials("bob@example.com"),
            Err(StoreError::NotFound)
        ));

        users.set_role(ada.id, s.a.tenant_id, Role::Viewer).unwrap();
        users.set_role(ada.id, s.a.tenant_id, Role::Admin).unwrap();
        let memberships = users.memberships(ada.id).unwrap();
        assert_eq!(memberships.len(), 1);
        assert_eq!(memberships[0].role, Role::Admin);
        assert_eq!(memberships[0].tenant_name, "Acme EU");
        assert!(matches!(
            users.membership(ada.id, s.b.tenant_id),
            Err(StoreError::NotFound)
        ));
        let (of_a, total) = users
            .of_tenant(s.a.tenant_id, PageRequest::default())
            .unwrap();
        assert_eq!((total, of_a[0].0.id, of_a[0].1), (1, ada.id, Role::Admin));
        assert_eq!(
            users
                .of_tenant(s.b.tenant_id, PageRequest::default())
                .unwrap()
                .1,
            0
        );
        users.remove_membership(ada.id, s.a.tenant_id).unwrap();
        assert!(users.memberships(ada.id).unwrap().is_empty());
    }
}

#[test]
fn sessions_end_by_expiry_idleness_and_revocation() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let ada = store.users().create("ada@example.com", "Ada", "h").unwrap();
        let now = Utc::now();
        let open = |hash: &str, now| {
            store
                .sessions()
                .create(&NewSession {
                    user_id: ada.id,
                    token_hash: hash,
                    csrf_token: "csrf",
                    tenant_id: Some(s.a.tenant_id),
                    mode: Mode::Test,
                    now,
                    expires_at: now + Duration::hours(12),
                    ip: Some("192.0.2.1"),
                    user_agent: Some("test"),
                })
                .unwrap()
        };
        let idle = Duration::minutes(30);
        let first = open("h1", now);
        let (session, user) = store.sessions().active("h1", now, idle).unwrap();
        assert_eq!(
            (session.id, user.id, session.csrf_token.as_str()),
            (first.id, ada.id, "csrf")
        );
        assert!(matches!(
            store.sessions().active("h0", now, idle),
            Err(StoreError::NotFound)
        ));
        // idle for longer than the timeout, or past the expiry: gone
        assert!(
            store
                .sessions()
                .active("h1", now + Duration::minutes(31), idle)
                .is_err()
        );
        assert!(
            store
                .sessions()
                .active("h1", now + Duration::hours(13), Duration::days(1))
                .is_err()
        );
        // a use moves the idle clock (recorded at most once a minute)
        store
            .sessions()
            .active("h1", now + Duration::minutes(20), idle)
            .unwrap();
        store
            .sessions()
            .active("h1", now + Duration::minutes(45), idle)
            .unwrap();

        store
            .sessions()
            .select(first.id, s.b.tenant_id, Mode::Live)
            .unwrap();
        let (switched, _) = store.sessions().active("h1", now, idle).unwrap();
        assert_eq!(
            (switched.tenant_id, switched.mode),
            (Some(s.b.tenant_id), Mode::Live)
        );

        store.sessions().revoke(first.id, now).unwrap();
        store.sessions().revoke(first.id, now).unwrap();
        assert!(store.sessions().active("h1", now, idle).is_err());

        open("h2", now);
        open("h3", now);
        assert_eq!(store.sessions().revoke_all(ada.id, now).unwrap(), 2);
        assert!(store.sessions().active("h2", now, idle).is_err());
        assert!(store.sessions().active("h3", now, idle).is_err());
    }
}

#[test]
fn failures_lock_a_subject_out_for_a_while() {
    for db in TestDb::all() {
        let sessions = db.store.sessions();
        let policy = LockoutPolicy {
            max_failures: 3,
            window: Duration::minutes(10),
            lockout: Duration::minutes(5),
        };
        let now = Utc::now();
        assert_eq!(sessions.locked_until("email:ada", now).unwrap(), None);
        assert_eq!(
            sessions.record_failure("email:ada", now, policy).unwrap(),
            None
        );
        assert_eq!(
            sessions.record_failure("email:ada", now, policy).unwrap(),
            None
        );
        let locked = sessions.record_failure("email:ada", now, policy).unwrap();
        assert!(locked.is_some_and(|until| until > now + Duration::minutes(4)));
        assert!(sessions.locked_until("email:ada", now).unwrap().is_some());
        assert!(sessions.locked_until("email:bob", now).unwrap().is_none());
        assert!(
            sessions
                .locked_until("email:ada", now + Duration::minutes(6))
                .unwrap()
                .is_none()
        );

        // failures older than the window do not count
        let later = now + Duration::minutes(30);
        sessions
            .record_failure("ip:192.0.2.1", later, policy)
            .unwrap();
        sessions
            .record_failure("ip:192.0.2.1", later, policy)
            .unwrap();
        let much_later = later + Duration::minutes(11);
        assert_eq!(
            sessions
                .record_failure("ip:192.0.2.1", much_later, policy)
                .unwrap(),
            None
        );
        // a success clears them
        sessions.clear_failures("ip:192.0.2.1").unwrap();
        sessions
            .record_failure("ip:192.0.2.1", much_later, policy)
            .unwrap();
        assert_eq!(
            sessions
                .record_failure("ip:192.0.2.1", much_later, policy)
                .unwrap(),
            None
        );
    }
}

#[test]
fn audit_events_are_filtered_and_isolated() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let key = Actor {
            kind: ActorKind::ApiKey,
            id: "key_000001".into(),
            label: "ci".into(),
        };
        let user = Actor {
            kind: ActorKind::User,
            id: "usr_000001".into(),
            label: "ada@example.com".into(),
        };
        let event = |actor, action, id| NewAuditEvent {
            actor,
            action,
            resource_type: "partner",
            resource_id: id,
            ip: Some("192.0.2.7"),
            user_agent: Some("curl/8"),
            changes: r#"{"name":"Acme","auth_password":"[redacted]"}"#,
        };
        let audit = store.audit();
        let first = audit
            .record(s.a, &event(&key, "partner.create", Some("prt_000001")))
            .unwrap();
        audit
            .record(s.a, &event(&user, "partner.update", Some("prt_000001")))
            .unwrap();
        audit
            .record(s.a, &event(&user, "partner.create", Some("prt_000002")))
            .unwrap();
        assert_eq!(first.actor, key);
        assert_eq!(first.ip.as_deref(), Some("192.0.2.7"));

        let page = PageRequest::default();
        let all = |f: AuditFilter| audit.list(s.a, &f, page).unwrap();
        let (events, total) = all(AuditFilter::default());
        assert_eq!(total, 3);
        assert_eq!(events[0].action, "partner.create", "newest first");
        assert_eq!(events[2].id, first.id);
        assert_eq!(
            all(AuditFilter {
                actor: Some("usr_000001".into()),
                ..Default::default()
            })
            .1,
            2
        );
        assert_eq!(
            all(AuditFilter {
                action: Some("partner.update".into()),
                ..Default::default()
            })
            .1,
            1
        );
        assert_eq!(
            all(AuditFilter {
                resource_id: Some("prt_000001".into()),
                ..Default::default()
            })
            .1,
            2
        );
        assert_eq!(
            all(AuditFilter {
                resource_type: Some("message".into()),
                ..Default::default()
            })
            .1,
            0
        );
        let at = first.created_at;
        assert_eq!(
            all(AuditFilter {
                since: Some(at + Duration::hours(1)),
                ..Default::default()
            })
            .1,
            0
        );
        assert_eq!(
            all(AuditFilter {
                until: Some(at),
                ..Default::default()
            })
            .1,
            0
        );
        assert_eq!(
            all(AuditFilter {
                since: Some(at),
                ..Default::default()
            })
            .1,
            3
        );

        for other in [s.b, s.a_live] {
            assert_eq!(
                audit.list(other, &AuditFilter::default(), page).unwrap().1,
                0
            );
        }
    }
}

/// Ada and Bob, both owners of a new tenant of `account` (`round` keeps them apart).
fn two_owners(
    store: &as2_store::Store,
    account: as2_domain::id::AccountId,
    round: usize,
) -> (
    as2_domain::user::User,
    as2_domain::user::User,
    as2_domain::id::TenantId,
) {
    let users = store.users();
    let ada = users
        .create(&format!("ada{round}@example.com"), "Ada", "h")
        .unwrap();
    let bob = users
        .create(&format!("bob{round}@example.com"), "Bob", "h")
        .unwrap();
    let tenant = store
        .accounts()
        .create_tenant(account, &format!("T{round}"))
        .unwrap()
        .id;
    users.set_role(ada.id, tenant, Role::Owner).unwrap();
    users.set_role(bob.id, tenant, Role::Owner).unwrap();
    (ada, bob, tenant)
}

#[test]
fn two_owners_disabling_each_other_at_once_leave_one_active() {
    for db in TestDb::all() {
        let store = &db.store;
        let account = store
            .accounts()
            .create_account("Two owners", as2_domain::plan::Plan::Starter)
            .unwrap()
            .id;
        let users = store.users();
        for round in 0..10 {
            let (ada, bob, tenant) = two_owners(store, account, round);
            let barrier = std::sync::Barrier::new(2);
            let outcomes: Vec<_> = std::thread::scope(|threads| {
                let runs: Vec<_> = [ada.id, bob.id]
                    .into_iter()
                    .map(|user| {
                        let barrier = &barrier;
                        threads.spawn(move || {
                            barrier.wait();
                            store.users().disable(user, Utc::now()).unwrap()
                        })
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().unwrap()).collect()
            });
            let done = outcomes.iter().filter(|o| o.is_ok()).count();
            assert_eq!(done, 1, "round {round}: {outcomes:?}");
            assert!(outcomes.contains(&Err(tenant)), "{outcomes:?}");
            let active = users
                .owners(tenant)
                .unwrap()
                .into_iter()
                .filter(|o| o.disabled_at.is_none())
                .count();
            assert_eq!(active, 1, "round {round}");
        }
    }
}

#[test]
fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    for db in TestDb::all() {
        let store = &db.store;
        let account = store
            .accounts()
            .create_account("Two owners", as2_domain::plan::Plan::Starter)
            .unwrap()
            .id;
        let users = store.users();
        for round in 0..10 {
            let (ada, bob, tenant) = two_owners(store, account, round);
            let barrier = std::sync::Barrier::new(2);
            // one is made an admin while the other is taken out
            let outcomes: Vec<bool> = std::thread::scope(|threads| {
                let runs: Vec<_> = [(ada.id, Some(Role::Admin)), (bob.id, None)]
                    .into_iter()
                    .map(|(user, role)| {
                        let barrier = &barrier;
                        threads.spawn(move || {
                            barrier.wait();
                            store.users().change_membership(user, tenant, role).unwrap()
                        })
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().unwrap()).collect()
            });
            assert_eq!(
                outcomes.iter().filter(|done| **done).count(),
                1,
                "round {round}: {outcomes:?}"
            );
            assert_eq!(users.owners(tenant).unwrap().len(), 1, "round {round}");
        }
    }
}
