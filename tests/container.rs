//! The container registry end to end with real clients: skopeo and podman (Debian packages) against the spawned
//! server, on images built here by hand as OCI image layouts (a tar.gz layer, a config, a manifest per
//! architecture, an index when there are several), plus raw HTTP (curl) for what clients do not exercise on
//! demand: an upload continued after a server crash, and an abandoned upload expiring.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use entrepot_service::authz::{PackageType, Visibility, WorkflowLevel};
use entrepot_service::{PackageKey, Services};
use sha2::{Digest, Sha256};
use support::{Server, client, fails, isolated, ok, run};

/// Writes a blob into an OCI layout and returns its descriptor fields.
fn put_blob(root: &Path, data: &[u8]) -> (String, usize) {
    let hex = hex::encode(Sha256::digest(data));
    std::fs::write(root.join("blobs/sha256").join(&hex), data).expect("write blob");
    (format!("sha256:{hex}"), data.len())
}

/// A gzip'd tar holding `hello.txt` (naming `arch`) and `extra` bytes of `blob.bin`.
fn layer(arch: &str, extra: usize) -> (Vec<u8>, Vec<u8>) {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, name, data).expect("tar entry");
    };
    add(
        "hello.txt",
        format!("hello from a hand-made OCI image ({arch})\n").as_bytes(),
    );
    if extra > 0 {
        let body: Vec<u8> = arch.bytes().cycle().take(extra).collect();
        add("blob.bin", &body);
    }
    let tar = tar.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    (tar, gz.finish().expect("gzip"))
}

/// Builds an OCI image layout in `dir` tagged `tag`: one manifest per architecture, and an index over them when
/// there are several. `source` becomes the config label `org.opencontainers.image.source`.
fn oci_layout(dir: &Path, tag: &str, archs: &[&str], source: Option<&str>) -> PathBuf {
    std::fs::create_dir_all(dir.join("blobs/sha256")).expect("layout dir");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("oci-layout");
    let mut manifests = Vec::new();
    for arch in archs {
        let (tar, gz) = layer(arch, 4096);
        let (layer_digest, layer_size) = put_blob(dir, &gz);
        let mut labels = serde_json::Map::new();
        if let Some(source) = source {
            labels.insert("org.opencontainers.image.source".into(), source.into());
        }
        let config = serde_json::json!({
            "created": "1970-01-01T00:00:00Z",
            "architecture": arch,
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"], "Labels": labels},
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", hex::encode(Sha256::digest(&tar)))]},
            "history": [{"created_by": "tests/container.rs"}],
        });
        let (config_digest, config_size) = put_blob(dir, config.to_string().as_bytes());
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}],
            "annotations": {"org.opencontainers.image.title": format!("handmade-{arch}")},
        });
        let (digest, size) = put_blob(dir, manifest.to_string().as_bytes());
        manifests.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": size,
            "platform": {"architecture": arch, "os": "linux"},
        }));
    }
    let mut top = if manifests.len() == 1 {
        let mut top = manifests[0].clone();
        top.as_object_mut().expect("object").remove("platform");
        top
    } else {
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        let (digest, size) = put_blob(dir, index.to_string().as_bytes());
        serde_json::json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": size})
    };
    top["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
    dir.to_path_buf()
}

fn skopeo(server: &Server, home: &str) -> Option<Command> {
    let program = client("skopeo")?;
    let home = server.scratch(home);
    let mut command = isolated(program, &home);
    command.env("REGISTRY_AUTH_FILE", home.join("auth.json"));
    Some(command)
}

fn docker_ref(server: &Server, image: &str) -> String {
    format!("docker://{}/{image}", server.host())
}

/// `skopeo copy` from a layout into the registry.
fn push(server: &Server, creds: &str, layout: &Path, tag: &str, image: &str, all: bool) -> Command {
    let mut command = skopeo(server, "push").expect("skopeo");
    command.args(["copy", "--dest-tls-verify=false", "--dest-creds", creds]);
    if all {
        command.arg("--all");
    }
    command
        .arg(format!("oci:{}:{tag}", layout.display()))
        .arg(docker_ref(server, image));
    command
}

fn inspect(server: &Server, creds: Option<&str>, image: &str, extra: &[&str]) -> Command {
    let mut command = skopeo(server, "inspect").expect("skopeo");
    command.args(["inspect", "--tls-verify=false"]);
    match creds {
        Some(creds) => command.args(["--creds", creds]),
        None => command.arg("--no-creds"),
    };
    command.args(extra).arg(docker_ref(server, image));
    command
}

fn creds(server: &Server, login: &str) -> String {
    format!("{login}:{}", server.token(login))
}

fn make_public(server: &Server, owner: &str, name: &str) {
    server
        .block_on(server.services().set_package_visibility(
            &Services::operator(),
            &PackageKey::new(owner, PackageType::Container, name),
            Visibility::Public,
        ))
        .expect("make the image public");
}

#[test]
fn skopeo_copies_inspects_lists_and_deletes() {
    if client("skopeo").is_none() {
        return;
    }
    let server = Server::start();
    let layout = oci_layout(&server.scratch("layout"), "v1", &["amd64"], None);
    let mia = creds(&server, "mia");
    ok(&mut push(
        &server,
        &mia,
        &layout,
        "v1",
        "acme/tools/app:v1",
        false,
    ));
    ok(&mut push(
        &server,
        &mia,
        &layout,
        "v1",
        "acme/tools/app:v2",
        false,
    ));

    let raw = ok(&mut inspect(
        &server,
        Some(&mia),
        "acme/tools/app:v1",
        &["--raw"],
    ));
    let manifest: serde_json::Value = serde_json::from_str(&raw).expect("manifest JSON");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let config = ok(&mut inspect(
        &server,
        Some(&mia),
        "acme/tools/app:v1",
        &["--config"],
    ));
    assert!(config.contains("\"architecture\": \"amd64\""), "{config}");

    // list-tags through an authfile written by `skopeo login`.
    let authfile = server.scratch("list").join("auth.json");
    let mut login = skopeo(&server, "list").expect("skopeo");
    login
        .args(["login", "--tls-verify=false", "--authfile"])
        .arg(&authfile)
        .args(["-u", "mia", "-p", &server.token("mia"), &server.host()]);
    ok(&mut login);
    let mut list = skopeo(&server, "list").expect("skopeo");
    list.args(["list-tags", "--tls-verify=false", "--authfile"])
        .arg(&authfile)
        .arg(docker_ref(&server, "acme/tools/app"));
    let tags: serde_json::Value = serde_json::from_str(&ok(&mut list)).expect("tags JSON");
    assert_eq!(tags["Tags"], serde_json::json!(["v1", "v2"]));

    // Pulling back gives the identical manifest digest.
    let back = server.scratch("back");
    let mut pull = skopeo(&server, "pull").expect("skopeo");
    pull.args(["copy", "--src-tls-verify=false", "--src-creds", &mia])
        .arg(docker_ref(&server, "acme/tools/app:v1"))
        .arg(format!("oci:{}:v1", back.display()));
    ok(&mut pull);
    let pushed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let pulled: serde_json::Value =
        serde_json::from_slice(&std::fs::read(back.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        pushed["manifests"][0]["digest"],
        pulled["manifests"][0]["digest"]
    );

    // Docker schema 2 conversion pushes another manifest (another digest) that reads back as Docker's type.
    let mut v2s2 = push(&server, &mia, &layout, "v1", "acme/tools/app:docker", false);
    v2s2.args(["--format", "v2s2"]);
    ok(&mut v2s2);
    let raw = ok(&mut inspect(
        &server,
        Some(&mia),
        "acme/tools/app:docker",
        &["--raw"],
    ));
    assert!(
        raw.contains("application/vnd.docker.distribution.manifest.v2+json"),
        "{raw}"
    );

    // mia created the image, so she administers it: delete by digest removes v1 and v2 (same manifest).
    let mut delete = skopeo(&server, "delete").expect("skopeo");
    delete
        .args(["delete", "--tls-verify=false", "--creds", &mia])
        .arg(docker_ref(&server, "acme/tools/app:v2"));
    ok(&mut delete);
    let tags: serde_json::Value = serde_json::from_str(&ok(&mut list)).expect("tags JSON");
    assert_eq!(tags["Tags"], serde_json::json!(["docker"]));
    fails(&mut inspect(
        &server,
        Some(&mia),
        "acme/tools/app:v1",
        &["--raw"],
    ));
}

#[test]
fn skopeo_copies_a_multi_arch_index_with_all() {
    if client("skopeo").is_none() {
        return;
    }
    let server = Server::start();
    let layout = oci_layout(&server.scratch("multi"), "v1", &["amd64", "arm64"], None);
    let olga = creds(&server, "olga");
    ok(&mut push(
        &server,
        &olga,
        &layout,
        "v1",
        "acme/multi:v1",
        true,
    ));
    let raw = ok(&mut inspect(
        &server,
        Some(&olga),
        "acme/multi:v1",
        &["--raw"],
    ));
    let index: serde_json::Value = serde_json::from_str(&raw).expect("index JSON");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(index["manifests"].as_array().map(Vec::len), Some(2));
    let arm = ok(&mut inspect(
        &server,
        Some(&olga),
        "acme/multi:v1",
        &["--override-arch", "arm64", "--config"],
    ));
    assert!(arm.contains("\"architecture\": \"arm64\""), "{arm}");
    // Copy everything back out: every child manifest and blob is served.
    let back = server.scratch("multi-back");
    let mut pull = skopeo(&server, "pull").expect("skopeo");
    pull.args([
        "copy",
        "--all",
        "--src-tls-verify=false",
        "--src-creds",
        &olga,
    ])
    .arg(docker_ref(&server, "acme/multi:v1"))
    .arg(format!("oci:{}:v1", back.display()));
    ok(&mut pull);
}

#[test]
fn anonymous_pull_of_a_public_image_and_denials() {
    if client("skopeo").is_none() {
        return;
    }
    let server = Server::start();
    let layout = oci_layout(&server.scratch("layout"), "v1", &["amd64"], None);
    let olga = creds(&server, "olga");
    ok(&mut push(
        &server,
        &olga,
        &layout,
        "v1",
        "acme/public:v1",
        false,
    ));
    ok(&mut push(
        &server,
        &olga,
        &layout,
        "v1",
        "acme/secret:v1",
        false,
    ));
    make_public(&server, "acme", "public");

    // Anonymous: the public image reads, the private one does not.
    ok(&mut inspect(&server, None, "acme/public:v1", &["--raw"]));
    let denied = fails(&mut inspect(&server, None, "acme/secret:v1", &["--raw"]));
    assert!(
        denied.contains("denied")
            || denied.contains("unauthorized")
            || denied.contains("authentication required"),
        "{denied}"
    );
    // A user without access learns nothing of the private image, and cannot push into acme.
    let outsider = creds(&server, "outsider");
    let denied = fails(&mut inspect(
        &server,
        Some(&outsider),
        "acme/secret:v1",
        &["--raw"],
    ));
    assert!(
        denied.contains("denied") || denied.contains("unknown") || denied.contains("not found"),
        "{denied}"
    );
    fails(&mut push(
        &server,
        &outsider,
        &layout,
        "v1",
        "acme/intruder:v1",
        false,
    ));
    // A wrong token is refused outright.
    fails(&mut inspect(
        &server,
        Some("mia:etp_not_a_real_token"),
        "acme/public:v1",
        &["--raw"],
    ));
    // The public image is readable by anyone logged in too.
    ok(&mut inspect(
        &server,
        Some(&outsider),
        "acme/public:v1",
        &["--raw"],
    ));
}

#[test]
fn a_workflow_token_pushes_into_its_repositorys_namespace() {
    if client("skopeo").is_none() {
        return;
    }
    let server = Server::start();
    let olga = server.block_on(server.world.principal("olga"));
    let workflow = server
        .block_on(server.services().mint_workflow_token(
            &olga,
            "acme",
            "web",
            WorkflowLevel::Write,
            None,
        ))
        .expect("mint a workflow token");
    let creds = format!("x:{}", workflow.token.expose());
    let layout = oci_layout(&server.scratch("layout"), "v1", &["amd64"], None);
    ok(&mut push(
        &server,
        &creds,
        &layout,
        "v1",
        "acme/webimg:v1",
        false,
    ));
    ok(&mut inspect(
        &server,
        Some(&creds),
        "acme/webimg:v1",
        &["--raw"],
    ));
    // The package is linked to the workflow's repository and takes its visibility.
    let view = server
        .block_on(server.services().package(
            &Services::operator(),
            &PackageKey::new("acme", PackageType::Container, "webimg"),
        ))
        .expect("the package exists");
    assert_eq!(view.repository.as_deref(), Some("acme/web"));
    assert_eq!(view.visibility, "private");
    // max writes acme/web, so he reads the inheriting image; outsider does not.
    ok(&mut inspect(
        &server,
        Some(&creds_of(&server, "max")),
        "acme/webimg:v1",
        &["--raw"],
    ));
    fails(&mut inspect(
        &server,
        Some(&creds_of(&server, "outsider")),
        "acme/webimg:v1",
        &["--raw"],
    ));
    // Another owner's namespace is out of reach.
    fails(&mut push(
        &server,
        &creds,
        &layout,
        "v1",
        "ursula/stolen:v1",
        false,
    ));
}

fn creds_of(server: &Server, login: &str) -> String {
    creds(server, login)
}

fn podman(server: &Server, home: &Path) -> Option<Command> {
    let program = client("podman")?;
    let mut command = isolated(program, home);
    let root = home.join("storage");
    let runroot = home.join("run");
    command
        .arg("--storage-driver")
        .arg("vfs")
        .arg("--root")
        .arg(&root)
        .arg("--runroot")
        .arg(&runroot)
        .args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"]);
    let _ = server;
    Some(command)
}

#[test]
fn podman_logs_in_pushes_pulls_and_pushes_a_manifest_list() {
    if client("podman").is_none() || client("skopeo").is_none() {
        return;
    }
    let server = Server::start();
    let home = server.scratch("podman");
    let authfile = home.join("auth.json");
    let layout = oci_layout(&server.scratch("layout"), "v1", &["amd64"], None);
    let multi = oci_layout(&server.scratch("multi"), "v1", &["amd64", "arm64"], None);
    let olga = creds(&server, "olga");
    ok(&mut push(
        &server,
        &olga,
        &layout,
        "v1",
        "acme/private:v1",
        false,
    ));
    ok(&mut push(
        &server,
        &olga,
        &multi,
        "v1",
        "acme/multi:v1",
        true,
    ));
    let image = format!("{}/acme/private:v1", server.host());

    // Without logging in, the private image is refused (401, then the anonymous token grants nothing).
    std::fs::write(&authfile, r#"{"auths":{}}"#).expect("empty authfile");
    let mut pull = podman(&server, &home).expect("podman");
    pull.args(["pull", "--tls-verify=false", "--authfile"])
        .arg(&authfile)
        .arg(&image);
    let refused = fails(&mut pull);
    assert!(
        refused.contains("denied") || refused.contains("unauthorized"),
        "{refused}"
    );

    let mut login = podman(&server, &home).expect("podman");
    login
        .args([
            "login",
            "--tls-verify=false",
            "-u",
            "olga",
            "-p",
            &server.token("olga"),
            "--authfile",
        ])
        .arg(&authfile)
        .arg(server.host());
    ok(&mut login);
    let mut pull = podman(&server, &home).expect("podman");
    pull.args(["pull", "--tls-verify=false", "--authfile"])
        .arg(&authfile)
        .arg(&image);
    ok(&mut pull);

    // A wrong password does not log in.
    let mut bad = podman(&server, &home).expect("podman");
    bad.args([
        "login",
        "--tls-verify=false",
        "-u",
        "olga",
        "-p",
        "etp_wrong",
        "--authfile",
    ])
    .arg(home.join("other-auth.json"))
    .arg(server.host());
    fails(&mut bad);

    // Push what was pulled under another name, in both formats.
    for (name, format) in [("acme/copy:oci", "oci"), ("acme/copy:docker", "v2s2")] {
        let mut push = podman(&server, &home).expect("podman");
        push.args([
            "push",
            "--tls-verify=false",
            "--format",
            format,
            "--authfile",
        ])
        .arg(&authfile)
        .arg(&image)
        .arg(format!("{}/{name}", server.host()));
        ok(&mut push);
    }

    // A manifest list assembled from the registry and pushed with --all.
    let mut create = podman(&server, &home).expect("podman");
    create.args(["manifest", "create", "localhost/list:v1"]);
    ok(&mut create);
    let mut add = podman(&server, &home).expect("podman");
    add.args([
        "manifest",
        "add",
        "--all",
        "--tls-verify=false",
        "--authfile",
    ])
    .arg(&authfile)
    .arg("localhost/list:v1")
    .arg(format!("docker://{}/acme/multi:v1", server.host()));
    ok(&mut add);
    let mut push_list = podman(&server, &home).expect("podman");
    push_list
        .args([
            "manifest",
            "push",
            "--all",
            "--tls-verify=false",
            "--authfile",
        ])
        .arg(&authfile)
        .arg("localhost/list:v1")
        .arg(format!("docker://{}/acme/list:v1", server.host()));
    ok(&mut push_list);
    let raw = ok(&mut inspect(
        &server,
        Some(&olga),
        "acme/list:v1",
        &["--raw"],
    ));
    assert!(raw.contains("manifests"), "{raw}");
}

/// `curl` with the status code on the last line; returns (status, headers+body).
fn curl(args: &[&str]) -> (u16, String) {
    let output = run(Command::new("curl")
        .args(["-sS", "-i", "-w", "\n%{http_code}"])
        .args(args));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

fn location(response: &str) -> String {
    response
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        })
        .expect("a Location header")
}

#[test]
fn a_chunked_upload_continues_after_a_crash_and_an_abandoned_one_expires() {
    let mut server = Server::start_with(&[
        ("ENTREPOT_CONTAINER__UPLOAD_EXPIRY_SECS", "10"),
        ("ENTREPOT_CONTAINER__JANITOR_INTERVAL_SECS", "1"),
    ]);
    let auth = format!("Authorization: Bearer {}", server.token("olga"));
    let url = server.url();
    let blob: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&blob)));
    let dir = server.scratch("chunks");
    let (first, second) = blob.split_at(120_000);
    std::fs::write(dir.join("1"), first).unwrap();
    std::fs::write(dir.join("2"), second).unwrap();

    let (status, response) = curl(&[
        "-X",
        "POST",
        "-H",
        &auth,
        &format!("{url}/v2/acme/resumed/blobs/uploads/"),
    ]);
    assert_eq!(status, 202, "{response}");
    let session = location(&response);
    let (status, response) = curl(&[
        "-X",
        "PATCH",
        "-H",
        &auth,
        "-H",
        "Content-Type: application/octet-stream",
        "-H",
        "Content-Range: 0-119999",
        "--data-binary",
        &format!("@{}", dir.join("1").display()),
        &session,
    ]);
    assert_eq!(status, 202, "{response}");

    server.restart(true);

    // Out of order: the session is at 120000, a chunk starting elsewhere is 416.
    let (status, response) = curl(&[
        "-X",
        "PATCH",
        "-H",
        &auth,
        "-H",
        "Content-Range: 100-80099",
        "--data-binary",
        &format!("@{}", dir.join("2").display()),
        &session,
    ]);
    assert_eq!(status, 416, "{response}");
    let (status, response) = curl(&["-H", &auth, &session]);
    assert_eq!(status, 204, "{response}");
    assert!(
        response.to_ascii_lowercase().contains("range: 0-119999"),
        "{response}"
    );
    let (status, response) = curl(&[
        "-X",
        "PATCH",
        "-H",
        &auth,
        "-H",
        "Content-Range: 120000-199999",
        "--data-binary",
        &format!("@{}", dir.join("2").display()),
        &session,
    ]);
    assert_eq!(status, 202, "{response}");
    let separator = if session.contains('?') { '&' } else { '?' };
    let (status, response) = curl(&[
        "-X",
        "PUT",
        "-H",
        &auth,
        &format!("{session}{separator}digest={digest}"),
    ]);
    assert_eq!(status, 201, "{response}");
    let (status, _) = curl(&[
        "-I",
        "-H",
        &auth,
        &format!("{url}/v2/acme/resumed/blobs/{digest}"),
    ]);
    assert_eq!(status, 200);
    // PATCH after close: the session is gone.
    let (status, response) = curl(&["-X", "PATCH", "-H", &auth, "--data-binary", "x", &session]);
    assert_eq!(status, 404, "{response}");
    assert!(response.contains("BLOB_UPLOAD_UNKNOWN"), "{response}");

    // An abandoned session expires with its bytes.
    let (_, response) = curl(&[
        "-X",
        "POST",
        "-H",
        &auth,
        &format!("{url}/v2/acme/resumed/blobs/uploads/"),
    ]);
    let abandoned = location(&response);
    let (status, _) = curl(&[
        "-X",
        "PATCH",
        "-H",
        &auth,
        "--data-binary",
        "some bytes",
        &abandoned,
    ]);
    assert_eq!(status, 202);
    let uploads = server.data.path().join("blobs/uploads");
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let (status, _) = curl(&["-H", &auth, &abandoned]);
        let left = std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0);
        if status == 404 && left == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the session did not expire ({status}, {left} left)"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
