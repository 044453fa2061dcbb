//! `ObjectBlobStore`: blobs in any `object_store` backend (S3 and friends; in-memory in tests).
//!
//! Keys: `<prefix>/blobs/sha256/<hex[0..2]>/<hex>`, the same shape as the filesystem store.
//!
//! Writes are staged on a local directory (same layout and code as `FsBlobStore`'s
//! `tmp/` and `uploads/`), verified there, and only then uploaded: small blobs with one
//! conditional `put` (`PutMode::Create`, so a racing writer sees `created: false`), large
//! ones with a multipart upload. Object stores make an object visible only when its
//! put or multipart upload completes, so no reader ever sees a partial blob.
//!
//! Upload sessions therefore live on the local staging disk: with several instances in
//! front of one bucket, route an upload's requests to one instance (or share the staging
//! directory). A multipart upload interrupted by a crash or a cancelled request is left
//! for the bucket's abort-incomplete-multipart lifecycle rule to reap.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::FuturesUnordered;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::{Path as ObjectPath, PathPart};
use object_store::{GetOptions, GetRange, ObjectStore, PutMode, PutPayload};

use crate::digest::validate_sha256_hex;
use crate::error::BlobError;
use crate::staging::{Staging, blocking};
use crate::store::{
    BlobReader, BlobStore, ByteRange, ByteStream, PutOptions, PutOutcome, UploadId, UploadInfo,
    UploadOptions,
};

/// Blobs up to this size go up in one request.
const SINGLE_PUT_MAX: u64 = 8 << 20;
/// Multipart part size; S3 wants >= 5 MiB parts and at most 10 000 of them.
const MIN_PART: u64 = 8 << 20;
const MAX_PARTS: u64 = 9_000;
/// Parts in flight at once per upload: bounds memory to this many parts.
const PART_CONCURRENCY: usize = 4;

/// A [`BlobStore`] over an [`ObjectStore`], staging writes on a local directory.
#[derive(Debug)]
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    staging: Staging,
}

impl ObjectBlobStore {
    /// Opens a store over `store`, staging writes and upload sessions under `staging_dir`
    /// (created if needed; leftover temp files from a previous run are swept).
    pub async fn open(
        store: Arc<dyn ObjectStore>,
        staging_dir: impl Into<PathBuf>,
    ) -> Result<Self, BlobError> {
        let staging_dir = staging_dir.into();
        // Staged files are deleted right after upload, so fsyncing them buys nothing.
        let staging = Staging::open(&staging_dir, false, None, Duration::ZERO).await?;
        Ok(Self {
            store,
            prefix: ObjectPath::default(),
            staging,
        })
    }

    /// Puts every key under `prefix` (e.g. a bucket shared with other data).
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self, BlobError> {
        self.prefix = ObjectPath::parse(prefix).map_err(BlobError::backend)?;
        Ok(self)
    }

    fn key(&self, sha256: &str) -> Result<ObjectPath, BlobError> {
        validate_sha256_hex(sha256)?;
        let tail = ["blobs", "sha256", &sha256[..2], sha256].map(PathPart::from);
        Ok(self.prefix.parts().chain(tail).collect())
    }

    async fn head(&self, key: &ObjectPath) -> Result<Option<u64>, BlobError> {
        match self
            .store
            .get_opts(key, GetOptions::new().with_head(true))
            .await
        {
            Ok(result) => Ok(Some(result.meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(BlobError::backend(e)),
        }
    }

    /// Uploads a verified local file as blob `sha256`; `false` when it was already stored.
    async fn publish(&self, src: &Path, sha256: &str, size: u64) -> Result<bool, BlobError> {
        let key = self.key(sha256)?;
        if self.head(&key).await?.is_some() {
            return Ok(false);
        }
        if size <= SINGLE_PUT_MAX {
            let path = src.to_owned();
            let bytes = blocking(move || std::fs::read(path)).await?;
            return self.put_small(&key, Bytes::from(bytes)).await;
        }
        self.put_multipart(&key, src, size).await?;
        Ok(true)
    }

    async fn put_small(&self, key: &ObjectPath, bytes: Bytes) -> Result<bool, BlobError> {
        let payload = PutPayload::from(bytes);
        let create = object_store::PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self.store.put_opts(key, payload.clone(), create).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            // Backends without conditional writes: the head above is the best we can do,
            // and overwriting identical bytes is harmless.
            Err(
                object_store::Error::NotImplemented { .. }
                | object_store::Error::NotSupported { .. },
            ) => {
                self.store
                    .put_opts(key, payload, Default::default())
                    .await
                    .map_err(BlobError::backend)?;
                Ok(true)
            }
            Err(e) => Err(BlobError::backend(e)),
        }
    }

    async fn put_multipart(
        &self,
        key: &ObjectPath,
        src: &Path,
        size: u64,
    ) -> Result<(), BlobError> {
        let part_size = MIN_PART.max(size.div_ceil(MAX_PARTS));
        let mut upload = self
            .store
            .put_multipart_opts(key, Default::default())
            .await
            .map_err(BlobError::backend)?;
        let path = src.to_owned();
        let mut file = blocking(move || std::fs::File::open(path)).await?;
        let mut in_flight: FuturesUnordered<object_store::UploadPart> = FuturesUnordered::new();
        let result: Result<(), BlobError> = async {
            loop {
                let (f, part) = blocking(move || {
                    let mut buf = Vec::with_capacity(part_size as usize);
                    (&file).take(part_size).read_to_end(&mut buf)?;
                    Ok((file, buf))
                })
                .await?;
                file = f;
                if part.is_empty() {
                    break;
                }
                while in_flight.len() >= PART_CONCURRENCY {
                    if let Some(done) = in_flight.next().await {
                        done.map_err(BlobError::backend)?;
                    }
                }
                in_flight.push(upload.put_part(PutPayload::from(part)));
            }
            while let Some(done) = in_flight.next().await {
                done.map_err(BlobError::backend)?;
            }
            upload.complete().await.map_err(BlobError::backend)?;
            Ok(())
        }
        .await;
        if result.is_err() {
            drop(in_flight);
            if let Err(e) = upload.abort().await {
                tracing::warn!(key = %key, error = %e, "could not abort multipart upload");
            }
        }
        result
    }
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    async fn put(&self, body: ByteStream, opts: PutOptions) -> Result<PutOutcome, BlobError> {
        let staged = self.staging.write_temp(body, &opts).await?;
        let created = self
            .publish(staged.file.path(), &staged.info.sha256, staged.info.size)
            .await?;
        Ok(PutOutcome {
            info: staged.info,
            created,
        })
    }

    async fn stat(&self, sha256: &str) -> Result<Option<u64>, BlobError> {
        let key = self.key(sha256)?;
        self.head(&key).await
    }

    async fn open(&self, sha256: &str, range: Option<ByteRange>) -> Result<BlobReader, BlobError> {
        let key = self.key(sha256)?;
        // Ranges are resolved here rather than by the backend so every store answers
        // unsatisfiable ranges identically; that costs a HEAD first.
        let (size, get_range) = match range {
            None => (None, None),
            Some(r) => {
                let size = self.head(&key).await?.ok_or(BlobError::NotFound)?;
                let resolved = r.resolve(size)?;
                (Some(size), Some(GetRange::Bounded(resolved)))
            }
        };
        let result = match self
            .store
            .get_opts(&key, GetOptions::new().with_range(get_range))
            .await
        {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
            Err(e) => return Err(BlobError::backend(e)),
        };
        let size = size.unwrap_or(result.meta.size);
        let range = result.range.clone();
        let stream = result.into_stream().map_err(io::Error::other).boxed();
        Ok(BlobReader {
            size,
            range,
            stream,
        })
    }

    async fn delete(&self, sha256: &str) -> Result<bool, BlobError> {
        let key = self.key(sha256)?;
        if self.head(&key).await?.is_none() {
            return Ok(false);
        }
        let mut deleted = self
            .store
            .delete_stream(futures_util::stream::iter([Ok(key)]).boxed());
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(BlobError::backend(e)),
            }
        }
        Ok(true)
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
        let created = self
            .publish(&staged.data, &staged.info.sha256, staged.info.size)
            .await?;
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
