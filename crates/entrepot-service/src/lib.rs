//! The service layer every registry front-end and the REST API go through.
//!
//! A front-end parses its protocol, then calls one function here per operation. Each function resolves the
//! principal's facts from the store, asks the permission core, and only then reads or writes rows and blobs,
//! inside one transaction where it writes. Front-ends never touch the database or the blob store directly.
//!
//! **Architecture Invariant:** no access decision is made in this crate; every "may they?" is a call into
//! `entrepot_authz`. This crate loads the facts and carries out what the core allowed.

mod accounts;
pub mod audit;
mod auth;
mod clock;
mod container;
mod downloads;
mod error;
mod lifecycle;
mod link;
mod maven;
mod npm;
mod packages;
mod read_cache;
mod staging;
mod versions_by_id;
mod views;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use entrepot_authz::Policy;
use entrepot_blob::{BlobStore, FsBlobStore, FsOptions};
use entrepot_store::Store;

pub use accounts::{NewRepository, NewUser, OrgSettingsUpdate};
pub use audit::{AuditEntry, AuditQuery};
pub use auth::{AuthCache, NewTokenRequest};
pub use clock::{Clock, ManualClock, SystemClock};
pub use container::{
    ContainerBlob, ContainerManifest, ImageAction, ImageName, MANIFEST_FILE, ManifestPush,
    ManifestRefusal, UploadState,
};
pub use entrepot_authz as authz;
pub use error::{Result, ServiceError};
pub use lifecycle::{GcReport, PurgeReport};
pub use link::{RepositoryRef, parse_repository_url};
pub use maven::{ChecksumAlgorithm, FileDeploy};
pub use npm::{NpmError, NpmResult, Packument, PutOutcome, RenderedDoc};
pub use packages::{ExistingVersion, GranteeRef, NewFile, PackageKey, PublishRequest};
pub use staging::StagedBlob;
pub use views::{
    CreatedToken, FileView, MemberView, OpenedFile, OrgSettingsView, PackageView, RepositoryView,
    TeamView, TokenView, UserView, VersionView,
};

/// A temp file of the blob store untouched for this long belongs to a write that died.
const STALE_TEMP_FILE: Duration = Duration::from_secs(3600);

/// What the service layer needs from configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// `sqlite://…?mode=rwc` or `postgres://…`.
    pub database_url: String,
    pub blob_dir: PathBuf,
    /// Blob writes bypass the page cache past this many bytes (see `FsOptions::direct_io_after`).
    pub direct_io_after: Option<u64>,
    pub policy: Policy,
    /// The external base URL (`https://packages.example.com`), used to recognise repository URLs when linking.
    pub base_url: Option<String>,
    /// How long a verified token is trusted without asking the database again. Revocation on this replica is
    /// immediate; on other replicas it takes at most this long.
    pub token_cache_ttl: Duration,
    pub workflow_token_ttl: Duration,
    /// How long a deleted package or version can be restored.
    pub restore_window: Duration,
    /// How long a blob that a writer touched is spared by the collector, whether or not anything references it
    /// yet: longer than any upload takes between writing its bytes and committing the rows that record them.
    pub blob_grace: Duration,
    pub clock: Arc<dyn Clock>,
}

impl ServiceConfig {
    pub fn new(database_url: impl Into<String>, blob_dir: impl Into<PathBuf>) -> Self {
        Self {
            database_url: database_url.into(),
            blob_dir: blob_dir.into(),
            direct_io_after: FsOptions::default().direct_io_after,
            policy: Policy::default(),
            base_url: None,
            token_cache_ttl: Duration::from_secs(30),
            workflow_token_ttl: Duration::from_secs(3600),
            restore_window: Duration::from_secs(30 * 24 * 3600),
            blob_grace: Duration::from_secs(3600),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The shared services: one per process, cheap to clone (everything inside is shared).
#[derive(Clone, Debug)]
pub struct Services {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    blobs: Arc<dyn BlobStore>,
    policy: Policy,
    base_url: Option<String>,
    auth_cache: AuthCache,
    workflow_token_ttl: Duration,
    restore_window: Duration,
    blob_grace: Duration,
    clock: Arc<dyn Clock>,
    audit: audit::AuditQueue,
    staging: staging::Pins,
    npm: npm::NpmCaches,
    read_cache: read_cache::ReadCache,
    downloads: downloads::DownloadCounter,
}

impl Services {
    /// Opens the database (running migrations) and the local blob store.
    pub async fn open(config: ServiceConfig) -> Result<Self> {
        let store = Store::open(&config.database_url).await?;
        // Other processes may share the blob directory (another replica, or `entrepot admin` beside a running
        // server): sweep only temp files old enough that no live upload can own them.
        let options = FsOptions {
            sweep_grace: STALE_TEMP_FILE,
            direct_io_after: config.direct_io_after,
            ..FsOptions::default()
        };
        let blobs: Arc<dyn BlobStore> =
            Arc::new(FsBlobStore::open_with(&config.blob_dir, options).await?);
        Ok(Self::with_parts(store, blobs, config))
    }

    /// Assembles the services from an open store and any blob store implementation.
    pub fn with_parts(store: Store, blobs: Arc<dyn BlobStore>, config: ServiceConfig) -> Self {
        let audit = audit::AuditQueue::start(store.db().clone());
        Self {
            inner: Arc::new(Inner {
                store,
                blobs,
                policy: config.policy,
                base_url: config
                    .base_url
                    .map(|url| url.trim_end_matches('/').to_owned()),
                auth_cache: AuthCache::new(config.token_cache_ttl),
                workflow_token_ttl: config.workflow_token_ttl,
                restore_window: config.restore_window,
                blob_grace: config.blob_grace,
                audit,
                clock: config.clock,
                staging: staging::Pins::default(),
                npm: npm::NpmCaches::new(),
                read_cache: read_cache::ReadCache::new(config.token_cache_ttl),
                downloads: downloads::DownloadCounter::default(),
            }),
        }
    }

    /// The store's write lock (SQLite), marking the data changed when taken and again when released, so that
    /// no read served from memory misses a write of this process (`read_cache`).
    pub(crate) async fn write_guard(&self) -> WriteGuard<'_> {
        self.data_changed();
        WriteGuard {
            _lock: self.inner.store.write_guard().await,
            cache: &self.inner.read_cache,
        }
    }

    /// For writes that take no write lock (single statements): call after the write.
    pub(crate) fn data_changed(&self) {
        self.inner.read_cache.changed();
    }

    /// Answers when the database does.
    pub async fn ready(&self) -> Result<()> {
        Ok(self.inner.store.ping().await?)
    }

    /// The time as the service's clock tells it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The blob store, for the janitor of upload sessions and for front-ends' streaming reads of what the service
    /// has already authorized (see [`Services::open_file`]).
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.inner.blobs
    }

    fn db(&self) -> &entrepot_store::DatabaseConnection {
        self.inner.store.db()
    }
}

/// See [`Services::write_guard`].
pub(crate) struct WriteGuard<'a> {
    _lock: Option<tokio::sync::MutexGuard<'a, ()>>,
    cache: &'a read_cache::ReadCache,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.cache.changed();
    }
}
