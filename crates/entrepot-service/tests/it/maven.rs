//! File-by-file deploys into repository-scoped packages and the checksums served beside them, on both databases.

use entrepot_blob::bytes_stream;
use entrepot_service::authz::{Deny, Principal, Scope, Scopes};
use entrepot_service::{ChecksumAlgorithm, FileDeploy, PackageKey, ServiceError, Services};
use entrepot_testkit::{World, on_both};

use crate::support::{maven, sha256_hex};

fn deploy(key: &PackageKey, version: &str, name: &str) -> FileDeploy {
    FileDeploy {
        key: key.clone(),
        version: version.to_owned(),
        file_name: name.to_owned(),
        content_type: None,
        mutable: version.ends_with("-SNAPSHOT"),
        size: None,
        metadata: None,
    }
}

async fn put(
    services: &Services,
    principal: &Principal,
    key: &PackageKey,
    version: &str,
    name: &str,
    content: &[u8],
) -> Result<entrepot_service::FileView, ServiceError> {
    services
        .deploy_file(
            principal,
            deploy(key, version, name),
            bytes_stream(content.to_vec()),
        )
        .await
}

fn hex_of(algorithm: ChecksumAlgorithm, content: &[u8]) -> String {
    use md5::Digest as _;
    match algorithm {
        ChecksumAlgorithm::Md5 => hex::encode(md5::Md5::digest(content)),
        ChecksumAlgorithm::Sha1 => hex::encode(sha1::Sha1::digest(content)),
        ChecksumAlgorithm::Sha256 => sha256_hex(content),
        ChecksumAlgorithm::Sha512 => hex::encode(sha2::Sha512::digest(content)),
    }
}

const ALL: [ChecksumAlgorithm; 4] = [
    ChecksumAlgorithm::Md5,
    ChecksumAlgorithm::Sha1,
    ChecksumAlgorithm::Sha256,
    ChecksumAlgorithm::Sha512,
];

#[tokio::test]
async fn deploys_files_and_serves_every_checksum() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let max = world.principal("max").await;
        let key = maven("acme", "web", "com.example:hello");
        let jar = b"PK\x03\x04 pretend jar".to_vec();
        let pom = b"<project/>".to_vec();
        let file = put(&env.services, &max, &key, "1.0.0", "hello-1.0.0.jar", &jar)
            .await
            .unwrap();
        assert_eq!(file.sha256, sha256_hex(&jar));
        put(&env.services, &max, &key, "1.0.0", "hello-1.0.0.pom", &pom)
            .await
            .unwrap();
        let package = env.services.package(&max, &key).await.unwrap();
        assert_eq!(package.repository.as_deref(), Some("acme/web"));
        assert_eq!(package.visibility, "private");
        assert_eq!(package.version_count, 1);
        let files = env.services.files(&max, &key, "1.0.0").await.unwrap();
        assert_eq!(files.len(), 2);
        for algorithm in ALL {
            for (name, content) in [("hello-1.0.0.jar", &jar), ("hello-1.0.0.pom", &pom)] {
                let served = env
                    .services
                    .file_checksum(&max, &key, "1.0.0", name, algorithm)
                    .await
                    .unwrap();
                assert_eq!(served, hex_of(algorithm, content), "{name} {algorithm:?}");
            }
        }
        // What the client uploads beside a file is checked against the stored bytes.
        for algorithm in ALL {
            env.services
                .verify_file_checksum(
                    &max,
                    &key,
                    "1.0.0",
                    "hello-1.0.0.jar",
                    algorithm,
                    &hex_of(algorithm, &jar).to_uppercase(),
                )
                .await
                .unwrap();
        }
        let stat = env
            .services
            .read_file(&max, &key, "1.0.0", "hello-1.0.0.jar")
            .await
            .unwrap();
        assert_eq!(stat.size, jar.len() as u64);
    })
    .await;
}

#[tokio::test]
async fn a_contradicting_checksum_removes_the_file() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let max = world.principal("max").await;
        let key = maven("acme", "web", "com.example:hello");
        put(
            &env.services,
            &max,
            &key,
            "1.0.0",
            "hello-1.0.0.jar",
            b"damaged in transit",
        )
        .await
        .unwrap();
        let error = env
            .services
            .verify_file_checksum(
                &max,
                &key,
                "1.0.0",
                "hello-1.0.0.jar",
                ChecksumAlgorithm::Sha1,
                &hex_of(ChecksumAlgorithm::Sha1, b"the real bytes"),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, ServiceError::Invalid(_)), "{error:?}");
        assert!(matches!(
            env.services
                .read_file(&max, &key, "1.0.0", "hello-1.0.0.jar")
                .await,
            Err(ServiceError::NotFound(_))
        ));
        // The release file can be deployed again, with the right bytes this time.
        put(
            &env.services,
            &max,
            &key,
            "1.0.0",
            "hello-1.0.0.jar",
            b"the real bytes",
        )
        .await
        .unwrap();
        // A checksum for a file that is not there is refused.
        let missing = env
            .services
            .verify_file_checksum(
                &max,
                &key,
                "1.0.0",
                "hello-1.0.0-sources.jar",
                ChecksumAlgorithm::Sha1,
                &hex_of(ChecksumAlgorithm::Sha1, b"x"),
            )
            .await
            .unwrap_err();
        assert!(matches!(missing, ServiceError::NotFound(_)), "{missing:?}");
    })
    .await;
}

#[tokio::test]
async fn releases_are_immutable_snapshots_are_not() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let max = world.principal("max").await;
        let key = maven("acme", "web", "com.example:hello");
        put(
            &env.services,
            &max,
            &key,
            "1.0.0",
            "hello-1.0.0.jar",
            b"one",
        )
        .await
        .unwrap();
        // The same bytes again: fine (a retried deploy).
        put(
            &env.services,
            &max,
            &key,
            "1.0.0",
            "hello-1.0.0.jar",
            b"one",
        )
        .await
        .unwrap();
        let error = put(
            &env.services,
            &max,
            &key,
            "1.0.0",
            "hello-1.0.0.jar",
            b"two",
        )
        .await
        .unwrap_err();
        assert_eq!(error.status(), 409, "{error:?}");
        let name = "hello-1.1.0-SNAPSHOT.jar";
        put(&env.services, &max, &key, "1.1.0-SNAPSHOT", name, b"one")
            .await
            .unwrap();
        put(&env.services, &max, &key, "1.1.0-SNAPSHOT", name, b"two")
            .await
            .unwrap();
        let sha1 = env
            .services
            .file_checksum(&max, &key, "1.1.0-SNAPSHOT", name, ChecksumAlgorithm::Sha1)
            .await
            .unwrap();
        assert_eq!(sha1, hex_of(ChecksumAlgorithm::Sha1, b"two"));
    })
    .await;
}

#[tokio::test]
async fn version_metadata_collects_what_files_say() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let max = world.principal("max").await;
        let key = maven("acme", "web", "com.example:glib");
        let mut first = deploy(&key, "1.0.0", "glib-1.0.0.pom");
        first.metadata = Some(serde_json::Map::from_iter([(
            "pom".to_owned(),
            serde_json::json!({ "packaging": "jar" }),
        )]));
        env.services
            .deploy_file(&max, first, bytes_stream(b"<project/>".to_vec()))
            .await
            .unwrap();
        let mut second = deploy(&key, "1.0.0", "glib-1.0.0.module");
        second.metadata = Some(serde_json::Map::from_iter([(
            "gradle".to_owned(),
            serde_json::json!({ "variants": [{ "name": "apiElements" }] }),
        )]));
        env.services
            .deploy_file(&max, second, bytes_stream(b"{}".to_vec()))
            .await
            .unwrap();
        let version = env.services.version(&max, &key, "1.0.0").await.unwrap();
        assert_eq!(version.metadata["pom"]["packaging"], "jar");
        assert_eq!(
            version.metadata["gradle"]["variants"][0]["name"],
            "apiElements"
        );
    })
    .await;
}

#[tokio::test]
async fn deploy_permissions_come_from_the_repository() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let key = maven("acme", "web", "com.acme:core");
        let deny = |result: Result<(), ServiceError>| match result {
            Err(ServiceError::Denied(deny)) => Some(deny),
            Ok(()) => None,
            Err(other) => panic!("{other:?}"),
        };
        // Creating the package: write on the repository (max is a write collaborator, mia only reads).
        let max = world.principal("max").await;
        let mia = world.principal("mia").await;
        let outsider = world.principal("outsider").await;
        assert_eq!(deny(env.services.authorize_deploy(&max, &key).await), None);
        assert!(matches!(
            deny(env.services.authorize_deploy(&mia, &key).await),
            Some(Deny::Forbidden(_))
        ));
        assert_eq!(
            deny(env.services.authorize_deploy(&outsider, &key).await),
            Some(Deny::NotFound)
        );
        assert_eq!(
            deny(
                env.services
                    .authorize_deploy(&Principal::Anonymous, &key)
                    .await
            ),
            Some(Deny::Unauthenticated)
        );
        // Spec vector 14: write without `repo` is a missing scope.
        let narrow = world
            .principal_of(
                &world
                    .token_with(
                        "max",
                        Scopes::only(Scope::WritePackages).with(Scope::ReadPackages),
                    )
                    .await,
            )
            .await;
        assert!(matches!(
            deny(env.services.authorize_deploy(&narrow, &key).await),
            Some(Deny::MissingScope(_))
        ));
        // A repository that does not exist hides like a private one.
        let nowhere = maven("acme", "nowhere", "com.acme:core");
        assert_eq!(
            deny(env.services.authorize_deploy(&max, &nowhere).await),
            Some(Deny::NotFound)
        );
        // Once the package exists the same rules hold, through `Write`.
        put(&env.services, &max, &key, "1.0.0", "core-1.0.0.jar", b"jar")
            .await
            .unwrap();
        assert_eq!(deny(env.services.authorize_deploy(&max, &key).await), None);
        assert!(matches!(
            deny(env.services.authorize_deploy(&mia, &key).await),
            Some(Deny::Forbidden(_))
        ));
        // Reading needs read on the repository: mia reads, the outsider does not see it.
        env.services
            .file_checksum(
                &mia,
                &key,
                "1.0.0",
                "core-1.0.0.jar",
                ChecksumAlgorithm::Sha1,
            )
            .await
            .unwrap();
        assert!(matches!(
            env.services
                .read_file(&outsider, &key, "1.0.0", "core-1.0.0.jar")
                .await,
            Err(ServiceError::Denied(Deny::NotFound))
        ));
        // The same name cannot live in two repositories of one owner (olga may write to both).
        let olga = world.principal("olga").await;
        let elsewhere = maven("acme", "site", "com.acme:core");
        let error = put(
            &env.services,
            &olga,
            &elsewhere,
            "1.0.0",
            "core-1.0.0.jar",
            b"jar",
        )
        .await
        .unwrap_err();
        assert_eq!(error.status(), 409, "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn concurrent_deploys_of_different_versions_all_land() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let max = world.principal("max").await;
        let key = maven("acme", "web", "com.example:race");
        // The package exists first; then eight versions arrive at once.
        put(&env.services, &max, &key, "0.1", "race-0.1.jar", b"seed")
            .await
            .unwrap();
        let versions: Vec<String> = (1..=8).map(|i| format!("1.{i}")).collect();
        let deploys = versions.iter().map(|version| {
            let services = env.services.clone();
            let key = key.clone();
            let version = version.clone();
            async move {
                let name = format!("race-{version}.jar");
                put(&services, &max, &key, &version, &name, version.as_bytes()).await
            }
        });
        for outcome in futures_util::future::join_all(deploys).await {
            outcome.unwrap();
        }
        let mut listed: Vec<String> = env
            .services
            .versions(&max, &key, false)
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect();
        listed.sort();
        let mut expected = versions.clone();
        expected.push("0.1".into());
        expected.sort();
        assert_eq!(listed, expected);
        // A deleted version leaves the list, a restored one comes back.
        let olga = world.principal("olga").await;
        env.services
            .delete_version(&olga, &key, "1.3")
            .await
            .unwrap();
        let live = env.services.versions(&max, &key, false).await.unwrap();
        assert!(live.iter().all(|v| v.version != "1.3"));
        env.services
            .restore_version(&olga, &key, "1.3")
            .await
            .unwrap();
        let live = env.services.versions(&max, &key, false).await.unwrap();
        assert!(live.iter().any(|v| v.version == "1.3"));
    })
    .await;
}
