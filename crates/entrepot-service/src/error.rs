//! The service layer's error: what went wrong, in terms each protocol edge can map to its own status and body.

use entrepot_authz::Deny;
use entrepot_blob::BlobError;
use entrepot_store::StoreError;

/// Errors of service operations. `Denied` carries the permission core's verdict unchanged, so every front-end
/// renders the four deny kinds the same way (401 with its challenge, 403, 404).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Denied(Deny),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Blob(BlobError),
    /// Anything the client cannot fix. Its text is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The HTTP status a generic edge would use; protocol edges may refine it.
    pub fn status(&self) -> u16 {
        match self {
            Self::Denied(deny) => deny.status(),
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::Invalid(_) => 400,
            Self::Blob(error) => match error {
                BlobError::DigestMismatch { .. }
                | BlobError::SizeMismatch { .. }
                | BlobError::InvalidDigest(_)
                | BlobError::Body(_) => 400,
                BlobError::NotFound | BlobError::UploadNotFound => 404,
                BlobError::InvalidRange | BlobError::BadOffset { .. } => 416,
                _ => 500,
            },
            Self::Internal(_) => 500,
        }
    }

    pub fn is_internal(&self) -> bool {
        self.status() >= 500
    }
}

impl From<Deny> for ServiceError {
    fn from(deny: Deny) -> Self {
        crate::audit::note_denied();
        Self::Denied(deny)
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::NotFound(what) => Self::NotFound(what),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<entrepot_store::DbErr> for ServiceError {
    fn from(error: entrepot_store::DbErr) -> Self {
        Self::from(StoreError::from(error))
    }
}

impl From<BlobError> for ServiceError {
    fn from(error: BlobError) -> Self {
        Self::Blob(error)
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
