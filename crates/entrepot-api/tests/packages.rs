//! GitHub's packages API over HTTP: shapes, pagination and its limits, the visibility filter, every package type
//! published so far (container, npm, Maven), 404 against 403, delete and restore by version id, download counts.

use actix_web::{App, test, web};
use entrepot_http::base_url::ConfiguredBaseUrl;
use entrepot_service::authz::{PackageType, Role, Visibility};
use entrepot_service::{GranteeRef, PackageKey, Services};
use entrepot_testkit::{Engine, TestEnv, World};
use serde_json::{Value, json};

struct Fixture {
    env: TestEnv,
    world: World,
}

/// acme: npm `lib` (public, versions 1.0.0 and 2.0.0), npm `a-priv` (private), image `tools/app` (private, one
/// manifest tagged `latest`), Maven `com.acme:core` in acme/web; all published by olga.
async fn fixture() -> Fixture {
    let (env, _) = TestEnv::new(Engine::Sqlite).await.expect("sqlite");
    let world = World::build(&env.services).await;
    let olga = world.principal("olga").await;
    let services = &env.services;
    let lib = PackageKey::new("acme", PackageType::Npm, "lib");
    for version in ["1.0.0", "2.0.0"] {
        entrepot_testkit::publish_file(
            services,
            &olga,
            &lib,
            version,
            &format!("lib-{version}.tgz"),
            version.as_bytes(),
            None,
        )
        .await
        .unwrap();
    }
    services
        .set_package_visibility(&olga, &lib, Visibility::Public)
        .await
        .unwrap();
    let private = PackageKey::new("acme", PackageType::Npm, "a-priv");
    entrepot_testkit::publish_file(services, &olga, &private, "0.1.0", "p.tgz", b"p", None)
        .await
        .unwrap();
    let image = PackageKey::new("acme", PackageType::Container, "tools/app");
    let digest = "sha256:aaaa";
    entrepot_testkit::publish_file(services, &olga, &image, digest, "manifest", b"{}", None)
        .await
        .unwrap();
    services
        .update_version_metadata(&olga, &image, digest, json!({ "tags": ["latest"] }))
        .await
        .unwrap();
    let core = PackageKey::new("acme", PackageType::Maven, "com.acme:core").in_repository("web");
    entrepot_testkit::publish_file(services, &olga, &core, "1.0", "core-1.0.jar", b"jar", None)
        .await
        .unwrap();
    Fixture { env, world }
}

/// Sends a request as `login` (anonymous when `None`) to a fresh app over `services`; returns the status, the
/// `Link` header and the JSON body.
async fn call(
    services: &Services,
    world: &World,
    login: Option<&str>,
    method: &str,
    path: &str,
) -> (u16, Option<String>, Value) {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(services.clone()))
            .app_data(web::Data::new(
                ConfiguredBaseUrl::new("http://entrepot.test").unwrap(),
            ))
            .configure(entrepot_api::configure),
    )
    .await;
    let mut request = test::TestRequest::default()
        .method(method.parse().unwrap())
        .uri(&format!("/api/v3{path}"));
    if let Some(login) = login {
        request =
            request.insert_header(("Authorization", format!("Bearer {}", world.token(login))));
    }
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let link = response
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = test::read_body(response).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, link, json)
}

fn names(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn listings_page_and_filter_as_github_does() {
    let Fixture { env, world } = fixture().await;
    let app = &env.services;
    let olga = Some("olga");

    // package_type is required; a bad one, a bad number and a page past the 10,000th result are 400.
    for path in [
        "/orgs/acme/packages",
        "/orgs/acme/packages?package_type=pypi",
        "/orgs/acme/packages?package_type=npm&page=x",
        "/orgs/acme/packages?package_type=npm&visibility=secret",
        "/orgs/acme/packages?package_type=npm&per_page=100&page=101",
        "/user/packages?package_type=npm&per_page=50&page=201",
    ] {
        let (status, _, body) = call(app, &world, olga, "GET", path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    let (status, _, _) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages?package_type=npm&per_page=100&page=100",
    )
    .await;
    assert_eq!(status, 200, "exactly 10,000 is allowed");

    let (status, link, body) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages?package_type=npm",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(names(&body), ["a-priv", "lib"]);
    assert_eq!(link, None, "one page: no Link header");

    // One per page: next and last on the first page, prev and first on the last.
    let (_, link, body) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages?package_type=npm&per_page=1",
    )
    .await;
    assert_eq!(names(&body), ["a-priv"]);
    let link = link.expect("a Link header");
    assert!(link.contains("page=2>; rel=\"next\""), "{link}");
    assert!(link.contains("page=2>; rel=\"last\""), "{link}");
    assert!(link.contains("package_type=npm"), "{link}");
    assert!(!link.contains("rel=\"prev\""), "{link}");
    let (_, link, body) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages?package_type=npm&per_page=1&page=2",
    )
    .await;
    assert_eq!(names(&body), ["lib"]);
    let link = link.expect("a Link header");
    assert!(
        link.contains("page=1>; rel=\"prev\"") && link.contains("page=1>; rel=\"first\""),
        "{link}"
    );
    assert!(!link.contains("rel=\"next\""), "{link}");

    // The visibility filter.
    let (_, _, body) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages?package_type=npm&visibility=public",
    )
    .await;
    assert_eq!(names(&body), ["lib"]);
    let (_, _, body) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages?package_type=npm&visibility=private",
    )
    .await;
    assert_eq!(names(&body), ["a-priv"]);

    // Each caller sees what it may read: an outsider only the public package, an org member too.
    let (_, _, body) = call(
        app,
        &world,
        Some("outsider"),
        "GET",
        "/orgs/acme/packages?package_type=npm",
    )
    .await;
    assert_eq!(names(&body), ["lib"]);
    let (_, _, body) = call(
        app,
        &world,
        Some("outsider"),
        "GET",
        "/orgs/acme/packages?package_type=container",
    )
    .await;
    assert_eq!(names(&body), Vec::<&str>::new());

    // `/users/…` is for users and `/orgs/…` for organizations.
    let (status, _, _) = call(
        app,
        &world,
        olga,
        "GET",
        "/users/acme/packages?package_type=npm",
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/nobody/packages?package_type=npm",
    )
    .await;
    assert_eq!(status, 404);

    // Versions: newest first, paged the same way.
    let (_, link, body) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages/npm/lib/versions?per_page=1",
    )
    .await;
    assert_eq!(names(&body), ["2.0.0"]);
    assert!(link.unwrap().contains("rel=\"next\""));
    let (status, _, _) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages/npm/lib/versions?state=gone",
    )
    .await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn every_package_type_in_github_shapes() {
    let Fixture { env, world } = fixture().await;
    let app = &env.services;
    let olga = Some("olga");

    // A container image: `docker` means container, the name's `/` travels encoded.
    let (status, _, body) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages?package_type=docker",
    )
    .await;
    assert_eq!(status, 200);
    let image = &body[0];
    assert_eq!(image["name"], "tools/app");
    assert_eq!(image["package_type"], "container");
    assert_eq!(image["visibility"], "private");
    assert_eq!(image["version_count"], 1);
    assert_eq!(image["owner"]["login"], "acme");
    assert_eq!(image["owner"]["type"], "Organization");
    assert_eq!(
        image["url"],
        "http://entrepot.test/api/v3/orgs/acme/packages/container/tools%2Fapp"
    );
    assert_eq!(
        image["html_url"],
        "http://entrepot.test/orgs/acme/packages/container/package/tools%2Fapp"
    );
    assert!(image.get("repository").is_none(), "unlinked: no repository");
    let (status, _, versions) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages/container/tools%2Fapp/versions",
    )
    .await;
    assert_eq!(status, 200);
    let version = &versions[0];
    assert_eq!(version["name"], "sha256:aaaa");
    assert_eq!(version["metadata"]["package_type"], "container");
    assert_eq!(version["metadata"]["container"]["tags"], json!(["latest"]));
    assert_eq!(version["metadata"]["docker"]["tag"], json!(["latest"]));
    let id = version["id"].as_i64().unwrap();
    assert_eq!(
        version["url"],
        format!(
            "http://entrepot.test/api/v3/orgs/acme/packages/container/tools%2Fapp/versions/{id}"
        )
    );
    assert!(version.get("deleted_at").is_none());
    let (status, _, one) = call(
        app,
        &world,
        olga,
        "GET",
        &format!("/orgs/acme/packages/container/tools%2Fapp/versions/{id}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(&one, version);

    // Maven (and Gradle, which publishes Maven packages): groupId:artifactId, with its repository.
    for package_type in ["maven", "gradle"] {
        let (status, _, body) = call(
            app,
            &world,
            olga,
            "GET",
            &format!("/orgs/acme/packages?package_type={package_type}"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(names(&body), ["com.acme:core"]);
        assert_eq!(body[0]["package_type"], "maven");
        assert_eq!(body[0]["repository"]["full_name"], "acme/web");
        assert_eq!(body[0]["repository"]["private"], true);
        assert_eq!(body[0]["repository"]["owner"]["login"], "acme");
        assert_eq!(body[0]["visibility"], "private", "the repository's");
    }
    let (status, _, body) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages/maven/com.acme%3Acore",
    )
    .await;
    assert_eq!(
        (status, body["name"].as_str()),
        (200, Some("com.acme:core"))
    );

    // npm, by the package's owner through /user: olga has none of her own; ursula publishes one.
    let ursula = world.principal("ursula").await;
    let mine = PackageKey::new("ursula", PackageType::Npm, "mine");
    entrepot_testkit::publish_file(&env.services, &ursula, &mine, "3.1.4", "m.tgz", b"m", None)
        .await
        .unwrap();
    let (_, _, body) = call(
        app,
        &world,
        Some("ursula"),
        "GET",
        "/user/packages?package_type=npm",
    )
    .await;
    assert_eq!(names(&body), ["mine"]);
    assert_eq!(body[0]["owner"]["type"], "User");
    assert_eq!(
        body[0]["url"],
        "http://entrepot.test/api/v3/users/ursula/packages/npm/mine"
    );
    let (_, _, body) = call(app, &world, olga, "GET", "/user/packages?package_type=npm").await;
    assert_eq!(names(&body), Vec::<&str>::new());
    let (status, _, body) = call(
        app,
        &world,
        Some("ursula"),
        "GET",
        "/users/ursula/packages/npm/mine/versions",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(names(&body), ["3.1.4"]);
}

#[actix_web::test]
async fn not_found_for_who_may_not_see_forbidden_for_a_role_too_low() {
    let Fixture { env, world } = fixture().await;
    let app = &env.services;
    let olga = world.principal("olga").await;
    let private = PackageKey::new("acme", PackageType::Npm, "a-priv");
    env.services
        .grant(&olga, &private, &GranteeRef::User("max".into()), Role::Read)
        .await
        .unwrap();
    let (_, _, versions) = call(
        app,
        &world,
        Some("olga"),
        "GET",
        "/orgs/acme/packages/npm/a-priv/versions",
    )
    .await;
    let id = versions[0]["id"].as_i64().unwrap();
    let version = format!("/orgs/acme/packages/npm/a-priv/versions/{id}");

    // The outsider may not see it: 404 for every verb, as for a package that does not exist.
    for (method, path) in [
        ("GET", "/orgs/acme/packages/npm/a-priv".to_owned()),
        ("DELETE", "/orgs/acme/packages/npm/a-priv".to_owned()),
        ("GET", version.clone()),
        ("DELETE", version.clone()),
        ("POST", format!("{version}/restore")),
        ("GET", "/orgs/acme/packages/npm/missing".to_owned()),
    ] {
        let (status, _, _) = call(app, &world, Some("outsider"), method, &path).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    // max may read, not delete or list what was deleted: 403.
    let (status, _, _) = call(app, &world, Some("max"), "GET", &version).await;
    assert_eq!(status, 200);
    for (method, path) in [
        ("DELETE", version.clone()),
        ("DELETE", "/orgs/acme/packages/npm/a-priv".to_owned()),
        (
            "GET",
            "/orgs/acme/packages/npm/a-priv/versions?state=deleted".to_owned(),
        ),
    ] {
        let (status, _, body) = call(app, &world, Some("max"), method, &path).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
    }
    // Anonymous npm reads are off: asked to authenticate.
    let (status, _, _) = call(app, &world, None, "GET", "/orgs/acme/packages/npm/lib").await;
    assert_eq!(status, 401);
    // A version id of another package is not this package's.
    let (_, _, lib_versions) = call(
        app,
        &world,
        Some("olga"),
        "GET",
        "/orgs/acme/packages/npm/lib/versions",
    )
    .await;
    let foreign = lib_versions[0]["id"].as_i64().unwrap();
    let (status, _, _) = call(
        app,
        &world,
        Some("olga"),
        "GET",
        &format!("/orgs/acme/packages/npm/a-priv/versions/{foreign}"),
    )
    .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn delete_and_restore_versions_and_packages_by_the_api() {
    let Fixture { env, world } = fixture().await;
    let app = &env.services;
    let olga = Some("olga");
    let (_, _, versions) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages/npm/lib/versions",
    )
    .await;
    let old = versions[1]["id"].as_i64().unwrap();
    let path = format!("/orgs/acme/packages/npm/lib/versions/{old}");

    let (status, _, _) = call(app, &world, olga, "DELETE", &path).await;
    assert_eq!(status, 204);
    let (_, _, active) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages/npm/lib/versions",
    )
    .await;
    assert_eq!(names(&active), ["2.0.0"]);
    let (_, _, deleted) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages/npm/lib/versions?state=deleted",
    )
    .await;
    assert_eq!(names(&deleted), ["1.0.0"]);
    assert!(deleted[0]["deleted_at"].is_string());
    let (status, _, _) = call(app, &world, olga, "POST", &format!("{path}/restore")).await;
    assert_eq!(status, 204);
    let (_, _, active) = call(
        app,
        &world,
        olga,
        "GET",
        "/orgs/acme/packages/npm/lib/versions",
    )
    .await;
    assert_eq!(names(&active), ["2.0.0", "1.0.0"]);

    // A whole package, then back (GitHub's `token` parameter is accepted and ignored).
    let (status, _, _) = call(app, &world, olga, "DELETE", "/orgs/acme/packages/npm/lib").await;
    assert_eq!(status, 204);
    let (status, _, _) = call(app, &world, olga, "GET", "/orgs/acme/packages/npm/lib").await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        app,
        &world,
        olga,
        "POST",
        "/orgs/acme/packages/npm/lib/restore?token=abc",
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, body) = call(app, &world, olga, "GET", "/orgs/acme/packages/npm/lib").await;
    assert_eq!((status, body["version_count"].as_u64()), (200, Some(2)));
}

#[actix_web::test]
async fn download_counts_show_before_and_after_they_are_written() {
    let Fixture { env, world } = fixture().await;
    let app = &env.services;
    let mia = world.principal("mia").await;
    let lib = PackageKey::new("acme", PackageType::Npm, "lib");
    for _ in 0..5 {
        env.services
            .open_file(&mia, &lib, "2.0.0", "lib-2.0.0.tgz", None, true)
            .await
            .unwrap();
    }
    for flushed in [false, true] {
        if flushed {
            env.services.flush_downloads().await.unwrap();
        }
        let (_, _, versions) = call(
            app,
            &world,
            Some("mia"),
            "GET",
            "/orgs/acme/packages/npm/lib/versions",
        )
        .await;
        let counts: Vec<_> = versions
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap(),
                    v["download_count"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(counts, [("2.0.0", 5), ("1.0.0", 0)], "flushed: {flushed}");
        let (_, _, package) = call(
            app,
            &world,
            Some("mia"),
            "GET",
            "/orgs/acme/packages/npm/lib",
        )
        .await;
        assert_eq!(package["download_count"], 5, "flushed: {flushed}");
    }
}
