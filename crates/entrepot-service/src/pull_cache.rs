//! Short-lived memory of what a container pull reads from the database: the facts the permission core decides
//! an image's access from, and which manifest a reference names.
//!
//! A manifest GET or HEAD would otherwise cost several queries (owner, package, the facts, the reference) before
//! it serves bytes that are already in memory. The decision itself is not cached: the permission core is asked
//! on every request, with facts at most [`MAX_TTL`] old (never older than the token cache's lifetime, so
//! `token_cache_ttl = 0` turns this cache off too).
//!
//! Freshness: every write this process makes through the service layer moves an epoch, and an entry filled
//! under an older epoch is a miss, so a change made on this replica is seen by its next request. A change made
//! by another replica or by `entrepot admin` beside a running server is seen within the TTL, as for revoked
//! tokens (docs/permissions.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use entrepot_authz::{PackageFacts, Principal};
use entrepot_store::entity::{account, package};
use moka::sync::Cache;

/// The longest an entry is trusted.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(2);

/// Enough for every image a busy replica serves at once; an entry is a few hundred bytes.
const CAPACITY: u64 = 50_000;

/// An image's rows and its facts as seen from one principal.
#[derive(Debug)]
pub(crate) struct ImageFacts {
    pub(crate) owner: Arc<account::Model>,
    pub(crate) package: Arc<package::Model>,
    pub(crate) facts: PackageFacts,
}

/// What a manifest reference resolved to.
#[derive(Debug)]
pub(crate) struct ResolvedManifest {
    pub(crate) digest: String,
    pub(crate) media_type: String,
    pub(crate) sha256: String,
}

/// (principal, owner login, image name), both names lower-cased.
type FactsKey = (Principal, Box<str>, Box<str>);
/// (package id, tag or digest).
type ManifestKey = (i64, Box<str>);

pub(crate) struct PullCache {
    epoch: AtomicU64,
    facts: Option<Cache<FactsKey, (u64, Arc<ImageFacts>)>>,
    manifests: Option<Cache<ManifestKey, (u64, Arc<ResolvedManifest>)>>,
}

impl std::fmt::Debug for PullCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullCache")
            .field("epoch", &self.epoch.load(Ordering::Relaxed))
            .field("enabled", &self.facts.is_some())
            .finish()
    }
}

impl PullCache {
    /// A cache whose entries live `min(MAX_TTL, token_cache_ttl)`; none at all when that is zero.
    pub(crate) fn new(token_cache_ttl: Duration) -> Self {
        let ttl = MAX_TTL.min(token_cache_ttl);
        let enabled = !ttl.is_zero();
        Self {
            epoch: AtomicU64::new(0),
            facts: enabled.then(|| build(ttl)),
            manifests: enabled.then(|| build(ttl)),
        }
    }

    /// Read before the database, so that a write landing during the read makes the entry stale at once.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Something changed in the database: forget everything.
    pub(crate) fn changed(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn facts_key(principal: &Principal, owner: &str, name: &str) -> FactsKey {
        (
            *principal,
            owner.to_lowercase().into_boxed_str(),
            name.to_lowercase().into_boxed_str(),
        )
    }

    pub(crate) fn get_facts(&self, key: &FactsKey) -> Option<Arc<ImageFacts>> {
        let (epoch, entry) = self.facts.as_ref()?.get(key)?;
        (epoch == self.epoch()).then_some(entry)
    }

    pub(crate) fn put_facts(&self, key: FactsKey, epoch: u64, entry: Arc<ImageFacts>) {
        if let Some(cache) = &self.facts {
            cache.insert(key, (epoch, entry));
        }
    }

    pub(crate) fn get_manifest(
        &self,
        package_id: i64,
        reference: &str,
    ) -> Option<Arc<ResolvedManifest>> {
        let cache = self.manifests.as_ref()?;
        let (epoch, entry) = cache.get(&(package_id, Box::from(reference)))?;
        (epoch == self.epoch()).then_some(entry)
    }

    pub(crate) fn put_manifest(
        &self,
        package_id: i64,
        reference: &str,
        epoch: u64,
        entry: Arc<ResolvedManifest>,
    ) {
        if let Some(cache) = &self.manifests {
            cache.insert((package_id, Box::from(reference)), (epoch, entry));
        }
    }
}

fn build<K, V>(ttl: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(CAPACITY)
        .time_to_live(ttl)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved() -> Arc<ResolvedManifest> {
        Arc::new(ResolvedManifest {
            digest: "sha256:ab".into(),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            sha256: "ab".into(),
        })
    }

    #[test]
    fn a_write_makes_every_entry_stale() {
        let cache = PullCache::new(Duration::from_secs(30));
        let epoch = cache.epoch();
        cache.put_manifest(1, "v1", epoch, resolved());
        assert!(cache.get_manifest(1, "v1").is_some());
        cache.changed();
        assert!(cache.get_manifest(1, "v1").is_none());
    }

    #[test]
    fn an_entry_read_before_a_write_is_stale_when_stored_after_it() {
        let cache = PullCache::new(Duration::from_secs(30));
        let epoch = cache.epoch();
        cache.changed();
        cache.put_manifest(1, "v1", epoch, resolved());
        assert!(cache.get_manifest(1, "v1").is_none());
    }

    #[test]
    fn no_token_cache_means_no_pull_cache() {
        let cache = PullCache::new(Duration::ZERO);
        cache.put_manifest(1, "v1", cache.epoch(), resolved());
        assert!(cache.get_manifest(1, "v1").is_none());
    }
}
