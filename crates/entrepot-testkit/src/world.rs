//! The permission spec's world (§6), built through the service layer: org `acme` (owner olga, members mia and
//! max, team devs = {mia}), users ursula and outsider, repositories acme/web (private, max writes), acme/site
//! (public) and ursula/tools (private). Every user gets a token with all four scopes.

use std::collections::HashMap;

use entrepot_identity::credential::Credential;
use entrepot_identity::secret::Secret;
use entrepot_service::authz::{OrgRole, Principal, Role, Scopes, Visibility};
use entrepot_service::{NewRepository, NewTokenRequest, NewUser, Services};

pub const USERS: [&str; 5] = ["olga", "mia", "max", "ursula", "outsider"];

pub struct World {
    pub services: Services,
    tokens: HashMap<String, String>,
}

impl World {
    pub async fn build(services: &Services) -> World {
        let op = Services::operator();
        let mut tokens = HashMap::new();
        for login in USERS {
            services
                .create_user(
                    &op,
                    NewUser {
                        login: login.into(),
                        password: None,
                        email: None,
                        name: None,
                        site_admin: false,
                    },
                )
                .await
                .expect("create user");
            let created = services
                .create_token(
                    &op,
                    login,
                    NewTokenRequest {
                        name: "all".into(),
                        scopes: Scopes::all(),
                        expires_in: None,
                    },
                )
                .await
                .expect("create token");
            tokens.insert(login.to_owned(), created.token.expose().to_owned());
        }
        services
            .create_org(&op, "acme", "olga")
            .await
            .expect("create org");
        for member in ["mia", "max"] {
            services
                .set_membership(&op, "acme", member, OrgRole::Member)
                .await
                .expect("add member");
        }
        services
            .create_team(&op, "acme", "devs", None)
            .await
            .expect("create team");
        services
            .add_team_member(&op, "acme", "devs", "mia")
            .await
            .expect("team member");
        for (owner, name, visibility) in [
            ("acme", "web", Visibility::Private),
            ("acme", "site", Visibility::Public),
            ("ursula", "tools", Visibility::Private),
        ] {
            services
                .create_repository(
                    &op,
                    NewRepository {
                        owner: owner.into(),
                        name: name.into(),
                        visibility,
                    },
                )
                .await
                .expect("create repository");
        }
        services
            .set_collaborator(&op, "acme", "web", "max", Role::Write)
            .await
            .expect("collaborator");
        World {
            services: services.clone(),
            tokens,
        }
    }

    /// The all-scopes token of a user.
    pub fn token(&self, login: &str) -> &str {
        &self.tokens[login]
    }

    /// The principal of a user's all-scopes token.
    pub async fn principal(&self, login: &str) -> Principal {
        self.principal_of(self.token(login)).await
    }

    /// The principal of any token secret.
    pub async fn principal_of(&self, token: &str) -> Principal {
        self.services
            .authenticate(Some(&Credential::Token(Secret::new(token))))
            .await
            .expect("authenticate")
    }

    /// A new token for `login` with exactly `scopes`.
    pub async fn token_with(&self, login: &str, scopes: Scopes) -> String {
        let created = self
            .services
            .create_token(
                &Services::operator(),
                login,
                NewTokenRequest {
                    name: "narrow".into(),
                    scopes,
                    expires_in: None,
                },
            )
            .await
            .expect("create token");
        created.token.expose().to_owned()
    }
}
