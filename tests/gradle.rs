//! End-to-end: Debian's Gradle 4.4 against the Maven registry: `maven-publish` of a release and of a SNAPSHOT (by a
//! write collaborator, with preemptive Basic auth), then a build that resolves `com.example:glib:1.+` through
//! `maven-metadata.xml` (as a read-only user, through the 401 challenge Gradle needs before sending credentials) and
//! compiles against it. The version Gradle picked must be the one the server's metadata makes the highest match.
//!
//! Gradle 4.4 publishes no Gradle module metadata (`.module`, 4.6+); its validation and indexing are covered by the
//! registry's HTTP tests.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use entrepot_gradle::dynamic::{Selector, select};
use entrepot_maven::metadata::versions_of;
use support::{Server, client, isolated, ok};

fn gradle(bin: &Path, home: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut command = isolated(bin, home);
    command
        .current_dir(dir)
        .env("GRADLE_USER_HOME", home.join("gradle-home"))
        .args(["--no-daemon", "-q", "--console=plain"])
        .args(args);
    command
}

/// The library `com.example:glib`, publishing version `-Pv=…` to `repository`.
fn library(dir: &Path, repository: &str, user: &str, token: &str) -> PathBuf {
    let sources = dir.join("src/main/java/com/example");
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::write(dir.join("settings.gradle"), "rootProject.name = 'glib'\n").unwrap();
    std::fs::write(
        dir.join("build.gradle"),
        format!(
            r#"apply plugin: 'java'
apply plugin: 'maven-publish'
group = 'com.example'
version = project.property('v')
sourceCompatibility = '1.8'
targetCompatibility = '1.8'
publishing {{
    publications {{ mavenJava(MavenPublication) {{ from components.java }} }}
    repositories {{
        maven {{
            url = '{repository}'
            credentials {{ username = '{user}'; password = '{token}' }}
        }}
    }}
}}
"#
        ),
    )
    .unwrap();
    std::fs::write(
        sources.join("Glib.java"),
        "package com.example; public class Glib { public static int one() { return 1; } }",
    )
    .unwrap();
    dir.to_path_buf()
}

/// A build depending on `com.example:glib:1.+`, printing what it resolved.
fn consumer(dir: &Path, repository: &str, user: &str, token: &str) -> PathBuf {
    let sources = dir.join("src/main/java/com/example");
    std::fs::create_dir_all(&sources).unwrap();
    std::fs::write(dir.join("settings.gradle"), "rootProject.name = 'gapp'\n").unwrap();
    std::fs::write(
        dir.join("build.gradle"),
        format!(
            r#"apply plugin: 'java'
sourceCompatibility = '1.8'
targetCompatibility = '1.8'
repositories {{
    maven {{
        url '{repository}'
        credentials {{ username '{user}'; password '{token}' }}
    }}
}}
dependencies {{ compile 'com.example:glib:1.+' }}
task resolved {{
    doLast {{
        configurations.compile.resolvedConfiguration.resolvedArtifacts.each {{
            println "RESOLVED ${{it.moduleVersion.id}} ${{it.file.name}}"
        }}
    }}
}}
"#
        ),
    )
    .unwrap();
    std::fs::write(
        sources.join("App.java"),
        "package com.example; public class App { public static int two() { return Glib.one() + 1; } }",
    )
    .unwrap();
    dir.to_path_buf()
}

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

#[test]
fn gradle_publishes_and_resolves_a_dynamic_version() {
    let Some(bin) = client("gradle") else { return };
    let server = Server::start();
    let repository = format!("{}/maven/acme/web", server.url());
    let home = server.scratch("gradle");
    let max_token = server.token("max");

    let glib = library(&home.join("glib"), &repository, "max", &max_token);
    ok(&mut gradle(&bin, &home, &glib, &["publish", "-Pv=1.0.0"]));
    ok(&mut gradle(
        &bin,
        &home,
        &glib,
        &["publish", "-Pv=1.2.0-SNAPSHOT"],
    ));

    let base = format!("{repository}/com/example/glib");
    let (status, metadata) = get(&format!("{base}/maven-metadata.xml"), "max", &max_token);
    assert_eq!(status, 200, "{metadata}");
    let versions = versions_of(metadata.as_bytes()).unwrap();
    assert_eq!(versions, ["1.0.0", "1.2.0-SNAPSHOT"]);
    let (status, snapshot) = get(
        &format!("{base}/1.2.0-SNAPSHOT/maven-metadata.xml"),
        "max",
        &max_token,
    );
    assert_eq!(status, 200, "{snapshot}");
    assert!(
        snapshot.contains("<buildNumber>1</buildNumber>"),
        "{snapshot}"
    );
    let (status, _) = get(
        &format!("{base}/1.0.0/glib-1.0.0.jar.sha1"),
        "max",
        &max_token,
    );
    assert_eq!(status, 200);

    let mia_token = server.token("mia");
    let app = consumer(&home.join("gapp"), &repository, "mia", &mia_token);
    let output = ok(&mut gradle(&bin, &home, &app, &["build", "resolved"]));
    let resolved = output
        .lines()
        .find_map(|line| line.strip_prefix("RESOLVED com.example:glib:"))
        .unwrap_or_else(|| panic!("no resolved glib in {output}"));
    let (version, file) = resolved.split_once(' ').unwrap();
    let expected = select(&versions, &Selector::parse("1.+").unwrap()).unwrap();
    assert_eq!(version, expected, "{output}");
    assert!(file.starts_with("glib-1."), "{file}");
    assert!(app.join("build/libs/gapp.jar").is_file());
}
