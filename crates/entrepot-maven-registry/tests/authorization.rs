//! Every route of the Maven registry × every kind of principal → the expected answer.
//!
//! The fixture is the permission spec's world with `com.example:hello` deployed into the private repository
//! acme/web by olga: release 1.0.0 (jar, pom) and a timestamped SNAPSHOT 1.1.0-SNAPSHOT. Each row gets a fresh
//! fixture; within a row the cells run in column order (a deploy cell re-sends bytes already stored, which is
//! idempotent, so cells cannot disturb each other). The table is written by hand from the rules in
//! docs/permissions.md (repository-scoped packages: read needs read on the repository and `read:packages`; deploy
//! needs write, `write:packages` and `repo`), not computed from the code under test.

use actix_web::http::Method;
use actix_web::{App, test, web};
use entrepot_blob::bytes_stream;
use entrepot_maven_registry::{MavenConfig, PathKind, ROUTES, View};
use entrepot_service::authz::{PackageType, Scope, Scopes, WorkflowLevel};
use entrepot_service::{FileDeploy, PackageKey, Services};
use entrepot_testkit::{Engine, TestEnv, World};

/// Columns of the expectation strings, in order.
const PRINCIPALS: [&str; 9] = [
    "anonymous",
    "invalid",
    "outsider",
    "mia",
    "max",
    "olga",
    "max-without-repo",
    "workflow-read",
    "workflow-write",
];

/// mia reads acme/web (org base permission), max writes (collaborator), olga owns acme; `max-without-repo` is max
/// with `write:packages` only (reads need no `repo`, deploys do); the workflow tokens are acme/web's own.
const READ: &str = "UUNAAAAAA";
const DEPLOY: &str = "UUNFAAFFA";

const JAR: &[u8] = b"PK\x03\x04 hello";
const SNAPSHOT_JAR: &str = "hello-1.1.0-20261121.050659-1.jar";

struct Case {
    method: &'static str,
    view: View,
    kind: PathKind,
    path: &'static str,
    body: fn() -> Vec<u8>,
    expect: &'static str,
}

fn empty() -> Vec<u8> {
    Vec::new()
}

fn jar() -> Vec<u8> {
    JAR.to_vec()
}

fn jar_sha1() -> Vec<u8> {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(JAR)).into_bytes()
}

fn artifact_metadata() -> Vec<u8> {
    b"<metadata><groupId>com.example</groupId><artifactId>hello</artifactId></metadata>".to_vec()
}

fn version_metadata() -> Vec<u8> {
    b"<metadata><groupId>com.example</groupId><artifactId>hello</artifactId><version>1.1.0-SNAPSHOT</version></metadata>"
        .to_vec()
}

const fn case(
    method: &'static str,
    view: View,
    kind: PathKind,
    path: &'static str,
    body: fn() -> Vec<u8>,
    expect: &'static str,
) -> Case {
    Case {
        method,
        view,
        kind,
        path,
        body,
        expect,
    }
}

use PathKind::{ArtifactMetadata, File, FileChecksum, MetadataChecksum, VersionMetadata};
use View::{Owner, Repository};

const REPO_JAR: &str = "acme/web/com/example/hello/1.0.0/hello-1.0.0.jar";
const REPO_JAR_SHA1: &str = "acme/web/com/example/hello/1.0.0/hello-1.0.0.jar.sha1";
const REPO_META: &str = "acme/web/com/example/hello/maven-metadata.xml";
const REPO_SNAP_META: &str = "acme/web/com/example/hello/1.1.0-SNAPSHOT/maven-metadata.xml";
const REPO_META_SHA1: &str = "acme/web/com/example/hello/maven-metadata.xml.sha1";
const OWNER_JAR: &str = "acme/*/com/example/hello/1.0.0/hello-1.0.0.jar";
const OWNER_JAR_SHA1: &str = "acme/*/com/example/hello/1.0.0/hello-1.0.0.jar.sha1";
const OWNER_META: &str = "acme/*/com/example/hello/maven-metadata.xml";
const OWNER_SNAP_META: &str = "acme/*/com/example/hello/1.1.0-SNAPSHOT/maven-metadata.xml";
const OWNER_META_SHA1: &str = "acme/*/com/example/hello/1.1.0-SNAPSHOT/maven-metadata.xml.md5";

const CASES: &[Case] = &[
    case("GET", Repository, File, REPO_JAR, empty, READ),
    case("HEAD", Repository, File, REPO_JAR, empty, READ),
    case("GET", Repository, FileChecksum, REPO_JAR_SHA1, empty, READ),
    case("HEAD", Repository, FileChecksum, REPO_JAR_SHA1, empty, READ),
    case("GET", Repository, ArtifactMetadata, REPO_META, empty, READ),
    case("HEAD", Repository, ArtifactMetadata, REPO_META, empty, READ),
    case(
        "GET",
        Repository,
        VersionMetadata,
        REPO_SNAP_META,
        empty,
        READ,
    ),
    case(
        "HEAD",
        Repository,
        VersionMetadata,
        REPO_SNAP_META,
        empty,
        READ,
    ),
    case(
        "GET",
        Repository,
        MetadataChecksum,
        REPO_META_SHA1,
        empty,
        READ,
    ),
    case(
        "HEAD",
        Repository,
        MetadataChecksum,
        REPO_META_SHA1,
        empty,
        READ,
    ),
    case("PUT", Repository, File, REPO_JAR, jar, DEPLOY),
    case(
        "PUT",
        Repository,
        FileChecksum,
        REPO_JAR_SHA1,
        jar_sha1,
        DEPLOY,
    ),
    case(
        "PUT",
        Repository,
        ArtifactMetadata,
        REPO_META,
        artifact_metadata,
        DEPLOY,
    ),
    case(
        "PUT",
        Repository,
        VersionMetadata,
        REPO_SNAP_META,
        version_metadata,
        DEPLOY,
    ),
    case(
        "PUT",
        Repository,
        MetadataChecksum,
        REPO_META_SHA1,
        jar_sha1,
        DEPLOY,
    ),
    case("GET", Owner, File, OWNER_JAR, empty, READ),
    case("HEAD", Owner, File, OWNER_JAR, empty, READ),
    case("GET", Owner, FileChecksum, OWNER_JAR_SHA1, empty, READ),
    case("HEAD", Owner, FileChecksum, OWNER_JAR_SHA1, empty, READ),
    case("GET", Owner, ArtifactMetadata, OWNER_META, empty, READ),
    case("HEAD", Owner, ArtifactMetadata, OWNER_META, empty, READ),
    case("GET", Owner, VersionMetadata, OWNER_SNAP_META, empty, READ),
    case("HEAD", Owner, VersionMetadata, OWNER_SNAP_META, empty, READ),
    case("GET", Owner, MetadataChecksum, OWNER_META_SHA1, empty, READ),
    case(
        "HEAD",
        Owner,
        MetadataChecksum,
        OWNER_META_SHA1,
        empty,
        READ,
    ),
];

async fn fixture() -> (TestEnv, Vec<Option<String>>) {
    let (env, _) = TestEnv::new(Engine::Sqlite)
        .await
        .expect("sqlite is always there");
    let services = env.services.clone();
    let world = World::build(&services).await;
    let olga = world.principal("olga").await;
    let key = PackageKey::new("acme", PackageType::Maven, "com.example:hello").in_repository("web");
    for (version, name, content) in [
        ("1.0.0", "hello-1.0.0.jar", JAR.to_vec()),
        ("1.0.0", "hello-1.0.0.pom", b"<project/>".to_vec()),
        ("1.1.0-SNAPSHOT", SNAPSHOT_JAR, b"snapshot".to_vec()),
    ] {
        services
            .deploy_file(
                &olga,
                FileDeploy {
                    key: key.clone(),
                    version: version.into(),
                    file_name: name.into(),
                    content_type: None,
                    mutable: version.ends_with("-SNAPSHOT"),
                    size: None,
                    metadata: None,
                },
                bytes_stream(content),
            )
            .await
            .unwrap();
    }
    let workflow = |level| {
        let services = services.clone();
        async move {
            services
                .mint_workflow_token(&olga, "acme", "web", level, None)
                .await
                .unwrap()
                .token
                .expose()
                .to_owned()
        }
    };
    let credentials = vec![
        None,
        Some("etp_notARealTokenAtAllButTheRightLength00".to_owned()),
        Some(world.token("outsider").to_owned()),
        Some(world.token("mia").to_owned()),
        Some(world.token("max").to_owned()),
        Some(world.token("olga").to_owned()),
        Some(
            world
                .token_with("max", Scopes::only(Scope::WritePackages))
                .await,
        ),
        Some(workflow(WorkflowLevel::Read).await),
        Some(workflow(WorkflowLevel::Write).await),
    ];
    (env, credentials)
}

fn outcome(status: u16) -> char {
    match status {
        200..=299 => 'A',
        401 => 'U',
        403 => 'F',
        404 => 'N',
        _ => '?',
    }
}

async fn run_row(case: &Case) -> Vec<String> {
    let (env, credentials) = fixture().await;
    let services: Services = env.services.clone();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(services))
            .configure(|cfg| entrepot_maven_registry::configure(cfg, MavenConfig::default())),
    )
    .await;
    let mut failures = Vec::new();
    for (column, principal) in PRINCIPALS.iter().enumerate() {
        let mut request = test::TestRequest::default()
            .method(Method::from_bytes(case.method.as_bytes()).unwrap())
            .uri(&format!("/maven/{}", case.path));
        if let Some(token) = &credentials[column] {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let body = (case.body)();
        if !body.is_empty() {
            request = request.set_payload(body);
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let want = case.expect.chars().nth(column).unwrap();
        let challenge = response.headers().get("www-authenticate").cloned();
        if outcome(status) != want {
            let body = test::read_body(response).await;
            failures.push(format!(
                "{} {} as {principal}: want {want}, got {status} {}",
                case.method,
                case.path,
                String::from_utf8_lossy(&body).trim()
            ));
        } else if status == 401
            && challenge
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| !v.starts_with("Basic realm="))
        {
            failures.push(format!(
                "{} {} as {principal}: 401 without a Basic challenge",
                case.method, case.path
            ));
        }
    }
    failures
}

#[actix_web::test]
async fn every_route_answers_every_principal_as_the_model_says() {
    // The table covers exactly the routes the registry answers.
    let mut declared: Vec<_> = ROUTES
        .iter()
        .map(|r| format!("{} {:?} {:?}", r.method, r.view, r.kind))
        .collect();
    let mut tabled: Vec<_> = CASES
        .iter()
        .map(|c| format!("{} {:?} {:?}", c.method, c.view, c.kind))
        .collect();
    declared.sort();
    tabled.sort();
    assert_eq!(
        declared, tabled,
        "every route needs a row, every row a route"
    );
    assert!(CASES.iter().all(|c| c.expect.len() == PRINCIPALS.len()));
    // Each row's path really is of the kind the row claims.
    for case in CASES {
        let parsed = entrepot_maven::path::parse(case.path).unwrap();
        assert_eq!(
            entrepot_maven_registry::classify(&parsed),
            (case.view, case.kind),
            "{}",
            case.path
        );
    }
    let mut failures = Vec::new();
    for case in CASES {
        failures.extend(run_row(case).await);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[actix_web::test]
async fn routes_outside_the_table_are_refused() {
    let (env, credentials) = fixture().await;
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(env.services.clone()))
            .configure(|cfg| entrepot_maven_registry::configure(cfg, MavenConfig::default())),
    )
    .await;
    let olga = credentials[5].clone().unwrap();
    for (method, path) in [
        (Method::PUT, OWNER_JAR),
        (Method::DELETE, REPO_JAR),
        (Method::POST, REPO_META),
    ] {
        let request = test::TestRequest::default()
            .method(method.clone())
            .uri(&format!("/maven/{path}"))
            .insert_header(("Authorization", format!("Bearer {olga}")))
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        assert!(response.headers().contains_key("allow"));
    }
}
