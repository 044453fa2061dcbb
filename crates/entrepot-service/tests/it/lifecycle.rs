//! The package lifecycle through the service: restore rules on a clock the test moves, the reserved versions
//! of public packages, the purge and the blob collector (also while publishes run), repository transfer
//! (permissions.md §6 rows 28 and 29) and the audit log.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entrepot_blob::{PutOptions, bytes_stream};
use entrepot_service::authz::{Deny, PackageType, Principal, Role, Visibility};
use entrepot_service::{
    AuditQuery, GranteeRef, ManualClock, PackageKey, ServiceError, Services, audit,
};
use entrepot_testkit::{TestEnv, World, on_both_with};
use futures_util::StreamExt;

use crate::support::{maven, npm, publish_bytes, sha256_hex};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// [`on_both_with`] with a fresh hand-moved clock per engine.
async fn with_clock<F, Fut>(body: F)
where
    F: Fn(TestEnv, Arc<ManualClock>) -> Fut,
    Fut: Future<Output = ()>,
{
    let slot: Mutex<Option<Arc<ManualClock>>> = Mutex::new(None);
    on_both_with(
        |config| {
            let clock = Arc::new(ManualClock::new());
            config.clock = clock.clone();
            *slot.lock().unwrap() = Some(clock);
        },
        |env| {
            let clock = slot.lock().unwrap().take().expect("a clock per engine");
            body(env, clock)
        },
    )
    .await
}

async fn read_all(
    services: &Services,
    principal: &Principal,
    key: &PackageKey,
    version: &str,
    file: &str,
) -> Vec<u8> {
    let opened = services
        .open_file(principal, key, version, file, None, false)
        .await
        .unwrap_or_else(|error| panic!("{version}/{file}: {error:?}"));
    let mut stream = opened.reader.stream;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.expect("blob bytes"));
    }
    bytes
}

#[tokio::test]
async fn restore_is_refused_after_the_window_and_after_reuse() {
    with_clock(|env, clock| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let key = npm("acme", "later");
        for version in ["1.0.0", "2.0.0"] {
            publish_bytes(
                &env.services,
                &mia,
                &key,
                version,
                &format!("{version}.tgz"),
                version.as_bytes(),
            )
            .await
            .unwrap();
        }
        env.services
            .delete_version(&mia, &key, "1.0.0")
            .await
            .unwrap();
        clock.advance(29 * DAY);
        env.services
            .restore_version(&mia, &key, "1.0.0")
            .await
            .unwrap();

        env.services
            .delete_version(&mia, &key, "1.0.0")
            .await
            .unwrap();
        clock.advance(31 * DAY);
        let late = env
            .services
            .restore_version(&mia, &key, "1.0.0")
            .await
            .unwrap_err();
        assert_eq!(late.status(), 404, "{late:?}");

        // A private package's version may be published again; the deleted one then cannot come back.
        env.services
            .delete_version(&mia, &key, "2.0.0")
            .await
            .unwrap();
        publish_bytes(
            &env.services,
            &mia,
            &key,
            "2.0.0",
            "2.0.0-b.tgz",
            b"other bytes",
        )
        .await
        .unwrap();
        let reused = env
            .services
            .restore_version(&mia, &key, "2.0.0")
            .await
            .unwrap_err();
        assert_eq!(reused.status(), 409, "{reused:?}");

        // The same for a package: past the window, then after reuse.
        env.services.delete_package(&mia, &key).await.unwrap();
        clock.advance(31 * DAY);
        let late = env.services.restore_package(&mia, &key).await.unwrap_err();
        assert_eq!(late.status(), 404, "{late:?}");
    })
    .await;
}

#[tokio::test]
async fn deleted_public_versions_stay_reserved_even_for_the_same_bytes() {
    with_clock(|env, _clock| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let key = npm("acme", "open");
        publish_bytes(&env.services, &olga, &key, "1.0.0", "o.tgz", b"open 1")
            .await
            .unwrap();
        env.services
            .set_package_visibility(&olga, &key, Visibility::Public)
            .await
            .unwrap();
        env.services
            .delete_version(&olga, &key, "1.0.0")
            .await
            .unwrap();
        for content in [&b"open 1"[..], b"open 1 again"] {
            let error = publish_bytes(&env.services, &olga, &key, "1.0.0", "o.tgz", content)
                .await
                .unwrap_err();
            assert_eq!(error.status(), 409, "{error:?}");
        }
        env.services
            .restore_version(&olga, &key, "1.0.0")
            .await
            .unwrap();
        assert_eq!(
            read_all(&env.services, &olga, &key, "1.0.0", "o.tgz").await,
            b"open 1"
        );
    })
    .await;
}

#[tokio::test]
async fn the_purge_removes_what_is_past_the_window_with_its_bytes() {
    with_clock(|env, clock| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let kept = npm("acme", "kept");
        let gone = npm("acme", "gone");
        for (key, version, content) in [
            (&kept, "1.0.0", &b"kept 1"[..]),
            (&kept, "2.0.0", b"kept 2"),
            (&kept, "3.0.0", b"kept 3"),
            (&gone, "1.0.0", b"gone 1"),
        ] {
            publish_bytes(&env.services, &mia, key, version, "p.tgz", content)
                .await
                .unwrap();
        }
        env.services
            .delete_version(&mia, &kept, "1.0.0")
            .await
            .unwrap();
        env.services.delete_package(&mia, &gone).await.unwrap();
        clock.advance(20 * DAY);
        // Deleted later: still within its window when the others are purged.
        env.services
            .delete_version(&mia, &kept, "2.0.0")
            .await
            .unwrap();
        clock.advance(11 * DAY);

        let report = env.services.purge().await.unwrap();
        assert_eq!((report.versions, report.packages), (1, 1), "{report:?}");
        assert_eq!(report.gc.blobs, 2, "{report:?}");
        for content in [&b"kept 1"[..], b"gone 1"] {
            assert!(
                env.blobs
                    .stat(&sha256_hex(content))
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        for content in [&b"kept 2"[..], b"kept 3"] {
            assert!(
                env.blobs
                    .stat(&sha256_hex(content))
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        let purged = env
            .services
            .restore_version(&mia, &kept, "1.0.0")
            .await
            .unwrap_err();
        assert_eq!(purged.status(), 404, "{purged:?}");
        env.services
            .restore_version(&mia, &kept, "2.0.0")
            .await
            .unwrap();
        assert_eq!(
            read_all(&env.services, &mia, &kept, "2.0.0", "p.tgz").await,
            b"kept 2"
        );

        let log = env
            .services
            .audit_log(
                &Services::operator(),
                &AuditQuery {
                    org: None,
                    page: 1,
                    per_page: 100,
                },
            )
            .await
            .unwrap()
            .0;
        assert!(
            log.iter()
                .any(|e| e.action == "package.purge" && e.target == "acme/npm/gone"),
            "{log:?}"
        );
        assert!(
            log.iter()
                .any(|e| e.action == "package_version.purge" && e.target == "acme/npm/kept@1.0.0")
        );
    })
    .await;
}

#[tokio::test]
async fn the_collector_spares_fresh_bytes_and_takes_old_unreferenced_ones() {
    with_clock(|env, clock| async move {
        let staged = env
            .services
            .stage_blob(bytes_stream(b"never published".to_vec()), PutOptions::new())
            .await
            .unwrap();
        let sha256 = staged.info.sha256.clone();
        // Held by a request of this process: spared whatever its age.
        clock.advance(Duration::from_secs(7200));
        assert_eq!(env.services.collect_garbage().await.unwrap().blobs, 0);
        drop(staged);
        // Released, and touched longer ago than the grace period: collected, bytes and row.
        let report = env.services.collect_garbage().await.unwrap();
        assert_eq!(report.blobs, 1, "{report:?}");
        assert!(env.blobs.stat(&sha256).await.unwrap().is_none());

        // Fresh bytes nothing references yet are spared until the grace period ends.
        let staged = env
            .services
            .stage_blob(bytes_stream(b"just written".to_vec()), PutOptions::new())
            .await
            .unwrap();
        let fresh = staged.info.sha256.clone();
        drop(staged);
        assert_eq!(env.services.collect_garbage().await.unwrap().blobs, 0);
        assert!(env.blobs.stat(&fresh).await.unwrap().is_some());
        clock.advance(Duration::from_secs(3601));
        assert_eq!(env.services.collect_garbage().await.unwrap().blobs, 1);
        assert!(env.blobs.stat(&fresh).await.unwrap().is_none());
    })
    .await;
}

/// Publishes race the collector: some of their contents exist already as old, unreferenced blobs (the case where
/// a write finds its bytes stored and the collector wants to remove them). Every publish that succeeded must be
/// readable afterwards; a publish may fail only with the retryable error, and then succeeds when retried.
#[tokio::test]
async fn collection_during_publishes_loses_nothing() {
    with_clock(|env, clock| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let contents: Vec<Vec<u8>> = (0..12)
            .map(|i| format!("content {i}").into_bytes())
            .collect();
        // Half of them are stored already, unreferenced and old: collectable.
        for content in contents.iter().step_by(2) {
            drop(
                env.services
                    .stage_blob(bytes_stream(content.clone()), PutOptions::new())
                    .await
                    .unwrap(),
            );
        }
        clock.advance(Duration::from_secs(7200));

        let collector = {
            let services = env.services.clone();
            tokio::spawn(async move {
                let mut removed = 0;
                for _ in 0..40 {
                    removed += services.collect_garbage().await.unwrap().blobs;
                    tokio::task::yield_now().await;
                }
                removed
            })
        };
        let publishes = contents.iter().enumerate().map(|(i, content)| {
            let services = env.services.clone();
            let key = npm("acme", &format!("race{}", i % 4));
            let content = content.clone();
            async move {
                let version = format!("1.0.{i}");
                let mut retries = 0;
                loop {
                    match publish_bytes(&services, &mia, &key, &version, "r.tgz", &content).await {
                        Ok(_) => return (key, version, content, retries),
                        Err(ServiceError::Internal(message)) if message.contains("retry") => {
                            retries += 1
                        }
                        Err(error) => panic!("publish {version}: {error:?}"),
                    }
                }
            }
        });
        let published = futures_util::future::join_all(publishes).await;
        let removed = collector.await.unwrap();
        for (key, version, content, _) in &published {
            assert_eq!(
                &read_all(&env.services, &mia, key, version, "r.tgz").await,
                content,
                "{version}"
            );
        }
        // Nothing left to collect: every stored content is referenced now.
        assert_eq!(env.services.collect_garbage().await.unwrap().blobs, 0);
        let retries: u32 = published.iter().map(|p| p.3).sum();
        eprintln!("collector removed {removed} blobs; {retries} publishes retried");
    })
    .await;
}

#[tokio::test]
async fn a_transfer_moves_maven_packages_and_unlinks_granular_ones() {
    with_clock(|env, _clock| async move {
        let services = &env.services;
        let world = World::build(services).await;
        let (olga, max, ursula) = (
            world.principal("olga").await,
            world.principal("max").await,
            world.principal("ursula").await,
        );
        let webpkg = npm("acme", "webpkg");
        publish_bytes(services, &olga, &webpkg, "1.0.0", "w.tgz", b"webpkg")
            .await
            .unwrap();
        services.link(&olga, &webpkg, Some("web")).await.unwrap();
        services
            .set_inheritance(&olga, &webpkg, true)
            .await
            .unwrap();
        let other = npm("acme", "other");
        publish_bytes(services, &olga, &other, "1.0.0", "o.tgz", b"other")
            .await
            .unwrap();
        services
            .set_actions_access(&olga, &other, "web", Role::Write)
            .await
            .unwrap();
        let core = maven("acme", "web", "com.acme:core");
        publish_bytes(services, &max, &core, "1.0", "core-1.0.jar", b"core jar")
            .await
            .unwrap();
        services.package(&max, &webpkg).await.unwrap(); // row 10's read through inheritance

        // Transfer needs admin on the repository and the right to create repositories in the target.
        let refused = services
            .transfer_repository(&olga, "acme", "web", "ursula")
            .await
            .unwrap_err();
        assert!(
            matches!(refused, ServiceError::Denied(Deny::Forbidden(_))),
            "{refused:?}"
        );
        let refused = services
            .transfer_repository(&ursula, "acme", "web", "ursula")
            .await
            .unwrap_err();
        assert!(
            matches!(refused, ServiceError::Denied(Deny::NotFound)),
            "{refused:?}"
        );
        let moved = services
            .transfer_repository(&Services::operator(), "acme", "web", "ursula")
            .await
            .unwrap();
        assert_eq!(moved.full_name, "ursula/web");

        // Row 28: the granular package stays acme's, unlinked and no longer inheriting.
        let error = services.package(&max, &webpkg).await.unwrap_err();
        assert!(
            matches!(error, ServiceError::Denied(Deny::NotFound)),
            "row 28: {error:?}"
        );
        let view = services.package(&olga, &webpkg).await.unwrap();
        assert_eq!((view.repository, view.inherit_access), (None, false));
        // The repository's Actions access went with the transfer.
        let error = services
            .remove_actions_access(&olga, &other, "web")
            .await
            .unwrap_err();
        assert_eq!(error.status(), 404, "{error:?}");

        // Row 29: the Maven package moved with its repository.
        let at_new =
            PackageKey::new("ursula", PackageType::Maven, "com.acme:core").in_repository("web");
        assert_eq!(
            read_all(services, &ursula, &at_new, "1.0", "core-1.0.jar").await,
            b"core jar"
        );
        assert!(services.package(&olga, &core).await.is_err());

        let log = services
            .audit_log(
                &olga,
                &AuditQuery {
                    org: Some("acme".into()),
                    page: 1,
                    per_page: 100,
                },
            )
            .await
            .unwrap()
            .0;
        let transfer = log
            .iter()
            .find(|e| e.action == "repo.transfer")
            .expect("transfer audited");
        assert_eq!(transfer.target, "acme/web");
        assert_eq!(transfer.actor.as_deref(), Some("operator"));
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_records_changes_and_refused_token_uses() {
    with_clock(|env, _clock| async move {
        let services = &env.services;
        let world = World::build(services).await;
        let olga = world.principal("olga").await;
        let key = npm("acme", "audited");
        publish_bytes(services, &olga, &key, "1.0.0", "a.tgz", b"audited")
            .await
            .unwrap();
        services
            .grant(&olga, &key, &GranteeRef::User("mia".into()), Role::Read)
            .await
            .unwrap();
        services
            .set_package_visibility(&olga, &key, Visibility::Internal)
            .await
            .unwrap();
        services.delete_version(&olga, &key, "1.0.0").await.unwrap();
        services
            .restore_version(&olga, &key, "1.0.0")
            .await
            .unwrap();

        // A token use the core refuses, as the HTTP edge reports it.
        let (outcome, seen) = audit::scoped(Some("req-42".into()), async {
            let mia = world.principal("mia").await;
            services.delete_version(&mia, &key, "1.0.0").await
        })
        .await;
        assert!(
            matches!(outcome, Err(ServiceError::Denied(Deny::Forbidden(_)))),
            "{outcome:?}"
        );
        assert!(seen.denied && seen.token_id.is_some(), "{seen:?}");
        services.record_refused_token_use(&seen, "DELETE", "/somewhere", 403);
        services.flush_audit().await;

        let query = AuditQuery {
            org: Some("acme".into()),
            page: 1,
            per_page: 100,
        };
        let (log, more) = services.audit_log(&olga, &query).await.unwrap();
        assert!(!more);
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        for expected in [
            "package.access_grant",
            "package.visibility_change",
            "package_version.delete",
            "package_version.restore",
            "token.authorization_failed",
        ] {
            assert!(actions.contains(&expected), "{expected} in {actions:?}");
        }
        let refused = log
            .iter()
            .find(|e| e.action == "token.authorization_failed")
            .unwrap();
        assert_eq!(refused.actor.as_deref(), Some("mia"));
        assert_eq!(refused.request_id.as_deref(), Some("req-42"));
        assert_eq!(refused.target, "acme/npm/audited");
        assert!(refused.token_id.is_some());
        let grant = log
            .iter()
            .find(|e| e.action == "package.access_grant")
            .unwrap();
        assert_eq!(grant.actor.as_deref(), Some("olga"));
        // Newest first, paginated.
        let (page, more) = services
            .audit_log(
                &olga,
                &AuditQuery {
                    org: Some("acme".into()),
                    page: 1,
                    per_page: 2,
                },
            )
            .await
            .unwrap();
        assert!(more);
        assert_eq!(page[0].action, "token.authorization_failed");

        // Only org owners read the org's log, only site admins the site's.
        let mia = world.principal("mia").await;
        assert!(matches!(
            services.audit_log(&mia, &query).await,
            Err(ServiceError::Denied(Deny::Forbidden(_)))
        ));
        let site = AuditQuery {
            org: None,
            page: 1,
            per_page: 100,
        };
        assert!(matches!(
            services.audit_log(&olga, &site).await,
            Err(ServiceError::Denied(Deny::Forbidden(_)))
        ));
        assert!(
            services
                .audit_log(&Services::operator(), &site)
                .await
                .unwrap()
                .0
                .len()
                >= 5
        );
    })
    .await;
}
