//! Download counts kept in memory and written to the database in batches, so that a download never waits for
//! (or takes the write lock for) a row update.
//!
//! Every counted download adds one to a per-version counter. [`Services::flush_downloads`] moves the counters
//! into the database in one transaction; the server runs it every few seconds
//! ([`Services::spawn_download_flusher`]) and once more at graceful shutdown. Readers that need the true count
//! (the delete guard, the REST API) add what is pending to the stored number. Counts being flushed stay visible
//! until the flush has committed, so for that instant a reader may count them twice — never zero times: the
//! delete guard errs on the side of refusing. A crash loses at most one interval's counts; on several replicas
//! each sees its own pending counts plus everything flushed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use entrepot_store::{TransactionTrait, packages};

use crate::{Result, Services};

#[derive(Debug, Default)]
struct Counts {
    /// version id → (package id, downloads not yet in the database).
    pending: HashMap<i64, (i64, u64)>,
    /// What the flush under way is writing.
    in_flight: HashMap<i64, (i64, u64)>,
}

#[derive(Debug, Default)]
pub(crate) struct DownloadCounter {
    counts: Mutex<Counts>,
    /// One flush at a time (the interval's and the shutdown's may meet).
    flushing: tokio::sync::Mutex<()>,
}

impl DownloadCounter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding this lock leaves plain counters behind; they are still usable.
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn add(&self, package_id: i64, version_id: i64) {
        self.lock()
            .pending
            .entry(version_id)
            .or_insert((package_id, 0))
            .1 += 1;
    }

    /// Downloads of a version not yet in its row.
    pub(crate) fn version(&self, version_id: i64) -> u64 {
        let counts = self.lock();
        [&counts.pending, &counts.in_flight]
            .iter()
            .filter_map(|map| map.get(&version_id))
            .map(|(_, n)| n)
            .sum()
    }

    /// Downloads of a package's versions not yet in its row.
    pub(crate) fn package(&self, package_id: i64) -> u64 {
        let counts = self.lock();
        [&counts.pending, &counts.in_flight]
            .iter()
            .flat_map(|map| map.values())
            .filter(|(package, _)| *package == package_id)
            .map(|(_, n)| n)
            .sum()
    }

    fn start_flush(&self) -> HashMap<i64, (i64, u64)> {
        let mut counts = self.lock();
        let taken = std::mem::take(&mut counts.pending);
        counts.in_flight = taken.clone();
        taken
    }

    fn finish_flush(&self, written: bool) {
        let mut counts = self.lock();
        let in_flight = std::mem::take(&mut counts.in_flight);
        if !written {
            for (version, (package, n)) in in_flight {
                counts.pending.entry(version).or_insert((package, 0)).1 += n;
            }
        }
    }
}

impl Services {
    /// Counts one download of a version, in memory.
    pub(crate) fn count_download(&self, package_id: i64, version_id: i64) {
        self.inner.downloads.add(package_id, version_id);
    }

    /// Downloads of a version: stored plus pending.
    pub(crate) fn version_downloads(&self, version_id: i64, stored: i64) -> i64 {
        stored.max(0) + self.inner.downloads.version(version_id) as i64
    }

    /// Downloads of a package: stored plus pending.
    pub(crate) fn package_downloads(&self, package_id: i64, stored: i64) -> i64 {
        stored.max(0) + self.inner.downloads.package(package_id) as i64
    }

    /// Writes the pending download counts to the database in one transaction; returns how many downloads it
    /// wrote. On failure the counts stay pending for the next flush.
    pub async fn flush_downloads(&self) -> Result<u64> {
        let counter = &self.inner.downloads;
        let _one_at_a_time = counter.flushing.lock().await;
        let batch = counter.start_flush();
        if batch.is_empty() {
            counter.finish_flush(true);
            return Ok(0);
        }
        let written = self.write_counts(&batch).await;
        counter.finish_flush(written.is_ok());
        written?;
        Ok(batch.values().map(|(_, n)| n).sum())
    }

    async fn write_counts(&self, batch: &HashMap<i64, (i64, u64)>) -> Result<()> {
        let mut per_package: HashMap<i64, u64> = HashMap::new();
        for (package, n) in batch.values() {
            *per_package.entry(*package).or_default() += n;
        }
        // The store's lock, not `write_guard`: counts are in no cache, so nothing needs invalidating.
        let _write = self.inner.store.write_guard().await;
        let txn = self.db().begin().await?;
        for (version, (_, n)) in batch {
            packages::add_version_downloads(&txn, *version, *n as i64).await?;
        }
        for (package, n) in per_package {
            packages::add_package_downloads(&txn, package, n as i64).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Flushes the download counts every `interval` until the process ends (call [`Services::flush_downloads`]
    /// once more at shutdown). Needs a Tokio runtime with timers.
    pub fn spawn_download_flusher(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let services = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(error) = services.flush_downloads().await {
                    tracing::warn!(%error, "writing download counts failed; they stay pending");
                }
            }
        })
    }
}
