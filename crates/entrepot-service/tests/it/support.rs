//! Small builders shared by the service tests.

use entrepot_service::authz::{PackageType, Principal};
use entrepot_service::{PackageKey, Result, Services, VersionView};

pub fn npm(owner: &str, name: &str) -> PackageKey {
    PackageKey::new(owner, PackageType::Npm, name)
}

pub fn container(owner: &str, name: &str) -> PackageKey {
    PackageKey::new(owner, PackageType::Container, name)
}

pub fn maven(owner: &str, repo: &str, name: &str) -> PackageKey {
    PackageKey::new(owner, PackageType::Maven, name).in_repository(repo)
}

/// Stages `content` and publishes it as the one file `name` of `version`.
pub async fn publish_bytes(
    services: &Services,
    principal: &Principal,
    key: &PackageKey,
    version: &str,
    name: &str,
    content: &[u8],
) -> Result<VersionView> {
    publish_with(services, principal, key, version, name, content, None).await
}

pub async fn publish_with(
    services: &Services,
    principal: &Principal,
    key: &PackageKey,
    version: &str,
    name: &str,
    content: &[u8],
    repository_url: Option<&str>,
) -> Result<VersionView> {
    entrepot_testkit::publish_file(
        services,
        principal,
        key,
        version,
        name,
        content,
        repository_url,
    )
    .await
    .map(|(_, version)| version)
}

pub fn sha256_hex(content: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(content))
}
