//! Tokens: shown once, stored hashed, scoped, revocable, expiring; workflow tokens act for their repository.

use std::time::Duration;

use entrepot_identity::credential::Credential;
use entrepot_identity::secret::Secret;
use entrepot_service::authz::{Principal, Scope, Scopes, WorkflowLevel};
use entrepot_service::{NewTokenRequest, NewUser, ServiceError, Services};
use entrepot_testkit::{World, on_both};
use sea_orm::{ConnectionTrait, Database, Statement};

#[tokio::test]
async fn a_token_authenticates_with_its_scopes_and_its_secret_is_not_stored() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let token = world
            .token_with("mia", Scopes::only(Scope::ReadPackages))
            .await;
        assert!(token.starts_with("etp_"), "{token}");
        match world.principal_of(&token).await {
            Principal::User(user) => {
                assert_eq!(user.scopes, Scopes::only(Scope::ReadPackages));
                assert!(!user.site_admin);
            }
            other => panic!("expected a user, got {other:?}"),
        }
        // Every client style reaches the same principal.
        for credential in [
            Credential::Token(Secret::new(token.clone())),
            Credential::Basic {
                username: "mia".into(),
                password: Secret::new(token.clone()),
            },
            Credential::Basic {
                username: token.clone(),
                password: Secret::new(""),
            },
        ] {
            assert!(matches!(
                env.services.authenticate(Some(&credential)).await.unwrap(),
                Principal::User(_)
            ));
        }

        // Not a single column of the tokens table holds the secret.
        let db = Database::connect(env.database_url.as_str()).await.unwrap();
        let rows = db
            .query_all(Statement::from_string(
                db.get_database_backend(),
                "SELECT kind, name, token_hash, hint, scopes FROM tokens".to_owned(),
            ))
            .await
            .unwrap();
        assert!(rows.len() >= 6);
        for row in rows {
            for column in ["kind", "name", "token_hash", "hint", "scopes"] {
                let value: String = row.try_get("", column).unwrap();
                assert!(
                    !value.contains(&token[4..]),
                    "{column} holds the token's secret part"
                );
            }
        }
        db.close().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn garbage_revoked_and_expired_tokens_are_invalid_credentials() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let token = world.token("max").to_owned();
        assert!(matches!(
            world.principal_of(&token).await,
            Principal::User(_)
        ));

        // A well-formed token that was never issued, and plain garbage.
        let mut forged = token.clone();
        forged.replace_range(10..11, if &token[10..11] == "a" { "b" } else { "a" });
        assert_eq!(
            world.principal_of(&forged).await,
            Principal::InvalidCredentials
        );
        assert_eq!(
            world.principal_of("hunter2").await,
            Principal::InvalidCredentials
        );

        // Revocation takes effect at once, even though the principal was cached.
        let op = Services::operator();
        let listed = env.services.list_tokens(&op, "max").await.unwrap();
        env.services.revoke_token(&op, listed[0].id).await.unwrap();
        assert_eq!(
            world.principal_of(&token).await,
            Principal::InvalidCredentials
        );
        assert!(
            env.services.list_tokens(&op, "max").await.unwrap()[0]
                .revoked_at
                .is_some()
        );

        // Expiry is honoured too, cached or not.
        let short = env
            .services
            .create_token(
                &op,
                "mia",
                NewTokenRequest {
                    name: "short".into(),
                    scopes: Scopes::all(),
                    expires_in: Some(Duration::from_millis(300)),
                },
            )
            .await
            .unwrap();
        let secret = short.token.expose().to_owned();
        assert!(matches!(
            world.principal_of(&secret).await,
            Principal::User(_)
        ));
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            world.principal_of(&secret).await,
            Principal::InvalidCredentials
        );
    })
    .await;
}

#[tokio::test]
async fn tokens_cannot_mint_wider_tokens_and_users_manage_only_their_own() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let narrow = world
            .token_with("mia", Scopes::only(Scope::ReadPackages))
            .await;
        let narrow = world.principal_of(&narrow).await;
        let denied = env
            .services
            .create_token(
                &narrow,
                "mia",
                NewTokenRequest {
                    name: "wide".into(),
                    scopes: Scopes::all(),
                    expires_in: None,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(denied, ServiceError::Denied(_) | ServiceError::Invalid(_)),
            "{denied:?}"
        );

        let mia = world.principal("mia").await;
        let denied = env.services.list_tokens(&mia, "max").await.unwrap_err();
        assert!(matches!(denied, ServiceError::Denied(_)), "{denied:?}");
        let max_tokens = env
            .services
            .list_tokens(&Services::operator(), "max")
            .await
            .unwrap();
        let denied = env
            .services
            .revoke_token(&mia, max_tokens[0].id)
            .await
            .unwrap_err();
        assert!(matches!(denied, ServiceError::NotFound(_)), "{denied:?}");
    })
    .await;
}

#[tokio::test]
async fn passwords_work_for_the_api_only() {
    on_both(|env| async move {
        let op = Services::operator();
        env.services
            .create_user(
                &op,
                NewUser {
                    login: "pat".into(),
                    password: Some("s3cret-enough".into()),
                    email: None,
                    name: None,
                    site_admin: true,
                },
            )
            .await
            .unwrap();
        let basic = Credential::Basic {
            username: "pat".into(),
            password: Secret::new("s3cret-enough"),
        };
        match env.services.authenticate_api(Some(&basic)).await.unwrap() {
            Principal::User(user) => assert!(user.site_admin && user.scopes == Scopes::all()),
            other => panic!("expected a user, got {other:?}"),
        }
        // Registries accept tokens only.
        assert_eq!(
            env.services.authenticate(Some(&basic)).await.unwrap(),
            Principal::InvalidCredentials
        );
        let wrong = Credential::Basic {
            username: "pat".into(),
            password: Secret::new("s3cret-enougH"),
        };
        assert_eq!(
            env.services.authenticate_api(Some(&wrong)).await.unwrap(),
            Principal::InvalidCredentials
        );
        assert!(env.services.has_no_users().await.is_ok_and(|none| !none));
    })
    .await;
}

#[tokio::test]
async fn workflow_tokens_are_minted_by_repository_admins_and_act_for_the_repository() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let max = world.principal("max").await;
        let denied = env
            .services
            .mint_workflow_token(&max, "acme", "web", WorkflowLevel::Write, None)
            .await
            .unwrap_err();
        assert!(
            matches!(denied, ServiceError::Denied(_)),
            "max only writes to acme/web: {denied:?}"
        );
        // The local operator (the CLI) may mint one too.
        let by_operator = env
            .services
            .mint_workflow_token(
                &Services::operator(),
                "acme",
                "site",
                WorkflowLevel::Read,
                None,
            )
            .await
            .unwrap();
        assert!(matches!(
            world.principal_of(by_operator.token.expose()).await,
            Principal::Workflow(_)
        ));
        let olga = world.principal("olga").await;
        let minted = env
            .services
            .mint_workflow_token(&olga, "acme", "web", WorkflowLevel::Write, None)
            .await
            .unwrap();
        assert!(minted.token.expose().starts_with("etw_"));
        assert!(minted.info.expires_at.is_some());
        match world.principal_of(minted.token.expose()).await {
            Principal::Workflow(workflow) => assert_eq!(workflow.level, WorkflowLevel::Write),
            other => panic!("expected a workflow principal, got {other:?}"),
        }
    })
    .await;
}
