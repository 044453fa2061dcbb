//! Blobs written ahead of the transaction that records them, and their removal when that transaction fails.
//!
//! Bytes are written before rows (a row must never point at missing bytes). If the publish then fails, the bytes
//! this request created are removed again, unless a row already records them or another request in this process
//! has staged the same content meanwhile (it would otherwise lose its bytes). A crash between the write and the
//! commit leaves unrecorded bytes, which the purge job reclaims; they are never visible through any registry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use entrepot_blob::{BlobInfo, ByteStream, PutOptions};
use entrepot_store::blobs;

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

    fn holders(&self, sha256: &str) -> usize {
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
        Ok(StagedBlob {
            info: outcome.info,
            created: outcome.created,
            _pin: pin,
        })
    }

    /// Removes what a failed publish wrote, as far as nobody else can need it.
    pub(crate) async fn discard_staged(&self, staged: &[&StagedBlob]) {
        for blob in staged.iter().filter(|blob| blob.created) {
            if self.inner.staging.holders(&blob.info.sha256) > 1 {
                continue;
            }
            match blobs::by_sha256(self.db(), &blob.info.sha256).await {
                Ok(None) => {
                    if let Err(error) = self.inner.blobs.delete(&blob.info.sha256).await {
                        tracing::warn!(%error, sha256 = %blob.info.sha256, "could not remove a staged blob");
                    }
                }
                Ok(Some(_)) => {}
                Err(error) => {
                    tracing::warn!(%error, "could not check a staged blob; the purge job will reclaim it")
                }
            }
        }
    }
}
