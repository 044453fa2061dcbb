//! Blobs written ahead of the transaction that records them, and their removal when that transaction fails.
//!
//! Bytes are written before rows (a row must never point at missing bytes). If the publish then fails, the bytes
//! this request created are removed again, unless a row already references them or another request in this
//! process has staged the same content meanwhile (it would otherwise lose its bytes).
//!
//! Staging also leases the bytes against the blob collector (`lifecycle.rs`): right after the write, the blob row
//! is created or touched under the shared side of the collector's lock, and the bytes are checked to be still
//! there. A crash after that leaves a row nothing references, which the collector reclaims after its grace.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use entrepot_blob::{BlobInfo, ByteStream, PutOptions};
use entrepot_store::{TransactionTrait, lifecycle};

use crate::{Result, Services};

/// In-flight staged digests of this process, with how many requests hold each.
#[derive(Debug, Default, Clone)]
pub(crate) struct Pins(Arc<Mutex<HashMap<String, usize>>>);

impl Pins {
    fn pin(&self, sha256: &str) -> Pin {
        *self
            .0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .entry(sha256.to_owned())
            .or_default() += 1;
        Pin {
            pins: self.clone(),
            sha256: sha256.to_owned(),
        }
    }

    pub(crate) fn holders(&self, sha256: &str) -> usize {
        self.0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .get(sha256)
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Debug)]
struct Pin {
    pins: Pins,
    sha256: String,
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut map = self
            .pins
            .0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(count) = map.get_mut(&self.sha256) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.sha256);
            }
        }
    }
}

/// Verified bytes in the blob store, not yet recorded by any row.
#[derive(Debug)]
pub struct StagedBlob {
    pub info: BlobInfo,
    /// Whether this request wrote the bytes (false when they were already stored).
    pub created: bool,
    _pin: Pin,
}

impl Services {
    /// Streams a body into the blob store, verified against `options`, ahead of a publish.
    pub async fn stage_blob(&self, body: ByteStream, options: PutOptions) -> Result<StagedBlob> {
        let outcome = self.inner.blobs.put(body, options).await?;
        let pin = self.inner.staging.pin(&outcome.info.sha256);
        self.lease_blob(&outcome.info).await?;
        Ok(StagedBlob {
            info: outcome.info,
            created: outcome.created,
            _pin: pin,
        })
    }

    /// Records or touches the blob row of bytes just written, under the shared side of the collector's lock, and
    /// checks that the bytes are still there: a collection that removed them before this touch is answered with a
    /// retryable error rather than a row pointing at nothing.
    pub(crate) async fn lease_blob(
        &self,
        info: &BlobInfo,
    ) -> Result<entrepot_store::entity::blob::Model> {
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        lifecycle::blob_lock(&txn, false).await?;
        let row = lifecycle::lease_blob(
            &txn,
            &info.sha256,
            info.sha512.as_deref(),
            info.size,
            self.now(),
        )
        .await?;
        if self.inner.blobs.stat(&info.sha256).await?.is_none() {
            return Err(crate::ServiceError::Internal(format!(
                "blob {} was collected while being written; retry",
                info.sha256
            )));
        }
        txn.commit().await?;
        Ok(row)
    }

    /// Removes what a failed publish wrote, as far as nobody else can need it.
    pub(crate) async fn discard_staged(&self, staged: &[&StagedBlob]) {
        for blob in staged.iter().filter(|blob| blob.created) {
            if self.inner.staging.holders(&blob.info.sha256) > 1 {
                continue;
            }
            if let Err(error) = self
                .remove_blob_if_unreferenced(&blob.info.sha256, None)
                .await
            {
                tracing::warn!(%error, sha256 = %blob.info.sha256, "could not remove a staged blob; the collector will");
            }
        }
    }

    /// Removes the blob's row and bytes if nothing references it (and, with a cutoff, nobody touched it since),
    /// under the exclusive side of the collector's lock. Returns whether it did.
    pub(crate) async fn remove_blob_if_unreferenced(
        &self,
        sha256: &str,
        cutoff: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool> {
        let _write = self.write_guard().await;
        let txn = self.db().begin().await?;
        lifecycle::blob_lock(&txn, true).await?;
        if !lifecycle::delete_blob_if_unreferenced(&txn, sha256, cutoff).await? {
            return Ok(false);
        }
        // Bytes go before the commit: if the commit fails, a row without bytes is left, which nothing references
        // and which the next writer of that content touches and finds empty (a retryable error).
        self.inner.blobs.delete(sha256).await?;
        txn.commit().await?;
        Ok(true)
    }
}
