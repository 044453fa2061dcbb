//! The `BlobStore` trait every backend implements, and the value types it speaks.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use uuid::Uuid;

use crate::digest::{Digest, DigestAlgorithm};
use crate::error::BlobError;

/// A body flowing into or out of the store. `BoxStream` is `Pin<Box<..>>`, hence `Unpin`;
/// an actix `Payload` adapts with `.map_err(io::Error::other).boxed()`.
pub type ByteStream = BoxStream<'static, io::Result<Bytes>>;

/// A one-chunk stream, for small bodies already in memory (manifests, tests).
pub fn bytes_stream(bytes: impl Into<Bytes>) -> ByteStream {
    futures_util::stream::once(std::future::ready(Ok(bytes.into()))).boxed()
}

/// What the store knows about a stored blob.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobInfo {
    /// Lowercase hex sha256: the blob's key in the store.
    pub sha256: String,
    /// Lowercase hex sha512, present only when it was computed for this write (asked for,
    /// or implied by a sha512 expected digest). The store never records it: keeping the
    /// sha512 -> sha256 index is the metadata database's job.
    pub sha512: Option<String>,
    pub size: u64,
}

/// Expectations and options for a write (`put`) or an upload commit.
///
/// Every expectation given is verified before the blob becomes visible; a failed one
/// leaves nothing behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// The digest the content must have. sha512 here turns sha512 computation on.
    pub digest: Option<Digest>,
    /// The exact size the content must have. A body that overruns it is refused as soon
    /// as it does, without spooling the rest to disk.
    pub size: Option<u64>,
    /// Also compute sha512 (returned in [`BlobInfo::sha512`]). Off by default because it
    /// costs about as much CPU as the sha256 itself (it runs on a second core).
    pub sha512: bool,
}

impl PutOptions {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn expect_digest(mut self, digest: Digest) -> Self {
        self.digest = Some(digest);
        self
    }

    pub fn expect_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    pub fn with_sha512(mut self) -> Self {
        self.sha512 = true;
        self
    }

    /// Whether this write has to compute sha512, either asked or implied by the digest.
    pub fn wants_sha512(&self) -> bool {
        self.sha512
            || self
                .digest
                .as_ref()
                .is_some_and(|d| d.algorithm() == DigestAlgorithm::Sha512)
    }
}

/// Result of a successful `put` or `commit_upload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    pub info: BlobInfo,
    /// `false` when the blob was already stored (the new copy was dropped). Exact on the
    /// filesystem store; on object storage two racing writers of the same new blob may
    /// both see `true` (both wrote identical bytes to the same key).
    pub created: bool,
}

/// An HTTP-style byte range request (RFC 9110 §14.1.2), not yet resolved against a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last`, both inclusive. `last` past the end is clamped.
    FromTo(u64, u64),
    /// `bytes=first-`: from `first` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes (the whole blob if it is shorter).
    Last(u64),
}

impl ByteRange {
    /// The half-open byte range this request selects in a blob of `size` bytes, or
    /// `InvalidRange` when it selects nothing (the 416 case).
    pub fn resolve(self, size: u64) -> Result<Range<u64>, BlobError> {
        let range = match self {
            Self::FromTo(first, last) if first <= last && first < size => {
                first..last.saturating_add(1).min(size)
            }
            Self::From(first) if first < size => first..size,
            Self::Last(n) if n > 0 && size > 0 => size.saturating_sub(n)..size,
            _ => return Err(BlobError::InvalidRange),
        };
        Ok(range)
    }
}

/// An open blob: its total size, the byte range being streamed and the bytes themselves.
pub struct BlobReader {
    /// Size of the whole blob, for `Content-Range: bytes a-b/size`.
    pub size: u64,
    /// The half-open range `stream` yields; `0..size` when no range was asked for.
    pub range: Range<u64>,
    pub stream: ByteStream,
}

impl BlobReader {
    /// The `Content-Range` header value for a 206 answer.
    pub fn content_range(&self) -> String {
        if self.range.is_empty() {
            format!("bytes */{}", self.size)
        } else {
            format!(
                "bytes {}-{}/{}",
                self.range.start,
                self.range.end - 1,
                self.size
            )
        }
    }
}

impl fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobReader")
            .field("size", &self.size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// Identifier of a resumable upload session (a UUIDv7, so ids sort by start time).
///
/// Parsing rejects anything that is not a UUID, so an id taken from a URL can never name
/// a path outside the upload directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UploadId(Uuid);

impl UploadId {
    pub(crate) fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for UploadId {
    /// A malformed id can only name a session that does not exist, so the error is the
    /// one the registry answers for unknown sessions.
    type Err = BlobError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(s)
            .map(Self)
            .map_err(|_| BlobError::UploadNotFound)
    }
}

/// Hints given when an upload session starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadOptions {
    /// Hash sha512 incrementally as chunks arrive, so a commit that needs it (expected
    /// digest is sha512, or `PutOptions::sha512`) does not have to reread the data. Purely a
    /// performance hint: a commit computes whatever it needs regardless.
    pub sha512: bool,
}

/// The state of an upload session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    pub id: UploadId,
    /// Bytes received so far: the offset the next append must start at.
    pub size: u64,
    pub started_at: DateTime<Utc>,
}

/// Content-addressed blob storage.
///
/// Blobs are keyed by the lowercase hex sha256 of their content and are immutable: a blob
/// is either absent or complete and verified, never partially visible. Callers hold an
/// `Arc<dyn BlobStore>`; backends are [`FsBlobStore`](crate::FsBlobStore) (embedded
/// default) and [`ObjectBlobStore`](crate::ObjectBlobStore) (anything `object_store` reaches).
///
/// Methods taking a `sha256: &str` key reject anything but 64 lowercase hex characters
/// with [`BlobError::InvalidDigest`].
#[async_trait]
pub trait BlobStore: fmt::Debug + Send + Sync + 'static {
    /// Streams `body` into the store, verifying `opts`' expectations before the blob
    /// becomes visible. Safe to call concurrently for the same content.
    async fn put(&self, body: ByteStream, opts: PutOptions) -> Result<PutOutcome, BlobError>;

    /// Size of a stored blob, or `None` when absent.
    async fn stat(&self, sha256: &str) -> Result<Option<u64>, BlobError>;

    /// Opens a blob for reading, optionally a byte range of it. `NotFound` when absent,
    /// `InvalidRange` when the range selects nothing.
    async fn open(&self, sha256: &str, range: Option<ByteRange>) -> Result<BlobReader, BlobError>;

    /// Removes a blob; `false` when it was not there. Reference tracking (who still
    /// uses the blob) is the caller's business.
    async fn delete(&self, sha256: &str) -> Result<bool, BlobError>;

    /// Where the blob would live on the local filesystem, for `sendfile`-style serving.
    /// `None` for backends without local files or for a malformed key. The file may not
    /// exist (or vanish after this returns): treat `NotFound` on open as a 404.
    fn local_path(&self, sha256: &str) -> Option<PathBuf> {
        let _ = sha256;
        None
    }

    /// Starts a resumable upload session; its state is on disk and survives restarts.
    async fn start_upload(&self, opts: UploadOptions) -> Result<UploadId, BlobError>;

    /// Appends `body` to a session. `offset` must equal the session's current size, else
    /// `BadOffset { expected: current size }`. Returns the new size.
    ///
    /// If `body` fails midway (client gone), the bytes received up to the failure stay
    /// appended (the error is `Body`); the client resumes from `upload_status().size`.
    /// Appends to one session are serialised; a concurrent one waits, then usually gets
    /// `BadOffset`.
    async fn append_upload(
        &self,
        id: &UploadId,
        offset: u64,
        body: ByteStream,
    ) -> Result<u64, BlobError>;

    /// Current size and start time of a session. Does not wait for a running append, so
    /// the size may grow while one is in progress.
    async fn upload_status(&self, id: &UploadId) -> Result<UploadInfo, BlobError>;

    /// Verifies the session's data against `opts` and moves it into the store. On success
    /// or on a digest/size mismatch the session is gone afterwards (a mismatching upload is
    /// discarded entirely, as the OCI distribution reference does); on a backend failure it
    /// is kept so the commit can be retried.
    async fn commit_upload(&self, id: &UploadId, opts: PutOptions)
    -> Result<PutOutcome, BlobError>;

    /// Discards a session and its data.
    async fn abort_upload(&self, id: &UploadId) -> Result<(), BlobError>;

    /// Sessions started before `cutoff`, for a janitor to `abort_upload`.
    async fn list_uploads_older_than(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<Vec<UploadInfo>, BlobError>;

    /// Removes staging temp files not modified for `older_than` (left by crashes or
    /// cancelled writes) and half-created session directories. Sessions themselves are
    /// only removed through `abort_upload`. Returns how many entries were removed.
    async fn sweep_temp(&self, older_than: Duration) -> Result<usize, BlobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_resolution() {
        assert_eq!(ByteRange::FromTo(0, 4).resolve(10).unwrap(), 0..5);
        assert_eq!(ByteRange::FromTo(3, 3).resolve(10).unwrap(), 3..4);
        assert_eq!(ByteRange::FromTo(8, 100).resolve(10).unwrap(), 8..10);
        assert_eq!(ByteRange::FromTo(0, u64::MAX).resolve(10).unwrap(), 0..10);
        assert_eq!(ByteRange::From(7).resolve(10).unwrap(), 7..10);
        assert_eq!(ByteRange::Last(3).resolve(10).unwrap(), 7..10);
        assert_eq!(ByteRange::Last(30).resolve(10).unwrap(), 0..10);
        for bad in [
            ByteRange::FromTo(10, 12),
            ByteRange::FromTo(5, 4),
            ByteRange::From(10),
            ByteRange::Last(0),
        ] {
            assert!(
                matches!(bad.resolve(10), Err(BlobError::InvalidRange)),
                "{bad:?}"
            );
        }
        assert!(ByteRange::Last(1).resolve(0).is_err());
        assert!(ByteRange::From(0).resolve(0).is_err());
    }

    #[test]
    fn content_range_header() {
        let r = BlobReader {
            size: 10,
            range: 2..5,
            stream: bytes_stream("abc"),
        };
        assert_eq!(r.content_range(), "bytes 2-4/10");
    }

    #[test]
    fn upload_id_parsing() {
        let id = UploadId::generate();
        assert_eq!(id.to_string().parse::<UploadId>().unwrap(), id);
        assert!(matches!(
            "../../etc".parse::<UploadId>(),
            Err(BlobError::UploadNotFound)
        ));
        assert!("".parse::<UploadId>().is_err());
    }

    #[test]
    fn sha512_is_implied_by_digest() {
        assert!(!PutOptions::new().wants_sha512());
        assert!(PutOptions::new().with_sha512().wants_sha512());
        let d = Digest::sha512("0".repeat(128)).unwrap();
        assert!(PutOptions::new().expect_digest(d).wants_sha512());
    }
}
