//! `FsBlobStore`: blobs as files in a local directory, the embedded default backend.
//!
//! On-disk layout (in the spirit of distribution's `registry/storage/paths.go`):
//!
//! ```text
//! <root>/
//!   blobs/sha256/<hex[0..2]>/<hex>   immutable verified blob content, named by its sha256
//!   uploads/<id>/startedat           resumable upload session: RFC 3339 UTC start time
//!   uploads/<id>/data                  ... and the bytes received so far (append-only)
//!   tmp/put-<uuid>                   a single-shot `put` in flight
//! ```
//!
//! Everything lives on one filesystem, so publishing is a `link(2)` of the verified temp
//! (or upload `data`) file to its final name: atomic, and it fails with `EEXIST` when a
//! racing writer got there first, which is exactly the dedup answer (`created: false`).
//! Where hard links are unsupported it falls back to check-then-`rename(2)`, still atomic
//! (a racing writer may then replace an identical copy, which nobody can observe).
//!
//! Durability: the file is fsynced before it is linked and its shard directory after,
//! so a blob reported stored survives power loss. A crash at any point leaves at most a
//! file in `tmp/` (or a session in `uploads/`), never a partial blob: `tmp/` is swept when
//! the store is opened, sessions are expired by the janitor through the trait.
//!
//! One process should own a root. Several processes sharing one (e.g. over NFS) is safe for
//! blobs, but give them a `sweep_grace` so one's startup sweep cannot remove another's
//! in-flight temp files, and route each upload session to a single process.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::digest::validate_sha256_hex;
use crate::error::BlobError;
use crate::read;
use crate::staging::{Staged, Staging, blocking};
use crate::store::{
    BlobInfo, BlobReader, BlobStore, ByteRange, ByteStream, PutOptions, PutOutcome, UploadId,
    UploadInfo, UploadOptions,
};
use crate::warm::Warmer;

/// Options for [`FsBlobStore::open_with`].
#[derive(Debug, Clone)]
pub struct FsOptions {
    /// At open, temp files untouched for this long are removed. Zero (the default) removes
    /// every one, correct when this process alone owns the root.
    pub sweep_grace: Duration,
    /// fsync files and directories before reporting a blob stored. Only worth turning off
    /// for throwaway stores.
    pub durable: bool,
    /// A file being written switches to direct I/O (no page-cache copy) past this many bytes, and is read back
    /// into the page cache once published, after the client has its answer; `None` never does. Small files stay
    /// cached as they are written.
    pub direct_io_after: Option<u64>,
}

impl Default for FsOptions {
    fn default() -> Self {
        Self {
            sweep_grace: Duration::ZERO,
            durable: true,
            direct_io_after: Some(8 << 20),
        }
    }
}

/// A [`BlobStore`] on a local directory.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
    blobs_dir: PathBuf,
    durable: bool,
    /// Reads blobs written around the page cache back into it once published.
    warmer: Warmer,
    staging: Staging,
}

impl FsBlobStore {
    /// Opens (creating if needed) a store rooted at `root`, sweeping leftover temp files.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        Self::open_with(root, FsOptions::default()).await
    }

    pub async fn open_with(root: impl Into<PathBuf>, opts: FsOptions) -> Result<Self, BlobError> {
        let root = root.into();
        let blobs_dir = root.join("blobs").join("sha256");
        let dir = blobs_dir.clone();
        blocking(move || fs::create_dir_all(dir)).await?;
        let staging =
            Staging::open(&root, opts.durable, opts.direct_io_after, opts.sweep_grace).await?;
        Ok(Self {
            root,
            blobs_dir,
            durable: opts.durable,
            warmer: Warmer::default(),
            staging,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_path(&self, sha256: &str) -> Result<PathBuf, BlobError> {
        validate_sha256_hex(sha256)?;
        Ok(self.blobs_dir.join(&sha256[..2]).join(sha256))
    }

    /// Moves a verified file into place; `false` when the blob was already there.
    async fn publish(&self, src: PathBuf, info: &BlobInfo) -> Result<bool, BlobError> {
        let dst = self.blob_path(&info.sha256)?;
        let durable = self.durable;
        let path = dst.clone();
        let created = blocking(move || link_into_place(&src, &path, durable)).await?;
        if created
            && self
                .staging
                .direct_after()
                .is_some_and(|from| info.size > from)
        {
            self.warmer.warm(dst);
        }
        Ok(created)
    }
}

fn link_into_place(src: &Path, dst: &Path, durable: bool) -> io::Result<bool> {
    let shard = dst
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no parent"))?;
    if !shard.is_dir() {
        fs::create_dir_all(shard)?;
        if durable && let Some(parent) = shard.parent() {
            sync_dir(parent)?;
        }
    }
    match fs::hard_link(src, dst) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        // Filesystems without hard links (some FUSE, SMB, vfat mounts).
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
            ) =>
        {
            if dst.try_exists()? {
                return Ok(false);
            }
            fs::rename(src, dst)?;
        }
        Err(e) => return Err(e),
    }
    if durable {
        sync_dir(shard)?;
    }
    Ok(true)
}

/// Makes a directory's entries (a new name) durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows has no directory fsync; NTFS journals the rename itself.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

fn not_found(e: io::Error) -> BlobError {
    if e.kind() == io::ErrorKind::NotFound {
        BlobError::NotFound
    } else {
        BlobError::Io(e)
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, body: ByteStream, opts: PutOptions) -> Result<PutOutcome, BlobError> {
        let staged = self.staging.write_temp(body, &opts).await?;
        let created = self
            .publish(staged.file.path().to_owned(), &staged.info)
            .await?;
        // Removing the temp name frees the bytes themselves when the blob was already stored: for a large
        // duplicate that is tens of milliseconds of filesystem work the client need not wait for. A crash before
        // it runs leaves a temp file for the next sweep.
        let Staged { file, info } = staged;
        drop(tokio::task::spawn_blocking(move || drop(file)));
        Ok(PutOutcome { info, created })
    }

    async fn stat(&self, sha256: &str) -> Result<Option<u64>, BlobError> {
        let path = self.blob_path(sha256)?;
        match blocking(move || fs::metadata(path)).await {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn open(&self, sha256: &str, range: Option<ByteRange>) -> Result<BlobReader, BlobError> {
        let path = self.blob_path(sha256)?;
        let direct_after = self.staging.direct_after();
        let (file, size) = read::open(path, move |size| {
            direct_after.is_some_and(|from| size > from)
        })
        .await
        .map_err(not_found)?;
        let range = match range {
            Some(r) => r.resolve(size)?,
            None => 0..size,
        };
        Ok(BlobReader {
            size,
            stream: read::file_stream(file, range.clone()),
            range,
        })
    }

    async fn delete(&self, sha256: &str) -> Result<bool, BlobError> {
        let path = self.blob_path(sha256)?;
        match blocking(move || fs::remove_file(path)).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn local_path(&self, sha256: &str) -> Option<PathBuf> {
        self.blob_path(sha256).ok()
    }

    async fn start_upload(&self, opts: UploadOptions) -> Result<UploadId, BlobError> {
        self.staging.start(opts).await
    }

    async fn append_upload(
        &self,
        id: &UploadId,
        offset: u64,
        body: ByteStream,
    ) -> Result<u64, BlobError> {
        self.staging.append(id, offset, body).await
    }

    async fn upload_status(&self, id: &UploadId) -> Result<UploadInfo, BlobError> {
        self.staging.status(id).await
    }

    async fn commit_upload(
        &self,
        id: &UploadId,
        opts: PutOptions,
    ) -> Result<PutOutcome, BlobError> {
        let staged = self.staging.prepare_commit(id, &opts).await?;
        let created = self.publish(staged.data.clone(), &staged.info).await?;
        let info = staged.info.clone();
        self.staging.finish_commit(staged).await;
        Ok(PutOutcome { info, created })
    }

    async fn abort_upload(&self, id: &UploadId) -> Result<(), BlobError> {
        self.staging.abort(id).await
    }

    async fn list_uploads_older_than(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<UploadInfo>, BlobError> {
        self.staging.list_older_than(cutoff).await
    }

    async fn sweep_temp(&self, older_than: Duration) -> Result<usize, BlobError> {
        self.staging.sweep(older_than).await
    }
}
