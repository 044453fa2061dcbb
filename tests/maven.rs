//! End-to-end: the real Maven 3.8 client against the Maven registry, offline from Central (its plugins come from
//! Debian's `/usr/share/maven-repo`, see the installer).
//!
//! One server, one sequence, because every Maven run costs seconds: a release deploy, two SNAPSHOT builds,
//! `deploy:deploy-file`, a second project that resolves the release, the newest SNAPSHOT and the deploy-file jar and
//! compiles against them (as a read-only user, through the 401 challenge Maven needs before it sends credentials),
//! then the refusals: a read-only user's deploy (403), an outsider's resolve on a private repository (404) and a
//! release redeployed with other bytes (409).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use entrepot_maven::metadata::versions_of;
use support::{Server, client, fails, isolated, ok};

/// A user's Maven settings: an isolated local repository, Central mirrored to Debian's jars, and the registry as
/// server `entrepot` with the user's token as password.
fn settings(dir: &Path, user: &str, token: &str, repository: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("settings.xml");
    let local = dir.join("m2");
    std::fs::write(
        &path,
        format!(
            r#"<settings>
  <localRepository>{local}</localRepository>
  <mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors>
  <servers><server><id>entrepot</id><username>{user}</username><password>{token}</password></server></servers>
  <profiles><profile><id>entrepot</id><repositories>
    <repository><id>entrepot</id><url>{repository}</url>
      <releases><enabled>true</enabled></releases>
      <snapshots><enabled>true</enabled><updatePolicy>always</updatePolicy></snapshots></repository>
  </repositories></profile></profiles>
  <activeProfiles><activeProfile>entrepot</activeProfile></activeProfiles>
</settings>
"#,
            local = local.display()
        ),
    )
    .unwrap();
    path
}

/// A one-class jar project `com.example:<artifact>:<version>` deploying to `repository`.
fn project(
    dir: &Path,
    artifact: &str,
    version: &str,
    class: &str,
    source: &str,
    dependencies: &[(&str, &str)],
    repository: &str,
) -> PathBuf {
    let sources = dir.join("src/main/java/com/example");
    std::fs::create_dir_all(&sources).unwrap();
    let dependencies: String = dependencies
        .iter()
        .map(|(artifact, version)| {
            format!(
                "<dependency><groupId>com.example</groupId><artifactId>{artifact}</artifactId><version>{version}</version></dependency>"
            )
        })
        .collect();
    std::fs::write(
        dir.join("pom.xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>{artifact}</artifactId>
  <version>{version}</version>
  <packaging>jar</packaging>
  <properties>
    <maven.compiler.source>17</maven.compiler.source>
    <maven.compiler.target>17</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>{dependencies}</dependencies>
  <distributionManagement>
    <repository><id>entrepot</id><url>{repository}</url></repository>
    <snapshotRepository><id>entrepot</id><url>{repository}</url></snapshotRepository>
  </distributionManagement>
</project>
"#
        ),
    )
    .unwrap();
    std::fs::write(sources.join(format!("{class}.java")), source).unwrap();
    dir.to_path_buf()
}

fn mvn(bin: &Path, home: &Path, settings: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut command = isolated(bin, home);
    command
        .current_dir(dir)
        .args(["-B", "-q", "-s"])
        .arg(settings)
        .args(args);
    command
}

/// GET with Basic credentials; the body as text (empty on errors) and the status.
fn get(url: &str, user: &str, token: &str) -> (u16, String) {
    let output = Command::new("curl")
        .args([
            "-s",
            "-u",
            &format!("{user}:{token}"),
            "-w",
            "\n%{http_code}",
            url,
        ])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (status.trim().parse().unwrap_or(0), body.to_owned())
}

fn sha1_hex(path: &Path) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(std::fs::read(path).unwrap()))
}

#[test]
fn maven_deploys_releases_and_snapshots_and_resolves_them() {
    let Some(bin) = client("mvn") else { return };
    let server = Server::start();
    let repository = format!("{}/maven/acme/web", server.url());
    let home = server.scratch("maven");
    let max_token = server.token("max");
    let max = settings(&home.join("max"), "max", &max_token, &repository);

    // A release, deployed by a write collaborator of acme/web.
    let hello = project(
        &home.join("hello"),
        "hello",
        "1.0.0",
        "Hello",
        "package com.example; public class Hello { public static String greet() { return \"hello\"; } }",
        &[],
        &repository,
    );
    ok(&mut mvn(&bin, &home, &max, &hello, &["deploy"]));

    // Two SNAPSHOT builds; the second adds a method, so compiling against it proves the newest was resolved.
    let util_source = |extra: &str| {
        format!(
            "package com.example; public class Util {{ public static int first() {{ return 1; }} {extra} }}"
        )
    };
    let util = project(
        &home.join("util"),
        "util",
        "1.1.0-SNAPSHOT",
        "Util",
        &util_source(""),
        &[],
        &repository,
    );
    ok(&mut mvn(&bin, &home, &max, &util, &["deploy"]));
    std::fs::write(
        util.join("src/main/java/com/example/Util.java"),
        util_source("public static int latest() { return 2; }"),
    )
    .unwrap();
    ok(&mut mvn(&bin, &home, &max, &util, &["deploy"]));

    // deploy-file: a plain jar (no POM inside, which deploy-file would use), with a generated POM.
    let jar = hello.join("target/hello-1.0.0.jar");
    let plain = home.join("hello-file.jar");
    ok(Command::new("jar")
        .arg("cf")
        .arg(&plain)
        .arg("-C")
        .arg(hello.join("target/classes"))
        .arg("."));
    ok(&mut mvn(
        &bin,
        &home,
        &max,
        &home,
        &[
            "deploy:deploy-file",
            &format!("-Dfile={}", plain.display()),
            "-DgroupId=com.example",
            "-DartifactId=hello-file",
            "-Dversion=2.0.0",
            "-Dpackaging=jar",
            "-DrepositoryId=entrepot",
            &format!("-Durl={repository}"),
        ],
    ));

    // What the server holds, as any client would read it.
    let base = format!("{repository}/com/example");
    let (status, body) = get(
        &format!("{base}/hello/maven-metadata.xml"),
        "max",
        &max_token,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(versions_of(body.as_bytes()).unwrap(), ["1.0.0"]);
    assert!(body.contains("<release>1.0.0</release>"), "{body}");
    let (status, body) = get(
        &format!("{base}/util/1.1.0-SNAPSHOT/maven-metadata.xml"),
        "max",
        &max_token,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<buildNumber>2</buildNumber>"), "{body}");
    let (_, sha1) = get(
        &format!("{base}/hello/1.0.0/hello-1.0.0.jar.sha1"),
        "max",
        &max_token,
    );
    assert_eq!(sha1, sha1_hex(&jar));
    let (status, sha256) = get(
        &format!("{base}/hello-file/2.0.0/hello-file-2.0.0.jar.sha256"),
        "max",
        &max_token,
    );
    assert_eq!((status, sha256.len()), (200, 64));
    // The owner-wide view finds the same file.
    let (status, _) = get(
        &format!(
            "{}/maven/acme/*/com/example/hello/1.0.0/hello-1.0.0.pom",
            server.url()
        ),
        "max",
        &max_token,
    );
    assert_eq!(status, 200);

    // A second project resolves all three as mia, who may only read acme/web, into an empty local repository.
    let mia_token = server.token("mia");
    let mia = settings(&home.join("mia"), "mia", &mia_token, &repository);
    let app = project(
        &home.join("app"),
        "app",
        "1.0.0",
        "App",
        "package com.example; public class App { public static void main(String[] a) { \
         System.out.println(Hello.greet() + Util.latest() + Util.first()); } }",
        &[
            ("hello", "1.0.0"),
            ("util", "1.1.0-SNAPSHOT"),
            ("hello-file", "2.0.0"),
        ],
        &repository,
    );
    ok(&mut mvn(&bin, &home, &mia, &app, &["compile"]));
    assert!(app.join("target/classes/com/example/App.class").is_file());

    // mia cannot deploy: 403.
    let readonly = project(
        &home.join("readonly"),
        "hello",
        "1.0.1",
        "Hello",
        "package com.example; public class Hello {}",
        &[],
        &repository,
    );
    let output = fails(&mut mvn(&bin, &home, &mia, &readonly, &["deploy"]));
    assert!(output.contains("403"), "{output}");

    // An outsider does not even learn the package exists: 404.
    let outsider = settings(
        &home.join("outsider"),
        "outsider",
        &server.token("outsider"),
        &repository,
    );
    let output = fails(&mut mvn(
        &bin,
        &home,
        &outsider,
        &home,
        &[
            "dependency:get",
            "-Dartifact=com.example:hello:1.0.0",
            "-Dtransitive=false",
        ],
    ));
    assert!(
        output.contains("404") || output.contains("Could not find artifact"),
        "{output}"
    );

    // The release again with other bytes: 409, and the stored jar is unchanged.
    std::fs::write(
        hello.join("src/main/java/com/example/Hello.java"),
        "package com.example; public class Hello { public static String greet() { return \"changed\"; } }",
    )
    .unwrap();
    // (Debian has no clean plugin installed: remove the build output by hand.)
    std::fs::remove_dir_all(hello.join("target")).unwrap();
    let output = fails(&mut mvn(&bin, &home, &max, &hello, &["deploy"]));
    assert!(output.contains("409"), "{output}");
    let (_, sha1_after) = get(
        &format!("{base}/hello/1.0.0/hello-1.0.0.jar.sha1"),
        "max",
        &max_token,
    );
    assert_eq!(sha1_after, sha1);
}
