//! npm operations through the service, on both databases: publish and packuments, dist-tags, deprecation,
//! unpublish, search, login, the packument cache's invalidation, and concurrent publishes.

use entrepot_npm::name::PackageName;
use entrepot_npm::publish::{Limits, parse_publish};
use entrepot_npm::search;
use entrepot_service::authz::{Deny, Principal};
use entrepot_service::{NpmError, Packument, PutOutcome, ServiceError, Services};
use entrepot_testkit::npm::publish_body;
use entrepot_testkit::{World, on_both};
use serde_json::Value;

const BASE: &str = "http://entrepot.test/npm";

fn limits() -> Limits {
    Limits::for_tarball(1 << 20)
}

fn name(full: &str) -> PackageName {
    PackageName::parse(full).unwrap()
}

async fn publish(
    services: &Services,
    who: &Principal,
    full: &str,
    version: &str,
) -> Result<PutOutcome, NpmError> {
    let body = publish_body(full, version).to_string();
    services
        .npm_put(who, &name(full), body.as_bytes(), limits())
        .await
}

fn full_doc(doc: &Packument) -> Value {
    serde_json::from_slice(&doc.full.body).unwrap()
}

fn abbreviated_doc(doc: &Packument) -> Value {
    serde_json::from_slice(&doc.abbreviated.body).unwrap()
}

#[tokio::test]
async fn publish_read_tag_deprecate_unpublish() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let lib = name("@acme/lib");
        for version in ["1.0.0", "1.1.0", "2.0.0-beta.1"] {
            let outcome = publish(&env.services, &mia, "@acme/lib", version)
                .await
                .unwrap();
            assert_eq!(
                outcome,
                PutOutcome::Published {
                    version: version.into()
                }
            );
        }
        let doc = env.services.npm_packument(&mia, &lib, BASE).await.unwrap();
        let full = full_doc(&doc);
        assert_eq!(full["name"], "@acme/lib");
        // A prerelease does not displace latest.
        assert_eq!(full["dist-tags"]["latest"], "1.1.0");
        assert_eq!(
            full["versions"]["1.0.0"]["dist"]["tarball"],
            "http://entrepot.test/npm/@acme/lib/-/lib-1.0.0.tgz"
        );
        assert!(full["time"]["1.1.0"].is_string());
        let abbreviated = abbreviated_doc(&doc);
        assert_eq!(abbreviated["versions"].as_object().unwrap().len(), 3);
        assert!(abbreviated["modified"].is_string());

        // The same state answers from the cache, with the same ETag.
        let again = env.services.npm_packument(&mia, &lib, BASE).await.unwrap();
        assert_eq!(again.revision, doc.revision);
        assert_eq!(again.full.etag, doc.full.etag);

        // Dist-tags: add, refuse a missing version, remove; latest cannot be removed.
        let tags = env
            .services
            .npm_set_dist_tag(&mia, &lib, "beta", "2.0.0-beta.1")
            .await
            .unwrap();
        assert_eq!(tags["beta"], "2.0.0-beta.1");
        let missing = env
            .services
            .npm_set_dist_tag(&mia, &lib, "beta", "9.9.9")
            .await
            .unwrap_err();
        assert!(matches!(
            missing,
            NpmError::Service(ServiceError::NotFound(_))
        ));
        let latest = env
            .services
            .npm_remove_dist_tag(&mia, &lib, "latest")
            .await
            .unwrap_err();
        assert!(matches!(
            latest,
            NpmError::Service(ServiceError::Invalid(_))
        ));
        let range = env
            .services
            .npm_set_dist_tag(&mia, &lib, "v1", "1.0.0")
            .await
            .unwrap_err();
        assert!(matches!(range, NpmError::Tag(_)), "{range:?}");
        let after_tag = env.services.npm_packument(&mia, &lib, BASE).await.unwrap();
        assert!(
            after_tag.revision > doc.revision,
            "a tag change bumps the revision"
        );
        assert_eq!(full_doc(&after_tag)["dist-tags"]["beta"], "2.0.0-beta.1");
        env.services
            .npm_remove_dist_tag(&mia, &lib, "beta")
            .await
            .unwrap();
        assert_eq!(
            env.services.npm_dist_tags(&mia, &lib).await.unwrap().len(),
            1
        );

        // Deprecate through a PUT of the document, as npm does, then un-deprecate.
        let mut deprecate = full_doc(&after_tag);
        deprecate["versions"]["1.0.0"]["deprecated"] = "use 1.1.0".into();
        let outcome = env
            .services
            .npm_put(&mia, &lib, deprecate.to_string().as_bytes(), limits())
            .await
            .unwrap();
        assert_eq!(outcome, PutOutcome::Deprecated { changed: 1 });
        let doc = env.services.npm_packument(&mia, &lib, BASE).await.unwrap();
        assert_eq!(
            abbreviated_doc(&doc)["versions"]["1.0.0"]["deprecated"],
            "use 1.1.0"
        );
        let mut undeprecate = full_doc(&doc);
        undeprecate["versions"]["1.0.0"]["deprecated"] = "".into();
        env.services
            .npm_put(&mia, &lib, undeprecate.to_string().as_bytes(), limits())
            .await
            .unwrap();
        let doc = env.services.npm_packument(&mia, &lib, BASE).await.unwrap();
        assert!(
            full_doc(&doc)["versions"]["1.0.0"]
                .get("deprecated")
                .is_none()
        );

        // Unpublish 1.1.0 (the PUT without it): latest falls back to 1.0.0.
        let mut without = full_doc(&doc);
        without["versions"].as_object_mut().unwrap().remove("1.1.0");
        let outcome = env
            .services
            .npm_put(&mia, &lib, without.to_string().as_bytes(), limits())
            .await
            .unwrap();
        assert_eq!(
            outcome,
            PutOutcome::Unpublished {
                versions: vec!["1.1.0".into()]
            }
        );
        env.services
            .npm_unpublish_tarball(&mia, &lib, "lib-1.1.0.tgz")
            .await
            .unwrap();
        let doc = env.services.npm_packument(&mia, &lib, BASE).await.unwrap();
        let full = full_doc(&doc);
        assert_eq!(full["dist-tags"]["latest"], "1.0.0");
        assert!(full["versions"].get("1.1.0").is_none());
        // Only a public package's unpublished versions stay reserved (docs/permissions.md): this one is private.
        publish(&env.services, &mia, "@acme/lib", "1.1.0")
            .await
            .unwrap();

        // Unpublish the package: gone for every reader.
        env.services
            .npm_unpublish_package(&mia, &lib)
            .await
            .unwrap();
        let gone = env
            .services
            .npm_packument(&mia, &lib, BASE)
            .await
            .unwrap_err();
        assert!(
            matches!(
                gone,
                NpmError::Service(ServiceError::Denied(Deny::NotFound))
            ),
            "{gone:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn permissions_follow_the_core() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let max = world.principal("max").await;
        let ursula = world.principal("ursula").await;
        let lib = name("@acme/lib");
        publish(&env.services, &mia, "@acme/lib", "1.0.0")
            .await
            .unwrap();
        // Private by default: another member sees nothing, an outsider neither, anonymous must log in.
        for who in [&max, &ursula] {
            let error = env
                .services
                .npm_packument(who, &lib, BASE)
                .await
                .unwrap_err();
            assert!(
                matches!(
                    error,
                    NpmError::Service(ServiceError::Denied(Deny::NotFound))
                ),
                "{error:?}"
            );
        }
        let anonymous = env
            .services
            .npm_packument(&Principal::Anonymous, &lib, BASE)
            .await
            .unwrap_err();
        assert!(matches!(
            anonymous,
            NpmError::Service(ServiceError::Denied(Deny::Unauthenticated))
        ));
        // Creating a package in a namespace one does not belong to is refused.
        let foreign = publish(&env.services, &ursula, "@acme/other", "1.0.0")
            .await
            .unwrap_err();
        assert!(
            matches!(
                foreign,
                NpmError::Service(ServiceError::Denied(Deny::Forbidden(_)))
            ),
            "{foreign:?}"
        );
        // A read grant lets max read, not tag.
        env.services
            .grant(
                &world.principal("olga").await,
                &entrepot_service::PackageKey::new(
                    "acme",
                    entrepot_service::authz::PackageType::Npm,
                    "lib",
                ),
                &entrepot_service::GranteeRef::User("max".into()),
                entrepot_service::authz::Role::Read,
            )
            .await
            .unwrap();
        // Denials are never cached: the grant is effective at once.
        let tags = env.services.npm_dist_tags(&max, &lib).await.unwrap();
        assert_eq!(tags["latest"], "1.0.0");
        env.services.npm_packument(&max, &lib, BASE).await.unwrap();
        let denied = env
            .services
            .npm_set_dist_tag(&max, &lib, "next", "1.0.0")
            .await
            .unwrap_err();
        assert!(
            matches!(
                denied,
                NpmError::Service(ServiceError::Denied(Deny::Forbidden(_)))
            ),
            "{denied:?}"
        );
        // whoami and login.
        assert_eq!(env.services.npm_whoami(&mia).await.unwrap(), "mia");
        let secret = entrepot_identity::secret::Secret::new(world.token("mia"));
        assert_eq!(env.services.npm_login("MIA", &secret).await.unwrap(), "mia");
        assert!(env.services.npm_login("max", &secret).await.is_err());
        let garbage = entrepot_identity::secret::Secret::new("hunter2");
        assert!(env.services.npm_login("mia", &garbage).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn search_lists_what_the_caller_may_read() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let ursula = world.principal("ursula").await;
        publish(&env.services, &mia, "@acme/widget", "1.2.0")
            .await
            .unwrap();
        publish(&env.services, &ursula, "@ursula/widget-tools", "0.1.0")
            .await
            .unwrap();
        let query = search::Query::new(Some("widget"), None, None);
        let found = env.services.npm_search(&mia, &query).await.unwrap();
        let names: Vec<&str> = found
            .objects
            .iter()
            .map(|o| o.package.name.as_str())
            .collect();
        assert_eq!(names, ["@acme/widget"]);
        assert_eq!(found.objects[0].package.version, "1.2.0");
        let found = env.services.npm_search(&ursula, &query).await.unwrap();
        assert_eq!(found.objects.len(), 1);
        assert_eq!(found.objects[0].package.name, "@ursula/widget-tools");
    })
    .await;
}

#[tokio::test]
async fn concurrent_publishes_never_lose_or_mix() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let lib = name("@acme/lib");
        // Two different versions of a new package at once: both land.
        let (a, b) = tokio::join!(
            publish(&env.services, &mia, "@acme/lib", "1.0.0"),
            publish(&env.services, &mia, "@acme/lib", "1.0.1"),
        );
        a.unwrap();
        b.unwrap();
        // The same version twice at once: one success, one conflict.
        let (a, b) = tokio::join!(
            publish(&env.services, &mia, "@acme/lib", "2.0.0"),
            publish(&env.services, &mia, "@acme/lib", "2.0.0"),
        );
        let outcomes = [a, b];
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "{outcomes:?}"
        );
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(NpmError::Service(ServiceError::Conflict(_)))))
        );
        // Many different versions at once: every one is in the packument, latest is the highest.
        let versions: Vec<String> = (0..8).map(|i| format!("3.0.{i}")).collect();
        let publishes = versions
            .iter()
            .map(|version| publish(&env.services, &mia, "@acme/lib", version));
        for outcome in futures_util::future::join_all(publishes).await {
            outcome.unwrap();
        }
        let doc = env.services.npm_packument(&mia, &lib, BASE).await.unwrap();
        let full = full_doc(&doc);
        let stored = full["versions"].as_object().unwrap();
        assert_eq!(stored.len(), 3 + versions.len());
        assert_eq!(full["dist-tags"]["latest"], "3.0.7");
        for version in &versions {
            let dist = &stored[version.as_str()]["dist"];
            assert_eq!(
                dist["tarball"],
                format!("http://entrepot.test/npm/@acme/lib/-/lib-{version}.tgz")
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_parsed_publish_goes_straight_through() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let olga = world.principal("olga").await;
        let lib = name("@acme/direct");
        let body = publish_body("@acme/direct", "0.1.0").to_string();
        let parsed = parse_publish(&lib, body.as_bytes(), limits()).unwrap();
        env.services.npm_publish(&olga, parsed).await.unwrap();
        let doc = env.services.npm_packument(&olga, &lib, BASE).await.unwrap();
        assert_eq!(full_doc(&doc)["dist-tags"]["latest"], "0.1.0");
        let opened = env.services.npm_tarball(&olga, &lib, "lib-0.1.0.tgz").await;
        assert!(opened.is_err(), "a tarball of another name is not served");
        let opened = env
            .services
            .npm_tarball(&olga, &lib, "direct-0.1.0.tgz")
            .await
            .unwrap();
        assert!(opened.file.size > 0);
    })
    .await;
}

#[tokio::test]
async fn repository_field_links_the_package() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let max = world.principal("max").await;
        let webpkg = name("@acme/webpkg");
        let mut manifest = entrepot_testkit::npm::manifest("@acme/webpkg", "1.0.0");
        manifest["repository"] = serde_json::json!({
            "type": "git",
            "url": "git+http://entrepot.test/acme/web.git"
        });
        let tarball = entrepot_testkit::npm::tarball_with(&manifest, &[]);
        let body = entrepot_testkit::npm::publish_body_with(&manifest, &tarball, "latest");
        env.services
            .npm_put(&max, &webpkg, body.to_string().as_bytes(), limits())
            .await
            .unwrap();
        let key = entrepot_service::PackageKey::new(
            "acme",
            entrepot_service::authz::PackageType::Npm,
            "webpkg",
        );
        let view = env.services.package(&max, &key).await.unwrap();
        assert_eq!(view.repository.as_deref(), Some("acme/web"));
        assert!(view.inherit_access);
        // Inheriting acme/web's access: mia reads through the org's base permission, an outsider does not.
        let mia = world.principal("mia").await;
        env.services
            .npm_packument(&mia, &webpkg, BASE)
            .await
            .unwrap();
        let outsider = world.principal("outsider").await;
        assert!(
            env.services
                .npm_packument(&outsider, &webpkg, BASE)
                .await
                .is_err()
        );
    })
    .await;
}

#[tokio::test]
async fn a_version_deleted_and_restored_by_id_leaves_and_rejoins_the_packument() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let mia = world.principal("mia").await;
        let lib = name("@acme/lib");
        for version in ["1.0.0", "1.1.0"] {
            publish(&env.services, &mia, "@acme/lib", version)
                .await
                .unwrap();
        }
        let key = entrepot_service::PackageKey::new(
            "acme",
            entrepot_service::authz::PackageType::Npm,
            "lib",
        );
        let versions = env.services.versions(&mia, &key, false).await.unwrap();
        let latest = versions.iter().find(|v| v.version == "1.1.0").unwrap().id;
        // Rendered and cached before the delete.
        let doc = env.services.npm_packument(&mia, &lib, BASE).await.unwrap();
        assert_eq!(full_doc(&doc)["dist-tags"]["latest"], "1.1.0");

        env.services
            .delete_version_by_id(&mia, &key, latest)
            .await
            .unwrap();
        let doc = full_doc(&env.services.npm_packument(&mia, &lib, BASE).await.unwrap());
        assert!(doc["versions"].get("1.1.0").is_none(), "{doc}");
        assert_eq!(
            doc["dist-tags"]["latest"], "1.0.0",
            "latest names no deleted version"
        );

        env.services
            .restore_version_by_id(&mia, &key, latest)
            .await
            .unwrap();
        let doc = full_doc(&env.services.npm_packument(&mia, &lib, BASE).await.unwrap());
        assert!(doc["versions"].get("1.1.0").is_some(), "{doc}");
    })
    .await;
}
