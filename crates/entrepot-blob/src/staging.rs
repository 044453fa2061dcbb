//! Local staging shared by every backend: verified temp-file writes and resumable upload
//! sessions, both on a local directory.
//!
//! Layout under the staging base (the store root for `FsBlobStore`):
//!
//! ```text
//! tmp/put-<uuid>           a `put` in flight; verified, then published and removed
//! uploads/<id>/startedat   RFC 3339 UTC start time, written first
//! uploads/<id>/data        bytes received so far; the session exists iff this file does
//! ```
//!
//! Writes are pipelined: the async side gathers the body into `WRITE_BATCH`-byte batches and
//! queues them to two blocking workers, one hashing and one writing, so network, hashing and
//! disk overlap. A large file is written with direct I/O past its first `direct_after` bytes
//! (see [`BlobWriter`]).

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::StreamExt;
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc};
use uuid::Uuid;

use crate::direct::BlobWriter;
use crate::error::BlobError;
use crate::hash::{Hasher, hash_file, verify};
use crate::store::{BlobInfo, ByteStream, PutOptions, UploadId, UploadInfo, UploadOptions};

/// Bytes gathered before handing a batch to the workers: big enough to amortise the hand-off
/// and the syscall, small enough that the queued batches of concurrent uploads stay cheap.
const WRITE_BATCH: usize = 1 << 20;
/// Stay well below IOV_MAX (1024 on Linux) for one `writev`.
const MAX_IOVECS: usize = 512;

/// A long write asks the disk to catch up every this many bytes (see [`Flusher`]).
const FLUSH_EVERY: u64 = 32 << 20;

const DATA: &str = "data";
const STARTED_AT: &str = "startedat";
/// Written into a session when a background flush of its data failed: the bytes may not be on disk, so the
/// session can never be committed, even by a process that did not see the failure.
const FLUSH_FAILED: &str = "flushfailed";

/// Runs blocking filesystem work off the async threads.
pub(crate) async fn blocking<T, F>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

/// A temp file removed when dropped, so every early return, error and cancelled future
/// cleans up after itself. A hard crash is covered by the startup sweep instead.
pub(crate) struct TempFile {
    path: PathBuf,
}

impl TempFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        match fs::remove_file(&self.path) {
            Ok(()) => {}
            // Already moved into place by a rename.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "could not remove blob temp file")
            }
        }
    }
}

/// A verified `put` waiting to be published; dropping it discards the temp file.
pub(crate) struct Staged {
    pub(crate) file: TempFile,
    pub(crate) info: BlobInfo,
}

/// A verified upload waiting to be published. Holds the session lock so nothing appends
/// to or aborts the session while the backend moves `data` into place.
pub(crate) struct StagedUpload {
    pub(crate) data: PathBuf,
    pub(crate) info: BlobInfo,
    id: UploadId,
    lock: OwnedMutexGuard<Session>,
}

/// In-process state of one upload session: only the incremental hasher, which cannot be
/// persisted. `None` means it is lost (restart, failed write) and commit must rehash.
#[derive(Default)]
pub(crate) struct Session {
    hasher: Option<Hasher>,
    /// Set by a background flush that failed (see [`FLUSH_FAILED`]).
    flush_failed: Arc<AtomicBool>,
}

pub(crate) struct Staging {
    tmp_dir: PathBuf,
    uploads_dir: PathBuf,
    durable: bool,
    /// Files grow past this many bytes with direct I/O; `None` keeps every write in the page cache.
    direct_after: Option<u64>,
    /// Per-session locks. Entries are created on use and dropped on commit/abort or when the
    /// session turns out not to exist, so unknown ids from clients do not accumulate.
    sessions: StdMutex<HashMap<UploadId, Arc<Mutex<Session>>>>,
}

impl fmt::Debug for Staging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Staging")
            .field("tmp_dir", &self.tmp_dir)
            .field("uploads_dir", &self.uploads_dir)
            .field("durable", &self.durable)
            .finish_non_exhaustive()
    }
}

impl Staging {
    /// Creates the staging directories under `base` and sweeps what a previous process
    /// left in `tmp/` (entries untouched for `sweep_grace`).
    pub(crate) async fn open(
        base: &Path,
        durable: bool,
        direct_after: Option<u64>,
        sweep_grace: Duration,
    ) -> Result<Self, BlobError> {
        let staging = Self {
            tmp_dir: base.join("tmp"),
            uploads_dir: base.join("uploads"),
            durable,
            direct_after,
            sessions: StdMutex::default(),
        };
        let (tmp, uploads) = (staging.tmp_dir.clone(), staging.uploads_dir.clone());
        blocking(move || {
            fs::create_dir_all(&tmp)?;
            fs::create_dir_all(&uploads)
        })
        .await?;
        let removed = staging.sweep(sweep_grace).await?;
        if removed > 0 {
            tracing::info!(removed, dir = %staging.tmp_dir.display(), "swept stale blob temp files");
        }
        Ok(staging)
    }

    /// Streams `body` to a fresh temp file, hashing on the way, and verifies it.
    pub(crate) async fn write_temp(
        &self,
        mut body: ByteStream,
        opts: &PutOptions,
    ) -> Result<Staged, BlobError> {
        let temp = TempFile {
            path: self.tmp_dir.join(format!("put-{}", Uuid::new_v4())),
        };
        let path = temp.path.clone();
        let file = blocking(move || File::create_new(path)).await?;
        let failed = Arc::new(AtomicBool::new(false));
        let sink = Sink {
            file: BlobWriter::new(file, 0, self.direct_after),
            hasher: Some(Hasher::new(opts.wants_sha512())),
            written: 0,
            _lock: None,
            flush: self
                .durable
                .then(|| Flusher::new(temp.path.clone(), failed.clone(), None)),
        };
        let (sink, result) = pump(sink, &mut body, opts.size).await;
        result.map_err(PumpError::into_blob)?;
        let Some(Sink {
            file,
            hasher: Some(hasher),
            ..
        }) = sink
        else {
            return Err(io::Error::other("blob write task lost its state").into());
        };
        let info = hasher.finish();
        verify(&info, opts)?;
        if self.durable {
            blocking(move || file.file().sync_all()).await?;
            if failed.load(Ordering::Acquire) {
                return Err(io::Error::other("a background flush of the blob failed").into());
            }
        }
        Ok(Staged { file: temp, info })
    }

    /// Files grow past this many bytes with direct I/O (see [`BlobWriter`]).
    pub(crate) fn direct_after(&self) -> Option<u64> {
        self.direct_after
    }

    pub(crate) async fn start(&self, opts: UploadOptions) -> Result<UploadId, BlobError> {
        let id = UploadId::generate();
        let dir = self.session_dir(&id);
        let started = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        blocking(move || {
            fs::create_dir(&dir)?;
            fs::write(dir.join(STARTED_AT), started)?;
            // Last, because its existence is what makes the session real.
            File::create_new(dir.join(DATA)).map(drop)
        })
        .await?;
        // A fresh hasher at offset 0, so appends hash as they go and commit need not reread.
        let session = Session {
            hasher: Some(Hasher::new(opts.sha512)),
            flush_failed: Arc::default(),
        };
        self.lock_table().insert(id, Arc::new(Mutex::new(session)));
        Ok(id)
    }

    pub(crate) async fn append(
        &self,
        id: &UploadId,
        offset: u64,
        mut body: ByteStream,
    ) -> Result<u64, BlobError> {
        let mut lock = self.lock(id).await?;
        let data = self.data_path(id);
        let (file, len) = blocking(move || {
            let file = OpenOptions::new().append(true).open(data)?;
            let len = file.metadata()?.len();
            Ok((file, len))
        })
        .await
        .map_err(upload_not_found)?;
        if offset != len {
            return Err(BlobError::BadOffset {
                expected: len,
                got: offset,
            });
        }
        let hasher = lock.hasher.take().filter(|h| h.size() == len);
        let flush = self.durable.then(|| {
            Flusher::new(
                self.data_path(id),
                lock.flush_failed.clone(),
                Some(self.session_dir(id).join(FLUSH_FAILED)),
            )
        });
        // The lock travels with the file into the write task: if this future is dropped
        // mid-batch, the session stays locked until that batch has reached the file.
        let sink = Sink {
            file: BlobWriter::new(file, len, self.direct_after),
            hasher,
            written: 0,
            _lock: Some(lock),
            flush,
        };
        let (sink, result) = pump(sink, &mut body, None).await;
        let Some(mut sink) = sink else {
            return Err(result.err().map_or_else(
                || io::Error::other("append task lost").into(),
                PumpError::into_blob,
            ));
        };
        let new_len = len + sink.written;
        if let Some(lock) = sink._lock.as_mut() {
            // After a failed write the file may hold bytes the hasher did not see (or the
            // reverse), so only a clean run keeps the incremental state.
            lock.hasher = match &result {
                Err(PumpError::Io(_)) => None,
                _ => sink.hasher.take(),
            };
        }
        drop(sink);
        result.map_err(PumpError::into_blob)?;
        Ok(new_len)
    }

    pub(crate) async fn status(&self, id: &UploadId) -> Result<UploadInfo, BlobError> {
        let (dir, id) = (self.session_dir(id), *id);
        blocking(move || read_session(&dir, id))
            .await
            .map_err(upload_not_found)
    }

    /// Verifies the session's data; on a mismatch the session is discarded.
    pub(crate) async fn prepare_commit(
        &self,
        id: &UploadId,
        opts: &PutOptions,
    ) -> Result<StagedUpload, BlobError> {
        let mut lock = self.lock(id).await?;
        let data = self.data_path(id);
        let path = data.clone();
        let len = blocking(move || Ok(fs::metadata(path)?.len()))
            .await
            .map_err(upload_not_found)?;
        if let Some(expected) = opts.size
            && expected != len
        {
            self.remove_session(id, lock).await?;
            return Err(BlobError::SizeMismatch {
                expected,
                actual: len,
            });
        }
        let want_sha512 = opts.wants_sha512();
        let info = match lock.hasher.take() {
            Some(h) if h.size() == len && (h.has_sha512() || !want_sha512) => h.finish(),
            _ => {
                tracing::debug!(upload = %id, len, "rehashing upload data");
                let path = data.clone();
                blocking(move || hash_file(&path, want_sha512))
                    .await?
                    .finish()
            }
        };
        if let Err(e) = verify(&info, opts) {
            self.remove_session(id, lock).await?;
            return Err(e);
        }
        if self.durable {
            let path = data.clone();
            let marker = self.session_dir(id).join(FLUSH_FAILED);
            let failed_earlier = lock.flush_failed.load(Ordering::Acquire);
            blocking(move || {
                File::open(path)?.sync_all()?;
                if failed_earlier || marker.try_exists()? {
                    return Err(io::Error::other(
                        "a background flush of the upload failed; its bytes may not be on disk",
                    ));
                }
                Ok(())
            })
            .await?;
        }
        Ok(StagedUpload {
            data,
            info,
            id: *id,
            lock,
        })
    }

    /// Drops a session whose data has been published. The blob is already safe, so a
    /// failure here is only logged: the janitor will expire the leftover.
    pub(crate) async fn finish_commit(&self, staged: StagedUpload) {
        let id = staged.id;
        if let Err(e) = self.remove_session(&id, staged.lock).await {
            tracing::warn!(upload = %id, error = %e, "could not remove committed upload session");
        }
    }

    pub(crate) async fn abort(&self, id: &UploadId) -> Result<(), BlobError> {
        let lock = self.lock(id).await?;
        self.remove_session(id, lock).await
    }

    pub(crate) async fn list_older_than(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<UploadInfo>, BlobError> {
        let dir = self.uploads_dir.clone();
        let mut sessions = blocking(move || {
            let mut out = Vec::new();
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                let Some(id) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<UploadId>().ok())
                else {
                    continue;
                };
                match read_session(&entry.path(), id) {
                    Ok(info) if info.started_at < cutoff => out.push(info),
                    Ok(_) => {}
                    // Half-created, or committed/aborted while we looked.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        })
        .await?;
        sessions.sort_by_key(|s| (s.started_at, s.id));
        Ok(sessions)
    }

    pub(crate) async fn sweep(&self, older_than: Duration) -> Result<usize, BlobError> {
        let (tmp, uploads) = (self.tmp_dir.clone(), self.uploads_dir.clone());
        Ok(blocking(move || sweep_dirs(&tmp, &uploads, older_than)).await?)
    }

    fn session_dir(&self, id: &UploadId) -> PathBuf {
        self.uploads_dir.join(id.to_string())
    }

    fn data_path(&self, id: &UploadId) -> PathBuf {
        self.session_dir(id).join(DATA)
    }

    fn lock_table(&self) -> std::sync::MutexGuard<'_, HashMap<UploadId, Arc<Mutex<Session>>>> {
        // The table is only ever left consistent (single insert/remove), so poisoning by a
        // panic elsewhere is harmless.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks a session that exists on disk.
    async fn lock(&self, id: &UploadId) -> Result<OwnedMutexGuard<Session>, BlobError> {
        let cell = self.lock_table().entry(*id).or_default().clone();
        let lock = cell.lock_owned().await;
        let data = self.data_path(id);
        if blocking(move || data.try_exists()).await? {
            Ok(lock)
        } else {
            drop(lock);
            self.lock_table().remove(id);
            Err(BlobError::UploadNotFound)
        }
    }

    async fn remove_session(
        &self,
        id: &UploadId,
        lock: OwnedMutexGuard<Session>,
    ) -> Result<(), BlobError> {
        let dir = self.session_dir(id);
        let result = blocking(move || match fs::remove_dir_all(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        })
        .await;
        drop(lock);
        self.lock_table().remove(id);
        Ok(result?)
    }
}

fn upload_not_found(e: io::Error) -> BlobError {
    if e.kind() == io::ErrorKind::NotFound {
        BlobError::UploadNotFound
    } else {
        BlobError::Io(e)
    }
}

fn read_session(dir: &Path, id: UploadId) -> io::Result<UploadInfo> {
    let size = fs::metadata(dir.join(DATA))?.len();
    let started_at = fs::read_to_string(dir.join(STARTED_AT))
        .ok()
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
        // A torn or missing stamp (crash during start) falls back to the directory's
        // mtime, so the session still expires.
        .or_else(|| {
            fs::metadata(dir)
                .and_then(|m| m.modified())
                .ok()
                .map(DateTime::<Utc>::from)
        })
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    Ok(UploadInfo {
        id,
        size,
        started_at,
    })
}

fn sweep_dirs(tmp: &Path, uploads: &Path, older_than: Duration) -> io::Result<usize> {
    let cutoff = SystemTime::now()
        .checked_sub(older_than)
        .unwrap_or(UNIX_EPOCH);
    let is_stale = |meta: &fs::Metadata| meta.modified().map(|m| m <= cutoff).unwrap_or(true);
    let ignore_gone = |r: io::Result<()>| match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        other => other.map(|()| true),
    };
    let mut removed = 0;
    for entry in fs::read_dir(tmp)? {
        let entry = entry?;
        let Ok(meta) = entry.metadata() else { continue };
        if !is_stale(&meta) {
            continue;
        }
        let path = entry.path();
        let gone = if meta.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed += usize::from(ignore_gone(gone)?);
    }
    // Session directories that never got their data file: a crash inside `start`.
    for entry in fs::read_dir(uploads)? {
        let entry = entry?;
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_dir() || path.join(DATA).try_exists()? || !is_stale(&meta) {
            continue;
        }
        removed += usize::from(ignore_gone(fs::remove_dir_all(&path))?);
    }
    Ok(removed)
}

/// The destination of a pumped stream, moved into and out of blocking write tasks.
struct Sink {
    file: BlobWriter,
    hasher: Option<Hasher>,
    written: u64,
    _lock: Option<OwnedMutexGuard<Session>>,
    flush: Option<Flusher>,
}

/// Starts the disk on what a long write has put in the page cache while the rest of the body still arrives, so
/// that the fsync before the acknowledgement waits for the last few MiB instead of the whole blob, and the disk
/// works in parallel with the network and the hash. The acknowledging fsync is still made, as before.
///
/// Each flush runs on a thread of its own with a file description of its own: it never blocks the write, and a
/// writeback error it sees is still reported to the writer's fsync. A failure is also kept in a flag (and, for
/// an upload session, in a marker file), because a commit in a later request opens a new description, which
/// would not be told about an error that this flush already saw.
struct Flusher {
    path: PathBuf,
    unflushed: u64,
    busy: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    marker: Option<PathBuf>,
}

impl Flusher {
    fn new(path: PathBuf, failed: Arc<AtomicBool>, marker: Option<PathBuf>) -> Self {
        Self {
            path,
            unflushed: 0,
            busy: Arc::default(),
            failed,
            marker,
        }
    }

    /// Called after `len` more bytes reached the file.
    fn wrote(&mut self, len: u64) {
        self.unflushed += len;
        if self.unflushed < FLUSH_EVERY || self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        self.unflushed = 0;
        let (path, busy, failed, marker) = (
            self.path.clone(),
            self.busy.clone(),
            self.failed.clone(),
            self.marker.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("blob-flush".into())
            .spawn(move || {
                match File::open(&path).and_then(|file| file.sync_data()) {
                    Ok(()) => {}
                    // Committed, aborted or discarded meanwhile: nothing left to protect.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "background flush failed");
                        failed.store(true, Ordering::Release);
                        if let Some(marker) = marker
                            && let Err(e) = fs::write(&marker, b"")
                        {
                            tracing::warn!(path = %marker.display(), error = %e, "could not mark a failed flush");
                        }
                    }
                }
                busy.store(false, Ordering::Release);
            });
        // No thread to be had: the acknowledging fsync does all the work, as it would without this.
        if spawned.is_err() {
            self.busy.store(false, Ordering::Release);
        }
    }
}

enum PumpError {
    Body(io::Error),
    Io(io::Error),
    TooLarge { limit: u64, received: u64 },
}

impl PumpError {
    fn into_blob(self) -> BlobError {
        match self {
            Self::Body(e) => BlobError::Body(e),
            Self::Io(e) => BlobError::Io(e),
            Self::TooLarge { limit, received } => BlobError::SizeMismatch {
                expected: limit,
                actual: received,
            },
        }
    }
}

/// Copies `body` into `sink`, hashing on the way. Two blocking workers, one hashing and one writing, each
/// take batches from a queue of [`QUEUE_BATCHES`] while the async side keeps reading the body: with a queue
/// rather than one batch in flight, a moment where the network, the hash or the disk is slower than the others
/// is absorbed instead of stalling the other two. Bytes received before a body error are still written
/// (resumable uploads keep them). Returns the sink unless a worker panicked.
///
/// The session lock (if any) travels with the file into the writing worker: if this future is dropped, the
/// session stays locked until every queued batch has reached the file.
async fn pump(
    sink: Sink,
    body: &mut ByteStream,
    limit: Option<u64>,
) -> (Option<Sink>, Result<(), PumpError>) {
    let Sink {
        file,
        hasher,
        written,
        _lock,
        flush,
    } = sink;
    let (write_tx, write_rx) = mpsc::channel::<Arc<[Bytes]>>(QUEUE_BATCHES);
    let writing = tokio::task::spawn_blocking(move || write_worker(file, flush, _lock, write_rx));
    let (hash_tx, hashing) = match hasher {
        Some(mut hasher) => {
            let (tx, mut rx) = mpsc::channel::<Arc<[Bytes]>>(QUEUE_BATCHES);
            let task = tokio::task::spawn_blocking(move || {
                while let Some(batch) = rx.blocking_recv() {
                    hasher.update(&batch);
                }
                hasher
            });
            (Some(tx), Some(task))
        }
        None => (None, None),
    };

    let mut received: u64 = 0;
    let mut stop = None;
    let mut eof = false;
    while !eof && stop.is_none() {
        let mut batch: Vec<Bytes> = Vec::new();
        let mut batch_len = 0;
        while batch_len < WRITE_BATCH && batch.len() < MAX_IOVECS {
            match body.next().await {
                None => {
                    eof = true;
                    break;
                }
                Some(Err(e)) => {
                    stop = Some(PumpError::Body(e));
                    break;
                }
                Some(Ok(chunk)) => {
                    received += chunk.len() as u64;
                    if let Some(limit) = limit
                        && received > limit
                    {
                        stop = Some(PumpError::TooLarge { limit, received });
                        break;
                    }
                    if !chunk.is_empty() {
                        batch_len += chunk.len();
                        batch.push(chunk);
                    }
                }
            }
        }
        // The content is refused anyway; do not spend disk on it.
        if batch.is_empty() || matches!(stop, Some(PumpError::TooLarge { .. })) {
            continue;
        }
        let batch: Arc<[Bytes]> = batch.into();
        if let Some(tx) = &hash_tx {
            // A closed queue means the worker panicked; that surfaces below.
            let _ = tx.send(batch.clone()).await;
        }
        // Closed when the writer failed: its error is the one to report.
        if write_tx.send(batch).await.is_err() {
            break;
        }
    }
    drop((hash_tx, write_tx));

    let Ok(Written {
        file,
        flush,
        lock: _lock,
        written: added,
        result,
    }) = writing.await
    else {
        return (
            None,
            Err(PumpError::Io(io::Error::other("blob write task failed"))),
        );
    };
    let mut sink = Sink {
        file,
        hasher: None,
        written: written + added,
        _lock,
        flush,
    };
    if let Some(task) = hashing {
        match task.await {
            Ok(hasher) => sink.hasher = Some(hasher),
            Err(e) => return (Some(sink), Err(PumpError::Io(io::Error::other(e)))),
        }
    }
    let result = match (result, stop) {
        (Err(e), _) => Err(PumpError::Io(e)),
        (Ok(()), Some(stop)) => Err(stop),
        (Ok(()), None) => Ok(()),
    };
    (Some(sink), result)
}

/// Batches queued between the body and each worker: enough to ride out a slow moment of one of them, at
/// `QUEUE_BATCHES × WRITE_BATCH` bytes per upload at most.
const QUEUE_BATCHES: usize = 4;

/// What the writing worker hands back.
struct Written {
    file: BlobWriter,
    flush: Option<Flusher>,
    lock: Option<OwnedMutexGuard<Session>>,
    /// Bytes taken by the writer, all in the file when `result` is `Ok`.
    written: u64,
    result: io::Result<()>,
}

fn write_worker(
    mut file: BlobWriter,
    mut flush: Option<Flusher>,
    lock: Option<OwnedMutexGuard<Session>>,
    mut batches: mpsc::Receiver<Arc<[Bytes]>>,
) -> Written {
    let mut written = 0;
    let mut result = Ok(());
    while let Some(batch) = batches.blocking_recv() {
        let len: u64 = batch.iter().map(|b| b.len() as u64).sum();
        if let Err(e) = file.write(&batch) {
            result = Err(e);
            break;
        }
        written += len;
        if !file.is_direct()
            && let Some(flush) = flush.as_mut()
        {
            flush.wrote(len);
        }
    }
    // What the direct writer carries goes in too: once the body ends, every byte received is in the file, even
    // after a body error (a resumable upload keeps them).
    if result.is_ok() {
        result = file.finish();
    }
    Written {
        file,
        flush,
        lock,
        written,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(flusher: &Flusher) {
        while flusher.busy.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_flush_starts_only_once_enough_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        fs::write(&path, b"bytes").unwrap();
        let failed = Arc::new(AtomicBool::new(false));
        let mut flusher = Flusher::new(path, failed.clone(), None);
        flusher.wrote(FLUSH_EVERY - 1);
        assert_eq!(flusher.unflushed, FLUSH_EVERY - 1);
        flusher.wrote(1);
        assert_eq!(flusher.unflushed, 0);
        settled(&flusher);
        assert!(!failed.load(Ordering::Acquire));
    }

    #[test]
    fn a_file_gone_before_its_flush_is_no_failure() {
        let dir = tempfile::tempdir().unwrap();
        let failed = Arc::new(AtomicBool::new(false));
        let marker = dir.path().join(FLUSH_FAILED);
        let mut flusher = Flusher::new(
            dir.path().join("gone"),
            failed.clone(),
            Some(marker.clone()),
        );
        flusher.wrote(FLUSH_EVERY);
        settled(&flusher);
        assert!(!failed.load(Ordering::Acquire));
        assert!(!marker.exists());
    }
}
