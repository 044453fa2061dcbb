//! The initial schema: accounts, orgs, teams, repositories, packages, versions, files, blobs, grants, tokens.
//!
//! Names are compared case-insensitively, so every such name has a `*_lower` twin that carries the unique index
//! (portable across SQLite and PostgreSQL, unlike collations). Package and version names are unique only among rows
//! that are not soft-deleted, which needs partial indexes; both databases accept the same `CREATE UNIQUE INDEX … WHERE`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Login,
    LoginLower,
    Kind,
    DisplayName,
    Email,
    SiteAdmin,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrgSettings {
    Table,
    OrgId,
    BasePermission,
    InheritAccessByDefault,
    PackageCreationVisibilities,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    OrgId,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    OrgId,
    Slug,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
    TeamId,
    UserId,
}

#[derive(DeriveIden)]
enum Repositories {
    Table,
    Id,
    OwnerId,
    Name,
    NameLower,
    Visibility,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Collaborators {
    Table,
    Id,
    RepositoryId,
    UserId,
    Role,
}

#[derive(DeriveIden)]
enum TeamRepositories {
    Table,
    Id,
    TeamId,
    RepositoryId,
    Role,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Id,
    Sha256,
    Sha512,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Packages {
    Table,
    Id,
    OwnerId,
    PackageType,
    Name,
    NameLower,
    Visibility,
    RepositoryId,
    InheritAccess,
    Downloads,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum PackageVersions {
    Table,
    Id,
    PackageId,
    Version,
    Metadata,
    PublisherId,
    Downloads,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum PackageFiles {
    Table,
    Id,
    VersionId,
    Name,
    BlobId,
    Size,
    ContentType,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PackageGrants {
    Table,
    Id,
    PackageId,
    UserId,
    TeamId,
    Role,
}

#[derive(DeriveIden)]
enum ActionsAccess {
    Table,
    Id,
    PackageId,
    RepositoryId,
    Role,
}

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    Kind,
    UserId,
    RepositoryId,
    Name,
    TokenHash,
    Hint,
    Scopes,
    Level,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

fn id<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn fk<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn text<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).string().not_null().to_owned()
}

fn at<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn flag<T: IntoIden>(col: T, default: bool) -> ColumnDef {
    ColumnDef::new(col)
        .boolean()
        .not_null()
        .default(default)
        .to_owned()
}

fn reference<F: IntoIden + 'static, T: IntoIden + 'static>(
    name: &str,
    from: (F, impl IntoIden),
    to: (T, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn unique(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    cols: Vec<Alias>,
) -> Result<(), DbErr> {
    let mut index = Index::create().name(name).table(table).unique().to_owned();
    for col in cols {
        index.col(col);
    }
    manager.create_index(index).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(id(Accounts::Id))
                    .col(text(Accounts::Login))
                    .col(text(Accounts::LoginLower).unique_key().to_owned())
                    .col(text(Accounts::Kind))
                    .col(ColumnDef::new(Accounts::DisplayName).string().null())
                    .col(ColumnDef::new(Accounts::Email).string().null())
                    .col(flag(Accounts::SiteAdmin, false))
                    .col(ColumnDef::new(Accounts::PasswordHash).string().null())
                    .col(at(Accounts::CreatedAt))
                    .col(at(Accounts::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrgSettings::Table)
                    .col(
                        ColumnDef::new(OrgSettings::OrgId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OrgSettings::BasePermission).string().null())
                    .col(flag(OrgSettings::InheritAccessByDefault, true))
                    .col(text(OrgSettings::PackageCreationVisibilities))
                    .foreign_key(&mut reference(
                        "fk_org_settings_org",
                        (OrgSettings::Table, OrgSettings::OrgId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(id(Memberships::Id))
                    .col(fk(Memberships::OrgId))
                    .col(fk(Memberships::UserId))
                    .col(text(Memberships::Role))
                    .col(at(Memberships::CreatedAt))
                    .foreign_key(&mut reference(
                        "fk_memberships_org",
                        (Memberships::Table, Memberships::OrgId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .foreign_key(&mut reference(
                        "fk_memberships_user",
                        (Memberships::Table, Memberships::UserId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_memberships",
            Memberships::Table,
            vec![Alias::new("org_id"), Alias::new("user_id")],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_memberships_user")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .col(id(Teams::Id))
                    .col(fk(Teams::OrgId))
                    .col(text(Teams::Slug))
                    .col(text(Teams::Name))
                    .col(at(Teams::CreatedAt))
                    .foreign_key(&mut reference(
                        "fk_teams_org",
                        (Teams::Table, Teams::OrgId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_teams",
            Teams::Table,
            vec![Alias::new("org_id"), Alias::new("slug")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TeamMembers::Table)
                    .col(id(TeamMembers::Id))
                    .col(fk(TeamMembers::TeamId))
                    .col(fk(TeamMembers::UserId))
                    .foreign_key(&mut reference(
                        "fk_team_members_team",
                        (TeamMembers::Table, TeamMembers::TeamId),
                        (Teams::Table, Teams::Id),
                    ))
                    .foreign_key(&mut reference(
                        "fk_team_members_user",
                        (TeamMembers::Table, TeamMembers::UserId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_team_members",
            TeamMembers::Table,
            vec![Alias::new("team_id"), Alias::new("user_id")],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_team_members_user")
                    .table(TeamMembers::Table)
                    .col(TeamMembers::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Repositories::Table)
                    .col(id(Repositories::Id))
                    .col(fk(Repositories::OwnerId))
                    .col(text(Repositories::Name))
                    .col(text(Repositories::NameLower))
                    .col(text(Repositories::Visibility))
                    .col(at(Repositories::CreatedAt))
                    .col(at(Repositories::UpdatedAt))
                    .foreign_key(&mut reference(
                        "fk_repositories_owner",
                        (Repositories::Table, Repositories::OwnerId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_repositories",
            Repositories::Table,
            vec![Alias::new("owner_id"), Alias::new("name_lower")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Collaborators::Table)
                    .col(id(Collaborators::Id))
                    .col(fk(Collaborators::RepositoryId))
                    .col(fk(Collaborators::UserId))
                    .col(text(Collaborators::Role))
                    .foreign_key(&mut reference(
                        "fk_collaborators_repo",
                        (Collaborators::Table, Collaborators::RepositoryId),
                        (Repositories::Table, Repositories::Id),
                    ))
                    .foreign_key(&mut reference(
                        "fk_collaborators_user",
                        (Collaborators::Table, Collaborators::UserId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_collaborators",
            Collaborators::Table,
            vec![Alias::new("repository_id"), Alias::new("user_id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(TeamRepositories::Table)
                    .col(id(TeamRepositories::Id))
                    .col(fk(TeamRepositories::TeamId))
                    .col(fk(TeamRepositories::RepositoryId))
                    .col(text(TeamRepositories::Role))
                    .foreign_key(&mut reference(
                        "fk_team_repositories_team",
                        (TeamRepositories::Table, TeamRepositories::TeamId),
                        (Teams::Table, Teams::Id),
                    ))
                    .foreign_key(&mut reference(
                        "fk_team_repositories_repo",
                        (TeamRepositories::Table, TeamRepositories::RepositoryId),
                        (Repositories::Table, Repositories::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_team_repositories",
            TeamRepositories::Table,
            vec![Alias::new("team_id"), Alias::new("repository_id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Blobs::Table)
                    .col(id(Blobs::Id))
                    .col(text(Blobs::Sha256).unique_key().to_owned())
                    .col(ColumnDef::new(Blobs::Sha512).string().null())
                    .col(ColumnDef::new(Blobs::Size).big_integer().not_null())
                    .col(at(Blobs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_blobs_sha512")
                    .table(Blobs::Table)
                    .col(Blobs::Sha512)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Packages::Table)
                    .col(id(Packages::Id))
                    .col(fk(Packages::OwnerId))
                    .col(text(Packages::PackageType))
                    .col(text(Packages::Name))
                    .col(text(Packages::NameLower))
                    .col(text(Packages::Visibility))
                    .col(ColumnDef::new(Packages::RepositoryId).big_integer().null())
                    .col(flag(Packages::InheritAccess, false))
                    .col(
                        ColumnDef::new(Packages::Downloads)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(at(Packages::CreatedAt))
                    .col(at(Packages::UpdatedAt))
                    .col(at_null(Packages::DeletedAt))
                    .foreign_key(&mut reference(
                        "fk_packages_owner",
                        (Packages::Table, Packages::OwnerId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_packages_repository")
                            .from(Packages::Table, Packages::RepositoryId)
                            .to(Repositories::Table, Repositories::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_packages_live ON packages (owner_id, package_type, name_lower) WHERE deleted_at IS NULL",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_packages_repository")
                    .table(Packages::Table)
                    .col(Packages::RepositoryId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PackageVersions::Table)
                    .col(id(PackageVersions::Id))
                    .col(fk(PackageVersions::PackageId))
                    .col(text(PackageVersions::Version))
                    .col(ColumnDef::new(PackageVersions::Metadata).json().not_null())
                    .col(
                        ColumnDef::new(PackageVersions::PublisherId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(PackageVersions::Downloads)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(at(PackageVersions::CreatedAt))
                    .col(at(PackageVersions::UpdatedAt))
                    .col(at_null(PackageVersions::DeletedAt))
                    .foreign_key(&mut reference(
                        "fk_versions_package",
                        (PackageVersions::Table, PackageVersions::PackageId),
                        (Packages::Table, Packages::Id),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_versions_publisher")
                            .from(PackageVersions::Table, PackageVersions::PublisherId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_package_versions_live ON package_versions (package_id, version) WHERE deleted_at IS NULL",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_package_versions_package")
                    .table(PackageVersions::Table)
                    .col(PackageVersions::PackageId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PackageFiles::Table)
                    .col(id(PackageFiles::Id))
                    .col(fk(PackageFiles::VersionId))
                    .col(text(PackageFiles::Name))
                    .col(fk(PackageFiles::BlobId))
                    .col(ColumnDef::new(PackageFiles::Size).big_integer().not_null())
                    .col(ColumnDef::new(PackageFiles::ContentType).string().null())
                    .col(at(PackageFiles::CreatedAt))
                    .foreign_key(&mut reference(
                        "fk_files_version",
                        (PackageFiles::Table, PackageFiles::VersionId),
                        (PackageVersions::Table, PackageVersions::Id),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_files_blob")
                            .from(PackageFiles::Table, PackageFiles::BlobId)
                            .to(Blobs::Table, Blobs::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_package_files",
            PackageFiles::Table,
            vec![Alias::new("version_id"), Alias::new("name")],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_package_files_blob")
                    .table(PackageFiles::Table)
                    .col(PackageFiles::BlobId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PackageGrants::Table)
                    .col(id(PackageGrants::Id))
                    .col(fk(PackageGrants::PackageId))
                    .col(ColumnDef::new(PackageGrants::UserId).big_integer().null())
                    .col(ColumnDef::new(PackageGrants::TeamId).big_integer().null())
                    .col(text(PackageGrants::Role))
                    .foreign_key(&mut reference(
                        "fk_grants_package",
                        (PackageGrants::Table, PackageGrants::PackageId),
                        (Packages::Table, Packages::Id),
                    ))
                    .foreign_key(&mut reference(
                        "fk_grants_user",
                        (PackageGrants::Table, PackageGrants::UserId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .foreign_key(&mut reference(
                        "fk_grants_team",
                        (PackageGrants::Table, PackageGrants::TeamId),
                        (Teams::Table, Teams::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_grants_user",
            PackageGrants::Table,
            vec![Alias::new("package_id"), Alias::new("user_id")],
        )
        .await?;
        unique(
            manager,
            "ux_grants_team",
            PackageGrants::Table,
            vec![Alias::new("package_id"), Alias::new("team_id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActionsAccess::Table)
                    .col(id(ActionsAccess::Id))
                    .col(fk(ActionsAccess::PackageId))
                    .col(fk(ActionsAccess::RepositoryId))
                    .col(text(ActionsAccess::Role))
                    .foreign_key(&mut reference(
                        "fk_actions_package",
                        (ActionsAccess::Table, ActionsAccess::PackageId),
                        (Packages::Table, Packages::Id),
                    ))
                    .foreign_key(&mut reference(
                        "fk_actions_repo",
                        (ActionsAccess::Table, ActionsAccess::RepositoryId),
                        (Repositories::Table, Repositories::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_actions_access",
            ActionsAccess::Table,
            vec![Alias::new("package_id"), Alias::new("repository_id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tokens::Table)
                    .col(id(Tokens::Id))
                    .col(text(Tokens::Kind))
                    .col(ColumnDef::new(Tokens::UserId).big_integer().null())
                    .col(ColumnDef::new(Tokens::RepositoryId).big_integer().null())
                    .col(text(Tokens::Name))
                    .col(text(Tokens::TokenHash).unique_key().to_owned())
                    .col(text(Tokens::Hint))
                    .col(text(Tokens::Scopes))
                    .col(ColumnDef::new(Tokens::Level).string().null())
                    .col(at(Tokens::CreatedAt))
                    .col(at_null(Tokens::ExpiresAt))
                    .col(at_null(Tokens::LastUsedAt))
                    .col(at_null(Tokens::RevokedAt))
                    .foreign_key(&mut reference(
                        "fk_tokens_user",
                        (Tokens::Table, Tokens::UserId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .foreign_key(&mut reference(
                        "fk_tokens_repo",
                        (Tokens::Table, Tokens::RepositoryId),
                        (Repositories::Table, Repositories::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tokens_user")
                    .table(Tokens::Table)
                    .col(Tokens::UserId)
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Alias::new("tokens"),
            Alias::new("actions_access"),
            Alias::new("package_grants"),
            Alias::new("package_files"),
            Alias::new("package_versions"),
            Alias::new("packages"),
            Alias::new("blobs"),
            Alias::new("team_repositories"),
            Alias::new("collaborators"),
            Alias::new("repositories"),
            Alias::new("team_members"),
            Alias::new("teams"),
            Alias::new("memberships"),
            Alias::new("org_settings"),
            Alias::new("accounts"),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
