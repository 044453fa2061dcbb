//! The vocabulary of the permission core: identifiers, roles, visibilities, principals, facts.
//!
//! Facts are always "seen from the principal": a [`RepoFacts`] carries the asking user's
//! collaborator role and their teams' roles, not the whole collaborator list. That keeps the
//! caller's query small and the decision a pure function of its arguments.

use serde::{Deserialize, Serialize};

use crate::scopes::Scopes;

/// A user or organization account (they share one namespace of logins and ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(pub i64);

/// A repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RepoId(pub i64);

/// A value in configuration or storage did not name a known variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}; expected one of: {expected}")]
pub struct ParseError {
    /// What was being parsed ("role", "scope", …).
    pub kind: &'static str,
    /// The text that was refused.
    pub value: String,
    /// The accepted spellings, space-separated.
    pub expected: &'static str,
}

impl ParseError {
    pub(crate) fn new(kind: &'static str, value: &str, expected: &'static str) -> Self {
        Self {
            kind,
            value: value.to_owned(),
            expected: expected.trim_end(),
        }
    }
}

/// A role on a repository or a package. `Read < Write < Admin`, so `max` combines grants.
///
/// GitHub's `triage` maps to `Read` and `maintain` to `Write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Read,
    Write,
    Admin,
}
text_enum!(Role, "role", { Read => "read", Write => "write", Admin => "admin" });

/// A user's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    Member,
    Owner,
}
text_enum!(OrgRole, "org role", { Member => "member", Owner => "owner" });

/// Who can see a repository or a granular package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public = 0,
    Private = 1,
    /// Readable by every member of the owning organization; meaningless for user accounts,
    /// where it is treated as `Private`.
    Internal = 2,
}
text_enum!(Visibility, "visibility", {
    Public => "public",
    Private => "private",
    Internal => "internal",
});

small_set! {
    /// A set of visibilities, e.g. an organization's `package_creation_visibilities`.
    /// Defaults to every visibility.
    VisibilitySet of Visibility
}

impl Default for VisibilitySet {
    fn default() -> Self {
        Self::all()
    }
}

/// A registry's package type. Gradle publishes are `Maven`, as in GitHub's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageType {
    Container = 0,
    Npm = 1,
    Nuget = 2,
    Rubygems = 3,
    Maven = 4,
}
text_enum!(PackageType, "package type", {
    Container => "container",
    Npm => "npm",
    Nuget => "nuget",
    Rubygems => "rubygems",
    Maven => "maven",
});

/// Where a package's access and visibility come from (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopingModel {
    /// The package's own access list and visibility, or its linked repository's while
    /// inheriting.
    Granular,
    /// Always the repository the package was published into.
    Repository,
}
text_enum!(ScopingModel, "scoping model", {
    Granular => "granular",
    Repository => "repository",
});

/// The `packages:` permission a repository workflow token was minted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowLevel {
    Read,
    Write,
}
text_enum!(WorkflowLevel, "workflow level", { Read => "read", Write => "write" });

impl WorkflowLevel {
    /// The highest role the token can exercise: `write` caps at `admin` so that a workflow
    /// can delete and restore its own repository's packages, as GITHUB_TOKEN can.
    pub const fn cap(self) -> Role {
        match self {
            WorkflowLevel::Read => Role::Read,
            WorkflowLevel::Write => Role::Admin,
        }
    }
}

/// What is being done to an existing package (or one of its versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Download, install, read metadata, list.
    Read,
    /// Publish a version, push a tag, upload.
    Write,
    /// Delete a version or the package.
    Delete,
    /// Restore a deleted version or package.
    Restore,
    /// Change visibility, access list, Actions access, link, inheritance.
    Manage,
}
text_enum!(Operation, "operation", {
    Read => "read",
    Write => "write",
    Delete => "delete",
    Restore => "restore",
    Manage => "manage",
});

impl Operation {
    /// The least package role that permits the operation.
    pub const fn min_role(self) -> Role {
        match self {
            Operation::Read => Role::Read,
            Operation::Write => Role::Write,
            Operation::Delete | Operation::Restore | Operation::Manage => Role::Admin,
        }
    }

    /// The token scopes a personal access token needs for the operation under `model`.
    pub const fn required_scopes(self, model: ScopingModel) -> Scopes {
        Scopes::required_for(self, model)
    }
}

/// A user authenticated with a personal access token, a password or a web session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserPrincipal {
    pub id: AccountId,
    pub site_admin: bool,
    /// The token's scopes; a password or web-session login carries [`Scopes::all`].
    pub scopes: Scopes,
}

impl UserPrincipal {
    /// A user logged in with a password or web session: no token, so no scope narrows it.
    pub const fn session(id: AccountId, site_admin: bool) -> Self {
        Self {
            id,
            site_admin,
            scopes: Scopes::all(),
        }
    }
}

/// A repository workflow token (the GITHUB_TOKEN of a CI run): acts for a repository,
/// never for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkflowPrincipal {
    pub repo: RepoId,
    /// The account that owns `repo`.
    pub repo_owner: AccountId,
    pub level: WorkflowLevel,
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    /// No credentials at all.
    Anonymous,
    /// Credentials were presented but are unknown, expired or revoked. Decided exactly like
    /// [`Principal::Anonymous`]; kept apart so that a front-end can say why a 401 happened.
    InvalidCredentials,
    User(UserPrincipal),
    Workflow(WorkflowPrincipal),
}

impl Principal {
    /// Whether valid credentials identified a user or a workflow.
    pub const fn is_authenticated(&self) -> bool {
        matches!(self, Principal::User(_) | Principal::Workflow(_))
    }

    /// The user behind the principal, if it is one.
    pub const fn user(&self) -> Option<&UserPrincipal> {
        match self {
            Principal::User(user) => Some(user),
            _ => None,
        }
    }
}

/// An organization, seen from the principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgFacts {
    /// The base permission org members get on the org's repositories; `None` = no permission.
    pub base_permission: Option<Role>,
    /// The principal user's membership; `None` for non-members and non-user principals.
    pub principal_role: Option<OrgRole>,
    /// Whether packages linked at first publish inherit the repository's access.
    pub inherit_access_by_default: bool,
    /// The visibilities members may create packages with.
    pub package_creation_visibilities: VisibilitySet,
}

impl Default for OrgFacts {
    /// GitHub's defaults for a new organization, seen by a non-member.
    fn default() -> Self {
        Self {
            base_permission: Some(Role::Read),
            principal_role: None,
            inherit_access_by_default: true,
            package_creation_visibilities: VisibilitySet::all(),
        }
    }
}

/// The account owning a repository or package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerFacts {
    pub id: AccountId,
    /// `None` when the owner is a user account.
    pub org: Option<OrgFacts>,
}

impl OwnerFacts {
    /// The principal user's role in the owning org, if the owner is an org they belong to.
    pub fn principal_org_role(&self) -> Option<OrgRole> {
        self.org.as_ref().and_then(|org| org.principal_role)
    }

    pub fn is_org(&self) -> bool {
        self.org.is_some()
    }
}

/// A repository, seen from the principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFacts {
    pub id: RepoId,
    pub owner: OwnerFacts,
    pub visibility: Visibility,
    /// The principal user's collaborator role.
    pub collaborator_role: Option<Role>,
    /// The roles on this repository of the principal user's teams.
    pub team_roles: Vec<Role>,
}

/// A package, seen from the principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFacts {
    pub package_type: PackageType,
    pub owner: OwnerFacts,
    /// Granular: the package's own visibility. Ignored for repository-scoped packages.
    pub visibility: Visibility,
    /// Granular: the linked repository (`None` = unlinked).
    /// Repository-scoped: the repository the package lives in (required).
    pub repository: Option<RepoFacts>,
    /// Granular only: whether access is inherited from the linked repository.
    pub inherit_access: bool,
    /// The principal user's direct grant on the package.
    pub user_grant: Option<Role>,
    /// Grants to the principal user's teams.
    pub team_grants: Vec<Role>,
    /// The Actions-access grant for the workflow principal's repository.
    pub actions_grant: Option<Role>,
    /// Downloads of what is being deleted: the version for a version delete, the most
    /// downloaded version for a package delete (GitHub's rule).
    pub downloads: u64,
}
