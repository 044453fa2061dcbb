//! Builders for the spec's test world, with facts seen from a chosen viewer.
//!
//! The world (spec §6): org `acme` (owner olga, members mia and max), team `acme/devs` = {mia};
//! users ursula and outsider; repositories `acme/web` (private, max collaborator write),
//! `acme/site` (public) and `ursula/tools` (private). Facts in the core are "seen from the
//! principal", so every builder starts from a [`Viewer`].

use entrepot_authz::{
    AccountId, Decision, Deny, Forbidden, OrgFacts, OrgRole, OwnerFacts, PackageFacts, PackageType,
    Principal, RepoFacts, RepoId, Role, Scopes, UserPrincipal, Visibility, VisibilitySet,
    WorkflowLevel, WorkflowPrincipal,
};

pub const ACME: AccountId = AccountId(1);
pub const OLGA: AccountId = AccountId(10);
pub const MIA: AccountId = AccountId(11);
pub const MAX: AccountId = AccountId(12);
pub const URSULA: AccountId = AccountId(13);
pub const OUTSIDER: AccountId = AccountId(14);
pub const ROOT: AccountId = AccountId(15);

pub const WEB: RepoId = RepoId(100);
pub const SITE: RepoId = RepoId(101);
pub const TOOLS: RepoId = RepoId(102);

/// Who the facts are seen from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Olga,
    Mia,
    Max,
    Ursula,
    Outsider,
    /// A site admin with no other relation to the world.
    Root,
    /// Anonymous or invalid credentials: no user-specific facts.
    Nobody,
    /// The workflow token of a repository: no user-specific facts, but Actions grants.
    Workflow(RepoId),
}

impl Viewer {
    pub fn id(self) -> Option<AccountId> {
        match self {
            Viewer::Olga => Some(OLGA),
            Viewer::Mia => Some(MIA),
            Viewer::Max => Some(MAX),
            Viewer::Ursula => Some(URSULA),
            Viewer::Outsider => Some(OUTSIDER),
            Viewer::Root => Some(ROOT),
            Viewer::Nobody | Viewer::Workflow(_) => None,
        }
    }

    /// The viewer's principal with a token carrying every scope.
    pub fn principal(self) -> Principal {
        self.with_scopes(Scopes::all())
    }

    /// The viewer's principal with a token carrying `scopes` (a list such as
    /// `"read:packages"`).
    pub fn with_scopes(self, scopes: impl Into<ScopeList>) -> Principal {
        match (self, self.id()) {
            (Viewer::Workflow(repo), _) => workflow(repo, WorkflowLevel::Write),
            (_, Some(id)) => Principal::User(UserPrincipal {
                id,
                site_admin: self == Viewer::Root,
                scopes: scopes.into().0,
            }),
            (_, None) => Principal::Anonymous,
        }
    }

    fn acme_role(self) -> Option<OrgRole> {
        match self {
            Viewer::Olga => Some(OrgRole::Owner),
            Viewer::Mia | Viewer::Max => Some(OrgRole::Member),
            _ => None,
        }
    }

    /// The org `acme`, seen from the viewer.
    pub fn acme(self) -> OwnerFacts {
        OwnerFacts {
            id: ACME,
            org: Some(OrgFacts {
                principal_role: self.acme_role(),
                ..OrgFacts::default()
            }),
        }
    }

    /// The user account `ursula`.
    pub fn ursula(self) -> OwnerFacts {
        user_account(URSULA)
    }

    /// `acme/web`: private, max collaborator write.
    pub fn web(self) -> RepoFacts {
        RepoFacts {
            id: WEB,
            owner: self.acme(),
            visibility: Visibility::Private,
            collaborator_role: (self == Viewer::Max).then_some(Role::Write),
            team_roles: Vec::new(),
        }
    }

    /// `acme/site`: public.
    pub fn site(self) -> RepoFacts {
        RepoFacts {
            id: SITE,
            owner: self.acme(),
            visibility: Visibility::Public,
            collaborator_role: None,
            team_roles: Vec::new(),
        }
    }

    /// `ursula/tools`: private.
    pub fn tools(self) -> RepoFacts {
        RepoFacts {
            id: TOOLS,
            owner: self.ursula(),
            visibility: Visibility::Private,
            collaborator_role: None,
            team_roles: Vec::new(),
        }
    }

    /// A private, unlinked package with no grants and no downloads.
    pub fn package(self, package_type: PackageType, owner: OwnerFacts) -> PackageBuilder {
        PackageBuilder {
            viewer: self,
            facts: PackageFacts {
                package_type,
                owner,
                visibility: Visibility::Private,
                repository: None,
                inherit_access: false,
                user_grant: None,
                team_grants: Vec::new(),
                actions_grant: None,
                downloads: 0,
            },
        }
    }

    /// A Maven package living in `repo`.
    pub fn maven_in(self, repo: RepoFacts) -> PackageFacts {
        let owner = repo.owner.clone();
        self.package(PackageType::Maven, owner).linked(repo).build()
    }
}

/// A scope list for [`Viewer::with_scopes`]: a `Scopes` or its text form.
pub struct ScopeList(pub Scopes);

impl From<Scopes> for ScopeList {
    fn from(scopes: Scopes) -> Self {
        Self(scopes)
    }
}

impl From<&str> for ScopeList {
    fn from(text: &str) -> Self {
        Self(text.parse().expect("test scope list"))
    }
}

pub fn user_account(id: AccountId) -> OwnerFacts {
    OwnerFacts { id, org: None }
}

/// The workflow token of `repo` (acme's repositories, or ursula's `tools`).
pub fn workflow(repo: RepoId, level: WorkflowLevel) -> Principal {
    let repo_owner = if repo == TOOLS { URSULA } else { ACME };
    Principal::Workflow(WorkflowPrincipal {
        repo,
        repo_owner,
        level,
    })
}

pub struct PackageBuilder {
    viewer: Viewer,
    facts: PackageFacts,
}

impl PackageBuilder {
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.facts.visibility = visibility;
        self
    }

    pub fn public(self) -> Self {
        self.visibility(Visibility::Public)
    }

    pub fn internal(self) -> Self {
        self.visibility(Visibility::Internal)
    }

    /// Linked to (granular) or living in (repository-scoped) `repo`, not inheriting.
    pub fn linked(mut self, repo: RepoFacts) -> Self {
        self.facts.repository = Some(repo);
        self
    }

    pub fn inheriting(mut self) -> Self {
        self.facts.inherit_access = true;
        self
    }

    /// A direct grant to `to`; visible only when `to` is the viewer.
    pub fn grant(mut self, to: Viewer, role: Role) -> Self {
        if to == self.viewer {
            self.facts.user_grant = Some(role);
        }
        self
    }

    /// A grant to team `acme/devs` = {mia}.
    pub fn grant_devs(mut self, role: Role) -> Self {
        if self.viewer == Viewer::Mia {
            self.facts.team_grants.push(role);
        }
        self
    }

    /// Actions access for `repo`; visible only to that repository's workflow.
    pub fn actions(mut self, repo: RepoId, role: Role) -> Self {
        if self.viewer == Viewer::Workflow(repo) {
            self.facts.actions_grant = Some(role);
        }
        self
    }

    pub fn downloads(mut self, downloads: u64) -> Self {
        self.facts.downloads = downloads;
        self
    }

    pub fn build(self) -> PackageFacts {
        self.facts
    }
}

/// `acme` with its `package_creation_visibilities` restricted, seen from `viewer`.
pub fn acme_creating(viewer: Viewer, allowed: VisibilitySet) -> OwnerFacts {
    let mut owner = viewer.acme();
    if let Some(org) = owner.org.as_mut() {
        org.package_creation_visibilities = allowed;
    }
    owner
}

pub fn forbidden(forbidden: Forbidden) -> Decision {
    Decision::Deny(Deny::Forbidden(forbidden))
}

pub fn missing(scopes: &str) -> Decision {
    Decision::Deny(Deny::MissingScope(scopes.parse().expect("test scope list")))
}

pub const NOT_FOUND: Decision = Decision::Deny(Deny::NotFound);
pub const UNAUTHENTICATED: Decision = Decision::Deny(Deny::Unauthenticated);
