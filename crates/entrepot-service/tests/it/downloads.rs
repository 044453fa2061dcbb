//! Download counts: counted in memory, written in batches, seen by the API views and the delete guard before
//! they are written; and versions named by id. On both databases.

use entrepot_service::ServiceError;
use entrepot_service::authz::{Deny, Forbidden, Visibility};
use entrepot_store::entity::{package, package_version};
use entrepot_testkit::{TestEnv, World, on_both, on_both_with};
use sea_orm::{Database, EntityTrait};

use crate::support::{npm, publish_bytes};

/// The stored counts, read on a connection of their own: what the database holds, not what the service adds.
async fn stored(env: &TestEnv, package_id: i64, version_id: i64) -> (i64, i64) {
    let db = Database::connect(&env.database_url).await.unwrap();
    let package = package::Entity::find_by_id(package_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let version = package_version::Entity::find_by_id(version_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    db.close().await.ok();
    (package.downloads, version.downloads)
}

#[tokio::test]
async fn downloads_are_counted_in_memory_and_written_in_one_batch() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let key = npm("acme", "lib");
        let v1 = publish_bytes(&env.services, &mia, &key, "1.0.0", "lib-1.0.0.tgz", b"one")
            .await
            .unwrap();
        let v2 = publish_bytes(&env.services, &mia, &key, "2.0.0", "lib-2.0.0.tgz", b"two")
            .await
            .unwrap();
        let package_id = env.services.package(&mia, &key).await.unwrap().id;
        for _ in 0..7 {
            env.services
                .open_file(&mia, &key, "1.0.0", "lib-1.0.0.tgz", None, true)
                .await
                .unwrap();
        }
        for _ in 0..3 {
            env.services
                .open_file(&mia, &key, "2.0.0", "lib-2.0.0.tgz", None, true)
                .await
                .unwrap();
        }
        // Not counted: a front-end's own reads (Maven checksums, HEAD requests).
        env.services
            .open_file(&mia, &key, "2.0.0", "lib-2.0.0.tgz", None, false)
            .await
            .unwrap();

        // Ten downloads and not one row update: the database still says zero, the views say what happened.
        assert_eq!(stored(&env, package_id, v1.id).await, (0, 0));
        assert_eq!(stored(&env, package_id, v2.id).await.1, 0);
        assert_eq!(
            env.services
                .version(&mia, &key, "1.0.0")
                .await
                .unwrap()
                .downloads,
            7
        );
        assert_eq!(
            env.services.package(&mia, &key).await.unwrap().downloads,
            10
        );

        assert_eq!(env.services.flush_downloads().await.unwrap(), 10);
        assert_eq!(stored(&env, package_id, v1.id).await, (10, 7));
        assert_eq!(stored(&env, package_id, v2.id).await.1, 3);
        // Written once: the views do not count the flushed downloads twice, and a second flush has nothing to do.
        assert_eq!(
            env.services
                .version_by_id(&mia, &key, v2.id)
                .await
                .unwrap()
                .downloads,
            3
        );
        assert_eq!(
            env.services.package(&mia, &key).await.unwrap().downloads,
            10
        );
        assert_eq!(env.services.flush_downloads().await.unwrap(), 0);

        env.services
            .open_file(&mia, &key, "1.0.0", "lib-1.0.0.tgz", None, true)
            .await
            .unwrap();
        let listed = env.services.versions(&mia, &key, false).await.unwrap();
        assert_eq!(
            listed.iter().map(|v| v.downloads).collect::<Vec<_>>(),
            vec![8, 3]
        );
    })
    .await;
}

#[tokio::test]
async fn the_delete_guard_weighs_downloads_not_yet_written() {
    on_both_with(
        |config| config.policy.delete_guard_downloads = 3,
        |env| async move {
            let world = World::build(&env.services).await;
            let olga = world.principal("olga").await;
            let key = npm("acme", "popular");
            publish_bytes(&env.services, &olga, &key, "1.0.0", "p-1.0.0.tgz", b"p")
                .await
                .unwrap();
            env.services
                .set_package_visibility(&olga, &key, Visibility::Public)
                .await
                .unwrap();
            for _ in 0..4 {
                env.services
                    .open_file(&olga, &key, "1.0.0", "p-1.0.0.tgz", None, true)
                    .await
                    .unwrap();
            }
            let guarded = |error: ServiceError| {
                matches!(
                    error,
                    ServiceError::Denied(Deny::Forbidden(Forbidden::DownloadGuard {
                        downloads: 4,
                        ..
                    }))
                )
            };
            // Pending only (§6 row 30, with the limit at 3).
            let error = env
                .services
                .delete_version(&olga, &key, "1.0.0")
                .await
                .unwrap_err();
            assert!(guarded(error));
            let error = env.services.delete_package(&olga, &key).await.unwrap_err();
            assert!(guarded(error));
            // Flushed: the same answer from the rows.
            env.services.flush_downloads().await.unwrap();
            let error = env.services.delete_package(&olga, &key).await.unwrap_err();
            assert!(guarded(error));
        },
    )
    .await;
}

#[tokio::test]
async fn versions_by_id_stay_inside_their_package_and_their_rights() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let max = world.principal("max").await;
        let lib = npm("acme", "lib");
        let other = npm("acme", "other");
        let v1 = publish_bytes(&env.services, &olga, &lib, "1.0.0", "a.tgz", b"a")
            .await
            .unwrap();
        let foreign = publish_bytes(&env.services, &olga, &other, "1.0.0", "b.tgz", b"b")
            .await
            .unwrap();

        let got = env
            .services
            .version_by_id(&olga, &lib, v1.id)
            .await
            .unwrap();
        assert_eq!(got.version, "1.0.0");
        // Another package's version is not this package's.
        let error = env
            .services
            .version_by_id(&olga, &lib, foreign.id)
            .await
            .unwrap_err();
        assert!(matches!(error, ServiceError::NotFound(_)), "{error:?}");
        let error = env
            .services
            .delete_version_by_id(&olga, &lib, foreign.id)
            .await
            .unwrap_err();
        assert!(matches!(error, ServiceError::NotFound(_)), "{error:?}");
        // Those who may not read learn nothing, whether the id exists or not.
        for id in [v1.id, 999_999] {
            let error = env
                .services
                .delete_version_by_id(&max, &lib, id)
                .await
                .unwrap_err();
            assert!(
                matches!(error, ServiceError::Denied(Deny::NotFound)),
                "{error:?}"
            );
        }

        env.services
            .delete_version_by_id(&olga, &lib, v1.id)
            .await
            .unwrap();
        assert!(
            env.services
                .versions(&olga, &lib, false)
                .await
                .unwrap()
                .is_empty()
        );
        let deleted = env
            .services
            .version_by_id(&olga, &lib, v1.id)
            .await
            .unwrap();
        assert!(deleted.deleted_at.is_some());
        // Deleting it again: it is no longer live.
        let error = env
            .services
            .delete_version_by_id(&olga, &lib, v1.id)
            .await
            .unwrap_err();
        assert!(matches!(error, ServiceError::NotFound(_)), "{error:?}");

        let restored = env
            .services
            .restore_version_by_id(&olga, &lib, v1.id)
            .await
            .unwrap();
        assert_eq!((restored.id, restored.deleted_at), (v1.id, None));
        let error = env
            .services
            .restore_version_by_id(&olga, &lib, v1.id)
            .await
            .unwrap_err();
        assert!(matches!(error, ServiceError::NotFound(_)), "{error:?}");
    })
    .await;
}
