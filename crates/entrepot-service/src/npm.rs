//! The npm registry's operations: packuments served from a revision-checked cache, publish with its dist-tags in
//! the same transaction, dist-tag changes, deprecation, unpublish, search, whoami and login.
//!
//! A packument read costs one small query after authentication: the package and the principal's facts come from
//! the shared read cache (`read_cache`), and the rendered packuments (full, abbreviated, each also gzipped) are kept
//! per package and tarball base URL, labelled with the package's revision. Every npm write bumps the revision in the
//! transaction that changes the rows, and every read compares the label with the live revision (one primary-key
//! read), so a rendering is never served after a write, on any replica.
//!
//! A publish body's tarball streams to the blob store as the front-end decodes it ([`Services::npm_stage_tarball`]),
//! hashed and inspected on the way, so that a 50 MB publish never holds the tarball in memory.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use entrepot_authz::{Operation, PackageType, Principal, Visibility, authorize};
use entrepot_blob::{ByteStream, PutOptions, bytes_stream};
use entrepot_identity::secret::Secret;
use entrepot_npm::name::PackageName;
use entrepot_npm::packument::{self, PackageDoc, StoredVersion};
use entrepot_npm::publish::{Access, Digests, Limits, Publish, PublishError, StreamedTarball};
use entrepot_npm::put::{PutAction, classify_put, classify_split};
use entrepot_npm::search;
use entrepot_npm::split::SplitBody;
use entrepot_npm::tags::{self, DistTags, LATEST, TagError};
use entrepot_npm::tarball;
use entrepot_store::entity::{account, package, package_version};
use entrepot_store::{DatabaseTransaction, TransactionTrait, accounts, npm, packages};
use futures_util::StreamExt as _;
use moka::sync::Cache;
use sha2::{Digest as _, Sha256};

use crate::packages::{ExistingVersion, NewFile, PackageKey, PublishHook, PublishRequest};
use crate::read_cache::{FactsKey, PackageRead};
use crate::staging::StagedBlob;
use crate::views::{FileView, OpenedFile};
use crate::{ServiceError, Services};

/// The version object key holding a deprecation message (`npm deprecate`); the packument renders it.
const DEPRECATED: &str = "deprecated";

/// Rendered packuments kept in memory, by their size in bytes.
const PACKUMENT_CACHE_BYTES: u64 = 32 << 20;

/// Errors of npm operations: the service's, or the protocol's own refusals of a body.
#[derive(Debug, thiserror::Error)]
pub enum NpmError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Tag(#[from] TagError),
}

impl From<entrepot_store::StoreError> for NpmError {
    fn from(error: entrepot_store::StoreError) -> Self {
        Self::Service(error.into())
    }
}

impl From<entrepot_store::DbErr> for NpmError {
    fn from(error: entrepot_store::DbErr) -> Self {
        Self::Service(error.into())
    }
}

impl From<entrepot_authz::Deny> for NpmError {
    fn from(deny: entrepot_authz::Deny) -> Self {
        Self::Service(deny.into())
    }
}

pub type NpmResult<T> = std::result::Result<T, NpmError>;

/// One form of a packument, ready to send.
#[derive(Debug)]
pub struct RenderedDoc {
    pub body: Bytes,
    pub gzip: Bytes,
    /// A strong ETag (quoted).
    pub etag: String,
}

/// Both forms of a package's packument at one revision.
#[derive(Debug)]
pub struct Packument {
    pub revision: i64,
    pub full: RenderedDoc,
    pub abbreviated: RenderedDoc,
}

/// What a `PUT` of the packument did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    Published { version: String },
    Deprecated { changed: usize },
    Unpublished { versions: Vec<String> },
}

enum PutBody<'b> {
    Whole(&'b [u8]),
    /// With what was learned from the first attachment's bytes when they streamed to storage.
    Split(SplitBody, Option<StreamedTarball>),
}

/// A publish body's tarball, staged in the blob store as the body came in ([`Services::npm_stage_tarball`]).
#[derive(Debug)]
pub struct StagedTarball {
    staged: StagedBlob,
    facts: StreamedTarball,
}

/// How many decoded chunks the tarball reader may lag behind the blob store.
const TARBALL_QUEUE: usize = 16;

/// Reads the chunks of a streaming tarball as one byte stream (for the tar reader), hashing each chunk once as
/// it arrives.
struct HashingReader {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
    sha1: sha1::Sha1,
    sha384: sha2::Sha384,
}

impl HashingReader {
    fn new(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Self {
        Self {
            rx,
            current: Bytes::new(),
            sha1: sha1::Sha1::new(),
            sha384: sha2::Sha384::new(),
        }
    }
}

impl std::io::Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => {
                    self.sha1.update(&chunk);
                    self.sha384.update(&chunk);
                    self.current = chunk;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// The npm caches (see the module documentation).
pub(crate) struct NpmCaches {
    packuments: Cache<(i64, String), Arc<Packument>>,
}

impl std::fmt::Debug for NpmCaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpmCaches")
            .field("packuments", &self.packuments.entry_count())
            .finish()
    }
}

impl NpmCaches {
    pub(crate) fn new() -> Self {
        Self {
            packuments: Cache::builder()
                .max_capacity(PACKUMENT_CACHE_BYTES)
                .weigher(|_, doc: &Arc<Packument>| {
                    let bytes = doc.full.body.len()
                        + doc.full.gzip.len()
                        + doc.abbreviated.body.len()
                        + doc.abbreviated.gzip.len();
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }
}

fn key_of(name: &PackageName) -> PackageKey {
    PackageKey::new(name.scope(), PackageType::Npm, name.bare())
}

fn rfc3339(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn tags_from_json(value: &serde_json::Value) -> DistTags {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

fn tags_to_json(tags: &DistTags) -> serde_json::Value {
    serde_json::to_value(tags).unwrap_or_default()
}

fn render(document: &serde_json::Value) -> NpmResult<RenderedDoc> {
    let body = serde_json::to_vec(document)
        .map_err(|error| ServiceError::Internal(format!("rendering a packument: {error}")))?;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    let gzip = encoder
        .write_all(&body)
        .and_then(|()| encoder.finish())
        .map_err(|error| ServiceError::Internal(format!("compressing a packument: {error}")))?;
    let digest = Sha256::digest(&body);
    Ok(RenderedDoc {
        etag: format!("\"{}\"", hex::encode(&digest[..16])),
        body: Bytes::from(body),
        gzip: Bytes::from(gzip),
    })
}

/// Writes the dist-tags and bumps the revision in the publish transaction.
struct AfterPublish<'r> {
    version: &'r str,
    requested: &'r DistTags,
}

impl PublishHook for AfterPublish<'_> {
    fn after_version<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        package: &'a package::Model,
        _version: &'a package_version::Model,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            match npm::bump(txn, package.id).await? {
                Some(state) => {
                    let current = tags_from_json(&state.dist_tags);
                    let next = tags::after_publish(&current, self.version, self.requested);
                    npm::set_dist_tags(txn, package.id, tags_to_json(&next)).await?;
                }
                None => {
                    let first = tags::after_publish(&DistTags::new(), self.version, self.requested);
                    npm::insert(txn, package.id, tags_to_json(&first)).await?;
                }
            }
            Ok(())
        })
    }
}

impl Services {
    /// The package and the principal's facts for a read, from the shared read cache or the store; the core
    /// decides.
    async fn npm_read(
        &self,
        principal: &Principal,
        name: &PackageName,
    ) -> NpmResult<Arc<PackageRead>> {
        Ok(self.readable(principal, &key_of(name)).await?)
    }

    /// The packument of a package the principal may read, rendered for `tarball_base_url` (the npm registry's
    /// external URL, e.g. `https://pk.example/npm`).
    pub async fn npm_packument(
        &self,
        principal: &Principal,
        name: &PackageName,
        tarball_base_url: &str,
    ) -> NpmResult<Arc<Packument>> {
        let mut read = self.npm_read(principal, name).await?;
        let revision = match npm::live_revision(self.db(), read.package.id).await? {
            Some(revision) => revision,
            None => {
                // The cached row may name a package deleted (and perhaps re-published) since, on another
                // replica: ask the store again.
                self.inner
                    .read_cache
                    .forget_facts(&FactsKey::new(principal, &key_of(name)));
                read = self.npm_read(principal, name).await?;
                npm::live_revision(self.db(), read.package.id)
                    .await?
                    .ok_or_else(|| self.missing(principal, PackageType::Npm))?
            }
        };
        let cache_key = (read.package.id, tarball_base_url.to_owned());
        if let Some(doc) = self.inner.npm.packuments.get(&cache_key)
            && doc.revision == revision
        {
            return Ok(doc);
        }
        let doc = Arc::new(
            self.npm_render(name, read.package.id, tarball_base_url)
                .await?,
        );
        // Concurrent renderings of one revision are identical; keep whichever lands, unless it is older.
        if self
            .inner
            .npm
            .packuments
            .get(&cache_key)
            .is_none_or(|cached| cached.revision < doc.revision)
        {
            self.inner.npm.packuments.insert(cache_key, doc.clone());
        }
        Ok(doc)
    }

    /// Renders both forms from the rows. The state (revision, tags) is read before the versions: a write landing
    /// in between makes the rendering newer than its label, so the next read renders again; never the reverse.
    async fn npm_render(
        &self,
        name: &PackageName,
        package_id: i64,
        tarball_base_url: &str,
    ) -> NpmResult<Packument> {
        let state = npm::state(self.db(), package_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("package {name}")))?;
        let rows = packages::versions(self.db(), package_id, false).await?;
        let versions = rows
            .iter()
            .map(|row| StoredVersion {
                version: row.version.clone(),
                object: row.metadata.clone(),
                published: rfc3339(row.created_at),
                deprecated: row
                    .metadata
                    .get(DEPRECATED)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
            })
            .collect();
        let doc = PackageDoc {
            name: name.clone(),
            versions,
            dist_tags: tags_from_json(&state.dist_tags),
            modified: rfc3339(state.modified_at),
            tarball_base_url: tarball_base_url.to_owned(),
        };
        let mut full = packument::full(&doc);
        if let Some(object) = full.as_object_mut() {
            // npm sends it back in `/-rev/R` URLs; the revision is what it names.
            object.insert(
                "_rev".into(),
                serde_json::Value::String(format!("{}-{package_id}", state.revision)),
            );
        }
        let abbreviated = packument::abbreviated(&doc);
        Ok(Packument {
            revision: state.revision,
            full: render(&full)?,
            abbreviated: render(&abbreviated)?,
        })
    }

    /// Publishes a verified version: the tarball goes to the blob store, then the version, its file, the
    /// dist-tags and the revision are written in one transaction. Same version twice → 409.
    pub async fn npm_publish(&self, principal: &Principal, publish: Publish) -> NpmResult<String> {
        self.npm_publish_staged(principal, publish, None).await
    }

    /// [`Services::npm_publish`] of a tarball already staged, when it streamed to the blob store as the body
    /// came in (`publish.tarball` is then `None`).
    async fn npm_publish_staged(
        &self,
        principal: &Principal,
        mut publish: Publish,
        staged: Option<StagedBlob>,
    ) -> NpmResult<String> {
        let staged = match (publish.tarball.take(), staged) {
            (_, Some(staged)) => staged,
            (Some(tarball), None) => {
                let size = tarball.len() as u64;
                self.stage_blob(
                    bytes_stream(tarball),
                    PutOptions {
                        size: Some(size),
                        sha512: true,
                        ..PutOptions::default()
                    },
                )
                .await?
            }
            (None, None) => {
                return Err(ServiceError::Internal("a publish without its tarball".into()).into());
            }
        };
        let mut metadata = publish.version_object;
        if let (Some(message), Some(object)) = (&publish.deprecated, metadata.as_object_mut()) {
            object.insert(
                DEPRECATED.into(),
                serde_json::Value::String(message.clone()),
            );
        }
        let request = PublishRequest {
            key: key_of(&publish.name),
            version: publish.version.clone(),
            metadata,
            files: vec![NewFile {
                name: publish.tarball_filename,
                blob: staged,
                content_type: Some("application/octet-stream".into()),
                mutable: false,
            }],
            repository_url: publish.repository_url,
            visibility: match publish.access {
                Some(Access::Public) => Some(Visibility::Public),
                Some(Access::Restricted) | None => None,
            },
            existing_version: ExistingVersion::Conflict,
        };
        let hook = AfterPublish {
            version: &publish.version,
            requested: &publish.dist_tags,
        };
        self.publish_with(principal, request, &hook).await?;
        Ok(publish.version)
    }

    /// Streams a publish body's tarball, as the front-end decodes it (`Splitter::streaming`), into the blob
    /// store, hashing it for the integrity checks and reading its package.json on the way, so that the request
    /// never holds the tarball. `None` when the body carried no attachment bytes.
    pub async fn npm_stage_tarball(
        &self,
        body: ByteStream,
        limits: Limits,
    ) -> NpmResult<Option<StagedTarball>> {
        let mut body = body.peekable();
        if std::pin::Pin::new(&mut body).peek().await.is_none() {
            return Ok(None);
        }
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(TARBALL_QUEUE);
        let max_unpacked = limits.max_unpacked_bytes;
        let side = tokio::task::spawn_blocking(move || {
            let mut reader = HashingReader::new(rx);
            let info = tarball::inspect_reader(&mut reader, max_unpacked);
            // The inspection may stop early (a refused tarball); every byte is still hashed.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
            (info, reader)
        });
        let body = body
            .then(move |item| {
                let tx = tx.clone();
                async move {
                    if let Ok(chunk) = &item {
                        // The reader only goes away if its task panicked; the join reports that.
                        let _ = tx.send(chunk.clone()).await;
                    }
                    item
                }
            })
            .boxed();
        let staged = self
            .stage_blob(
                body,
                PutOptions {
                    sha512: true,
                    ..PutOptions::default()
                },
            )
            .await;
        let side = side.await;
        let staged = staged?;
        let (info, reader) = match side {
            Ok(side) => side,
            Err(error) => {
                self.discard_staged(&[&staged]).await;
                return Err(
                    ServiceError::Internal(format!("the tarball reader failed: {error}")).into(),
                );
            }
        };
        let decode = |hex_digest: Option<&str>| hex_digest.and_then(|h| hex::decode(h).ok());
        let (Some(sha256), Some(sha512)) = (
            decode(Some(&staged.info.sha256)),
            decode(staged.info.sha512.as_deref()),
        ) else {
            self.discard_staged(&[&staged]).await;
            return Err(ServiceError::Internal("the blob store returned no sha512".into()).into());
        };
        let facts = StreamedTarball {
            len: staged.info.size,
            digests: Digests {
                sha1: reader.sha1.finalize().to_vec(),
                sha256,
                sha384: reader.sha384.finalize().to_vec(),
                sha512,
            },
            info,
        };
        Ok(Some(StagedTarball { staged, facts }))
    }

    /// A `PUT` of the packument: a publish, a deprecation or the removal of versions, told apart by comparing
    /// the body with the stored versions (which only a reader of the package may learn).
    pub async fn npm_put(
        &self,
        principal: &Principal,
        name: &PackageName,
        body: &[u8],
        limits: Limits,
    ) -> NpmResult<PutOutcome> {
        self.npm_put_body(principal, name, PutBody::Whole(body), limits)
            .await
    }

    /// [`Services::npm_put`] for a body split as it streamed in (`entrepot_npm::split`) with its tarball staged on
    /// the way ([`Services::npm_stage_tarball`]), so that the request never holds the tarball nor its base64 text.
    /// The staged bytes are removed again unless the publish records them.
    pub async fn npm_put_split(
        &self,
        principal: &Principal,
        name: &PackageName,
        body: SplitBody,
        tarball: Option<StagedTarball>,
        limits: Limits,
    ) -> NpmResult<PutOutcome> {
        let (staged, facts) = match tarball {
            Some(tarball) => (Some(tarball.staged), Some(tarball.facts)),
            None => (None, None),
        };
        let action = self
            .npm_classify(principal, name, PutBody::Split(body, facts), limits)
            .await;
        match (action, staged) {
            (Ok(PutAction::Publish(publish)), staged) => {
                let version = self.npm_publish_staged(principal, *publish, staged).await?;
                Ok(PutOutcome::Published { version })
            }
            (action, Some(staged)) => {
                self.discard_staged(&[&staged]).await;
                self.npm_act(principal, name, action?).await
            }
            (action, None) => self.npm_act(principal, name, action?).await,
        }
    }

    async fn npm_put_body(
        &self,
        principal: &Principal,
        name: &PackageName,
        body: PutBody<'_>,
        limits: Limits,
    ) -> NpmResult<PutOutcome> {
        let action = self.npm_classify(principal, name, body, limits).await?;
        self.npm_act(principal, name, action).await
    }

    async fn npm_classify(
        &self,
        principal: &Principal,
        name: &PackageName,
        body: PutBody<'_>,
        limits: Limits,
    ) -> NpmResult<PutAction> {
        let key = key_of(name);
        // A body that carries a tarball is a publish whatever the stored versions are (the service refuses an
        // existing version with 409), so the versions are only loaded for the attachment-less PUTs that need
        // them: a package with a thousand versions publishes without reading them.
        let carries_tarball =
            matches!(&body, PutBody::Split(split, _) if !split.attachments.is_empty());
        let existing = if carries_tarball {
            None
        } else {
            self.lookup(&key).await?
        };
        let stored: BTreeMap<String, Option<String>> = match existing {
            None => BTreeMap::new(),
            Some(_) => {
                let resolved = self.resolve(principal, &key, Operation::Read).await?;
                packages::versions(self.db(), resolved.package.id, false)
                    .await?
                    .into_iter()
                    .map(|row| {
                        let deprecated = row
                            .metadata
                            .get(DEPRECATED)
                            .and_then(serde_json::Value::as_str)
                            .map(str::to_owned);
                        (row.version, deprecated)
                    })
                    .collect()
            }
        };
        Ok(match body {
            PutBody::Whole(body) => classify_put(name, body, &stored, limits)?,
            PutBody::Split(split, streamed) => {
                classify_split(name, split, streamed, &stored, limits)?
            }
        })
    }

    async fn npm_act(
        &self,
        principal: &Principal,
        name: &PackageName,
        action: PutAction,
    ) -> NpmResult<PutOutcome> {
        match action {
            PutAction::Publish(publish) => {
                let version = self.npm_publish(principal, *publish).await?;
                Ok(PutOutcome::Published { version })
            }
            PutAction::Deprecate { changes } => {
                let changed = changes.len();
                self.npm_deprecate(principal, name, &changes).await?;
                Ok(PutOutcome::Deprecated { changed })
            }
            PutAction::RemoveVersions { removed, .. } => {
                self.npm_remove_versions(principal, name, &removed).await?;
                Ok(PutOutcome::Unpublished { versions: removed })
            }
        }
    }

    /// Sets (`Some`) or clears (`None`) the deprecation message of versions; needs write.
    pub async fn npm_deprecate(
        &self,
        principal: &Principal,
        name: &PackageName,
        changes: &BTreeMap<String, Option<String>>,
    ) -> NpmResult<()> {
        let resolved = self
            .resolve(principal, &key_of(name), Operation::Write)
            .await?;
        if changes.is_empty() {
            return Ok(());
        }
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        npm::bump(&txn, resolved.package.id).await?;
        for (version, message) in changes {
            let row = packages::find_live_version(&txn, resolved.package.id, version)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("version {version}")))?;
            let mut metadata = row.metadata.clone();
            if let Some(object) = metadata.as_object_mut() {
                match message {
                    Some(message) => object.insert(
                        DEPRECATED.into(),
                        serde_json::Value::String(message.clone()),
                    ),
                    None => object.remove(DEPRECATED),
                };
            }
            packages::update_version_metadata(&txn, row.id, metadata).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Unpublishes versions (soft delete, restorable through the API); needs the right to delete. `latest` falls
    /// back to the highest remaining release, tags on removed versions go.
    pub async fn npm_remove_versions(
        &self,
        principal: &Principal,
        name: &PackageName,
        removed: &[String],
    ) -> NpmResult<()> {
        let key = key_of(name);
        let resolved = self.resolve(principal, &key, Operation::Delete).await?;
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        for version in removed {
            if let Some(row) =
                packages::find_live_version(&txn, resolved.package.id, version).await?
            {
                packages::set_version_deleted(&txn, row.id, Some(self.now())).await?;
            }
        }
        Self::npm_versions_changed(&txn, resolved.package.id).await?;
        txn.commit().await?;
        drop(_write);
        for version in removed {
            self.audit_package(
                principal,
                "package_version.delete",
                &resolved.owner,
                &resolved.package,
                Some(version),
            )
            .await;
        }
        Ok(())
    }

    /// `DELETE /pkg/-/file.tgz/-rev/R`: npm's second step of `npm unpublish pkg@version`, after the `PUT` that
    /// removed the version from the document. Idempotent for a version already removed; needs delete.
    pub async fn npm_unpublish_tarball(
        &self,
        principal: &Principal,
        name: &PackageName,
        file_name: &str,
    ) -> NpmResult<()> {
        let key = key_of(name);
        let resolved = self.resolve(principal, &key, Operation::Delete).await?;
        let Some(version) = version_of_tarball(name, file_name) else {
            return Err(ServiceError::NotFound(format!("tarball {file_name}")).into());
        };
        if packages::find_live_version(self.db(), resolved.package.id, &version)
            .await?
            .is_some()
        {
            self.npm_remove_versions(principal, name, &[version])
                .await?;
        }
        Ok(())
    }

    /// In the transaction that deleted or restored a version of an npm package, by whatever verb (npm's own or
    /// the REST API): a new revision, so that no cached packument lists a deleted version or misses a restored
    /// one, and dist-tags that name no deleted version.
    pub(crate) async fn npm_versions_changed(
        txn: &DatabaseTransaction,
        package_id: i64,
    ) -> crate::Result<()> {
        // After the change it follows, so a rendering of the old rows is labelled with the old revision.
        let Some(state) = npm::bump(txn, package_id).await? else {
            return Ok(());
        };
        let remaining: Vec<String> = packages::versions(txn, package_id, false)
            .await?
            .into_iter()
            .map(|row| row.version)
            .collect();
        let next = tags::after_removal(&tags_from_json(&state.dist_tags), &remaining);
        npm::set_dist_tags(txn, package_id, tags_to_json(&next)).await?;
        Ok(())
    }

    /// `npm unpublish pkg --force`: soft-deletes the package (restorable through the API); needs delete.
    pub async fn npm_unpublish_package(
        &self,
        principal: &Principal,
        name: &PackageName,
    ) -> NpmResult<()> {
        self.delete_package(principal, &key_of(name)).await?;
        Ok(())
    }

    /// The dist-tags of a package the principal may read.
    pub async fn npm_dist_tags(
        &self,
        principal: &Principal,
        name: &PackageName,
    ) -> NpmResult<DistTags> {
        let read = self.npm_read(principal, name).await?;
        let state = npm::state(self.db(), read.package.id)
            .await?
            .ok_or_else(|| self.missing(principal, PackageType::Npm))?;
        Ok(tags_from_json(&state.dist_tags))
    }

    /// Points `tag` at an existing version; needs write. The tag name is validated by the caller's parser.
    pub async fn npm_set_dist_tag(
        &self,
        principal: &Principal,
        name: &PackageName,
        tag: &str,
        version: &str,
    ) -> NpmResult<DistTags> {
        tags::validate_tag(tag)?;
        let resolved = self
            .resolve(principal, &key_of(name), Operation::Write)
            .await?;
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        let state = npm::bump(&txn, resolved.package.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("package {name}")))?;
        if packages::find_live_version(&txn, resolved.package.id, version)
            .await?
            .is_none()
        {
            return Err(ServiceError::NotFound(format!("version {version} of {name}")).into());
        }
        let mut tags = tags_from_json(&state.dist_tags);
        tags.insert(tag.to_owned(), version.to_owned());
        npm::set_dist_tags(&txn, resolved.package.id, tags_to_json(&tags)).await?;
        txn.commit().await?;
        Ok(tags)
    }

    /// Removes a tag other than `latest` (which always points at a live version); needs write.
    pub async fn npm_remove_dist_tag(
        &self,
        principal: &Principal,
        name: &PackageName,
        tag: &str,
    ) -> NpmResult<DistTags> {
        let resolved = self
            .resolve(principal, &key_of(name), Operation::Write)
            .await?;
        if tag == LATEST {
            return Err(ServiceError::Invalid(
                "the latest tag cannot be removed: point it at another version with `npm dist-tag add`"
                    .into(),
            )
            .into());
        }
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        let state = npm::bump(&txn, resolved.package.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("package {name}")))?;
        let mut tags = tags_from_json(&state.dist_tags);
        if tags.remove(tag).is_none() {
            return Err(ServiceError::NotFound(format!("dist-tag {tag} of {name}")).into());
        }
        npm::set_dist_tags(&txn, resolved.package.id, tags_to_json(&tags)).await?;
        txn.commit().await?;
        Ok(tags)
    }

    /// Opens a tarball for download and counts it.
    pub async fn npm_tarball(
        &self,
        principal: &Principal,
        name: &PackageName,
        file_name: &str,
    ) -> NpmResult<OpenedFile> {
        let read = self.npm_read(principal, name).await?;
        let Some(version) = version_of_tarball(name, file_name) else {
            return Err(ServiceError::NotFound(format!("tarball {file_name}")).into());
        };
        let files = self.version_files(read.package.id, &version).await?;
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

    /// `/-/v1/search`: the npm packages the principal may read, ranked by the protocol crate.
    pub async fn npm_search(
        &self,
        principal: &Principal,
        query: &search::Query,
    ) -> NpmResult<search::Response> {
        let mut owners: BTreeMap<i64, account::Model> = BTreeMap::new();
        let mut candidates = Vec::new();
        let needle = query.text.to_lowercase();
        for package in npm::live_packages(self.db()).await? {
            let owner = match owners.get(&package.owner_id) {
                Some(owner) => owner.clone(),
                None => {
                    let Some(owner) = accounts::by_id(self.db(), package.owner_id).await? else {
                        continue;
                    };
                    owners.insert(owner.id, owner.clone());
                    owner
                }
            };
            let facts = self.package_facts(principal, &owner, &package, 0).await?;
            if !authorize(&self.inner.policy, principal, Operation::Read, &facts).is_allowed() {
                continue;
            }
            let Some(state) = npm::state(self.db(), package.id).await? else {
                continue;
            };
            let tags = tags_from_json(&state.dist_tags);
            let Some(latest) = tags.get(LATEST) else {
                continue;
            };
            let Some(row) = packages::find_live_version(self.db(), package.id, latest).await?
            else {
                continue;
            };
            let Ok(name) =
                PackageName::parse(&format!("@{}/{}", owner.login.to_lowercase(), package.name))
            else {
                continue;
            };
            let description = row
                .metadata
                .get("description")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            let keywords: Vec<String> = row
                .metadata
                .get("keywords")
                .and_then(serde_json::Value::as_array)
                .map(|words| {
                    words
                        .iter()
                        .filter_map(|word| word.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            // Cheap pre-filter; the protocol crate ranks what is left.
            let haystack = format!(
                "{} {} {}",
                name.full(),
                description.as_deref().unwrap_or_default(),
                keywords.join(" ")
            )
            .to_lowercase();
            if !needle
                .split_whitespace()
                .all(|word| haystack.contains(word))
            {
                continue;
            }
            let publisher = match row.publisher_id {
                Some(id) => {
                    accounts::by_id(self.db(), id)
                        .await?
                        .map(|account| search::Publisher {
                            username: account.login,
                            email: None,
                        })
                }
                None => None,
            };
            candidates.push(search::Candidate {
                name,
                version: latest.clone(),
                description,
                keywords,
                date: rfc3339(state.modified_at),
                links: search::Links::default(),
                publisher,
            });
        }
        Ok(search::search(&candidates, query, &rfc3339(Utc::now())))
    }

    /// The login of the user behind a principal (`npm whoami`); 401 for anyone else.
    pub async fn npm_whoami(&self, principal: &Principal) -> NpmResult<String> {
        let Some(user) = principal.user() else {
            return Err(self.unauthenticated().into());
        };
        let account = accounts::by_id(self.db(), user.id.0)
            .await?
            .ok_or_else(|| self.unauthenticated())?;
        Ok(account.login)
    }

    /// `npm login` / `npm adduser` with the user name and a personal access token as the password: accepted when
    /// the token is live and belongs to that user. The answer hands the same token back for `.npmrc`.
    pub async fn npm_login(&self, login: &str, password: &Secret) -> NpmResult<String> {
        let principal = self.authenticate_token(password).await?;
        let Some(user) = principal.user() else {
            return Err(self.unauthenticated().into());
        };
        let account = accounts::by_id(self.db(), user.id.0)
            .await?
            .ok_or_else(|| self.unauthenticated())?;
        if !account.login.eq_ignore_ascii_case(login) {
            return Err(self.unauthenticated().into());
        }
        Ok(account.login)
    }

    fn unauthenticated(&self) -> ServiceError {
        ServiceError::Denied(entrepot_authz::Deny::Unauthenticated)
    }
}

/// The version a tarball file name (`name-1.0.0.tgz`) stands for.
fn version_of_tarball(name: &PackageName, file_name: &str) -> Option<String> {
    let version = file_name
        .strip_prefix(name.bare())?
        .strip_prefix('-')?
        .strip_suffix(".tgz")?;
    semver::Version::parse(version)
        .ok()
        .filter(|parsed| parsed.to_string() == version)
        .map(|_| version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarball_versions() {
        let name = PackageName::parse("@acme/lib").unwrap();
        assert_eq!(
            version_of_tarball(&name, "lib-1.2.3.tgz").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(
            version_of_tarball(&name, "lib-1.2.3-beta.1.tgz").as_deref(),
            Some("1.2.3-beta.1")
        );
        for bad in [
            "lib-1.2.tgz",
            "other-1.2.3.tgz",
            "lib-1.2.3.tar",
            "lib1.2.3.tgz",
        ] {
            assert_eq!(version_of_tarball(&name, bad), None, "{bad}");
        }
    }
}
