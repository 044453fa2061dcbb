//! Small builders shared by the service tests.

use entrepot_blob::{PutOptions, bytes_stream};
use entrepot_service::authz::{PackageType, Principal};
use entrepot_service::{
    ExistingVersion, NewFile, PackageKey, PublishRequest, Result, Services, VersionView,
};

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
    let blob = services
        .stage_blob(bytes_stream(content.to_vec()), PutOptions::new())
        .await?;
    let request = PublishRequest {
        key: key.clone(),
        version: version.to_owned(),
        metadata: serde_json::json!({ "version": version }),
        files: vec![NewFile {
            name: name.to_owned(),
            blob,
            content_type: None,
            mutable: false,
        }],
        repository_url: repository_url.map(str::to_owned),
        visibility: None,
        existing_version: ExistingVersion::Conflict,
    };
    services
        .publish(principal, request)
        .await
        .map(|(_, version)| version)
}

pub fn sha256_hex(content: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(content))
}
