//! Content-addressed blob storage with verified, atomic, streaming writes.
//!
//! Every package format Entrepôt serves stores its bytes here, keyed by the lowercase hex
//! sha256 of the content. The guarantees every backend gives:
//!
//! - a blob is visible only once complete and verified against the caller's expected
//!   digest and size; a mismatch is a typed error and leaves nothing behind;
//! - writes are deduplicated (`created: false` when the content was already stored) and
//!   safe under concurrent writers of the same content;
//! - bodies are streamed, never held whole in memory, and hashed in the same pass that
//!   writes them;
//! - resumable upload sessions (OCI chunked uploads) keep their state on disk and survive
//!   a restart.
//!
//! Callers hold an `Arc<dyn BlobStore>`. See `docs/blob-store.md` for the layout, crash
//! semantics and how to add a backend.

mod digest;
mod direct;
mod error;
mod fs;
mod hash;
mod object;
mod read;
mod staging;
mod store;
mod warm;

pub use digest::{Digest, DigestAlgorithm, DigestParseError, validate_sha256_hex};
pub use error::BlobError;
pub use fs::{FsBlobStore, FsOptions};
pub use object::ObjectBlobStore;
pub use store::{
    BlobInfo, BlobReader, BlobStore, ByteRange, ByteStream, PutOptions, PutOutcome, UploadId,
    UploadInfo, UploadOptions, bytes_stream,
};

/// Re-exported so callers can build an [`ObjectBlobStore`] without depending on the exact
/// `object_store` version themselves.
pub use object_store;
