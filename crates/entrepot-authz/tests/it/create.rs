//! First publishes: `authorize_create` and `plan_creation`.

use entrepot_authz::{
    CreateFacts, CreationPlan, Decision, Forbidden, OwnerFacts, PackageType, Policy, Principal,
    RepoFacts, Role, Visibility, VisibilitySet, WorkflowLevel, authorize_create, plan_creation,
};

use crate::fixtures::*;

fn npm(owner: OwnerFacts, repository: Option<RepoFacts>, visibility: Visibility) -> CreateFacts {
    CreateFacts {
        package_type: PackageType::Npm,
        owner,
        repository,
        visibility,
    }
}

fn maven(repository: Option<RepoFacts>) -> CreateFacts {
    let owner = repository
        .as_ref()
        .map_or_else(|| Viewer::Nobody.acme(), |repo| repo.owner.clone());
    CreateFacts {
        package_type: PackageType::Maven,
        owner,
        repository,
        visibility: Visibility::Private,
    }
}

fn create(principal: Principal, facts: &CreateFacts) -> Decision {
    authorize_create(&Policy::default(), &principal, facts)
}

#[test]
fn anonymous_and_invalid_credentials_cannot_create() {
    let facts = npm(Viewer::Nobody.ursula(), None, Visibility::Private);
    assert_eq!(create(Principal::Anonymous, &facts), UNAUTHENTICATED);
    assert_eq!(
        create(Principal::InvalidCredentials, &facts),
        UNAUTHENTICATED
    );
}

#[test]
fn users_create_in_their_own_namespace_only() {
    let u = Viewer::Ursula;
    assert_eq!(
        create(u.principal(), &npm(u.ursula(), None, Visibility::Public)),
        Decision::Allow
    );
    let m = Viewer::Mia;
    assert_eq!(
        create(m.principal(), &npm(m.ursula(), None, Visibility::Private)),
        forbidden(Forbidden::NotNamespaceOwner)
    );
    assert_eq!(
        create(u.principal(), &npm(u.ursula(), None, Visibility::Internal)),
        forbidden(Forbidden::VisibilityNotAllowed(Visibility::Internal))
    );
}

#[test]
fn creation_needs_write_packages() {
    let u = Viewer::Ursula;
    assert_eq!(
        create(
            u.with_scopes("read:packages delete:packages repo"),
            &npm(u.ursula(), None, Visibility::Private)
        ),
        missing("write:packages")
    );
}

#[test]
fn package_creation_visibilities_restrict_members_not_owners() {
    let only_private = VisibilitySet::only(Visibility::Private);
    let m = Viewer::Mia;
    let public = npm(acme_creating(m, only_private), None, Visibility::Public);
    assert_eq!(
        create(m.principal(), &public),
        forbidden(Forbidden::VisibilityNotAllowed(Visibility::Public))
    );
    let private = npm(acme_creating(m, only_private), None, Visibility::Private);
    assert_eq!(create(m.principal(), &private), Decision::Allow);
    let o = Viewer::Olga;
    let public = npm(acme_creating(o, only_private), None, Visibility::Public);
    assert_eq!(create(o.principal(), &public), Decision::Allow);
}

#[test]
fn site_admins_create_anywhere() {
    let r = Viewer::Root;
    assert_eq!(
        create(r.principal(), &npm(r.acme(), None, Visibility::Internal)),
        Decision::Allow
    );
}

#[test]
fn a_link_at_first_publish_inherits_per_the_org_setting() {
    let policy = Policy::default();
    let m = Viewer::Mia;
    let facts = npm(m.acme(), Some(m.web()), Visibility::Private);
    assert_eq!(
        plan_creation(&policy, &m.principal(), &facts),
        CreationPlan {
            visibility: Visibility::Private,
            link: Some(WEB),
            inherit_access: true,
            publisher_admin: None,
            actions_admin: None,
        }
    );
    let mut owner = m.acme();
    if let Some(org) = owner.org.as_mut() {
        org.inherit_access_by_default = false;
    }
    let facts = npm(owner, Some(m.web()), Visibility::Private);
    let plan = plan_creation(&policy, &m.principal(), &facts);
    assert_eq!(plan.link, Some(WEB));
    assert!(!plan.inherit_access);
    assert_eq!(plan.publisher_admin, Some(MIA));
}

#[test]
fn user_owned_packages_always_inherit_from_their_link() {
    let u = Viewer::Ursula;
    let facts = npm(u.ursula(), Some(u.tools()), Visibility::Private);
    let plan = plan_creation(&Policy::default(), &u.principal(), &facts);
    assert_eq!(plan.link, Some(TOOLS));
    assert!(plan.inherit_access);
}

#[test]
fn a_repository_of_another_owner_is_not_linked() {
    let u = Viewer::Ursula;
    let facts = npm(u.ursula(), Some(u.web()), Visibility::Private);
    let plan = plan_creation(&Policy::default(), &u.principal(), &facts);
    assert_eq!(plan.link, None);
    assert!(!plan.inherit_access);
    assert_eq!(plan.publisher_admin, Some(URSULA));
}

#[test]
fn workflows_create_in_their_owner_namespace_with_the_repository_rules() {
    let policy = Policy::default();
    let w = Viewer::Workflow(SITE);
    let write = workflow(SITE, WorkflowLevel::Write);
    // The metadata's visibility is ignored: the package takes its repository's.
    let facts = npm(w.acme(), Some(w.site()), Visibility::Private);
    assert_eq!(authorize_create(&policy, &write, &facts), Decision::Allow);
    assert_eq!(
        plan_creation(&policy, &write, &facts),
        CreationPlan {
            visibility: Visibility::Public,
            link: Some(SITE),
            inherit_access: true,
            publisher_admin: None,
            actions_admin: Some(SITE),
        }
    );
    assert_eq!(
        authorize_create(&policy, &workflow(SITE, WorkflowLevel::Read), &facts),
        forbidden(Forbidden::WorkflowCap)
    );
    let elsewhere = npm(w.ursula(), Some(w.site()), Visibility::Private);
    assert_eq!(
        authorize_create(&policy, &write, &elsewhere),
        forbidden(Forbidden::NotNamespaceOwner)
    );
    // The org's creation restriction applies to what the workflow would create.
    let restricted = npm(
        acme_creating(w, VisibilitySet::only(Visibility::Private)),
        Some(w.site()),
        Visibility::Private,
    );
    assert_eq!(
        authorize_create(&policy, &write, &restricted),
        forbidden(Forbidden::VisibilityNotAllowed(Visibility::Public))
    );
}

#[test]
fn repository_scoped_creation_needs_write_on_the_repository() {
    let m = Viewer::Mia;
    assert_eq!(
        create(m.principal(), &maven(Some(m.web()))),
        forbidden(Forbidden::RoleTooLow {
            have: Some(Role::Read),
            need: Role::Write
        })
    );
    let x = Viewer::Max;
    assert_eq!(
        create(x.principal(), &maven(Some(x.web()))),
        Decision::Allow
    );
    assert_eq!(
        create(x.with_scopes("write:packages"), &maven(Some(x.web()))),
        missing("repo")
    );
    let o = Viewer::Outsider;
    assert_eq!(create(o.principal(), &maven(Some(o.web()))), NOT_FOUND);
    assert_eq!(create(o.principal(), &maven(None)), NOT_FOUND);
    let w = Viewer::Workflow(WEB);
    assert_eq!(
        create(workflow(WEB, WorkflowLevel::Write), &maven(Some(w.web()))),
        Decision::Allow
    );
    assert_eq!(
        create(workflow(WEB, WorkflowLevel::Read), &maven(Some(w.web()))),
        forbidden(Forbidden::WorkflowCap)
    );
}

#[test]
fn repository_scoped_plan_takes_the_repository() {
    let x = Viewer::Max;
    let plan = plan_creation(&Policy::default(), &x.principal(), &maven(Some(x.site())));
    assert_eq!(
        plan,
        CreationPlan {
            visibility: Visibility::Public,
            link: Some(SITE),
            inherit_access: true,
            publisher_admin: None,
            actions_admin: None,
        }
    );
}
