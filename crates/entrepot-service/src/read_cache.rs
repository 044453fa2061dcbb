//! The one short-lived memory of what registry reads load from the database, shared by every registry: the facts
//! the permission core decides a package's access from (as seen from one principal), and the rows a read serves
//! once allowed (a container tag's manifest, a version's files and their blobs, a package's live versions).
//!
//! Without it every read costs a dozen queries (owner, package, repository, memberships, grants, version, file,
//! blob) before it serves a few bytes. The decision itself is never cached: the permission core is asked on every
//! request, from facts at most [`MAX_TTL`] old, and never older than the token cache's lifetime, so
//! `token_cache_ttl = 0` turns this cache off too.
//!
//! Freshness: every write this process makes through the service layer moves an epoch (`Services::write_guard`),
//! and an entry filled under an older epoch is a miss, so a deploy, delete, restore, visibility change or grant
//! revoked on this replica is seen by its very next read. A change made by another replica or by `entrepot admin`
//! beside a running server is seen within the TTL, as for revoked tokens (docs/permissions.md, choice 22).
//! Content-addressed facts (a blob's md5 or sha1) never change and are kept, bounded, across epochs.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use entrepot_authz::{Operation, PackageFacts, PackageType, Principal, authorize};
use entrepot_blob::{BlobReader, bytes_stream};
use entrepot_store::entity::{account, blob, package, package_file, package_version};
use entrepot_store::{blobs, packages};
use futures_util::StreamExt as _;
use moka::sync::Cache;

use crate::maven::ChecksumAlgorithm;
use crate::packages::PackageKey;
use crate::views::{FileView, OpenedFile, VersionView};
use crate::{Result, ServiceError, Services};

/// Blobs up to this size are kept in memory once read: they are content-addressed, so never stale, and a file
/// this small is served faster from memory than by opening and reading it per request.
const SMALL_BLOB: u64 = 2 << 20;

/// Memory for those blobs, in bytes.
const SMALL_BLOBS_BYTES: u64 = 64 << 20;

/// The longest an entry is trusted.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(2);

/// Enough for every package a busy replica serves at once; an entry is a few hundred bytes.
const CAPACITY: u64 = 50_000;

/// A package's rows and its facts as seen from one principal.
#[derive(Debug)]
pub(crate) struct PackageRead {
    pub(crate) owner: Arc<account::Model>,
    pub(crate) package: Arc<package::Model>,
    pub(crate) facts: PackageFacts,
}

/// Who asks about which package, as the URL named it (owner and repository lower-cased: logins and repository
/// names are case-insensitive; the name as given, a case variant is at worst a second entry).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FactsKey {
    principal: Principal,
    package_type: PackageType,
    owner: Box<str>,
    name: Box<str>,
    repository: Option<Box<str>>,
}

impl FactsKey {
    pub(crate) fn new(principal: &Principal, key: &PackageKey) -> Self {
        Self {
            principal: *principal,
            package_type: key.package_type,
            owner: key.owner.to_lowercase().into_boxed_str(),
            name: key.name.as_str().into(),
            repository: key
                .repository
                .as_ref()
                .map(|name| name.to_lowercase().into_boxed_str()),
        }
    }
}

/// What a manifest reference resolved to.
#[derive(Debug)]
pub(crate) struct ResolvedManifest {
    pub(crate) version_id: i64,
    pub(crate) digest: String,
    pub(crate) media_type: String,
    pub(crate) sha256: String,
}

/// A live version with its files and their blobs.
#[derive(Debug)]
pub(crate) struct VersionFiles {
    pub(crate) version: package_version::Model,
    pub(crate) files: Vec<(package_file::Model, blob::Model)>,
}

impl VersionFiles {
    pub(crate) fn file(&self, name: &str) -> Option<&(package_file::Model, blob::Model)> {
        self.files.iter().find(|(file, _)| file.name == name)
    }
}

/// One kind of entry, each stamped with the epoch it was read under.
struct Layer<K, V> {
    cache: Option<Cache<K, (u64, Arc<V>)>>,
}

impl<K, V> Layer<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    fn new(ttl: Duration) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build()
        });
        Self { cache }
    }

    fn get(&self, key: &K, epoch: u64) -> Option<Arc<V>> {
        let (stamp, entry) = self.cache.as_ref()?.get(key)?;
        (stamp == epoch).then_some(entry)
    }

    fn put(&self, key: K, epoch: u64, entry: Arc<V>) {
        if let Some(cache) = &self.cache {
            cache.insert(key, (epoch, entry));
        }
    }

    fn forget(&self, key: &K) {
        if let Some(cache) = &self.cache {
            cache.invalidate(key);
        }
    }
}

/// (package id, tag or digest).
type ManifestKey = (i64, Box<str>);
/// (package id, version string).
type VersionKey = (i64, Box<str>);

pub(crate) struct ReadCache {
    epoch: AtomicU64,
    facts: Layer<FactsKey, PackageRead>,
    manifests: Layer<ManifestKey, ResolvedManifest>,
    versions: Layer<i64, Vec<VersionView>>,
    files: Layer<VersionKey, VersionFiles>,
    /// (sha256, algorithm) → hex; a function of the bytes, so no epoch and no TTL.
    checksums: Cache<(Box<str>, ChecksumAlgorithm), Arc<str>>,
    /// sha256 → the bytes of a small blob; likewise.
    contents: Cache<Box<str>, Bytes>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("epoch", &self.epoch.load(Ordering::Relaxed))
            .field("enabled", &self.facts.cache.is_some())
            .finish()
    }
}

impl ReadCache {
    /// A cache whose entries live `min(MAX_TTL, token_cache_ttl)`; none at all when that is zero.
    pub(crate) fn new(token_cache_ttl: Duration) -> Self {
        let ttl = MAX_TTL.min(token_cache_ttl);
        Self {
            epoch: AtomicU64::new(0),
            facts: Layer::new(ttl),
            manifests: Layer::new(ttl),
            versions: Layer::new(ttl),
            files: Layer::new(ttl),
            checksums: Cache::new(CAPACITY),
            contents: Cache::builder()
                .max_capacity(SMALL_BLOBS_BYTES)
                .weigher(|_, bytes: &Bytes| u32::try_from(bytes.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }

    /// Read before the database, so that a write landing during the read makes the entry stale at once.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Something changed in the database: forget everything that depends on rows.
    pub(crate) fn changed(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn get_facts(&self, key: &FactsKey) -> Option<Arc<PackageRead>> {
        self.facts.get(key, self.epoch())
    }

    pub(crate) fn put_facts(&self, key: FactsKey, epoch: u64, entry: Arc<PackageRead>) {
        self.facts.put(key, epoch, entry);
    }

    /// Drops one principal's entry for a package (a read found it out of date).
    pub(crate) fn forget_facts(&self, key: &FactsKey) {
        self.facts.forget(key);
    }

    pub(crate) fn get_manifest(
        &self,
        package_id: i64,
        reference: &str,
    ) -> Option<Arc<ResolvedManifest>> {
        self.manifests
            .get(&(package_id, Box::from(reference)), self.epoch())
    }

    pub(crate) fn put_manifest(
        &self,
        package_id: i64,
        reference: &str,
        epoch: u64,
        entry: Arc<ResolvedManifest>,
    ) {
        self.manifests
            .put((package_id, Box::from(reference)), epoch, entry);
    }

    pub(crate) fn get_versions(&self, package_id: i64) -> Option<Arc<Vec<VersionView>>> {
        self.versions.get(&package_id, self.epoch())
    }

    pub(crate) fn put_versions(&self, package_id: i64, epoch: u64, entry: Arc<Vec<VersionView>>) {
        self.versions.put(package_id, epoch, entry);
    }

    pub(crate) fn get_files(&self, package_id: i64, version: &str) -> Option<Arc<VersionFiles>> {
        self.files
            .get(&(package_id, Box::from(version)), self.epoch())
    }

    pub(crate) fn put_files(
        &self,
        package_id: i64,
        version: &str,
        epoch: u64,
        entry: Arc<VersionFiles>,
    ) {
        self.files
            .put((package_id, Box::from(version)), epoch, entry);
    }

    pub(crate) fn get_checksum(
        &self,
        sha256: &str,
        algorithm: ChecksumAlgorithm,
    ) -> Option<Arc<str>> {
        self.checksums.get(&(Box::from(sha256), algorithm))
    }

    pub(crate) fn put_checksum(&self, sha256: &str, algorithm: ChecksumAlgorithm, hex: &str) {
        self.checksums
            .insert((Box::from(sha256), algorithm), Arc::from(hex));
    }
}

impl Services {
    /// Opens a whole blob, small ones from memory.
    pub(crate) async fn open_blob(&self, blob: &blob::Model) -> Result<BlobReader> {
        let size = u64::try_from(blob.size).unwrap_or(0);
        if size > SMALL_BLOB {
            return Ok(self.inner.blobs.open(&blob.sha256, None).await?);
        }
        let contents = &self.inner.read_cache.contents;
        let bytes = match contents.get(blob.sha256.as_str()) {
            Some(bytes) => bytes,
            None => {
                let mut reader = self.inner.blobs.open(&blob.sha256, None).await?;
                let mut buf = BytesMut::with_capacity(usize::try_from(size).unwrap_or(0));
                while let Some(chunk) = reader.stream.next().await {
                    buf.extend_from_slice(&chunk.map_err(entrepot_blob::BlobError::Io)?);
                }
                let bytes = buf.freeze();
                if bytes.len() as u64 != size {
                    return Err(ServiceError::Internal(format!(
                        "blob {} has {} bytes, its row says {size}",
                        blob.sha256,
                        bytes.len()
                    )));
                }
                contents.insert(Box::from(blob.sha256.as_str()), bytes.clone());
                bytes
            }
        };
        Ok(BlobReader {
            size,
            range: 0..size,
            stream: bytes_stream(bytes),
        })
    }

    /// A live package's rows and the principal's facts about it, from memory or the store; `None` when the key
    /// names no live package. Not for deletes: the download guard needs current counts.
    pub(crate) async fn package_read(
        &self,
        principal: &Principal,
        key: &PackageKey,
    ) -> Result<Option<Arc<PackageRead>>> {
        let cache = &self.inner.read_cache;
        let cache_key = FactsKey::new(principal, key);
        if let Some(hit) = cache.get_facts(&cache_key) {
            return Ok(Some(hit));
        }
        let epoch = cache.epoch();
        let Some((owner, package)) = self.lookup(key).await? else {
            return Ok(None);
        };
        let facts = self.package_facts(principal, &owner, &package, 0).await?;
        let entry = Arc::new(PackageRead {
            owner: Arc::new(owner),
            package: Arc::new(package),
            facts,
        });
        cache.put_facts(cache_key, epoch, entry.clone());
        Ok(Some(entry))
    }

    /// [`Services::package_read`] for a read the core allows; a missing package is refused as the core says.
    pub(crate) async fn readable(
        &self,
        principal: &Principal,
        key: &PackageKey,
    ) -> Result<Arc<PackageRead>> {
        let Some(read) = self.package_read(principal, key).await? else {
            return Err(self.missing(principal, key.package_type));
        };
        authorize(self.policy(), principal, Operation::Read, &read.facts).into_result()?;
        Ok(read)
    }

    /// A live version of a package with its files and their blobs; the caller has decided the read.
    pub(crate) async fn version_files(
        &self,
        package_id: i64,
        version: &str,
    ) -> Result<Arc<VersionFiles>> {
        let cache = &self.inner.read_cache;
        if let Some(hit) = cache.get_files(package_id, version) {
            return Ok(hit);
        }
        let epoch = cache.epoch();
        let row = packages::find_live_version(self.db(), package_id, version)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {version}")))?;
        let mut files = Vec::new();
        for file in packages::files(self.db(), row.id).await? {
            let blob = blobs::by_id(self.db(), file.blob_id)
                .await?
                .ok_or_else(|| ServiceError::Internal(format!("file {} has no blob", file.id)))?;
            files.push((file, blob));
        }
        let entry = Arc::new(VersionFiles {
            version: row,
            files,
        });
        cache.put_files(package_id, version, epoch, entry.clone());
        Ok(entry)
    }

    /// The live versions of a package the principal may read (what a registry's version listing renders).
    pub async fn read_versions(
        &self,
        principal: &Principal,
        key: &PackageKey,
    ) -> Result<Arc<Vec<VersionView>>> {
        let read = self.readable(principal, key).await?;
        let cache = &self.inner.read_cache;
        if let Some(hit) = cache.get_versions(read.package.id) {
            return Ok(hit);
        }
        let epoch = cache.epoch();
        let versions: Vec<VersionView> = packages::versions(self.db(), read.package.id, false)
            .await?
            .iter()
            .map(VersionView::from)
            .collect();
        let versions = Arc::new(versions);
        cache.put_versions(read.package.id, epoch, versions.clone());
        Ok(versions)
    }

    /// The files of a live version of a package the principal may read.
    pub async fn read_files(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
    ) -> Result<Vec<FileView>> {
        let read = self.readable(principal, key).await?;
        let files = self.version_files(read.package.id, version).await?;
        Ok(files
            .files
            .iter()
            .map(|(file, blob)| FileView::new(file, blob.sha256.clone(), blob.sha512.clone()))
            .collect())
    }

    /// A file of a live version of a package the principal may read, without its bytes.
    pub async fn read_file(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
        file_name: &str,
    ) -> Result<FileView> {
        let read = self.readable(principal, key).await?;
        let files = self.version_files(read.package.id, version).await?;
        let (file, blob) = files
            .file(file_name)
            .ok_or_else(|| ServiceError::NotFound(format!("file {file_name}")))?;
        Ok(FileView::new(
            file,
            blob.sha256.clone(),
            blob.sha512.clone(),
        ))
    }

    /// Opens a whole file of a live version of a package the principal may read, and counts a download.
    pub async fn open_read_file(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
        file_name: &str,
    ) -> Result<OpenedFile> {
        let read = self.readable(principal, key).await?;
        let files = self.version_files(read.package.id, version).await?;
        let (file, blob) = files
            .file(file_name)
            .ok_or_else(|| ServiceError::NotFound(format!("file {file_name}")))?;
        let reader = self.open_blob(blob).await?;
        self.count_download(read.package.id, files.version.id);
        Ok(OpenedFile {
            file: FileView::new(file, blob.sha256.clone(), blob.sha512.clone()),
            reader,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved() -> Arc<ResolvedManifest> {
        Arc::new(ResolvedManifest {
            version_id: 1,
            digest: "sha256:ab".into(),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            sha256: "ab".into(),
        })
    }

    #[test]
    fn a_write_makes_every_entry_stale() {
        let cache = ReadCache::new(Duration::from_secs(30));
        let epoch = cache.epoch();
        cache.put_manifest(1, "v1", epoch, resolved());
        cache.put_versions(1, epoch, Arc::new(Vec::new()));
        assert!(cache.get_manifest(1, "v1").is_some());
        assert!(cache.get_versions(1).is_some());
        cache.changed();
        assert!(cache.get_manifest(1, "v1").is_none());
        assert!(cache.get_versions(1).is_none());
    }

    #[test]
    fn an_entry_read_before_a_write_is_stale_when_stored_after_it() {
        let cache = ReadCache::new(Duration::from_secs(30));
        let epoch = cache.epoch();
        cache.changed();
        cache.put_manifest(1, "v1", epoch, resolved());
        assert!(cache.get_manifest(1, "v1").is_none());
    }

    #[test]
    fn no_token_cache_means_no_read_cache() {
        let cache = ReadCache::new(Duration::ZERO);
        cache.put_manifest(1, "v1", cache.epoch(), resolved());
        assert!(cache.get_manifest(1, "v1").is_none());
    }

    #[test]
    fn checksums_outlive_writes() {
        let cache = ReadCache::new(Duration::from_secs(30));
        cache.put_checksum("ab", ChecksumAlgorithm::Sha1, "cd");
        cache.changed();
        assert_eq!(
            cache.get_checksum("ab", ChecksumAlgorithm::Sha1).as_deref(),
            Some("cd")
        );
        assert!(cache.get_checksum("ab", ChecksumAlgorithm::Md5).is_none());
    }

    #[test]
    fn facts_keys_ignore_the_case_of_logins_and_repositories() {
        let principal = Principal::Anonymous;
        let a = PackageKey::new("Acme", PackageType::Maven, "g:a").in_repository("Web");
        let b = PackageKey::new("acme", PackageType::Maven, "g:a").in_repository("web");
        let all = PackageKey::new("acme", PackageType::Maven, "g:a");
        assert_eq!(FactsKey::new(&principal, &a), FactsKey::new(&principal, &b));
        assert_ne!(
            FactsKey::new(&principal, &a),
            FactsKey::new(&principal, &all)
        );
    }
}
