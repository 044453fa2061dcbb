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
