//! First publish of a new package name: who may create it, and what it becomes.
//!
//! [`authorize_create`] covers the creation and the upload of its first version; the caller
//! then stores what [`plan_creation`] says (visibility, link, inheritance, initial grants)
//! without re-deciding, because a package that inherits from a repository where its
//! publisher has no role would otherwise refuse its own first version.

use crate::decide::role_shortfall;
use crate::decision::{Decision, Deny, Forbidden};
use crate::model::{
    AccountId, Operation, OrgRole, OwnerFacts, PackageType, Principal, RepoFacts, RepoId, Role,
    ScopingModel, UserPrincipal, Visibility, WorkflowLevel, WorkflowPrincipal,
};
use crate::policy::Policy;
use crate::roles::{normalize_visibility, repo_access};
use crate::scopes::Scopes;

/// The first publish of a new name, seen from the principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateFacts {
    pub package_type: PackageType,
    /// The namespace the package would be created in. Ignored for repository-scoped
    /// packages, whose owner is the repository's.
    pub owner: OwnerFacts,
    /// Repository-scoped: the target repository (`None` = it does not exist).
    /// Granular, user principal: the repository named by the package's metadata, if it is one
    /// of this server's. Granular, workflow principal: the workflow's own repository.
    pub repository: Option<RepoFacts>,
    /// The visibility a user asks for (`Private` unless the protocol carries one). Workflow
    /// and repository-scoped creations take their repository's instead.
    pub visibility: Visibility,
}

/// What a newly created package becomes (spec §2.1, §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreationPlan {
    pub visibility: Visibility,
    /// Granular: the linked repository. Repository-scoped: the home repository.
    pub link: Option<RepoId>,
    /// Granular: whether the package inherits its link's access. Repository-scoped: always
    /// `true` (its access is its repository's), which stays right if the deployment later
    /// moves the registry to the granular model.
    pub inherit_access: bool,
    /// A user to grant `admin` on the package: the publisher, when it does not inherit.
    pub publisher_admin: Option<AccountId>,
    /// A repository to grant Actions access `admin`: the creating workflow's.
    pub actions_admin: Option<RepoId>,
}

/// Decides whether `principal` may create the package described by `facts` and upload its
/// first version.
///
/// Granular: the owner user themself, an owner of the owning org, or a member of it within
/// the org's `package_creation_visibilities`; a workflow token with level `write` in its
/// repository owner's namespace. Repository-scoped: `write` on the target repository.
/// Tokens need the scopes of a write.
pub fn authorize_create(policy: &Policy, principal: &Principal, facts: &CreateFacts) -> Decision {
    let user = match principal {
        Principal::Anonymous | Principal::InvalidCredentials => {
            return Deny::Unauthenticated.into();
        }
        Principal::User(user) => Some(user),
        Principal::Workflow(_) => None,
    };
    let model = policy.scoping(facts.package_type);
    let allowed = match (model, principal) {
        (ScopingModel::Repository, _) => repository_create(principal, facts),
        (ScopingModel::Granular, Principal::User(user)) => granular_user_create(user, facts),
        (ScopingModel::Granular, Principal::Workflow(workflow)) => {
            granular_workflow_create(workflow, facts)
        }
        (ScopingModel::Granular, _) => Err(Deny::Unauthenticated),
    };
    if let Err(deny) = allowed {
        return deny.into();
    }
    if let Some(user) = user {
        let missing = user
            .scopes
            .lacking(Scopes::required_for(Operation::Write, model));
        if !missing.is_empty() {
            return Deny::MissingScope(missing).into();
        }
    }
    Decision::Allow
}

/// What the package created by `principal` from `facts` looks like. Meaningful only when
/// [`authorize_create`] allows the same arguments.
pub fn plan_creation(policy: &Policy, principal: &Principal, facts: &CreateFacts) -> CreationPlan {
    if policy.scoping(facts.package_type) == ScopingModel::Repository {
        return match &facts.repository {
            Some(repo) => CreationPlan {
                visibility: normalize_visibility(repo.visibility, &repo.owner),
                link: Some(repo.id),
                inherit_access: true,
                publisher_admin: None,
                actions_admin: None,
            },
            None => private_unlinked(),
        };
    }
    match principal {
        Principal::User(user) => {
            let link = facts
                .repository
                .as_ref()
                .filter(|repo| repo.owner.id == facts.owner.id)
                .map(|repo| repo.id);
            let inherit_access = link.is_some() && inherits_by_default(&facts.owner);
            CreationPlan {
                visibility: normalize_visibility(facts.visibility, &facts.owner),
                link,
                inherit_access,
                publisher_admin: (!inherit_access).then_some(user.id),
                actions_admin: None,
            }
        }
        Principal::Workflow(workflow) => CreationPlan {
            visibility: workflow_visibility(workflow, facts),
            link: Some(workflow.repo),
            inherit_access: inherits_by_default(&facts.owner),
            publisher_admin: None,
            actions_admin: Some(workflow.repo),
        },
        Principal::Anonymous | Principal::InvalidCredentials => private_unlinked(),
    }
}

/// The plan for arguments that [`authorize_create`] refuses: the most closed package.
const fn private_unlinked() -> CreationPlan {
    CreationPlan {
        visibility: Visibility::Private,
        link: None,
        inherit_access: false,
        publisher_admin: None,
        actions_admin: None,
    }
}

/// User-owned packages always inherit from their link; org-owned ones per the org setting.
fn inherits_by_default(owner: &OwnerFacts) -> bool {
    owner
        .org
        .as_ref()
        .is_none_or(|org| org.inherit_access_by_default)
}

/// The visibility a workflow-created package takes: its repository's, or private when the
/// caller did not pass the workflow's repository.
fn workflow_visibility(workflow: &WorkflowPrincipal, facts: &CreateFacts) -> Visibility {
    let visibility = facts
        .repository
        .as_ref()
        .filter(|repo| repo.id == workflow.repo)
        .map_or(Visibility::Private, |repo| repo.visibility);
    normalize_visibility(visibility, &facts.owner)
}

fn repository_create(principal: &Principal, facts: &CreateFacts) -> Result<(), Deny> {
    // A repository-scoped package needs an existing repository; not naming one looks the
    // same as naming a private one the principal cannot see.
    let Some(repo) = &facts.repository else {
        return Err(Deny::NotFound);
    };
    let access = repo_access(principal, repo);
    if access.role.is_none() {
        return Err(Deny::NotFound);
    }
    match role_shortfall(access, Role::Write) {
        Some(forbidden) => Err(Deny::Forbidden(forbidden)),
        None => Ok(()),
    }
}

fn granular_user_create(user: &UserPrincipal, facts: &CreateFacts) -> Result<(), Deny> {
    let visibility = facts.visibility;
    if visibility == Visibility::Internal && !facts.owner.is_org() {
        return Err(Forbidden::VisibilityNotAllowed(visibility).into());
    }
    if user.site_admin {
        return Ok(());
    }
    match &facts.owner.org {
        None if facts.owner.id == user.id => Ok(()),
        None => Err(Forbidden::NotNamespaceOwner.into()),
        Some(org) => match org.principal_role {
            None => Err(Forbidden::NotOrgMember.into()),
            // The org setting restricts members; owners could change it anyway.
            Some(OrgRole::Owner) => Ok(()),
            Some(OrgRole::Member) if org.package_creation_visibilities.contains(visibility) => {
                Ok(())
            }
            Some(OrgRole::Member) => Err(Forbidden::VisibilityNotAllowed(visibility).into()),
        },
    }
}

fn granular_workflow_create(workflow: &WorkflowPrincipal, facts: &CreateFacts) -> Result<(), Deny> {
    if workflow.level == WorkflowLevel::Read {
        return Err(Forbidden::WorkflowCap.into());
    }
    if facts.owner.id != workflow.repo_owner {
        return Err(Forbidden::NotNamespaceOwner.into());
    }
    let visibility = workflow_visibility(workflow, facts);
    match &facts.owner.org {
        Some(org) if !org.package_creation_visibilities.contains(visibility) => {
            Err(Forbidden::VisibilityNotAllowed(visibility).into())
        }
        _ => Ok(()),
    }
}
