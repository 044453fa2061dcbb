//! Repository-scoped, file-by-file deploys (the Maven layout, which Gradle shares) and the checksums served beside
//! every stored file.
//!
//! A Maven client uploads a version one file at a time (`.pom`, `.jar`, classifiers, `.module`), each followed by
//! its `.sha1` and `.md5`. Each file is streamed to the blob store and added to its version in one transaction
//! (`ExistingVersion::AddFiles`); release files are immutable, SNAPSHOT files may be replaced. Only the sha256 (the
//! blob store's key) is computed while the upload streams, so that a deploy runs at the blob store's speed; md5,
//! sha1 and sha512 are computed in one pass over the stored blob the first time a client asks for or uploads one
//! (Maven uploads the `.sha1` and `.md5` right after the file, while it is still in the page cache), and kept.
//! Hashing the sha1 during the upload as well would only compute it twice: that pass computes it anyway.
//!
//! Like every service function, each one here asks the permission core before acting; the protocol (paths,
//! metadata rendering, POM and module validation) is the front-end's and its pure crates' business.

use bytes::Bytes;
use entrepot_authz::{CreateFacts, Operation, Principal, Visibility, authorize_create};
use entrepot_blob::{ByteStream, PutOptions};
use entrepot_store::entity::{blob, package_file};
use entrepot_store::{accounts, blobs, facts, maven, packages, repos};
use futures_util::StreamExt;
use md5::Digest as _;

use crate::packages::{ExistingVersion, NewFile, PackageKey, PublishRequest};
use crate::views::FileView;
use crate::{Result, ServiceError, Services};

/// A checksum algorithm of the side files a registry serves next to each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl ChecksumAlgorithm {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }
}

/// One file deployed into a version of a repository-scoped package.
#[derive(Debug, Clone)]
pub struct FileDeploy {
    /// The package, with the repository it is deployed into (`PackageKey::in_repository`).
    pub key: PackageKey,
    pub version: String,
    pub file_name: String,
    pub content_type: Option<String>,
    /// Whether a later deploy may replace the file with other bytes (SNAPSHOT files); release files are immutable.
    pub mutable: bool,
    /// The exact size, when the client announced it (`Content-Length`).
    pub size: Option<u64>,
    /// Facts about the version read from this file (a POM's, a Gradle module's), merged into the version's
    /// metadata object key by key.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// How many chunks of a stored blob the checksum thread may lag behind its reader.
const HASH_QUEUE: usize = 32;

impl Services {
    /// Whether the principal may deploy into the package (`Write`), or create it in its repository if it does not
    /// exist yet; for front-ends that decide before reading a body.
    pub async fn authorize_deploy(&self, principal: &Principal, key: &PackageKey) -> Result<()> {
        if self.lookup(key).await?.is_some() {
            return self.check(principal, key, Operation::Write).await;
        }
        let Some(owner) = accounts::by_login(self.db(), &key.owner).await? else {
            return Err(self.missing(principal, key.package_type));
        };
        let repository = match &key.repository {
            Some(name) => repos::by_name(self.db(), owner.id, name).await?,
            None => None,
        };
        let Some(repository) = repository else {
            return Err(self.missing(principal, key.package_type));
        };
        let user = principal.user().map(|user| user.id.0);
        let create_facts = CreateFacts {
            package_type: key.package_type,
            owner: facts::owner(self.db(), &owner, user).await?,
            repository: Some(facts::repo(self.db(), &repository, user).await?),
            visibility: Visibility::Private,
        };
        Ok(authorize_create(self.policy(), principal, &create_facts).into_result()?)
    }

    /// Streams one file into the blob store and adds it to its version (creating the package and the version as
    /// needed), in one transaction; returns the stored file.
    pub async fn deploy_file(
        &self,
        principal: &Principal,
        deploy: FileDeploy,
        body: ByteStream,
    ) -> Result<FileView> {
        self.authorize_deploy(principal, &deploy.key).await?;
        let mut options = PutOptions::new();
        if let Some(size) = deploy.size {
            options = options.expect_size(size);
        }
        let staged = self.stage_blob(body, options).await?;
        let request = PublishRequest {
            key: deploy.key.clone(),
            version: deploy.version.clone(),
            metadata: serde_json::Value::Object(deploy.metadata.clone().unwrap_or_default()),
            files: vec![NewFile {
                name: deploy.file_name.clone(),
                blob: staged,
                content_type: deploy.content_type.clone(),
                mutable: deploy.mutable,
            }],
            repository_url: None,
            visibility: None,
            existing_version: ExistingVersion::AddFiles,
        };
        let (package, version) = self.publish(principal, request).await?;
        if let Some(facts) = deploy.metadata.filter(|facts| !facts.is_empty()) {
            let mut metadata = match version.metadata {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            if facts.iter().any(|(k, v)| metadata.get(k) != Some(v)) {
                metadata.extend(facts);
                let _write = self.write_guard().await;
                packages::update_version_metadata(
                    self.db(),
                    version.id,
                    serde_json::Value::Object(metadata),
                )
                .await?;
            }
        }
        let row = packages::file(self.db(), version.id, &deploy.file_name)
            .await?
            .ok_or_else(|| {
                ServiceError::Internal(format!(
                    "file {} of package {} vanished after its deploy",
                    deploy.file_name, package.id
                ))
            })?;
        let blob = self.file_blob(&row).await?;
        Ok(FileView::new(&row, blob.sha256, blob.sha512))
    }

    /// The hex checksum of a stored file, computed from its bytes and kept the first time it is asked for.
    pub async fn file_checksum(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
        file_name: &str,
        algorithm: ChecksumAlgorithm,
    ) -> Result<String> {
        let read = self.readable(principal, key).await?;
        let files = self.version_files(read.package.id, version).await?;
        let (_, blob) = files
            .file(file_name)
            .ok_or_else(|| ServiceError::NotFound(format!("file {file_name}")))?;
        self.blob_checksum(blob, algorithm).await
    }

    /// Checks a checksum a client uploaded for a file it deployed (needs `Write`). A mismatch means the file was
    /// damaged on its way: the file is removed from its version, so that the client can deploy it again, and the
    /// checksum is refused.
    pub async fn verify_file_checksum(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
        file_name: &str,
        algorithm: ChecksumAlgorithm,
        claimed: &str,
    ) -> Result<()> {
        let (row, blob) = self
            .version_file(principal, key, version, file_name, Operation::Write)
            .await?;
        let actual = self.blob_checksum(&blob, algorithm).await?;
        if actual.eq_ignore_ascii_case(claimed.trim()) {
            return Ok(());
        }
        {
            let _write = self.write_guard().await;
            maven::delete_file(self.db(), row.id).await?;
        }
        Err(ServiceError::Invalid(format!(
            "the uploaded {} {} does not match {file_name} as stored ({actual}); the file was removed, deploy it again",
            algorithm.name(),
            claimed.trim()
        )))
    }

    /// Resolves a file of a live version for `op`.
    async fn version_file(
        &self,
        principal: &Principal,
        key: &PackageKey,
        version: &str,
        file_name: &str,
        op: Operation,
    ) -> Result<(package_file::Model, blob::Model)> {
        let resolved = self.resolve(principal, key, op).await?;
        let version = self.live_version(&resolved, version).await?;
        let row = packages::file(self.db(), version.id, file_name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("file {file_name}")))?;
        let blob = self.file_blob(&row).await?;
        Ok((row, blob))
    }

    async fn file_blob(&self, row: &package_file::Model) -> Result<blob::Model> {
        blobs::by_id(self.db(), row.blob_id)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("file {} has no blob", row.id)))
    }

    async fn blob_checksum(
        &self,
        blob: &blob::Model,
        algorithm: ChecksumAlgorithm,
    ) -> Result<String> {
        let cache = &self.inner.read_cache;
        if let Some(hex) = cache.get_checksum(&blob.sha256, algorithm) {
            return Ok(hex.to_string());
        }
        let hex = self.stored_checksum(blob, algorithm).await?;
        cache.put_checksum(&blob.sha256, algorithm, &hex);
        Ok(hex)
    }

    async fn stored_checksum(
        &self,
        blob: &blob::Model,
        algorithm: ChecksumAlgorithm,
    ) -> Result<String> {
        let known = match algorithm {
            ChecksumAlgorithm::Sha256 => return Ok(blob.sha256.clone()),
            ChecksumAlgorithm::Sha512 => blob.sha512.clone(),
            ChecksumAlgorithm::Md5 | ChecksumAlgorithm::Sha1 => {
                let row = maven::checksums(self.db(), &blob.sha256).await?;
                row.and_then(|row| match algorithm {
                    ChecksumAlgorithm::Md5 => row.md5,
                    _ => row.sha1,
                })
            }
        };
        if let Some(known) = known {
            return Ok(known);
        }
        let computed = self.compute_checksums(&blob.sha256).await?;
        let _write = self.write_guard().await;
        maven::record_checksums(
            self.db(),
            &blob.sha256,
            Some(&computed.md5),
            Some(&computed.sha1),
        )
        .await?;
        blobs::ensure(
            self.db(),
            &blob.sha256,
            Some(&computed.sha512),
            blob.size.max(0) as u64,
        )
        .await?;
        Ok(match algorithm {
            ChecksumAlgorithm::Md5 => computed.md5,
            ChecksumAlgorithm::Sha1 => computed.sha1,
            ChecksumAlgorithm::Sha512 => computed.sha512,
            ChecksumAlgorithm::Sha256 => blob.sha256.clone(),
        })
    }

    /// Reads a blob once and computes every checksum the store does not keep by itself.
    async fn compute_checksums(&self, sha256: &str) -> Result<Computed> {
        let mut reader = self.blobs().open(sha256, None).await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(HASH_QUEUE);
        let hashing = tokio::task::spawn_blocking(move || {
            let mut md5 = md5::Md5::new();
            let mut sha1 = sha1::Sha1::new();
            let mut sha512 = sha2::Sha512::new();
            while let Some(chunk) = rx.blocking_recv() {
                md5.update(&chunk);
                sha1.update(&chunk);
                sha512.update(&chunk);
            }
            Computed {
                md5: hex::encode(md5.finalize()),
                sha1: hex::encode(sha1.finalize()),
                sha512: hex::encode(sha512.finalize()),
            }
        });
        while let Some(chunk) = reader.stream.next().await {
            let chunk = chunk.map_err(|error| {
                ServiceError::Internal(format!("reading blob {sha256}: {error}"))
            })?;
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
        drop(tx);
        hashing
            .await
            .map_err(|error| ServiceError::Internal(format!("the checksum task failed: {error}")))
    }
}

#[derive(Debug)]
struct Computed {
    md5: String,
    sha1: String,
    sha512: String,
}
