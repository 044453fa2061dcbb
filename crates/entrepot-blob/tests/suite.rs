//! The behaviour contract every `BlobStore` backend must meet, run against each backend.
//!
//! Each case is a generic async fn over a `Harness` (which can reopen the store on the
//! same storage, to simulate a restart, and list leftover staging files); the `suite!`
//! macro instantiates every case as a `#[tokio::test]` per backend, so a new backend gets
//! the whole contract by adding one line.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use entrepot_blob::object_store::memory::InMemory;
use entrepot_blob::{
    BlobError, BlobStore, ByteRange, ByteStream, Digest, FsBlobStore, FsOptions, ObjectBlobStore,
    PutOptions, UploadId, UploadOptions, bytes_stream,
};
use futures_util::{StreamExt, TryStreamExt};
use sha2::Digest as _;
use tempfile::TempDir;

#[async_trait]
trait Harness: Send + Sync + 'static {
    /// Opens a store instance on the harness's storage; a second call is a "restart".
    async fn open(&self) -> Arc<dyn BlobStore>;
    /// Files in the staging temp area, which must be empty whenever no write is running.
    fn temp_files(&self) -> Vec<PathBuf>;
    /// Whether racing writers of one new blob get exactly one `created: true`.
    fn exact_created(&self) -> bool;
}

struct FsHarness {
    dir: TempDir,
    options: FsOptions,
}

impl FsHarness {
    fn new() -> Self {
        Self {
            dir: TempDir::new().unwrap(),
            options: FsOptions::default(),
        }
    }

    /// Every write past its first byte goes through the direct-I/O path (aligned buffer, carried tail).
    fn direct() -> Self {
        Self {
            options: FsOptions {
                direct_io_after: Some(0),
                ..FsOptions::default()
            },
            ..Self::new()
        }
    }
}

#[async_trait]
impl Harness for FsHarness {
    async fn open(&self) -> Arc<dyn BlobStore> {
        Arc::new(
            FsBlobStore::open_with(self.dir.path(), self.options.clone())
                .await
                .unwrap(),
        )
    }
    fn temp_files(&self) -> Vec<PathBuf> {
        files_in(&self.dir.path().join("tmp"))
    }
    fn exact_created(&self) -> bool {
        true
    }
}

struct ObjectHarness {
    staging: TempDir,
    backend: Arc<InMemory>,
}

impl ObjectHarness {
    fn new() -> Self {
        Self {
            staging: TempDir::new().unwrap(),
            backend: Arc::new(InMemory::new()),
        }
    }
}

#[async_trait]
impl Harness for ObjectHarness {
    async fn open(&self) -> Arc<dyn BlobStore> {
        let store = ObjectBlobStore::open(self.backend.clone(), self.staging.path())
            .await
            .unwrap()
            .with_prefix("registry")
            .unwrap();
        Arc::new(store)
    }
    fn temp_files(&self) -> Vec<PathBuf> {
        files_in(&self.staging.path().join("tmp"))
    }
    fn exact_created(&self) -> bool {
        false
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// Deterministic pseudo-random bytes (xorshift), so large blobs are not trivially compressible.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Streams `bytes` in irregular chunk sizes, like a network body.
fn chunked(bytes: &[u8]) -> ByteStream {
    let sizes = [1usize, 7, 4096, 65_536, 100_003, 13];
    let mut chunks = Vec::new();
    let (mut at, mut i) = (0, 0);
    while at < bytes.len() {
        let n = sizes[i % sizes.len()].min(bytes.len() - at);
        chunks.push(Ok(Bytes::copy_from_slice(&bytes[at..at + n])));
        at += n;
        i += 1;
    }
    futures_util::stream::iter(chunks).boxed()
}

fn failing_after(bytes: &[u8]) -> ByteStream {
    let items = vec![
        Ok(Bytes::copy_from_slice(bytes)),
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    futures_util::stream::iter(items).boxed()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn sha512_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha512::digest(bytes))
}

fn sha256_of(bytes: &[u8]) -> Digest {
    Digest::sha256(sha256_hex(bytes)).unwrap()
}

async fn read_all(
    store: &dyn BlobStore,
    key: &str,
    range: Option<ByteRange>,
) -> Result<Vec<u8>, BlobError> {
    let reader = store.open(key, range).await?;
    let chunks: Vec<Bytes> = reader.stream.try_collect().await?;
    Ok(chunks.concat())
}

mod cases {
    use super::*;

    pub async fn put_get_roundtrip(h: impl Harness) {
        let store = h.open().await;
        let out = store
            .put(bytes_stream("hello"), PutOptions::new())
            .await
            .unwrap();
        assert!(out.created);
        assert_eq!(out.info.sha256, sha256_hex(b"hello"));
        assert_eq!(out.info.sha512, None);
        assert_eq!(out.info.size, 5);
        assert_eq!(store.stat(&out.info.sha256).await.unwrap(), Some(5));
        let reader = store.open(&out.info.sha256, None).await.unwrap();
        assert_eq!((reader.size, reader.range.clone()), (5, 0..5));
        assert_eq!(
            read_all(&*store, &out.info.sha256, None).await.unwrap(),
            b"hello"
        );
        assert!(h.temp_files().is_empty());
    }

    pub async fn large_streamed_roundtrip(h: impl Harness) {
        let store = h.open().await;
        // Over 8 MiB so the object store takes its multipart path.
        let body = data(9 * 1024 * 1024 + 7, 1);
        let opts = PutOptions::new()
            .expect_digest(sha256_of(&body))
            .expect_size(body.len() as u64);
        let out = store.put(chunked(&body), opts).await.unwrap();
        assert!(out.created);
        assert_eq!(out.info.size, body.len() as u64);
        assert_eq!(
            read_all(&*store, &out.info.sha256, None).await.unwrap(),
            body
        );
        assert!(h.temp_files().is_empty());
    }

    pub async fn empty_blob(h: impl Harness) {
        let store = h.open().await;
        let empty: ByteStream = futures_util::stream::empty().boxed();
        let out = store
            .put(
                empty,
                PutOptions::new()
                    .expect_digest(sha256_of(b""))
                    .expect_size(0),
            )
            .await
            .unwrap();
        assert_eq!(out.info.size, 0);
        assert_eq!(store.stat(&out.info.sha256).await.unwrap(), Some(0));
        assert!(
            read_all(&*store, &out.info.sha256, None)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            store.open(&out.info.sha256, Some(ByteRange::From(0))).await,
            Err(BlobError::InvalidRange)
        ));
    }

    pub async fn range_reads(h: impl Harness) {
        let store = h.open().await;
        let body = data(2 * 1024 * 1024 + 3, 2);
        let key = store
            .put(chunked(&body), PutOptions::new())
            .await
            .unwrap()
            .info
            .sha256;
        let len = body.len() as u64;
        let cases = [
            (ByteRange::FromTo(0, 0), 0..1),
            (ByteRange::FromTo(10, 19), 10..20),
            (ByteRange::FromTo(1_000_000, len + 100), 1_000_000..len),
            (ByteRange::From(len - 5), len - 5..len),
            (ByteRange::From(600_000), 600_000..len),
            (ByteRange::Last(9), len - 9..len),
            (ByteRange::Last(len + 1), 0..len),
        ];
        for (range, expected) in cases {
            let reader = store.open(&key, Some(range)).await.unwrap();
            assert_eq!(reader.size, len);
            assert_eq!(reader.range, expected, "{range:?}");
            let got: Vec<Bytes> = reader.stream.try_collect().await.unwrap();
            let expected_bytes = &body[expected.start as usize..expected.end as usize];
            assert!(got.concat() == expected_bytes, "{range:?}");
        }
        for bad in [
            ByteRange::From(len),
            ByteRange::FromTo(len, len + 1),
            ByteRange::FromTo(5, 4),
            ByteRange::Last(0),
        ] {
            assert!(
                matches!(
                    store.open(&key, Some(bad)).await,
                    Err(BlobError::InvalidRange)
                ),
                "{bad:?}"
            );
        }
        let missing = sha256_hex(b"missing");
        assert!(matches!(
            store.open(&missing, Some(ByteRange::From(0))).await,
            Err(BlobError::NotFound)
        ));
        assert!(matches!(
            store.open(&missing, None).await,
            Err(BlobError::NotFound)
        ));
    }

    pub async fn dedup_reports_created_false(h: impl Harness) {
        let store = h.open().await;
        let body = data(300_000, 3);
        let first = store.put(chunked(&body), PutOptions::new()).await.unwrap();
        let second = store
            .put(chunked(&body), PutOptions::new().with_sha512())
            .await
            .unwrap();
        assert!(first.created);
        assert!(!second.created);
        assert_eq!(first.info.sha256, second.info.sha256);
        assert_eq!(second.info.sha512, Some(sha512_hex(&body)));
        assert_eq!(
            read_all(&*store, &first.info.sha256, None).await.unwrap(),
            body
        );
        assert!(h.temp_files().is_empty());
    }

    pub async fn wrong_digest_leaves_nothing(h: impl Harness) {
        let store = h.open().await;
        let body = data(3 * 1024 * 1024, 4);
        let claimed = sha256_of(b"something else");
        let err = store
            .put(
                chunked(&body),
                PutOptions::new().expect_digest(claimed.clone()),
            )
            .await
            .unwrap_err();
        match err {
            BlobError::DigestMismatch { expected, actual } => {
                assert_eq!(expected, claimed);
                assert_eq!(actual, sha256_of(&body));
            }
            other => panic!("expected DigestMismatch, got {other:?}"),
        }
        assert_eq!(store.stat(&sha256_hex(&body)).await.unwrap(), None);
        assert_eq!(store.stat(claimed.hex()).await.unwrap(), None);
        assert!(h.temp_files().is_empty(), "{:?}", h.temp_files());
    }

    pub async fn wrong_size_leaves_nothing(h: impl Harness) {
        let store = h.open().await;
        let body = data(2 * 1024 * 1024, 5);
        let key = sha256_hex(&body);
        // Body longer than announced: refused as soon as it overruns.
        let err = store
            .put(chunked(&body), PutOptions::new().expect_size(1000))
            .await
            .unwrap_err();
        assert!(
            matches!(err, BlobError::SizeMismatch { expected: 1000, actual } if actual > 1000 && actual < 200_000),
            "{err:?}"
        );
        // Body shorter than announced, even with the right digest.
        let opts = PutOptions::new()
            .expect_digest(sha256_of(&body))
            .expect_size(body.len() as u64 + 1);
        let err = store.put(chunked(&body), opts).await.unwrap_err();
        assert!(
            matches!(err, BlobError::SizeMismatch { actual, .. } if actual == body.len() as u64),
            "{err:?}"
        );
        assert_eq!(store.stat(&key).await.unwrap(), None);
        assert!(h.temp_files().is_empty());
    }

    pub async fn body_error_leaves_nothing(h: impl Harness) {
        let store = h.open().await;
        let body = data(1_500_000, 6);
        let err = store
            .put(failing_after(&body), PutOptions::new())
            .await
            .unwrap_err();
        assert!(matches!(err, BlobError::Body(_)), "{err:?}");
        assert_eq!(store.stat(&sha256_hex(&body)).await.unwrap(), None);
        assert!(h.temp_files().is_empty());
    }

    pub async fn sha512_is_opt_in(h: impl Harness) {
        let store = h.open().await;
        let body = data(1_200_000, 7);
        let plain = store.put(chunked(&body), PutOptions::new()).await.unwrap();
        assert_eq!(plain.info.sha512, None);
        let other = data(1_200_000, 8);
        let with = store
            .put(chunked(&other), PutOptions::new().with_sha512())
            .await
            .unwrap();
        assert_eq!(with.info.sha512, Some(sha512_hex(&other)));
        assert_eq!(with.info.sha256, sha256_hex(&other));
    }

    pub async fn verify_by_sha512(h: impl Harness) {
        let store = h.open().await;
        let body = data(700_000, 9);
        let good = Digest::sha512(sha512_hex(&body)).unwrap();
        let out = store
            .put(chunked(&body), PutOptions::new().expect_digest(good))
            .await
            .unwrap();
        assert!(out.created);
        assert_eq!(out.info.sha512, Some(sha512_hex(&body)));
        assert_eq!(out.info.sha256, sha256_hex(&body));

        let other = data(700_000, 10);
        let bad = Digest::sha512(sha512_hex(b"nope")).unwrap();
        let err = store
            .put(chunked(&other), PutOptions::new().expect_digest(bad))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, BlobError::DigestMismatch { actual, .. } if actual.hex() == sha512_hex(&other)),
            "{err:?}"
        );
        assert_eq!(store.stat(&sha256_hex(&other)).await.unwrap(), None);
        assert!(h.temp_files().is_empty());
    }

    pub async fn concurrent_writers_same_blob(h: impl Harness) {
        let store = h.open().await;
        let body = Arc::new(data(2 * 1024 * 1024 + 11, 11));
        let digest = sha256_of(&body);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (store, body, digest) = (store.clone(), body.clone(), digest.clone());
                tokio::spawn(async move {
                    store
                        .put(chunked(&body), PutOptions::new().expect_digest(digest))
                        .await
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            let out = task.await.unwrap().unwrap();
            assert_eq!(out.info.sha256, digest.hex());
            created += usize::from(out.created);
        }
        assert!(created >= 1);
        if h.exact_created() {
            assert_eq!(created, 1);
        }
        assert_eq!(read_all(&*store, digest.hex(), None).await.unwrap(), *body);
        assert!(h.temp_files().is_empty());
    }

    pub async fn upload_append_and_commit(h: impl Harness) {
        let store = h.open().await;
        let body = data(3 * 1024 * 1024 + 5, 12);
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        assert_eq!(store.upload_status(&id).await.unwrap().size, 0);
        let mut offset = 0u64;
        for part in body.chunks(1024 * 1024 + 17) {
            offset = store
                .append_upload(&id, offset, chunked(part))
                .await
                .unwrap();
            assert_eq!(store.upload_status(&id).await.unwrap().size, offset);
        }
        assert_eq!(offset, body.len() as u64);
        let opts = PutOptions::new()
            .expect_digest(sha256_of(&body))
            .expect_size(body.len() as u64);
        let out = store.commit_upload(&id, opts).await.unwrap();
        assert!(out.created);
        assert_eq!(out.info.sha256, sha256_hex(&body));
        assert!(matches!(
            store.upload_status(&id).await,
            Err(BlobError::UploadNotFound)
        ));
        assert_eq!(
            read_all(&*store, &out.info.sha256, None).await.unwrap(),
            body
        );
        assert!(h.temp_files().is_empty());
    }

    pub async fn upload_wrong_offset(h: impl Harness) {
        let store = h.open().await;
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        assert_eq!(
            store
                .append_upload(&id, 0, bytes_stream("hello"))
                .await
                .unwrap(),
            5
        );
        for bad in [0, 3, 6] {
            let err = store
                .append_upload(&id, bad, bytes_stream("x"))
                .await
                .unwrap_err();
            assert!(
                matches!(err, BlobError::BadOffset { expected: 5, got } if got == bad),
                "{err:?}"
            );
        }
        // A refused append changed nothing.
        assert_eq!(
            store
                .append_upload(&id, 5, bytes_stream(" world"))
                .await
                .unwrap(),
            11
        );
        let out = store
            .commit_upload(
                &id,
                PutOptions::new().expect_digest(sha256_of(b"hello world")),
            )
            .await
            .unwrap();
        assert_eq!(out.info.size, 11);
    }

    pub async fn upload_concurrent_appends_serialise(h: impl Harness) {
        let store = h.open().await;
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        let body = Arc::new(data(2 * 1024 * 1024, 13));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (store, body) = (store.clone(), body.clone());
                tokio::spawn(async move { store.append_upload(&id, 0, chunked(&body)).await })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(n) => {
                    ok += 1;
                    assert_eq!(n, body.len() as u64);
                }
                Err(BlobError::BadOffset { expected, got: 0 }) => {
                    assert_eq!(expected, body.len() as u64)
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(ok, 1);
        let out = store
            .commit_upload(&id, PutOptions::new().expect_digest(sha256_of(&body)))
            .await
            .unwrap();
        assert_eq!(out.info.size, body.len() as u64);
    }

    pub async fn upload_resume_after_restart(h: impl Harness) {
        let body = data(2 * 1024 * 1024 + 99, 14);
        let (a, b) = body.split_at(1_000_001);
        let id = {
            let store = h.open().await;
            let id = store.start_upload(UploadOptions::default()).await.unwrap();
            store.append_upload(&id, 0, chunked(a)).await.unwrap();
            id
        };
        let store = h.open().await;
        let status = store.upload_status(&id).await.unwrap();
        assert_eq!(status.size, a.len() as u64);
        let err = store.append_upload(&id, 0, chunked(b)).await.unwrap_err();
        assert!(matches!(err, BlobError::BadOffset { expected, .. } if expected == a.len() as u64));
        let end = store
            .append_upload(&id, status.size, chunked(b))
            .await
            .unwrap();
        assert_eq!(end, body.len() as u64);
        drop(store);
        // Commit on yet another instance: the hash state is gone, so commit rehashes.
        let store = h.open().await;
        let out = store
            .commit_upload(
                &id,
                PutOptions::new()
                    .expect_digest(sha256_of(&body))
                    .expect_size(end),
            )
            .await
            .unwrap();
        assert!(out.created);
        assert_eq!(
            read_all(&*store, &out.info.sha256, None).await.unwrap(),
            body
        );
        assert!(matches!(
            store.upload_status(&id).await,
            Err(BlobError::UploadNotFound)
        ));
    }

    pub async fn upload_commit_mismatch_discards_session(h: impl Harness) {
        let store = h.open().await;
        let body = data(500_000, 15);
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        store.append_upload(&id, 0, chunked(&body)).await.unwrap();
        let err = store
            .commit_upload(&id, PutOptions::new().expect_digest(sha256_of(b"other")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, BlobError::DigestMismatch { ref actual, .. } if *actual == sha256_of(&body)),
            "{err:?}"
        );
        assert!(matches!(
            store.upload_status(&id).await,
            Err(BlobError::UploadNotFound)
        ));
        assert!(matches!(
            store
                .append_upload(&id, body.len() as u64, bytes_stream("x"))
                .await,
            Err(BlobError::UploadNotFound)
        ));
        assert_eq!(store.stat(&sha256_hex(&body)).await.unwrap(), None);
        assert!(
            store
                .list_uploads_older_than(chrono::Utc::now() + chrono::Duration::hours(1))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(h.temp_files().is_empty());
    }

    pub async fn upload_commit_size_mismatch(h: impl Harness) {
        let store = h.open().await;
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        store
            .append_upload(&id, 0, bytes_stream("hello"))
            .await
            .unwrap();
        let opts = PutOptions::new()
            .expect_digest(sha256_of(b"hello"))
            .expect_size(6);
        let err = store.commit_upload(&id, opts).await.unwrap_err();
        assert!(
            matches!(
                err,
                BlobError::SizeMismatch {
                    expected: 6,
                    actual: 5
                }
            ),
            "{err:?}"
        );
        assert!(matches!(
            store.upload_status(&id).await,
            Err(BlobError::UploadNotFound)
        ));
        assert_eq!(store.stat(&sha256_hex(b"hello")).await.unwrap(), None);
    }

    pub async fn upload_commit_by_sha512(h: impl Harness) {
        let body = data(1_300_000, 16);
        let sha512 = Digest::sha512(sha512_hex(&body)).unwrap();
        // Tracked incrementally from the start.
        let store = h.open().await;
        let id = store
            .start_upload(UploadOptions { sha512: true })
            .await
            .unwrap();
        store.append_upload(&id, 0, chunked(&body)).await.unwrap();
        let out = store
            .commit_upload(&id, PutOptions::new().expect_digest(sha512.clone()))
            .await
            .unwrap();
        assert_eq!(out.info.sha256, sha256_hex(&body));
        assert_eq!(out.info.sha512.as_deref(), Some(sha512.hex()));
        // Not tracked, and across a restart: commit rehashes for sha512.
        let other = data(1_300_000, 17);
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        store.append_upload(&id, 0, chunked(&other)).await.unwrap();
        let store = h.open().await;
        let good = Digest::sha512(sha512_hex(&other)).unwrap();
        let out = store
            .commit_upload(&id, PutOptions::new().expect_digest(good))
            .await
            .unwrap();
        assert!(out.created);
        assert_eq!(out.info.sha512, Some(sha512_hex(&other)));
    }

    pub async fn upload_commit_dedup(h: impl Harness) {
        let store = h.open().await;
        let body = data(100_000, 18);
        store.put(chunked(&body), PutOptions::new()).await.unwrap();
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        store.append_upload(&id, 0, chunked(&body)).await.unwrap();
        let out = store
            .commit_upload(&id, PutOptions::new().expect_digest(sha256_of(&body)))
            .await
            .unwrap();
        assert!(!out.created);
        assert!(matches!(
            store.upload_status(&id).await,
            Err(BlobError::UploadNotFound)
        ));
        assert_eq!(
            read_all(&*store, &out.info.sha256, None).await.unwrap(),
            body
        );
    }

    pub async fn upload_abort(h: impl Harness) {
        let store = h.open().await;
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        store
            .append_upload(&id, 0, bytes_stream("partial"))
            .await
            .unwrap();
        store.abort_upload(&id).await.unwrap();
        assert!(matches!(
            store.upload_status(&id).await,
            Err(BlobError::UploadNotFound)
        ));
        assert!(matches!(
            store.abort_upload(&id).await,
            Err(BlobError::UploadNotFound)
        ));
        assert!(matches!(
            store.append_upload(&id, 7, bytes_stream("x")).await,
            Err(BlobError::UploadNotFound)
        ));
        assert!(matches!(
            store.commit_upload(&id, PutOptions::new()).await,
            Err(BlobError::UploadNotFound)
        ));
        let unknown: UploadId = "0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b".parse().unwrap();
        assert!(matches!(
            store.upload_status(&unknown).await,
            Err(BlobError::UploadNotFound)
        ));
        assert!(matches!(
            "not-an-id".parse::<UploadId>(),
            Err(BlobError::UploadNotFound)
        ));
    }

    pub async fn upload_body_error_keeps_received_bytes(h: impl Harness) {
        let store = h.open().await;
        let body = data(1_500_000, 19);
        let (a, b) = body.split_at(1_100_000);
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        let err = store
            .append_upload(&id, 0, failing_after(a))
            .await
            .unwrap_err();
        assert!(matches!(err, BlobError::Body(_)), "{err:?}");
        let size = store.upload_status(&id).await.unwrap().size;
        assert_eq!(size, a.len() as u64);
        store.append_upload(&id, size, chunked(b)).await.unwrap();
        let out = store
            .commit_upload(&id, PutOptions::new().expect_digest(sha256_of(&body)))
            .await
            .unwrap();
        assert_eq!(out.info.size, body.len() as u64);
    }

    pub async fn upload_expiry_listing(h: impl Harness) {
        let store = h.open().await;
        let before = chrono::Utc::now() - chrono::Duration::seconds(1);
        let old = store.start_upload(UploadOptions::default()).await.unwrap();
        let young = store.start_upload(UploadOptions::default()).await.unwrap();
        store
            .append_upload(&young, 0, bytes_stream("abc"))
            .await
            .unwrap();
        let after = chrono::Utc::now() + chrono::Duration::seconds(1);
        assert!(
            store
                .list_uploads_older_than(before)
                .await
                .unwrap()
                .is_empty()
        );
        let listed = store.list_uploads_older_than(after).await.unwrap();
        let ids: Vec<UploadId> = listed.iter().map(|u| u.id).collect();
        assert_eq!(ids, vec![old, young]);
        assert_eq!(listed[1].size, 3);
        assert!(
            listed
                .iter()
                .all(|u| u.started_at > before && u.started_at < after)
        );
        // Survives a restart, and the janitor can then expire them.
        let store = h.open().await;
        for info in store.list_uploads_older_than(after).await.unwrap() {
            store.abort_upload(&info.id).await.unwrap();
        }
        assert!(
            store
                .list_uploads_older_than(after)
                .await
                .unwrap()
                .is_empty()
        );
    }

    pub async fn delete_blob(h: impl Harness) {
        let store = h.open().await;
        let key = store
            .put(bytes_stream("doomed"), PutOptions::new())
            .await
            .unwrap()
            .info
            .sha256;
        assert!(store.delete(&key).await.unwrap());
        assert_eq!(store.stat(&key).await.unwrap(), None);
        assert!(matches!(
            store.open(&key, None).await,
            Err(BlobError::NotFound)
        ));
        assert!(!store.delete(&key).await.unwrap());
        // And it can be stored again.
        assert!(
            store
                .put(bytes_stream("doomed"), PutOptions::new())
                .await
                .unwrap()
                .created
        );
    }

    pub async fn invalid_keys_rejected(h: impl Harness) {
        let store = h.open().await;
        let upper = sha256_hex(b"x").to_uppercase();
        for key in [
            "",
            "../../etc/passwd",
            "abc",
            upper.as_str(),
            &format!("sha256:{}", sha256_hex(b"x")),
        ] {
            assert!(
                matches!(store.stat(key).await, Err(BlobError::InvalidDigest(_))),
                "{key:?}"
            );
            assert!(
                matches!(
                    store.open(key, None).await,
                    Err(BlobError::InvalidDigest(_))
                ),
                "{key:?}"
            );
            assert!(
                matches!(store.delete(key).await, Err(BlobError::InvalidDigest(_))),
                "{key:?}"
            );
            assert!(store.local_path(key).is_none());
        }
    }
}

macro_rules! suite {
    ($backend:ident, $harness:expr) => {
        suite!(@cases $backend, $harness;
            put_get_roundtrip, large_streamed_roundtrip, empty_blob, range_reads,
            dedup_reports_created_false, wrong_digest_leaves_nothing, wrong_size_leaves_nothing,
            body_error_leaves_nothing, sha512_is_opt_in, verify_by_sha512,
            concurrent_writers_same_blob, upload_append_and_commit, upload_wrong_offset,
            upload_concurrent_appends_serialise, upload_resume_after_restart,
            upload_commit_mismatch_discards_session, upload_commit_size_mismatch,
            upload_commit_by_sha512, upload_commit_dedup, upload_abort,
            upload_body_error_keeps_received_bytes, upload_expiry_listing, delete_blob,
            invalid_keys_rejected,
        );
    };
    (@cases $backend:ident, $harness:expr; $($case:ident),* $(,)?) => {
        mod $backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    cases::$case($harness).await
                }
            )*
        }
    };
}

suite!(fs, FsHarness::new());
suite!(fs_direct, FsHarness::direct());
suite!(object, ObjectHarness::new());

/// Behaviour specific to the filesystem backend.
mod fs_only {
    use super::*;

    /// Polls instead of sleeping a fixed time, so a loaded CI machine does not flake.
    async fn wait_until(mut condition: impl FnMut() -> bool) {
        for _ in 0..500 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not reached within 5 s");
    }

    #[tokio::test]
    async fn layout_and_local_path() {
        let dir = TempDir::new().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let out = store
            .put(bytes_stream("layout"), PutOptions::new())
            .await
            .unwrap();
        let hex = &out.info.sha256;
        let expected = dir.path().join("blobs/sha256").join(&hex[..2]).join(hex);
        assert_eq!(store.local_path(hex), Some(expected.clone()));
        assert_eq!(std::fs::read(&expected).unwrap(), b"layout");
        for sub in ["tmp", "uploads"] {
            assert!(dir.path().join(sub).is_dir());
        }
        let id = store.start_upload(UploadOptions::default()).await.unwrap();
        let session = dir.path().join("uploads").join(id.to_string());
        assert!(session.join("data").is_file());
        let stamp = std::fs::read_to_string(session.join("startedat")).unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(&stamp).is_ok(),
            "{stamp}"
        );
    }

    #[tokio::test]
    async fn open_sweeps_crash_leftovers_but_keeps_sessions() {
        let dir = TempDir::new().unwrap();
        let id = {
            let store = FsBlobStore::open(dir.path()).await.unwrap();
            let id = store.start_upload(UploadOptions::default()).await.unwrap();
            store
                .append_upload(&id, 0, bytes_stream("keep"))
                .await
                .unwrap();
            id
        };
        // What a crash mid-put / mid-start leaves behind.
        std::fs::write(dir.path().join("tmp/put-crashed"), b"partial").unwrap();
        std::fs::create_dir(
            dir.path()
                .join("uploads/0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b"),
        )
        .unwrap();

        // With a grace period, fresh leftovers are spared (another process may own them).
        let store = FsBlobStore::open_with(
            dir.path(),
            FsOptions {
                sweep_grace: Duration::from_secs(3600),
                ..FsOptions::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(files_in(&dir.path().join("tmp")).len(), 1);
        drop(store);

        let store = FsBlobStore::open(dir.path()).await.unwrap();
        assert!(files_in(&dir.path().join("tmp")).is_empty());
        let sessions = files_in(&dir.path().join("uploads"));
        assert_eq!(
            sessions,
            vec![dir.path().join("uploads").join(id.to_string())]
        );
        assert_eq!(store.upload_status(&id).await.unwrap().size, 4);
        assert_eq!(store.sweep_temp(Duration::ZERO).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn cancelled_put_leaves_nothing() {
        let dir = TempDir::new().unwrap();
        let store = Arc::new(FsBlobStore::open(dir.path()).await.unwrap());
        // A body that never ends, as from a stalled client.
        let first = Bytes::from(data(2 * 1024 * 1024, 20));
        let endless: ByteStream = futures_util::stream::iter([Ok(first)])
            .chain(futures_util::stream::pending())
            .boxed();
        let task = {
            let store = store.clone();
            tokio::spawn(async move { store.put(endless, PutOptions::new()).await })
        };
        let tmp = dir.path().join("tmp");
        wait_until(|| files_in(&tmp).len() == 1).await;
        task.abort();
        let _ = task.await;
        // The write task may still be finishing its batch on the unlinked file, but the
        // name is gone as soon as the future is dropped.
        assert!(files_in(&dir.path().join("tmp")).is_empty());
    }
}
