//! Shared by the container front-end's HTTP tests: the app over a test environment, requests, and pushes.

#![allow(dead_code)] // each test file uses a different part

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use actix_web::{App, web};
use bytes::Bytes;
use entrepot_container::{ContainerConfig, ContainerState};
use entrepot_testkit::TestEnv;
use sha2::{Digest, Sha256};

pub async fn app(
    env: &TestEnv,
    config: ContainerConfig,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(
        App::new()
            .app_data(web::Data::new(env.services.clone()))
            .configure(entrepot_container::configure(ContainerState::new(config))),
    )
    .await
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The first OCI error code of the body.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?} {}",
            self.status,
            self.headers,
            String::from_utf8_lossy(&self.body)
        )
    }
}

pub async fn send<S, B>(
    app: &S,
    method: &str,
    uri: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut request = TestRequest::default()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(uri);
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    for (name, value) in headers {
        request = request.append_header((*name, *value));
    }
    if let Some(body) = body {
        request = request
            .insert_header(("Content-Length", body.len().to_string()))
            .set_payload(body.to_vec());
    }
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    Answer {
        status,
        headers,
        body,
    }
}

pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Pushes a blob monolithically; panics unless it is created.
pub async fn push_blob<S, B>(app: &S, token: &str, name: &str, data: &[u8]) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let digest = sha256(data);
    let answer = send(
        app,
        "POST",
        &format!("/v2/{name}/blobs/uploads/?digest={digest}"),
        Some(token),
        &[],
        Some(data),
    )
    .await;
    assert_eq!(answer.status, 201, "{answer:?}");
    digest
}

/// An image manifest over a config and one layer, pushed as blobs first. Returns (manifest bytes, digest).
pub async fn push_image<S, B>(
    app: &S,
    token: &str,
    name: &str,
    tag: &str,
    config: &serde_json::Value,
    extra: serde_json::Value,
) -> (Vec<u8>, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let config_bytes = config.to_string().into_bytes();
    let config_digest = push_blob(app, token, name, &config_bytes).await;
    let layer = format!("layer of {name}:{tag}").into_bytes();
    let layer_digest = push_blob(app, token, name, &layer).await;
    let mut manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_bytes.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}],
    });
    if let (Some(target), Some(extra)) = (manifest.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    let bytes = manifest.to_string().into_bytes();
    let answer = send(
        app,
        "PUT",
        &format!("/v2/{name}/manifests/{tag}"),
        Some(token),
        &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
        Some(&bytes),
    )
    .await;
    assert_eq!(answer.status, 201, "{answer:?}");
    let digest = sha256(&bytes);
    assert_eq!(
        answer.header("docker-content-digest"),
        Some(digest.as_str())
    );
    (bytes, digest)
}
