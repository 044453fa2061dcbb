//! End-to-end: the package lifecycle through the HTTP API and the real clients — permissions.md §6 rows 8, 11,
//! 28, 29 and 30 — with repository transfer (`POST /api/v3/repos/{owner}/{repo}/transfer`), npm's own delete
//! verb and the audit log (`GET /api/v3/orgs/{org}/audit-log`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use entrepot_service::authz::Scopes;
use entrepot_service::{NewTokenRequest, NewUser, Services};
use support::{Server, client, fails, isolated, ok};

/// A site admin with an all-scopes token (the world has none).
fn site_admin(server: &Server) -> String {
    let services = server.services();
    server.block_on(async {
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
        let created = services
            .create_token(
                &op,
                "root",
                NewTokenRequest {
                    name: "all".into(),
                    scopes: Scopes::all(),
                    expires_in: None,
                },
            )
            .await
            .unwrap();
        created.token.expose().to_owned()
    })
}

/// npm as one user, with its own `.npmrc` and cache.
fn npm(server: &Server, user: &str) -> Option<impl Fn(&Path, &[&str]) -> Command> {
    let bin = client("npm")?;
    let home = server.scratch(&format!("npm-{user}"));
    std::fs::write(
        home.join(".npmrc"),
        format!(
            "registry={url}/npm/\nupdate-notifier=false\nfund=false\naudit=false\n//{host}/npm/:_authToken={token}\n",
            url = server.url(),
            host = server.host(),
            token = server.token(user)
        ),
    )
    .unwrap();
    Some(move |dir: &Path, args: &[&str]| {
        let mut command = isolated(&bin, &home);
        command
            .env("NPM_CONFIG_USERCONFIG", home.join(".npmrc"))
            .env("npm_config_cache", home.join("npm-cache"))
            .env_remove("NPM_CONFIG_REGISTRY")
            .current_dir(dir)
            .args(args);
        command
    })
}

fn npm_package(dir: &Path, name: &str, version: &str) -> PathBuf {
    let path = dir.join(format!("{}-{version}", name.replace(['@', '/'], "_")));
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(
        path.join("package.json"),
        serde_json::to_vec(
            &serde_json::json!({ "name": name, "version": version, "main": "index.js" }),
        )
        .unwrap(),
    )
    .unwrap();
    std::fs::write(path.join("index.js"), "module.exports = 1;\n").unwrap();
    path
}

#[test]
fn a_transfer_moves_maven_packages_and_unlinks_npm_ones() {
    let server = Server::start();
    let (Some(olga_npm), Some(max_npm)) = (npm(&server, "olga"), npm(&server, "max")) else {
        return;
    };
    let Some(mvn) = client("mvn") else {
        return;
    };
    let olga = server.token("olga");
    let work = server.scratch("work");

    // @acme/webpkg, linked to acme/web and inheriting its access (row 10's setup).
    ok(&mut olga_npm(
        &npm_package(&work, "@acme/webpkg", "1.0.0"),
        &["publish"],
    ));
    let settings = "/orgs/acme/packages/npm/webpkg";
    server.api_ok(
        "PUT",
        &format!("{settings}/link"),
        &olga,
        Some(r#"{"repository":"web"}"#),
    );
    server.api_ok(
        "PUT",
        &format!("{settings}/inheritance"),
        &olga,
        Some(r#"{"inherit":true}"#),
    );

    // com.acme:core in acme/web, deployed file by file as Maven does.
    let base = format!("{}/maven/acme/web/com/acme/core/1.0", server.url());
    let pom = r#"<project><modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId><artifactId>core</artifactId><version>1.0</version></project>"#;
    for (file, content) in [("core-1.0.pom", pom), ("core-1.0.jar", "not really a jar")] {
        let local = work.join(file);
        std::fs::write(&local, content).unwrap();
        let output = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-u",
                &format!("olga:{olga}"),
                "-T",
            ])
            .arg(&local)
            .arg(format!("{base}/{file}"))
            .output()
            .expect("curl");
        let code = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(code.starts_with('2'), "PUT {file}: {code}");
    }

    // Only someone who may also create repositories in the target transfers: olga may not put one in ursula's.
    let body = Some(r#"{"new_owner":"ursula"}"#);
    let (status, _) = server.api("POST", "/repos/acme/web/transfer", &olga, body);
    assert_eq!(status, 403);
    let root = site_admin(&server);
    let moved = server.api_ok("POST", "/repos/acme/web/transfer", &root, body);
    assert!(moved.contains(r#""full_name":"ursula/web""#), "{moved}");

    // Row 28: max's install of @acme/webpkg, which he read through acme/web before, now finds nothing.
    let project = server.scratch("max-project");
    std::fs::write(
        project.join("package.json"),
        r#"{"name":"consumer","version":"1.0.0","private":true,"dependencies":{"@acme/webpkg":"1.0.0"}}"#,
    )
    .unwrap();
    let output = fails(&mut max_npm(&project, &["install"]));
    assert!(
        output.contains("404") || output.contains("E404"),
        "row 28: {output}"
    );
    // olga, an implicit admin, still sees it: unlinked, not inheriting.
    ok(&mut olga_npm(&work, &["view", "@acme/webpkg", "version"]));

    // Row 29: ursula resolves com.acme:core from its new URL with Maven; the old URL is gone.
    let home = server.scratch("ursula-maven");
    let settings_xml = home.join("settings.xml");
    std::fs::write(
        &settings_xml,
        format!(
            r#"<settings><localRepository>{local}</localRepository>
  <mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors>
  <servers><server><id>entrepot</id><username>ursula</username><password>{token}</password></server></servers>
  <profiles><profile><id>entrepot</id><repositories>
    <repository><id>entrepot</id><url>{url}/maven/ursula/web/</url></repository>
  </repositories></profile></profiles>
  <activeProfiles><activeProfile>entrepot</activeProfile></activeProfiles>
</settings>"#,
            local = home.join("m2").display(),
            token = server.token("ursula"),
            url = server.url()
        ),
    )
    .unwrap();
    let mut get = isolated(&mvn, &home);
    get.args(["-B", "-q", "-s"]).arg(&settings_xml).args([
        "dependency:get",
        "-Dartifact=com.acme:core:1.0",
        "-Dtransitive=false",
    ]);
    ok(&mut get);
    assert!(home.join("m2/com/acme/core/1.0/core-1.0.jar").exists());
    let old = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-u",
            &format!("olga:{olga}"),
        ])
        .arg(format!("{base}/core-1.0.pom"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&old.stdout), "404");

    let log = server.api_ok("GET", "/orgs/acme/audit-log", &olga, None);
    assert!(log.contains(r#""action":"repo.transfer""#), "{log}");
    assert!(log.contains(r#""action":"package.link""#), "{log}");
}

#[test]
fn npm_unpublish_follows_the_delete_rules_and_is_audited() {
    let server = Server::start();
    let (Some(olga_npm), Some(max_npm)) = (npm(&server, "olga"), npm(&server, "max")) else {
        return;
    };
    let olga = server.token("olga");
    let work = server.scratch("work");
    for (name, version) in [
        ("@acme/priv", "1.0.0"),
        ("@acme/priv", "1.0.1"),
        ("@acme/webpkg", "1.0.0"),
        ("@acme/webpkg", "1.0.1"),
        ("@acme/popular", "1.0.0"),
        ("@acme/popular", "1.0.1"),
    ] {
        ok(&mut olga_npm(
            &npm_package(&work, name, version),
            &["publish"],
        ));
    }

    // Row 8: the org owner deletes.
    ok(&mut olga_npm(&work, &["unpublish", "@acme/priv@1.0.0"]));
    let versions = ok(&mut olga_npm(
        &work,
        &["view", "@acme/priv", "versions", "--json"],
    ));
    assert!(
        !versions.contains("1.0.0") && versions.contains("1.0.1"),
        "{versions}"
    );

    // Row 11: max writes @acme/webpkg through acme/web (write) but may not delete it.
    let settings = "/orgs/acme/packages/npm/webpkg";
    server.api_ok(
        "PUT",
        &format!("{settings}/link"),
        &olga,
        Some(r#"{"repository":"web"}"#),
    );
    server.api_ok(
        "PUT",
        &format!("{settings}/inheritance"),
        &olga,
        Some(r#"{"inherit":true}"#),
    );
    let output = fails(&mut max_npm(&work, &["unpublish", "@acme/webpkg@1.0.0"]));
    assert!(output.contains("403"), "row 11: {output}");

    // Row 30: a public package with 6,000 downloads is only a site admin's to delete.
    server.api_ok(
        "PUT",
        "/orgs/acme/packages/npm/popular/visibility",
        &olga,
        Some(r#"{"visibility":"public"}"#),
    );
    let database = format!(
        "sqlite://{}?mode=rwc",
        server.data.path().join("entrepot.db").display()
    );
    server.block_on(async {
        let store = entrepot_store::Store::open(&database).await.unwrap();
        use entrepot_store::ConnectionTrait;
        store
            .db()
            .execute_unprepared(
                "UPDATE package_versions SET downloads = 6000 WHERE package_id = \
                 (SELECT id FROM packages WHERE name = 'popular')",
            )
            .await
            .unwrap();
    });
    let output = fails(&mut olga_npm(&work, &["unpublish", "@acme/popular@1.0.0"]));
    assert!(output.contains("403"), "row 30: {output}");

    let (status, log) = server.api("GET", "/orgs/acme/audit-log?per_page=100", &olga, None);
    assert_eq!(status, 200, "{log}");
    let entries: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    let has = |action: &str, actor: &str, target: &str| {
        entries.iter().any(|e| {
            e["action"] == action
                && e["actor"] == actor
                && e["target"].as_str().is_some_and(|t| t.starts_with(target))
        })
    };
    assert!(
        has("package_version.delete", "olga", "acme/npm/priv@1.0.0"),
        "{log}"
    );
    // The refused deletes are token uses that failed authorization, with the token's id and the request's id.
    assert!(
        has("token.authorization_failed", "max", "acme/npm/webpkg"),
        "{log}"
    );
    assert!(
        has("token.authorization_failed", "olga", "acme/npm/popular"),
        "{log}"
    );
    let refused = entries
        .iter()
        .find(|e| e["action"] == "token.authorization_failed")
        .unwrap();
    assert!(
        refused["token_id"].is_i64() && refused["request_id"].is_string(),
        "{refused}"
    );
    assert!(
        !log.contains(&olga) && !log.contains(&server.token("max")),
        "no secret in the log"
    );
    // Paginated as GitHub does.
    let (_, first) = server.api("GET", "/orgs/acme/audit-log?per_page=1", &olga, None);
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&first)
            .unwrap()
            .len(),
        1
    );
    let (status, _) = server.api("GET", "/orgs/acme/audit-log", &server.token("mia"), None);
    assert_eq!(status, 403);
}
