//! Checks on the values of a package settings change, after `authorize(Manage)` allowed it.
//!
//! `authorize` says who may manage a package; these say which new settings are valid, so
//! that the rules on grants and visibilities also live in the permission core.

use crate::decision::Forbidden;
use crate::model::{AccountId, PackageFacts, ScopingModel, Visibility};
use crate::policy::Policy;

/// Who a package grant would go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grantee {
    /// A user, and whether they are a member of the package's owning org.
    User { org_member: bool },
    /// A team of the org `owner`.
    Team { owner: AccountId },
    /// Actions access for a repository owned by `owner`.
    Repository { owner: AccountId },
}

/// Whether `pkg` may be switched to visibility `to`. Any switch is allowed, public → private
/// included (GitHub refuses that one; we allow it to package admins), except that
/// repository-scoped packages have no visibility of their own and user accounts have no
/// internal visibility.
pub fn validate_visibility_change(
    policy: &Policy,
    pkg: &PackageFacts,
    to: Visibility,
) -> Result<(), Forbidden> {
    if policy.scoping(pkg.package_type) == ScopingModel::Repository {
        return Err(Forbidden::RepositoryScoped);
    }
    if to == Visibility::Internal && !pkg.owner.is_org() {
        return Err(Forbidden::VisibilityNotAllowed(to));
    }
    Ok(())
}

/// Whether `pkg` may be granted a role for `grantee` (spec §2.1): no access list on
/// repository-scoped packages; user and team grants refused while inheriting; teams and
/// Actions repositories from the package's owner only; private and internal org packages
/// granted to org members only.
pub fn validate_grant(
    policy: &Policy,
    pkg: &PackageFacts,
    grantee: Grantee,
) -> Result<(), Forbidden> {
    if policy.scoping(pkg.package_type) == ScopingModel::Repository {
        return Err(Forbidden::RepositoryScoped);
    }
    let inheriting = pkg.inherit_access && pkg.repository.is_some();
    match grantee {
        Grantee::Repository { owner } if owner != pkg.owner.id => {
            Err(Forbidden::GranteeOutsideOwner)
        }
        Grantee::Repository { .. } => Ok(()),
        Grantee::User { .. } | Grantee::Team { .. } if inheriting => Err(Forbidden::InheritsAccess),
        Grantee::Team { owner } if !pkg.owner.is_org() || owner != pkg.owner.id => {
            Err(Forbidden::GranteeOutsideOwner)
        }
        Grantee::Team { .. } => Ok(()),
        Grantee::User { org_member: false }
            if pkg.owner.is_org() && pkg.visibility != Visibility::Public =>
        {
            Err(Forbidden::GranteeNotOrgMember)
        }
        Grantee::User { .. } => Ok(()),
    }
}
