//! The one error type every blob store operation returns.

use std::io;

use crate::digest::{Digest, DigestParseError};

/// A failed blob store operation.
///
/// The variants are chosen so the HTTP front-ends can answer without string matching:
///
/// | variant | OCI / HTTP answer |
/// | --- | --- |
/// | `DigestMismatch` | 400 `DIGEST_INVALID` |
/// | `SizeMismatch` | 400 `SIZE_INVALID` |
/// | `NotFound` | 404 `BLOB_UNKNOWN` |
/// | `UploadNotFound` | 404 `BLOB_UPLOAD_UNKNOWN` |
/// | `BadOffset` | 416, `Range: 0-{expected-1}` |
/// | `InvalidRange` | 416 |
/// | `InvalidDigest` | 400 `DIGEST_INVALID` / `UNSUPPORTED` (see [`DigestParseError`]) |
/// | `Body` | the client's request body failed (disconnect, bad chunking): 400 or just drop |
/// | `Io`, `Backend` | 500 |
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The content did not hash to the digest the caller expected. Nothing was stored.
    #[error("digest mismatch: expected {expected}, content is {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    /// The content length differs from the expected size. Nothing was stored. When a
    /// body overruns the expected size it is cut off early, so `actual` is then the number
    /// of bytes received before the write was refused.
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("blob not found")]
    NotFound,
    /// No such upload session (never existed, committed, aborted, expired or a malformed id).
    #[error("upload session not found")]
    UploadNotFound,
    /// An append did not start where the upload currently ends; `expected` is the
    /// current size, which is what the client must resume from.
    #[error("upload is at offset {expected}, append started at {got}")]
    BadOffset { expected: u64, got: u64 },
    /// The requested byte range cannot be satisfied for this blob.
    #[error("range not satisfiable")]
    InvalidRange,
    /// A digest or blob key given by the caller is malformed or unsupported.
    #[error(transparent)]
    InvalidDigest(#[from] DigestParseError),
    /// Reading the caller-supplied body stream failed. Kept apart from `Io` because it is
    /// the client's fault, not the server's.
    #[error("request body: {0}")]
    Body(#[source] io::Error),
    /// Local filesystem failure (disk full, permissions, ...).
    #[error("blob store I/O: {0}")]
    Io(#[from] io::Error),
    /// Remote storage backend failure.
    #[error("blob store backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl BlobError {
    pub(crate) fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(err))
    }
}
