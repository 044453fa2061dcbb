//! The registry over HTTP, in-process, on both databases: what Maven and Gradle see, and the bad input they must
//! not get through.

use actix_web::http::Method;
use actix_web::{App, test, web};
use entrepot_maven::metadata::versions_of;
use entrepot_maven_registry::MavenConfig;
use entrepot_service::Services;
use entrepot_testkit::{TestEnv, World, on_both, on_both_with};

/// A request's answer: status, selected headers and body.
struct Answer {
    status: u16,
    body: String,
    headers: actix_web::http::header::HeaderMap,
}

struct Client {
    services: Services,
    config: MavenConfig,
    world: World,
}

impl Client {
    async fn new(env: &TestEnv) -> Self {
        Self::with_config(env, MavenConfig::default()).await
    }

    async fn with_config(env: &TestEnv, config: MavenConfig) -> Self {
        let world = World::build(&env.services).await;
        Self {
            services: env.services.clone(),
            config,
            world,
        }
    }

    async fn send(&self, method: Method, path: &str, user: Option<&str>, body: &[u8]) -> Answer {
        let config = self.config.clone();
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(self.services.clone()))
                .configure(|cfg| entrepot_maven_registry::configure(cfg, config)),
        )
        .await;
        let mut request = test::TestRequest::default()
            .method(method)
            .uri(&format!("/maven/{path}"));
        if let Some(user) = user {
            let token = self.world.token(user);
            request = request.insert_header((
                "Authorization",
                format!("Basic {}", base64_encode(&format!("{user}:{token}"))),
            ));
        }
        if !body.is_empty() {
            request = request.set_payload(body.to_vec());
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = String::from_utf8_lossy(&test::read_body(response).await).into_owned();
        Answer {
            status,
            body,
            headers,
        }
    }

    async fn put(&self, path: &str, user: &str, body: &[u8]) -> Answer {
        self.send(Method::PUT, path, Some(user), body).await
    }

    async fn get(&self, path: &str, user: Option<&str>) -> Answer {
        self.send(Method::GET, path, user, b"").await
    }
}

fn base64_encode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sha1(bytes: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(bytes))
}

fn pom(artifact: &str, version: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<project xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd" xmlns="http://maven.apache.org/POM/4.0.0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>{artifact}</artifactId>
  <version>{version}</version>
</project>
"#
    )
}

const WEB: &str = "acme/web/com/example";

#[actix_web::test]
async fn jar_then_generated_pom_then_checksums() {
    on_both(|env| async move {
        let c = Client::new(&env).await;
        let jar = b"PK\x03\x04 a jar".as_slice();
        let answer = c
            .put(
                &format!("{WEB}/hello-file/2.0.0/hello-file-2.0.0.jar"),
                "max",
                jar,
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let pom = pom("hello-file", "2.0.0");
        let answer = c
            .put(
                &format!("{WEB}/hello-file/2.0.0/hello-file-2.0.0.pom"),
                "max",
                pom.as_bytes(),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let answer = c
            .put(
                &format!("{WEB}/hello-file/2.0.0/hello-file-2.0.0.pom.sha1"),
                "max",
                sha1(pom.as_bytes()).as_bytes(),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        // Every checksum is served, uploaded or not.
        for ext in ["md5", "sha1", "sha256", "sha512"] {
            let answer = c
                .get(
                    &format!("{WEB}/hello-file/2.0.0/hello-file-2.0.0.jar.{ext}"),
                    Some("mia"),
                )
                .await;
            assert_eq!(answer.status, 200, "{ext}: {}", answer.body);
        }
        let answer = c
            .get(
                &format!("{WEB}/hello-file/2.0.0/hello-file-2.0.0.jar.sha1"),
                Some("mia"),
            )
            .await;
        assert_eq!(answer.body, sha1(jar));
        let answer = c
            .get(
                &format!("{WEB}/hello-file/2.0.0/hello-file-2.0.0.jar"),
                Some("mia"),
            )
            .await;
        assert_eq!(answer.body.as_bytes(), jar);
        let metadata = c
            .get(&format!("{WEB}/hello-file/maven-metadata.xml"), Some("mia"))
            .await;
        assert_eq!(metadata.status, 200);
        assert_eq!(versions_of(metadata.body.as_bytes()).unwrap(), ["2.0.0"]);
        let sha1_of_metadata = c
            .get(
                &format!("{WEB}/hello-file/maven-metadata.xml.sha1"),
                Some("mia"),
            )
            .await;
        assert_eq!(sha1_of_metadata.body, sha1(metadata.body.as_bytes()));
    })
    .await;
}

#[actix_web::test]
async fn bad_paths_are_refused_before_anything_is_stored() {
    on_both(|env| async move {
        let c = Client::new(&env).await;
        for path in [
            "acme/web/com/../../etc/passwd/1/passwd-1.jar",
            "acme/web/com/%2e%2e/hello/1.0/hello-1.0.jar",
            "acme/web/com%2Fexample/hello/1.0/hello-1.0.jar",
            "acme/web//etc/hello/1.0/hello-1.0.jar",
            "acme/web/com/example/hello/1.0/..",
        ] {
            let answer = c.put(path, "max", b"bytes").await;
            assert_eq!(answer.status, 400, "{path}: {}", answer.body);
            let answer = c.get(path, Some("max")).await;
            assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        }
        // A version directory that the file name contradicts.
        let answer = c
            .put(&format!("{WEB}/hello/1.0.0/hello-1.0.1.jar"), "max", b"x")
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert!(answer.body.contains("does not match"), "{}", answer.body);
        let answer = c
            .put(
                &format!("{WEB}/hello/1.0.0/hello-1.0.0-20261121.050659-1.jar"),
                "max",
                b"x",
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        // Nothing was created by any of it.
        let answer = c
            .get(&format!("{WEB}/hello/maven-metadata.xml"), Some("max"))
            .await;
        assert_eq!(answer.status, 404);
    })
    .await;
}

#[actix_web::test]
async fn bad_files_and_checksums_are_refused() {
    on_both(|env| async move {
        let c = Client::new(&env).await;
        // A checksum for a file that is not there.
        let answer = c
            .put(
                &format!("{WEB}/hello/1.0.0/hello-1.0.0.jar.sha1"),
                "max",
                sha1(b"x").as_bytes(),
            )
            .await;
        assert_eq!(answer.status, 404, "{}", answer.body);
        // A POM whose coordinates contradict its path.
        let answer = c
            .put(
                &format!("{WEB}/hello/1.0.0/hello-1.0.0.pom"),
                "max",
                pom("other", "1.0.0").as_bytes(),
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert!(answer.body.contains("artifactId"), "{}", answer.body);
        let answer = c
            .put(
                &format!("{WEB}/hello/1.0.0/hello-1.0.0.pom"),
                "max",
                pom("hello", "2.0.0").as_bytes(),
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        let answer = c
            .put(
                &format!("{WEB}/hello/1.0.0/hello-1.0.0.pom"),
                "max",
                b"<project><groupId>",
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        // Malformed metadata XML, and metadata about another artifact.
        let answer = c
            .put(
                &format!("{WEB}/hello/maven-metadata.xml"),
                "max",
                b"<metadata><versioning>",
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        let answer = c
            .put(
                &format!("{WEB}/hello/maven-metadata.xml"),
                "max",
                b"<metadata><artifactId>other</artifactId></metadata>",
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        let answer = c
            .put(
                &format!("{WEB}/hello/maven-metadata.xml.sha1"),
                "max",
                b"not a checksum",
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        // An uploaded checksum that contradicts the file: refused, and the file is gone so it can be redeployed.
        let jar_path = format!("{WEB}/hello/1.0.0/hello-1.0.0.jar");
        assert_eq!(c.put(&jar_path, "max", b"damaged").await.status, 201);
        let answer = c
            .put(
                &format!("{jar_path}.sha1"),
                "max",
                sha1(b"original").as_bytes(),
            )
            .await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert_eq!(c.get(&jar_path, Some("max")).await.status, 404);
        assert_eq!(c.put(&jar_path, "max", b"original").await.status, 201);
        let answer = c
            .put(
                &format!("{jar_path}.sha1"),
                "max",
                sha1(b"original").as_bytes(),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        // Release files are immutable: the same bytes again succeed, other bytes are a conflict.
        assert_eq!(c.put(&jar_path, "max", b"original").await.status, 201);
        let answer = c.put(&jar_path, "max", b"other bytes").await;
        assert_eq!(answer.status, 409, "{}", answer.body);
        // SNAPSHOT files are not.
        let snapshot = format!("{WEB}/hello/1.1.0-SNAPSHOT/hello-1.1.0-SNAPSHOT.jar");
        assert_eq!(c.put(&snapshot, "max", b"one").await.status, 201);
        assert_eq!(c.put(&snapshot, "max", b"two").await.status, 201);
        assert_eq!(c.get(&snapshot, Some("max")).await.body, "two");
    })
    .await;
}

#[actix_web::test]
async fn oversized_files_and_artifact_ids() {
    on_both(|env| async move {
        let mut c = Client::with_config(
            &env,
            MavenConfig {
                max_file_size: 16,
                ..MavenConfig::default()
            },
        )
        .await;
        let answer = c
            .put(
                &format!("{WEB}/hello/1.0.0/hello-1.0.0.jar"),
                "max",
                &[7u8; 17],
            )
            .await;
        assert_eq!(answer.status, 413, "{}", answer.body);
        let answer = c
            .put(
                &format!("{WEB}/hello/1.0.0/hello-1.0.0.pom"),
                "max",
                pom("hello", "1.0.0").as_bytes(),
            )
            .await;
        assert_eq!(answer.status, 413, "{}", answer.body);
        assert_eq!(
            c.get(&format!("{WEB}/hello/maven-metadata.xml"), Some("max"))
                .await
                .status,
            404
        );
        // GitHub's artifact id rule, with a message that says what to do.
        let answer = c
            .put(
                &format!("{WEB}/Hello_World/1.0/Hello_World-1.0.jar"),
                "max",
                b"x",
            )
            .await;
        assert_eq!(answer.status, 422, "{}", answer.body);
        assert!(answer.body.contains("hello-world"), "{}", answer.body);
        c.config = MavenConfig {
            lowercase_artifact_ids: false,
            ..MavenConfig::default()
        };
        let answer = c
            .send(
                Method::PUT,
                &format!("{WEB}/Hello_World/1.0/Hello_World-1.0.jar"),
                Some("max"),
                b"x",
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    })
    .await;
}

#[actix_web::test]
async fn metadata_is_the_servers_own() {
    on_both(|env| async move {
        let c = Client::new(&env).await;
        for version in ["1.10.0", "1.2.0", "1.9.0"] {
            let path = format!("{WEB}/lib/{version}/lib-{version}.jar");
            assert_eq!(c.put(&path, "max", version.as_bytes()).await.status, 201);
        }
        // Two timestamped SNAPSHOT builds, with a classifier in the first only.
        let snap = format!("{WEB}/lib/2.0.0-SNAPSHOT");
        for (name, body) in [
            ("lib-2.0.0-20261121.050659-1.jar", "one"),
            ("lib-2.0.0-20261121.050659-1-sources.jar", "src"),
            ("lib-2.0.0-20261121.050705-2.jar", "two"),
        ] {
            assert_eq!(
                c.put(&format!("{snap}/{name}"), "max", body.as_bytes())
                    .await
                    .status,
                201
            );
        }
        // What a client uploads as metadata is accepted, and changes nothing.
        let bogus = b"<metadata><groupId>com.example</groupId><artifactId>lib</artifactId>\
            <versioning><versions><version>9.9.9</version></versions></versioning></metadata>";
        assert_eq!(
            c.put(&format!("{WEB}/lib/maven-metadata.xml"), "max", bogus)
                .await
                .status,
            201
        );
        let metadata = c
            .get(&format!("{WEB}/lib/maven-metadata.xml"), Some("mia"))
            .await;
        assert_eq!(metadata.status, 200);
        assert_eq!(
            metadata
                .headers
                .get("content-type")
                .unwrap()
                .to_str()
                .unwrap(),
            "text/xml; charset=utf-8"
        );
        assert_eq!(
            versions_of(metadata.body.as_bytes()).unwrap(),
            ["1.2.0", "1.9.0", "1.10.0", "2.0.0-SNAPSHOT"]
        );
        assert!(
            metadata.body.contains("<release>1.10.0</release>"),
            "{}",
            metadata.body
        );
        assert!(
            metadata.body.contains("<latest>2.0.0-SNAPSHOT</latest>"),
            "{}",
            metadata.body
        );
        let version = c
            .get(&format!("{snap}/maven-metadata.xml"), Some("mia"))
            .await;
        assert_eq!(version.status, 200);
        for expected in [
            "<buildNumber>2</buildNumber>",
            "<timestamp>20261121.050705</timestamp>",
            "<value>2.0.0-20261121.050705-2</value>",
            "<classifier>sources</classifier>",
            "<value>2.0.0-20261121.050659-1</value>",
        ] {
            assert!(
                version.body.contains(expected),
                "{expected} in {}",
                version.body
            );
        }
        // A deleted version leaves the metadata; a restored one comes back.
        let olga = c.world.principal("olga").await;
        let key = entrepot_service::PackageKey::new(
            "acme",
            entrepot_service::authz::PackageType::Maven,
            "com.example:lib",
        )
        .in_repository("web");
        c.services
            .delete_version(&olga, &key, "1.10.0")
            .await
            .unwrap();
        let metadata = c
            .get(&format!("{WEB}/lib/maven-metadata.xml"), Some("mia"))
            .await;
        assert_eq!(
            versions_of(metadata.body.as_bytes()).unwrap(),
            ["1.2.0", "1.9.0", "2.0.0-SNAPSHOT"]
        );
        assert!(
            metadata.body.contains("<release>1.9.0</release>"),
            "{}",
            metadata.body
        );
        assert_eq!(
            c.get(&format!("{WEB}/lib/1.10.0/lib-1.10.0.jar"), Some("mia"))
                .await
                .status,
            404
        );
        c.services
            .restore_version(&olga, &key, "1.10.0")
            .await
            .unwrap();
        let metadata = c
            .get(&format!("{WEB}/lib/maven-metadata.xml"), Some("mia"))
            .await;
        assert!(
            metadata.body.contains("<release>1.10.0</release>"),
            "{}",
            metadata.body
        );
    })
    .await;
}

#[actix_web::test]
async fn gradle_module_metadata_is_validated_stored_and_recorded() {
    on_both(|env| async move {
        let c = Client::new(&env).await;
        let module = r#"{
  "formatVersion": "1.1",
  "component": { "group": "com.example", "module": "glib", "version": "1.0.0" },
  "variants": [
    { "name": "apiElements", "attributes": { "org.gradle.usage": "java-api" },
      "dependencies": [ { "group": "com.example", "module": "hello", "version": { "requires": "1.0.0" } } ],
      "files": [ { "name": "glib-1.0.0.jar", "url": "glib-1.0.0.jar" } ] },
    { "name": "runtimeElements", "attributes": { "org.gradle.usage": "java-runtime" },
      "files": [ { "name": "glib-1.0.0.jar", "url": "glib-1.0.0.jar" } ] }
  ]
}"#;
        let path = format!("{WEB}/glib/1.0.0/glib-1.0.0.module");
        let answer = c.put(&path, "max", b"{ not json").await;
        assert_eq!(answer.status, 400, "{}", answer.body);
        let wrong = module.replace("\"glib\"", "\"other\"");
        assert_eq!(c.put(&path, "max", wrong.as_bytes()).await.status, 400);
        let answer = c.put(&path, "max", module.as_bytes()).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let served = c.get(&path, Some("mia")).await;
        assert_eq!(served.body, module);
        assert_eq!(
            served.headers.get("content-type").unwrap().to_str().unwrap(),
            "application/json"
        );
        assert_eq!(c.get(&format!("{path}.sha1"), Some("mia")).await.body, sha1(module.as_bytes()));
        let mia = c.world.principal("mia").await;
        let key = entrepot_service::PackageKey::new(
            "acme",
            entrepot_service::authz::PackageType::Maven,
            "com.example:glib",
        )
        .in_repository("web");
        let version = c.services.version(&mia, &key, "1.0.0").await.unwrap();
        let gradle = &version.metadata["gradle"];
        assert_eq!(gradle["variants"][0]["name"], "apiElements");
        assert_eq!(gradle["variants"][1]["name"], "runtimeElements");
        assert_eq!(gradle["dependencies"], serde_json::json!(["com.example:hello"]));
    })
    .await;
}

#[actix_web::test]
async fn reads_heads_challenges_and_the_owner_wide_view() {
    on_both(|env| async move {
        let c = Client::new(&env).await;
        let site = "acme/site/com/example/pub/1.0/pub-1.0.jar";
        assert_eq!(c.put(site, "olga", b"public bytes").await.status, 201);
        // Anonymous reads are off for Maven by default: a challenge, so that clients retry with credentials.
        let answer = c.get(site, None).await;
        assert_eq!(answer.status, 401);
        assert!(
            answer
                .headers
                .get("www-authenticate")
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("Basic realm=")
        );
        // Any authenticated user reads a public repository's packages, through the owner-wide view too.
        assert_eq!(c.get(site, Some("outsider")).await.body, "public bytes");
        let wide = "acme/*/com/example/pub/1.0/pub-1.0.jar";
        assert_eq!(c.get(wide, Some("outsider")).await.body, "public bytes");
        // HEAD: the size and no body.
        let head = c.send(Method::HEAD, site, Some("outsider"), b"").await;
        assert_eq!(head.status, 200);
        assert_eq!(
            head.headers
                .get("content-length")
                .unwrap()
                .to_str()
                .unwrap(),
            "12"
        );
        assert!(head.body.is_empty());
        // A private repository's package through the wide view: only for those who may read it.
        assert_eq!(
            c.put(&format!("{WEB}/priv/1.0/priv-1.0.jar"), "max", b"p")
                .await
                .status,
            201
        );
        let wide_private = "acme/*/com/example/priv/1.0/priv-1.0.jar";
        assert_eq!(c.get(wide_private, Some("mia")).await.status, 200);
        assert_eq!(c.get(wide_private, Some("outsider")).await.status, 404);
        assert_eq!(c.get(wide_private, None).await.status, 401);
    })
    .await;
}

#[actix_web::test]
async fn anonymous_reads_when_enabled_for_maven() {
    on_both_with(
        |config| {
            config
                .policy
                .set_anonymous_read(entrepot_service::authz::PackageType::Maven, true)
        },
        |env| async move {
            let c = Client::new(&env).await;
            assert_eq!(
                c.put("acme/site/com/example/pub/1.0/pub-1.0.jar", "olga", b"x")
                    .await
                    .status,
                201
            );
            assert_eq!(
                c.put(&format!("{WEB}/priv/1.0/priv-1.0.jar"), "max", b"p")
                    .await
                    .status,
                201
            );
            assert_eq!(
                c.get("acme/site/com/example/pub/1.0/pub-1.0.jar", None)
                    .await
                    .status,
                200
            );
            assert_eq!(
                c.get("acme/site/com/example/pub/maven-metadata.xml", None)
                    .await
                    .status,
                200
            );
            // Private still asks for credentials, and so does deploying.
            assert_eq!(
                c.get(&format!("{WEB}/priv/1.0/priv-1.0.jar"), None)
                    .await
                    .status,
                401
            );
            let answer = c
                .send(
                    Method::PUT,
                    "acme/site/com/example/pub/1.1/pub-1.1.jar",
                    None,
                    b"x",
                )
                .await;
            assert_eq!(answer.status, 401);
        },
    )
    .await;
}
