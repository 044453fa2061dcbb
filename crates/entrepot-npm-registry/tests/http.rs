//! The npm registry over HTTP, in process, on SQLite and PostgreSQL: every endpoint × every kind of principal
//! against a hand-written table, bad publish bodies (a clear error and nothing stored), ETags, gzip, concurrent
//! publishes.

use actix_web::http::Method;
use actix_web::{App, test, web};
use base64::Engine as _;
use entrepot_npm::route::{ENDPOINTS, Kind};
use entrepot_npm_registry::NpmConfig;
use entrepot_service::authz::{Scope, Scopes};
use entrepot_testkit::npm::{manifest, publish_body, publish_body_with, tarball_with};
use entrepot_testkit::{Engine, TestEnv, World, on_both};
use serde_json::{Value, json};

const PRINCIPALS: [&str; 8] = [
    "anonymous",
    "invalid",
    "outsider",
    "mia",
    "max",
    "olga",
    "narrow",
    "olga-write",
];

struct Case {
    kind: Kind,
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    /// One letter per principal: A = 2xx, U = 401, F = 403, N = 404. The package `@acme/lib` is private,
    /// published by mia (its admin); max is an org member without a grant; `narrow` is mia with `read:packages`
    /// only; `olga-write` is the org owner with `write:packages` only.
    expect: &'static str,
}

const LOGIN_BODY: &str = "LOGIN_BODY";
const NEW_VERSION: &str = "NEW_VERSION";

const CASES: &[Case] = &[
    Case {
        kind: Kind::Ping,
        method: "GET",
        path: "/-/ping",
        body: None,
        expect: "AAAAAAAA",
    },
    Case {
        kind: Kind::Whoami,
        method: "GET",
        path: "/-/whoami",
        body: None,
        expect: "UUAAAAAA",
    },
    Case {
        kind: Kind::WebLogin,
        method: "POST",
        path: "/-/v1/login",
        body: Some("{}"),
        expect: "NNNNNNNN",
    },
    // The credentials are in the body (mia's token), whoever sends the request.
    Case {
        kind: Kind::Login,
        method: "PUT",
        path: "/-/user/org.couchdb.user:mia",
        body: Some(LOGIN_BODY),
        expect: "AAAAAAAA",
    },
    Case {
        kind: Kind::Logout,
        method: "DELETE",
        path: "/-/user/token/OWN_TOKEN",
        body: None,
        expect: "UUAAAAAA",
    },
    Case {
        kind: Kind::Search,
        method: "GET",
        path: "/-/v1/search?text=lib",
        body: None,
        expect: "AAAAAAAA",
    },
    Case {
        kind: Kind::Audit,
        method: "POST",
        path: "/-/npm/v1/security/advisories/bulk",
        body: Some("{}"),
        expect: "AAAAAAAA",
    },
    Case {
        kind: Kind::DistTags,
        method: "GET",
        path: "/-/package/@acme%2flib/dist-tags",
        body: None,
        expect: "UUNANAAA",
    },
    Case {
        kind: Kind::SetDistTag,
        method: "PUT",
        path: "/-/package/@acme%2flib/dist-tags/next",
        body: Some("\"1.0.0\""),
        expect: "UUNANAFA",
    },
    Case {
        kind: Kind::RemoveDistTag,
        method: "DELETE",
        path: "/-/package/@acme%2flib/dist-tags/beta",
        body: None,
        expect: "UUNANAFA",
    },
    Case {
        kind: Kind::Packument,
        method: "GET",
        path: "/@acme%2flib",
        body: None,
        expect: "UUNANAAA",
    },
    Case {
        kind: Kind::Put,
        method: "PUT",
        path: "/@acme%2flib",
        body: Some(NEW_VERSION),
        expect: "UUNANAFA",
    },
    Case {
        kind: Kind::UnpublishPackage,
        method: "DELETE",
        path: "/@acme%2flib/-rev/3-1",
        body: None,
        expect: "UUNANAFF",
    },
    Case {
        kind: Kind::Tarball,
        method: "GET",
        path: "/@acme/lib/-/lib-1.0.0.tgz",
        body: None,
        expect: "UUNANAAA",
    },
    Case {
        kind: Kind::UnpublishTarball,
        method: "DELETE",
        path: "/@acme%2flib/-/lib-1.1.0.tgz/-rev/3-1",
        body: None,
        expect: "UUNANAFF",
    },
];

fn outcome(status: u16) -> char {
    match status {
        200..=299 => 'A',
        401 => 'U',
        403 => 'F',
        404 => 'N',
        _ => '?',
    }
}

macro_rules! app {
    ($services:expr, $config:expr) => {
        test::init_service(
            App::new()
                .app_data(web::Data::new($services.clone()))
                .configure(entrepot_npm_registry::configure($config)),
        )
        .await
    };
}

async fn put_json(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = test::TestRequest::put()
        .uri(&format!("/npm{path}"))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body);
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn get(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, actix_web::http::header::HeaderMap, Vec<u8>) {
    let mut request = test::TestRequest::get().uri(&format!("/npm{path}"));
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, test::read_body(response).await.to_vec())
}

/// A world with `@acme/lib` 1.0.0 and 1.1.0 published by mia, `beta` on 1.1.0; the credentials per column.
async fn fixture(env: &TestEnv) -> (World, Vec<Option<String>>) {
    let world = World::build(&env.services).await;
    let mia = world.principal("mia").await;
    let lib = entrepot_npm::name::PackageName::parse("@acme/lib").unwrap();
    for version in ["1.0.0", "1.1.0"] {
        let body = publish_body("@acme/lib", version).to_string();
        env.services
            .npm_put(
                &mia,
                &lib,
                body.as_bytes(),
                entrepot_npm::publish::Limits::for_tarball(1 << 20),
            )
            .await
            .unwrap();
    }
    env.services
        .npm_set_dist_tag(&mia, &lib, "beta", "1.1.0")
        .await
        .unwrap();
    let credentials = vec![
        None,
        Some("etp_notARealTokenAtAllButTheRightLength00".to_owned()),
        Some(world.token("outsider").to_owned()),
        Some(world.token("mia").to_owned()),
        Some(world.token("max").to_owned()),
        Some(world.token("olga").to_owned()),
        Some(
            world
                .token_with("mia", Scopes::only(Scope::ReadPackages))
                .await,
        ),
        Some(
            world
                .token_with("olga", Scopes::only(Scope::WritePackages))
                .await,
        ),
    ];
    (world, credentials)
}

#[actix_web::test]
async fn every_endpoint_times_every_principal() {
    // The table covers every declared endpoint.
    for (kind, ..) in ENDPOINTS {
        assert!(
            CASES.iter().any(|case| case.kind == *kind),
            "no authorization case for {kind:?}"
        );
    }
    let mut failures = Vec::new();
    for case in CASES {
        for (column, principal) in PRINCIPALS.iter().enumerate() {
            let Some((env, _pg)) = TestEnv::new(Engine::Sqlite).await else {
                continue;
            };
            let (world, credentials) = fixture(&env).await;
            let app = app!(env.services, NpmConfig::default());
            let token = credentials[column].clone();
            let path = case
                .path
                .replace("OWN_TOKEN", token.as_deref().unwrap_or("none"));
            let mut request = test::TestRequest::default()
                .method(Method::from_bytes(case.method.as_bytes()).unwrap())
                .uri(&format!("/npm{path}"));
            if let Some(token) = &token {
                request = request.insert_header(("Authorization", format!("Bearer {token}")));
            }
            if let Some(body) = case.body {
                let body = match body {
                    LOGIN_BODY => {
                        json!({"name": "mia", "password": world.token("mia")}).to_string()
                    }
                    NEW_VERSION => publish_body("@acme/lib", "1.2.0").to_string(),
                    other => other.to_owned(),
                };
                request = request
                    .insert_header(("Content-Type", "application/json"))
                    .set_payload(body);
            }
            let response = test::call_service(&app, request.to_request()).await;
            let status = response.status().as_u16();
            let want = case.expect.chars().nth(column).unwrap();
            if status == 401 {
                let challenge = response
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if !challenge.starts_with("Basic realm=") {
                    failures.push(format!(
                        "{} {path}: 401 without a Basic challenge",
                        case.method
                    ));
                }
            }
            if outcome(status) != want {
                let body = test::read_body(response).await;
                failures.push(format!(
                    "{} {path} as {principal}: want {want}, got {status} {}",
                    case.method,
                    String::from_utf8_lossy(&body)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One refused publish: a label, the path, the body, and the status it must get.
struct Bad {
    label: &'static str,
    path: &'static str,
    body: Vec<u8>,
    status: u16,
    /// A fragment the error message must contain.
    says: &'static str,
}

fn with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut body = publish_body("@acme/lib", "1.1.0");
    edit(&mut body);
    body.to_string().into_bytes()
}

fn bad_cases() -> Vec<Bad> {
    let attachment = "@acme/lib-1.1.0.tgz";
    let other_manifest = manifest("@acme/other", "1.1.0");
    let wrong_name_tarball = tarball_with(&other_manifest, &[]);
    let wrong_version_tarball = tarball_with(&manifest("@acme/lib", "9.9.9"), &[]);
    let big = manifest("@acme/lib", "1.1.0");
    let noise: Vec<u8> = (0..4096u32)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    let big_tarball = tarball_with(&big, &[("noise.bin", &noise)]);
    vec![
        Bad {
            label: "integrity mismatch",
            path: "/@acme%2flib",
            body: with(|b| {
                b["versions"]["1.1.0"]["dist"]["integrity"] = "sha512-AAAA".into();
            }),
            status: 400,
            says: "integrity",
        },
        Bad {
            label: "shasum mismatch",
            path: "/@acme%2flib",
            body: with(|b| {
                b["versions"]["1.1.0"]["dist"]["shasum"] =
                    "0000000000000000000000000000000000000000".into();
            }),
            status: 400,
            says: "shasum",
        },
        Bad {
            label: "attachment missing",
            path: "/@acme%2flib",
            body: with(|b| {
                b["_attachments"] = json!({});
            }),
            status: 400,
            says: "tarball",
        },
        Bad {
            label: "two attachments",
            path: "/@acme%2flib",
            body: with(|b| {
                let one = b["_attachments"][attachment].clone();
                b["_attachments"]["@acme/lib-1.1.1.tgz"] = one;
            }),
            status: 400,
            says: "exactly one tarball",
        },
        Bad {
            label: "body name differs from the URL",
            path: "/@acme%2flib",
            body: with(|b| {
                b["name"] = "@acme/other".into();
            }),
            status: 400,
            says: "does not match the URL",
        },
        Bad {
            label: "version object differs from its key",
            path: "/@acme%2flib",
            body: with(|b| {
                b["versions"]["1.1.0"]["version"] = "1.1.1".into();
            }),
            status: 400,
            says: "version",
        },
        Bad {
            label: "tarball package.json names another package",
            path: "/@acme%2flib",
            body: publish_body_with(
                &manifest("@acme/lib", "1.1.0"),
                &wrong_name_tarball,
                "latest",
            )
            .to_string()
            .into_bytes(),
            status: 400,
            says: "package.json",
        },
        Bad {
            label: "tarball package.json has another version",
            path: "/@acme%2flib",
            body: publish_body_with(
                &manifest("@acme/lib", "1.1.0"),
                &wrong_version_tarball,
                "latest",
            )
            .to_string()
            .into_bytes(),
            status: 400,
            says: "package.json",
        },
        Bad {
            label: "invalid semver",
            path: "/@acme%2flib",
            body: with(|b| {
                let object = b["versions"]["1.1.0"].take();
                b["versions"] = json!({ "1.1": object });
                b["versions"]["1.1"]["version"] = "1.1".into();
                b["dist-tags"] = json!({"latest": "1.1"});
            }),
            status: 400,
            says: "SemVer",
        },
        Bad {
            label: "scope that is not the owner",
            path: "/@ursula%2flib",
            body: publish_body("@ursula/lib", "1.0.0")
                .to_string()
                .into_bytes(),
            status: 403,
            says: "permission denied",
        },
        Bad {
            label: "scope of no account",
            path: "/@nobody%2flib",
            body: publish_body("@nobody/lib", "1.0.0")
                .to_string()
                .into_bytes(),
            status: 404,
            says: "not found",
        },
        Bad {
            label: "unscoped name",
            path: "/lib",
            body: publish_body("@acme/lib", "1.1.0").to_string().into_bytes(),
            status: 400,
            says: "scoped packages only",
        },
        Bad {
            label: "malformed JSON",
            path: "/@acme%2flib",
            body: b"{\"name\": \"@acme/lib\", ".to_vec(),
            status: 400,
            says: "JSON",
        },
        Bad {
            label: "invalid base64",
            path: "/@acme%2flib",
            body: with(|b| {
                b["_attachments"][attachment]["data"] = "!!!not base64!!!".into();
            }),
            status: 400,
            says: "base64",
        },
        Bad {
            label: "oversized tarball",
            path: "/@acme%2flib",
            body: publish_body_with(&big, &big_tarball, "latest")
                .to_string()
                .into_bytes(),
            status: 413,
            says: "larger than the limit",
        },
        Bad {
            label: "dist-tag that is a semver range",
            path: "/@acme%2flib",
            body: with(|b| {
                b["dist-tags"] = json!({"v1": "1.1.0"});
            }),
            status: 400,
            says: "SemVer range",
        },
    ]
}

#[actix_web::test]
async fn bad_publishes_are_refused_and_store_nothing() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        // 8 KiB tarballs at most, so the oversized case stays small.
        let config = NpmConfig {
            max_tarball_bytes: 8 * 1024,
        };
        let app = app!(env.services, config);
        let mia = world.token("mia");
        let (status, _) = put_json(
            &app,
            "/@acme%2flib",
            Some(mia),
            publish_body("@acme/lib", "1.0.0").to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 201);
        let blobs_before = count_files(&env.dir.path().join("blobs"));
        for bad in bad_cases() {
            let (status, body) = put_json(&app, bad.path, Some(mia), bad.body).await;
            let message = body["error"].as_str().unwrap_or_default().to_owned();
            assert_eq!(status, bad.status, "{}: {message}", bad.label);
            assert!(
                message.contains(bad.says),
                "{}: the message {message:?} should say {:?}",
                bad.label,
                bad.says
            );
            let (status, _, doc) = get(&app, "/@acme%2flib", Some(mia), &[]).await;
            assert_eq!(status, 200);
            let doc: Value = serde_json::from_slice(&doc).unwrap();
            let versions: Vec<&String> = doc["versions"].as_object().unwrap().keys().collect();
            assert_eq!(versions, ["1.0.0"], "{} stored something", bad.label);
            assert_eq!(
                doc["dist-tags"],
                json!({"latest": "1.0.0"}),
                "{}",
                bad.label
            );
        }
        for path in ["/@ursula%2flib", "/@nobody%2flib"] {
            let (status, ..) = get(&app, path, Some(world.token("ursula")), &[]).await;
            assert_eq!(status, 404, "{path} was created");
        }
        assert_eq!(
            count_files(&env.dir.path().join("blobs")),
            blobs_before,
            "a refused publish left bytes behind"
        );
        // A dist-tag command with a range is refused too.
        let request = test::TestRequest::put()
            .uri("/npm/-/package/@acme%2flib/dist-tags/v1")
            .insert_header(("Authorization", format!("Bearer {mia}")))
            .insert_header(("Content-Type", "application/json"))
            .set_payload("\"1.0.0\"")
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), 400);
        let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
        assert!(body["error"].as_str().unwrap().contains("SemVer range"));
        // The same version again: 409.
        let (status, body) = put_json(
            &app,
            "/@acme%2flib",
            Some(mia),
            publish_body("@acme/lib", "1.0.0").to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 409, "{body}");
    })
    .await;
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() { count_files(&path) } else { 1 }
        })
        .sum()
}

#[actix_web::test]
async fn packuments_etags_gzip_and_revalidation() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let app = app!(env.services, NpmConfig::default());
        let mia = world.token("mia");
        let (status, _) = put_json(
            &app,
            "/@acme%2flib",
            Some(mia),
            publish_body("@acme/lib", "1.0.0").to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 201);
        let corgi = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";
        let (status, headers, body) =
            get(&app, "/@acme%2Flib", Some(mia), &[("Accept", corgi)]).await;
        assert_eq!(status, 200);
        assert_eq!(
            headers.get("content-type").unwrap(),
            "application/vnd.npm.install-v1+json"
        );
        let abbreviated: Value = serde_json::from_slice(&body).unwrap();
        assert!(abbreviated["versions"]["1.0.0"].get("readme").is_none());
        assert!(abbreviated["time"]["1.0.0"].is_string());
        let etag = headers.get("etag").unwrap().to_str().unwrap().to_owned();
        // Revalidation.
        let (status, _, body) = get(
            &app,
            "/@acme/lib",
            Some(mia),
            &[("Accept", corgi), ("If-None-Match", &etag)],
        )
        .await;
        assert_eq!((status, body.len()), (304, 0));
        // The full document, gzipped on request.
        let (status, headers, body) = get(
            &app,
            "/@acme%2flib",
            Some(mia),
            &[("Accept", "application/json"), ("Accept-Encoding", "gzip")],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(headers.get("content-encoding").unwrap(), "gzip");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
            .unwrap();
        let full: Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(full["versions"]["1.0.0"]["readme"], Value::Null);
        let tarball_url = full["versions"]["1.0.0"]["dist"]["tarball"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            tarball_url.ends_with("/npm/@acme/lib/-/lib-1.0.0.tgz"),
            "{tarball_url}"
        );
        assert!(
            tarball_url.starts_with("http://"),
            "absolute: {tarball_url}"
        );
        // The tarball is served with the bytes the integrity names.
        let path = tarball_url.split("/npm").nth(1).unwrap().to_owned();
        let (status, _, tarball) = get(&app, &path, Some(mia), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(
            full["versions"]["1.0.0"]["dist"]["integrity"],
            format!(
                "sha512-{}",
                base64::engine::general_purpose::STANDARD
                    .encode(<sha2::Sha512 as sha2::Digest>::digest(&tarball))
            )
        );
        // A write changes the document and its ETag at once.
        let (status, _) = put_json(
            &app,
            "/@acme%2flib",
            Some(mia),
            publish_body("@acme/lib", "1.1.0").to_string().into_bytes(),
        )
        .await;
        assert_eq!(status, 201);
        let (status, headers, body) = get(
            &app,
            "/@acme%2flib",
            Some(mia),
            &[("Accept", corgi), ("If-None-Match", &etag)],
        )
        .await;
        assert_eq!(status, 200);
        assert_ne!(headers.get("etag").unwrap().to_str().unwrap(), etag);
        let abbreviated: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(abbreviated["dist-tags"]["latest"], "1.1.0");
        // 401s carry the Basic challenge and an npm error body that says what to do.
        let (status, headers, body) = get(&app, "/@acme%2flib", None, &[]).await;
        assert_eq!(status, 401);
        assert!(
            headers
                .get("www-authenticate")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("Basic realm=")
        );
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert!(body["error"].as_str().unwrap().contains("npm login"));
    })
    .await;
}

#[actix_web::test]
async fn concurrent_http_publishes() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let app = app!(env.services, NpmConfig::default());
        let mia = world.token("mia");
        let body = |version: &str| publish_body("@acme/lib", version).to_string().into_bytes();
        let (a, b) = tokio::join!(
            put_json(&app, "/@acme%2flib", Some(mia), body("1.0.0")),
            put_json(&app, "/@acme%2flib", Some(mia), body("1.0.1")),
        );
        assert_eq!((a.0, b.0), (201, 201), "{a:?} {b:?}");
        let (a, b) = tokio::join!(
            put_json(&app, "/@acme%2flib", Some(mia), body("2.0.0")),
            put_json(&app, "/@acme%2flib", Some(mia), body("2.0.0")),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
        let (_, _, doc) = get(&app, "/@acme%2flib", Some(mia), &[]).await;
        let doc: Value = serde_json::from_slice(&doc).unwrap();
        let mut versions: Vec<&String> = doc["versions"].as_object().unwrap().keys().collect();
        versions.sort();
        assert_eq!(versions, ["1.0.0", "1.0.1", "2.0.0"]);
        assert_eq!(doc["dist-tags"]["latest"], "2.0.0");
    })
    .await;
}

#[actix_web::test]
async fn login_whoami_search_audit() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let app = app!(env.services, NpmConfig::default());
        let mia = world.token("mia");
        put_json(
            &app,
            "/@acme%2flib",
            Some(mia),
            publish_body("@acme/lib", "1.0.0").to_string().into_bytes(),
        )
        .await;
        // Login: the token as password; a wrong password or another user's token is a 401 that says why.
        let login = |user: &str, password: &str| {
            json!({"_id": format!("org.couchdb.user:{user}"), "name": user, "password": password,
                   "type": "user", "roles": [], "date": "2026-11-21T05:00:16.229Z"})
            .to_string()
            .into_bytes()
        };
        let (status, body) = put_json(
            &app,
            "/-/user/org.couchdb.user:mia",
            None,
            login("mia", mia),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["token"], mia);
        for (user, password) in [("mia", "hunter2"), ("max", mia)] {
            let (status, body) = put_json(
                &app,
                &format!("/-/user/org.couchdb.user:{user}"),
                None,
                login(user, password),
            )
            .await;
            assert_eq!(status, 401, "{body}");
            assert!(
                body["error"]
                    .as_str()
                    .unwrap()
                    .contains("personal access token")
            );
        }
        let (status, _, body) = get(&app, "/-/whoami", Some(mia), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["username"],
            "mia"
        );
        // Search: what mia may read, with package.version.
        let (status, _, body) =
            get(&app, "/-/v1/search?text=lib&size=20&from=0", Some(mia), &[]).await;
        assert_eq!(status, 200);
        let found: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(found["objects"][0]["package"]["name"], "@acme/lib");
        assert_eq!(found["objects"][0]["package"]["version"], "1.0.0");
        let (_, _, body) = get(
            &app,
            "/-/v1/search?text=lib",
            Some(world.token("ursula")),
            &[],
        )
        .await;
        let found: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            found["total"], 0,
            "a private package is not listed to outsiders"
        );
        // npm audit.
        let request = test::TestRequest::post()
            .uri("/npm/-/npm/v1/security/advisories/bulk")
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{\"@acme/lib\":[\"1.0.0\"]}")
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), 200);
        assert_eq!(test::read_body(response).await, "{}".as_bytes());
    })
    .await;
}
