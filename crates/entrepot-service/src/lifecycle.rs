//! The package lifecycle beyond delete and restore: the purge of what is past the restore window, the blob
//! collector, and repository transfer.
//!
//! **Collection invariant** (ARCHITECTURE.md, "Purge and blob collection"): a blob's bytes are removed only
//! together with its row, under the exclusive side of the blob lock, and only when no package file and no
//! container image link references the row and no writer touched it within `blob_grace`. Every writer that is
//! about to record bytes touches their row under the shared side of that lock and then checks that the bytes are
//! there. So either the writer's touch comes first (the collector then sees a fresh row and spares it), or the
//! removal does (the writer then finds no bytes and fails with a retryable error instead of recording nothing).

use std::time::Duration;

use entrepot_authz::{
    AccountId, AdminFacts, AdminOp, PackageType, Principal, ScopingModel, authorize_admin,
};
use entrepot_store::entity::package;
use entrepot_store::{TransactionTrait, accounts, facts, grants, lifecycle, packages};

use crate::views::RepositoryView;
use crate::{Result, ServiceError, Services};

/// How many rows one pass of the purge or the collector loads at a time.
const BATCH: u64 = 200;
/// The lease's name in `lifecycle_leases`.
const PURGE_LEASE: &str = "purge";

/// What one purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub versions: u64,
    pub packages: u64,
    pub gc: GcReport,
}

/// What one collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    pub blobs: u64,
    pub bytes: u64,
}

impl Services {
    fn cutoff(&self, age: Duration) -> chrono::DateTime<chrono::Utc> {
        self.now() - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::days(36_500))
    }

    /// One round of the background job if this replica holds (or takes) the purge lease, `None` when another
    /// replica does. `holder` names this replica; the lease outlives `lease_for` only if renewed.
    pub async fn lifecycle_tick(
        &self,
        holder: &str,
        lease_for: Duration,
    ) -> Result<Option<PurgeReport>> {
        let now = self.now();
        let until =
            now + chrono::Duration::from_std(lease_for).unwrap_or(chrono::Duration::hours(1));
        let taken = {
            let _write = self.write_guard().await;
            lifecycle::acquire_lease(self.db(), PURGE_LEASE, holder, now, until).await?
        };
        if !taken {
            return Ok(None);
        }
        let report = self.purge().await;
        let _write = self.write_guard().await;
        lifecycle::release_lease(self.db(), PURGE_LEASE, holder).await?;
        report.map(Some)
    }

    /// Purges the versions and packages deleted longer ago than the restore window, then collects the blobs
    /// nothing references any more.
    pub async fn purge(&self) -> Result<PurgeReport> {
        let cutoff = self.cutoff(self.inner.restore_window);
        let operator = Services::operator();
        let mut report = PurgeReport::default();
        loop {
            let expired = lifecycle::expired_versions(self.db(), cutoff, BATCH).await?;
            for version in &expired {
                {
                    let _write = self.write_guard().await;
                    lifecycle::purge_version(self.db(), version.id).await?;
                }
                report.versions += 1;
                if let Some(package) = packages::by_id(self.db(), version.package_id).await? {
                    self.audit_purge(&operator, &package, Some(&version.version))
                        .await;
                }
            }
            if (expired.len() as u64) < BATCH {
                break;
            }
        }
        loop {
            let expired = lifecycle::expired_packages(self.db(), cutoff, BATCH).await?;
            for package in &expired {
                {
                    let _write = self.write_guard().await;
                    let txn = self.db().begin().await?;
                    lifecycle::purge_package(&txn, package).await?;
                    txn.commit().await?;
                }
                report.packages += 1;
                self.audit_purge(&operator, package, None).await;
            }
            if (expired.len() as u64) < BATCH {
                break;
            }
        }
        report.gc = self.collect_garbage().await?;
        if report != PurgeReport::default() {
            tracing::info!(?report, "purged deleted packages and unreferenced blobs");
        }
        Ok(report)
    }

    async fn audit_purge(
        &self,
        operator: &Principal,
        package: &package::Model,
        version: Option<&str>,
    ) {
        let Ok(Some(owner)) = accounts::by_id(self.db(), package.owner_id).await else {
            return;
        };
        let action = if version.is_some() {
            "package_version.purge"
        } else {
            "package.purge"
        };
        self.audit_package(operator, action, &owner, package, version)
            .await;
    }

    /// Removes the blobs (rows and bytes) that no package file or image link references and nobody touched
    /// within the grace period.
    pub async fn collect_garbage(&self) -> Result<GcReport> {
        let cutoff = self.cutoff(self.inner.blob_grace);
        let mut report = GcReport::default();
        let mut after = 0;
        loop {
            let candidates = lifecycle::collectable_blobs(self.db(), cutoff, after, BATCH).await?;
            for blob in &candidates {
                after = blob.id;
                // A request of this process holding the bytes staged is about to record them.
                if self.inner.staging.holders(&blob.sha256) > 0 {
                    continue;
                }
                if self
                    .remove_blob_if_unreferenced(&blob.sha256, Some(cutoff))
                    .await?
                {
                    report.blobs += 1;
                    report.bytes += blob.size.max(0) as u64;
                }
            }
            if (candidates.len() as u64) < BATCH {
                return Ok(report);
            }
        }
    }

    /// Transfers a repository to `new_owner` (permissions.md §5): granular packages linked to it keep their owner,
    /// lose the link and stop inheriting; Actions access of the repository is removed; repository-scoped packages
    /// move with it. Needs admin on the repository and the right to create repositories in the target.
    pub async fn transfer_repository(
        &self,
        principal: &Principal,
        owner: &str,
        name: &str,
        new_owner: &str,
    ) -> Result<RepositoryView> {
        let (repo, _) = self
            .repo_for(principal, owner, name, AdminOp::ManageRepo)
            .await?;
        let old_owner = self.account_row(owner).await?;
        let target = self.account_row(new_owner).await?;
        let admin_facts = if target.kind == accounts::KIND_ORG {
            AdminFacts {
                org: Some(
                    facts::org(self.db(), target.id, principal.user().map(|u| u.id.0)).await?,
                ),
                ..AdminFacts::default()
            }
        } else {
            AdminFacts {
                target_user: Some(AccountId(target.id)),
                ..AdminFacts::default()
            }
        };
        authorize_admin(principal, AdminOp::CreateRepo, &admin_facts).into_result()?;
        if target.id == repo.owner_id {
            return Err(ServiceError::Invalid(format!(
                "{owner}/{name} already belongs to {new_owner}"
            )));
        }
        if repo.visibility == "internal" && target.kind != accounts::KIND_ORG {
            return Err(ServiceError::Invalid(
                "an internal repository can only move to an organization".into(),
            ));
        }
        let mut moved = Vec::new();
        let mut unlinked = Vec::new();
        {
            let _write = self.write_guard().await;
            let txn = self.db().begin().await?;
            lifecycle::transfer_repository(&txn, &repo, target.id).await?;
            for package in lifecycle::packages_of_repository(&txn, repo.id).await? {
                let scoping = package
                    .package_type
                    .parse::<PackageType>()
                    .map(|t| self.inner.policy.scoping(t))
                    .unwrap_or(ScopingModel::Granular);
                match scoping {
                    ScopingModel::Repository => {
                        lifecycle::move_package(&txn, &package, target.id).await?;
                        moved.push(package.name.clone());
                    }
                    ScopingModel::Granular => {
                        if package.inherit_access {
                            // Inherited access was the repository's; nothing of it stays.
                            grants::clear(&txn, package.id).await?;
                        }
                        unlinked.push(package.name.clone());
                        packages::update(
                            &txn,
                            package::Model {
                                repository_id: None,
                                inherit_access: false,
                                ..package
                            },
                        )
                        .await?;
                    }
                }
            }
            txn.commit().await?;
        }
        let details = serde_json::json!({
            "from": old_owner.login,
            "to": target.login,
            "moved_packages": moved,
            "unlinked_packages": unlinked,
        });
        let target_name = format!("{}/{}", old_owner.login, repo.name);
        self.audit(
            principal,
            "repo.transfer",
            Some(old_owner.id),
            target_name.clone(),
            Some(details.clone()),
        )
        .await;
        self.audit(
            principal,
            "repo.transfer",
            Some(target.id),
            target_name,
            Some(details),
        )
        .await;
        let row = entrepot_store::repos::by_id(self.db(), repo.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("repository {name}")))?;
        Ok(RepositoryView::new(&row, &target.login))
    }
}
