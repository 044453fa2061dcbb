//! Package settings through the service: visibility, access list, Actions access, link and inheritance.

use entrepot_service::authz::{Deny, Principal, Role, Visibility, WorkflowLevel};
use entrepot_service::{GranteeRef, ServiceError};
use entrepot_testkit::{World, on_both, on_both_with};

use crate::support::{container, npm, publish_bytes};

#[tokio::test]
async fn grants_open_private_packages_to_users_and_teams() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let key = npm("acme", "priv");
        publish_bytes(&env.services, &olga, &key, "1.0.0", "p.tgz", b"p")
            .await
            .unwrap();
        let mia = world.principal("mia").await;
        assert!(matches!(
            env.services.package(&mia, &key).await,
            Err(ServiceError::Denied(Deny::NotFound))
        ));

        env.services
            .grant(&olga, &key, &GranteeRef::Team("devs".into()), Role::Read)
            .await
            .unwrap();
        env.services.package(&mia, &key).await.unwrap(); // vector 6
        let error = publish_bytes(&env.services, &mia, &key, "1.0.1", "p1.tgz", b"p1")
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "vector 7: {error:?}"
        );

        env.services
            .grant(&olga, &key, &GranteeRef::User("mia".into()), Role::Write)
            .await
            .unwrap();
        publish_bytes(&env.services, &mia, &key, "1.0.1", "p1.tgz", b"p1")
            .await
            .unwrap();

        // Private org packages are granted to org members only.
        let error = env
            .services
            .grant(
                &olga,
                &key,
                &GranteeRef::User("outsider".into()),
                Role::Read,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "{error:?}"
        );
        // Only package admins manage grants: mia has write.
        let error = env
            .services
            .grant(&mia, &key, &GranteeRef::User("max".into()), Role::Read)
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "{error:?}"
        );

        env.services
            .revoke(&olga, &key, &GranteeRef::User("mia".into()))
            .await
            .unwrap();
        env.services
            .revoke(&olga, &key, &GranteeRef::Team("devs".into()))
            .await
            .unwrap();
        assert!(matches!(
            env.services.package(&mia, &key).await,
            Err(ServiceError::Denied(Deny::NotFound))
        ));
    })
    .await;
}

#[tokio::test]
async fn visibility_changes_open_and_close_packages() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let key = container("acme", "app");
        publish_bytes(&env.services, &olga, &key, "sha256:1", "m.json", b"m")
            .await
            .unwrap();
        assert!(
            env.services
                .package(&Principal::Anonymous, &key)
                .await
                .is_err()
        );
        env.services
            .set_package_visibility(&olga, &key, Visibility::Public)
            .await
            .unwrap();
        env.services
            .package(&Principal::Anonymous, &key)
            .await
            .unwrap(); // vector 1
        let outsider = world.principal("outsider").await;
        env.services.package(&outsider, &key).await.unwrap();
        // We allow public → private, which GitHub does not.
        env.services
            .set_package_visibility(&olga, &key, Visibility::Internal)
            .await
            .unwrap();
        let mia = world.principal("mia").await;
        env.services.package(&mia, &key).await.unwrap(); // vector 22
        assert!(matches!(
            env.services.package(&outsider, &key).await,
            Err(ServiceError::Denied(Deny::NotFound))
        )); // vector 23
        // A user's packages have no internal visibility.
        let ursula = world.principal("ursula").await;
        let own = npm("ursula", "x");
        publish_bytes(&env.services, &ursula, &own, "1.0.0", "x.tgz", b"x")
            .await
            .unwrap();
        let error = env
            .services
            .set_package_visibility(&ursula, &own, Visibility::Internal)
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn actions_access_lets_another_repositorys_workflows_in() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let key = npm("acme", "webpkg");
        publish_bytes(&env.services, &olga, &key, "1.0.0", "w.tgz", b"w")
            .await
            .unwrap();
        let minted = env
            .services
            .mint_workflow_token(&olga, "acme", "site", WorkflowLevel::Read, None)
            .await
            .unwrap();
        let site = world.principal_of(minted.token.expose()).await;
        assert!(matches!(
            env.services.package(&site, &key).await,
            Err(ServiceError::Denied(Deny::NotFound))
        )); // vector 19's kind
        env.services
            .set_actions_access(&olga, &key, "site", Role::Read)
            .await
            .unwrap();
        env.services.package(&site, &key).await.unwrap(); // vector 20
        env.services
            .remove_actions_access(&olga, &key, "site")
            .await
            .unwrap();
        assert!(env.services.package(&site, &key).await.is_err());
        // Another owner's repository cannot be given Actions access.
        let error = env
            .services
            .set_actions_access(&olga, &key, "tools", Role::Read)
            .await
            .unwrap_err();
        assert_eq!(error.status(), 404, "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn linking_and_inheritance_switch_where_access_comes_from() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let key = npm("acme", "later");
        publish_bytes(&env.services, &olga, &key, "1.0.0", "l.tgz", b"l")
            .await
            .unwrap();
        env.services
            .grant(&olga, &key, &GranteeRef::User("mia".into()), Role::Read)
            .await
            .unwrap();

        // Linking later does not turn inheritance on.
        let linked = env.services.link(&olga, &key, Some("web")).await.unwrap();
        assert_eq!(
            (linked.repository.as_deref(), linked.inherit_access),
            (Some("acme/web"), false)
        );
        let max = world.principal("max").await;
        assert!(
            env.services.package(&max, &key).await.is_err(),
            "max has no grant and no inheritance yet"
        );

        // Inheriting: repository roles count, and the access list is cleared.
        env.services
            .set_inheritance(&olga, &key, true)
            .await
            .unwrap();
        publish_bytes(&env.services, &max, &key, "1.1.0", "l1.tgz", b"l1")
            .await
            .unwrap();
        let error = env
            .services
            .grant(&olga, &key, &GranteeRef::User("mia".into()), Role::Write)
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "no grants while inheriting: {error:?}"
        );

        // Unlinking stops inheritance; only implicit admins keep access.
        env.services.link(&olga, &key, None).await.unwrap();
        assert!(env.services.package(&max, &key).await.is_err());
        let mia = world.principal("mia").await;
        assert!(
            env.services.package(&mia, &key).await.is_err(),
            "the old grant was cleared"
        );
        env.services.package(&olga, &key).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn anonymous_npm_reads_follow_the_policy() {
    on_both_with(
        |config| config.policy.anonymous_read = "container,npm".parse().unwrap(),
        |env| async move {
            let world = World::build(&env.services).await;
            let olga = world.principal("olga").await;
            let key = npm("acme", "lib");
            publish_bytes(&env.services, &olga, &key, "1.0.0", "l.tgz", b"l")
                .await
                .unwrap();
            env.services
                .set_package_visibility(&olga, &key, Visibility::Public)
                .await
                .unwrap();
            env.services
                .package(&Principal::Anonymous, &key)
                .await
                .unwrap();
            env.services
                .package(&Principal::InvalidCredentials, &key)
                .await
                .unwrap();
            let error = publish_bytes(
                &env.services,
                &Principal::Anonymous,
                &key,
                "2.0.0",
                "l2.tgz",
                b"l2",
            )
            .await
            .unwrap_err();
            assert!(
                matches!(error, ServiceError::Denied(Deny::Unauthenticated)),
                "{error:?}"
            );
        },
    )
    .await;
}
