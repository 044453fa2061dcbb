//! The container registry's operations: blobs linked to images, resumable uploads, manifests with their tags,
//! referrers, the catalog, and what the token endpoint may grant.
//!
//! An image is a package of type `container`; a version is a manifest digest (`sha256:…`) whose one file,
//! `manifest`, holds the manifest's exact bytes; tags are rows of `container_tags`, mirrored into the version's
//! metadata (`tags`) for the REST API. Layers and configs are blobs linked to the image (`container_blob_links`),
//! which exist before the package does: the package row appears with the first manifest, and until then the
//! links are reachable only by principals who may create the image.
//!
//! Every function decides access through the permission core first, like the rest of this crate.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use entrepot_authz::{
    CreateFacts, Operation, PackageType, Principal, Visibility, authorize, authorize_create,
};
use entrepot_blob::{
    BlobReader, ByteRange, ByteStream, Digest, PutOptions, UploadId, UploadOptions, bytes_stream,
};
use entrepot_store::entity::{account, blob, package};
use entrepot_store::{TransactionTrait, accounts, blobs, container, facts, packages, repos};
use futures_util::StreamExt;
use serde_json::json;

use crate::packages::{ExistingVersion, NewFile, PackageKey, PublishRequest};
use crate::read_cache::ResolvedManifest;
use crate::{Result, ServiceError, Services};

/// The name of the file that holds a manifest's bytes in its version.
pub const MANIFEST_FILE: &str = "manifest";

const SIGNING_KEY_SETTING: &str = "token_signing_key";

/// What a container request does to an image, in the terms of the token scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageAction {
    /// Read manifests, blobs, tags, referrers.
    Pull,
    /// Upload blobs and push manifests and tags; creates the image at its first push.
    Push,
    /// Delete manifests, tags and blob links.
    Delete,
}

/// An image as the registry names it: `OWNER/NAME…`, split at the first `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    pub owner: String,
    pub name: String,
}

impl ImageName {
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
        }
    }

    fn key(&self) -> PackageKey {
        PackageKey::new(&self.owner, PackageType::Container, &self.name)
    }

    fn lower(&self) -> String {
        self.name.to_lowercase()
    }
}

/// A blob as an image holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerBlob {
    pub sha256: String,
    pub size: u64,
}

impl From<&blob::Model> for ContainerBlob {
    fn from(row: &blob::Model) -> Self {
        Self {
            sha256: row.sha256.clone(),
            size: row.size.max(0) as u64,
        }
    }
}

/// A stored manifest.
#[derive(Debug, Clone)]
pub struct ContainerManifest {
    /// The version string: the digest it was pushed under (`sha256:…` unless pushed by a sha512 digest).
    pub digest: String,
    pub media_type: String,
    pub bytes: Bytes,
    /// Where a pull of it is counted (`Services::container_pulled`).
    package_id: i64,
    version_id: i64,
}

/// A manifest being pushed, as the protocol edge validated it.
#[derive(Debug, Clone)]
pub struct ManifestPush {
    /// The digest the bytes were verified to have (`algorithm:hex`).
    pub digest: String,
    pub media_type: String,
    pub bytes: Bytes,
    pub tag: Option<String>,
    /// Blobs that must be linked to the image (config and layers, `algorithm:hex`) with the size the manifest
    /// gives them.
    pub blobs: Vec<(String, u64)>,
    /// Manifests that must exist in the image (an index's children).
    pub manifests: Vec<String>,
    /// The descriptor of the `subject`, for the referrers API.
    pub subject: Option<String>,
    /// What the referrers API lists for this manifest: its descriptor's fields.
    pub artifact_type: Option<String>,
    pub annotations: serde_json::Value,
    /// `org.opencontainers.image.source`, for linking at the first push.
    pub source: Option<String>,
}

/// Why a manifest push failed in registry terms the generic error cannot carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestRefusal {
    /// A referenced blob or child manifest is not in the image.
    Unknown(String),
    /// A referenced blob has another size than the manifest says.
    SizeMismatch {
        digest: String,
        stored: u64,
        declared: u64,
    },
}

/// The state of an upload session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadState {
    pub size: u64,
}

/// Where an access check left us: the owner account and, when the image exists, its package.
#[derive(Debug)]
struct ImageCtx {
    owner: Arc<account::Model>,
    package: Option<Arc<package::Model>>,
}

impl Services {
    /// Decides `action` on an image. A missing image may be pushed by whoever may create it, and its uploaded
    /// blobs may be read by the same principals (clients check for blobs before the first manifest exists).
    async fn image_access(
        &self,
        principal: &Principal,
        image: &ImageName,
        action: ImageAction,
    ) -> Result<ImageCtx> {
        let key = image.key();
        let op = match action {
            ImageAction::Pull => Operation::Read,
            ImageAction::Push => Operation::Write,
            ImageAction::Delete => Operation::Delete,
        };
        // The delete guard weighs download counts, which change with every pull: never from memory.
        if op != Operation::Delete {
            if let Some(read) = self.package_read(principal, &key).await? {
                authorize(&self.inner.policy, principal, op, &read.facts).into_result()?;
                return Ok(ImageCtx {
                    owner: read.owner.clone(),
                    package: Some(read.package.clone()),
                });
            }
        } else if let Some((owner, package)) = self.lookup(&key).await? {
            let downloads = self.max_version_downloads(package.id).await?;
            let pkg_facts = self
                .package_facts(principal, &owner, &package, downloads)
                .await?;
            authorize(&self.inner.policy, principal, op, &pkg_facts).into_result()?;
            return Ok(ImageCtx {
                owner: Arc::new(owner),
                package: Some(Arc::new(package)),
            });
        }
        let Some(owner) = accounts::by_login(self.db(), &image.owner).await? else {
            return Err(self.missing(principal, PackageType::Container));
        };
        if action == ImageAction::Delete {
            return Err(self.missing(principal, PackageType::Container));
        }
        let create = self.create_facts(principal, &owner).await?;
        let decision = authorize_create(&self.inner.policy, principal, &create);
        if decision.is_allowed() {
            return Ok(ImageCtx {
                owner: Arc::new(owner),
                package: None,
            });
        }
        // Those who could not create it learn nothing more than the missing-package answer when reading.
        match decision.deny() {
            Some(deny) if action == ImageAction::Push => Err(ServiceError::Denied(deny)),
            _ => Err(self.missing(principal, PackageType::Container)),
        }
    }

    /// The facts of creating an image in `owner`'s namespace before its manifest (and so its source label) is
    /// known: a workflow token's own repository, else none.
    async fn create_facts(
        &self,
        principal: &Principal,
        owner: &account::Model,
    ) -> Result<CreateFacts> {
        let user = principal.user().map(|user| user.id.0);
        let repository = match principal {
            Principal::Workflow(workflow) => {
                match repos::by_id(self.db(), workflow.repo.0).await? {
                    Some(repo) => Some(facts::repo(self.db(), &repo, user).await?),
                    None => None,
                }
            }
            _ => None,
        };
        Ok(CreateFacts {
            package_type: PackageType::Container,
            owner: facts::owner(self.db(), owner, user).await?,
            repository,
            visibility: Visibility::Private,
        })
    }

    /// Whether the principal may do `action` on the image; for the token endpoint and for front-ends that decide
    /// before reading a body.
    pub async fn container_allowed(
        &self,
        principal: &Principal,
        image: &ImageName,
        action: ImageAction,
    ) -> Result<()> {
        self.image_access(principal, image, action)
            .await
            .map(|_| ())
    }

    /// The blob row a digest names (`sha256:…` or `sha512:…`), if any.
    async fn blob_by_digest(&self, digest: &str) -> Result<Option<blob::Model>> {
        match digest.split_once(':') {
            Some(("sha256", hex)) => Ok(blobs::by_sha256(self.db(), hex).await?),
            Some(("sha512", hex)) => Ok(container::blob_by_sha512(self.db(), hex).await?),
            _ => Ok(None),
        }
    }

    async fn linked_blob(
        &self,
        ctx: &ImageCtx,
        image: &ImageName,
        digest: &str,
    ) -> Result<Option<blob::Model>> {
        let Some(row) = self.blob_by_digest(digest).await? else {
            return Ok(None);
        };
        Ok(
            container::is_linked(self.db(), ctx.owner.id, &image.lower(), row.id)
                .await?
                .then_some(row),
        )
    }

    /// A blob of the image, if the principal may pull it.
    pub async fn container_blob(
        &self,
        principal: &Principal,
        image: &ImageName,
        digest: &str,
    ) -> Result<ContainerBlob> {
        let ctx = self
            .image_access(principal, image, ImageAction::Pull)
            .await?;
        let row = self
            .linked_blob(&ctx, image, digest)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("blob {digest}")))?;
        Ok(ContainerBlob::from(&row))
    }

    /// Opens a blob of the image for reading, optionally a range of it.
    pub async fn container_open_blob(
        &self,
        principal: &Principal,
        image: &ImageName,
        digest: &str,
        range: Option<ByteRange>,
    ) -> Result<(ContainerBlob, BlobReader)> {
        let blob = self.container_blob(principal, image, digest).await?;
        let reader = self.inner.blobs.open(&blob.sha256, range).await?;
        Ok((blob, reader))
    }

    /// Removes a blob from an image. The bytes stay while another image or a package file references them.
    pub async fn container_delete_blob(
        &self,
        principal: &Principal,
        image: &ImageName,
        digest: &str,
    ) -> Result<()> {
        let ctx = self
            .image_access(principal, image, ImageAction::Delete)
            .await?;
        let row = self
            .linked_blob(&ctx, image, digest)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("blob {digest}")))?;
        let _write = self.write_guard().await;
        container::unlink_blob(self.db(), ctx.owner.id, &image.lower(), row.id).await?;
        Ok(())
    }

    /// Links a blob that is now in the blob store to the image.
    async fn link_into_image(
        &self,
        ctx: &ImageCtx,
        image: &ImageName,
        info: &entrepot_blob::BlobInfo,
    ) -> Result<ContainerBlob> {
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        // As in staging: touch the row under the collector's shared lock and check the bytes survived.
        entrepot_store::lifecycle::blob_lock(&txn, false).await?;
        let row = entrepot_store::lifecycle::lease_blob(
            &txn,
            &info.sha256,
            info.sha512.as_deref(),
            info.size,
            self.now(),
        )
        .await?;
        if self.inner.blobs.stat(&info.sha256).await?.is_none() {
            return Err(ServiceError::Internal(format!(
                "blob {} was collected while being uploaded; retry",
                info.sha256
            )));
        }
        container::link_blob(&txn, ctx.owner.id, &image.lower(), row.id).await?;
        txn.commit().await?;
        Ok(ContainerBlob::from(&row))
    }

    /// A monolithic upload: the whole blob in one request, verified against `digest` while it streams.
    pub async fn container_put_blob(
        &self,
        principal: &Principal,
        image: &ImageName,
        digest: &str,
        body: ByteStream,
        limit: Option<u64>,
    ) -> Result<ContainerBlob> {
        let ctx = self
            .image_access(principal, image, ImageAction::Push)
            .await?;
        let options = PutOptions::new().expect_digest(parse_digest(digest)?);
        let staged = self.stage_blob(limited(body, limit, 0), options).await?;
        let linked = self.link_into_image(&ctx, image, &staged.info).await;
        if linked.is_err() {
            self.discard_staged(&[&staged]).await;
        }
        linked
    }

    /// Mounts a blob of `from` into `image`. `Ok(None)` when the principal may not read `from` or the blob is
    /// not there: the client then uploads it normally.
    pub async fn container_mount(
        &self,
        principal: &Principal,
        image: &ImageName,
        digest: &str,
        from: &ImageName,
    ) -> Result<Option<ContainerBlob>> {
        let ctx = self
            .image_access(principal, image, ImageAction::Push)
            .await?;
        let source = match self.image_access(principal, from, ImageAction::Pull).await {
            Ok(source) => source,
            Err(ServiceError::Denied(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        let Some(row) = self.linked_blob(&source, from, digest).await? else {
            return Ok(None);
        };
        let _write = self.write_guard().await;
        container::link_blob(self.db(), ctx.owner.id, &image.lower(), row.id).await?;
        Ok(Some(ContainerBlob::from(&row)))
    }

    /// Starts a resumable upload session into the image; returns its id.
    pub async fn container_start_upload(
        &self,
        principal: &Principal,
        image: &ImageName,
    ) -> Result<String> {
        let ctx = self
            .image_access(principal, image, ImageAction::Push)
            .await?;
        let id = self
            .inner
            .blobs
            .start_upload(UploadOptions::default())
            .await?;
        let id = id.to_string();
        let _write = self.write_guard().await;
        if let Err(error) =
            container::insert_upload(self.db(), &id, ctx.owner.id, &image.name).await
        {
            drop(_write);
            self.abort_blob_upload(&id).await;
            return Err(error.into());
        }
        Ok(id)
    }

    /// The session, checked to belong to the image the URL names.
    async fn upload_session(
        &self,
        principal: &Principal,
        image: &ImageName,
        id: &str,
    ) -> Result<(ImageCtx, UploadId)> {
        let ctx = self
            .image_access(principal, image, ImageAction::Push)
            .await?;
        let row = container::upload(self.db(), id)
            .await?
            .filter(|row| row.owner_id == ctx.owner.id && row.image == image.lower())
            .ok_or(ServiceError::Blob(entrepot_blob::BlobError::UploadNotFound))?;
        let upload_id: UploadId = row.id.parse()?;
        Ok((ctx, upload_id))
    }

    /// How many bytes a session holds.
    pub async fn container_upload_status(
        &self,
        principal: &Principal,
        image: &ImageName,
        id: &str,
    ) -> Result<UploadState> {
        let (_, upload) = self.upload_session(principal, image, id).await?;
        let info = self.inner.blobs.upload_status(&upload).await?;
        Ok(UploadState { size: info.size })
    }

    /// Appends a chunk. `offset` is where the client says it starts (`Content-Range`), `None` to append at the
    /// end (a streamed upload). A chunk that does not start at the current end fails with `BadOffset`.
    pub async fn container_append_upload(
        &self,
        principal: &Principal,
        image: &ImageName,
        id: &str,
        offset: Option<u64>,
        body: ByteStream,
        limit: Option<u64>,
    ) -> Result<UploadState> {
        let (_, upload) = self.upload_session(principal, image, id).await?;
        let offset = match offset {
            Some(offset) => offset,
            None => self.inner.blobs.upload_status(&upload).await?.size,
        };
        let size = self
            .inner
            .blobs
            .append_upload(&upload, offset, limited(body, limit, offset))
            .await?;
        Ok(UploadState { size })
    }

    /// Closes a session: appends the last chunk if any, verifies the digest (the bytes were hashed as they came)
    /// and links the blob. On a digest or size mismatch the session is discarded, as the spec's reference does.
    #[allow(clippy::too_many_arguments)]
    pub async fn container_complete_upload(
        &self,
        principal: &Principal,
        image: &ImageName,
        id: &str,
        digest: &str,
        last_chunk: Option<(Option<u64>, ByteStream)>,
        limit: Option<u64>,
    ) -> Result<ContainerBlob> {
        let expected = parse_digest(digest)?;
        let (ctx, upload) = self.upload_session(principal, image, id).await?;
        if let Some((offset, body)) = last_chunk {
            let offset = match offset {
                Some(offset) => offset,
                None => self.inner.blobs.upload_status(&upload).await?.size,
            };
            self.inner
                .blobs
                .append_upload(&upload, offset, limited(body, limit, offset))
                .await?;
        }
        let outcome = self
            .inner
            .blobs
            .commit_upload(&upload, PutOptions::new().expect_digest(expected))
            .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                if matches!(
                    error,
                    entrepot_blob::BlobError::DigestMismatch { .. }
                        | entrepot_blob::BlobError::SizeMismatch { .. }
                ) {
                    let _write = self.write_guard().await;
                    container::delete_upload(self.db(), id).await?;
                }
                return Err(error.into());
            }
        };
        let linked = self.link_into_image(&ctx, image, &outcome.info).await?;
        let _write = self.write_guard().await;
        container::delete_upload(self.db(), id).await?;
        Ok(linked)
    }

    /// Cancels a session and discards its bytes.
    pub async fn container_cancel_upload(
        &self,
        principal: &Principal,
        image: &ImageName,
        id: &str,
    ) -> Result<()> {
        let (_, upload) = self.upload_session(principal, image, id).await?;
        self.inner.blobs.abort_upload(&upload).await?;
        let _write = self.write_guard().await;
        container::delete_upload(self.db(), id).await?;
        Ok(())
    }

    async fn abort_blob_upload(&self, id: &str) {
        if let Ok(upload) = id.parse::<UploadId>()
            && let Err(error) = self.inner.blobs.abort_upload(&upload).await
            && !matches!(error, entrepot_blob::BlobError::UploadNotFound)
        {
            tracing::warn!(%error, upload = id, "could not discard an upload session");
        }
    }

    /// Expires upload sessions older than `max_age`: their rows and their bytes. Also discards blob-store
    /// sessions that no row records (a crash between the two writes). Returns how many were removed.
    pub async fn container_expire_uploads(&self, max_age: Duration) -> Result<usize> {
        let cutoff =
            Utc::now() - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::hours(24));
        let mut removed = 0;
        for row in container::uploads_started_before(self.db(), cutoff).await? {
            self.abort_blob_upload(&row.id).await;
            let _write = self.write_guard().await;
            if container::delete_upload(self.db(), &row.id).await? {
                removed += 1;
            }
        }
        for info in self.inner.blobs.list_uploads_older_than(cutoff).await? {
            let id = info.id.to_string();
            if container::upload(self.db(), &id).await?.is_none() {
                self.abort_blob_upload(&id).await;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Pushes a manifest (and its tag). Everything it refers to must be in the image already; the package is
    /// created at its first manifest, linked to the repository its source label names.
    pub async fn container_put_manifest(
        &self,
        principal: &Principal,
        image: &ImageName,
        push: ManifestPush,
    ) -> Result<std::result::Result<String, ManifestRefusal>> {
        let ctx = self
            .image_access(principal, image, ImageAction::Push)
            .await?;
        for (digest, declared) in &push.blobs {
            let Some(row) = self.linked_blob(&ctx, image, digest).await? else {
                return Ok(Err(ManifestRefusal::Unknown(digest.clone())));
            };
            let stored = row.size.max(0) as u64;
            if stored != *declared {
                return Ok(Err(ManifestRefusal::SizeMismatch {
                    digest: digest.clone(),
                    stored,
                    declared: *declared,
                }));
            }
        }
        for digest in &push.manifests {
            let present = match &ctx.package {
                Some(package) => packages::find_live_version(self.db(), package.id, digest)
                    .await?
                    .is_some(),
                None => false,
            };
            if !present {
                return Ok(Err(ManifestRefusal::Unknown(digest.clone())));
            }
        }
        let options = PutOptions::new().expect_digest(parse_digest(&push.digest)?);
        let staged = self
            .stage_blob(bytes_stream(push.bytes.clone()), options)
            .await?;
        let metadata = json!({
            "media_type": push.media_type,
            "size": push.bytes.len(),
            "artifact_type": push.artifact_type,
            "subject": push.subject,
            "annotations": push.annotations,
            "tags": [],
        });
        let request = PublishRequest {
            key: image.key(),
            version: push.digest.clone(),
            metadata,
            files: vec![NewFile {
                name: MANIFEST_FILE.to_owned(),
                blob: staged,
                content_type: Some(push.media_type.clone()),
                mutable: false,
            }],
            repository_url: push.source.clone(),
            visibility: None,
            existing_version: ExistingVersion::AddFiles,
        };
        let outcome = self
            .write_manifest(principal, &ctx, &request, push.tag.as_deref())
            .await;
        if outcome.is_err() {
            let staged: Vec<_> = request.files.iter().map(|file| &file.blob).collect();
            self.discard_staged(&staged).await;
        }
        outcome.map(|()| Ok(push.digest))
    }

    /// The rows of a manifest push, in one transaction: the package at its first push, the version, its file, the
    /// tag (moved from the version that had it) and the `tags` mirrored into both versions' metadata.
    async fn write_manifest(
        &self,
        principal: &Principal,
        ctx: &ImageCtx,
        request: &PublishRequest,
        tag: Option<&str>,
    ) -> Result<()> {
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        let package = match packages::find_live(
            &txn,
            ctx.owner.id,
            PackageType::Container.as_str(),
            &request.key.name,
        )
        .await?
        {
            Some(package) => package,
            None => {
                self.create_package(&txn, principal, &ctx.owner, None, request)
                    .await?
            }
        };
        let version = self
            .write_version(&txn, principal, &package, request)
            .await?;
        if let Some(tag) = tag {
            let previous = container::tag(&txn, package.id, tag).await?;
            container::set_tag(&txn, package.id, tag, version.id).await?;
            let mut touched = vec![version.id];
            if let Some(previous) = previous.filter(|p| p.version_id != version.id) {
                touched.push(previous.version_id);
            }
            for version_id in touched {
                mirror_tags(&txn, version_id).await?;
            }
        }
        packages::update(&txn, package).await?;
        txn.commit().await?;
        Ok(())
    }

    /// A manifest by tag or digest (`reference`), with its bytes.
    pub async fn container_manifest(
        &self,
        principal: &Principal,
        image: &ImageName,
        reference: &str,
    ) -> Result<ContainerManifest> {
        let ctx = self
            .image_access(principal, image, ImageAction::Pull)
            .await?;
        let unknown = || ServiceError::NotFound(format!("manifest {reference}"));
        let package = ctx.package.ok_or_else(unknown)?;
        let cache = &self.inner.read_cache;
        let resolved = match cache.get_manifest(package.id, reference) {
            Some(resolved) => resolved,
            None => {
                let epoch = cache.epoch();
                let row = container::manifest(
                    self.db(),
                    package.id,
                    MANIFEST_FILE,
                    reference,
                    !reference.contains(':'),
                )
                .await?
                .ok_or_else(unknown)?;
                let media_type = row
                    .content_type
                    .or_else(|| row.metadata["media_type"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".to_owned());
                let resolved = Arc::new(ResolvedManifest {
                    version_id: row.version_id,
                    digest: row.version,
                    media_type,
                    sha256: row.sha256,
                });
                cache.put_manifest(package.id, reference, epoch, resolved.clone());
                resolved
            }
        };
        let bytes = match manifest_cache().get(&resolved.sha256) {
            Some(bytes) => bytes,
            None => {
                let mut reader = self.inner.blobs.open(&resolved.sha256, None).await?;
                let mut bytes = Vec::with_capacity(usize::try_from(reader.size).unwrap_or(0));
                while let Some(chunk) = reader.stream.next().await {
                    bytes.extend_from_slice(&chunk.map_err(entrepot_blob::BlobError::Io)?);
                }
                let bytes = Bytes::from(bytes);
                manifest_cache().insert(resolved.sha256.clone(), bytes.clone());
                bytes
            }
        };
        Ok(ContainerManifest {
            digest: resolved.digest.clone(),
            media_type: resolved.media_type.clone(),
            bytes,
            package_id: package.id,
            version_id: resolved.version_id,
        })
    }

    /// Counts a download of a manifest the caller received (a `GET`, not a `HEAD`): a pull, as GitHub counts
    /// them. In memory, like every download count (`downloads.rs`).
    pub fn container_pulled(&self, manifest: &ContainerManifest) {
        self.count_download(manifest.package_id, manifest.version_id);
    }

    /// Deletes a manifest by digest (the version, soft, with all its tags) or only a tag.
    pub async fn container_delete_manifest(
        &self,
        principal: &Principal,
        image: &ImageName,
        reference: &str,
    ) -> Result<()> {
        let ctx = self
            .image_access(principal, image, ImageAction::Delete)
            .await?;
        let unknown = || ServiceError::NotFound(format!("manifest {reference}"));
        let package = ctx.package.ok_or_else(unknown)?;
        let _write = self.write_guard().await;
        if !reference.contains(':') {
            let tag = container::tag(self.db(), package.id, reference)
                .await?
                .ok_or_else(unknown)?;
            let txn = self.db().begin().await?;
            container::delete_tag(&txn, package.id, reference).await?;
            mirror_tags(&txn, tag.version_id).await?;
            txn.commit().await?;
            return Ok(());
        }
        let version = packages::find_live_version(self.db(), package.id, reference)
            .await?
            .ok_or_else(unknown)?;
        let txn = self.db().begin().await?;
        container::delete_tags_of_version(&txn, version.id).await?;
        mirror_tags(&txn, version.id).await?;
        packages::set_version_deleted(&txn, version.id, Some(self.now())).await?;
        txn.commit().await?;
        drop(_write);
        self.audit_package(
            principal,
            "package_version.delete",
            &ctx.owner,
            &package,
            Some(reference),
        )
        .await;
        Ok(())
    }

    /// Every tag of the image, sorted bytewise.
    pub async fn container_tags(
        &self,
        principal: &Principal,
        image: &ImageName,
    ) -> Result<Vec<String>> {
        let ctx = self
            .image_access(principal, image, ImageAction::Pull)
            .await?;
        let package = ctx
            .package
            .ok_or_else(|| ServiceError::NotFound(format!("image {}", image.name)))?;
        let mut tags = container::tags(self.db(), package.id).await?;
        tags.sort_unstable();
        Ok(tags)
    }

    /// The descriptors of the manifests whose `subject` is `digest`, as the referrers API lists them.
    pub async fn container_referrers(
        &self,
        principal: &Principal,
        image: &ImageName,
        digest: &str,
    ) -> Result<Vec<serde_json::Value>> {
        let ctx = self
            .image_access(principal, image, ImageAction::Pull)
            .await?;
        let Some(package) = ctx.package else {
            return Ok(Vec::new());
        };
        Ok(packages::versions(self.db(), package.id, false)
            .await?
            .into_iter()
            .filter(|v| v.metadata["subject"].as_str() == Some(digest))
            .map(|v| {
                let mut descriptor = json!({
                    "mediaType": v.metadata["media_type"],
                    "digest": v.version,
                    "size": v.metadata["size"],
                });
                if let Some(t) = v.metadata["artifact_type"].as_str() {
                    descriptor["artifactType"] = json!(t);
                }
                if v.metadata["annotations"]
                    .as_object()
                    .is_some_and(|a| !a.is_empty())
                {
                    descriptor["annotations"] = v.metadata["annotations"].clone();
                }
                descriptor
            })
            .collect())
    }

    /// `OWNER/NAME` of every image the principal may pull, sorted bytewise.
    pub async fn container_catalog(&self, principal: &Principal) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for (package, owner) in
            container::live_packages_with_owner(self.db(), PackageType::Container.as_str()).await?
        {
            let pkg_facts = self.package_facts(principal, &owner, &package, 0).await?;
            if authorize(&self.inner.policy, principal, Operation::Read, &pkg_facts).is_allowed() {
                names.push(format!("{}/{}", owner.login.to_lowercase(), package.name));
            }
        }
        names.sort_unstable();
        Ok(names)
    }

    /// The principal behind presented credentials, with the hash of the token it used: what a registry bearer
    /// token records instead of the secret, so that revoking the token ends the bearer token too.
    pub async fn container_token_subject(
        &self,
        credential: Option<&entrepot_identity::credential::Credential>,
    ) -> Result<(Principal, Option<String>)> {
        let Some(credential) = credential else {
            return Ok((Principal::Anonymous, None));
        };
        let candidate = credential.token_candidate();
        let Ok(parsed) = entrepot_identity::token::parse(candidate.expose()) else {
            return Ok((Principal::InvalidCredentials, None));
        };
        let hash = parsed.hash().sha256_hex().to_owned();
        let principal = self.authenticate_token_hash(&hash).await?;
        Ok((principal, Some(hash)))
    }

    /// The principal of a registry bearer token's subject (`None`: anonymous), checked again now: a revoked or
    /// expired token stops its bearer tokens within the token cache's lifetime.
    pub async fn container_bearer_principal(&self, subject: Option<&str>) -> Result<Principal> {
        match subject {
            None => Ok(Principal::Anonymous),
            Some(hash) => self.authenticate_token_hash(hash).await,
        }
    }

    /// The key registry bearer tokens are signed with, shared by every replica through the database; created at
    /// first use.
    pub async fn container_signing_key(&self) -> Result<String> {
        if let Some(key) = container::setting(self.db(), SIGNING_KEY_SETTING).await? {
            return Ok(key);
        }
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let _write = self.write_guard().await;
        Ok(
            container::setting_or_insert(self.db(), SIGNING_KEY_SETTING, &hex::encode(bytes))
                .await?,
        )
    }

    /// How many blob rows and upload sessions are recorded: lets tests check that a refused request stored
    /// nothing.
    pub async fn container_counts(&self) -> Result<(u64, u64)> {
        Ok((
            container::blob_count(self.db()).await?,
            container::upload_count(self.db()).await?,
        ))
    }
}

/// Manifest bytes by the sha256 of their blob. Content-addressed, so an entry can never be stale; it only saves
/// the blob store a read on the hottest path of a pull. Access is decided before the cache is consulted.
fn manifest_cache() -> &'static moka::sync::Cache<String, Bytes> {
    static CACHE: std::sync::OnceLock<moka::sync::Cache<String, Bytes>> =
        std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        moka::sync::Cache::builder()
            .weigher(|_: &String, bytes: &Bytes| u32::try_from(bytes.len()).unwrap_or(u32::MAX))
            .max_capacity(64 * 1024 * 1024)
            .build()
    })
}

/// Recomputes the `tags` a version's metadata mirrors from the tag rows.
async fn mirror_tags(txn: &entrepot_store::DatabaseTransaction, version_id: i64) -> Result<()> {
    let Some(version) = container::version_by_id(txn, version_id).await? else {
        return Ok(());
    };
    let tags = container::tags_of_version(txn, version_id).await?;
    let mut metadata = version.metadata;
    metadata["tags"] = json!(tags);
    packages::update_version_metadata(txn, version_id, metadata).await?;
    Ok(())
}

fn parse_digest(digest: &str) -> Result<Digest> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or_else(|| ServiceError::Invalid(format!("invalid digest {digest:?}")))?;
    let parsed = match algorithm {
        "sha256" => Digest::sha256(hex),
        "sha512" => Digest::sha512(hex),
        _ => {
            return Err(ServiceError::Invalid(format!(
                "unsupported digest algorithm {algorithm:?}"
            )));
        }
    };
    parsed.map_err(|error| ServiceError::Blob(error.into()))
}

/// Refuses a body that would take the blob past `limit` bytes (counting from `start`), as soon as it does.
fn limited(body: ByteStream, limit: Option<u64>, start: u64) -> ByteStream {
    let Some(limit) = limit else {
        return body;
    };
    let mut seen = start;
    body.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("the blob exceeds the layer size limit of {limit} bytes"),
            ));
        }
        Ok(chunk)
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_by_algorithm() {
        assert!(parse_digest(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(parse_digest(&format!("sha512:{}", "a".repeat(128))).is_ok());
        assert!(matches!(
            parse_digest("md5:abc"),
            Err(ServiceError::Invalid(_))
        ));
        assert!(parse_digest("sha256:xyz").is_err());
    }

    #[tokio::test]
    async fn the_limit_cuts_a_body_off_when_it_overruns() {
        let body = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"12345")),
            Ok(Bytes::from_static(b"67890")),
        ])
        .boxed();
        let chunks: Vec<_> = limited(body, Some(12), 4).collect().await;
        assert!(chunks[0].is_ok());
        assert_eq!(
            chunks[1].as_ref().unwrap_err().kind(),
            io::ErrorKind::FileTooLarge
        );
    }
}
