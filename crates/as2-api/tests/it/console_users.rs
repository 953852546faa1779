//! The users page's access changes over real HTTP: an owner disables a user (their session
//! ends at once, they cannot sign in) and enables them again, resets a password (the old
//! one fails, the new one works, every session ends); viewers, operators and admins are
//! refused, as is a form without its token; another tenant's owner does not find the user;
//! the last active owner is not disabled, and an account that also belongs to a tenant the
//! owner does not own is not theirs to change.

use as2_api::console::ConsoleConfig;
use as2_domain::id::UserId;
use as2_domain::user::Role;

use crate::console::{PASSWORD, Served};

fn id_of(served: &Served, email: &str) -> UserId {
    served.api.db.store.users().credentials(email).unwrap().0.id
}

/// The actions recorded on user `id` by `ada@example.com`, and the whole log's text.
async fn audited(served: &Served, id: UserId) -> (Vec<String>, String) {
    let audit = served
        .api
        .get(&format!("/v1/audit-events?resource_id={id}"))
        .await;
    let actions = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["label"] == "ada@example.com")
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect();
    (actions, audit.body.to_string())
}

/// Whether `token`'s session still opens the overview.
async fn alive(served: &Served, token: &str) -> bool {
    served.get("/console", token).await.status == 200
}

#[tokio::test]
async fn an_owner_disables_a_user_who_is_out_at_once_and_enables_them_again() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    served.user("bob@example.com", served.api.tenant, Role::Operator);
    let (ada, csrf) = served.session("ada@example.com").await;
    let (bob, _) = served.session("bob@example.com").await;
    let bob_id = id_of(&served, "bob@example.com");

    let listed = served.get("/console/users", &ada).await;
    assert!(
        listed
            .body
            .contains(&format!("action=\"/console/users/{bob_id}/disable\""))
    );
    assert!(
        listed
            .body
            .contains("aria-label=\"Disable bob@example.com\"")
    );

    let disabled = served
        .post(
            &format!("/console/users/{bob_id}/disable"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert!(
        disabled.body.contains(
            "bob@example.com is disabled: they cannot sign in (the 1 open session ended)."
        ),
        "{}",
        disabled.body
    );
    assert!(disabled.body.contains("<strong>Disabled</strong> since"));
    assert!(
        disabled
            .body
            .contains(&format!("action=\"/console/users/{bob_id}/enable\""))
    );
    assert!(!alive(&served, &bob).await, "the session ended at once");
    let refused = served.sign_in("bob@example.com", PASSWORD, &[]).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.body.contains("The email or the password is wrong."));
    assert!(alive(&served, &ada).await);

    let enabled = served
        .post(
            &format!("/console/users/{bob_id}/enable"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert!(enabled.body.contains("bob@example.com may sign in again."));
    assert!(!alive(&served, &bob).await, "the old session stays ended");
    let (again, _) = served.session("bob@example.com").await;
    assert!(alive(&served, &again).await);

    let (actions, _) = audited(&served, bob_id).await;
    assert!(actions.contains(&"user.disable".to_owned()), "{actions:?}");
    assert!(actions.contains(&"user.enable".to_owned()), "{actions:?}");
}

#[tokio::test]
async fn a_reset_password_is_shown_once_the_old_one_fails_and_sessions_end() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Owner);
    served.user("bob@example.com", served.api.tenant, Role::Viewer);
    let (ada, csrf) = served.session("ada@example.com").await;
    let (bob, _) = served.session("bob@example.com").await;
    let (bob_elsewhere, _) = served.session("bob@example.com").await;
    let bob_id = id_of(&served, "bob@example.com");

    let reset = served
        .post(
            &format!("/console/users/{bob_id}/reset-password"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert!(
        reset
            .body
            .contains("The password of bob@example.com was reset (the 2 open sessions ended)."),
        "{}",
        reset.body
    );
    let at = reset.body.find("id=\"new-password\">").unwrap() + 18;
    let password = reset.body[at..].split('<').next().unwrap().to_owned();
    assert_eq!(password.len(), 24);
    assert!(!alive(&served, &bob).await && !alive(&served, &bob_elsewhere).await);
    assert_eq!(
        served
            .sign_in("bob@example.com", PASSWORD, &[])
            .await
            .status,
        401,
        "the old password fails"
    );
    let signed = served.sign_in("bob@example.com", &password, &[]).await;
    assert_eq!(signed.status, 303, "the new one works: {}", signed.body);
    assert!(alive(&served, &signed.session_cookie().unwrap()).await);
    // shown once: the list after it does not have it
    assert!(
        !served
            .get("/console/users", &ada)
            .await
            .body
            .contains(&password)
    );

    let (actions, log) = audited(&served, bob_id).await;
    assert_eq!(actions, ["user.password_reset"]);
    assert!(!log.contains(&password) && !log.contains(&csrf));

    // an owner's own reset ends their own session too, and the page says so
    let ada_id = id_of(&served, "ada@example.com");
    let own = served
        .post(
            &format!("/console/users/{ada_id}/reset-password"),
            &ada,
            &[],
            &format!("csrf_token={csrf}"),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.contains("This session has ended too"));
    assert!(!alive(&served, &ada).await);
}

#[tokio::test]
async fn access_changes_are_refused_to_other_roles_other_tenants_and_the_last_owner() {
    let served = Served::start(ConsoleConfig::default()).await;
    let tenant = served.api.tenant;
    served.user("ada@example.com", tenant, Role::Owner);
    served.user("bob@example.com", tenant, Role::Operator);
    served.user("vic@example.com", tenant, Role::Viewer);
    served.user("otto@example.com", tenant, Role::Operator);
    served.user("adam@example.com", tenant, Role::Admin);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let bob_id = id_of(&served, "bob@example.com");
    let ada_id = id_of(&served, "ada@example.com");
    let (bob, _) = served.session("bob@example.com").await;
    let actions = ["disable", "enable", "reset-password"];

    for email in ["vic@example.com", "otto@example.com", "adam@example.com"] {
        let (token, csrf) = served.session(email).await;
        for action in actions {
            let forged = served
                .post(
                    &format!("/console/users/{bob_id}/{action}"),
                    &token,
                    &[],
                    &format!("csrf_token={csrf}"),
                )
                .await;
            assert_eq!(forged.status, 403, "{email} {action}");
        }
    }
    let (eve, eve_csrf) = served.session("eve@example.com").await;
    for action in actions {
        let foreign = served
            .post(
                &format!("/console/users/{bob_id}/{action}"),
                &eve,
                &[],
                &format!("csrf_token={eve_csrf}"),
            )
            .await;
        assert_eq!(foreign.status, 404, "{action}");
        assert!(foreign.body.contains("No such user here."));
    }
    let (ada, csrf) = served.session("ada@example.com").await;
    for action in actions {
        let bare = served
            .post(&format!("/console/users/{bob_id}/{action}"), &ada, &[], "")
            .await;
        assert_eq!(bare.status, 403, "{action} without the token");
    }
    assert!(alive(&served, &bob).await, "nothing was done to bob");
    assert_eq!(
        served
            .sign_in("bob@example.com", PASSWORD, &[])
            .await
            .status,
        303
    );

    // the last active owner, even with a disabled owner beside her
    let post = |path: String| {
        let (served, ada, csrf) = (&served, &ada, &csrf);
        async move {
            served
                .post(&path, ada, &[], &format!("csrf_token={csrf}&role=viewer"))
                .await
        }
    };
    let alone = post(format!("/console/users/{ada_id}/disable")).await;
    assert_eq!(alone.status, 409, "{}", alone.body);
    assert!(alone.body.contains("role=\"alert\""));
    assert!(
        alone
            .body
            .contains("ada@example.com is the last active owner of"),
        "{}",
        alone.body
    );
    served.user("carl@example.com", tenant, Role::Owner);
    let carl_id = id_of(&served, "carl@example.com");
    let carl_off = post(format!("/console/users/{carl_id}/disable")).await;
    assert_eq!(carl_off.status, 200, "{}", carl_off.body);
    for path in [
        format!("/console/users/{ada_id}/disable"),
        format!("/console/users/{ada_id}/role"),
        format!("/console/users/{ada_id}/remove"),
    ] {
        let refused = post(path.clone()).await;
        assert_eq!(refused.status, 409, "{path}: {}", refused.body);
    }
    assert!(alive(&served, &ada).await);

    // bob also belongs to eve's tenant: his account is not ada's to change
    served
        .api
        .db
        .store
        .users()
        .set_role(bob_id, foreign, Role::Viewer)
        .unwrap();
    for action in actions {
        let refused = post(format!("/console/users/{bob_id}/{action}")).await;
        assert_eq!(refused.status, 409, "{action}: {}", refused.body);
        assert!(
            refused
                .body
                .contains("bob@example.com also belongs to a tenant you do not own"),
            "{}",
            refused.body
        );
    }
    assert!(alive(&served, &bob).await);
    let (done, _) = audited(&served, bob_id).await;
    assert!(done.is_empty(), "{done:?}");
}
