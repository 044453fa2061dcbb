//! Loads what the permission core needs to decide, seen from one principal.
//!
//! Facts are "seen from the principal": its org membership, its collaborator and team roles, its grants. Only the
//! rows that concern the principal are read, so the cost does not grow with the size of an access list.

use entrepot_authz::{
    AccountId, OrgFacts, OrgRole, OwnerFacts, PackageFacts, PackageType, Principal, RepoFacts,
    RepoId, Role, VisibilitySet,
};
use sea_orm::ConnectionTrait;

use crate::entity::{account, package, repository};
use crate::{Result, StoreError, accounts, grants, orgs, parse_col, repos};

fn parse_roles(roles: Vec<String>, column: &str) -> Result<Vec<Role>> {
    roles.iter().map(|role| parse_col(role, column)).collect()
}

/// The organization settings of an org account (defaults when the row is missing), seen from `user`.
pub async fn org(db: &impl ConnectionTrait, org_id: i64, user: Option<i64>) -> Result<OrgFacts> {
    let mut facts = OrgFacts::default();
    if let Some(settings) = orgs::settings(db, org_id).await? {
        facts.base_permission = settings
            .base_permission
            .as_deref()
            .map(|role| parse_col(role, "base_permission"))
            .transpose()?;
        facts.inherit_access_by_default = settings.inherit_access_by_default;
        facts.package_creation_visibilities = parse_col::<VisibilitySet>(
            &settings.package_creation_visibilities,
            "package_creation_visibilities",
        )?;
    }
    if let Some(user) = user {
        facts.principal_role = orgs::membership(db, org_id, user)
            .await?
            .map(|m| parse_col::<OrgRole>(&m.role, "memberships.role"))
            .transpose()?;
    }
    Ok(facts)
}

/// The owner account, with its org facts when it is an org.
pub async fn owner(
    db: &impl ConnectionTrait,
    owner: &account::Model,
    user: Option<i64>,
) -> Result<OwnerFacts> {
    let org = if owner.kind == accounts::KIND_ORG {
        Some(org(db, owner.id, user).await?)
    } else {
        None
    };
    Ok(OwnerFacts {
        id: AccountId(owner.id),
        org,
    })
}

/// A repository, with the principal user's collaborator and team roles on it.
pub async fn repo(
    db: &impl ConnectionTrait,
    repo: &repository::Model,
    user: Option<i64>,
) -> Result<RepoFacts> {
    let owner_row = accounts::by_id(db, repo.owner_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("repository {} has no owner", repo.id)))?;
    let owner = owner(db, &owner_row, user).await?;
    let (collaborator_role, team_roles) = match user {
        Some(user) => (
            repos::collaborator_role(db, repo.id, user)
                .await?
                .map(|role| parse_col(&role, "collaborators.role"))
                .transpose()?,
            parse_roles(
                repos::user_team_roles(db, repo.id, user).await?,
                "team_repositories.role",
            )?,
        ),
        None => (None, Vec::new()),
    };
    Ok(RepoFacts {
        id: RepoId(repo.id),
        owner,
        visibility: parse_col(&repo.visibility, "repositories.visibility")?,
        collaborator_role,
        team_roles,
    })
}

fn principal_user(principal: &Principal) -> Option<i64> {
    principal.user().map(|user| user.id.0)
}

/// A package seen from `principal`. `downloads` is what the delete guard weighs (the caller passes the version's
/// count for a version delete).
pub async fn package(
    db: &impl ConnectionTrait,
    principal: &Principal,
    pkg: &package::Model,
    owner_row: &account::Model,
    downloads: u64,
) -> Result<PackageFacts> {
    let user = principal_user(principal);
    let owner = owner(db, owner_row, user).await?;
    let repository = match pkg.repository_id {
        Some(id) => {
            let row = repos::by_id(db, id).await?.ok_or_else(|| {
                StoreError::Corrupt(format!("package {} links a missing repository", pkg.id))
            })?;
            Some(repo(db, &row, user).await?)
        }
        None => None,
    };
    let (user_grant, team_grants) = match user {
        Some(user) => {
            let direct = grants::user_role(db, pkg.id, user)
                .await?
                .map(|role| parse_col(&role, "package_grants.role"))
                .transpose()?;
            let teams = if owner.is_org() {
                parse_roles(
                    grants::user_team_roles(db, pkg.id, pkg.owner_id, user).await?,
                    "package_grants.role",
                )?
            } else {
                Vec::new()
            };
            (direct, teams)
        }
        None => (None, Vec::new()),
    };
    let actions_grant = match principal {
        Principal::Workflow(workflow) => grants::actions_role(db, pkg.id, workflow.repo.0)
            .await?
            .map(|role| parse_col(&role, "actions_access.role"))
            .transpose()?,
        _ => None,
    };
    Ok(PackageFacts {
        package_type: parse_col::<PackageType>(&pkg.package_type, "packages.package_type")?,
        owner,
        visibility: parse_col(&pkg.visibility, "packages.visibility")?,
        repository,
        inherit_access: pkg.inherit_access,
        user_grant,
        team_grants,
        actions_grant,
        downloads,
    })
}
