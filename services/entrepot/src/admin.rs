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

use std::time::Duration;

use entrepot_service::{
    GranteeRef, NewRepository, NewTokenRequest, NewUser, OrgSettingsUpdate, PackageKey, Services,
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
    /// Purge what is deleted longer ago than the restore window, then collect unreferenced blobs, now.
    Purge,
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
    /// Transfer a repository to another user or organization (permissions.md §5).
    Transfer {
        /// OWNER/NAME.
        repo: RepoRef,
        /// The new owner's login.
        new_owner: String,
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

/// Runs an admin command against the configured database, as the local operator.
pub async fn run(command: AdminCommand, config: &Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let services = Services::open(config.service_config()).await?;
    dispatch(&services, command, config).await
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Reads the first line of stdin: a password piped in, never one typed on the command line.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password on stdin");
    Ok(password)
}

fn package_key(package: &PackageArgs) -> PackageKey {
    PackageKey::new(&package.owner, package.package_type, &package.name)
}

/// A repository given for a package setting must belong to the package's owner.
fn own_repo<'a>(package: &PackageArgs, repo: &'a RepoRef) -> anyhow::Result<&'a str> {
    anyhow::ensure!(
        repo.owner.eq_ignore_ascii_case(&package.owner),
        "{}/{} does not belong to {}, the package's owner",
        repo.owner,
        repo.name,
        package.owner
    );
    Ok(&repo.name)
}

async fn dispatch(
    services: &Services,
    command: AdminCommand,
    config: &Config,
) -> anyhow::Result<()> {
    let op = Services::operator();
    match command {
        AdminCommand::User(UserCommand::Create {
            login,
            email,
            site_admin,
            password_stdin,
        }) => {
            let password = if password_stdin {
                Some(password_from_stdin()?)
            } else {
                None
            };
            let user = services
                .create_user(
                    &op,
                    NewUser {
                        login,
                        password,
                        email,
                        name: None,
                        site_admin,
                    },
                )
                .await?;
            print_json(&user)
        }
        AdminCommand::User(UserCommand::List) => print_json(&services.list_users(&op).await?),
        AdminCommand::Org(OrgCommand::Create { login, owner }) => {
            print_json(&services.create_org(&op, &login, &owner).await?)
        }
        AdminCommand::Org(OrgCommand::List) => print_json(&services.list_orgs().await?),
        AdminCommand::Org(OrgCommand::Settings {
            org,
            inherit_access_by_default,
            package_creation_visibilities,
            base_permission,
        }) => {
            let update = OrgSettingsUpdate {
                base_permission: base_permission.map(|base| base.0),
                inherit_access_by_default,
                package_creation_visibilities,
            };
            print_json(&services.update_org_settings(&op, &org, update).await?)
        }
        AdminCommand::Member(MemberCommand::Add { org, user, role }) => {
            services.set_membership(&op, &org, &user, role).await?;
            print_json(&services.members(&op, &org).await?)
        }
        AdminCommand::Team(TeamCommand::Create { org, slug, name }) => print_json(
            &services
                .create_team(&op, &org, &slug, name.as_deref())
                .await?,
        ),
        AdminCommand::Team(TeamCommand::AddMember { org, team, user }) => {
            services.add_team_member(&op, &org, &team, &user).await?;
            Ok(())
        }
        AdminCommand::Repo(RepoCommand::Create { repo, visibility }) => {
            let new = NewRepository {
                owner: repo.owner,
                name: repo.name,
                visibility,
            };
            print_json(&services.create_repository(&op, new).await?)
        }
        AdminCommand::Repo(RepoCommand::Transfer { repo, new_owner }) => print_json(
            &services
                .transfer_repository(&op, &repo.owner, &repo.name, &new_owner)
                .await?,
        ),
        AdminCommand::Purge => {
            let report = services.purge().await?;
            println!(
                "purged {} versions and {} packages; collected {} blobs ({} bytes)",
                report.versions, report.packages, report.gc.blobs, report.gc.bytes
            );
            Ok(())
        }
        AdminCommand::Repo(RepoCommand::List { owner }) => {
            let owners = match owner {
                Some(owner) => vec![owner],
                None => {
                    let mut all: Vec<String> = services
                        .list_users(&op)
                        .await?
                        .into_iter()
                        .map(|u| u.login)
                        .collect();
                    all.extend(services.list_orgs().await?.into_iter().map(|o| o.login));
                    all
                }
            };
            let mut repos = Vec::new();
            for owner in owners {
                repos.extend(services.repositories(&op, &owner).await?);
            }
            print_json(&repos)
        }
        AdminCommand::Collaborator(CollaboratorCommand::Add { repo, user, role }) => {
            services
                .set_collaborator(&op, &repo.owner, &repo.name, &user, role)
                .await?;
            Ok(())
        }
        AdminCommand::Token(TokenCommand::Create {
            user,
            name,
            scopes,
            expires_in_days,
        }) => {
            let expires_in =
                expires_in_days.map(|days| Duration::from_secs(u64::from(days) * 86_400));
            let created = services
                .create_token(
                    &op,
                    &user,
                    NewTokenRequest {
                        name,
                        scopes,
                        expires_in,
                    },
                )
                .await?;
            // The secret alone on stdout, so that `TOKEN=$(entrepot admin token create …)` works; shown once.
            println!("{}", created.token.expose());
            Ok(())
        }
        AdminCommand::Token(TokenCommand::List { user }) => {
            print_json(&services.list_tokens(&op, &user).await?)
        }
        AdminCommand::Token(TokenCommand::Revoke { user, id }) => {
            let owned = services
                .list_tokens(&op, &user)
                .await?
                .iter()
                .any(|token| token.id == id);
            anyhow::ensure!(owned, "{user} has no token {id}");
            services.revoke_token(&op, id).await?;
            Ok(())
        }
        AdminCommand::WorkflowToken(WorkflowTokenCommand::Mint {
            repo,
            level,
            ttl_secs,
        }) => {
            let ttl = Some(
                ttl_secs
                    .map(Duration::from_secs)
                    .unwrap_or(config.workflow_token_ttl()),
            );
            let created = services
                .mint_workflow_token(&op, &repo.owner, &repo.name, level, ttl)
                .await?;
            println!("{}", created.token.expose());
            Ok(())
        }
        AdminCommand::Package(command) => package(services, &op, command).await,
    }
}

async fn package(
    services: &Services,
    op: &entrepot_authz::Principal,
    command: PackageCommand,
) -> anyhow::Result<()> {
    match command {
        PackageCommand::SetVisibility {
            package,
            visibility,
        } => print_json(
            &services
                .set_package_visibility(op, &package_key(&package), visibility)
                .await?,
        ),
        PackageCommand::Grant {
            package,
            grantee,
            role,
        } => {
            services
                .grant(op, &package_key(&package), &grantee.into_ref()?, role)
                .await?;
            Ok(())
        }
        PackageCommand::Revoke { package, grantee } => {
            services
                .revoke(op, &package_key(&package), &grantee.into_ref()?)
                .await?;
            Ok(())
        }
        PackageCommand::ActionsGrant {
            package,
            repo,
            role,
        } => {
            let name = own_repo(&package, &repo)?;
            services
                .set_actions_access(op, &package_key(&package), name, role)
                .await?;
            Ok(())
        }
        PackageCommand::Link { package, repo } => {
            let name = own_repo(&package, &repo)?;
            print_json(
                &services
                    .link(op, &package_key(&package), Some(name))
                    .await?,
            )
        }
        PackageCommand::Unlink { package } => {
            print_json(&services.link(op, &package_key(&package), None).await?)
        }
        PackageCommand::Inherit { package, enabled } => print_json(
            &services
                .set_inheritance(op, &package_key(&package), enabled)
                .await?,
        ),
    }
}

impl GranteeArgs {
    fn into_ref(self) -> anyhow::Result<GranteeRef> {
        match (self.user, self.team) {
            (Some(user), None) => Ok(GranteeRef::User(user)),
            (None, Some(team)) => Ok(GranteeRef::Team(team)),
            _ => anyhow::bail!("give exactly one of --user and --team"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn admin(args: &[&str]) -> Result<AdminCommand, clap::Error> {
        let mut argv = vec!["entrepot", "admin"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| match cli.into_command() {
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
            &["repo", "transfer", "acme/web", "ursula"],
            &["purge"],
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
