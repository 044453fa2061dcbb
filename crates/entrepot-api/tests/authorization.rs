//! Every route of the administration API × every kind of principal → the expected answer.
//!
//! Each cell runs against a fresh world (the permission spec's §6 setup plus a site admin, a private npm
//! package `lib` of acme and a private npm package `tool` of olga's own, both published by olga), so no request
//! sees another's side effects. `LIB_V` and `TOOL_V` in a path stand for the id of their one version. The table is written by
//! hand from the rules in docs/permissions.md, not computed from the code under test.

use actix_web::http::Method;
use actix_web::{App, test, web};
use entrepot_service::authz::{PackageType, Role, Scope, Scopes, WorkflowLevel};
use entrepot_service::{GranteeRef, NewTokenRequest, NewUser, PackageKey, Services};
use entrepot_testkit::{Engine, TestEnv, World};
use futures_util::StreamExt;

/// Columns of the expectation strings, in order.
const PRINCIPALS: [&str; 10] = [
    "anonymous",
    "invalid",
    "outsider",
    "mia",
    "max",
    "olga",
    "admin",
    "narrow",
    "workflow",
    "olga-write",
];

#[derive(Clone, Copy, Debug)]
enum Setup {
    None,
    GrantMaxRead,
    GrantDevsRead,
    ActionsSiteRead,
    DeletedLibMaxRead,
    DeletedLibVersionMaxRead,
    DeletedTool,
    DeletedToolVersion,
}

struct Case {
    method: &'static str,
    pattern: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    setup: Setup,
    /// One letter per principal: A = 2xx, U = 401, F = 403, N = 404. `narrow` is mia with `read:packages` only,
    /// `olga-write` is olga with `write:packages` only: administration needs every scope, package settings
    /// `write:packages`.
    expect: &'static str,
}

const fn case(
    method: &'static str,
    pattern: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: &'static str,
) -> Case {
    Case {
        method,
        pattern,
        path,
        body,
        setup: Setup::None,
        expect,
    }
}

const PKG: &str = "/{scope}/{owner}/packages/{package_type}/{name}";

const CASES: &[Case] = &[
    case("GET", "/user", "/user", None, "UUAAAAAAUA"),
    case("GET", "/user/tokens", "/user/tokens", None, "UUAAAAAFUF"),
    case(
        "POST",
        "/user/tokens",
        "/user/tokens",
        Some(r#"{"name":"t","scopes":["read:packages"]}"#),
        "UUAAAAAFUF",
    ),
    case(
        "DELETE",
        "/user/tokens/{id}",
        "/user/tokens/OLGA_TOKEN",
        None,
        "UUNNNAANNF",
    ),
    case(
        "POST",
        "/user/repos",
        "/user/repos",
        Some(r#"{"name":"fresh"}"#),
        "UUAAAAAFUF",
    ),
    case("GET", "/users", "/users", None, "UUFFFFAFFF"),
    case("GET", "/users/{login}", "/users/ursula", None, "AAAAAAAAAA"),
    case(
        "GET",
        "/users/{login}/repos",
        "/users/ursula/repos",
        None,
        "AAAAAAAAAA",
    ),
    case(
        "POST",
        "/admin/users",
        "/admin/users",
        Some(r#"{"login":"newbie"}"#),
        "UUFFFFAFFF",
    ),
    case(
        "GET",
        "/admin/users/{login}/tokens",
        "/admin/users/ursula/tokens",
        None,
        "UUFFFFAFFF",
    ),
    case(
        "POST",
        "/admin/users/{login}/tokens",
        "/admin/users/ursula/tokens",
        Some(r#"{"name":"t","scopes":["repo"]}"#),
        "UUFFFFAFFF",
    ),
    case(
        "POST",
        "/admin/organizations",
        "/admin/organizations",
        Some(r#"{"login":"neworg"}"#),
        "UUAAAAAFUF",
    ),
    case(
        "GET",
        "/organizations",
        "/organizations",
        None,
        "AAAAAAAAAA",
    ),
    case("GET", "/orgs/{org}", "/orgs/acme", None, "UUFAAAAFFF"),
    case(
        "PATCH",
        "/orgs/{org}",
        "/orgs/acme",
        Some(r#"{"inherit_access_by_default":false}"#),
        "UUFFFAAFFF",
    ),
    case(
        "GET",
        "/orgs/{org}/members",
        "/orgs/acme/members",
        None,
        "UUFAAAAFFF",
    ),
    case(
        "PUT",
        "/orgs/{org}/memberships/{login}",
        "/orgs/acme/memberships/ursula",
        None,
        "UUFFFAAFFF",
    ),
    case(
        "DELETE",
        "/orgs/{org}/memberships/{login}",
        "/orgs/acme/memberships/max",
        None,
        "UUFFFAAFFF",
    ),
    case(
        "GET",
        "/orgs/{org}/teams",
        "/orgs/acme/teams",
        None,
        "UUFAAAAFFF",
    ),
    case(
        "POST",
        "/orgs/{org}/teams",
        "/orgs/acme/teams",
        Some(r#"{"name":"ops"}"#),
        "UUFFFAAFFF",
    ),
    case(
        "PUT",
        "/orgs/{org}/teams/{team}/memberships/{login}",
        "/orgs/acme/teams/devs/memberships/max",
        None,
        "UUFFFAAFFF",
    ),
    case(
        "DELETE",
        "/orgs/{org}/teams/{team}/memberships/{login}",
        "/orgs/acme/teams/devs/memberships/mia",
        None,
        "UUFFFAAFFF",
    ),
    case(
        "PUT",
        "/orgs/{org}/teams/{team}/repos/{owner}/{repo}",
        "/orgs/acme/teams/devs/repos/acme/web",
        Some(r#"{"permission":"push"}"#),
        "UUNFFAAFFF",
    ),
    case(
        "GET",
        "/orgs/{org}/repos",
        "/orgs/acme/repos",
        None,
        "AAAAAAAAAA",
    ),
    case(
        "POST",
        "/orgs/{org}/repos",
        "/orgs/acme/repos",
        Some(r#"{"name":"fresh","visibility":"internal"}"#),
        "UUFAAAAFFF",
    ),
    case(
        "GET",
        "/repos/{owner}/{repo}",
        "/repos/acme/web",
        None,
        "UUNAAAAFFF",
    ),
    case(
        "PATCH",
        "/repos/{owner}/{repo}",
        "/repos/acme/web",
        Some(r#"{"visibility":"internal"}"#),
        "UUNFFAAFFF",
    ),
    case(
        "PUT",
        "/repos/{owner}/{repo}/collaborators/{login}",
        "/repos/acme/web/collaborators/ursula",
        None,
        "UUNFFAAFFF",
    ),
    case(
        "DELETE",
        "/repos/{owner}/{repo}/collaborators/{login}",
        "/repos/acme/web/collaborators/max",
        None,
        "UUNFFAAFFF",
    ),
    case(
        "POST",
        "/repos/{owner}/{repo}/actions/token",
        "/repos/acme/web/actions/token",
        Some(r#"{"permission":"write"}"#),
        "UUNFFAAFFF",
    ),
    // Transfer needs admin on the repository and the right to create one in the target (ursula's: her own).
    case(
        "POST",
        "/repos/{owner}/{repo}/transfer",
        "/repos/acme/web/transfer",
        Some(r#"{"new_owner":"ursula"}"#),
        "UUNFFFAFFF",
    ),
    case(
        "GET",
        "/orgs/{org}/audit-log",
        "/orgs/acme/audit-log",
        None,
        "UUFFFAAFFF",
    ),
    case(
        "GET",
        "/admin/audit-log",
        "/admin/audit-log",
        None,
        "UUFFFFAFFF",
    ),
    case(
        "PUT",
        "/{scope}/{owner}/packages/{package_type}/{name}/visibility",
        "/orgs/acme/packages/npm/lib/visibility",
        Some(r#"{"visibility":"internal"}"#),
        "UUNNNAANNA",
    ),
    case(
        "PUT",
        "/{scope}/{owner}/packages/{package_type}/{name}/access/users/{login}",
        "/orgs/acme/packages/npm/lib/access/users/mia",
        Some(r#"{"role":"read"}"#),
        "UUNNNAANNA",
    ),
    Case {
        setup: Setup::GrantMaxRead,
        ..case(
            "DELETE",
            "/{scope}/{owner}/packages/{package_type}/{name}/access/users/{login}",
            "/orgs/acme/packages/npm/lib/access/users/max",
            None,
            "UUNNFAANNA",
        )
    },
    case(
        "PUT",
        "/{scope}/{owner}/packages/{package_type}/{name}/access/teams/{team}",
        "/orgs/acme/packages/npm/lib/access/teams/devs",
        Some(r#"{"role":"write"}"#),
        "UUNNNAANNA",
    ),
    Case {
        setup: Setup::GrantDevsRead,
        ..case(
            "DELETE",
            "/{scope}/{owner}/packages/{package_type}/{name}/access/teams/{team}",
            "/orgs/acme/packages/npm/lib/access/teams/devs",
            None,
            "UUNFNAAFNA",
        )
    },
    case(
        "PUT",
        "/{scope}/{owner}/packages/{package_type}/{name}/actions-access/{repo}",
        "/orgs/acme/packages/npm/lib/actions-access/site",
        Some(r#"{"role":"read"}"#),
        "UUNNNAANNA",
    ),
    Case {
        setup: Setup::ActionsSiteRead,
        ..case(
            "DELETE",
            "/{scope}/{owner}/packages/{package_type}/{name}/actions-access/{repo}",
            "/orgs/acme/packages/npm/lib/actions-access/site",
            None,
            "UUNNNAANNA",
        )
    },
    case(
        "PUT",
        "/{scope}/{owner}/packages/{package_type}/{name}/link",
        "/orgs/acme/packages/npm/lib/link",
        Some(r#"{"repository":"web"}"#),
        "UUNNNAANNA",
    ),
    case(
        "DELETE",
        "/{scope}/{owner}/packages/{package_type}/{name}/link",
        "/orgs/acme/packages/npm/lib/link",
        None,
        "UUNNNAANNA",
    ),
    case(
        "PUT",
        "/{scope}/{owner}/packages/{package_type}/{name}/inheritance",
        "/orgs/acme/packages/npm/lib/inheritance",
        Some(r#"{"inherit":false}"#),
        "UUNNNAANNA",
    ),
    // GitHub's packages API. `/user/…` is the caller's own namespace: only olga has a `tool`, and a workflow
    // token is no user. Listings answer everyone with what they may read.
    case(
        "GET",
        "/user/packages",
        "/user/packages?package_type=npm",
        None,
        "UUAAAAAAUA",
    ),
    case(
        "GET",
        "/user/packages/{package_type}/{name}",
        "/user/packages/npm/tool",
        None,
        "UUNNNANNUA",
    ),
    case(
        "DELETE",
        "/user/packages/{package_type}/{name}",
        "/user/packages/npm/tool",
        None,
        "UUNNNANNUF",
    ),
    Case {
        setup: Setup::DeletedTool,
        ..case(
            "POST",
            "/user/packages/{package_type}/{name}/restore",
            "/user/packages/npm/tool/restore?token=ignored",
            None,
            "UUNNNANNUA",
        )
    },
    case(
        "GET",
        "/user/packages/{package_type}/{name}/versions",
        "/user/packages/npm/tool/versions",
        None,
        "UUNNNANNUA",
    ),
    case(
        "GET",
        "/user/packages/{package_type}/{name}/versions/{version_id}",
        "/user/packages/npm/tool/versions/TOOL_V",
        None,
        "UUNNNANNUA",
    ),
    case(
        "DELETE",
        "/user/packages/{package_type}/{name}/versions/{version_id}",
        "/user/packages/npm/tool/versions/TOOL_V",
        None,
        "UUNNNANNUF",
    ),
    Case {
        setup: Setup::DeletedToolVersion,
        ..case(
            "POST",
            "/user/packages/{package_type}/{name}/versions/{version_id}/restore",
            "/user/packages/npm/tool/versions/TOOL_V/restore",
            None,
            "UUNNNANNUA",
        )
    },
    case(
        "GET",
        "/{scope}/{owner}/packages",
        "/orgs/acme/packages?package_type=npm&visibility=private",
        None,
        "AAAAAAAAAA",
    ),
    Case {
        setup: Setup::GrantDevsRead,
        ..case(
            "GET",
            "/{scope}/{owner}/packages/{package_type}/{name}",
            "/orgs/acme/packages/npm/lib",
            None,
            "UUNANAAANA",
        )
    },
    Case {
        setup: Setup::GrantMaxRead,
        ..case(
            "DELETE",
            "/{scope}/{owner}/packages/{package_type}/{name}",
            "/orgs/acme/packages/npm/lib",
            None,
            "UUNNFAANNF",
        )
    },
    Case {
        setup: Setup::DeletedLibMaxRead,
        ..case(
            "POST",
            "/{scope}/{owner}/packages/{package_type}/{name}/restore",
            "/orgs/acme/packages/npm/lib/restore",
            None,
            "UUNNFAANNA",
        )
    },
    Case {
        setup: Setup::GrantMaxRead,
        ..case(
            "GET",
            "/{scope}/{owner}/packages/{package_type}/{name}/versions",
            "/orgs/acme/packages/npm/lib/versions?state=active",
            None,
            "UUNNAAANNA",
        )
    },
    case(
        "GET",
        "/{scope}/{owner}/packages/{package_type}/{name}/versions/{version_id}",
        "/orgs/acme/packages/npm/lib/versions/LIB_V",
        None,
        "UUNNNAANNA",
    ),
    Case {
        setup: Setup::GrantDevsRead,
        ..case(
            "DELETE",
            "/{scope}/{owner}/packages/{package_type}/{name}/versions/{version_id}",
            "/orgs/acme/packages/npm/lib/versions/LIB_V",
            None,
            "UUNFNAAFNF",
        )
    },
    Case {
        setup: Setup::DeletedLibVersionMaxRead,
        ..case(
            "POST",
            "/{scope}/{owner}/packages/{package_type}/{name}/versions/{version_id}/restore",
            "/orgs/acme/packages/npm/lib/versions/LIB_V/restore",
            None,
            "UUNNFAANNA",
        )
    },
];

struct Fixture {
    env: TestEnv,
    credentials: Vec<Option<String>>,
    olga_token_id: i64,
    lib_version_id: i64,
    tool_version_id: i64,
}

async fn fixture(setup: Setup) -> Fixture {
    let (env, _) = TestEnv::new(Engine::Sqlite)
        .await
        .expect("sqlite is always there");
    let services = env.services.clone();
    let world = World::build(&services).await;
    let op = Services::operator();
    services
        .create_user(
            &op,
            NewUser {
                login: "root".into(),
                password: None,
                email: None,
                name: None,
                site_admin: true,
            },
        )
        .await
        .unwrap();
    let admin = services
        .create_token(
            &op,
            "root",
            NewTokenRequest {
                name: "admin".into(),
                scopes: Scopes::all(),
                expires_in: None,
            },
        )
        .await
        .unwrap();
    let narrow = world
        .token_with("mia", Scopes::only(Scope::ReadPackages))
        .await;
    let olga = world.principal("olga").await;
    let workflow = services
        .mint_workflow_token(&olga, "acme", "web", WorkflowLevel::Write, None)
        .await
        .unwrap();
    let key = PackageKey::new("acme", PackageType::Npm, "lib");
    let (_, lib_version) = entrepot_testkit::publish_file(
        &services,
        &olga,
        &key,
        "1.0.0",
        "lib-1.0.0.tgz",
        b"tarball",
        None,
    )
    .await
    .unwrap();
    let tool = PackageKey::new("olga", PackageType::Npm, "tool");
    let (_, tool_version) = entrepot_testkit::publish_file(
        &services,
        &olga,
        &tool,
        "1.0.0",
        "tool-1.0.0.tgz",
        b"tool tarball",
        None,
    )
    .await
    .unwrap();
    let max = GranteeRef::User("max".into());
    let grant_max_read = services.grant(&olga, &key, &max, Role::Read);
    match setup {
        Setup::None => {}
        Setup::GrantMaxRead => grant_max_read.await.unwrap(),
        Setup::GrantDevsRead => services
            .grant(&olga, &key, &GranteeRef::Team("devs".into()), Role::Read)
            .await
            .unwrap(),
        Setup::ActionsSiteRead => services
            .set_actions_access(&olga, &key, "site", Role::Read)
            .await
            .unwrap(),
        Setup::DeletedLibMaxRead => {
            grant_max_read.await.unwrap();
            services.delete_package(&olga, &key).await.unwrap();
        }
        Setup::DeletedLibVersionMaxRead => {
            grant_max_read.await.unwrap();
            services.delete_version(&olga, &key, "1.0.0").await.unwrap();
        }
        Setup::DeletedTool => services.delete_package(&olga, &tool).await.unwrap(),
        Setup::DeletedToolVersion => services
            .delete_version(&olga, &tool, "1.0.0")
            .await
            .unwrap(),
    }
    let olga_token_id = services.list_tokens(&op, "olga").await.unwrap()[0].id;
    let credentials = vec![
        None,
        Some("etp_notARealTokenAtAllButTheRightLength00".to_owned()),
        Some(world.token("outsider").to_owned()),
        Some(world.token("mia").to_owned()),
        Some(world.token("max").to_owned()),
        Some(world.token("olga").to_owned()),
        Some(admin.token.expose().to_owned()),
        Some(narrow),
        Some(workflow.token.expose().to_owned()),
        Some(
            world
                .token_with("olga", Scopes::only(Scope::WritePackages))
                .await,
        ),
    ];
    Fixture {
        env,
        credentials,
        olga_token_id,
        lib_version_id: lib_version.id,
        tool_version_id: tool_version.id,
    }
}

/// Runs one cell; `Some(description)` when the answer differs from the table.
async fn run_cell(case: &Case, column: usize) -> Option<String> {
    let principal = PRINCIPALS[column];
    let fixture = fixture(case.setup).await;
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(fixture.env.services.clone()))
            .configure(entrepot_api::configure),
    )
    .await;
    let path = case
        .path
        .replace("OLGA_TOKEN", &fixture.olga_token_id.to_string())
        .replace("LIB_V", &fixture.lib_version_id.to_string())
        .replace("TOOL_V", &fixture.tool_version_id.to_string());
    let mut request = test::TestRequest::default()
        .method(Method::from_bytes(case.method.as_bytes()).unwrap())
        .uri(&format!("/api/v3{path}"));
    if let Some(token) = &fixture.credentials[column] {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    if let Some(body) = case.body {
        request = request
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body);
    }
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status().as_u16();
    let want = case.expect.chars().nth(column).unwrap();
    if outcome(status) != want {
        let body = test::read_body(response).await;
        return Some(format!(
            "{} {path} as {principal}: want {want}, got {status} {}",
            case.method,
            String::from_utf8_lossy(&body)
        ));
    }
    if status == 401 && !response.headers().contains_key("www-authenticate") {
        return Some(format!(
            "{} {path} as {principal}: 401 without a challenge",
            case.method
        ));
    }
    None
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

#[actix_web::test]
async fn every_route_answers_every_principal_as_the_model_says() {
    // The table covers exactly the routes that are mounted.
    let mut declared: Vec<_> = entrepot_api::ROUTES
        .iter()
        .map(|r| (r.method, r.path))
        .collect();
    let mut tabled: Vec<_> = CASES.iter().map(|c| (c.method, c.pattern)).collect();
    declared.sort();
    tabled.sort();
    assert_eq!(
        declared, tabled,
        "ROUTES and the authorization table differ"
    );
    assert!(CASES.iter().all(|c| c.expect.len() == PRINCIPALS.len()));
    let _ = PKG;

    let cells = CASES
        .iter()
        .flat_map(|case| (0..PRINCIPALS.len()).map(move |column| (case, column)));
    // Cells are independent worlds; run several at once to keep the test short.
    let mismatches: Vec<String> = futures_util::stream::iter(cells)
        .map(|(case, column)| run_cell(case, column))
        .buffer_unordered(8)
        .filter_map(|mismatch| async move { mismatch })
        .collect()
        .await;
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
