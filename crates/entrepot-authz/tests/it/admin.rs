//! The administration API's rules: a table of op × principal → decision, then corners.

use entrepot_authz::{
    AdminFacts, AdminOp, Decision, Forbidden, Principal, Role, Scope, Scopes, WorkflowLevel,
    authorize_admin, may_grant_scopes,
};

use crate::fixtures::*;

fn org_facts(v: Viewer) -> AdminFacts {
    AdminFacts {
        org: v.acme().org,
        ..AdminFacts::default()
    }
}

fn web_facts(v: Viewer) -> AdminFacts {
    AdminFacts {
        repo: Some(v.web()),
        ..AdminFacts::default()
    }
}

fn user_facts(target: entrepot_authz::AccountId) -> AdminFacts {
    AdminFacts {
        target_user: Some(target),
        ..AdminFacts::default()
    }
}

/// Builds the facts of a table row, seen from its viewer.
type FactsOf = fn(Viewer) -> AdminFacts;

#[test]
fn admin_rules_table() {
    use AdminOp::*;
    let too_low = |have| {
        forbidden(Forbidden::RoleTooLow {
            have,
            need: Role::Admin,
        })
    };
    let table: Vec<(Viewer, AdminOp, FactsOf, Decision)> = vec![
        (
            Viewer::Root,
            CreateUser,
            |_| AdminFacts::default(),
            Decision::Allow,
        ),
        (
            Viewer::Olga,
            CreateUser,
            |_| AdminFacts::default(),
            forbidden(Forbidden::SiteAdminOnly),
        ),
        (
            Viewer::Olga,
            ListUsers,
            |_| AdminFacts::default(),
            forbidden(Forbidden::SiteAdminOnly),
        ),
        (
            Viewer::Olga,
            SetSiteAdmin,
            |_| user_facts(OLGA),
            forbidden(Forbidden::SiteAdminOnly),
        ),
        (
            Viewer::Root,
            SetSiteAdmin,
            |_| user_facts(OLGA),
            Decision::Allow,
        ),
        (
            Viewer::Olga,
            ReadAuditLog,
            |_| AdminFacts::default(),
            forbidden(Forbidden::SiteAdminOnly),
        ),
        (
            Viewer::Root,
            ReadAuditLog,
            |_| AdminFacts::default(),
            Decision::Allow,
        ),
        (
            Viewer::Outsider,
            CreateOrg,
            |_| AdminFacts::default(),
            Decision::Allow,
        ),
        (Viewer::Olga, ManageOrg, org_facts, Decision::Allow),
        (
            Viewer::Mia,
            ManageOrg,
            org_facts,
            forbidden(Forbidden::NotOrgOwner),
        ),
        (
            Viewer::Ursula,
            ManageOrg,
            org_facts,
            forbidden(Forbidden::NotOrgMember),
        ),
        (Viewer::Root, ManageOrg, org_facts, Decision::Allow),
        (
            Viewer::Olga,
            ManageOrg,
            |_| AdminFacts::default(),
            NOT_FOUND,
        ),
        (Viewer::Mia, ReadOrg, org_facts, Decision::Allow),
        (
            Viewer::Ursula,
            ReadOrg,
            org_facts,
            forbidden(Forbidden::NotOrgMember),
        ),
        (Viewer::Mia, CreateRepo, org_facts, Decision::Allow),
        (
            Viewer::Ursula,
            CreateRepo,
            org_facts,
            forbidden(Forbidden::NotOrgMember),
        ),
        (
            Viewer::Ursula,
            CreateRepo,
            |_| user_facts(URSULA),
            Decision::Allow,
        ),
        (
            Viewer::Mia,
            CreateRepo,
            |_| user_facts(URSULA),
            forbidden(Forbidden::NotNamespaceOwner),
        ),
        (
            Viewer::Mia,
            CreateRepo,
            |_| AdminFacts::default(),
            NOT_FOUND,
        ),
        (Viewer::Olga, ManageRepo, web_facts, Decision::Allow),
        (
            Viewer::Max,
            ManageRepo,
            web_facts,
            too_low(Some(Role::Write)),
        ),
        (Viewer::Outsider, ManageRepo, web_facts, NOT_FOUND),
        (Viewer::Outsider, ReadRepo, web_facts, NOT_FOUND),
        (Viewer::Mia, ReadRepo, web_facts, Decision::Allow),
        (Viewer::Root, ManageRepo, web_facts, Decision::Allow),
        (Viewer::Olga, MintWorkflowToken, web_facts, Decision::Allow),
        (
            Viewer::Max,
            MintWorkflowToken,
            web_facts,
            too_low(Some(Role::Write)),
        ),
        (
            Viewer::Outsider,
            MintWorkflowToken,
            |v| AdminFacts {
                repo: Some(v.site()),
                ..AdminFacts::default()
            },
            too_low(Some(Role::Read)),
        ),
        (
            Viewer::Mia,
            ManageOwnTokens,
            |_| AdminFacts::default(),
            Decision::Allow,
        ),
        (
            Viewer::Mia,
            ManageOwnTokens,
            |_| user_facts(MAX),
            forbidden(Forbidden::SiteAdminOnly),
        ),
        (
            Viewer::Mia,
            ManageUserTokens,
            |_| user_facts(MIA),
            Decision::Allow,
        ),
        (
            Viewer::Mia,
            ManageUserTokens,
            |_| user_facts(MAX),
            forbidden(Forbidden::SiteAdminOnly),
        ),
        (
            Viewer::Root,
            ManageUserTokens,
            |_| user_facts(MAX),
            Decision::Allow,
        ),
    ];
    for (viewer, op, facts, expected) in table {
        assert_eq!(
            authorize_admin(&viewer.principal(), op, &facts(viewer)),
            expected,
            "{viewer:?} {op:?}"
        );
    }
}

#[test]
fn anonymous_and_workflows_do_no_administration() {
    let facts = web_facts(Viewer::Nobody);
    for op in AdminOp::ALL.iter().copied() {
        assert_eq!(
            authorize_admin(&Principal::Anonymous, op, &facts),
            UNAUTHENTICATED
        );
        assert_eq!(
            authorize_admin(&Principal::InvalidCredentials, op, &facts),
            UNAUTHENTICATED
        );
        assert_eq!(
            authorize_admin(&workflow(WEB, WorkflowLevel::Write), op, &facts),
            forbidden(Forbidden::WorkflowNotAllowed)
        );
    }
}

#[test]
fn administration_needs_every_scope() {
    let narrow = Viewer::Root.with_scopes("read:packages write:packages delete:packages");
    assert_eq!(
        authorize_admin(&narrow, AdminOp::CreateUser, &AdminFacts::default()),
        missing("repo")
    );
    let narrow = Viewer::Mia.with_scopes("write:packages");
    assert_eq!(
        authorize_admin(&narrow, AdminOp::ManageOwnTokens, &AdminFacts::default()),
        missing("delete:packages repo")
    );
}

#[test]
fn the_rule_is_reported_before_missing_scopes() {
    let narrow = Viewer::Mia.with_scopes("read:packages");
    assert_eq!(
        authorize_admin(&narrow, AdminOp::SetSiteAdmin, &user_facts(MIA)),
        forbidden(Forbidden::SiteAdminOnly)
    );
    let outsider = Viewer::Outsider.with_scopes("");
    assert_eq!(
        authorize_admin(&outsider, AdminOp::ReadRepo, &web_facts(Viewer::Outsider)),
        NOT_FOUND
    );
}

#[test]
fn a_token_never_mints_more_than_it_holds() {
    let write = Viewer::Mia.with_scopes("write:packages");
    assert!(may_grant_scopes(&write, Scopes::only(Scope::ReadPackages)));
    assert!(may_grant_scopes(
        &write,
        "read:packages write:packages".parse().unwrap()
    ));
    assert!(!may_grant_scopes(&write, Scopes::only(Scope::Repo)));
    assert!(may_grant_scopes(&Viewer::Mia.principal(), Scopes::all()));
    assert!(may_grant_scopes(&write, Scopes::empty()));
    assert!(!may_grant_scopes(&Principal::Anonymous, Scopes::empty()));
    assert!(!may_grant_scopes(
        &workflow(WEB, WorkflowLevel::Write),
        Scopes::empty()
    ));
}
