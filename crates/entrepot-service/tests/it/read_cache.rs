//! The shared read cache is exact on its own replica: a read right after a deploy, a delete, a restore, a
//! visibility change or a revoked grant (well within the cache's lifetime) sees the change, on both databases.

use entrepot_blob::bytes_stream;
use entrepot_service::authz::{Deny, PackageType, Principal, Role, Visibility};
use entrepot_service::{
    ChecksumAlgorithm, FileDeploy, GranteeRef, PackageKey, ServiceError, Services,
};
use entrepot_testkit::{World, on_both};
use sha1::Digest as _;

use crate::support::{maven, npm, publish_bytes, sha256_hex};

async fn deploy(
    services: &Services,
    principal: &Principal,
    key: &PackageKey,
    version: &str,
    name: &str,
    content: &[u8],
) {
    let deploy = FileDeploy {
        key: key.clone(),
        version: version.to_owned(),
        file_name: name.to_owned(),
        content_type: None,
        mutable: version.ends_with("-SNAPSHOT"),
        size: None,
        metadata: None,
    };
    services
        .deploy_file(principal, deploy, bytes_stream(content.to_vec()))
        .await
        .unwrap();
}

async fn version_names(
    services: &Services,
    principal: &Principal,
    key: &PackageKey,
) -> Vec<String> {
    let mut names: Vec<String> = services
        .read_versions(principal, key)
        .await
        .unwrap()
        .iter()
        .map(|v| v.version.clone())
        .collect();
    names.sort();
    names
}

fn hidden<T>(result: Result<T, ServiceError>) -> bool {
    matches!(result, Err(ServiceError::Denied(Deny::NotFound)))
}

#[tokio::test]
async fn a_deploy_is_seen_by_the_next_read() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let max = world.principal("max").await;
        let key = maven("acme", "web", "com.example:cached");
        let everywhere = PackageKey::new("acme", PackageType::Maven, "com.example:cached");
        let s = &env.services;
        deploy(s, &max, &key, "1.0.0", "cached-1.0.0.jar", b"jar one").await;
        assert_eq!(version_names(s, &max, &key).await, ["1.0.0"]);
        assert_eq!(version_names(s, &max, &everywhere).await, ["1.0.0"]);
        assert_eq!(s.read_files(&max, &key, "1.0.0").await.unwrap().len(), 1);

        deploy(s, &max, &key, "1.1.0", "cached-1.1.0.jar", b"jar two").await;
        deploy(s, &max, &key, "1.0.0", "cached-1.0.0.pom", b"<project/>").await;
        assert_eq!(version_names(s, &max, &key).await, ["1.0.0", "1.1.0"]);
        assert_eq!(
            version_names(s, &max, &everywhere).await,
            ["1.0.0", "1.1.0"]
        );
        assert_eq!(s.read_files(&max, &key, "1.0.0").await.unwrap().len(), 2);

        // A SNAPSHOT file replaced with other bytes: its row, its checksums and its bytes all follow.
        let snapshot = "2.0.0-SNAPSHOT";
        let name = "cached-2.0.0-SNAPSHOT.jar";
        for content in [&b"first build"[..], &b"second build"[..]] {
            deploy(s, &max, &key, snapshot, name, content).await;
            let file = s.read_file(&max, &key, snapshot, name).await.unwrap();
            assert_eq!(file.sha256, sha256_hex(content));
            let sha1 = s
                .file_checksum(&max, &key, snapshot, name, ChecksumAlgorithm::Sha1)
                .await
                .unwrap();
            assert_eq!(sha1, hex::encode(sha1::Sha1::digest(content)));
            let opened = s.open_read_file(&max, &key, snapshot, name).await.unwrap();
            assert_eq!(opened.file.sha256, sha256_hex(content));
            assert_eq!(opened.reader.size, content.len() as u64);
        }
    })
    .await;
}

#[tokio::test]
async fn a_delete_and_a_restore_are_seen_by_the_next_read() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let (olga, max) = (world.principal("olga").await, world.principal("max").await);
        let key = maven("acme", "web", "com.example:gone");
        let s = &env.services;
        deploy(s, &max, &key, "1.0.0", "gone-1.0.0.jar", b"one").await;
        deploy(s, &max, &key, "1.1.0", "gone-1.1.0.jar", b"two").await;
        assert_eq!(version_names(s, &max, &key).await, ["1.0.0", "1.1.0"]);
        s.read_file(&max, &key, "1.1.0", "gone-1.1.0.jar")
            .await
            .unwrap();

        s.delete_version(&olga, &key, "1.1.0").await.unwrap();
        assert_eq!(version_names(s, &max, &key).await, ["1.0.0"]);
        let error = s
            .read_file(&max, &key, "1.1.0", "gone-1.1.0.jar")
            .await
            .unwrap_err();
        assert!(matches!(error, ServiceError::NotFound(_)), "{error:?}");

        s.restore_version(&olga, &key, "1.1.0").await.unwrap();
        assert_eq!(version_names(s, &max, &key).await, ["1.0.0", "1.1.0"]);
        s.read_file(&max, &key, "1.1.0", "gone-1.1.0.jar")
            .await
            .unwrap();

        s.delete_package(&olga, &key).await.unwrap();
        let error = s.read_versions(&max, &key).await.unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::NotFound)),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_revoked_grant_is_seen_by_the_next_read() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let (olga, mia) = (world.principal("olga").await, world.principal("mia").await);
        let key = npm("acme", "granted");
        let s = &env.services;
        publish_bytes(s, &olga, &key, "1.0.0", "granted-1.0.0.tgz", b"t")
            .await
            .unwrap();
        let mia_ref = GranteeRef::User("mia".into());
        s.grant(&olga, &key, &mia_ref, Role::Read).await.unwrap();
        assert_eq!(version_names(s, &mia, &key).await, ["1.0.0"]);

        s.revoke(&olga, &key, &mia_ref).await.unwrap();
        let error = s.read_versions(&mia, &key).await.unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::NotFound)),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_visibility_change_is_seen_by_the_next_read() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let (olga, max) = (world.principal("olga").await, world.principal("max").await);
        let outsider = world.principal("outsider").await;
        let key = maven("acme", "web", "com.example:shown");
        let s = &env.services;
        deploy(s, &max, &key, "1.0.0", "shown-1.0.0.jar", b"one").await;
        assert!(hidden(s.read_versions(&outsider, &key).await));

        s.set_repository_visibility(&olga, "acme", "web", Visibility::Public)
            .await
            .unwrap();
        assert_eq!(version_names(s, &outsider, &key).await, ["1.0.0"]);
        s.read_file(&outsider, &key, "1.0.0", "shown-1.0.0.jar")
            .await
            .unwrap();

        s.set_repository_visibility(&olga, "acme", "web", Visibility::Private)
            .await
            .unwrap();
        assert!(hidden(s.read_versions(&outsider, &key).await));
        assert!(hidden(
            s.read_file(&outsider, &key, "1.0.0", "shown-1.0.0.jar")
                .await
        ));
    })
    .await;
}
