//! Package operations shared by every registry front-end: resolve, read, publish, delete, restore, settings.
//!
//! Each public function follows the same path: load the rows, build the facts seen from the principal, ask the
//! permission core, then act (in one transaction when it writes).

use chrono::Utc;
use entrepot_authz::{
    AccountId, CreateFacts, Grantee, Operation, PackageFacts, PackageType, Principal, Role,
    ScopingModel, Visibility, authorize, authorize_create, deny_missing, plan_creation,
    validate_grant, validate_visibility_change,
};
use entrepot_blob::ByteRange;
use entrepot_store::entity::{account, package, package_version};
use entrepot_store::{
    DatabaseTransaction, TransactionTrait, accounts, blobs, facts, grants, orgs, packages, repos,
};

use crate::link::parse_repository_url;
use crate::staging::StagedBlob;
use crate::views::{FileView, OpenedFile, PackageView, RepositoryView, VersionView};
use crate::{Result, ServiceError, Services};

/// Names a package. As in GitHub's API, the name leaves the owner out: npm `@acme/lib` is `lib` of `acme`,
/// the image `acme/tools/app` is `tools/app` of `acme`, Maven's is `groupId:artifactId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageKey {
    pub owner: String,
    pub package_type: PackageType,
    pub name: String,
    /// For repository-scoped packages: the repository named in the URL (`/maven/OWNER/REPO/…`).
    pub repository: Option<String>,
}

impl PackageKey {
    pub fn new(
        owner: impl Into<String>,
        package_type: PackageType,
        name: impl Into<String>,
    ) -> Self {
        Self {
            owner: owner.into(),
            package_type,
            name: name.into(),
            repository: None,
        }
    }

    pub fn in_repository(mut self, repository: impl Into<String>) -> Self {
        self.repository = Some(repository.into());
        self
    }
}

/// What to do when the version being published exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistingVersion {
    /// Refuse with 409 (npm, NuGet, RubyGems: versions are immutable).
    Conflict,
    /// Add the files to it (Maven uploads a version file by file).
    AddFiles,
}

/// A file of a version being published, with its bytes already staged.
#[derive(Debug)]
pub struct NewFile {
    pub name: String,
    pub blob: StagedBlob,
    pub content_type: Option<String>,
    /// Whether a later publish may replace it with other bytes (Maven SNAPSHOT files, metadata).
    pub mutable: bool,
}

#[derive(Debug)]
pub struct PublishRequest {
    pub key: PackageKey,
    pub version: String,
    pub metadata: serde_json::Value,
    pub files: Vec<NewFile>,
    /// The repository URL the package's own metadata names, for linking at first publish.
    pub repository_url: Option<String>,
    /// The visibility a first publish asks for; private when absent.
    pub visibility: Option<Visibility>,
    pub existing_version: ExistingVersion,
}

/// A package resolved and authorized for one operation.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) owner: account::Model,
    pub(crate) package: package::Model,
}

/// Work a registry adds to the publish transaction, after the version row is written (npm: dist-tags and the
/// packument revision), so that it commits or rolls back with the version.
pub(crate) trait PublishHook: Sync {
    fn after_version<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        package: &'a package::Model,
        version: &'a package_version::Model,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>>;
}

struct NoHook;

impl PublishHook for NoHook {
    fn after_version<'a>(
        &'a self,
        _txn: &'a DatabaseTransaction,
        _package: &'a package::Model,
        _version: &'a package_version::Model,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }
}

/// A grantee of a package's access list, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GranteeRef {
    User(String),
    Team(String),
}

impl Services {
    fn scoping(&self, package_type: PackageType) -> ScopingModel {
        self.inner.policy.scoping(package_type)
    }

    pub(crate) fn missing(&self, principal: &Principal, package_type: PackageType) -> ServiceError {
        deny_missing(&self.inner.policy, principal, package_type).into()
    }

    /// The owner account and live package a key names, checking the repository of repository-scoped packages.
    pub(crate) async fn lookup(
        &self,
        key: &PackageKey,
    ) -> Result<Option<(account::Model, package::Model)>> {
        let Some(owner) = accounts::by_login(self.db(), &key.owner).await? else {
            return Ok(None);
        };
        let Some(package) =
            packages::find_live(self.db(), owner.id, key.package_type.as_str(), &key.name).await?
        else {
            return Ok(None);
        };
        if let Some(repository) = &key.repository {
            let home = match package.repository_id {
                Some(id) => repos::by_id(self.db(), id).await?,
                None => None,
            };
            if home.is_none_or(|home| home.name_lower != repository.to_lowercase()) {
                return Ok(None);
            }
        }
        Ok(Some((owner, package)))
    }

    pub(crate) async fn package_facts(
        &self,
        principal: &Principal,
        owner: &account::Model,
        package: &package::Model,
        downloads: u64,
    ) -> Result<PackageFacts> {
        crate::audit::note_target(owner.id, || {
            format!("{}/{}/{}", owner.login, package.package_type, package.name)
        });
        Ok(facts::package(self.db(), principal, package, owner, downloads).await?)
    }

    /// Resolves a key and asks the core for `op`; a missing package is refused as the core says.
    pub(crate) async fn resolve(
        &self,
        principal: &Principal,
        key: &PackageKey,
        op: Operation,
    ) -> Result<Resolved> {
        let Some((owner, package)) = self.lookup(key).await? else {
            return Err(self.missing(principal, key.package_type));
        };
        let downloads = if op == Operation::Delete {
            self.max_version_downloads(package.id).await?
        } else {
            0
        };
        let pkg_facts = self
            .package_facts(principal, &owner, &package, downloads)
            .await?;
        authorize(&self.inner.policy, principal, op, &pkg_facts).into_result()?;
        Ok(Resolved { owner, package })
    }

    /// What the delete guard weighs for a whole package: its most downloaded live version, pending counts
    /// included.
    pub(crate) async fn max_version_downloads(&self, package_id: i64) -> Result<u64> {
        let versions = packages::versions(self.db(), package_id, false).await?;
        Ok(versions
            .iter()
            .map(|v| self.version_downloads(v.id, v.downloads) as u64)
            .max()
            .unwrap_or(0))
    }

    /// A version row as the API shows it, with the downloads not yet flushed.
    pub(crate) fn version_view(&self, row: &package_version::Model) -> VersionView {
        VersionView {
            downloads: self.version_downloads(row.id, row.downloads),
            ..VersionView::from(row)
        }
    }

    async fn view(&self, owner: &account::Model, package: &package::Model) -> Result<PackageView> {
        let package_type: PackageType = package.package_type.parse().map_err(|_| {
            ServiceError::Internal(format!(
                "package {} has type {:?}",
                package.id, package.package_type
            ))
        })?;
        let repository = match package.repository_id {
            Some(id) => repos::by_id(self.db(), id).await?,
            None => None,
        };
        // A repository-scoped package has no visibility of its own: it shows its repository's.
        let visibility = match (self.scoping(package_type), &repository) {
            (ScopingModel::Repository, Some(repo)) => repo.visibility.clone(),
            _ => package.visibility.clone(),
        };
        Ok(PackageView {
            id: package.id,
            name: package.name.clone(),
            package_type: package.package_type.clone(),
            owner: owner.login.clone(),
            visibility,
            repository: repository
                .as_ref()
                .map(|repo| format!("{}/{}", owner.login, repo.name)),
            repository_detail: repository
                .as_ref()
                .map(|repo| RepositoryView::new(repo, &owner.login)),
            inherit_access: package.inherit_access,
            version_count: packages::count_live_versions(self.db(), package.id).await?,
            downloads: self.package_downloads(package.id, package.downloads),
            created_at: package.created_at,
            updated_at: package.updated_at,
            deleted_at: package.deleted_at,
        })
    }

    /// A package, if the principal may read it.
    pub async fn package(&self, principal: &Principal, key: &PackageKey) -> Result<PackageView> {
        let resolved = self.resolve(principal, key, Operation::Read).await?;
        self.view(&resolved.owner, &resolved.package).await
    }

    /// Whether the principal may do `op` on the package; for front-ends that decide before streaming a body.
    pub async fn check(
        &self,
        principal: &Principal,
        key: &PackageKey,
        op: Operation,
    ) -> Result<()> {
        self.resolve(principal, key, op).await.map(|_| ())
    }

    /// Packages of an owner the principal may read, optionally of one type.
    pub async fn list_packages(
        &self,
        principal: &Principal,
        owner: &str,
        package_type: Option<PackageType>,
    ) -> Result<Vec<PackageView>> {
        let owner = self.account_row(owner).await?;
        let mut views = Vec::new();
        for package in packages::list(
            self.db(),
            owner.id,
            package_type.map(PackageType::as_str),
            None,
        )
        .await?
        {
            let pkg_facts = self.package_facts(principal, &owner, &package, 0).await?;
            if authorize(&self.inner.policy, principal, Operation::Read, &pkg_facts).is_allowed() {
                views.push(self.view(&owner, &package).await?);
            }
        }
        Ok(views)
    }

    /// Live versions (or, with `deleted`, deleted ones, which needs the right to restore them).
    pub async fn versions(
        &self,
        principal: &Principal,
        key: &PackageKey,
        deleted: bool,
    ) -> Result<Vec<VersionView>> {
        let op = if deleted {
            Operation::Restore
        } else {
            Operation::Read
        };
        let resolved = self.resolve(principal, key, op).await?;
        Ok(packages::versions(self.db(), resolved.package.id, deleted)
            .await?
            .iter()
            .map(|row| self.version_view(row))
            .collect())
    }

    pub async fn version(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
    ) -> Result<VersionView> {
        let resolved = self.resolve(principal, key, Operation::Read).await?;
        let row = self.live_version(&resolved, version).await?;
        Ok(self.version_view(&row))
    }

    pub(crate) async fn live_version(
        &self,
        resolved: &Resolved,
        version: &str,
    ) -> Result<package_version::Model> {
        packages::find_live_version(self.db(), resolved.package.id, version)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {version}")))
    }

    pub async fn files(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
    ) -> Result<Vec<FileView>> {
        let resolved = self.resolve(principal, key, Operation::Read).await?;
        let version = self.live_version(&resolved, version).await?;
        let mut views = Vec::new();
        for file in packages::files(self.db(), version.id).await? {
            let blob = blobs::by_id(self.db(), file.blob_id)
                .await?
                .ok_or_else(|| ServiceError::Internal(format!("file {} has no blob", file.id)))?;
            views.push(FileView::new(&file, blob.sha256, blob.sha512));
        }
        Ok(views)
    }

    /// Opens a file of a version for download (a byte range of it, if asked), counting a download when asked.
    pub async fn open_file(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
        file_name: &str,
        range: Option<ByteRange>,
        count_download: bool,
    ) -> Result<OpenedFile> {
        let resolved = self.resolve(principal, key, Operation::Read).await?;
        let version = self.live_version(&resolved, version).await?;
        let file = packages::file(self.db(), version.id, file_name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("file {file_name}")))?;
        let blob = blobs::by_id(self.db(), file.blob_id)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("file {} has no blob", file.id)))?;
        let reader = self.inner.blobs.open(&blob.sha256, range).await?;
        if count_download {
            self.count_download(resolved.package.id, version.id);
        }
        Ok(OpenedFile {
            file: FileView::new(&file, blob.sha256, blob.sha512),
            reader,
        })
    }

    /// Replaces a version's metadata (npm dist-tags and deprecations, container tags); needs write.
    pub async fn update_version_metadata(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
        metadata: serde_json::Value,
    ) -> Result<VersionView> {
        let resolved = self.resolve(principal, key, Operation::Write).await?;
        let row = self.live_version(&resolved, version).await?;
        let _write = self.write_guard().await;
        packages::update_version_metadata(self.db(), row.id, metadata.clone()).await?;
        Ok(VersionView::from(&package_version::Model {
            metadata,
            ..row
        }))
    }

    /// Publishes a version with its files, creating the package at its first publish. The files' bytes are
    /// already in the blob store; rows are written in one transaction, and the bytes this request added are
    /// removed again if it fails.
    pub async fn publish(
        &self,
        principal: &Principal,
        request: PublishRequest,
    ) -> Result<(PackageView, VersionView)> {
        self.publish_with(principal, request, &NoHook).await
    }

    /// [`Services::publish`] with a registry's own work in the same transaction.
    pub(crate) async fn publish_with(
        &self,
        principal: &Principal,
        request: PublishRequest,
        hook: &dyn PublishHook,
    ) -> Result<(PackageView, VersionView)> {
        let outcome = self
            .publish_retrying_a_race(principal, &request, hook)
            .await;
        if outcome.is_err() {
            let staged: Vec<&StagedBlob> = request.files.iter().map(|file| &file.blob).collect();
            self.discard_staged(&staged).await;
        }
        outcome
    }

    async fn publish_retrying_a_race(
        &self,
        principal: &Principal,
        request: &PublishRequest,
        hook: &dyn PublishHook,
    ) -> Result<(PackageView, VersionView)> {
        let existed = self.lookup(&request.key).await?.is_some();
        match self.publish_once(principal, request, hook).await {
            // Two first publishes of one name raced and the other created the package: publish into it.
            Err(ServiceError::Conflict(_))
                if !existed && self.lookup(&request.key).await?.is_some() =>
            {
                self.publish_once(principal, request, hook).await
            }
            other => other,
        }
    }

    async fn publish_once(
        &self,
        principal: &Principal,
        request: &PublishRequest,
        hook: &dyn PublishHook,
    ) -> Result<(PackageView, VersionView)> {
        let key = &request.key;
        let Some(owner) = accounts::by_login(self.db(), &key.owner).await? else {
            return Err(self.missing(principal, key.package_type));
        };
        let repository = match (self.scoping(key.package_type), &key.repository) {
            (ScopingModel::Repository, Some(name)) => Some(
                repos::by_name(self.db(), owner.id, name)
                    .await?
                    .ok_or_else(|| self.missing(principal, key.package_type))?,
            ),
            (ScopingModel::Repository, None) => {
                return Err(ServiceError::Invalid(format!(
                    "{} packages are published into a repository",
                    key.package_type
                )));
            }
            (ScopingModel::Granular, _) => None,
        };
        let existing =
            packages::find_live(self.db(), owner.id, key.package_type.as_str(), &key.name).await?;
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        let package = match existing {
            Some(package) => {
                if let Some(repo) = repository
                    .as_ref()
                    .filter(|repo| package.repository_id != Some(repo.id))
                {
                    return Err(ServiceError::Conflict(format!(
                        "{} already lives in another repository than {}/{}; package names are unique per owner",
                        key.name, owner.login, repo.name
                    )));
                }
                let pkg_facts = self.package_facts(principal, &owner, &package, 0).await?;
                authorize(&self.inner.policy, principal, Operation::Write, &pkg_facts)
                    .into_result()?;
                package
            }
            None => {
                self.create_package(&txn, principal, &owner, repository.as_ref(), request)
                    .await?
            }
        };
        let version = self
            .write_version(&txn, principal, &package, request)
            .await?;
        hook.after_version(&txn, &package, &version).await?;
        packages::update(&txn, package.clone()).await?;
        txn.commit().await?;
        drop(_write);
        Ok((
            self.view(&owner, &package).await?,
            VersionView::from(&version),
        ))
    }

    pub(crate) async fn create_package(
        &self,
        txn: &DatabaseTransaction,
        principal: &Principal,
        owner: &account::Model,
        repository: Option<&entrepot_store::entity::repository::Model>,
        request: &PublishRequest,
    ) -> Result<package::Model> {
        let key = &request.key;
        let user = principal.user().map(|user| user.id.0);
        // The repository the new package would live in (repository-scoped) or be linked to (granular): for a
        // workflow token its own repository, else the one the package's metadata names, if it is the owner's.
        let candidate = match (repository, principal) {
            (Some(repo), _) => Some(repo.clone()),
            (None, Principal::Workflow(workflow)) => {
                repos::by_id(self.db(), workflow.repo.0).await?
            }
            (None, _) => match request
                .repository_url
                .as_deref()
                .and_then(|url| parse_repository_url(url, self.inner.base_url.as_deref()))
            {
                Some(named) if named.owner.eq_ignore_ascii_case(&owner.login) => {
                    repos::by_name(self.db(), owner.id, &named.name).await?
                }
                Some(named) if key.package_type == PackageType::Nuget => {
                    return Err(ServiceError::Invalid(format!(
                        "the package's repository {}/{} belongs to another owner than {}",
                        named.owner, named.name, owner.login
                    )));
                }
                _ => None,
            },
        };
        let repo_facts = match &candidate {
            Some(repo) => Some(facts::repo(self.db(), repo, user).await?),
            None => None,
        };
        let create_facts = CreateFacts {
            package_type: key.package_type,
            owner: facts::owner(self.db(), owner, user).await?,
            repository: repo_facts,
            visibility: request.visibility.unwrap_or(Visibility::Private),
        };
        authorize_create(&self.inner.policy, principal, &create_facts).into_result()?;
        let plan = plan_creation(&self.inner.policy, principal, &create_facts);
        let package = packages::insert(
            txn,
            packages::NewPackage {
                owner_id: owner.id,
                package_type: key.package_type.as_str(),
                name: &key.name,
                visibility: plan.visibility.as_str(),
                repository_id: plan.link.map(|repo| repo.0),
                inherit_access: plan.inherit_access,
            },
        )
        .await?;
        // The operator has no account to hold a grant; as a site admin it needs none.
        if let Some(AccountId(admin)) = plan
            .publisher_admin
            .filter(|id| *id != crate::accounts::OPERATOR)
        {
            grants::grant_user(txn, package.id, admin, Role::Admin.as_str()).await?;
        }
        if let Some(repo) = plan.actions_admin {
            grants::set_actions_access(txn, package.id, repo.0, Role::Admin.as_str()).await?;
        }
        Ok(package)
    }

    pub(crate) async fn write_version(
        &self,
        txn: &DatabaseTransaction,
        principal: &Principal,
        package: &package::Model,
        request: &PublishRequest,
    ) -> Result<package_version::Model> {
        let version = match packages::find_live_version(txn, package.id, &request.version).await? {
            Some(_) if request.existing_version == ExistingVersion::Conflict => {
                return Err(ServiceError::Conflict(format!(
                    "{}@{} already exists; versions are immutable",
                    request.key.name, request.version
                )));
            }
            Some(version) => version,
            None => {
                let reserved = packages::versions(txn, package.id, true)
                    .await?
                    .into_iter()
                    .any(|v| v.version == request.version);
                if reserved && package.visibility == Visibility::Public.as_str() {
                    return Err(ServiceError::Conflict(format!(
                        "{}@{} was deleted and stays reserved; restore it instead",
                        request.key.name, request.version
                    )));
                }
                packages::insert_version(
                    txn,
                    packages::NewVersion {
                        package_id: package.id,
                        version: &request.version,
                        metadata: request.metadata.clone(),
                        publisher_id: crate::accounts::acting_account(principal),
                    },
                )
                .await?
            }
        };
        for file in &request.files {
            let info = &file.blob.info;
            let blob = blobs::ensure(txn, &info.sha256, info.sha512.as_deref(), info.size).await?;
            match packages::file(txn, version.id, &file.name).await? {
                Some(existing) if existing.blob_id == blob.id => {}
                Some(existing) if file.mutable => {
                    packages::replace_file_blob(txn, existing.id, &blob).await?
                }
                Some(_) => {
                    return Err(ServiceError::Conflict(format!(
                        "{} of {}@{} exists with other content and cannot be replaced",
                        file.name, request.key.name, request.version
                    )));
                }
                None => {
                    packages::insert_file(
                        txn,
                        version.id,
                        &file.name,
                        &blob,
                        file.content_type.as_deref(),
                    )
                    .await?;
                }
            }
        }
        Ok(version)
    }

    /// Soft-deletes a version; restorable within the restore window.
    pub async fn delete_version(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
    ) -> Result<()> {
        let Some((owner, package)) = self.lookup(key).await? else {
            return Err(self.missing(principal, key.package_type));
        };
        let row = packages::find_live_version(self.db(), package.id, version).await?;
        // Facts first: whether the version exists is only revealed to those who may read the package.
        let downloads = row
            .as_ref()
            .map(|v| self.version_downloads(v.id, v.downloads) as u64)
            .unwrap_or(0);
        let pkg_facts = self
            .package_facts(principal, &owner, &package, downloads)
            .await?;
        authorize(&self.inner.policy, principal, Operation::Read, &pkg_facts).into_result()?;
        let row = row.ok_or_else(|| ServiceError::NotFound(format!("version {version}")))?;
        authorize(&self.inner.policy, principal, Operation::Delete, &pkg_facts).into_result()?;
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        packages::set_version_deleted(&txn, row.id, Some(self.now())).await?;
        self.versions_changed(&txn, &package).await?;
        txn.commit().await?;
        drop(_write);
        self.audit_package(
            principal,
            "package_version.delete",
            &owner,
            &package,
            Some(version),
        )
        .await;
        Ok(())
    }

    /// Restores the most recently deleted version of that name, if within the restore window and not reused.
    pub async fn restore_version(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
    ) -> Result<VersionView> {
        let resolved = self.resolve(principal, key, Operation::Restore).await?;
        let row = packages::versions(self.db(), resolved.package.id, true)
            .await?
            .into_iter()
            .filter(|v| v.version == version)
            .max_by_key(|v| v.deleted_at)
            .ok_or_else(|| ServiceError::NotFound(format!("deleted version {version}")))?;
        self.within_restore_window(row.deleted_at)?;
        if packages::find_live_version(self.db(), resolved.package.id, version)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "version {version} was published again since; it cannot be restored"
            )));
        }
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        packages::set_version_deleted(&txn, row.id, None).await?;
        self.versions_changed(&txn, &resolved.package).await?;
        txn.commit().await?;
        drop(_write);
        self.audit_package(
            principal,
            "package_version.restore",
            &resolved.owner,
            &resolved.package,
            Some(version),
        )
        .await;
        Ok(VersionView::from(&package_version::Model {
            deleted_at: None,
            ..row
        }))
    }

    /// Soft-deletes a package with all its versions.
    pub async fn delete_package(&self, principal: &Principal, key: &PackageKey) -> Result<()> {
        let resolved = self.resolve(principal, key, Operation::Delete).await?;
        let _write = self.write_guard().await;
        packages::set_deleted(self.db(), resolved.package.id, Some(self.now())).await?;
        drop(_write);
        self.audit_package(
            principal,
            "package.delete",
            &resolved.owner,
            &resolved.package,
            None,
        )
        .await;
        Ok(())
    }

    /// Restores the most recently deleted package of that name, unless the name was reused meanwhile.
    pub async fn restore_package(
        &self,
        principal: &Principal,
        key: &PackageKey,
    ) -> Result<PackageView> {
        let owner = accounts::by_login(self.db(), &key.owner)
            .await?
            .ok_or_else(|| self.missing(principal, key.package_type))?;
        let candidates =
            packages::find_deleted(self.db(), owner.id, key.package_type.as_str(), &key.name)
                .await?;
        let package = candidates
            .into_iter()
            .next()
            .ok_or_else(|| self.missing(principal, key.package_type))?;
        let pkg_facts = self.package_facts(principal, &owner, &package, 0).await?;
        authorize(
            &self.inner.policy,
            principal,
            Operation::Restore,
            &pkg_facts,
        )
        .into_result()?;
        self.within_restore_window(package.deleted_at)?;
        if packages::find_live(self.db(), owner.id, key.package_type.as_str(), &key.name)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "a package named {} was published since; it cannot be restored",
                key.name
            )));
        }
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        packages::set_deleted(&txn, package.id, None).await?;
        self.versions_changed(&txn, &package).await?;
        txn.commit().await?;
        drop(_write);
        let package = packages::by_id(self.db(), package.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("package".into()))?;
        self.audit_package(principal, "package.restore", &owner, &package, None)
            .await;
        self.view(&owner, &package).await
    }

    /// What a delete or restore changes beyond the rows: npm's packument revision and dist-tags, so that no
    /// replica serves a cached packument that still (or not yet) lists the version.
    async fn versions_changed(
        &self,
        txn: &DatabaseTransaction,
        package: &package::Model,
    ) -> Result<()> {
        if package.package_type == PackageType::Npm.as_str() {
            Self::npm_versions_changed(txn, package.id).await?;
        }
        Ok(())
    }

    /// Records a lifecycle or settings event on a package in its owner's audit log.
    pub(crate) async fn audit_package(
        &self,
        principal: &Principal,
        action: &str,
        owner: &account::Model,
        package: &package::Model,
        version: Option<&str>,
    ) {
        self.audit_package_with(principal, action, owner, package, version, None)
            .await
    }

    pub(crate) async fn audit_package_with(
        &self,
        principal: &Principal,
        action: &str,
        owner: &account::Model,
        package: &package::Model,
        version: Option<&str>,
        details: Option<serde_json::Value>,
    ) {
        let mut target = format!("{}/{}/{}", owner.login, package.package_type, package.name);
        if let Some(version) = version {
            target = format!("{target}@{version}");
        }
        self.audit(principal, action, Some(owner.id), target, details)
            .await;
    }

    fn within_restore_window(&self, deleted_at: Option<chrono::DateTime<Utc>>) -> Result<()> {
        let window = chrono::Duration::from_std(self.inner.restore_window)
            .unwrap_or(chrono::Duration::days(30));
        match deleted_at {
            Some(at) if self.now() - at <= window => Ok(()),
            _ => Err(ServiceError::NotFound(
                "a deleted item within the restore window".into(),
            )),
        }
    }

    /// Loads a package for a settings change: `Manage` must be allowed.
    async fn managed(
        &self,
        principal: &Principal,
        key: &PackageKey,
    ) -> Result<(Resolved, PackageFacts)> {
        let resolved = self.resolve(principal, key, Operation::Manage).await?;
        let pkg_facts = self
            .package_facts(principal, &resolved.owner, &resolved.package, 0)
            .await?;
        Ok((resolved, pkg_facts))
    }

    pub async fn set_package_visibility(
        &self,
        principal: &Principal,
        key: &PackageKey,
        visibility: Visibility,
    ) -> Result<PackageView> {
        let (resolved, pkg_facts) = self.managed(principal, key).await?;
        validate_visibility_change(&self.inner.policy, &pkg_facts, visibility)
            .map_err(|f| ServiceError::Denied(f.into()))?;
        let _write = self.write_guard().await;
        let package = packages::update(
            self.db(),
            package::Model {
                visibility: visibility.as_str().to_owned(),
                ..resolved.package
            },
        )
        .await?;
        drop(_write);
        self.audit_package_with(
            principal,
            "package.visibility_change",
            &resolved.owner,
            &package,
            None,
            Some(serde_json::json!({ "visibility": visibility.as_str() })),
        )
        .await;
        self.view(&resolved.owner, &package).await
    }

    /// Grants a role on a package to a user or a team of the owning org.
    pub async fn grant(
        &self,
        principal: &Principal,
        key: &PackageKey,
        grantee: &GranteeRef,
        role: Role,
    ) -> Result<()> {
        let (resolved, pkg_facts) = self.managed(principal, key).await?;
        let _write = self.write_guard().await;
        match grantee {
            GranteeRef::User(login) => {
                let user = self.user_by_login(login).await?;
                let org_member = orgs::membership(self.db(), resolved.owner.id, user.id)
                    .await?
                    .is_some();
                validate_grant(&self.inner.policy, &pkg_facts, Grantee::User { org_member })
                    .map_err(|f| ServiceError::Denied(f.into()))?;
                grants::grant_user(self.db(), resolved.package.id, user.id, role.as_str()).await?;
            }
            GranteeRef::Team(slug) => {
                let team = orgs::team(self.db(), resolved.owner.id, slug)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("team {slug}")))?;
                validate_grant(
                    &self.inner.policy,
                    &pkg_facts,
                    Grantee::Team {
                        owner: AccountId(team.org_id),
                    },
                )
                .map_err(|f| ServiceError::Denied(f.into()))?;
                grants::grant_team(self.db(), resolved.package.id, team.id, role.as_str()).await?;
            }
        }
        drop(_write);
        self.audit_package_with(
            principal,
            "package.access_grant",
            &resolved.owner,
            &resolved.package,
            None,
            Some(grantee_details(grantee, Some(role))),
        )
        .await;
        Ok(())
    }

    pub async fn revoke(
        &self,
        principal: &Principal,
        key: &PackageKey,
        grantee: &GranteeRef,
    ) -> Result<()> {
        let (resolved, _) = self.managed(principal, key).await?;
        let _write = self.write_guard().await;
        let removed = match grantee {
            GranteeRef::User(login) => {
                grants::revoke_user(
                    self.db(),
                    resolved.package.id,
                    self.user_by_login(login).await?.id,
                )
                .await?
            }
            GranteeRef::Team(slug) => match orgs::team(self.db(), resolved.owner.id, slug).await? {
                Some(team) => grants::revoke_team(self.db(), resolved.package.id, team.id).await?,
                None => false,
            },
        };
        drop(_write);
        if !removed {
            return Err(ServiceError::NotFound("grant".into()));
        }
        self.audit_package_with(
            principal,
            "package.access_revoke",
            &resolved.owner,
            &resolved.package,
            None,
            Some(grantee_details(grantee, None)),
        )
        .await;
        Ok(())
    }

    /// Gives a repository of the package's owner Actions access with `role`.
    pub async fn set_actions_access(
        &self,
        principal: &Principal,
        key: &PackageKey,
        repository: &str,
        role: Role,
    ) -> Result<()> {
        let (resolved, pkg_facts) = self.managed(principal, key).await?;
        let repo = repos::by_name(self.db(), resolved.owner.id, repository)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("repository {repository}")))?;
        validate_grant(
            &self.inner.policy,
            &pkg_facts,
            Grantee::Repository {
                owner: AccountId(repo.owner_id),
            },
        )
        .map_err(|f| ServiceError::Denied(f.into()))?;
        let _write = self.write_guard().await;
        grants::set_actions_access(self.db(), resolved.package.id, repo.id, role.as_str()).await?;
        drop(_write);
        self.audit_package_with(
            principal,
            "package.actions_access_grant",
            &resolved.owner,
            &resolved.package,
            None,
            Some(serde_json::json!({ "repository": repo.name, "role": role.as_str() })),
        )
        .await;
        Ok(())
    }

    pub async fn remove_actions_access(
        &self,
        principal: &Principal,
        key: &PackageKey,
        repository: &str,
    ) -> Result<()> {
        let (resolved, _) = self.managed(principal, key).await?;
        let repo = repos::by_name(self.db(), resolved.owner.id, repository)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("repository {repository}")))?;
        let _write = self.write_guard().await;
        if !grants::remove_actions_access(self.db(), resolved.package.id, repo.id).await? {
            return Err(ServiceError::NotFound("Actions access".into()));
        }
        drop(_write);
        self.audit_package_with(
            principal,
            "package.actions_access_revoke",
            &resolved.owner,
            &resolved.package,
            None,
            Some(serde_json::json!({ "repository": repo.name })),
        )
        .await;
        Ok(())
    }

    /// Links a granular package to a repository of its owner (or unlinks it with `None`). Linking does not turn
    /// inheritance on; unlinking turns it off, which clears the access list.
    pub async fn link(
        &self,
        principal: &Principal,
        key: &PackageKey,
        repository: Option<&str>,
    ) -> Result<PackageView> {
        let (resolved, pkg_facts) = self.managed(principal, key).await?;
        if self.scoping(pkg_facts.package_type) == ScopingModel::Repository {
            return Err(ServiceError::Denied(
                entrepot_authz::Forbidden::RepositoryScoped.into(),
            ));
        }
        let repository_id = match repository {
            Some(name) => Some(
                repos::by_name(self.db(), resolved.owner.id, name)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("repository {name}")))?
                    .id,
            ),
            None => None,
        };
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        let mut package = resolved.package;
        if repository_id.is_none() && package.inherit_access {
            grants::clear(&txn, package.id).await?;
            package.inherit_access = false;
        }
        package.repository_id = repository_id;
        let package = packages::update(&txn, package).await?;
        txn.commit().await?;
        drop(_write);
        let action = if repository.is_some() {
            "package.link"
        } else {
            "package.unlink"
        };
        self.audit_package_with(
            principal,
            action,
            &resolved.owner,
            &package,
            None,
            Some(serde_json::json!({ "repository": repository })),
        )
        .await;
        self.view(&resolved.owner, &package).await
    }

    /// Turns inheriting the linked repository's access on or off; either way the user/team access list is cleared.
    pub async fn set_inheritance(
        &self,
        principal: &Principal,
        key: &PackageKey,
        inherit: bool,
    ) -> Result<PackageView> {
        let (resolved, pkg_facts) = self.managed(principal, key).await?;
        if self.scoping(pkg_facts.package_type) == ScopingModel::Repository {
            return Err(ServiceError::Denied(
                entrepot_authz::Forbidden::RepositoryScoped.into(),
            ));
        }
        if inherit && resolved.package.repository_id.is_none() {
            return Err(ServiceError::Invalid(
                "link the package to a repository before inheriting its access".into(),
            ));
        }
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        grants::clear(&txn, resolved.package.id).await?;
        let package = packages::update(
            &txn,
            package::Model {
                inherit_access: inherit,
                ..resolved.package
            },
        )
        .await?;
        txn.commit().await?;
        drop(_write);
        self.audit_package_with(
            principal,
            "package.inheritance_change",
            &resolved.owner,
            &package,
            None,
            Some(serde_json::json!({ "inherit_access": inherit })),
        )
        .await;
        self.view(&resolved.owner, &package).await
    }
}

fn grantee_details(grantee: &GranteeRef, role: Option<Role>) -> serde_json::Value {
    let (kind, name) = match grantee {
        GranteeRef::User(login) => ("user", login),
        GranteeRef::Team(slug) => ("team", slug),
    };
    serde_json::json!({ kind: name, "role": role.map(Role::as_str) })
}
