//! GitHub's packages REST API driven by octokit (`@octokit/rest`, installed by `deploy/dev/install-clients.sh`)
//! with `baseUrl` set to `<server>/api/v3`, over packages that real clients published: npm packages of an org
//! and of a user, and a container image pushed with skopeo. octokit lists, gets, deletes and restores packages and
//! versions; npm and skopeo then show that a deleted version is really gone from its registry, and back after the
//! restore.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Server, client, client_file, fails, isolated, ok};

/// The node script: one octokit call per run, named by its first argument, printing `{status, data}` (or the
/// error's status and message) as JSON.
const SCRIPT: &str = r#"
import { Octokit } from "@octokit/rest";

const [baseUrl, auth, op, ...args] = process.argv.slice(2);
const octokit = new Octokit({ auth, baseUrl });
const p = octokit.rest.packages;
const [owner, package_type, package_name, id, state] = args;
const version = { package_type, package_name, package_version_id: Number(id) };
const calls = {
  listOrg: () => p.listPackagesForOrganization({ org: owner, package_type }),
  listUser: () => p.listPackagesForUser({ username: owner, package_type }),
  listMine: () => p.listPackagesForAuthenticatedUser({ package_type }),
  paginateOrg: async () => ({
    status: 200,
    data: await octokit.paginate(p.listPackagesForOrganization, { org: owner, package_type, per_page: 1 }),
  }),
  getOrg: () => p.getPackageForOrganization({ org: owner, package_type, package_name }),
  getUser: () => p.getPackageForUser({ username: owner, package_type, package_name }),
  getMine: () => p.getPackageForAuthenticatedUser({ package_type, package_name }),
  deleteOrg: () => p.deletePackageForOrg({ org: owner, package_type, package_name }),
  restoreOrg: () => p.restorePackageForOrg({ org: owner, package_type, package_name }),
  deleteMine: () => p.deletePackageForAuthenticatedUser({ package_type, package_name }),
  restoreMine: () => p.restorePackageForAuthenticatedUser({ package_type, package_name }),
  versionsOrg: () =>
    p.getAllPackageVersionsForPackageOwnedByOrg({ org: owner, package_type, package_name, state: state || "active" }),
  versionsUser: () => p.getAllPackageVersionsForPackageOwnedByUser({ username: owner, package_type, package_name }),
  versionsMine: () =>
    p.getAllPackageVersionsForPackageOwnedByAuthenticatedUser({ package_type, package_name, state: state || "active" }),
  versionOrg: () => p.getPackageVersionForOrganization({ org: owner, ...version }),
  versionUser: () => p.getPackageVersionForUser({ username: owner, ...version }),
  deleteVersionOrg: () => p.deletePackageVersionForOrg({ org: owner, ...version }),
  restoreVersionOrg: () => p.restorePackageVersionForOrg({ org: owner, ...version }),
  deleteVersionUser: () => p.deletePackageVersionForUser({ username: owner, ...version }),
  restoreVersionUser: () => p.restorePackageVersionForUser({ username: owner, ...version }),
};
try {
  const { status, data } = await calls[op]();
  console.log(JSON.stringify({ status, data: data ?? null }));
} catch (error) {
  if (error.status === undefined) throw error;
  console.log(JSON.stringify({ status: error.status, data: error.response?.data ?? null }));
}
"#;

/// octokit, as installed by `deploy/dev/install-clients.sh` beside the client wrappers.
struct Octokit {
    node: PathBuf,
    script: PathBuf,
    base_url: String,
}

impl Octokit {
    /// `None` (a skip, or a failure in CI) when node or the module is missing.
    fn new(server: &Server) -> Option<Octokit> {
        let node = client("node")?;
        let module = client_file("octokit/node_modules/@octokit/rest/package.json")?;
        // ESM resolves imports from the script's own directory (NODE_PATH does not apply): the script gets a
        // `node_modules` link to the installed one.
        let modules = module.ancestors().nth(3).expect("octokit's node_modules");
        let dir = server.scratch("octokit");
        std::os::unix::fs::symlink(modules, dir.join("node_modules")).expect("link node_modules");
        let script = dir.join("packages.mjs");
        std::fs::write(&script, SCRIPT).expect("write the octokit script");
        Some(Octokit {
            node,
            script,
            base_url: format!("{}/api/v3", server.url()),
        })
    }

    /// One octokit call as `token`: the HTTP status and the body octokit handed back.
    fn call(&self, token: &str, op: &str, args: &[&str]) -> (u16, Value) {
        let mut command = Command::new(&self.node);
        command
            .arg(&self.script)
            .args([self.base_url.as_str(), token, op])
            .args(args);
        let out: Value = serde_json::from_str(ok(&mut command).trim()).expect("octokit's JSON");
        (out["status"].as_u64().unwrap() as u16, out["data"].clone())
    }
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

fn id_of(versions: &Value, name: &str) -> String {
    versions
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no version {name} in {versions}"))["id"]
        .to_string()
}

/// npm with its own home, `.npmrc` (the token of `login`) and cache.
fn npm(server: &Server, npm: &Path, login: &str, home: &str) -> impl Fn(&Path, &[&str]) -> Command {
    let home = server.scratch(home);
    std::fs::write(
        home.join(".npmrc"),
        format!(
            "registry={url}/npm/\nupdate-notifier=false\nfund=false\naudit=false\n//{host}/npm/:_authToken={token}\n",
            url = server.url(),
            host = server.host(),
            token = server.token(login),
        ),
    )
    .expect(".npmrc");
    let npm = npm.to_path_buf();
    move |dir: &Path, args: &[&str]| {
        let mut command = isolated(&npm, &home);
        command
            .env("NPM_CONFIG_USERCONFIG", home.join(".npmrc"))
            .env("npm_config_cache", home.join("npm-cache"))
            .env_remove("NPM_CONFIG_REGISTRY")
            .current_dir(dir)
            .args(args);
        command
    }
}

fn publish(npm: &impl Fn(&Path, &[&str]) -> Command, dir: &Path, name: &str, version: &str) {
    let path = dir.join(format!("{}-{version}", name.replace(['@', '/'], "_")));
    std::fs::create_dir_all(&path).unwrap();
    let manifest = json!({
        "name": name, "version": version, "main": "index.js", "license": "MIT",
        "description": format!("{name} for the packages API test"),
    });
    std::fs::write(path.join("package.json"), manifest.to_string()).unwrap();
    std::fs::write(path.join("index.js"), "module.exports = 1;\n").unwrap();
    ok(&mut npm(&path, &["publish"]));
}

/// Installs `spec` into a fresh project (fresh cache too); whether it worked.
fn installs(npm: &impl Fn(&Path, &[&str]) -> Command, dir: &Path, spec: &str) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"consumer","version":"1.0.0","private":true}"#,
    )
    .unwrap();
    let cache = dir.join("cache");
    let mut command = npm(dir, &["install", "--no-audit", "--cache"]);
    command.arg(&cache).arg(spec);
    support::run(&mut command).status.success()
}

/// A one-layer OCI image layout tagged `tag` (an uncompressed tar layer).
fn oci_layout(dir: &Path, tag: &str) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let put = |data: &[u8]| {
        let hex = hex::encode(Sha256::digest(data));
        std::fs::write(dir.join("blobs/sha256").join(&hex), data).unwrap();
        (format!("sha256:{hex}"), data.len())
    };
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    let text = b"hello from the packages API test\n";
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "hello.txt", &text[..])
        .unwrap();
    let layer = tar.into_inner().unwrap();
    let (layer_digest, layer_size) = put(&layer);
    let config = json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    let (config_digest, config_size) = put(config.to_string().as_bytes());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}],
    });
    let (digest, size) = put(manifest.to_string().as_bytes());
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size,
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }]});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
}

fn skopeo(server: &Server, skopeo: &Path, args: &[&str]) -> Command {
    let mut command = isolated(skopeo, &server.scratch("skopeo"));
    command.args(args);
    command
}

#[test]
fn octokit_lists_gets_deletes_and_restores_what_real_clients_published() {
    let server = Server::start();
    let (Some(npm_bin), Some(skopeo_bin)) = (client("npm"), client("skopeo")) else {
        return;
    };
    let Some(octokit) = Octokit::new(&server) else {
        return;
    };
    let olga_token = server.token("olga");
    let olga = npm(&server, &npm_bin, "olga", "olga");
    let ursula = npm(&server, &npm_bin, "ursula", "ursula");
    let work = server.scratch("work");

    // What the registries' own clients publish.
    publish(&olga, &work, "@acme/widget", "1.0.0");
    publish(&olga, &work, "@acme/widget", "1.1.0");
    publish(&olga, &work, "@acme/gadget", "0.1.0");
    publish(&ursula, &work, "@ursula/kit", "0.1.0");
    publish(&ursula, &work, "@ursula/kit", "0.2.0");
    let layout = work.join("layout");
    oci_layout(&layout, "v1");
    let creds = format!("olga:{olga_token}");
    let image = format!("docker://{}/acme/tools/app", server.host());
    let source = format!("oci:{}:v1", layout.display());
    let target = format!("{image}:v1");
    ok(&mut skopeo(
        &server,
        &skopeo_bin,
        &[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &source,
            &target,
        ],
    ));
    let pull = |reference: &str| {
        let image = format!("{image}{reference}");
        let args = [
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            creds.as_str(),
            image.as_str(),
        ];
        skopeo(&server, &skopeo_bin, &args)
    };
    // skopeo may rewrite the manifest on the way (it compresses the layer): the version is what the registry holds.
    let mut inspect = skopeo(
        &server,
        &skopeo_bin,
        &["inspect", "--tls-verify=false", "--creds", &creds, &target],
    );
    let inspected: Value = serde_json::from_str(&ok(&mut inspect)).expect("skopeo's JSON");
    let digest = inspected["Digest"].as_str().expect("a digest").to_owned();

    // The org's packages, by type; `docker` is the container registry; every page followed through `Link`.
    let (status, list) = octokit.call(&olga_token, "listOrg", &["acme", "npm"]);
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["gadget", "widget"]);
    assert_eq!(list[1]["owner"]["login"], "acme");
    assert_eq!(list[1]["version_count"], 2);
    assert_eq!(list[1]["visibility"], "private");
    let (_, all) = octokit.call(&olga_token, "paginateOrg", &["acme", "npm"]);
    assert_eq!(names(&all), ["gadget", "widget"]);
    let (_, images) = octokit.call(&olga_token, "listOrg", &["acme", "docker"]);
    assert_eq!(names(&images), ["tools/app"]);
    assert_eq!(images[0]["package_type"], "container");

    let (status, widget) = octokit.call(&olga_token, "getOrg", &["acme", "npm", "widget"]);
    assert_eq!((status, widget["name"].as_str()), (200, Some("widget")));
    let (_, versions) = octokit.call(&olga_token, "versionsOrg", &["acme", "npm", "widget"]);
    assert_eq!(names(&versions), ["1.1.0", "1.0.0"]);
    assert_eq!(
        versions[1]["description"],
        "@acme/widget for the packages API test"
    );
    assert_eq!(versions[1]["license"], "MIT");
    let old = id_of(&versions, "1.0.0");
    let (status, one) = octokit.call(&olga_token, "versionOrg", &["acme", "npm", "widget", &old]);
    assert_eq!((status, one["name"].as_str()), (200, Some("1.0.0")));

    // The image's version is its manifest digest, tagged as pushed; the name's `/` is encoded by octokit.
    let (status, image_versions) = octokit.call(
        &olga_token,
        "versionsOrg",
        &["acme", "container", "tools/app"],
    );
    assert_eq!(status, 200, "{image_versions}");
    assert_eq!(names(&image_versions), [digest.as_str()]);
    assert_eq!(
        image_versions[0]["metadata"]["container"]["tags"],
        json!(["v1"])
    );
    let image_version = id_of(&image_versions, &digest);

    // Someone who may not see them: 404, as for packages that do not exist.
    let (status, _) = octokit.call(
        &server.token("outsider"),
        "getOrg",
        &["acme", "npm", "widget"],
    );
    assert_eq!(status, 404);
    let (status, _) = octokit.call(
        &server.token("outsider"),
        "deleteVersionOrg",
        &["acme", "npm", "widget", &old],
    );
    assert_eq!(status, 404);

    // Delete an npm version: npm cannot install it any more; restore it: it can, and its downloads were counted.
    let proj = |name: &str| work.join("projects").join(name);
    assert!(installs(&olga, &proj("before"), "@acme/widget@1.0.0"));
    let (status, _) = octokit.call(
        &olga_token,
        "deleteVersionOrg",
        &["acme", "npm", "widget", &old],
    );
    assert_eq!(status, 204);
    let (_, active) = octokit.call(&olga_token, "versionsOrg", &["acme", "npm", "widget"]);
    assert_eq!(names(&active), ["1.1.0"]);
    let (_, deleted) = octokit.call(
        &olga_token,
        "versionsOrg",
        &["acme", "npm", "widget", "", "deleted"],
    );
    assert_eq!(names(&deleted), ["1.0.0"]);
    assert!(!installs(&olga, &proj("deleted"), "@acme/widget@1.0.0"));
    let (status, _) = octokit.call(
        &olga_token,
        "restoreVersionOrg",
        &["acme", "npm", "widget", &old],
    );
    assert_eq!(status, 204);
    assert!(installs(&olga, &proj("restored"), "@acme/widget@1.0.0"));
    let (_, one) = octokit.call(&olga_token, "versionOrg", &["acme", "npm", "widget", &old]);
    assert_eq!(one["download_count"], 2, "{one}");

    // Delete the image's version: skopeo finds no manifest; restore it: skopeo reads it again.
    ok(&mut pull(&format!("@{digest}")));
    let (status, _) = octokit.call(
        &olga_token,
        "deleteVersionOrg",
        &["acme", "container", "tools/app", &image_version],
    );
    assert_eq!(status, 204);
    let gone = fails(&mut pull(&format!("@{digest}")));
    assert!(
        gone.contains("manifest unknown") || gone.contains("not found"),
        "{gone}"
    );
    let (status, _) = octokit.call(
        &olga_token,
        "restoreVersionOrg",
        &["acme", "container", "tools/app", &image_version],
    );
    assert_eq!(status, 204);
    let raw = ok(&mut pull(&format!("@{digest}")));
    assert!(
        raw.contains("application/vnd.oci.image.manifest.v1+json"),
        "{raw}"
    );

    // A whole org package, and back.
    let (status, _) = octokit.call(&olga_token, "deleteOrg", &["acme", "npm", "gadget"]);
    assert_eq!(status, 204);
    let (status, _) = octokit.call(&olga_token, "getOrg", &["acme", "npm", "gadget"]);
    assert_eq!(status, 404);
    assert!(!installs(&olga, &proj("gadget-deleted"), "@acme/gadget"));
    let (status, _) = octokit.call(&olga_token, "restoreOrg", &["acme", "npm", "gadget"]);
    assert_eq!(status, 204);
    assert!(installs(&olga, &proj("gadget-restored"), "@acme/gadget"));

    // A user's packages: through /users/{username} and through /user with her own token.
    let ursula_token = server.token("ursula");
    let (_, mine) = octokit.call(&ursula_token, "listMine", &["", "npm"]);
    assert_eq!(names(&mine), ["kit"]);
    let (_, theirs) = octokit.call(&ursula_token, "listUser", &["ursula", "npm"]);
    assert_eq!(names(&theirs), ["kit"]);
    assert_eq!(theirs[0]["owner"]["type"], "User");
    let (status, kit) = octokit.call(&ursula_token, "getUser", &["ursula", "npm", "kit"]);
    assert_eq!((status, kit["version_count"].as_u64()), (200, Some(2)));
    let (_, kit_versions) = octokit.call(&ursula_token, "versionsUser", &["ursula", "npm", "kit"]);
    assert_eq!(names(&kit_versions), ["0.2.0", "0.1.0"]);
    let first = id_of(&kit_versions, "0.1.0");
    let (status, _) = octokit.call(
        &ursula_token,
        "deleteVersionUser",
        &["ursula", "npm", "kit", &first],
    );
    assert_eq!(status, 204);
    assert!(!installs(
        &ursula,
        &proj("kit-deleted"),
        "@ursula/kit@0.1.0"
    ));
    let (_, deleted) = octokit.call(
        &ursula_token,
        "versionsMine",
        &["", "npm", "kit", "", "deleted"],
    );
    assert_eq!(names(&deleted), ["0.1.0"]);
    let (status, _) = octokit.call(
        &ursula_token,
        "restoreVersionUser",
        &["ursula", "npm", "kit", &first],
    );
    assert_eq!(status, 204);
    assert!(installs(
        &ursula,
        &proj("kit-restored"),
        "@ursula/kit@0.1.0"
    ));
    let (status, _) = octokit.call(&ursula_token, "deleteMine", &["", "npm", "kit"]);
    assert_eq!(status, 204);
    let (status, _) = octokit.call(&ursula_token, "getMine", &["", "npm", "kit"]);
    assert_eq!(status, 404);
    let (status, _) = octokit.call(&ursula_token, "restoreMine", &["", "npm", "kit"]);
    assert_eq!(status, 204);
    let (status, kit) = octokit.call(&ursula_token, "getMine", &["", "npm", "kit"]);
    assert_eq!((status, kit["name"].as_str()), (200, Some("kit")));
    // Someone else's /user is their own namespace: olga has no `kit`.
    let (status, _) = octokit.call(&olga_token, "getMine", &["", "npm", "kit"]);
    assert_eq!(status, 404);
}
