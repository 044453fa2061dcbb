//! Download counts, added up in memory and written in batches.
//!
//! Counting each download with its own two `UPDATE`s made every file GET a database write: on SQLite the GETs of
//! one busy file queue behind each other for the one writer's lock. Counts are kept here per version and written at
//! most every [`FLUSH_EVERY`] by the request that finds them due, before any decision that weighs them (the delete
//! guard), and when the server stops. A process killed outright loses at most that interval's counts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use entrepot_store::packages;

use crate::{Result, Services};

/// How long counts may wait in memory.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct Downloads {
    state: Mutex<Pending>,
    /// Serialises flushes, so that two never write one version's count twice and a delete waits for a flush
    /// already under way.
    flushing: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Pending {
    /// (package id, version id) → downloads not yet written.
    counts: HashMap<(i64, i64), u64>,
    since: Instant,
}

impl Downloads {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(Pending {
                counts: HashMap::new(),
                since: Instant::now(),
            }),
            flushing: tokio::sync::Mutex::new(()),
        }
    }

    /// Adds one download; true when the pending counts are due to be written.
    fn add(&self, package_id: i64, version_id: i64) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state.counts.entry((package_id, version_id)).or_default() += 1;
        state.since.elapsed() >= FLUSH_EVERY
    }

    fn take(&self) -> HashMap<(i64, i64), u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.since = Instant::now();
        std::mem::take(&mut state.counts)
    }

    fn put_back(&self, counts: HashMap<(i64, i64), u64>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for (key, n) in counts {
            *state.counts.entry(key).or_default() += n;
        }
    }
}

impl Services {
    /// Counts one download of a version (written within [`FLUSH_EVERY`]).
    pub(crate) async fn count_download(&self, package_id: i64, version_id: i64) -> Result<()> {
        if self.inner.downloads.add(package_id, version_id) {
            // Another request already writing them is enough.
            if let Ok(_flushing) = self.inner.downloads.flushing.try_lock() {
                self.write_downloads().await?;
            }
        }
        Ok(())
    }

    /// Writes every download counted in memory; before the counts are weighed, and at shutdown.
    pub async fn flush_downloads(&self) -> Result<()> {
        let _flushing = self.inner.downloads.flushing.lock().await;
        self.write_downloads().await
    }

    /// The caller holds `flushing`.
    async fn write_downloads(&self) -> Result<()> {
        let counts = self.inner.downloads.take();
        if counts.is_empty() {
            return Ok(());
        }
        // Counts are not read-cache facts: the store's lock without moving the read cache's epoch.
        let _write = self.inner.store.write_guard().await;
        let mut left = counts.clone();
        for (&(package_id, version_id), &n) in &counts {
            if let Err(error) =
                packages::count_downloads(self.db(), package_id, version_id, n).await
            {
                self.inner.downloads.put_back(left);
                return Err(error.into());
            }
            left.remove(&(package_id, version_id));
        }
        Ok(())
    }
}
