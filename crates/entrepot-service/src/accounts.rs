//! Administration: users, organizations, memberships, teams, repositories, collaborators and org settings.
//! Every operation is decided by `entrepot_authz::authorize_admin`.

use entrepot_authz::{
    AccountId, AdminFacts, AdminOp, OrgRole, Principal, Role, UserPrincipal, Visibility,
    VisibilitySet, authorize_admin,
};
use entrepot_identity::password;
use entrepot_store::entity::{account, org_settings};
use entrepot_store::{TransactionTrait, accounts, facts, orgs, repos};

use crate::views::{MemberView, OrgSettingsView, RepositoryView, TeamView, UserView};
use crate::{Result, ServiceError, Services};

/// The operator's account id: no row has it (ids start at 1), so it is never recorded as an actor.
pub(crate) const OPERATOR: AccountId = AccountId(0);

/// The account acting, when it is a real one (not the operator), for columns such as "minted by".
pub(crate) fn acting_account(principal: &Principal) -> Option<i64> {
    principal
        .user()
        .map(|user| user.id)
        .filter(|id| *id != OPERATOR)
        .map(|id| id.0)
}

/// argon2 is deliberately slow: hash off the async workers.
async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|error| ServiceError::Internal(error.to_string()))?
        .map_err(|error| ServiceError::Invalid(error.to_string()))
}

/// Names that would collide with the server's own URL prefixes.
const RESERVED_LOGINS: &[&str] = &[
    "api", "v2", "npm", "nuget", "rubygems", "maven", "token", "healthz", "readyz", "metrics",
    "login", "logout", "settings", "admin", "static", "assets", "packages", "orgs", "users",
    "user", "new", "explore",
];

/// GitHub's login rule: 1–39 ASCII letters, digits and single hyphens, not at either end.
fn validate_login(login: &str) -> Result<()> {
    let valid_chars = login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let valid = !login.is_empty()
        && login.len() <= 39
        && valid_chars
        && !login.starts_with('-')
        && !login.ends_with('-')
        && !login.contains("--");
    if !valid {
        return Err(ServiceError::Invalid(format!(
            "invalid login {login:?}: use 1 to 39 letters, digits or single hyphens, not at either end"
        )));
    }
    if RESERVED_LOGINS.contains(&login.to_ascii_lowercase().as_str()) {
        return Err(ServiceError::Invalid(format!(
            "the login {login:?} is reserved"
        )));
    }
    Ok(())
}

/// GitHub's repository-name rule: letters, digits, `.`, `-`, `_`; not `.` or `..`; at most 100 characters.
fn validate_repo_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && !name.ends_with(".git")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if valid {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "invalid repository name {name:?}"
        )))
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub password: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub site_admin: bool,
}

#[derive(Debug, Clone)]
pub struct NewRepository {
    pub owner: String,
    pub name: String,
    pub visibility: Visibility,
}

/// Changes to an organization's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgSettingsUpdate {
    /// `Some(None)` sets "no permission".
    pub base_permission: Option<Option<Role>>,
    pub inherit_access_by_default: Option<bool>,
    pub package_creation_visibilities: Option<VisibilitySet>,
}

impl Services {
    /// The principal of the local operator: the CLI runs with the database's credentials, so it acts as a site
    /// admin. Its decisions still go through the permission core.
    pub fn operator() -> Principal {
        Principal::User(UserPrincipal::session(OPERATOR, true))
    }

    /// Whether the server has no user yet (the first start tells the operator how to create one).
    pub async fn has_no_users(&self) -> Result<bool> {
        Ok(accounts::count(self.db(), accounts::KIND_USER).await? == 0)
    }

    pub async fn create_user(&self, principal: &Principal, new: NewUser) -> Result<UserView> {
        authorize_admin(principal, AdminOp::CreateUser, &AdminFacts::default()).into_result()?;
        if new.site_admin {
            authorize_admin(principal, AdminOp::SetSiteAdmin, &AdminFacts::default())
                .into_result()?;
        }
        validate_login(&new.login)?;
        let password_hash = match new.password {
            Some(password) => Some(hash_password(password).await?),
            None => None,
        };
        let row = accounts::insert(
            self.db(),
            accounts::NewAccount {
                login: &new.login,
                kind: accounts::KIND_USER,
                display_name: new.name.as_deref(),
                email: new.email.as_deref(),
                site_admin: new.site_admin,
                password_hash,
            },
        )
        .await?;
        Ok(UserView::from(&row))
    }

    pub async fn list_users(&self, principal: &Principal) -> Result<Vec<UserView>> {
        authorize_admin(principal, AdminOp::ListUsers, &AdminFacts::default()).into_result()?;
        Ok(accounts::list(self.db(), accounts::KIND_USER)
            .await?
            .iter()
            .map(UserView::from)
            .collect())
    }

    /// The account of a login (user or organization). Public information, as on GitHub.
    pub async fn account(&self, login: &str) -> Result<UserView> {
        Ok(UserView::from(&self.account_row(login).await?))
    }

    /// The user behind a principal, for `whoami`-style endpoints.
    pub async fn whoami(&self, principal: &Principal) -> Result<Option<UserView>> {
        match principal.user() {
            Some(user) => Ok(accounts::by_id(self.db(), user.id.0)
                .await?
                .as_ref()
                .map(UserView::from)),
            None => Ok(None),
        }
    }

    pub async fn set_password(
        &self,
        principal: &Principal,
        login: &str,
        password: String,
    ) -> Result<()> {
        let user = self.user_by_login(login).await?;
        self.authorize_account_of(principal, user.id).await?;
        let hash = hash_password(password).await?;
        accounts::set_password(self.db(), user.id, hash).await?;
        Ok(())
    }

    /// Creates an organization owned by `owner` (the caller, unless the caller is the operator or a site admin).
    pub async fn create_org(
        &self,
        principal: &Principal,
        login: &str,
        owner: &str,
    ) -> Result<UserView> {
        validate_login(login)?;
        let owner = self.user_by_login(owner).await?;
        let admin_facts = AdminFacts {
            target_user: Some(AccountId(owner.id)),
            ..AdminFacts::default()
        };
        authorize_admin(principal, AdminOp::CreateOrg, &admin_facts).into_result()?;
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        let org = accounts::insert(
            &txn,
            accounts::NewAccount {
                login,
                kind: accounts::KIND_ORG,
                display_name: None,
                email: None,
                site_admin: false,
                password_hash: None,
            },
        )
        .await?;
        orgs::insert_settings(
            &txn,
            org_settings::Model {
                org_id: org.id,
                base_permission: Some(Role::Read.as_str().to_owned()),
                inherit_access_by_default: true,
                package_creation_visibilities: VisibilitySet::all()
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            },
        )
        .await?;
        orgs::upsert_membership(&txn, org.id, owner.id, OrgRole::Owner.as_str()).await?;
        txn.commit().await?;
        Ok(UserView::from(&org))
    }

    pub async fn list_orgs(&self) -> Result<Vec<UserView>> {
        Ok(accounts::list(self.db(), accounts::KIND_ORG)
            .await?
            .iter()
            .map(UserView::from)
            .collect())
    }

    pub(crate) async fn account_row(&self, login: &str) -> Result<account::Model> {
        accounts::by_login(self.db(), login)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("account {login}")))
    }

    pub(crate) async fn org_row(&self, login: &str) -> Result<account::Model> {
        Some(self.account_row(login).await?)
            .filter(|account| account.kind == accounts::KIND_ORG)
            .ok_or_else(|| ServiceError::NotFound(format!("organization {login}")))
    }

    pub(crate) async fn authorize_org(
        &self,
        principal: &Principal,
        org: &account::Model,
        op: AdminOp,
    ) -> Result<()> {
        let org_facts = facts::org(self.db(), org.id, principal.user().map(|u| u.id.0)).await?;
        authorize_admin(
            principal,
            op,
            &AdminFacts {
                org: Some(org_facts),
                ..AdminFacts::default()
            },
        )
        .into_result()?;
        Ok(())
    }

    pub async fn set_membership(
        &self,
        principal: &Principal,
        org: &str,
        login: &str,
        role: OrgRole,
    ) -> Result<()> {
        let org = self.org_row(org).await?;
        self.authorize_org(principal, &org, AdminOp::ManageOrg)
            .await?;
        let user = self.user_by_login(login).await?;
        orgs::upsert_membership(self.db(), org.id, user.id, role.as_str()).await?;
        self.data_changed();
        Ok(())
    }

    pub async fn remove_membership(
        &self,
        principal: &Principal,
        org: &str,
        login: &str,
    ) -> Result<()> {
        let org = self.org_row(org).await?;
        self.authorize_org(principal, &org, AdminOp::ManageOrg)
            .await?;
        let user = self.user_by_login(login).await?;
        let removed = orgs::remove_membership(self.db(), org.id, user.id).await?;
        self.data_changed();
        if !removed {
            return Err(ServiceError::NotFound(format!("membership of {login}")));
        }
        Ok(())
    }

    pub async fn members(&self, principal: &Principal, org: &str) -> Result<Vec<MemberView>> {
        let org = self.org_row(org).await?;
        self.authorize_org(principal, &org, AdminOp::ReadOrg)
            .await?;
        let mut members = Vec::new();
        for membership in orgs::members(self.db(), org.id).await? {
            if let Some(user) = accounts::by_id(self.db(), membership.user_id).await? {
                members.push(MemberView {
                    login: user.login,
                    role: membership.role,
                });
            }
        }
        Ok(members)
    }

    pub async fn create_team(
        &self,
        principal: &Principal,
        org: &str,
        slug: &str,
        name: Option<&str>,
    ) -> Result<TeamView> {
        let org = self.org_row(org).await?;
        self.authorize_org(principal, &org, AdminOp::ManageOrg)
            .await?;
        validate_login(slug)
            .map_err(|_| ServiceError::Invalid(format!("invalid team slug {slug:?}")))?;
        let team = orgs::insert_team(
            self.db(),
            org.id,
            &slug.to_lowercase(),
            name.unwrap_or(slug),
        )
        .await?;
        Ok(TeamView {
            id: team.id,
            slug: team.slug,
            name: team.name,
            organization: org.login,
        })
    }

    pub async fn teams(&self, principal: &Principal, org: &str) -> Result<Vec<TeamView>> {
        let org = self.org_row(org).await?;
        self.authorize_org(principal, &org, AdminOp::ReadOrg)
            .await?;
        Ok(orgs::teams(self.db(), org.id)
            .await?
            .into_iter()
            .map(|team| TeamView {
                id: team.id,
                slug: team.slug,
                name: team.name,
                organization: org.login.clone(),
            })
            .collect())
    }

    /// A team and a user, for a change of the team's members, which only the org's owners may make.
    async fn managed_team_and_user(
        &self,
        principal: &Principal,
        org: &str,
        slug: &str,
        login: &str,
    ) -> Result<(
        account::Model,
        entrepot_store::entity::team::Model,
        account::Model,
    )> {
        let org = self.org_row(org).await?;
        self.authorize_org(principal, &org, AdminOp::ManageOrg)
            .await?;
        let team = orgs::team(self.db(), org.id, slug)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("team {slug}")))?;
        let user = self.user_by_login(login).await?;
        Ok((org, team, user))
    }

    /// Adds a user to a team; the user must be a member of the team's organization.
    pub async fn add_team_member(
        &self,
        principal: &Principal,
        org: &str,
        slug: &str,
        login: &str,
    ) -> Result<()> {
        let (org, team, user) = self
            .managed_team_and_user(principal, org, slug, login)
            .await?;
        if orgs::membership(self.db(), org.id, user.id)
            .await?
            .is_none()
        {
            return Err(ServiceError::Invalid(format!(
                "{login} is not a member of {}",
                org.login
            )));
        }
        orgs::add_team_member(self.db(), team.id, user.id).await?;
        self.data_changed();
        Ok(())
    }

    pub async fn remove_team_member(
        &self,
        principal: &Principal,
        org: &str,
        slug: &str,
        login: &str,
    ) -> Result<()> {
        let (_, team, user) = self
            .managed_team_and_user(principal, org, slug, login)
            .await?;
        orgs::remove_team_member(self.db(), team.id, user.id).await?;
        self.data_changed();
        Ok(())
    }

    pub async fn org_settings(&self, principal: &Principal, org: &str) -> Result<OrgSettingsView> {
        let org = self.org_row(org).await?;
        self.authorize_org(principal, &org, AdminOp::ReadOrg)
            .await?;
        let settings = orgs::settings(self.db(), org.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("settings".into()))?;
        Ok(OrgSettingsView::from(&settings))
    }

    pub async fn update_org_settings(
        &self,
        principal: &Principal,
        org: &str,
        update: OrgSettingsUpdate,
    ) -> Result<OrgSettingsView> {
        let org = self.org_row(org).await?;
        self.authorize_org(principal, &org, AdminOp::ManageOrg)
            .await?;
        let mut settings = orgs::settings(self.db(), org.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("settings".into()))?;
        if let Some(base) = update.base_permission {
            settings.base_permission = base.map(|role| role.as_str().to_owned());
        }
        if let Some(inherit) = update.inherit_access_by_default {
            settings.inherit_access_by_default = inherit;
        }
        if let Some(visibilities) = update.package_creation_visibilities {
            settings.package_creation_visibilities = visibilities
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(",");
        }
        orgs::update_settings(self.db(), settings.clone()).await?;
        self.data_changed();
        Ok(OrgSettingsView::from(&settings))
    }

    pub async fn create_repository(
        &self,
        principal: &Principal,
        new: NewRepository,
    ) -> Result<RepositoryView> {
        let owner = self.account_row(&new.owner).await?;
        let admin_facts = if owner.kind == accounts::KIND_ORG {
            AdminFacts {
                org: Some(facts::org(self.db(), owner.id, principal.user().map(|u| u.id.0)).await?),
                ..AdminFacts::default()
            }
        } else {
            AdminFacts {
                target_user: Some(AccountId(owner.id)),
                ..AdminFacts::default()
            }
        };
        authorize_admin(principal, AdminOp::CreateRepo, &admin_facts).into_result()?;
        validate_repo_name(&new.name)?;
        if new.visibility == Visibility::Internal && owner.kind != accounts::KIND_ORG {
            return Err(ServiceError::Invalid(
                "only organizations have internal repositories".into(),
            ));
        }
        let row = repos::insert(self.db(), owner.id, &new.name, new.visibility.as_str()).await?;
        Ok(RepositoryView::new(&row, &owner.login))
    }

    /// Repositories of an owner that the principal may read.
    pub async fn repositories(
        &self,
        principal: &Principal,
        owner: &str,
    ) -> Result<Vec<RepositoryView>> {
        let owner_row = self.account_row(owner).await?;
        let mut views = Vec::new();
        for row in repos::list_by_owner(self.db(), owner_row.id).await? {
            let repo_facts = facts::repo(self.db(), &row, principal.user().map(|u| u.id.0)).await?;
            let admin_facts = AdminFacts {
                repo: Some(repo_facts),
                ..AdminFacts::default()
            };
            if authorize_admin(principal, AdminOp::ReadRepo, &admin_facts).is_allowed() {
                views.push(RepositoryView::new(&row, &owner_row.login));
            }
        }
        Ok(views)
    }

    pub async fn repository(
        &self,
        principal: &Principal,
        owner: &str,
        name: &str,
    ) -> Result<RepositoryView> {
        let (row, _) = self
            .repo_for(principal, owner, name, AdminOp::ReadRepo)
            .await?;
        let owner_row = self.account_row(owner).await?;
        Ok(RepositoryView::new(&row, &owner_row.login))
    }

    pub async fn set_repository_visibility(
        &self,
        principal: &Principal,
        owner: &str,
        name: &str,
        visibility: Visibility,
    ) -> Result<()> {
        let (row, repo_facts) = self
            .repo_for(principal, owner, name, AdminOp::ManageRepo)
            .await?;
        if visibility == Visibility::Internal && !repo_facts.owner.is_org() {
            return Err(ServiceError::Invalid(
                "only organizations have internal repositories".into(),
            ));
        }
        repos::set_visibility(self.db(), row.id, visibility.as_str()).await?;
        self.data_changed();
        Ok(())
    }

    /// Adds a collaborator or changes their role.
    pub async fn set_collaborator(
        &self,
        principal: &Principal,
        owner: &str,
        name: &str,
        login: &str,
        role: Role,
    ) -> Result<()> {
        let (row, _) = self
            .repo_for(principal, owner, name, AdminOp::ManageRepo)
            .await?;
        let user = self.user_by_login(login).await?;
        repos::upsert_collaborator(self.db(), row.id, user.id, role.as_str()).await?;
        self.data_changed();
        Ok(())
    }

    pub async fn remove_collaborator(
        &self,
        principal: &Principal,
        owner: &str,
        name: &str,
        login: &str,
    ) -> Result<()> {
        let (row, _) = self
            .repo_for(principal, owner, name, AdminOp::ManageRepo)
            .await?;
        let user = self.user_by_login(login).await?;
        repos::remove_collaborator(self.db(), row.id, user.id).await?;
        self.data_changed();
        Ok(())
    }

    /// Gives a team of the repository's organization a role on the repository.
    pub async fn set_team_repository_role(
        &self,
        principal: &Principal,
        owner: &str,
        name: &str,
        team: &str,
        role: Role,
    ) -> Result<()> {
        let (row, _) = self
            .repo_for(principal, owner, name, AdminOp::ManageRepo)
            .await?;
        let team = orgs::team(self.db(), row.owner_id, team)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("team {team}")))?;
        repos::upsert_team_role(self.db(), row.id, team.id, role.as_str()).await?;
        self.data_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_follow_githubs_rule() {
        for ok in ["a", "acme", "acme-corp", "A1", &"x".repeat(39)] {
            assert!(validate_login(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-acme",
            "acme-",
            "ac--me",
            "ac_me",
            "ac.me",
            "v2",
            "NPM",
            "api",
            &"x".repeat(40),
            "ü",
        ] {
            assert!(validate_login(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repository_names_follow_githubs_rule() {
        for ok in ["web", "my.repo", "a_b-c", "R2"] {
            assert!(validate_repo_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "web.git", "a b", &"x".repeat(101)] {
            assert!(validate_repo_name(bad).is_err(), "{bad}");
        }
    }
}
