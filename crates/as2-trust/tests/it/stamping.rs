//! Time-stamping of timeline events on every backend: a remote RFC 3161 TSA over real
//! HTTP (tokens that verify, a TSA that is down and the retry, answers that are not a
//! token for the event), the remote configuration's checks, and the built-in authority
//! shared by two gateways (one identity, serials that never repeat).

use std::collections::HashSet;

use crate::common::{
    backend, closed_url, fake_certificate, fixture, http_tsa, local_stamper, second_store,
};
use as2_store::testing::TestDb;
use as2_test_support::listener::CountingServer;
use as2_trust::lifecycle::{self, Subject};
use as2_trust::scheduler;
use as2_trust::stamper::{StampError, Stamper, TsaConfig, digest};
use as2_trust::verify::verify_timeline;
use chrono::{Duration, Utc};

/// A partner with a certificate and a scheduled rollover; returns the fixture and the
/// scheduling transition.
fn scheduled(store: &as2_store::Store) -> (crate::common::Fixture, lifecycle::Transition) {
    let now = Utc::now();
    let fx = fixture(store, |store, scope| {
        Some(fake_certificate(store, scope, now + Duration::days(60)))
    });
    let next = fake_certificate(store, fx.scope, now + Duration::days(400));
    let transition = lifecycle::schedule(
        store,
        fx.scope,
        Subject::Partner(fx.partner.id),
        next,
        now + Duration::days(1),
        now + Duration::days(8),
        "key_test",
        now,
    )
    .unwrap();
    (fx, transition)
}

fn tokens(store: &as2_store::Store, fx: &crate::common::Fixture) -> Vec<Option<Vec<u8>>> {
    store
        .trust()
        .events(
            fx.scope,
            Subject::Partner(fx.partner.id).kind(),
            fx.partner.id.0,
        )
        .unwrap()
        .into_iter()
        .map(|e| e.timestamp_token)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_tsa_over_http_stamps_events_that_verify() {
    let tsa = http_tsa().await;
    for db in TestDb::all() {
        let name = backend(&db);
        let store = db.store.clone();
        let config = TsaConfig::remote(&tsa.url("/tsa"), &tsa.pem()).unwrap();
        let stamper = local_stamper(store.clone(), config);
        let (fx, transition) = scheduled(&store);
        let subject = Subject::Partner(fx.partner.id);
        assert!(stamper.stamp_event(&transition.event).await, "{name}");
        let cancelled = lifecycle::cancel(&store, fx.scope, subject, "key_test", "test").unwrap();
        assert!(stamper.stamp_event(&cancelled.event).await, "{name}");

        let stored = tokens(&store, &fx);
        assert_eq!(stored.len(), 2, "{name}");
        let token = stored[0].as_ref().expect("a token");
        let info = as2_evidence::verify::verify_token(
            token,
            &digest(&transition.event.hash).unwrap(),
            std::slice::from_ref(&tsa.certificate),
        )
        .unwrap();
        assert_eq!(info.tsa_subject, tsa.certificate.subject(), "{name}");

        let verification = verify_timeline(&store, &stamper, fx.scope, subject)
            .await
            .unwrap();
        assert!(verification.valid, "{name}: {:?}", verification.problems);
        assert_eq!(verification.events, 2, "{name}");
        assert!(verification.problems.is_empty(), "{name}");

        // a stamper trusting another TSA does not accept these tokens
        let other = TsaConfig::remote(
            &tsa.url("/tsa"),
            crate::common::x509("CN=not the TSA", Duration::days(1))
                .to_pem()
                .as_bytes(),
        )
        .unwrap();
        let stranger = local_stamper(store.clone(), other);
        let verification = verify_timeline(&store, &stranger, fx.scope, subject)
            .await
            .unwrap();
        assert!(!verification.valid, "{name}");
        assert_eq!(verification.problems.len(), 2, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stamped_while_the_tsa_is_down_is_stamped_later() {
    let tsa = http_tsa().await;
    for db in TestDb::all() {
        let name = backend(&db);
        let store = db.store.clone();
        let down = local_stamper(
            store.clone(),
            TsaConfig::remote(&closed_url().await, &tsa.pem()).unwrap(),
        );
        let up = local_stamper(
            store.clone(),
            TsaConfig::remote(&tsa.url("/tsa"), &tsa.pem()).unwrap(),
        );
        let (fx, transition) = scheduled(&store);
        let subject = Subject::Partner(fx.partner.id);

        let unreachable = down.token(&transition.event.hash).await;
        assert!(
            matches!(unreachable, Err(StampError::Unreachable { .. })),
            "{name}: {unreachable:?}"
        );
        assert!(!down.stamp_event(&transition.event).await, "{name}");
        assert_eq!(tokens(&store, &fx), vec![None], "{name}");
        let verification = verify_timeline(&store, &up, fx.scope, subject)
            .await
            .unwrap();
        assert!(!verification.valid, "{name}");
        assert_eq!(verification.problems.len(), 1, "{name}");
        assert!(
            verification.problems[0].starts_with(&transition.event.id.to_string())
                && verification.problems[0].contains("no time-stamp token"),
            "{name}: {:?}",
            verification.problems
        );

        // still down: the retry stamps nothing
        assert_eq!(
            scheduler::stamp_pending(&store, &down, 50).await,
            0,
            "{name}"
        );
        assert_eq!(tokens(&store, &fx), vec![None], "{name}");
        // back up: the event gets its token, once
        assert_eq!(scheduler::stamp_pending(&store, &up, 50).await, 1, "{name}");
        assert_eq!(scheduler::stamp_pending(&store, &up, 50).await, 0, "{name}");
        let verification = verify_timeline(&store, &up, fx.scope, subject)
            .await
            .unwrap();
        assert!(verification.valid, "{name}: {:?}", verification.problems);
        assert_eq!(verification.events, 1, "{name}");
        // a token is never replaced
        let first = tokens(&store, &fx);
        up.stamp_event(&transition.event).await;
        assert_eq!(tokens(&store, &fx), first, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tsa_answer_that_is_not_a_token_for_the_event_is_refused() {
    let tsa = http_tsa().await;
    for db in TestDb::all() {
        let name = backend(&db);
        let store = db.store.clone();
        let (fx, transition) = scheduled(&store);
        let hash = &transition.event.hash;
        let at = |route: &str| {
            local_stamper(
                store.clone(),
                TsaConfig::remote(&tsa.url(route), &tsa.pem()).unwrap(),
            )
        };

        let garbage = at("/garbage");
        let answer = garbage.token(hash).await;
        assert!(
            matches!(answer, Err(StampError::Invalid(_))),
            "{name}: {answer:?}"
        );
        assert!(!garbage.stamp_event(&transition.event).await, "{name}");

        let forged = at("/other-hash");
        let answer = forged.token(hash).await;
        assert!(
            matches!(
                answer,
                Err(StampError::Invalid(as2_evidence::Error::ImprintMismatch))
            ),
            "{name}: {answer:?}"
        );
        assert!(!forged.stamp_event(&transition.event).await, "{name}");

        let failing = at("/error");
        let answer = failing.token(hash).await;
        assert!(
            matches!(&answer, Err(StampError::Unreachable { reason, .. }) if reason.contains("500")),
            "{name}: {answer:?}"
        );

        // nothing was stored: the event still waits for a token
        assert_eq!(tokens(&store, &fx), vec![None], "{name}");
        assert_eq!(
            store.trust().unstamped(10).unwrap(),
            vec![(transition.event.id, hash.clone())],
            "{name}"
        );
        // and a hash that is not a SHA-256 never reaches the TSA
        assert!(matches!(
            at("/tsa").token("abcd").await,
            Err(StampError::BadHash)
        ));
    }
}

#[test]
fn a_remote_tsa_needs_an_http_url_and_a_certificate() {
    let pem = crate::common::x509("CN=Some TSA", Duration::days(1)).to_pem();
    assert!(TsaConfig::remote("http://tsa.example/", pem.as_bytes()).is_ok());
    assert!(TsaConfig::remote("https://tsa.example/", pem.as_bytes()).is_ok());
    let der = crate::common::x509("CN=Some TSA", Duration::days(1))
        .der()
        .to_vec();
    assert!(TsaConfig::remote("https://tsa.example/", &der).is_ok());

    for url in ["ftp://tsa.example/", "tsa.example", ""] {
        let refused = TsaConfig::remote(url, pem.as_bytes()).unwrap_err();
        assert!(refused.contains("http(s)"), "{url}: {refused}");
    }
    let refused = TsaConfig::remote("https://tsa.example/", b"not a certificate").unwrap_err();
    assert!(refused.contains("does not parse"), "{refused}");
    let key_only = as2_core::keys::private_key_to_pem(crate::common::key()).unwrap();
    assert!(TsaConfig::remote("https://tsa.example/", key_only.as_bytes()).is_err());
}

#[tokio::test]
async fn the_built_in_policy_is_the_installations_own_uuid_oid_or_the_operators() {
    let db = TestDb::sqlite();
    let stamper = Stamper::new(db.store.clone(), TsaConfig::BuiltIn);
    let hash = hex::encode(as2_evidence::sha256(b"an event"));
    let trusted = stamper.trusted().await.unwrap();
    let token = stamper.token(&hash).await.unwrap();
    let info =
        as2_evidence::verify::verify_token(&token, &digest(&hash).unwrap(), &trusted).unwrap();
    // 2.25.<UUID> (X.667): owned by the installation without registration, never 1.2.3.4.1
    let policy = info.policy.to_string();
    assert!(policy.starts_with("2.25."), "{policy}");
    let uuid: u128 = policy["2.25.".len()..].parse().unwrap();
    assert_eq!((uuid >> 76) & 0xf, 8, "a version-8 UUID: {uuid:032x}");
    assert_eq!(
        (uuid >> 62) & 0b11,
        0b10,
        "the RFC 9562 variant: {uuid:032x}"
    );
    assert_eq!(
        info.policy,
        as2_trust::stamper::installation_policy(&trusted[0])
    );
    // the same installation keeps it; another installation has another one
    let again = Stamper::new(db.store.clone(), TsaConfig::BuiltIn);
    let token = again.token(&hash).await.unwrap();
    let info_again =
        as2_evidence::verify::verify_token(&token, &digest(&hash).unwrap(), &trusted).unwrap();
    assert_eq!(info_again.policy, info.policy);
    let other = TestDb::sqlite();
    let other_trusted = Stamper::new(other.store.clone(), TsaConfig::BuiltIn)
        .trusted()
        .await
        .unwrap();
    assert_ne!(
        as2_trust::stamper::installation_policy(&other_trusted[0]),
        info.policy
    );
    // the operator's policy when one is set
    let chosen: as2_evidence::PolicyId = "1.3.6.1.4.1.99999.42".parse().unwrap();
    let operator = Stamper::new(db.store.clone(), TsaConfig::BuiltInUnder(chosen.clone()));
    let token = operator.token(&hash).await.unwrap();
    let info =
        as2_evidence::verify::verify_token(&token, &digest(&hash).unwrap(), &trusted).unwrap();
    assert_eq!(info.policy, chosen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_gateways_share_one_built_in_authority_and_never_repeat_a_serial() {
    for db in TestDb::all() {
        let name = backend(&db);
        let one = Stamper::new(db.store.clone(), TsaConfig::BuiltIn);
        let two = Stamper::new(second_store(&db), TsaConfig::BuiltIn);
        // both create the identity at the same time
        let (a, b) = tokio::join!(one.trusted(), two.trusted());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.len(), 1, "{name}");
        assert_eq!(a[0].der(), b[0].der(), "{name}: two TSA identities");
        // a third gateway started later finds the same one
        let three = Stamper::new(second_store(&db), TsaConfig::BuiltIn);
        assert_eq!(
            three.trusted().await.unwrap()[0].der(),
            a[0].der(),
            "{name}"
        );

        let hash = hex::encode(as2_evidence::sha256(b"an event"));
        let expected = digest(&hash).unwrap();
        let issue = |stamper: Stamper| {
            let hash = hash.clone();
            tokio::spawn(async move {
                let mut tokens = Vec::new();
                for _ in 0..8 {
                    tokens.push(stamper.token(&hash).await.unwrap());
                }
                tokens
            })
        };
        let (x, y, z) = tokio::join!(issue(one.clone()), issue(two.clone()), issue(three));
        let mut serials = HashSet::new();
        for token in [x.unwrap(), y.unwrap(), z.unwrap()].concat() {
            let info = as2_evidence::verify::verify_token(&token, &expected, &a).unwrap();
            assert_eq!(
                info.policy,
                as2_trust::stamper::installation_policy(&a[0]),
                "{name}"
            );
            let serial = info.serial_u128().unwrap();
            assert!(serials.insert(serial), "{name}: serial {serial} repeated");
        }
        assert_eq!(serials.len(), 24, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tsa_on_a_refused_address_is_never_contacted() {
    let tsa = http_tsa().await;
    let server = CountingServer::start(200, None).await.unwrap();
    let port = server.port;
    for db in TestDb::all() {
        let name = backend(&db);
        let store = db.store.clone();
        let (fx, transition) = scheduled(&store);
        // the default policy: no loopback, whether named or written as an address
        for url in [
            format!("http://localhost:{port}/tsa"),
            format!("http://127.0.0.1:{port}/tsa"),
            format!("http://[::ffff:127.0.0.1]:{port}/tsa"),
        ] {
            let strict = crate::common::stamper_under(
                store.clone(),
                TsaConfig::remote(&url, &tsa.pem()).unwrap(),
                as2_domain::destination::DestinationPolicy::strict(),
            );
            let answer = strict.token(&transition.event.hash).await;
            match &answer {
                Err(StampError::Refused { reason, .. }) => {
                    assert!(reason.contains("loopback"), "{name}: {reason}");
                    assert!(reason.contains("AS2_OUTBOUND_ALLOW"), "{name}: {reason}");
                }
                other => panic!("{name} {url}: {other:?}"),
            }
            assert!(!strict.stamp_event(&transition.event).await, "{name}");
        }
        assert_eq!(tokens(&store, &fx), vec![None], "{name}");
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tsa_redirect_is_not_followed() {
    let tsa = http_tsa().await;
    // the redirect's target counts what reaches it; the redirecting server answers 307
    let reached = CountingServer::start(200, None).await.unwrap();
    let asked = CountingServer::start(307, Some(reached.url("/tsa")))
        .await
        .unwrap();
    let port = asked.port;
    let db = TestDb::sqlite();
    let store = db.store.clone();
    let (fx, transition) = scheduled(&store);
    let stamper = local_stamper(
        store.clone(),
        TsaConfig::remote(&format!("http://127.0.0.1:{port}/tsa"), &tsa.pem()).unwrap(),
    );
    let answer = stamper.token(&transition.event.hash).await;
    match &answer {
        Err(StampError::Refused { reason, .. }) => {
            assert!(reason.contains("HTTP 307"), "{reason}");
            assert!(reason.contains("not followed"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(asked.connections(), 1);
    assert_eq!(reached.connections(), 0);
    assert_eq!(tokens(&store, &fx), vec![None]);
}
