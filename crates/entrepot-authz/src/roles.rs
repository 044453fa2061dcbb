//! Effective repository and package roles (spec §1, §2, §3).
//!
//! Roles combine with `max`: grants only ever add access. The only thing that lowers a role
//! is a workflow token's cap, which is applied last and remembered (`Access::uncapped`) so
//! that a refusal can say the cap, not the grants, fell short.

use crate::model::{
    AccountId, OrgRole, OwnerFacts, PackageFacts, Principal, RepoFacts, Role, ScopingModel,
    UserPrincipal, Visibility, WorkflowPrincipal,
};
use crate::policy::Policy;

/// A principal's role, before and after a workflow token's cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Access {
    pub role: Option<Role>,
    pub uncapped: Option<Role>,
}

impl Access {
    const fn plain(role: Option<Role>) -> Self {
        Self {
            role,
            uncapped: role,
        }
    }

    fn capped(uncapped: Option<Role>, cap: Role) -> Self {
        Self {
            role: uncapped.map(|role| role.min(cap)),
            uncapped,
        }
    }
}

/// The principal's effective role on `repo`.
///
/// Users: site admin, the owner user and owners of the owning org get `admin`; others the max
/// of their collaborator role, their teams' roles and (for org members) the org's base
/// permission, floored at `read` on public repositories and, for members of the owning org,
/// on internal ones. A workflow token gets its cap on its own repository and only the
/// visibility floors elsewhere. Anonymous principals get nothing: repositories have no
/// anonymous access of their own.
pub fn effective_repo_role(principal: &Principal, repo: &RepoFacts) -> Option<Role> {
    repo_access(principal, repo).role
}

/// The principal's effective role on `pkg` under `policy`.
///
/// Anonymous principals get `read` on a public package of a registry with anonymous read
/// enabled, and nothing else.
pub fn effective_package_role(
    policy: &Policy,
    principal: &Principal,
    pkg: &PackageFacts,
) -> Option<Role> {
    package_access(policy, principal, pkg).role
}

/// The visibility that governs `pkg`: its own when granular, its repository's when
/// repository-scoped (`private` when the repository is missing from the facts). Internal
/// visibility on a user-owned package is reported as private, since no org can see it.
pub fn effective_visibility(policy: &Policy, pkg: &PackageFacts) -> Visibility {
    let (visibility, owner) = match policy.scoping(pkg.package_type) {
        ScopingModel::Granular => (pkg.visibility, &pkg.owner),
        ScopingModel::Repository => match &pkg.repository {
            Some(repo) => (repo.visibility, &repo.owner),
            None => (Visibility::Private, &pkg.owner),
        },
    };
    normalize_visibility(visibility, owner)
}

pub(crate) fn normalize_visibility(visibility: Visibility, owner: &OwnerFacts) -> Visibility {
    match visibility {
        Visibility::Internal if !owner.is_org() => Visibility::Private,
        other => other,
    }
}

pub(crate) fn repo_access(principal: &Principal, repo: &RepoFacts) -> Access {
    match principal {
        Principal::Anonymous | Principal::InvalidCredentials => Access::plain(None),
        Principal::User(user) => Access::plain(user_repo_role(user, repo)),
        Principal::Workflow(workflow) => {
            let uncapped = if repo.id == workflow.repo {
                Some(Role::Admin)
            } else {
                workflow_floor(repo.visibility, workflow, &repo.owner)
            };
            Access::capped(uncapped, workflow.level.cap())
        }
    }
}

pub(crate) fn package_access(policy: &Policy, principal: &Principal, pkg: &PackageFacts) -> Access {
    match principal {
        Principal::Anonymous | Principal::InvalidCredentials => {
            let readable = policy.anonymous_read(pkg.package_type)
                && effective_visibility(policy, pkg) == Visibility::Public;
            Access::plain(readable.then_some(Role::Read))
        }
        Principal::User(user) => Access::plain(match policy.scoping(pkg.package_type) {
            ScopingModel::Repository => match &pkg.repository {
                Some(repo) => user_repo_role(user, repo),
                // A caller bug or an orphan row: only those who own the namespace may
                // reach it, so that it can still be cleaned up.
                None => (user.site_admin || owns(user.id, &pkg.owner)).then_some(Role::Admin),
            },
            ScopingModel::Granular => user_granular_role(user, pkg),
        }),
        Principal::Workflow(workflow) => match policy.scoping(pkg.package_type) {
            ScopingModel::Repository => match &pkg.repository {
                Some(repo) => repo_access(principal, repo),
                None => Access::plain(None),
            },
            ScopingModel::Granular => workflow_granular_access(workflow, pkg),
        },
    }
}

/// Whether `user` is an implicit admin of what `owner` owns: the owner user themself, or
/// an owner of the owning org.
fn owns(user: AccountId, owner: &OwnerFacts) -> bool {
    match &owner.org {
        None => owner.id == user,
        Some(org) => org.principal_role == Some(OrgRole::Owner),
    }
}

fn user_floor(visibility: Visibility, owner: &OwnerFacts) -> Option<Role> {
    match visibility {
        Visibility::Public => Some(Role::Read),
        Visibility::Internal if owner.principal_org_role().is_some() => Some(Role::Read),
        Visibility::Internal | Visibility::Private => None,
    }
}

fn workflow_floor(
    visibility: Visibility,
    workflow: &WorkflowPrincipal,
    owner: &OwnerFacts,
) -> Option<Role> {
    match visibility {
        Visibility::Public => Some(Role::Read),
        Visibility::Internal if owner.is_org() && owner.id == workflow.repo_owner => {
            Some(Role::Read)
        }
        Visibility::Internal | Visibility::Private => None,
    }
}

fn user_repo_role(user: &UserPrincipal, repo: &RepoFacts) -> Option<Role> {
    if user.site_admin || owns(user.id, &repo.owner) {
        return Some(Role::Admin);
    }
    // The base permission is a members' privilege; outside collaborators do not get it.
    let base = repo
        .owner
        .org
        .as_ref()
        .filter(|org| org.principal_role.is_some())
        .and_then(|org| org.base_permission);
    let granted = repo
        .team_roles
        .iter()
        .copied()
        .max()
        .max(repo.collaborator_role)
        .max(base);
    granted.max(user_floor(repo.visibility, &repo.owner))
}

fn user_granular_role(user: &UserPrincipal, pkg: &PackageFacts) -> Option<Role> {
    if user.site_admin || owns(user.id, &pkg.owner) {
        return Some(Role::Admin);
    }
    let granted = match (&pkg.repository, pkg.inherit_access) {
        // While inheriting, the access list is not consulted at all (spec §2.1).
        (Some(repo), true) => user_repo_role(user, repo),
        _ => access_list_role(pkg),
    };
    granted.max(user_floor(pkg.visibility, &pkg.owner))
}

fn access_list_role(pkg: &PackageFacts) -> Option<Role> {
    let Some(org) = &pkg.owner.org else {
        // Teams exist only in organizations, so a user-owned package has no team grants.
        return pkg.user_grant;
    };
    // Private and internal org packages are granted to members only; checking it here too
    // means a grant stops working the moment its holder leaves the org.
    if pkg.visibility != Visibility::Public && org.principal_role.is_none() {
        return None;
    }
    pkg.team_grants.iter().copied().max().max(pkg.user_grant)
}

fn workflow_granular_access(workflow: &WorkflowPrincipal, pkg: &PackageFacts) -> Access {
    let linked_and_inheriting = pkg.inherit_access
        && pkg
            .repository
            .as_ref()
            .is_some_and(|r| r.id == workflow.repo);
    // The spec says "the Actions grant, else admin through the link"; taking the max instead
    // means an explicit, lower Actions grant never takes away what the link gives.
    let uncapped = pkg
        .actions_grant
        .max(linked_and_inheriting.then_some(Role::Admin))
        .max(workflow_floor(pkg.visibility, workflow, &pkg.owner));
    Access::capped(uncapped, workflow.level.cap())
}
