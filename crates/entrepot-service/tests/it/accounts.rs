//! Administration through the service: accounts, orgs, teams, repositories, decided by the core.

use entrepot_service::authz::{Deny, OrgRole, Principal, Role, Visibility};
use entrepot_service::{NewRepository, NewUser, OrgSettingsUpdate, ServiceError, Services};
use entrepot_testkit::{World, on_both};

fn user(login: &str) -> NewUser {
    NewUser {
        login: login.into(),
        password: Some("correct horse battery".into()),
        email: None,
        name: None,
        site_admin: false,
    }
}

#[tokio::test]
async fn logins_are_unique_across_users_and_orgs_and_case_insensitive() {
    on_both(|env| async move {
        let op = Services::operator();
        env.services.create_user(&op, user("Alice")).await.unwrap();
        let again = env
            .services
            .create_user(&op, user("alice"))
            .await
            .unwrap_err();
        assert!(matches!(again, ServiceError::Conflict(_)), "{again:?}");
        let org = env
            .services
            .create_org(&op, "ALICE", "alice")
            .await
            .unwrap_err();
        assert!(matches!(org, ServiceError::Conflict(_)), "{org:?}");
        let reserved = env
            .services
            .create_user(&op, user("npm"))
            .await
            .unwrap_err();
        assert!(matches!(reserved, ServiceError::Invalid(_)), "{reserved:?}");
        assert_eq!(env.services.account("ALICE").await.unwrap().login, "Alice");
    })
    .await;
}

#[tokio::test]
async fn only_site_admins_create_users_and_only_owners_manage_orgs() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let denied = env
            .services
            .create_user(&mia, user("eve"))
            .await
            .unwrap_err();
        assert!(
            matches!(denied, ServiceError::Denied(Deny::Forbidden(_))),
            "{denied:?}"
        );

        // mia is a member of acme, not an owner.
        let denied = env
            .services
            .set_membership(&mia, "acme", "ursula", OrgRole::Member)
            .await
            .unwrap_err();
        assert!(
            matches!(denied, ServiceError::Denied(Deny::Forbidden(_))),
            "{denied:?}"
        );
        let olga = world.principal("olga").await;
        env.services
            .set_membership(&olga, "acme", "ursula", OrgRole::Member)
            .await
            .unwrap();
        let members: Vec<_> = env
            .services
            .members(&mia, "acme")
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.login, m.role))
            .collect();
        assert!(
            members.contains(&("ursula".to_owned(), "member".to_owned())),
            "{members:?}"
        );
        assert!(
            members.contains(&("olga".to_owned(), "owner".to_owned())),
            "{members:?}"
        );

        // An outsider cannot even read the org's member list.
        let outsider = world.principal("outsider").await;
        assert!(env.services.members(&outsider, "acme").await.is_err());

        // Anonymous callers are asked to authenticate.
        let anonymous = env
            .services
            .create_org(&Principal::Anonymous, "neworg", "mia")
            .await
            .unwrap_err();
        assert!(
            matches!(anonymous, ServiceError::Denied(Deny::Unauthenticated)),
            "{anonymous:?}"
        );
        // Anyone may found an org for themselves, nobody else's.
        env.services.create_org(&mia, "miaco", "mia").await.unwrap();
        let other = env
            .services
            .create_org(&mia, "maxco", "max")
            .await
            .unwrap_err();
        assert!(
            matches!(other, ServiceError::Denied(Deny::Forbidden(_))),
            "{other:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn org_settings_and_repositories() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let settings = env
            .services
            .update_org_settings(
                &olga,
                "acme",
                OrgSettingsUpdate {
                    base_permission: Some(None),
                    inherit_access_by_default: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(settings.base_permission, "none");
        assert!(!settings.inherit_access_by_default);
        let reread = env.services.org_settings(&olga, "acme").await.unwrap();
        assert_eq!(reread.base_permission, "none");

        // Members see the private repository through the base permission only while it is on.
        let mia = world.principal("mia").await;
        let names: Vec<_> = env
            .services
            .repositories(&mia, "acme")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(
            names,
            vec!["site"],
            "base permission none hides acme/web from mia"
        );
        let max = world.principal("max").await;
        let names: Vec<_> = env
            .services
            .repositories(&max, "acme")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(
            names,
            vec!["site", "web"],
            "max is a collaborator on acme/web"
        );

        // Members may create repositories in their org; outsiders may not.
        env.services
            .create_repository(
                &mia,
                NewRepository {
                    owner: "acme".into(),
                    name: "lib".into(),
                    visibility: Visibility::Internal,
                },
            )
            .await
            .unwrap();
        let outsider = world.principal("outsider").await;
        let denied = env
            .services
            .create_repository(
                &outsider,
                NewRepository {
                    owner: "acme".into(),
                    name: "x".into(),
                    visibility: Visibility::Public,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(denied, ServiceError::Denied(_)), "{denied:?}");
        let duplicate = env
            .services
            .create_repository(
                &olga,
                NewRepository {
                    owner: "acme".into(),
                    name: "WEB".into(),
                    visibility: Visibility::Public,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(duplicate, ServiceError::Conflict(_)),
            "{duplicate:?}"
        );

        // Only repository admins manage collaborators.
        let denied = env
            .services
            .set_collaborator(&max, "acme", "web", "mia", Role::Admin)
            .await
            .unwrap_err();
        assert!(
            matches!(denied, ServiceError::Denied(Deny::Forbidden(_))),
            "{denied:?}"
        );
    })
    .await;
}
