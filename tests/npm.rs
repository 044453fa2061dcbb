//! npm 11, yarn 1 and pnpm 10 against a real server: publish, install into fresh projects with fresh caches,
//! dist-tags, deprecate, unpublish, view, search, whoami, audit, login and logout (the real interactive prompt,
//! driven through tmux), private packages, and anonymous reads switched on by configuration.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Server, client, fails, isolated, ok, run};

/// One npm user: a home with its own `.npmrc` and cache.
struct Npm {
    bin: PathBuf,
    home: PathBuf,
    registry: String,
}

impl Npm {
    /// `token`: written to `.npmrc` as npm itself does after `npm login`.
    fn new(server: &Server, name: &str, token: Option<&str>) -> Option<Npm> {
        let bin = client("npm")?;
        let home = server.scratch(name);
        let registry = format!("{}/npm/", server.url());
        write_npmrc(&home, server, token);
        Some(Npm {
            bin,
            home,
            registry,
        })
    }

    fn npmrc(&self) -> PathBuf {
        self.home.join(".npmrc")
    }

    /// npm with its user config and cache in this home, run in `dir`.
    fn at(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = isolated(&self.bin, &self.home);
        command
            .env("NPM_CONFIG_USERCONFIG", self.npmrc())
            .env("npm_config_cache", self.home.join("npm-cache"))
            .env_remove("NPM_CONFIG_REGISTRY")
            .current_dir(dir)
            .args(args);
        command
    }

    fn npm(&self, args: &[&str]) -> Command {
        self.at(&self.home, args)
    }
}

fn write_npmrc(home: &Path, server: &Server, token: Option<&str>) {
    let mut npmrc = format!(
        "registry={url}/npm/\nupdate-notifier=false\nfund=false\naudit=false\n",
        url = server.url()
    );
    if let Some(token) = token {
        npmrc.push_str(&format!("//{}/npm/:_authToken={token}\n", server.host()));
    }
    std::fs::write(home.join(".npmrc"), npmrc).expect(".npmrc");
}

/// Writes a package directory: package.json with `extra` fields merged in, and an index.js.
fn package(dir: &Path, name: &str, version: &str, extra: serde_json::Value) -> PathBuf {
    let path = dir.join(format!("{}-{version}", name.replace(['@', '/'], "_")));
    std::fs::create_dir_all(&path).expect("package dir");
    let mut manifest = serde_json::json!({
        "name": name,
        "version": version,
        "description": format!("{name} from the end-to-end tests"),
        "main": "index.js",
        "license": "MIT",
    });
    if let (Some(manifest), Some(extra)) = (manifest.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            manifest.insert(key.clone(), value.clone());
        }
    }
    std::fs::write(
        path.join("package.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .expect("package.json");
    std::fs::write(
        path.join("index.js"),
        format!("module.exports = {:?};\n", format!("{name}@{version}")),
    )
    .expect("index.js");
    path
}

/// A fresh project that depends on `dependencies`.
fn project(dir: &Path, dependencies: serde_json::Value) -> PathBuf {
    std::fs::create_dir_all(dir).expect("project dir");
    std::fs::write(
        dir.join("package.json"),
        serde_json::to_vec_pretty(&serde_json::json!({
            "name": "consumer",
            "version": "1.0.0",
            "private": true,
            "dependencies": dependencies,
        }))
        .unwrap(),
    )
    .expect("package.json");
    dir.to_path_buf()
}

fn installed_version(project: &Path, name: &str) -> String {
    let manifest = std::fs::read(project.join("node_modules").join(name).join("package.json"))
        .unwrap_or_else(|_| panic!("{name} is not installed in {}", project.display()));
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    manifest["version"].as_str().unwrap().to_owned()
}

#[test]
fn npm_publish_install_tags_deprecate_unpublish_view_search() {
    let server = Server::start();
    let Some(mia) = Npm::new(&server, "mia", Some(&server.token("mia"))) else {
        return;
    };
    let work = server.scratch("mia-packages");
    assert_eq!(ok(&mut mia.npm(&["whoami"])).trim(), "mia");
    assert_eq!(ok(&mut mia.npm(&["ping"])).trim(), "");

    for version in ["1.0.0", "1.1.0"] {
        let dir = package(
            &work,
            "@acme/lib",
            version,
            serde_json::json!({"keywords": ["toolkit"]}),
        );
        let out = ok(&mut mia.at(&dir, &["publish"]));
        assert!(out.contains(&format!("@acme/lib@{version}")), "{out}");
    }
    let dep = package(
        &work,
        "@acme/app",
        "2.0.0",
        serde_json::json!({"dependencies": {"@acme/lib": "^1.0.0"}}),
    );
    ok(&mut mia.at(&dep, &["publish"]));
    // The same version again is refused (npm checks first; the server answers 409 to a direct PUT).
    let again = fails(&mut mia.at(&dep, &["publish"]));
    assert!(again.contains("2.0.0"), "{again}");

    // view
    assert_eq!(
        ok(&mut mia.npm(&["view", "@acme/lib", "version"])).trim(),
        "1.1.0"
    );
    let versions = ok(&mut mia.npm(&["view", "@acme/lib", "versions", "--json"]));
    let versions: Vec<String> = serde_json::from_str(&versions).unwrap();
    assert_eq!(versions, ["1.0.0", "1.1.0"]);

    // dist-tags
    ok(&mut mia.npm(&["dist-tag", "add", "@acme/lib@1.0.0", "stable"]));
    let tags = ok(&mut mia.npm(&["dist-tag", "ls", "@acme/lib"]));
    assert!(
        tags.contains("stable: 1.0.0") && tags.contains("latest: 1.1.0"),
        "{tags}"
    );
    ok(&mut mia.npm(&["dist-tag", "rm", "@acme/lib", "stable"]));
    let tags = ok(&mut mia.npm(&["dist-tag", "ls", "@acme/lib"]));
    assert!(!tags.contains("stable"), "{tags}");

    // deprecate, un-deprecate
    ok(&mut mia.npm(&["deprecate", "@acme/lib@1.0.0", "use 1.1.0 instead"]));
    let deprecated = ok(&mut mia.npm(&["view", "@acme/lib@1.0.0", "deprecated"]));
    assert_eq!(deprecated.trim(), "use 1.1.0 instead");
    ok(&mut mia.npm(&["deprecate", "@acme/lib@1.0.0", ""]));
    let deprecated = ok(&mut mia.npm(&["view", "@acme/lib@1.0.0", "deprecated"]));
    assert_eq!(deprecated.trim(), "");

    // search
    let found = ok(&mut mia.npm(&["search", "toolkit", "--json"]));
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found[0]["name"], "@acme/lib", "{found}");
    assert_eq!(found[0]["version"], "1.1.0", "{found}");

    // install into a fresh project with a fresh cache, then audit
    let consumer = Npm::new(&server, "mia-consumer", Some(&server.token("mia"))).unwrap();
    let proj = project(
        &consumer.home.join("project"),
        serde_json::json!({"@acme/app": "^2.0.0"}),
    );
    ok(&mut consumer.at(&proj, &["install", "--no-audit"]));
    assert_eq!(installed_version(&proj, "@acme/app"), "2.0.0");
    assert_eq!(installed_version(&proj, "@acme/lib"), "1.1.0");
    ok(&mut consumer.at(&proj, &["audit", "--audit-level=critical"]));

    // unpublish one version, then the whole package
    ok(&mut mia.npm(&["unpublish", "@acme/lib@1.1.0"]));
    let versions = ok(&mut mia.npm(&["view", "@acme/lib", "versions", "--json"]));
    let versions: serde_json::Value = serde_json::from_str(&versions).unwrap();
    assert_eq!(versions, serde_json::json!(["1.0.0"]), "{versions}");
    assert_eq!(
        ok(&mut mia.npm(&["view", "@acme/lib", "version"])).trim(),
        "1.0.0"
    );
    ok(&mut mia.npm(&["unpublish", "@acme/app", "--force"]));
    let gone = fails(&mut mia.npm(&["view", "@acme/app"]));
    assert!(gone.contains("E404"), "{gone}");
}

#[test]
fn private_packages_need_a_granted_token_and_anonymous_reads_follow_configuration() {
    let server = Server::start();
    let Some(mia) = Npm::new(&server, "mia", Some(&server.token("mia"))) else {
        return;
    };
    let work = server.scratch("packages");
    ok(&mut mia.at(
        &package(&work, "@acme/secret", "1.0.0", serde_json::json!({})),
        &["publish"],
    ));
    ok(&mut mia.at(
        &package(&work, "@acme/open", "1.0.0", serde_json::json!({})),
        &["publish", "--access", "public"],
    ));

    let install = |who: &Npm, dependency: &str| {
        let proj = project(
            &who.home
                .join(format!("project-{}", dependency.replace(['@', '/'], "_"))),
            serde_json::json!({ dependency: "^1.0.0" }),
        );
        let output = run(&mut who.at(&proj, &["install", "--no-audit"]));
        (
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    };

    // The private package: refused without a token, with another user's token, and with a member's token
    // before a grant; installed once the member is granted read.
    let anonymous = Npm::new(&server, "anonymous", None).unwrap();
    let (installed, out) = install(&anonymous, "@acme/secret");
    assert!(!installed && out.contains("401"), "{out}");
    let outsider = Npm::new(&server, "outsider", Some(&server.token("outsider"))).unwrap();
    let (installed, out) = install(&outsider, "@acme/secret");
    assert!(!installed && out.contains("404"), "{out}");
    let max = Npm::new(&server, "max", Some(&server.token("max"))).unwrap();
    let (installed, out) = install(&max, "@acme/secret");
    assert!(!installed && out.contains("404"), "{out}");
    // Through the running server's API, so that its next read sees the grant (another replica's would be seen
    // within the read cache's bound: docs/permissions.md, choice 22).
    server.api_ok(
        "PUT",
        "/orgs/acme/packages/npm/secret/access/users/max",
        &server.token("olga"),
        Some(r#"{"role": "read"}"#),
    );
    let max = Npm::new(&server, "max-granted", Some(&server.token("max"))).unwrap();
    let (installed, out) = install(&max, "@acme/secret");
    assert!(installed, "{out}");

    // The public package: any token installs it; without one it is refused by default...
    let (installed, out) = install(&outsider, "@acme/open");
    assert!(installed, "{out}");
    let (installed, out) = install(&anonymous, "@acme/open");
    assert!(!installed && out.contains("401"), "{out}");
    drop(server);

    // ...and installed when anonymous npm reads are enabled.
    let server =
        Server::start_with(&[("ENTREPOT_POLICY__ANONYMOUS_READ", "[\"container\",\"npm\"]")]);
    let mia = Npm::new(&server, "mia", Some(&server.token("mia"))).unwrap();
    let work = server.scratch("packages");
    ok(&mut mia.at(
        &package(&work, "@acme/open", "1.0.0", serde_json::json!({})),
        &["publish", "--access", "public"],
    ));
    ok(&mut mia.at(
        &package(&work, "@acme/secret", "1.0.0", serde_json::json!({})),
        &["publish"],
    ));
    let anonymous = Npm::new(&server, "anonymous", None).unwrap();
    let (installed, out) = install(&anonymous, "@acme/open");
    assert!(installed, "{out}");
    let (installed, out) = install(&anonymous, "@acme/secret");
    assert!(!installed && out.contains("401"), "{out}");
}

/// A tree of scoped packages: `@acme/top` → `@acme/mid` → `@acme/leaf`, and `@acme/top` → `@acme/leaf` too.
fn publish_tree(server: &Server, mia: &Npm) {
    let work = server.scratch("tree");
    ok(&mut mia.at(
        &package(&work, "@acme/leaf", "1.0.0", serde_json::json!({})),
        &["publish"],
    ));
    ok(&mut mia.at(
        &package(&work, "@acme/leaf", "1.2.0", serde_json::json!({})),
        &["publish"],
    ));
    ok(&mut mia.at(
        &package(
            &work,
            "@acme/mid",
            "0.3.0",
            serde_json::json!({"dependencies": {"@acme/leaf": "^1.0.0"}}),
        ),
        &["publish"],
    ));
    ok(&mut mia.at(
        &package(
            &work,
            "@acme/top",
            "2.1.0",
            serde_json::json!({"dependencies": {"@acme/mid": "~0.3.0", "@acme/leaf": "1.0.0"}}),
        ),
        &["publish"],
    ));
}

#[test]
fn yarn_and_pnpm_install_a_tree_of_scoped_packages() {
    let server = Server::start();
    let Some(mia) = Npm::new(&server, "mia", Some(&server.token("mia"))) else {
        return;
    };
    publish_tree(&server, &mia);
    let token = server.token("max");
    let olga = server.block_on(server.world.principal("olga"));
    for name in ["top", "mid", "leaf"] {
        server
            .block_on(server.services().grant(
                &olga,
                &entrepot_service::PackageKey::new(
                    "acme",
                    entrepot_service::authz::PackageType::Npm,
                    name,
                ),
                &entrepot_service::GranteeRef::User("max".into()),
                entrepot_service::authz::Role::Read,
            ))
            .unwrap();
    }

    if let Some(yarn) = client("yarn") {
        let home = server.scratch("yarn");
        write_npmrc(&home, &server, Some(&token));
        // yarn 1 sends the token on every request only with always-auth (npm 11 warns about the key).
        let npmrc = std::fs::read_to_string(home.join(".npmrc")).unwrap();
        std::fs::write(home.join(".npmrc"), format!("{npmrc}always-auth=true\n")).unwrap();
        let proj = project(
            &home.join("project"),
            serde_json::json!({"@acme/top": "^2.0.0"}),
        );
        let mut command = isolated(&yarn, &home);
        command
            .current_dir(&proj)
            .env("NPM_CONFIG_USERCONFIG", home.join(".npmrc"))
            .env("YARN_CACHE_FOLDER", home.join("yarn-cache"))
            .args(["install", "--non-interactive", "--no-progress"]);
        ok(&mut command);
        assert_eq!(installed_version(&proj, "@acme/top"), "2.1.0");
        assert_eq!(installed_version(&proj, "@acme/mid"), "0.3.0");
        assert_eq!(installed_version(&proj, "@acme/leaf"), "1.0.0");
        let nested = proj.join("node_modules/@acme/mid/node_modules/@acme/leaf/package.json");
        let nested: serde_json::Value =
            serde_json::from_slice(&std::fs::read(nested).unwrap()).unwrap();
        assert_eq!(nested["version"], "1.2.0");
    }

    if let Some(pnpm) = client("pnpm") {
        let home = server.scratch("pnpm");
        write_npmrc(&home, &server, Some(&token));
        let proj = project(
            &home.join("project"),
            serde_json::json!({"@acme/top": "^2.0.0"}),
        );
        let mut command = isolated(&pnpm, &home);
        command
            .current_dir(&proj)
            .env("NPM_CONFIG_USERCONFIG", home.join(".npmrc"))
            .args([
                "install",
                "--no-frozen-lockfile",
                "--reporter=append-only",
                "--store-dir",
            ])
            .arg(home.join("pnpm-store"));
        ok(&mut command);
        assert_eq!(installed_version(&proj, "@acme/top"), "2.1.0");
        let lock = std::fs::read_to_string(proj.join("pnpm-lock.yaml")).unwrap();
        // pnpm dedupes `@acme/leaf` to the 1.0.0 that `@acme/top` pins, which satisfies mid's ^1.0.0 too.
        for resolved in [
            "'@acme/top@2.1.0'",
            "'@acme/mid@0.3.0'",
            "'@acme/leaf@1.0.0'",
        ] {
            assert!(lock.contains(resolved), "{resolved} missing from\n{lock}");
        }
    }
}

/// Waits until `pane` shows `text`, or panics with what it shows.
fn wait_for_pane(tmux: &Path, socket: &Path, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut shown = String::new();
    while Instant::now() < deadline {
        let output = Command::new(tmux)
            .arg("-S")
            .arg(socket)
            .args(["capture-pane", "-p", "-t", "login"])
            .output()
            .expect("tmux capture-pane");
        shown = String::from_utf8_lossy(&output.stdout).into_owned();
        if shown.contains(text) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the prompt never showed {text:?}; the pane shows:\n{shown}");
}

fn send_keys(tmux: &Path, socket: &Path, keys: &str) {
    ok(Command::new(tmux)
        .arg("-S")
        .arg(socket)
        .args(["send-keys", "-t", "login", "-l", keys]));
    ok(Command::new(tmux)
        .arg("-S")
        .arg(socket)
        .args(["send-keys", "-t", "login", "Enter"]));
}

/// Runs `npm <flow>` in a tmux pane and answers its prompts as a user would.
fn interactive_login(tmux: &Path, npm: &Npm, flow: &str, user: &str, password: &str) {
    let socket = npm.home.join("tmux.sock");
    let done = npm.home.join(format!("{flow}.done"));
    let script = format!(
        "env HOME={home} NPM_CONFIG_USERCONFIG={rc} npm_config_cache={cache} {bin} {flow} --auth-type=legacy \
         --registry={registry}; echo $? > {done}; sleep 2",
        home = npm.home.display(),
        rc = npm.npmrc().display(),
        cache = npm.home.join("npm-cache").display(),
        bin = npm.bin.display(),
        registry = npm.registry,
        done = done.display(),
    );
    ok(Command::new(tmux).arg("-S").arg(&socket).args([
        "new-session",
        "-d",
        "-s",
        "login",
        "-x",
        "200",
        "-y",
        "50",
        &script,
    ]));
    wait_for_pane(tmux, &socket, "Username:");
    send_keys(tmux, &socket, user);
    wait_for_pane(tmux, &socket, "Password:");
    send_keys(tmux, &socket, password);
    if flow == "adduser" {
        wait_for_pane(tmux, &socket, "Email");
        send_keys(tmux, &socket, &format!("{user}@example.com"));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = std::fs::read_to_string(&done).unwrap_or_default();
    let _ = Command::new(tmux)
        .arg("-S")
        .arg(&socket)
        .args(["kill-server"])
        .status();
    assert_eq!(status.trim(), "0", "npm {flow} failed");
}

#[test]
fn npm_login_adduser_whoami_logout() {
    let server = Server::start();
    let Some(npm) = Npm::new(&server, "login", None) else {
        return;
    };
    let Some(tmux) = client("tmux") else {
        return;
    };
    let token = server.token("mia");
    // Without a token npm cannot say who we are.
    fails(&mut npm.npm(&["whoami"]));
    interactive_login(&tmux, &npm, "login", "mia", &token);
    let npmrc = std::fs::read_to_string(npm.npmrc()).unwrap();
    assert!(
        npmrc.contains(&token),
        "npm login did not store the token:\n{npmrc}"
    );
    assert_eq!(ok(&mut npm.npm(&["whoami"])).trim(), "mia");
    ok(&mut npm.npm(&["logout"]));
    let npmrc = std::fs::read_to_string(npm.npmrc()).unwrap();
    assert!(
        !npmrc.contains(&token),
        "npm logout kept the token:\n{npmrc}"
    );
    fails(&mut npm.npm(&["whoami"]));

    // adduser with an existing account's token logs in the same way; a wrong password is refused.
    interactive_login(&tmux, &npm, "adduser", "mia", &token);
    assert_eq!(ok(&mut npm.npm(&["whoami"])).trim(), "mia");
    ok(&mut npm.npm(&["logout"]));
    let refused = fails(&mut npm.npm(&["whoami"]));
    assert!(
        refused.contains("401") || refused.contains("ENEEDAUTH"),
        "{refused}"
    );
}
