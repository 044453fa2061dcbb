//! The permission core: pure authorization decisions over pre-loaded facts.
//!
//! Every registry front-end and the REST API ask this crate, and only this crate, whether a
//! principal may do something. The caller loads the facts (one query or a cached snapshot),
//! the core answers `Allow` or `Deny(kind)`, and the front-end renders the kind with
//! [`Deny::status`] and the kind's message.
//!
//! **Architecture Invariant:** this crate does no I/O and knows nothing of HTTP frameworks,
//! databases or async runtimes. Facts are plain data "seen from the principal" (its
//! collaborator role, its teams' grants, its org membership), so a decision is a function of
//! its arguments and can be tested exhaustively without a database.
//!
//! The model is written down in `docs/permissions.md`; the normative contract is the shared
//! permissions spec and its 30 test vectors, which live in `tests/it/vectors.rs`.
//!
//! Map of the crate:
//! - [`model`]: identifiers, roles, visibilities, principals and the fact structs;
//! - [`scopes`]: token scopes and their implications;
//! - [`policy`]: the deployment configuration (scoping table, anonymous reads, delete guard);
//! - [`roles`]: effective repository and package roles;
//! - [`decide`]: [`authorize`] for operations on existing packages;
//! - [`create`]: [`authorize_create`] and [`plan_creation`] for first publishes;
//! - [`settings`]: checks on the values of package settings changes;
//! - [`admin`]: [`authorize_admin`] for the administration API;
//! - [`decision`]: the decision and deny kinds.

#[macro_use]
mod macros;

pub mod admin;
pub mod create;
pub mod decide;
pub mod decision;
pub mod model;
pub mod policy;
pub mod roles;
pub mod scopes;
pub mod settings;

pub use admin::{AdminFacts, AdminOp, authorize_admin, may_grant_scopes};
pub use create::{CreateFacts, CreationPlan, authorize_create, plan_creation};
pub use decide::{authorize, deny_missing};
pub use decision::{Decision, Deny, Forbidden};
pub use model::{
    AccountId, Operation, OrgFacts, OrgRole, OwnerFacts, PackageFacts, PackageType, ParseError,
    Principal, RepoFacts, RepoId, Role, ScopingModel, UserPrincipal, Visibility, VisibilitySet,
    WorkflowLevel, WorkflowPrincipal,
};
pub use policy::{PackageTypeSet, Policy, ScopingTable};
pub use roles::{effective_package_role, effective_repo_role, effective_visibility};
pub use scopes::{Scope, Scopes};
pub use settings::{Grantee, validate_grant, validate_visibility_change};
