//! Property tests over arbitrary principals, policies and facts.
//!
//! Ids are drawn from tiny ranges so that "the principal owns it" and "the workflow's own
//! repository" happen often, and the facts need not be consistent with the principal: the
//! properties must hold for whatever a buggy loader hands the core.

use entrepot_authz::{
    AccountId, AdminFacts, AdminOp, CreateFacts, Decision, Deny, Operation, OrgFacts, OrgRole,
    OwnerFacts, PackageFacts, PackageType, Policy, Principal, RepoFacts, RepoId, Role, Scopes,
    ScopingModel, UserPrincipal, Visibility, VisibilitySet, WorkflowLevel, WorkflowPrincipal,
    authorize, authorize_admin, authorize_create, effective_package_role, effective_repo_role,
    effective_visibility, may_grant_scopes,
};
use proptest::prelude::*;
use proptest::sample::select;

fn role() -> impl Strategy<Value = Role> {
    select(Role::ALL)
}

fn opt_role() -> impl Strategy<Value = Option<Role>> {
    proptest::option::of(role())
}

fn roles() -> impl Strategy<Value = Vec<Role>> {
    proptest::collection::vec(role(), 0..3)
}

fn scopes() -> impl Strategy<Value = Scopes> {
    (0u8..16).prop_map(|bits| Scopes::from_bits(bits).expect("four scope bits"))
}

fn visibility() -> impl Strategy<Value = Visibility> {
    select(Visibility::ALL)
}

fn account() -> impl Strategy<Value = AccountId> {
    (1i64..=3).prop_map(AccountId)
}

fn repo_id() -> impl Strategy<Value = RepoId> {
    (1i64..=3).prop_map(RepoId)
}

fn org() -> impl Strategy<Value = OrgFacts> {
    (
        opt_role(),
        proptest::option::of(select(OrgRole::ALL)),
        any::<bool>(),
        (0u8..8).prop_map(|bits| VisibilitySet::from_bits(bits).expect("three bits")),
    )
        .prop_map(
            |(base_permission, principal_role, inherit, visibilities)| OrgFacts {
                base_permission,
                principal_role,
                inherit_access_by_default: inherit,
                package_creation_visibilities: visibilities,
            },
        )
}

fn owner() -> impl Strategy<Value = OwnerFacts> {
    (account(), proptest::option::of(org())).prop_map(|(id, org)| OwnerFacts { id, org })
}

fn repo() -> impl Strategy<Value = RepoFacts> {
    (repo_id(), owner(), visibility(), opt_role(), roles()).prop_map(
        |(id, owner, visibility, collaborator_role, team_roles)| RepoFacts {
            id,
            owner,
            visibility,
            collaborator_role,
            team_roles,
        },
    )
}

fn package() -> impl Strategy<Value = PackageFacts> {
    (
        select(PackageType::ALL),
        owner(),
        visibility(),
        proptest::option::of(repo()),
        any::<bool>(),
        (opt_role(), roles(), opt_role()),
        prop_oneof![Just(0u64), 0u64..20_000],
    )
        .prop_map(
            |(package_type, owner, visibility, repository, inherit, grants, downloads)| {
                PackageFacts {
                    package_type,
                    owner,
                    visibility,
                    repository,
                    inherit_access: inherit,
                    user_grant: grants.0,
                    team_grants: grants.1,
                    actions_grant: grants.2,
                    downloads,
                }
            },
        )
}

fn create_facts() -> impl Strategy<Value = CreateFacts> {
    (
        select(PackageType::ALL),
        owner(),
        proptest::option::of(repo()),
        visibility(),
    )
        .prop_map(
            |(package_type, owner, repository, visibility)| CreateFacts {
                package_type,
                owner,
                repository,
                visibility,
            },
        )
}

fn admin_facts() -> impl Strategy<Value = AdminFacts> {
    (
        proptest::option::of(account()),
        proptest::option::of(org()),
        proptest::option::of(repo()),
    )
        .prop_map(|(target_user, org, repo)| AdminFacts {
            target_user,
            org,
            repo,
        })
}

fn user() -> impl Strategy<Value = UserPrincipal> {
    (account(), proptest::bool::weighted(0.15), scopes()).prop_map(|(id, site_admin, scopes)| {
        UserPrincipal {
            id,
            site_admin,
            scopes,
        }
    })
}

fn workflow() -> impl Strategy<Value = WorkflowPrincipal> {
    (
        repo_id(),
        account(),
        select(&[WorkflowLevel::Read, WorkflowLevel::Write][..]),
    )
        .prop_map(|(repo, repo_owner, level)| WorkflowPrincipal {
            repo,
            repo_owner,
            level,
        })
}

fn principal() -> impl Strategy<Value = Principal> {
    prop_oneof![
        1 => Just(Principal::Anonymous),
        1 => Just(Principal::InvalidCredentials),
        4 => user().prop_map(Principal::User),
        3 => workflow().prop_map(Principal::Workflow),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        proptest::collection::vec(any::<bool>(), 5),
        0u8..32,
        prop_oneof![Just(5000u64), 0u64..10_000],
    )
        .prop_map(|(repository_scoped, anonymous, limit)| {
            let mut policy = Policy::default();
            for (t, repo) in PackageType::ALL.iter().zip(repository_scoped) {
                let model = if repo {
                    ScopingModel::Repository
                } else {
                    ScopingModel::Granular
                };
                policy.set_scoping(*t, model);
            }
            policy.anonymous_read =
                entrepot_authz::PackageTypeSet::from_bits(anonymous).expect("five bits");
            policy.delete_guard_downloads = limit;
            policy
        })
}

fn operation() -> impl Strategy<Value = Operation> {
    select(Operation::ALL)
}

fn with_scopes(user: UserPrincipal, scopes: Scopes) -> Principal {
    Principal::User(UserPrincipal { scopes, ..user })
}

/// Every way of adding access to the facts: a grant, a team, a membership, a base permission.
#[derive(Debug, Clone)]
enum Widening {
    UserGrant(Role),
    TeamGrant(Role),
    ActionsGrant(Role),
    Collaborator(Role),
    RepoTeam(Role),
    PackageOrgRole(OrgRole),
    RepoOrgRole(OrgRole),
    BasePermission(Role),
}

fn widening() -> impl Strategy<Value = Widening> {
    prop_oneof![
        role().prop_map(Widening::UserGrant),
        role().prop_map(Widening::TeamGrant),
        role().prop_map(Widening::ActionsGrant),
        role().prop_map(Widening::Collaborator),
        role().prop_map(Widening::RepoTeam),
        select(OrgRole::ALL).prop_map(Widening::PackageOrgRole),
        select(OrgRole::ALL).prop_map(Widening::RepoOrgRole),
        role().prop_map(Widening::BasePermission),
    ]
}

fn raise_org_role(owner: &mut OwnerFacts, to: OrgRole) {
    if let Some(org) = owner.org.as_mut() {
        org.principal_role = org.principal_role.max(Some(to));
    }
}

fn widen(pkg: &PackageFacts, widening: &Widening) -> PackageFacts {
    let mut pkg = pkg.clone();
    match *widening {
        Widening::UserGrant(role) => pkg.user_grant = pkg.user_grant.max(Some(role)),
        Widening::TeamGrant(role) => pkg.team_grants.push(role),
        Widening::ActionsGrant(role) => pkg.actions_grant = pkg.actions_grant.max(Some(role)),
        Widening::Collaborator(role) => {
            if let Some(repo) = pkg.repository.as_mut() {
                repo.collaborator_role = repo.collaborator_role.max(Some(role));
            }
        }
        Widening::RepoTeam(role) => {
            if let Some(repo) = pkg.repository.as_mut() {
                repo.team_roles.push(role);
            }
        }
        Widening::PackageOrgRole(to) => raise_org_role(&mut pkg.owner, to),
        Widening::RepoOrgRole(to) => {
            if let Some(repo) = pkg.repository.as_mut() {
                raise_org_role(&mut repo.owner, to);
            }
        }
        Widening::BasePermission(role) => {
            if let Some(org) = pkg.repository.as_mut().and_then(|r| r.owner.org.as_mut()) {
                org.base_permission = org.base_permission.max(Some(role));
            }
        }
    }
    pkg
}

/// The facts with every relation between a user and the package removed, made private or
/// internal (which a non-member cannot tell from private).
fn estrange(pkg: &PackageFacts, user: AccountId, hidden: Visibility) -> PackageFacts {
    fn strip_owner(owner: &mut OwnerFacts, user: AccountId) {
        if let Some(org) = owner.org.as_mut() {
            org.principal_role = None;
        } else if owner.id == user {
            owner.id = AccountId(user.0 + 100);
        }
    }
    let mut pkg = pkg.clone();
    pkg.visibility = hidden;
    pkg.user_grant = None;
    pkg.team_grants.clear();
    strip_owner(&mut pkg.owner, user);
    if let Some(repo) = pkg.repository.as_mut() {
        repo.visibility = hidden;
        repo.collaborator_role = None;
        repo.team_roles.clear();
        strip_owner(&mut repo.owner, user);
    }
    pkg
}

const WRITES: [Operation; 4] = [
    Operation::Write,
    Operation::Delete,
    Operation::Restore,
    Operation::Manage,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn removing_a_scope_never_widens(
        policy in policy(),
        user in user(),
        op in operation(),
        pkg in package(),
        create in create_facts(),
        admin_op in select(AdminOp::ALL),
        admin in admin_facts(),
    ) {
        for scope in user.scopes.iter() {
            let wide = with_scopes(user, user.scopes);
            let narrow = with_scopes(user, user.scopes.without(scope));
            let pairs = [
                (authorize(&policy, &wide, op, &pkg), authorize(&policy, &narrow, op, &pkg)),
                (authorize_create(&policy, &wide, &create), authorize_create(&policy, &narrow, &create)),
                (authorize_admin(&wide, admin_op, &admin), authorize_admin(&narrow, admin_op, &admin)),
            ];
            for (wide, narrow) in pairs {
                if narrow.is_allowed() {
                    prop_assert!(wide.is_allowed(), "without {scope}: {narrow:?}, with it: {wide:?}");
                }
                // Scopes only ever add a missing-scope refusal; other refusals stay as they are.
                if let Decision::Deny(deny) = wide
                    && !matches!(deny, Deny::MissingScope(_))
                {
                    prop_assert_eq!(narrow, wide);
                }
            }
        }
    }

    #[test]
    fn implications_are_applied_by_the_decision(
        policy in policy(),
        user in user(),
        op in operation(),
        pkg in package(),
    ) {
        let stored = authorize(&policy, &with_scopes(user, user.scopes), op, &pkg);
        let implied = authorize(&policy, &with_scopes(user, user.scopes.implied()), op, &pkg);
        prop_assert_eq!(stored, implied);
    }

    #[test]
    fn any_allowed_operation_implies_read(
        policy in policy(),
        principal in principal(),
        op in operation(),
        pkg in package(),
    ) {
        if authorize(&policy, &principal, op, &pkg).is_allowed() {
            prop_assert!(authorize(&policy, &principal, Operation::Read, &pkg).is_allowed());
        }
    }

    #[test]
    fn operations_form_a_ladder_when_scopes_do_not_interfere(
        policy in policy(),
        principal in principal(),
        pkg in package(),
    ) {
        // Delete needs no write:packages, so the ladder only holds for full tokens and
        // workflows; the download guard only ever refuses Delete, so it cannot break it.
        let principal = match principal {
            Principal::User(user) => with_scopes(user, Scopes::all()),
            other => other,
        };
        let allowed = |op| authorize(&policy, &principal, op, &pkg).is_allowed();
        if allowed(Operation::Delete) {
            prop_assert!(allowed(Operation::Manage));
        }
        prop_assert_eq!(allowed(Operation::Manage), allowed(Operation::Restore));
        if allowed(Operation::Manage) {
            prop_assert!(allowed(Operation::Write));
        }
        if allowed(Operation::Write) {
            prop_assert!(allowed(Operation::Read));
        }
    }

    #[test]
    fn adding_a_grant_never_narrows(
        policy in policy(),
        principal in principal(),
        op in operation(),
        pkg in package(),
        widening in widening(),
    ) {
        let wider = widen(&pkg, &widening);
        prop_assert!(
            effective_package_role(&policy, &principal, &wider)
                >= effective_package_role(&policy, &principal, &pkg)
        );
        if authorize(&policy, &principal, op, &pkg).is_allowed() {
            prop_assert!(authorize(&policy, &principal, op, &wider).is_allowed());
        }
        if let Some(repo) = &pkg.repository {
            let wider_repo = wider.repository.as_ref().expect("widening keeps the repository");
            prop_assert!(
                effective_repo_role(&principal, wider_repo) >= effective_repo_role(&principal, repo)
            );
        }
    }

    #[test]
    fn not_found_only_when_read_is_denied(
        policy in policy(),
        principal in principal(),
        op in operation(),
        pkg in package(),
    ) {
        if authorize(&policy, &principal, op, &pkg) == Decision::Deny(Deny::NotFound) {
            let read = authorize(&policy, &principal, Operation::Read, &pkg);
            prop_assert_eq!(read, Decision::Deny(Deny::NotFound));
        }
    }

    #[test]
    fn not_found_never_hides_a_public_package(
        policy in policy(),
        principal in principal(),
        op in operation(),
        pkg in package(),
    ) {
        if effective_visibility(&policy, &pkg) == Visibility::Public {
            prop_assert_ne!(authorize(&policy, &principal, op, &pkg), Decision::Deny(Deny::NotFound));
        }
    }

    #[test]
    fn anonymous_is_never_allowed_anything_but_read(
        policy in policy(),
        invalid in any::<bool>(),
        pkg in package(),
        create in create_facts(),
        admin_op in select(AdminOp::ALL),
        admin in admin_facts(),
    ) {
        let principal = if invalid { Principal::InvalidCredentials } else { Principal::Anonymous };
        for op in WRITES {
            prop_assert_eq!(
                authorize(&policy, &principal, op, &pkg),
                Decision::Deny(Deny::Unauthenticated)
            );
        }
        let read = authorize(&policy, &principal, Operation::Read, &pkg);
        prop_assert!(matches!(read, Decision::Allow | Decision::Deny(Deny::Unauthenticated)));
        prop_assert_eq!(read.is_allowed(), policy.anonymous_read(pkg.package_type)
            && effective_visibility(&policy, &pkg) == Visibility::Public);
        prop_assert_eq!(
            authorize_create(&policy, &principal, &create),
            Decision::Deny(Deny::Unauthenticated)
        );
        prop_assert_eq!(
            authorize_admin(&principal, admin_op, &admin),
            Decision::Deny(Deny::Unauthenticated)
        );
        prop_assert!(!may_grant_scopes(&principal, Scopes::empty()));
    }

    #[test]
    fn a_read_level_workflow_never_writes(
        policy in policy(),
        workflow in workflow(),
        pkg in package(),
        create in create_facts(),
    ) {
        let principal = Principal::Workflow(WorkflowPrincipal { level: WorkflowLevel::Read, ..workflow });
        prop_assert!(effective_package_role(&policy, &principal, &pkg) <= Some(Role::Read));
        for op in WRITES {
            prop_assert!(!authorize(&policy, &principal, op, &pkg).is_allowed());
        }
        prop_assert!(!authorize_create(&policy, &principal, &create).is_allowed());
        if let Some(repo) = &pkg.repository {
            prop_assert!(effective_repo_role(&principal, repo) <= Some(Role::Read));
        }
    }

    #[test]
    fn private_packages_are_hidden_from_users_without_a_role(
        policy in policy(),
        user in user(),
        op in operation(),
        pkg in package(),
        hidden in select(&[Visibility::Private, Visibility::Internal][..]),
    ) {
        let stranger = Principal::User(UserPrincipal { site_admin: false, ..user });
        let pkg = estrange(&pkg, user.id, hidden);
        prop_assert_eq!(effective_package_role(&policy, &stranger, &pkg), None);
        prop_assert_eq!(authorize(&policy, &stranger, op, &pkg), Decision::Deny(Deny::NotFound));
    }

    #[test]
    fn private_packages_are_hidden_from_workflows_without_a_grant(
        policy in policy(),
        workflow in workflow(),
        op in operation(),
        pkg in package(),
    ) {
        let principal = Principal::Workflow(workflow);
        // Internal packages are readable by workflows of the owning org, so only private.
        let mut pkg = estrange(&pkg, AccountId(0), Visibility::Private);
        pkg.actions_grant = None;
        if let Some(repo) = pkg.repository.as_mut()
            && repo.id == workflow.repo
        {
            repo.id = RepoId(workflow.repo.0 + 100);
        }
        prop_assert_eq!(authorize(&policy, &principal, op, &pkg), Decision::Deny(Deny::NotFound));
    }

    #[test]
    fn public_packages_are_readable_by_every_authenticated_principal(
        policy in policy(),
        principal in principal(),
        pkg in package(),
    ) {
        let principal = match principal {
            Principal::User(user) => with_scopes(user, user.scopes.with(entrepot_authz::Scope::ReadPackages)),
            other => other,
        };
        if principal.is_authenticated() && effective_visibility(&policy, &pkg) == Visibility::Public {
            prop_assert!(authorize(&policy, &principal, Operation::Read, &pkg).is_allowed());
        }
    }

    #[test]
    fn site_admins_with_full_tokens_may_do_anything_to_a_package(
        policy in policy(),
        user in user(),
        op in operation(),
        pkg in package(),
    ) {
        let admin = Principal::User(UserPrincipal { site_admin: true, scopes: Scopes::all(), ..user });
        prop_assert!(authorize(&policy, &admin, op, &pkg).is_allowed());
    }

    #[test]
    fn the_role_functions_agree_with_the_decision(
        policy in policy(),
        principal in principal(),
        op in operation(),
        pkg in package(),
    ) {
        let full = match principal {
            Principal::User(user) => with_scopes(user, Scopes::all()),
            other => other,
        };
        let role = effective_package_role(&policy, &full, &pkg);
        let decision = authorize(&policy, &full, op, &pkg);
        if decision.is_allowed() {
            prop_assert!(role >= Some(op.min_role()));
        }
        if role >= Some(op.min_role()) && op != Operation::Delete && full.is_authenticated() {
            prop_assert!(decision.is_allowed());
        }
    }

    #[test]
    fn a_token_never_mints_wider_scopes(
        user in user(),
        requested in scopes(),
    ) {
        let principal = Principal::User(user);
        let granted = may_grant_scopes(&principal, requested);
        prop_assert_eq!(granted, user.scopes.implied().contains_all(requested));
        prop_assert!(may_grant_scopes(&principal, user.scopes));
    }
}
