//! The distribution spec's endpoints over HTTP, in-process, on SQLite and PostgreSQL: bad input (each case: the
//! right status and code, and nothing stored), the endpoints clients use less (ranges, mounts, referrers,
//! pagination, sha512, deletes), linking at first push, and the token flow.

mod common;

use common::{app, push_blob, push_image, send, sha256};
use entrepot_container::ContainerConfig;
use entrepot_service::authz::{PackageType, Visibility};
use entrepot_service::{PackageKey, Services};
use entrepot_testkit::{World, on_both, on_both_with};
use sha2::{Digest, Sha512};

fn config() -> ContainerConfig {
    ContainerConfig {
        max_manifest_bytes: 2048,
        max_layer_bytes: Some(1_000_000),
        ..ContainerConfig::default()
    }
}

#[actix_web::test]
async fn bad_input_is_refused_with_the_right_code_and_nothing_is_stored() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let app = app(&env, config()).await;
        let olga = world.token("olga");
        let counts = || async { env.services.container_counts().await.unwrap() };
        let before = counts().await;

        // Wrong digest, monolithic.
        let wrong = sha256(b"something else");
        let a = send(&app, "POST", &format!("/v2/acme/img/blobs/uploads/?digest={wrong}"), Some(olga), &[], Some(b"hello")).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (400, "DIGEST_INVALID"), "{a:?}");
        assert_eq!(counts().await, before);

        // Wrong digest when closing a session: the session is discarded too.
        let a = send(&app, "POST", "/v2/acme/img/blobs/uploads/", Some(olga), &[], None).await;
        assert_eq!(a.status, 202, "{a:?}");
        let session = a.header("location").unwrap().replace("http://localhost:8080", "");
        let a = send(&app, "PATCH", &session, Some(olga), &[], Some(b"hello")).await;
        assert_eq!(a.status, 202, "{a:?}");
        assert_eq!(a.header("range"), Some("0-4"));
        let a = send(&app, "PUT", &format!("{session}?digest={wrong}"), Some(olga), &[], None).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (400, "DIGEST_INVALID"), "{a:?}");
        assert_eq!(counts().await, before);
        // PATCH after close (here: after the failed close discarded it).
        let a = send(&app, "PATCH", &session, Some(olga), &[], Some(b"more")).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (404, "BLOB_UPLOAD_UNKNOWN"), "{a:?}");

        // Size mismatch: a chunk whose Content-Range and Content-Length disagree.
        let a = send(&app, "POST", "/v2/acme/img/blobs/uploads/", Some(olga), &[], None).await;
        let session = a.header("location").unwrap().replace("http://localhost:8080", "");
        let a = send(&app, "PATCH", &session, Some(olga), &[("Content-Range", "0-9")], Some(b"hello")).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (400, "SIZE_INVALID"), "{a:?}");
        // Out-of-order chunk: 416 with the session's current range.
        let a = send(&app, "PATCH", &session, Some(olga), &[("Content-Range", "0-4")], Some(b"hello")).await;
        assert_eq!(a.status, 202, "{a:?}");
        let a = send(&app, "PATCH", &session, Some(olga), &[("Content-Range", "10-14")], Some(b"world")).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (416, "RANGE_INVALID"), "{a:?}");
        assert_eq!(a.header("range"), Some("0-4"));
        let a = send(&app, "DELETE", &session, Some(olga), &[], None).await;
        assert_eq!(a.status, 204, "{a:?}");
        assert_eq!(counts().await, before);

        // A layer over the size limit.
        let big = vec![7u8; 1_000_001];
        let a = send(&app, "POST", &format!("/v2/acme/img/blobs/uploads/?digest={}", sha256(&big)), Some(olga), &[], Some(&big)).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (413, "SIZE_INVALID"), "{a:?}");
        assert_eq!(counts().await, before);

        // A manifest referring to a blob that is not there.
        let missing = sha256(b"never uploaded");
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": missing, "size": 14},
            "layers": [],
        })
        .to_string();
        let oci = [("Content-Type", "application/vnd.oci.image.manifest.v1+json")];
        let a = send(&app, "PUT", "/v2/acme/img/manifests/v1", Some(olga), &oci, Some(manifest.as_bytes())).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (400, "MANIFEST_BLOB_UNKNOWN"), "{a:?}");
        assert_eq!(counts().await, before);
        let a = send(&app, "GET", "/v2/acme/img/manifests/v1", Some(olga), &[], None).await;
        assert_eq!(a.status, 404, "{a:?}");

        // A blob of another size than the manifest says.
        let config_digest = push_blob(&app, olga, "acme/img", b"{}").await;
        let after_blob = counts().await;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": 3},
            "layers": [],
        })
        .to_string();
        let a = send(&app, "PUT", "/v2/acme/img/manifests/v1", Some(olga), &oci, Some(manifest.as_bytes())).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (400, "SIZE_INVALID"), "{a:?}");
        assert_eq!(counts().await, after_blob);

        // Invalid JSON, and valid JSON of the wrong schema.
        for body in ["{not json", r#"{"schemaVersion":1,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#, r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#] {
            let a = send(&app, "PUT", "/v2/acme/img/manifests/v1", Some(olga), &oci, Some(body.as_bytes())).await;
            assert_eq!((a.status.as_u16(), a.code().as_str()), (400, "MANIFEST_INVALID"), "{body}: {a:?}");
        }
        // A manifest pushed by a digest it does not have.
        let a = send(&app, "PUT", &format!("/v2/acme/img/manifests/{}", sha256(b"x")), Some(olga), &oci, Some(manifest.as_bytes())).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (400, "DIGEST_INVALID"), "{a:?}");
        // Oversized manifest.
        let huge = format!(r#"{{"schemaVersion":2,"annotations":{{"x":"{}"}}}}"#, "a".repeat(4000));
        let a = send(&app, "PUT", "/v2/acme/img/manifests/v1", Some(olga), &oci, Some(huge.as_bytes())).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (413, "SIZE_INVALID"), "{a:?}");
        assert_eq!(counts().await, after_blob);

        // Bad names.
        for path in ["/v2/Acme/Img/manifests/v1", "/v2/acme/img--/tags/list", "/v2/acme/a..b/blobs/uploads/"] {
            let a = send(&app, "GET", path, Some(olga), &[], None).await;
            assert_eq!((a.status.as_u16(), a.code().as_str()), (400, "NAME_INVALID"), "{path}: {a:?}");
        }
        // Bad or unknown digest algorithms: 400, never 500.
        for path in ["/v2/acme/img/blobs/md5:d41d8cd98f00b204e9800998ecf8427e", "/v2/acme/img/blobs/sha256:xyz", "/v2/acme/img/manifests/sha256:short"] {
            let a = send(&app, "GET", path, Some(olga), &[], None).await;
            assert_eq!(a.status, 400, "{path}: {a:?}");
            assert!(["DIGEST_INVALID", "UNSUPPORTED"].contains(&a.code().as_str()), "{path}: {a:?}");
        }
        let a = send(&app, "POST", "/v2/acme/img/blobs/uploads/?digest=foo:bar", Some(olga), &[], Some(b"x")).await;
        assert_eq!(a.status, 400, "{a:?}");
        assert_eq!(counts().await, after_blob);
    })
    .await;
}

#[actix_web::test]
async fn blobs_manifests_tags_referrers_and_catalog() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let app = app(&env, config()).await;
        let olga = world.token("olga");
        let mia = world.token("mia");

        // Base check: challenge without credentials, 200 with.
        let a = send(&app, "GET", "/v2/", None, &[], None).await;
        assert_eq!(a.status, 401);
        let challenge = a.header("www-authenticate").unwrap();
        assert!(challenge.starts_with("Bearer realm=\"") && challenge.contains("/token\",service=\"entrepot\""), "{challenge}");
        assert_eq!(a.header("docker-distribution-api-version"), Some("registry/2.0"));
        assert_eq!(send(&app, "GET", "/v2/", Some(olga), &[], None).await.status, 200);

        // A streamed upload (one PATCH without Content-Range), a chunked one, a monolithic one.
        let a = send(&app, "POST", "/v2/acme/app/blobs/uploads/", Some(olga), &[], None).await;
        let session = a.header("location").unwrap().replace("http://localhost:8080", "");
        send(&app, "PATCH", &session, Some(olga), &[], Some(b"0123456789")).await;
        let a = send(&app, "PATCH", &session, Some(olga), &[("Content-Range", "10-14")], Some(b"abcde")).await;
        assert_eq!(a.header("range"), Some("0-14"));
        let a = send(&app, "GET", &session, Some(olga), &[], None).await;
        assert_eq!((a.status.as_u16(), a.header("range")), (204, Some("0-14")));
        let digest = sha256(b"0123456789abcdefgh");
        let a = send(&app, "PUT", &format!("{session}?digest={digest}"), Some(olga), &[("Content-Range", "15-17")], Some(b"fgh")).await;
        assert_eq!(a.status, 201, "{a:?}");
        assert_eq!(a.header("docker-content-digest"), Some(digest.as_str()));

        // HEAD and ranges.
        let blob_url = format!("/v2/acme/app/blobs/{digest}");
        let a = send(&app, "HEAD", &blob_url, Some(olga), &[], None).await;
        assert_eq!((a.status.as_u16(), a.header("content-length")), (200, Some("18")), "{a:?}");
        let a = send(&app, "GET", &blob_url, Some(olga), &[("Range", "bytes=2-5")], None).await;
        assert_eq!((a.status.as_u16(), &a.body[..]), (206, &b"2345"[..]));
        assert_eq!(a.header("content-range"), Some("bytes 2-5/18"));
        let a = send(&app, "GET", &blob_url, Some(olga), &[("Range", "bytes=100-")], None).await;
        assert_eq!(a.status, 416, "{a:?}");

        // sha512 digests.
        let data = b"sha512 content";
        let digest512 = format!("sha512:{}", hex::encode(Sha512::digest(data)));
        let a = send(&app, "POST", &format!("/v2/acme/app/blobs/uploads/?digest={digest512}"), Some(olga), &[], Some(data)).await;
        assert_eq!(a.status, 201, "{a:?}");
        let a = send(&app, "GET", &format!("/v2/acme/app/blobs/{digest512}"), Some(olga), &[], None).await;
        assert_eq!((a.status.as_u16(), &a.body[..]), (200, &data[..]));

        // Manifests, content negotiation, tags.
        let config = serde_json::json!({"architecture": "amd64", "os": "linux"});
        let (bytes, manifest_digest) = push_image(&app, olga, "acme/app", "v1", &config, serde_json::json!({})).await;
        for tag in ["v2", "a", "b"] {
            let a = send(&app, "PUT", &format!("/v2/acme/app/manifests/{tag}"), Some(olga), &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")], Some(&bytes)).await;
            assert_eq!(a.status, 201);
        }
        let a = send(&app, "GET", "/v2/acme/app/manifests/v1", Some(olga), &[("Accept", "application/vnd.docker.distribution.manifest.v2+json"), ("Accept", "application/vnd.oci.image.manifest.v1+json")], None).await;
        assert_eq!((a.status.as_u16(), &a.body[..]), (200, &bytes[..]));
        assert_eq!(a.header("content-type"), Some("application/vnd.oci.image.manifest.v1+json"));
        let a = send(&app, "GET", "/v2/acme/app/manifests/v1", Some(olga), &[("Accept", "application/vnd.docker.distribution.manifest.v2+json")], None).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (404, "MANIFEST_UNKNOWN"));
        let a = send(&app, "HEAD", &format!("/v2/acme/app/manifests/{manifest_digest}"), Some(olga), &[], None).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.header("content-length"), Some(bytes.len().to_string().as_str()));
        assert!(a.body.is_empty());
        let a = send(&app, "GET", "/v2/acme/app/tags/list?n=2", Some(olga), &[], None).await;
        assert_eq!(a.json()["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(a.header("link"), Some("</v2/acme/app/tags/list?n=2&last=b>; rel=\"next\""));
        let a = send(&app, "GET", "/v2/acme/app/tags/list?n=2&last=b", Some(olga), &[], None).await;
        assert_eq!(a.json()["tags"], serde_json::json!(["v1", "v2"]));
        assert_eq!(a.header("link"), None);

        // The version's tags are its metadata in the REST view.
        let key = PackageKey::new("acme", PackageType::Container, "app");
        env.services.flush_downloads().await.unwrap();
        let version = env.services.version(&Services::operator(), &key, &manifest_digest).await.unwrap();
        assert_eq!(version.metadata["tags"], serde_json::json!(["a", "b", "v1", "v2"]));
        // One pull: the GET that returned the manifest; neither the HEAD nor the GET refused for its Accept.
        assert_eq!(version.downloads, 1);

        // A referrer: OCI-Subject on push, listed with artifactType filtering.
        let subject = serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": bytes.len()});
        let (_, sbom) = push_image(&app, olga, "acme/app", "sbom", &serde_json::json!({"sbom": true}), serde_json::json!({"artifactType": "application/spdx+json", "subject": subject})).await;
        let (_, sig) = push_image(&app, olga, "acme/app", "sig", &serde_json::json!({"sig": true}), serde_json::json!({"artifactType": "application/vnd.dev.cosign", "subject": subject})).await;
        let a = send(&app, "GET", &format!("/v2/acme/app/referrers/{manifest_digest}"), Some(olga), &[], None).await;
        assert_eq!(a.header("content-type"), Some("application/vnd.oci.image.index.v1+json"));
        let listed: Vec<String> = a.json()["manifests"].as_array().unwrap().iter().map(|m| m["digest"].as_str().unwrap().to_owned()).collect();
        assert_eq!(listed.len(), 2);
        assert!(listed.contains(&sbom) && listed.contains(&sig));
        let a = send(&app, "GET", &format!("/v2/acme/app/referrers/{manifest_digest}?artifactType=application/spdx%2Bjson"), Some(olga), &[], None).await;
        assert_eq!(a.header("oci-filters-applied"), Some("artifactType"));
        assert_eq!(a.json()["manifests"][0]["digest"], serde_json::json!(sbom));
        assert_eq!(a.json()["manifests"].as_array().unwrap().len(), 1);

        // Cross-repository mount: 201 from a readable source; 202 (an upload) when mia cannot read it.
        let a = send(&app, "POST", &format!("/v2/acme/other/blobs/uploads/?mount={digest}&from=acme/app"), Some(olga), &[], None).await;
        assert_eq!(a.status, 201, "{a:?}");
        assert_eq!(send(&app, "HEAD", &format!("/v2/acme/other/blobs/{digest}"), Some(olga), &[], None).await.status, 200);
        let a = send(&app, "POST", &format!("/v2/acme/mine/blobs/uploads/?mount={digest}&from=acme/app"), Some(mia), &[], None).await;
        assert_eq!(a.status, 202, "{a:?}");
        assert!(a.header("location").unwrap().contains("/v2/acme/mine/blobs/uploads/"));

        // The catalog shows what the caller may read.
        let a = send(&app, "GET", "/v2/_catalog", Some(olga), &[], None).await;
        assert_eq!(a.json()["repositories"], serde_json::json!(["acme/app"]));
        let a = send(&app, "GET", "/v2/_catalog", Some(mia), &[], None).await;
        assert_eq!(a.json()["repositories"], serde_json::json!([]));
        env.services.set_package_visibility(&Services::operator(), &key, Visibility::Public).await.unwrap();
        let a = send(&app, "GET", "/v2/_catalog", None, &[], None).await;
        assert_eq!(a.json()["repositories"], serde_json::json!(["acme/app"]));

        // Deletes: a tag, then a manifest by digest with its remaining tags, then a blob link.
        assert_eq!(send(&app, "DELETE", "/v2/acme/app/manifests/a", Some(olga), &[], None).await.status, 202);
        assert_eq!(send(&app, "DELETE", &format!("/v2/acme/app/manifests/{manifest_digest}"), Some(olga), &[], None).await.status, 202);
        let a = send(&app, "GET", "/v2/acme/app/tags/list", Some(olga), &[], None).await;
        assert_eq!(a.json()["tags"], serde_json::json!(["sbom", "sig"]));
        assert_eq!(send(&app, "GET", "/v2/acme/app/manifests/v1", Some(olga), &[], None).await.status, 404);
        assert_eq!(send(&app, "DELETE", &blob_url, Some(olga), &[], None).await.status, 202);
        let a = send(&app, "GET", &blob_url, Some(olga), &[], None).await;
        assert_eq!((a.status.as_u16(), a.code().as_str()), (404, "BLOB_UNKNOWN"));
        // Still in the image it was mounted into.
        assert_eq!(send(&app, "HEAD", &format!("/v2/acme/other/blobs/{digest}"), Some(olga), &[], None).await.status, 200);
        // mia may push but not delete.
        assert_eq!(send(&app, "DELETE", "/v2/acme/app/manifests/sig", Some(mia), &[], None).await.status, 403);
    })
    .await;
}

#[actix_web::test]
async fn the_source_label_links_the_image_at_first_push() {
    on_both_with(
        |config| config.base_url = Some("http://entrepot.test".to_owned()),
        |env| async move {
            let world = World::build(&env.services).await;
            let app = app(&env, config()).await;
            let olga = world.token("olga");
            let labelled = serde_json::json!({"config": {"Labels": {"org.opencontainers.image.source": "http://entrepot.test/acme/web"}}});
            push_image(&app, olga, "acme/labelled", "v1", &labelled, serde_json::json!({})).await;
            let annotated = serde_json::json!({"annotations": {"org.opencontainers.image.source": "http://entrepot.test/acme/site"}});
            push_image(&app, olga, "acme/annotated", "v1", &serde_json::json!({}), annotated).await;
            push_image(&app, olga, "acme/plain", "v1", &serde_json::json!({}), serde_json::json!({})).await;
            let repository = |name: &'static str| {
                let services = env.services.clone();
                async move {
                    services
                        .package(&Services::operator(), &PackageKey::new("acme", PackageType::Container, name))
                        .await
                        .unwrap()
                        .repository
                }
            };
            assert_eq!(repository("labelled").await.as_deref(), Some("acme/web"));
            assert_eq!(repository("annotated").await.as_deref(), Some("acme/site"));
            assert_eq!(repository("plain").await, None);
            // max writes acme/web, so the inheriting image is his to read; mia reads it through the org's base role.
            let max = world.token("max");
            assert_eq!(send(&app, "GET", "/v2/acme/labelled/manifests/v1", Some(max), &[], None).await.status, 200);
            assert_eq!(send(&app, "GET", "/v2/acme/plain/manifests/v1", Some(max), &[], None).await.status, 404);
        },
    )
    .await;
}

/// Basic auth for the token endpoint.
fn basic(login: &str, token: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{login}:{token}"))
    )
}

#[actix_web::test]
async fn the_token_flow() {
    on_both(|env| async move {
        let world = World::build(&env.services).await;
        let app = app(&env, config()).await;
        let olga = world.token("olga");
        push_image(
            &app,
            olga,
            "acme/app",
            "v1",
            &serde_json::json!({}),
            serde_json::json!({}),
        )
        .await;
        push_image(
            &app,
            olga,
            "acme/pub",
            "v1",
            &serde_json::json!({}),
            serde_json::json!({}),
        )
        .await;
        env.services
            .set_package_visibility(
                &Services::operator(),
                &PackageKey::new("acme", PackageType::Container, "pub"),
                Visibility::Public,
            )
            .await
            .unwrap();

        // Anonymous: 401 with a challenge naming the scope; an anonymous token reads the public image only.
        let a = send(&app, "GET", "/v2/acme/app/manifests/v1", None, &[], None).await;
        assert_eq!(a.status, 401);
        assert!(
            a.header("www-authenticate")
                .unwrap()
                .contains("scope=\"repository:acme/app:pull\""),
            "{a:?}"
        );
        let a = send(
            &app,
            "GET",
            "/token?service=entrepot&scope=repository:acme/pub:pull&scope=repository:acme/app:pull",
            None,
            &[],
            None,
        )
        .await;
        assert_eq!(a.status, 200, "{a:?}");
        let answer = a.json();
        let token = answer["token"].as_str().unwrap().to_owned();
        assert_eq!(answer["access_token"], answer["token"]);
        assert_eq!(answer["expires_in"], 900);
        assert!(answer["issued_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            send(
                &app,
                "GET",
                "/v2/acme/pub/manifests/v1",
                Some(&token),
                &[],
                None
            )
            .await
            .status,
            200
        );
        let a = send(
            &app,
            "GET",
            "/v2/acme/app/manifests/v1",
            Some(&token),
            &[],
            None,
        )
        .await;
        assert_eq!(a.status, 401);
        assert!(
            a.header("www-authenticate")
                .unwrap()
                .contains("error=\"insufficient_scope\""),
            "{a:?}"
        );
        assert_eq!(
            send(&app, "GET", "/v2/", Some(&token), &[], None)
                .await
                .status,
            401
        );

        // Basic user:PAT; a pull-only request of someone who may push gets push too; `*` means every action.
        let auth = basic("olga", olga);
        let a = send(
            &app,
            "GET",
            "/token?service=entrepot&scope=repository:acme/app:pull",
            None,
            &[("Authorization", &auth)],
            None,
        )
        .await;
        let token = a.json()["token"].as_str().unwrap().to_owned();
        assert_eq!(
            send(&app, "GET", "/v2/", Some(&token), &[], None)
                .await
                .status,
            200
        );
        assert_eq!(
            send(
                &app,
                "GET",
                "/v2/acme/app/manifests/v1",
                Some(&token),
                &[],
                None
            )
            .await
            .status,
            200
        );
        assert_eq!(
            send(
                &app,
                "POST",
                "/v2/acme/app/blobs/uploads/",
                Some(&token),
                &[],
                None
            )
            .await
            .status,
            202
        );
        let a = send(
            &app,
            "DELETE",
            "/v2/acme/app/manifests/v1",
            Some(&token),
            &[],
            None,
        )
        .await;
        assert_eq!(a.status, 401, "delete was not granted: {a:?}");
        let a = send(
            &app,
            "GET",
            "/token?service=entrepot&scope=repository:acme/app:*",
            None,
            &[("Authorization", &auth)],
            None,
        )
        .await;
        let star = a.json()["token"].as_str().unwrap().to_owned();
        // A token grants nothing on a repository it does not name.
        assert_eq!(
            send(
                &app,
                "GET",
                "/v2/acme/pub/manifests/v1",
                Some(&star),
                &[],
                None
            )
            .await
            .status,
            401
        );

        // mia may read nothing of acme/app: her token grants nothing there, and the request is refused.
        let a = send(
            &app,
            "GET",
            "/token?scope=repository:acme/app:pull,push",
            None,
            &[("Authorization", &basic("mia", world.token("mia")))],
            None,
        )
        .await;
        let mia_token = a.json()["token"].as_str().unwrap().to_owned();
        assert_eq!(
            send(
                &app,
                "GET",
                "/v2/acme/app/manifests/v1",
                Some(&mia_token),
                &[],
                None
            )
            .await
            .status,
            401
        );
        // A bad PAT is refused by the token endpoint; a forged token by the registry.
        let a = send(
            &app,
            "GET",
            "/token?scope=repository:acme/app:pull",
            None,
            &[("Authorization", &basic("olga", "etp_wrong"))],
            None,
        )
        .await;
        assert_eq!(a.status, 401);
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            send(&app, "GET", "/v2/", Some(&forged), &[], None)
                .await
                .status,
            401
        );

        // Basic user:PAT directly on /v2/.
        assert_eq!(
            send(
                &app,
                "GET",
                "/v2/acme/app/manifests/v1",
                None,
                &[("Authorization", &auth)],
                None
            )
            .await
            .status,
            200
        );

        // Revoking the PAT ends its bearer tokens.
        let fresh = world
            .token_with("olga", entrepot_service::authz::Scopes::all())
            .await;
        let a = send(
            &app,
            "GET",
            "/token?scope=repository:acme/app:pull",
            None,
            &[("Authorization", &basic("olga", &fresh))],
            None,
        )
        .await;
        let bearer = a.json()["token"].as_str().unwrap().to_owned();
        assert_eq!(
            send(
                &app,
                "GET",
                "/v2/acme/app/manifests/v1",
                Some(&bearer),
                &[],
                None
            )
            .await
            .status,
            200
        );
        let olga_principal = world.principal("olga").await;
        let id = env
            .services
            .list_tokens(&olga_principal, "olga")
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.name == "narrow")
            .unwrap()
            .id;
        env.services
            .revoke_token(&olga_principal, id)
            .await
            .unwrap();
        assert_eq!(
            send(
                &app,
                "GET",
                "/v2/acme/app/manifests/v1",
                Some(&bearer),
                &[],
                None
            )
            .await
            .status,
            401
        );
    })
    .await;
}
