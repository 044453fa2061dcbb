//! Decisions for the administration API: users, organizations, repositories and tokens.
//!
//! PAT scopes only speak of packages, so a token narrower than "everything" could otherwise
//! be used to mint a wider one or to hand itself site admin. Administration therefore needs a
//! credential carrying all four scopes (a password or web-session login carries them all),
//! and [`may_grant_scopes`] keeps a token from minting more than it holds.

use crate::decide::role_shortfall;
use crate::decision::{Decision, Deny, Forbidden};
use crate::model::{AccountId, OrgFacts, OrgRole, Principal, RepoFacts, Role, UserPrincipal};
use crate::roles::repo_access;
use crate::scopes::Scopes;

/// An administration operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminOp {
    /// Create a user account. Site admins only.
    CreateUser,
    /// List every user account. Site admins only.
    ListUsers,
    /// Create an organization; the creator becomes its owner. Any user.
    CreateOrg,
    /// Members, teams and settings of an organization. Org owners.
    ManageOrg,
    /// Read an organization's members, teams and settings. Org members.
    ReadOrg,
    /// Create a repository under `target_user` or `org`. The user themself, or any org member.
    CreateRepo,
    /// Collaborators, settings and transfer of a repository. Repository admins.
    ManageRepo,
    /// Read a repository's settings. Anyone with a role on it.
    ReadRepo,
    /// Mint a workflow token for a repository. Repository admins.
    MintWorkflowToken,
    /// List, create and revoke one's own tokens.
    ManageOwnTokens,
    /// List and revoke `target_user`'s tokens. Site admins, or the user themself.
    ManageUserTokens,
    /// Grant or revoke site admin. Site admins only.
    SetSiteAdmin,
    /// Read the whole site's audit log (an org's log is `ManageOrg`). Site admins only.
    ReadAuditLog,
}

impl AdminOp {
    pub const ALL: &'static [AdminOp] = &[
        AdminOp::CreateUser,
        AdminOp::ListUsers,
        AdminOp::CreateOrg,
        AdminOp::ManageOrg,
        AdminOp::ReadOrg,
        AdminOp::CreateRepo,
        AdminOp::ManageRepo,
        AdminOp::ReadRepo,
        AdminOp::MintWorkflowToken,
        AdminOp::ManageOwnTokens,
        AdminOp::ManageUserTokens,
        AdminOp::SetSiteAdmin,
        AdminOp::ReadAuditLog,
    ];
}

/// The target of an administration operation, seen from the principal. `None` means the
/// target does not exist (answered with not found) or the operation has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminFacts {
    /// The user account acted on: a `CreateRepo` namespace, a `ManageUserTokens` or
    /// `ManageOwnTokens` owner.
    pub target_user: Option<AccountId>,
    /// The organization acted on (`ManageOrg`, `ReadOrg`, `CreateRepo` in an org).
    pub org: Option<OrgFacts>,
    /// The repository acted on (`ManageRepo`, `ReadRepo`, `MintWorkflowToken`).
    pub repo: Option<RepoFacts>,
}

/// Decides an administration operation.
///
/// Order: unauthenticated; workflow tokens refused; not found for a missing target or a
/// repository the user cannot read; forbidden when the rule of the op refuses (site admins
/// pass every rule); missing scope unless the credential carries every scope.
pub fn authorize_admin(principal: &Principal, op: AdminOp, facts: &AdminFacts) -> Decision {
    let user = match principal {
        Principal::Anonymous | Principal::InvalidCredentials => {
            return Deny::Unauthenticated.into();
        }
        Principal::Workflow(_) => return Forbidden::WorkflowNotAllowed.into(),
        Principal::User(user) => user,
    };
    if let Err(deny) = admin_rule(principal, user, op, facts) {
        return deny.into();
    }
    let missing = user.scopes.lacking(Scopes::all());
    if !missing.is_empty() {
        return Deny::MissingScope(missing).into();
    }
    Decision::Allow
}

/// Whether `principal` may mint a token carrying `requested`: never more than it holds
/// (implications included), and only users mint tokens.
pub fn may_grant_scopes(principal: &Principal, requested: Scopes) -> bool {
    match principal {
        Principal::User(user) => user.scopes.lacking(requested).is_empty(),
        Principal::Anonymous | Principal::InvalidCredentials | Principal::Workflow(_) => false,
    }
}

fn admin_rule(
    principal: &Principal,
    user: &UserPrincipal,
    op: AdminOp,
    facts: &AdminFacts,
) -> Result<(), Deny> {
    let site_admin_only = || {
        if user.site_admin {
            Ok(())
        } else {
            Err(Deny::Forbidden(Forbidden::SiteAdminOnly))
        }
    };
    match op {
        AdminOp::CreateUser
        | AdminOp::ListUsers
        | AdminOp::SetSiteAdmin
        | AdminOp::ReadAuditLog => site_admin_only(),
        // Anyone may found an organization, owned by themselves; naming another owner is a site admin's act.
        AdminOp::CreateOrg => match facts.target_user {
            Some(owner) if owner != user.id => site_admin_only(),
            _ => Ok(()),
        },
        AdminOp::ManageOwnTokens | AdminOp::ManageUserTokens => match facts.target_user {
            Some(target) if target != user.id => site_admin_only(),
            Some(_) => Ok(()),
            None if op == AdminOp::ManageOwnTokens => Ok(()),
            None => Err(Deny::NotFound),
        },
        AdminOp::ReadOrg => org_rule(user, facts.org.as_ref(), None),
        AdminOp::ManageOrg => org_rule(user, facts.org.as_ref(), Some(OrgRole::Owner)),
        AdminOp::CreateRepo => match (&facts.org, facts.target_user) {
            (Some(org), _) => org_rule(user, Some(org), None),
            (None, Some(target)) if target == user.id || user.site_admin => Ok(()),
            (None, Some(_)) => Err(Forbidden::NotNamespaceOwner.into()),
            (None, None) => Err(Deny::NotFound),
        },
        AdminOp::ReadRepo => repo_rule(principal, facts.repo.as_ref(), Role::Read),
        AdminOp::ManageRepo | AdminOp::MintWorkflowToken => {
            repo_rule(principal, facts.repo.as_ref(), Role::Admin)
        }
    }
}

/// Organizations are public, so a non-member is told why rather than told "not found".
fn org_rule(
    user: &UserPrincipal,
    org: Option<&OrgFacts>,
    need: Option<OrgRole>,
) -> Result<(), Deny> {
    let Some(org) = org else {
        return Err(Deny::NotFound);
    };
    if user.site_admin {
        return Ok(());
    }
    match (org.principal_role, need) {
        (None, _) => Err(Forbidden::NotOrgMember.into()),
        (Some(have), Some(need)) if have < need => Err(Forbidden::NotOrgOwner.into()),
        (Some(_), _) => Ok(()),
    }
}

fn repo_rule(principal: &Principal, repo: Option<&RepoFacts>, need: Role) -> Result<(), Deny> {
    let Some(repo) = repo else {
        return Err(Deny::NotFound);
    };
    let access = repo_access(principal, repo);
    if access.role.is_none() {
        return Err(Deny::NotFound);
    }
    match role_shortfall(access, need) {
        Some(forbidden) => Err(forbidden.into()),
        None => Ok(()),
    }
}
