//! Publishing, reading and deleting packages through the service, on both databases.

use entrepot_blob::{Digest, PutOptions, bytes_stream};
use entrepot_service::authz::{Deny, Principal, Scope, Scopes, WorkflowLevel};
use entrepot_service::{ExistingVersion, NewFile, PublishRequest, ServiceError, Services};
use entrepot_testkit::{World, on_both};
use futures_util::TryStreamExt;

use crate::support::{container, maven, npm, publish_bytes, publish_with, sha256_hex};

#[tokio::test]
async fn publish_then_read_back_the_same_bytes() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let key = npm("acme", "lib");
        let content = b"a tarball, pretend".to_vec();
        let version = publish_bytes(
            &env.services,
            &mia,
            &key,
            "1.0.0",
            "lib-1.0.0.tgz",
            &content,
        )
        .await
        .unwrap();
        assert_eq!(version.version, "1.0.0");

        let package = env.services.package(&mia, &key).await.unwrap();
        assert_eq!(
            (package.visibility.as_str(), package.version_count),
            ("private", 1)
        );
        let opened = env
            .services
            .open_file(&mia, &key, "1.0.0", "lib-1.0.0.tgz", None, true)
            .await
            .unwrap();
        assert_eq!(opened.file.sha256, sha256_hex(&content));
        let bytes: Vec<u8> = opened
            .reader
            .stream
            .map_ok(|chunk| chunk.to_vec())
            .try_concat()
            .await
            .unwrap();
        assert_eq!(bytes, content);
        // Downloads are counted in memory and written in batches.
        env.services.flush_downloads().await.unwrap();
        assert_eq!(
            env.services
                .version(&mia, &key, "1.0.0")
                .await
                .unwrap()
                .downloads,
            1
        );

        // The publisher became admin of the new package; an org member without a grant sees nothing.
        let max = world.principal("max").await;
        let hidden = env.services.package(&max, &key).await.unwrap_err();
        assert!(
            matches!(hidden, ServiceError::Denied(Deny::NotFound)),
            "{hidden:?}"
        );
        // Anonymous npm reads are off by default: asked to authenticate.
        let anonymous = env
            .services
            .package(&Principal::Anonymous, &key)
            .await
            .unwrap_err();
        assert!(
            matches!(anonymous, ServiceError::Denied(Deny::Unauthenticated)),
            "{anonymous:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn versions_are_immutable_and_concurrent_publishes_never_mix() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let key = npm("acme", "race");
        publish_bytes(&env.services, &mia, &key, "0.1.0", "race.tgz", b"first")
            .await
            .unwrap();

        // Two different versions at once both land.
        let (a, b) = tokio::join!(
            publish_bytes(&env.services, &mia, &key, "1.0.0", "race-1.tgz", b"one"),
            publish_bytes(&env.services, &mia, &key, "2.0.0", "race-2.tgz", b"two"),
        );
        a.unwrap();
        b.unwrap();
        // The same version twice: one success and one 409.
        let (a, b) = tokio::join!(
            publish_bytes(&env.services, &mia, &key, "3.0.0", "race-3.tgz", b"three-a"),
            publish_bytes(&env.services, &mia, &key, "3.0.0", "race-3.tgz", b"three-b"),
        );
        let conflict = match (a, b) {
            (Ok(_), Err(conflict)) | (Err(conflict), Ok(_)) => conflict,
            (a, b) => panic!("want one success and one conflict, got {a:?} and {b:?}"),
        };
        assert_eq!(conflict.status(), 409, "{conflict:?}");
        let mut versions: Vec<_> = env
            .services
            .versions(&mia, &key, false)
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect();
        versions.sort();
        assert_eq!(versions, ["0.1.0", "1.0.0", "2.0.0", "3.0.0"]);

        // The loser's bytes are gone again; the winner's are there.
        let files = env.services.files(&mia, &key, "3.0.0").await.unwrap();
        let winner = files[0].sha256.clone();
        let loser = if winner == sha256_hex(b"three-a") {
            sha256_hex(b"three-b")
        } else {
            sha256_hex(b"three-a")
        };
        assert!(env.blobs.stat(&winner).await.unwrap().is_some());
        assert!(
            env.blobs.stat(&loser).await.unwrap().is_none(),
            "a failed publish left its blob behind"
        );
    })
    .await;
}

#[tokio::test]
async fn first_publishes_of_one_name_racing_create_one_package() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let key = npm("acme", "twin");
        let (a, b) = tokio::join!(
            publish_bytes(&env.services, &mia, &key, "1.0.0", "twin-1.tgz", b"1"),
            publish_bytes(&env.services, &mia, &key, "2.0.0", "twin-2.tgz", b"2"),
        );
        a.unwrap();
        b.unwrap();
        assert_eq!(
            env.services
                .package(&mia, &key)
                .await
                .unwrap()
                .version_count,
            2
        );
        assert_eq!(
            env.services
                .list_packages(&mia, "acme", None)
                .await
                .unwrap()
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn a_blob_that_does_not_match_its_digest_is_refused_and_leaves_nothing() {
    on_both(|env| async move {
        let wrong = Digest::sha256(sha256_hex(b"something else")).unwrap();
        let error = env
            .services
            .stage_blob(
                bytes_stream(b"the real bytes".to_vec()),
                PutOptions::new().expect_digest(wrong),
            )
            .await
            .unwrap_err();
        assert_eq!(error.status(), 400, "{error:?}");
        assert!(
            env.blobs
                .stat(&sha256_hex(b"the real bytes"))
                .await
                .unwrap()
                .is_none()
        );
        let error = env
            .services
            .stage_blob(
                bytes_stream(b"twelve bytes".to_vec()),
                PutOptions::new().expect_size(13),
            )
            .await
            .unwrap_err();
        assert_eq!(error.status(), 400, "{error:?}");
        assert!(
            env.blobs
                .stat(&sha256_hex(b"twelve bytes"))
                .await
                .unwrap()
                .is_none()
        );
        let tmp_left = std::fs::read_dir(env.dir.path().join("blobs").join("tmp"))
            .map(|dir| dir.count())
            .unwrap_or(0);
        assert_eq!(tmp_left, 0, "temporary files were left behind");
    })
    .await;
}

#[tokio::test]
async fn a_refused_publish_removes_the_bytes_it_wrote() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        // ursula is not a member of acme: she may not create a package there (vector 24).
        let ursula = world.principal("ursula").await;
        let error = publish_bytes(
            &env.services,
            &ursula,
            &npm("acme", "new"),
            "1.0.0",
            "new.tgz",
            b"ursula's",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "{error:?}"
        );
        assert!(
            env.blobs
                .stat(&sha256_hex(b"ursula's"))
                .await
                .unwrap()
                .is_none()
        );
        // A token without write:packages is told which scope it lacks (vector 9's kind).
        let read_only = world
            .token_with("mia", Scopes::only(Scope::ReadPackages))
            .await;
        let read_only = world.principal_of(&read_only).await;
        let error = publish_bytes(
            &env.services,
            &read_only,
            &npm("acme", "new"),
            "1.0.0",
            "new.tgz",
            b"mia's",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::MissingScope(_))),
            "{error:?}"
        );
        assert!(
            env.blobs
                .stat(&sha256_hex(b"mia's"))
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn bytes_shared_with_a_published_file_survive_a_failed_publish() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let key = npm("acme", "shared");
        publish_bytes(&env.services, &mia, &key, "1.0.0", "a.tgz", b"same bytes")
            .await
            .unwrap();
        publish_bytes(&env.services, &mia, &key, "1.0.0", "a.tgz", b"same bytes")
            .await
            .unwrap_err();
        let opened = env
            .services
            .open_file(&mia, &key, "1.0.0", "a.tgz", None, false)
            .await
            .unwrap();
        assert_eq!(opened.file.size, 10);
        assert!(
            env.blobs
                .stat(&sha256_hex(b"same bytes"))
                .await
                .unwrap()
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn delete_and_restore_versions_and_packages() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let key = npm("acme", "gone");
        publish_bytes(&env.services, &mia, &key, "1.0.0", "g1.tgz", b"g1")
            .await
            .unwrap();
        publish_bytes(&env.services, &mia, &key, "2.0.0", "g2.tgz", b"g2")
            .await
            .unwrap();

        env.services
            .delete_version(&mia, &key, "1.0.0")
            .await
            .unwrap();
        let live: Vec<_> = env
            .services
            .versions(&mia, &key, false)
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(live, ["2.0.0"]);
        let deleted = env.services.versions(&mia, &key, true).await.unwrap();
        assert_eq!(deleted.len(), 1);
        assert!(deleted[0].deleted_at.is_some());
        env.services
            .restore_version(&mia, &key, "1.0.0")
            .await
            .unwrap();
        assert_eq!(
            env.services
                .versions(&mia, &key, false)
                .await
                .unwrap()
                .len(),
            2
        );

        // Deleting a version needs delete:packages (vector 9's kind for delete).
        let no_delete = world
            .token_with("mia", Scopes::only(Scope::WritePackages))
            .await;
        let no_delete = world.principal_of(&no_delete).await;
        let error = env
            .services
            .delete_version(&no_delete, &key, "1.0.0")
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::MissingScope(_))),
            "{error:?}"
        );

        env.services.delete_package(&mia, &key).await.unwrap();
        let gone = env.services.package(&mia, &key).await.unwrap_err();
        assert!(
            matches!(gone, ServiceError::Denied(Deny::NotFound)),
            "{gone:?}"
        );
        let restored = env.services.restore_package(&mia, &key).await.unwrap();
        assert_eq!(restored.version_count, 2);

        // A name reused meanwhile blocks the restore.
        env.services.delete_package(&mia, &key).await.unwrap();
        publish_bytes(&env.services, &mia, &key, "9.0.0", "g9.tgz", b"g9")
            .await
            .unwrap();
        let blocked = env.services.restore_package(&mia, &key).await.unwrap_err();
        assert_eq!(blocked.status(), 409, "{blocked:?}");
    })
    .await;
}

#[tokio::test]
async fn the_restore_window_closes() {
    entrepot_testkit::on_both_with(
        |config| config.restore_window = std::time::Duration::from_millis(1),
        |env| async move {
            let world = World::build(&env.services).await;
            let mia = world.principal("mia").await;
            let key = npm("acme", "late");
            publish_bytes(&env.services, &mia, &key, "1.0.0", "l.tgz", b"l")
                .await
                .unwrap();
            env.services
                .delete_version(&mia, &key, "1.0.0")
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let error = env
                .services
                .restore_version(&mia, &key, "1.0.0")
                .await
                .unwrap_err();
            assert_eq!(error.status(), 404, "{error:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn repository_scoped_packages_take_the_repositorys_access() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let key = maven("acme", "web", "com.acme:core");
        // max writes to acme/web (vector 15); without `repo` the token lacks a scope (vector 14).
        let no_repo = world
            .token_with("max", Scopes::only(Scope::WritePackages))
            .await;
        let no_repo = world.principal_of(&no_repo).await;
        let error = publish_bytes(&env.services, &no_repo, &key, "1.0", "core-1.0.jar", b"jar")
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::MissingScope(_))),
            "{error:?}"
        );
        let max = world.principal("max").await;
        publish_bytes(&env.services, &max, &key, "1.0", "core-1.0.jar", b"jar")
            .await
            .unwrap();
        // A Maven version takes files one by one.
        let blob = env
            .services
            .stage_blob(bytes_stream(b"<project/>".to_vec()), PutOptions::new())
            .await
            .unwrap();
        let request = PublishRequest {
            key: key.clone(),
            version: "1.0".into(),
            metadata: serde_json::json!({}),
            files: vec![NewFile {
                name: "core-1.0.pom".into(),
                blob,
                content_type: None,
                mutable: false,
            }],
            repository_url: None,
            visibility: None,
            existing_version: ExistingVersion::AddFiles,
        };
        env.services.publish(&max, request).await.unwrap();
        assert_eq!(
            env.services.files(&max, &key, "1.0").await.unwrap().len(),
            2
        );

        // mia reads through the org's base permission (vector 12's kind); the outsider sees nothing (vector 13's).
        let mia = world.principal("mia").await;
        env.services.package(&mia, &key).await.unwrap();
        let outsider = world.principal("outsider").await;
        let error = env.services.package(&outsider, &key).await.unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::NotFound)),
            "{error:?}"
        );
        // The package lives in acme/web only: asking for it under acme/site finds nothing.
        let error = env
            .services
            .package(&max, &maven("acme", "site", "com.acme:core"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::NotFound)),
            "{error:?}"
        );

        // A read-level workflow token of acme/web may read but not write (vector 21).
        let olga = world.principal("olga").await;
        let minted = env
            .services
            .mint_workflow_token(&olga, "acme", "web", WorkflowLevel::Read, None)
            .await
            .unwrap();
        let workflow = world.principal_of(minted.token.expose()).await;
        env.services.package(&workflow, &key).await.unwrap();
        let error = publish_bytes(
            &env.services,
            &workflow,
            &key,
            "2.0",
            "core-2.0.jar",
            b"jar2",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_workflow_token_creates_a_linked_package_in_its_repository_namespace() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let minted = env
            .services
            .mint_workflow_token(&olga, "acme", "web", WorkflowLevel::Write, None)
            .await
            .unwrap();
        let workflow = world.principal_of(minted.token.expose()).await;
        let key = container("acme", "webapp");
        publish_bytes(
            &env.services,
            &workflow,
            &key,
            "sha256:abc",
            "manifest.json",
            b"{}",
        )
        .await
        .unwrap();
        let package = env.services.package(&workflow, &key).await.unwrap();
        assert_eq!(package.repository.as_deref(), Some("acme/web"));
        assert_eq!(
            package.visibility, "private",
            "it takes acme/web's visibility"
        );
        assert!(package.inherit_access);
        // Inheriting from acme/web: max (repository write) may push, mia (base read) may pull.
        let max = world.principal("max").await;
        publish_bytes(
            &env.services,
            &max,
            &key,
            "sha256:def",
            "manifest.json",
            b"{1}",
        )
        .await
        .unwrap();
        let mia = world.principal("mia").await;
        env.services.package(&mia, &key).await.unwrap();
        let error = publish_bytes(
            &env.services,
            &mia,
            &key,
            "sha256:123",
            "manifest.json",
            b"{2}",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "{error:?}"
        );
        // Anonymous container reads are allowed only for public images.
        let error = env
            .services
            .package(&Principal::Anonymous, &key)
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Unauthenticated)),
            "{error:?}"
        );
        let _ = Services::operator();
    })
    .await;
}

#[tokio::test]
async fn a_repository_url_of_this_server_links_the_package_at_first_publish() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let key = npm("acme", "webpkg");
        publish_with(
            &env.services,
            &mia,
            &key,
            "1.0.0",
            "w.tgz",
            b"w",
            Some("git+http://entrepot.test/acme/web.git"),
        )
        .await
        .unwrap();
        let package = env.services.package(&mia, &key).await.unwrap();
        assert_eq!(package.repository.as_deref(), Some("acme/web"));
        assert!(package.inherit_access, "acme inherits by default");
        // max writes to acme/web, so he may publish (vector 10), but not delete (vector 11).
        let max = world.principal("max").await;
        publish_bytes(&env.services, &max, &key, "1.1.0", "w2.tgz", b"w2")
            .await
            .unwrap();
        let error = env
            .services
            .delete_version(&max, &key, "1.1.0")
            .await
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::Forbidden(_))),
            "{error:?}"
        );
        // A URL of another host does not link.
        let other = npm("acme", "elsewhere");
        publish_with(
            &env.services,
            &mia,
            &other,
            "1.0.0",
            "e.tgz",
            b"e",
            Some("https://github.com/acme/web"),
        )
        .await
        .unwrap();
        assert_eq!(
            env.services.package(&mia, &other).await.unwrap().repository,
            None
        );
    })
    .await;
}
