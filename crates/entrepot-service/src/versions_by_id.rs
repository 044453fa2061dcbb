//! Versions named by their stable id (the row id), as GitHub's packages API names them; each call resolves the
//! id to its version string within the package and goes through the same decisions as by name.

use entrepot_authz::{Operation, Principal};
use entrepot_store::entity::package_version;
use entrepot_store::packages;

use crate::packages::PackageKey;
use crate::views::VersionView;
use crate::{Result, ServiceError, Services};

impl Services {
    /// The version row `id` of the live package `key`, without any access decision: callers decide first or
    /// hand the version string to a function that does.
    async fn version_row(
        &self,
        key: &PackageKey,
        id: i64,
    ) -> Result<Option<package_version::Model>> {
        let Some((_, package)) = self.lookup(key).await? else {
            return Ok(None);
        };
        Ok(packages::version_by_id(self.db(), id)
            .await?
            .filter(|row| row.package_id == package.id))
    }

    fn no_version(id: i64) -> ServiceError {
        ServiceError::NotFound(format!("version {id}"))
    }

    /// A version by id: a live one for whoever may read the package, a deleted one for whoever may restore it.
    pub async fn version_by_id(
        &self,
        principal: &Principal,
        key: &PackageKey,
        id: i64,
    ) -> Result<VersionView> {
        self.resolve(principal, key, Operation::Read).await?;
        let row = self
            .version_row(key, id)
            .await?
            .ok_or_else(|| Self::no_version(id))?;
        if row.deleted_at.is_some() {
            self.resolve(principal, key, Operation::Restore).await?;
        }
        Ok(self.version_view(&row))
    }

    /// Soft-deletes the live version `id` (see [`Services::delete_version`]).
    pub async fn delete_version_by_id(
        &self,
        principal: &Principal,
        key: &PackageKey,
        id: i64,
    ) -> Result<()> {
        match self.version_row(key, id).await? {
            Some(row) if row.deleted_at.is_none() => {
                self.delete_version(principal, key, &row.version).await
            }
            // Whether the id exists is only revealed to those who may read the package.
            _ => {
                self.resolve(principal, key, Operation::Read).await?;
                Err(Self::no_version(id))
            }
        }
    }

    /// Restores the deleted version `id` (see [`Services::restore_version`]: the most recently deleted version
    /// of that name comes back, which is this one unless the same version was published and deleted again).
    pub async fn restore_version_by_id(
        &self,
        principal: &Principal,
        key: &PackageKey,
        id: i64,
    ) -> Result<VersionView> {
        match self.version_row(key, id).await? {
            Some(row) if row.deleted_at.is_some() => {
                self.restore_version(principal, key, &row.version).await
            }
            _ => {
                self.resolve(principal, key, Operation::Restore).await?;
                Err(Self::no_version(id))
            }
        }
    }
}
