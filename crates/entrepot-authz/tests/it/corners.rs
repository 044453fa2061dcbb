//! Corners of `authorize` the spec vectors do not reach, and the choices docs/permissions.md
//! records.

use entrepot_authz::{
    Decision, Deny, Forbidden, Grantee, Operation, OrgRole, PackageType, Policy, Principal, Role,
    Scopes, ScopingModel, Visibility, WorkflowLevel, authorize, effective_package_role,
    effective_repo_role, effective_visibility, validate_grant, validate_visibility_change,
};

use crate::fixtures::*;

fn check(principal: Principal, op: Operation, pkg: &entrepot_authz::PackageFacts) -> Decision {
    authorize(&Policy::default(), &principal, op, pkg)
}

#[test]
fn invalid_credentials_read_what_anonymous_reads() {
    let v = Viewer::Nobody;
    let public = v.package(PackageType::Container, v.acme()).public().build();
    let private = v.package(PackageType::Container, v.acme()).build();
    let p = Principal::InvalidCredentials;
    assert_eq!(check(p, Operation::Read, &public), Decision::Allow);
    assert_eq!(check(p, Operation::Read, &private), UNAUTHENTICATED);
    assert_eq!(check(p, Operation::Delete, &public), UNAUTHENTICATED);
}

#[test]
fn anonymous_read_is_per_registry_configuration() {
    let v = Viewer::Nobody;
    let lib = v.package(PackageType::Npm, v.acme()).public().build();
    let app = v.package(PackageType::Container, v.acme()).public().build();
    let policy = Policy::default()
        .with_anonymous_read(PackageType::Npm, true)
        .with_anonymous_read(PackageType::Container, false);
    let anon = Principal::Anonymous;
    assert!(authorize(&policy, &anon, Operation::Read, &lib).is_allowed());
    assert_eq!(
        authorize(&policy, &anon, Operation::Read, &app),
        UNAUTHENTICATED
    );
    assert_eq!(
        authorize(&policy, &anon, Operation::Write, &lib),
        UNAUTHENTICATED
    );
}

#[test]
fn site_admin_is_admin_but_still_bound_by_scopes() {
    let v = Viewer::Root;
    let pkg = v.package(PackageType::Npm, v.ursula()).build();
    assert_eq!(
        check(v.principal(), Operation::Manage, &pkg),
        Decision::Allow
    );
    assert_eq!(
        check(v.with_scopes("read:packages"), Operation::Delete, &pkg),
        missing("delete:packages")
    );
}

#[test]
fn site_admin_passes_the_download_guard() {
    let v = Viewer::Root;
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .public()
        .downloads(1_000_000)
        .build();
    assert_eq!(
        check(v.principal(), Operation::Delete, &pkg),
        Decision::Allow
    );
}

#[test]
fn download_guard_is_strictly_more_than_the_limit_and_public_only() {
    let o = Viewer::Olga;
    let at_limit = o
        .package(PackageType::Npm, o.acme())
        .public()
        .downloads(5000)
        .build();
    assert_eq!(
        check(o.principal(), Operation::Delete, &at_limit),
        Decision::Allow
    );
    let private = o
        .package(PackageType::Npm, o.acme())
        .downloads(9000)
        .build();
    assert_eq!(
        check(o.principal(), Operation::Delete, &private),
        Decision::Allow
    );
    // The guard is about deleting; restoring or managing a popular package is fine.
    let popular = o
        .package(PackageType::Npm, o.acme())
        .public()
        .downloads(9000)
        .build();
    assert_eq!(
        check(o.principal(), Operation::Restore, &popular),
        Decision::Allow
    );
    assert_eq!(
        check(o.principal(), Operation::Manage, &popular),
        Decision::Allow
    );
    // A workflow is no site admin.
    let w = Viewer::Workflow(WEB);
    let popular = w
        .package(PackageType::Npm, w.acme())
        .public()
        .actions(WEB, Role::Admin)
        .downloads(9000)
        .build();
    assert_eq!(
        authorize(
            &Policy::default(),
            &workflow(WEB, WorkflowLevel::Write),
            Operation::Delete,
            &popular
        ),
        forbidden(Forbidden::DownloadGuard {
            downloads: 9000,
            limit: 5000
        })
    );
}

#[test]
fn download_guard_follows_the_repository_visibility_when_repository_scoped() {
    let o = Viewer::Olga;
    let mut pkg = o.maven_in(o.site());
    pkg.downloads = 6000;
    assert!(matches!(
        check(o.principal(), Operation::Delete, &pkg),
        Decision::Deny(Deny::Forbidden(Forbidden::DownloadGuard { .. }))
    ));
    let mut pkg = o.maven_in(o.web());
    pkg.downloads = 6000;
    assert_eq!(
        check(o.principal(), Operation::Delete, &pkg),
        Decision::Allow
    );
}

#[test]
fn the_guard_is_reported_before_missing_scopes() {
    let o = Viewer::Olga;
    let pkg = o
        .package(PackageType::Npm, o.acme())
        .public()
        .downloads(6000)
        .build();
    assert!(matches!(
        check(o.with_scopes("read:packages"), Operation::Delete, &pkg),
        Decision::Deny(Deny::Forbidden(Forbidden::DownloadGuard { .. }))
    ));
}

#[test]
fn a_role_too_low_is_reported_before_missing_scopes() {
    let v = Viewer::Mia;
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .grant_devs(Role::Read)
        .build();
    assert_eq!(
        check(v.with_scopes("read:packages"), Operation::Write, &pkg),
        forbidden(Forbidden::RoleTooLow {
            have: Some(Role::Read),
            need: Role::Write
        })
    );
}

#[test]
fn not_found_is_reported_before_missing_scopes() {
    let v = Viewer::Outsider;
    let pkg = v.package(PackageType::Npm, v.acme()).build();
    assert_eq!(check(v.with_scopes(""), Operation::Read, &pkg), NOT_FOUND);
}

#[test]
fn reading_a_public_package_still_needs_a_read_scope() {
    let v = Viewer::Outsider;
    let pkg = v.package(PackageType::Npm, v.acme()).public().build();
    assert_eq!(
        check(v.with_scopes("delete:packages"), Operation::Read, &pkg),
        missing("read:packages")
    );
    assert_eq!(
        check(v.with_scopes("write:packages"), Operation::Read, &pkg),
        Decision::Allow
    );
}

#[test]
fn scope_table_per_operation() {
    let o = Viewer::Olga;
    let pkg = o.package(PackageType::Npm, o.acme()).build();
    let cases = [
        (
            Operation::Delete,
            "delete:packages",
            missing("read:packages"),
        ),
        (
            Operation::Delete,
            "delete:packages read:packages",
            Decision::Allow,
        ),
        (
            Operation::Delete,
            "delete:packages write:packages",
            Decision::Allow,
        ),
        (
            Operation::Restore,
            "read:packages delete:packages",
            missing("write:packages"),
        ),
        (Operation::Restore, "write:packages", Decision::Allow),
        (Operation::Manage, "write:packages", Decision::Allow),
        (
            Operation::Manage,
            "read:packages repo",
            missing("write:packages"),
        ),
    ];
    for (op, scopes, expected) in cases {
        assert_eq!(
            check(o.with_scopes(scopes), op, &pkg),
            expected,
            "{op} {scopes}"
        );
    }
}

#[test]
fn repository_scoped_needs_repo_for_everything_but_reads() {
    let o = Viewer::Olga;
    let pkg = o.maven_in(o.web());
    for op in [
        Operation::Write,
        Operation::Delete,
        Operation::Restore,
        Operation::Manage,
    ] {
        assert_eq!(
            check(
                o.with_scopes("read:packages write:packages delete:packages"),
                op,
                &pkg
            ),
            missing("repo"),
            "{op}"
        );
    }
    assert_eq!(
        check(o.with_scopes("read:packages"), Operation::Read, &pkg),
        Decision::Allow
    );
}

#[test]
fn a_registry_moved_to_repository_scoping_takes_the_repository_rules() {
    let policy = Policy::default().with_scoping(PackageType::Npm, ScopingModel::Repository);
    let v = Viewer::Max;
    // Its own visibility and grants no longer count: acme/web is private, max writes there.
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .public()
        .grant(Viewer::Max, Role::Admin)
        .linked(v.web())
        .build();
    assert_eq!(effective_visibility(&policy, &pkg), Visibility::Private);
    assert_eq!(
        effective_package_role(&policy, &v.principal(), &pkg),
        Some(Role::Write)
    );
    assert_eq!(
        authorize(
            &policy,
            &v.with_scopes("write:packages"),
            Operation::Write,
            &pkg
        ),
        missing("repo")
    );
}

#[test]
fn repository_scoped_ignores_the_package_visibility_field() {
    let v = Viewer::Outsider;
    let mut pkg = v.maven_in(v.web());
    pkg.visibility = Visibility::Public;
    assert_eq!(check(v.principal(), Operation::Read, &pkg), NOT_FOUND);
}

#[test]
fn repository_scoped_without_its_repository_is_reachable_by_owners_only() {
    let o = Viewer::Olga;
    let mut pkg = o.maven_in(o.site());
    pkg.repository = None;
    assert_eq!(
        check(o.principal(), Operation::Delete, &pkg),
        Decision::Allow
    );
    let m = Viewer::Mia;
    let mut pkg = m.maven_in(m.site());
    pkg.repository = None;
    assert_eq!(check(m.principal(), Operation::Read, &pkg), NOT_FOUND);
}

#[test]
fn inheriting_ignores_the_access_list() {
    let v = Viewer::Mia;
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .linked(v.web())
        .inheriting()
        .grant(Viewer::Mia, Role::Admin)
        .grant_devs(Role::Write)
        .build();
    assert_eq!(
        effective_package_role(&Policy::default(), &v.principal(), &pkg),
        Some(Role::Read)
    );
}

#[test]
fn linked_without_inheritance_uses_the_access_list() {
    let v = Viewer::Max;
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .linked(v.web())
        .build();
    assert_eq!(check(v.principal(), Operation::Read, &pkg), NOT_FOUND);
}

#[test]
fn inheritance_without_a_link_falls_back_to_the_access_list() {
    let v = Viewer::Mia;
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .inheriting()
        .grant(Viewer::Mia, Role::Write)
        .build();
    assert_eq!(
        check(v.principal(), Operation::Write, &pkg),
        Decision::Allow
    );
}

#[test]
fn org_base_permission_none_gives_members_nothing() {
    let v = Viewer::Mia;
    let mut web = v.web();
    if let Some(org) = web.owner.org.as_mut() {
        org.base_permission = None;
    }
    assert_eq!(effective_repo_role(&v.principal(), &web), None);
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .linked(web)
        .inheriting()
        .build();
    assert_eq!(check(v.principal(), Operation::Read, &pkg), NOT_FOUND);
}

#[test]
fn base_permission_is_for_members_only() {
    let v = Viewer::Outsider;
    let mut web = v.web();
    web.collaborator_role = Some(Role::Read);
    if let Some(org) = web.owner.org.as_mut() {
        org.base_permission = Some(Role::Admin);
    }
    assert_eq!(effective_repo_role(&v.principal(), &web), Some(Role::Read));
}

#[test]
fn repository_roles_take_the_max_of_their_sources() {
    let v = Viewer::Mia;
    let mut web = v.web();
    web.team_roles = vec![Role::Read, Role::Admin];
    assert_eq!(effective_repo_role(&v.principal(), &web), Some(Role::Admin));
    assert_eq!(
        effective_repo_role(&Viewer::Olga.principal(), &Viewer::Olga.web()),
        Some(Role::Admin)
    );
    assert_eq!(
        effective_repo_role(&Viewer::Outsider.principal(), &Viewer::Outsider.site()),
        Some(Role::Read)
    );
    assert_eq!(
        effective_repo_role(&Viewer::Ursula.principal(), &Viewer::Ursula.tools()),
        Some(Role::Admin)
    );
    assert_eq!(
        effective_repo_role(&Viewer::Max.principal(), &Viewer::Max.tools()),
        None
    );
    assert_eq!(
        effective_repo_role(&Principal::Anonymous, &Viewer::Nobody.site()),
        None
    );
}

#[test]
fn internal_repositories_are_read_by_org_members() {
    let mut mia_web = Viewer::Mia.web();
    mia_web.visibility = Visibility::Internal;
    if let Some(org) = mia_web.owner.org.as_mut() {
        org.base_permission = None;
    }
    assert_eq!(
        effective_repo_role(&Viewer::Mia.principal(), &mia_web),
        Some(Role::Read)
    );
    let mut out_web = Viewer::Outsider.web();
    out_web.visibility = Visibility::Internal;
    assert_eq!(
        effective_repo_role(&Viewer::Outsider.principal(), &out_web),
        None
    );
}

#[test]
fn grants_on_private_org_packages_count_for_members_only() {
    let v = Viewer::Outsider;
    let private = v
        .package(PackageType::Npm, v.acme())
        .grant(Viewer::Outsider, Role::Write)
        .build();
    assert_eq!(check(v.principal(), Operation::Read, &private), NOT_FOUND);
    let internal = v
        .package(PackageType::Npm, v.acme())
        .internal()
        .grant(Viewer::Outsider, Role::Write)
        .build();
    assert_eq!(check(v.principal(), Operation::Read, &internal), NOT_FOUND);
    // Public org packages may have outside collaborators.
    let public = v
        .package(PackageType::Npm, v.acme())
        .public()
        .grant(Viewer::Outsider, Role::Write)
        .build();
    assert_eq!(
        check(v.principal(), Operation::Write, &public),
        Decision::Allow
    );
}

#[test]
fn implicit_admins() {
    let u = Viewer::Ursula;
    let own = u.package(PackageType::Rubygems, u.ursula()).build();
    assert_eq!(
        check(u.principal(), Operation::Manage, &own),
        Decision::Allow
    );
    // Org members are not implicit admins; org owners are.
    let m = Viewer::Mia;
    assert_eq!(
        check(
            m.principal(),
            Operation::Read,
            &m.package(PackageType::Nuget, m.acme()).build()
        ),
        NOT_FOUND
    );
    let o = Viewer::Olga;
    assert_eq!(
        check(
            o.principal(),
            Operation::Manage,
            &o.package(PackageType::Nuget, o.acme()).build()
        ),
        Decision::Allow
    );
}

#[test]
fn internal_means_private_on_user_accounts() {
    let v = Viewer::Max;
    let pkg = v.package(PackageType::Npm, v.ursula()).internal().build();
    assert_eq!(check(v.principal(), Operation::Read, &pkg), NOT_FOUND);
    assert_eq!(
        effective_visibility(&Policy::default(), &pkg),
        Visibility::Private
    );
}

#[test]
fn workflow_floors() {
    let policy = Policy::default();
    // Internal: readable by workflows of the package's org, not of other owners.
    let w = Viewer::Workflow(SITE);
    let internal = w
        .package(PackageType::Container, w.acme())
        .internal()
        .build();
    let site_read = workflow(SITE, WorkflowLevel::Read);
    assert!(authorize(&policy, &site_read, Operation::Read, &internal).is_allowed());
    let t = Viewer::Workflow(TOOLS);
    let internal = t
        .package(PackageType::Container, t.acme())
        .internal()
        .build();
    let tools = workflow(TOOLS, WorkflowLevel::Write);
    assert_eq!(
        authorize(&policy, &tools, Operation::Read, &internal),
        NOT_FOUND
    );
    // Public: readable by any workflow, but not writable.
    let public = t.package(PackageType::Container, t.acme()).public().build();
    assert!(authorize(&policy, &tools, Operation::Read, &public).is_allowed());
    assert_eq!(
        authorize(&policy, &tools, Operation::Write, &public),
        forbidden(Forbidden::RoleTooLow {
            have: Some(Role::Read),
            need: Role::Write
        })
    );
}

#[test]
fn workflow_cap_and_actions_grants() {
    let policy = Policy::default();
    let w = Viewer::Workflow(SITE);
    let pkg = w
        .package(PackageType::Npm, w.acme())
        .actions(SITE, Role::Admin)
        .build();
    let read = workflow(SITE, WorkflowLevel::Read);
    let write = workflow(SITE, WorkflowLevel::Write);
    assert_eq!(
        effective_package_role(&policy, &read, &pkg),
        Some(Role::Read)
    );
    assert_eq!(
        authorize(&policy, &read, Operation::Delete, &pkg),
        forbidden(Forbidden::WorkflowCap)
    );
    assert!(authorize(&policy, &write, Operation::Delete, &pkg).is_allowed());
    // A write grant is not raised by the cap.
    let pkg = w
        .package(PackageType::Npm, w.acme())
        .actions(SITE, Role::Write)
        .build();
    assert_eq!(
        authorize(&policy, &write, Operation::Delete, &pkg),
        forbidden(Forbidden::RoleTooLow {
            have: Some(Role::Write),
            need: Role::Admin
        })
    );
}

#[test]
fn workflow_tokens_carry_no_scopes() {
    let policy = Policy::default();
    let w = Viewer::Workflow(WEB);
    let pkg = w.maven_in(w.web());
    assert!(
        authorize(
            &policy,
            &workflow(WEB, WorkflowLevel::Write),
            Operation::Delete,
            &pkg
        )
        .is_allowed()
    );
}

#[test]
fn the_link_gives_admin_only_while_inheriting() {
    let policy = Policy::default();
    let w = Viewer::Workflow(WEB);
    let write = workflow(WEB, WorkflowLevel::Write);
    let linked = w
        .package(PackageType::Npm, w.acme())
        .linked(w.web())
        .build();
    assert_eq!(
        authorize(&policy, &write, Operation::Read, &linked),
        NOT_FOUND
    );
    // An explicit, lower Actions grant does not take away the link's admin.
    let inheriting = w
        .package(PackageType::Npm, w.acme())
        .linked(w.web())
        .inheriting()
        .actions(WEB, Role::Read)
        .build();
    assert_eq!(
        effective_package_role(&policy, &write, &inheriting),
        Some(Role::Admin)
    );
}

#[test]
fn workflows_of_other_repositories_see_only_floors_on_repository_scoped_packages() {
    let policy = Policy::default();
    let w = Viewer::Workflow(SITE);
    let web_pkg = w.maven_in(w.web());
    let site = workflow(SITE, WorkflowLevel::Write);
    assert_eq!(
        authorize(&policy, &site, Operation::Read, &web_pkg),
        NOT_FOUND
    );
    let w = Viewer::Workflow(WEB);
    let site_pkg = w.maven_in(w.site());
    let web = workflow(WEB, WorkflowLevel::Write);
    assert!(authorize(&policy, &web, Operation::Read, &site_pkg).is_allowed());
    assert!(!authorize(&policy, &web, Operation::Write, &site_pkg).is_allowed());
}

#[test]
fn deny_kinds_render_as_the_spec_says() {
    assert_eq!(Deny::Unauthenticated.status(), 401);
    assert_eq!(Deny::NotFound.status(), 404);
    let missing = Deny::MissingScope(Scopes::from_iter([entrepot_authz::Scope::Repo]));
    assert_eq!(missing.status(), 403);
    assert!(missing.to_string().contains("repo"), "{missing}");
    let too_low = Deny::Forbidden(Forbidden::RoleTooLow {
        have: None,
        need: Role::Admin,
    });
    assert_eq!(too_low.status(), 403);
    assert_eq!(
        too_low.to_string(),
        "this needs the admin role; you have no role"
    );
    assert!(Decision::Deny(Deny::NotFound).into_result().is_err());
    assert_eq!(Decision::Allow.into_result(), Ok(()));
}

#[test]
fn text_forms_round_trip() {
    for role in Role::ALL {
        assert_eq!(role.to_string().parse::<Role>().unwrap(), *role);
    }
    for t in PackageType::ALL {
        assert_eq!(t.to_string().parse::<PackageType>().unwrap(), *t);
    }
    for role in OrgRole::ALL {
        assert_eq!(role.to_string().parse::<OrgRole>().unwrap(), *role);
    }
    assert_eq!("Admin".parse::<Role>().unwrap(), Role::Admin);
    assert!("owner".parse::<Role>().is_err());
    let set: entrepot_authz::VisibilitySet = "public,private,internal".parse().unwrap();
    assert_eq!(set, entrepot_authz::VisibilitySet::all());
    assert_eq!(set.to_string(), "public, private, internal");
    let err = "gradle".parse::<PackageType>().unwrap_err();
    assert!(err.to_string().contains("maven"), "{err}");
}

#[test]
fn settings_validation() {
    let policy = Policy::default();
    let v = Viewer::Olga;
    let private = v.package(PackageType::Npm, v.acme()).build();
    assert_eq!(
        validate_grant(&policy, &private, Grantee::User { org_member: false }),
        Err(Forbidden::GranteeNotOrgMember)
    );
    assert_eq!(
        validate_grant(&policy, &private, Grantee::User { org_member: true }),
        Ok(())
    );
    assert_eq!(
        validate_grant(&policy, &private, Grantee::Team { owner: ACME }),
        Ok(())
    );
    assert_eq!(
        validate_grant(&policy, &private, Grantee::Team { owner: URSULA }),
        Err(Forbidden::GranteeOutsideOwner)
    );
    assert_eq!(
        validate_grant(&policy, &private, Grantee::Repository { owner: URSULA }),
        Err(Forbidden::GranteeOutsideOwner)
    );
    let public = v.package(PackageType::Npm, v.acme()).public().build();
    assert_eq!(
        validate_grant(&policy, &public, Grantee::User { org_member: false }),
        Ok(())
    );
    let inheriting = v
        .package(PackageType::Npm, v.acme())
        .linked(v.web())
        .inheriting()
        .build();
    assert_eq!(
        validate_grant(&policy, &inheriting, Grantee::User { org_member: true }),
        Err(Forbidden::InheritsAccess)
    );
    assert_eq!(
        validate_grant(&policy, &inheriting, Grantee::Repository { owner: ACME }),
        Ok(())
    );
    let user_pkg = v.package(PackageType::Npm, v.ursula()).build();
    assert_eq!(
        validate_grant(&policy, &user_pkg, Grantee::User { org_member: false }),
        Ok(())
    );
    assert_eq!(
        validate_grant(&policy, &user_pkg, Grantee::Team { owner: URSULA }),
        Err(Forbidden::GranteeOutsideOwner)
    );
    assert_eq!(
        validate_visibility_change(&policy, &user_pkg, Visibility::Internal),
        Err(Forbidden::VisibilityNotAllowed(Visibility::Internal))
    );
    assert_eq!(
        validate_visibility_change(&policy, &public, Visibility::Private),
        Ok(())
    );
    let maven = v.maven_in(v.web());
    assert_eq!(
        validate_visibility_change(&policy, &maven, Visibility::Public),
        Err(Forbidden::RepositoryScoped)
    );
    assert_eq!(
        validate_grant(&policy, &maven, Grantee::User { org_member: true }),
        Err(Forbidden::RepositoryScoped)
    );
}

#[test]
fn missing_packages_challenge_only_those_who_could_then_see_them() {
    use entrepot_authz::{
        AccountId, Deny, PackageType, Policy, Principal, UserPrincipal, deny_missing,
    };
    let policy = Policy::default();
    assert_eq!(
        deny_missing(&policy, &Principal::Anonymous, PackageType::Npm),
        Deny::Unauthenticated
    );
    assert_eq!(
        deny_missing(&policy, &Principal::InvalidCredentials, PackageType::Maven),
        Deny::Unauthenticated
    );
    // Anonymous container reads are on: an anonymous client is told "not found", not asked to log in.
    assert_eq!(
        deny_missing(&policy, &Principal::Anonymous, PackageType::Container),
        Deny::NotFound
    );
    let user = Principal::User(UserPrincipal::session(AccountId(7), false));
    assert_eq!(
        deny_missing(&policy, &user, PackageType::Npm),
        Deny::NotFound
    );
}
