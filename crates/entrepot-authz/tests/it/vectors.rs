//! The 30 test vectors of the permissions spec (§6), one test each, in the spec's order.

use entrepot_authz::{
    CreateFacts, Decision, Forbidden, Operation, PackageType, Policy, Principal, Role, Visibility,
    WorkflowLevel, authorize, authorize_create, plan_creation,
};

use crate::fixtures::*;

fn check(principal: Principal, op: Operation, pkg: &entrepot_authz::PackageFacts) -> Decision {
    authorize(&Policy::default(), &principal, op, pkg)
}

/// `@acme/priv`: private npm package of acme, team devs granted read.
fn acme_priv(viewer: Viewer) -> entrepot_authz::PackageFacts {
    viewer
        .package(PackageType::Npm, viewer.acme())
        .grant_devs(Role::Read)
        .build()
}

/// `@acme/webpkg`: npm package linked to `acme/web`, inheriting, private.
fn webpkg(viewer: Viewer) -> entrepot_authz::PackageFacts {
    viewer
        .package(PackageType::Npm, viewer.acme())
        .linked(viewer.web())
        .inheriting()
        .build()
}

#[test]
fn vector_01() {
    let v = Viewer::Nobody;
    let app = v.package(PackageType::Container, v.acme()).public().build();
    assert_eq!(check(v.principal(), Operation::Read, &app), Decision::Allow);
}

#[test]
fn vector_02() {
    let v = Viewer::Nobody;
    let lib = v.package(PackageType::Npm, v.acme()).public().build();
    assert_eq!(check(v.principal(), Operation::Read, &lib), UNAUTHENTICATED);
}

#[test]
fn vector_03() {
    let v = Viewer::Nobody;
    let secret = v.package(PackageType::Container, v.acme()).build();
    assert_eq!(
        check(v.principal(), Operation::Read, &secret),
        UNAUTHENTICATED
    );
}

#[test]
fn vector_04() {
    let v = Viewer::Outsider;
    let lib = v.package(PackageType::Npm, v.acme()).public().build();
    assert_eq!(check(v.principal(), Operation::Read, &lib), Decision::Allow);
}

#[test]
fn vector_05() {
    let v = Viewer::Outsider;
    let private = v.package(PackageType::Npm, v.acme()).build();
    assert_eq!(check(v.principal(), Operation::Read, &private), NOT_FOUND);
}

#[test]
fn vector_06() {
    let v = Viewer::Mia;
    assert_eq!(
        check(v.principal(), Operation::Read, &acme_priv(v)),
        Decision::Allow
    );
}

#[test]
fn vector_07() {
    let v = Viewer::Mia;
    assert_eq!(
        check(v.principal(), Operation::Write, &acme_priv(v)),
        forbidden(Forbidden::RoleTooLow {
            have: Some(Role::Read),
            need: Role::Write
        })
    );
}

#[test]
fn vector_08() {
    let v = Viewer::Olga;
    assert_eq!(
        check(v.principal(), Operation::Delete, &acme_priv(v)),
        Decision::Allow
    );
}

#[test]
fn vector_09() {
    let v = Viewer::Mia;
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .grant(Viewer::Mia, Role::Write)
        .build();
    assert_eq!(
        check(v.with_scopes("read:packages"), Operation::Write, &pkg),
        missing("write:packages")
    );
}

#[test]
fn vector_10() {
    let v = Viewer::Max;
    assert_eq!(
        check(v.principal(), Operation::Write, &webpkg(v)),
        Decision::Allow
    );
}

#[test]
fn vector_11() {
    let v = Viewer::Max;
    assert_eq!(
        check(v.principal(), Operation::Delete, &webpkg(v)),
        forbidden(Forbidden::RoleTooLow {
            have: Some(Role::Write),
            need: Role::Admin
        })
    );
}

#[test]
fn vector_12() {
    let v = Viewer::Mia;
    assert_eq!(
        check(v.principal(), Operation::Read, &webpkg(v)),
        Decision::Allow
    );
}

#[test]
fn vector_13() {
    let v = Viewer::Outsider;
    assert_eq!(check(v.principal(), Operation::Read, &webpkg(v)), NOT_FOUND);
}

#[test]
fn vector_14() {
    let v = Viewer::Max;
    let core = v.maven_in(v.web());
    assert_eq!(
        check(
            v.with_scopes("read:packages write:packages delete:packages"),
            Operation::Write,
            &core
        ),
        missing("repo")
    );
}

#[test]
fn vector_15() {
    let v = Viewer::Max;
    let core = v.maven_in(v.web());
    assert_eq!(
        check(
            v.with_scopes("write:packages repo"),
            Operation::Write,
            &core
        ),
        Decision::Allow
    );
}

#[test]
fn vector_16() {
    let v = Viewer::Outsider;
    let pkg = v.maven_in(v.site());
    assert_eq!(check(v.principal(), Operation::Read, &pkg), Decision::Allow);
}

#[test]
fn vector_17() {
    let v = Viewer::Nobody;
    let pkg = v.maven_in(v.site());
    assert_eq!(check(v.principal(), Operation::Read, &pkg), UNAUTHENTICATED);
}

#[test]
fn vector_18() {
    let v = Viewer::Workflow(WEB);
    assert_eq!(
        check(
            workflow(WEB, WorkflowLevel::Write),
            Operation::Write,
            &webpkg(v)
        ),
        Decision::Allow
    );
}

#[test]
fn vector_19() {
    let v = Viewer::Workflow(SITE);
    assert_eq!(
        check(
            workflow(SITE, WorkflowLevel::Write),
            Operation::Write,
            &webpkg(v)
        ),
        NOT_FOUND
    );
}

#[test]
fn vector_20() {
    let v = Viewer::Workflow(SITE);
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .linked(v.web())
        .inheriting()
        .actions(SITE, Role::Read)
        .build();
    assert_eq!(
        check(workflow(SITE, WorkflowLevel::Read), Operation::Read, &pkg),
        Decision::Allow
    );
}

#[test]
fn vector_21() {
    let v = Viewer::Workflow(WEB);
    let pkg = v.maven_in(v.web());
    assert_eq!(
        check(workflow(WEB, WorkflowLevel::Read), Operation::Write, &pkg),
        forbidden(Forbidden::WorkflowCap)
    );
}

#[test]
fn vector_22() {
    let v = Viewer::Mia;
    let base = v
        .package(PackageType::Container, v.acme())
        .internal()
        .build();
    assert_eq!(
        check(v.principal(), Operation::Read, &base),
        Decision::Allow
    );
}

#[test]
fn vector_23() {
    let v = Viewer::Outsider;
    let base = v
        .package(PackageType::Container, v.acme())
        .internal()
        .build();
    assert_eq!(check(v.principal(), Operation::Read, &base), NOT_FOUND);
}

fn new_acme_npm(viewer: Viewer) -> CreateFacts {
    CreateFacts {
        package_type: PackageType::Npm,
        owner: viewer.acme(),
        repository: None,
        visibility: Visibility::Private,
    }
}

#[test]
fn vector_24() {
    let v = Viewer::Ursula;
    assert_eq!(
        authorize_create(&Policy::default(), &v.principal(), &new_acme_npm(v)),
        forbidden(Forbidden::NotOrgMember)
    );
}

#[test]
fn vector_25() {
    let v = Viewer::Mia;
    let policy = Policy::default();
    let facts = new_acme_npm(v);
    assert_eq!(
        authorize_create(&policy, &v.principal(), &facts),
        Decision::Allow
    );
    let plan = plan_creation(&policy, &v.principal(), &facts);
    assert_eq!(plan.publisher_admin, Some(MIA));
    assert_eq!(plan.visibility, Visibility::Private);
    assert!(!plan.inherit_access);

    // Stored as planned, the package makes mia its admin.
    let created = v
        .package(PackageType::Npm, v.acme())
        .grant(Viewer::Mia, Role::Admin)
        .build();
    assert_eq!(
        check(v.principal(), Operation::Delete, &created),
        Decision::Allow
    );
}

#[test]
fn vector_26() {
    let v = Viewer::Max;
    let x = v
        .package(PackageType::Npm, v.ursula())
        .grant(Viewer::Max, Role::Read)
        .build();
    assert_eq!(check(v.principal(), Operation::Read, &x), Decision::Allow);
}

#[test]
fn vector_27() {
    let v = Viewer::Outsider;
    let packages = [
        v.package(PackageType::Npm, v.acme()).public().build(),
        v.package(PackageType::Container, v.acme()).public().build(),
        v.package(PackageType::Container, v.ursula()).build(),
        v.maven_in(v.site()),
    ];
    for pkg in &packages {
        assert_eq!(
            check(Principal::InvalidCredentials, Operation::Write, pkg),
            UNAUTHENTICATED,
            "{pkg:?}"
        );
    }
}

#[test]
fn vector_28() {
    // After `acme/web` moved to ursula: the package keeps its owner, loses its link and its
    // inheritance, and its access list is empty.
    let v = Viewer::Max;
    let after = v.package(PackageType::Npm, v.acme()).build();
    assert_eq!(check(v.principal(), Operation::Read, &after), NOT_FOUND);
    // Only implicit admins keep access.
    let o = Viewer::Olga;
    let after = o.package(PackageType::Npm, o.acme()).build();
    assert_eq!(
        check(o.principal(), Operation::Manage, &after),
        Decision::Allow
    );
}

#[test]
fn vector_29() {
    // After the same transfer the Maven package moved with the repository, now ursula's.
    let v = Viewer::Ursula;
    let mut web = v.web();
    web.owner = v.ursula();
    let core = v.maven_in(web);
    assert_eq!(
        check(v.principal(), Operation::Read, &core),
        Decision::Allow
    );
}

#[test]
fn vector_30() {
    let v = Viewer::Olga;
    let pkg = v
        .package(PackageType::Npm, v.acme())
        .public()
        .downloads(6000)
        .build();
    assert_eq!(
        check(v.principal(), Operation::Delete, &pkg),
        forbidden(Forbidden::DownloadGuard {
            downloads: 6000,
            limit: 5000
        })
    );
}
