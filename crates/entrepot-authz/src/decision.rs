//! Decisions and the deny kinds every front-end renders the same way (spec §4).
//!
//! Messages are safe to show to the client: they never name a package the principal cannot
//! read (that is what [`Deny::NotFound`] is for).

use crate::model::{Role, Visibility};
use crate::scopes::Scopes;

/// The answer of the permission core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Decision {
    Allow,
    Deny(Deny),
}

impl Decision {
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// The deny kind, if denied.
    pub const fn deny(&self) -> Option<Deny> {
        match self {
            Decision::Allow => None,
            Decision::Deny(deny) => Some(*deny),
        }
    }

    /// `Ok(())` or the deny kind, for `?` in service code.
    pub const fn into_result(self) -> Result<(), Deny> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(deny) => Err(deny),
        }
    }
}

impl From<Result<(), Deny>> for Decision {
    fn from(result: Result<(), Deny>) -> Self {
        match result {
            Ok(()) => Decision::Allow,
            Err(deny) => Decision::Deny(deny),
        }
    }
}

impl From<Deny> for Decision {
    fn from(deny: Deny) -> Self {
        Decision::Deny(deny)
    }
}

impl From<Forbidden> for Decision {
    fn from(forbidden: Forbidden) -> Self {
        Decision::Deny(Deny::Forbidden(forbidden))
    }
}

impl From<Forbidden> for Deny {
    fn from(forbidden: Forbidden) -> Self {
        Deny::Forbidden(forbidden)
    }
}

/// Why a request was refused, in the four kinds of spec §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Deny {
    /// No, unknown, expired or revoked credentials, and the operation is not allowed
    /// anonymously. 401 with the registry's challenge.
    #[error("authentication required")]
    Unauthenticated,
    /// The principal may not even read it; its existence is not revealed. 404.
    #[error("not found")]
    NotFound,
    /// The role suffices but the token lacks these scopes (only the missing ones). 403.
    #[error("the token lacks the scope(s): {0}")]
    MissingScope(Scopes),
    /// The principal may read it, but the role is too low or a rule refuses. 403.
    #[error("{0}")]
    Forbidden(Forbidden),
}

impl Deny {
    /// The HTTP status every front-end answers with.
    pub const fn status(&self) -> u16 {
        match self {
            Deny::Unauthenticated => 401,
            Deny::NotFound => 404,
            Deny::MissingScope(_) | Deny::Forbidden(_) => 403,
        }
    }
}

/// The rule behind a [`Deny::Forbidden`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("this needs the {need} role; {}", have_phrase(*.have))]
    RoleTooLow { have: Option<Role>, need: Role },
    #[error(
        "a public package or version with {downloads} downloads (more than {limit}) \
         can only be deleted by a site administrator"
    )]
    DownloadGuard { downloads: u64, limit: u64 },
    #[error("you are not a member of this organization")]
    NotOrgMember,
    #[error("only owners of this organization may do this")]
    NotOrgOwner,
    #[error("this can only be done in your own namespace")]
    NotNamespaceOwner,
    #[error("the visibility {0} is not allowed here")]
    VisibilityNotAllowed(Visibility),
    /// A workflow token's level, not the repository's grants, is what falls short.
    #[error("the workflow token's packages permission is too low for this; mint it with `write`")]
    WorkflowCap,
    #[error("workflow tokens cannot do this")]
    WorkflowNotAllowed,
    #[error("only site administrators may do this")]
    SiteAdminOnly,
    /// Repository-scoped packages have no own visibility or access list.
    #[error("this package takes its access and visibility from its repository")]
    RepositoryScoped,
    /// User and team grants are refused while the package inherits its repository's access.
    #[error("this package inherits access from its repository; turn inheritance off first")]
    InheritsAccess,
    #[error("private and internal packages of an organization can only be granted to its members")]
    GranteeNotOrgMember,
    #[error("the grantee does not belong to the package's owner")]
    GranteeOutsideOwner,
}

fn have_phrase(have: Option<Role>) -> String {
    match have {
        Some(role) => format!("you have {role}"),
        None => "you have no role".to_owned(),
    }
}
