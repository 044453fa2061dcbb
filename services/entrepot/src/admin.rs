//! `entrepot admin …`: the administration commands' arguments, and their dispatch.
//!
//! Everything the REST API can manage can also be done here, straight against the database, so
//! that a fresh server can be bootstrapped (a first site admin, a first token) and scripted.
//! Commands print results on stdout (a created token's secret, once) and log on stderr.
//!
//! Values use the permission core's own text forms (`read|write|admin`, `public|private|internal`,
//! `read:packages,write:packages`, …), parsed by its `FromStr` implementations.

use std::str::FromStr;

use clap::{Args, Subcommand};
use entrepot_authz::{
    OrgRole, PackageType, Role, Scopes, Visibility, VisibilitySet, WorkflowLevel,
};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Organizations and their settings.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Organization memberships.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Teams of an organization.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Repositories.
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Repository collaborators.
    #[command(subcommand)]
    Collaborator(CollaboratorCommand),
    /// Personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Repository workflow tokens.
    #[command(subcommand)]
    WorkflowToken(WorkflowTokenCommand),
    /// Package settings: visibility, access list, Actions access, linking, inheritance.
    #[command(subcommand)]
    Package(PackageCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        login: String,
        #[arg(long)]
        email: Option<String>,
        /// Make the user a site admin.
        #[arg(long)]
        site_admin: bool,
        /// Read a password for web and API login from the first line of stdin (never from the
        /// command line, where other users could see it). Without it the user has no password
        /// and authenticates with tokens only.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization with a first owner.
    Create {
        login: String,
        /// Login of the user who becomes the organization's first owner.
        #[arg(long)]
        owner: String,
    },
    /// List organizations.
    List,
    /// Show or change an organization's settings; without flags, show them.
    Settings {
        org: String,
        /// Whether packages linked at first publish inherit the repository's access.
        #[arg(long)]
        inherit_access_by_default: Option<bool>,
        /// Visibilities members may create packages with, e.g. `private,internal`.
        #[arg(long, value_name = "VISIBILITIES")]
        package_creation_visibilities: Option<VisibilitySet>,
        /// Base repository permission of members: none, read, write or admin.
        #[arg(long, value_name = "PERMISSION")]
        base_permission: Option<BasePermission>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a user to an organization, or change their role.
    Add {
        org: String,
        user: String,
        /// member or owner.
        #[arg(long, default_value = "member")]
        role: OrgRole,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team.
    Create {
        org: String,
        slug: String,
        /// Display name [default: the slug].
        #[arg(long)]
        name: Option<String>,
    },
    /// Add an organization member to a team.
    AddMember {
        org: String,
        team: String,
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Create a repository.
    Create {
        /// OWNER/NAME.
        repo: RepoRef,
        /// public, private or internal.
        #[arg(long, default_value = "private")]
        visibility: Visibility,
    },
    /// List repositories, of one owner or all.
    List {
        #[arg(long)]
        owner: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CollaboratorCommand {
    /// Give a user a role on a repository.
    Add {
        /// OWNER/NAME.
        repo: RepoRef,
        user: String,
        /// read, write or admin.
        #[arg(long, default_value = "write")]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a personal access token and print it (shown once).
    Create {
        user: String,
        /// What the token is for, shown in listings.
        #[arg(long)]
        name: String,
        /// Scopes, e.g. `read:packages,write:packages,delete:packages,repo`.
        #[arg(long, value_name = "SCOPES")]
        scopes: Scopes,
        /// Days until the token expires [default: never].
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
    },
    /// List a user's tokens (names, hints, scopes, expiry; never secrets).
    List { user: String },
    /// Revoke one of a user's tokens.
    Revoke {
        user: String,
        /// The token's id, as `token list` shows it.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkflowTokenCommand {
    /// Mint a repository workflow token and print it.
    Mint {
        /// OWNER/NAME.
        repo: RepoRef,
        /// `packages:` permission: read or write.
        #[arg(long)]
        level: WorkflowLevel,
        /// Lifetime in seconds [default: the configured workflow_token_ttl_secs].
        #[arg(long, value_name = "SECONDS")]
        ttl_secs: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Change a package's visibility.
    SetVisibility {
        #[command(flatten)]
        package: PackageArgs,
        /// public, private or internal.
        visibility: Visibility,
    },
    /// Grant a user or a team a role on a package.
    Grant {
        #[command(flatten)]
        package: PackageArgs,
        #[command(flatten)]
        grantee: GranteeArgs,
        /// read, write or admin.
        #[arg(long)]
        role: Role,
    },
    /// Remove a user's or a team's grant on a package.
    Revoke {
        #[command(flatten)]
        package: PackageArgs,
        #[command(flatten)]
        grantee: GranteeArgs,
    },
    /// Give a repository's workflows a role on a package (Actions access).
    ActionsGrant {
        #[command(flatten)]
        package: PackageArgs,
        /// OWNER/NAME of the repository.
        #[arg(long)]
        repo: RepoRef,
        /// read, write or admin.
        #[arg(long)]
        role: Role,
    },
    /// Link a package to a repository of its owner.
    Link {
        #[command(flatten)]
        package: PackageArgs,
        /// OWNER/NAME of the repository.
        #[arg(long)]
        repo: RepoRef,
    },
    /// Unlink a package from its repository.
    Unlink {
        #[command(flatten)]
        package: PackageArgs,
    },
    /// Turn inheriting access from the linked repository on or off (clears the access list).
    Inherit {
        #[command(flatten)]
        package: PackageArgs,
        /// true or false.
        #[arg(action = clap::ArgAction::Set)]
        enabled: bool,
    },
}

/// Which package: `TYPE OWNER NAME`, e.g. `npm acme webpkg` or `maven acme com.acme:core`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// container, npm, nuget, rubygems or maven.
    #[arg(value_name = "TYPE")]
    pub package_type: PackageType,
    pub owner: String,
    pub name: String,
}

/// A user or a team of the package's owning organization.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct GranteeArgs {
    #[arg(long)]
    pub user: Option<String>,
    /// Team slug, in the package owner's organization.
    #[arg(long)]
    pub team: Option<String>,
}

/// `OWNER/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRef {
    pub owner: String,
    pub name: String,
}

impl FromStr for RepoRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(Self {
                    owner: owner.to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(format!("expected OWNER/NAME, got {s:?}")),
        }
    }
}

/// An organization's base repository permission: `none` or a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasePermission(pub Option<Role>);

impl FromStr for BasePermission {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("none") {
            return Ok(Self(None));
        }
        Role::from_str(s)
            .map(|role| Self(Some(role)))
            .map_err(|_| format!("expected none, read, write or admin, got {s:?}"))
    }
}

/// Runs an admin command against the configured database.
pub async fn run(command: AdminCommand, config: &Config) -> anyhow::Result<()> {
    // LEAD: open `entrepot_service::Services` from `config` and dispatch each variant to it;
    // print created secrets (token create, workflow-token mint) on stdout, once.
    let _ = config;
    anyhow::bail!("`entrepot admin` is not wired to the service layer yet ({command:?})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn admin(args: &[&str]) -> Result<AdminCommand, clap::Error> {
        let mut argv = vec!["entrepot", "admin"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Admin(command) => command,
            other => panic!("not an admin command: {other:?}"),
        })
    }

    #[test]
    fn every_command_parses() {
        let valid: &[&[&str]] = &[
            &[
                "user",
                "create",
                "alice",
                "--email",
                "a@example.com",
                "--site-admin",
                "--password-stdin",
            ],
            &["user", "list"],
            &["org", "create", "acme", "--owner", "olga"],
            &["org", "list"],
            &["org", "settings", "acme"],
            &[
                "org",
                "settings",
                "acme",
                "--inherit-access-by-default",
                "false",
                "--package-creation-visibilities",
                "private,internal",
                "--base-permission",
                "none",
            ],
            &["member", "add", "acme", "mia", "--role", "owner"],
            &["team", "create", "acme", "devs", "--name", "Developers"],
            &["team", "add-member", "acme", "devs", "mia"],
            &["repo", "create", "acme/web", "--visibility", "internal"],
            &["repo", "list", "--owner", "acme"],
            &["collaborator", "add", "acme/web", "max", "--role", "write"],
            &[
                "token",
                "create",
                "alice",
                "--name",
                "ci",
                "--scopes",
                "read:packages,write:packages",
                "--expires-in-days",
                "30",
            ],
            &["token", "list", "alice"],
            &["token", "revoke", "alice", "42"],
            &[
                "workflow-token",
                "mint",
                "acme/web",
                "--level",
                "write",
                "--ttl-secs",
                "600",
            ],
            &[
                "package",
                "set-visibility",
                "npm",
                "acme",
                "webpkg",
                "public",
            ],
            &[
                "package",
                "grant",
                "container",
                "acme",
                "img",
                "--team",
                "devs",
                "--role",
                "write",
            ],
            &["package", "revoke", "nuget", "acme", "Lib", "--user", "mia"],
            &[
                "package",
                "actions-grant",
                "npm",
                "acme",
                "webpkg",
                "--repo",
                "acme/site",
                "--role",
                "read",
            ],
            &[
                "package", "link", "rubygems", "acme", "gem", "--repo", "acme/web",
            ],
            &["package", "unlink", "maven", "acme", "com.acme:core"],
            &["package", "inherit", "npm", "acme", "webpkg", "true"],
        ];
        for args in valid {
            if let Err(error) = admin(args) {
                panic!("{args:?} should parse: {error}");
            }
        }
    }

    #[test]
    fn values_are_checked() {
        let invalid: &[&[&str]] = &[
            &["repo", "create", "no-slash"],
            &["repo", "create", "acme/web", "--visibility", "secret"],
            &["collaborator", "add", "acme/web", "max", "--role", "triage"],
            &[
                "token",
                "create",
                "alice",
                "--name",
                "x",
                "--scopes",
                "admin:org",
            ],
            &["workflow-token", "mint", "acme/web", "--level", "admin"],
            &["package", "grant", "npm", "acme", "p", "--role", "read"],
            &[
                "package", "grant", "npm", "acme", "p", "--user", "a", "--team", "b", "--role",
                "read",
            ],
            &["package", "set-visibility", "cargo", "acme", "p", "public"],
            &["org", "settings", "acme", "--base-permission", "owner"],
        ];
        for args in invalid {
            assert!(admin(args).is_err(), "{args:?} should be refused");
        }
    }

    #[test]
    fn parsed_values() {
        let AdminCommand::Token(TokenCommand::Create { scopes, .. }) = admin(&[
            "token",
            "create",
            "alice",
            "--name",
            "ci",
            "--scopes",
            "write:packages,repo",
        ])
        .unwrap() else {
            panic!("wrong command");
        };
        assert_eq!(scopes, "repo, write:packages".parse::<Scopes>().unwrap());

        let AdminCommand::Package(PackageCommand::Link { package, repo }) = admin(&[
            "package",
            "link",
            "maven",
            "acme",
            "com.acme:core",
            "--repo",
            "acme/web",
        ])
        .unwrap() else {
            panic!("wrong command");
        };
        assert_eq!(package.package_type, PackageType::Maven);
        assert_eq!(package.name, "com.acme:core");
        assert_eq!(
            repo,
            RepoRef {
                owner: "acme".into(),
                name: "web".into()
            }
        );
    }
}
