//! `authorize`: may a principal do an operation on an existing package?
//!
//! The order of the checks is the contract (spec §4): first whether the principal is
//! authenticated at all, then whether it may even read (else the package's existence stays
//! hidden), then whether its role suffices, then rules that refuse anyway, and only then the
//! token's scopes. Scopes come last because "missing scope" promises that fixing the token
//! is enough.

use crate::decision::{Decision, Deny, Forbidden};
use crate::model::{Operation, PackageFacts, PackageType, Principal, Role, Visibility};
use crate::policy::Policy;
use crate::roles::{Access, effective_visibility, package_access};

/// Decides whether `principal` may do `op` on the package described by `pkg`.
///
/// Deny kinds, in the order they are checked:
/// 1. [`Deny::Unauthenticated`]: an anonymous or invalid-credentials principal asks for
///    anything but an anonymously allowed read;
/// 2. [`Deny::NotFound`]: the principal has no role at all on the package;
/// 3. [`Forbidden::RoleTooLow`] or [`Forbidden::WorkflowCap`]: it can read but its role is
///    below the operation's minimum;
/// 4. [`Forbidden::DownloadGuard`]: deleting a public package or version with more downloads
///    than the policy's limit, by anyone but a site admin;
/// 5. [`Deny::MissingScope`]: a user's token lacks a scope the operation needs.
pub fn authorize(
    policy: &Policy,
    principal: &Principal,
    op: Operation,
    pkg: &PackageFacts,
) -> Decision {
    let access = package_access(policy, principal, pkg);
    match principal {
        Principal::Anonymous | Principal::InvalidCredentials => {
            return if op == Operation::Read && access.role.is_some() {
                Decision::Allow
            } else {
                Deny::Unauthenticated.into()
            };
        }
        Principal::User(_) | Principal::Workflow(_) => {}
    }
    if access.role.is_none() {
        return Deny::NotFound.into();
    }
    if let Some(forbidden) = role_shortfall(access, op.min_role()) {
        return forbidden.into();
    }
    let site_admin = principal.user().is_some_and(|user| user.site_admin);
    if op == Operation::Delete && !site_admin {
        let limit = policy.delete_guard_downloads;
        if effective_visibility(policy, pkg) == Visibility::Public && pkg.downloads > limit {
            return Forbidden::DownloadGuard {
                downloads: pkg.downloads,
                limit,
            }
            .into();
        }
    }
    if let Some(user) = principal.user() {
        let required = op.required_scopes(policy.scoping(pkg.package_type));
        let missing = user.scopes.lacking(required);
        if !missing.is_empty() {
            return Deny::MissingScope(missing).into();
        }
    }
    Decision::Allow
}

/// Why `access` does not reach `need`, if it does not.
pub(crate) fn role_shortfall(access: Access, need: Role) -> Option<Forbidden> {
    if access.role >= Some(need) {
        None
    } else if access.uncapped >= Some(need) {
        Some(Forbidden::WorkflowCap)
    } else {
        Some(Forbidden::RoleTooLow {
            have: access.role,
            need,
        })
    }
}

/// How to refuse any operation on a package that does not exist (or is deleted): a principal that could
/// authenticate and then see it is asked to (401), so that clients which only send credentials after a challenge
/// (Maven, Gradle, NuGet) retry with them; everyone else learns nothing (404).
pub fn deny_missing(policy: &Policy, principal: &Principal, package_type: PackageType) -> Deny {
    if !principal.is_authenticated() && !policy.anonymous_read(package_type) {
        Deny::Unauthenticated
    } else {
        Deny::NotFound
    }
}
