//! The dispatcher and one handler per route kind: parse, call the service layer, render.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody, SizedStream};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use entrepot_blob::{ByteStream, bytes_stream};
use entrepot_gradle::module;
use entrepot_http::credentials::Credentials;
use entrepot_maven::checksum::ChecksumKind;
use entrepot_maven::coords::Coordinates;
use entrepot_maven::metadata::{self, SnapshotFile};
use entrepot_maven::path::{self, ArtifactFile, RepoPath, RepositorySelector, Target};
use entrepot_maven::pom;
use entrepot_service::authz::{PackageType, Principal};
use entrepot_service::{ChecksumAlgorithm, FileDeploy, PackageKey, Services};
use futures_util::StreamExt;

use crate::MavenConfig;
use crate::error::MavenError;
use crate::routes::{self, Declared, PathKind};

type Result<T, E = MavenError> = std::result::Result<T, E>;

/// POMs and module files are read whole to be validated; real ones are a few KiB.
const STRUCTURED_LIMIT: usize = 4 * 1024 * 1024;
/// Client-uploaded `maven-metadata.xml`; it lists versions, so it can grow, but not this far.
const METADATA_LIMIT: usize = 4 * 1024 * 1024;
/// A checksum side file: a hex digest, perhaps followed by a file name.
const CHECKSUM_LIMIT: usize = 1024;
/// How many body chunks may wait between the connection and the blob store.
const BODY_QUEUE: usize = 16;

/// Every request under `/maven/`.
pub(crate) async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    services: web::Data<Services>,
    config: web::Data<MavenConfig>,
) -> Result<HttpResponse> {
    // The raw path, as sent: percent-encoded separators must be seen (and refused), not decoded into new segments.
    let raw = req.uri().path();
    let below = raw
        .strip_prefix("/maven/")
        .ok_or_else(MavenError::not_found)?;
    let parsed = path::parse(below).map_err(|error| {
        MavenError::new(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
            error.to_string(),
        )
    })?;
    let (view, kind) = routes::classify(&parsed);
    let method = req.method().clone();
    let Some(route) = routes::find(method.as_str(), view, kind) else {
        let allowed = if view == routes::View::Owner {
            "GET, HEAD"
        } else {
            "GET, HEAD, PUT"
        };
        let mut error = MavenError::method_not_allowed(format!(
            "{method} is not supported here (allowed: {allowed}); the /maven/OWNER/*/ view is read-only"
        ))
        .error_response();
        error
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allowed));
        return Ok(error);
    };
    let credentials = Credentials::from_headers(req.headers());
    let principal = services.authenticate(credentials.0.as_ref()).await?;
    let key = package_key(&parsed);
    let head = method == Method::HEAD;
    match (route.declared, kind) {
        (Declared::Read, PathKind::File) => {
            let Target::File(file) = &parsed.target else {
                unreachable!("classified as a file")
            };
            get_file(&services, &principal, &key, file, head).await
        }
        (Declared::Read, PathKind::FileChecksum) => {
            let Target::File(file) = &parsed.target else {
                unreachable!("classified as a file checksum")
            };
            let kind = parsed.checksum.expect("classified as a checksum");
            let hex = services
                .file_checksum(&principal, &key, &file.version, &file.name, algorithm(kind))
                .await?;
            Ok(small(ContentType::Text, hex.into_bytes()))
        }
        (Declared::Read, PathKind::ArtifactMetadata | PathKind::VersionMetadata) => {
            let xml = render_metadata(&services, &principal, &key, &parsed.target).await?;
            Ok(small(ContentType::Xml, xml.into_bytes()))
        }
        (Declared::Read, PathKind::MetadataChecksum) => {
            let xml = render_metadata(&services, &principal, &key, &parsed.target).await?;
            let kind = parsed.checksum.expect("classified as a checksum");
            Ok(small(
                ContentType::Text,
                kind.digest_hex(xml.as_bytes()).into_bytes(),
            ))
        }
        (Declared::Deploy, kind) => {
            config
                .artifact_id_rule()
                .check(&parsed.target.coords().artifact_id)
                .map_err(|error| {
                    MavenError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
                })?;
            match kind {
                PathKind::File => {
                    let Target::File(file) = &parsed.target else {
                        unreachable!("classified as a file")
                    };
                    put_file(&req, payload, &services, &config, &principal, key, file).await
                }
                PathKind::FileChecksum => {
                    let Target::File(file) = &parsed.target else {
                        unreachable!("classified as a file checksum")
                    };
                    let kind = parsed.checksum.expect("classified as a checksum");
                    services.authorize_deploy(&principal, &key).await?;
                    let body = read_small(payload, CHECKSUM_LIMIT).await?;
                    let claimed = kind.parse_side_file(&body).ok_or_else(|| {
                        MavenError::bad_request(format!("the body is not a {kind} checksum"))
                    })?;
                    services
                        .verify_file_checksum(
                            &principal,
                            &key,
                            &file.version,
                            &file.name,
                            algorithm(kind),
                            &claimed,
                        )
                        .await?;
                    Ok(created())
                }
                PathKind::ArtifactMetadata | PathKind::VersionMetadata => {
                    services.authorize_deploy(&principal, &key).await?;
                    let body = read_small(payload, METADATA_LIMIT).await?;
                    let version = match &parsed.target {
                        Target::VersionMetadata { version, .. } => Some(version.as_str()),
                        _ => None,
                    };
                    metadata::parse_client(&body, parsed.target.coords(), version)
                        .map_err(MavenError::bad_request)?;
                    // Accepted and dropped: the server renders metadata from what it stores (see `metadata`).
                    Ok(created())
                }
                PathKind::MetadataChecksum => {
                    services.authorize_deploy(&principal, &key).await?;
                    let body = read_small(payload, CHECKSUM_LIMIT).await?;
                    let kind = parsed.checksum.expect("classified as a checksum");
                    kind.parse_side_file(&body).ok_or_else(|| {
                        MavenError::bad_request(format!("the body is not a {kind} checksum"))
                    })?;
                    Ok(created())
                }
            }
        }
    }
}

fn package_key(path: &RepoPath) -> PackageKey {
    let key = PackageKey::new(
        path.owner.clone(),
        PackageType::Maven,
        path.target.coords().package_name(),
    );
    match &path.repository {
        RepositorySelector::Named(repository) => key.in_repository(repository.clone()),
        RepositorySelector::All => key,
    }
}

fn algorithm(kind: ChecksumKind) -> ChecksumAlgorithm {
    match kind {
        ChecksumKind::Md5 => ChecksumAlgorithm::Md5,
        ChecksumKind::Sha1 => ChecksumAlgorithm::Sha1,
        ChecksumKind::Sha256 => ChecksumAlgorithm::Sha256,
        ChecksumKind::Sha512 => ChecksumAlgorithm::Sha512,
    }
}

#[derive(Debug, Clone, Copy)]
enum ContentType {
    Text,
    Xml,
}

fn small(content_type: ContentType, body: Vec<u8>) -> HttpResponse {
    let content_type = match content_type {
        ContentType::Text => "text/plain; charset=utf-8",
        ContentType::Xml => "text/xml; charset=utf-8",
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

fn created() -> HttpResponse {
    HttpResponse::Created().finish()
}

/// The media type of a stored file, by extension.
fn file_content_type(extension: &str) -> &'static str {
    match extension.rsplit('.').next().unwrap_or("") {
        "jar" | "war" | "ear" => "application/java-archive",
        "pom" | "xml" => "text/xml",
        "module" | "json" => "application/json",
        "asc" => "application/pgp-signature",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

async fn get_file(
    services: &Services,
    principal: &Principal,
    key: &PackageKey,
    file: &ArtifactFile,
    head: bool,
) -> Result<HttpResponse> {
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CONTENT_TYPE, file_content_type(&file.extension)));
    if head {
        // HEAD must not open the bytes: Gradle probes every artifact this way before a refresh.
        let stat = services
            .read_file(principal, key, &file.version, &file.name)
            .await?;
        response.insert_header((header::ETAG, format!("\"{}\"", stat.sha256)));
        response.insert_header((header::LAST_MODIFIED, http_date(stat.created_at)));
        // The encoder writes Content-Length from the body's size on the wire; the header is for in-process callers.
        response.insert_header((header::CONTENT_LENGTH, stat.size));
        return Ok(response.body(HeadBody(stat.size)));
    }
    let opened = services
        .open_read_file(principal, key, &file.version, &file.name)
        .await?;
    response.insert_header((header::ETAG, format!("\"{}\"", opened.file.sha256)));
    response.insert_header((header::LAST_MODIFIED, http_date(opened.file.created_at)));
    Ok(response.body(SizedStream::new(opened.reader.size, opened.reader.stream)))
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The body of a HEAD answer: the size of the file, no bytes (actix sends none for HEAD).
struct HeadBody(u64);

impl MessageBody for HeadBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}

/// `maven-metadata.xml` of either level, rendered from what the principal may read.
async fn render_metadata(
    services: &Services,
    principal: &Principal,
    key: &PackageKey,
    target: &Target,
) -> Result<String> {
    match target {
        Target::ArtifactMetadata(coords) => {
            let versions = services.read_versions(principal, key).await?;
            if versions.is_empty() {
                return Err(MavenError::not_found());
            }
            let last_updated = versions
                .iter()
                .map(|v| v.updated_at)
                .max()
                .map(stamp)
                .unwrap_or_default();
            let names: Vec<String> = versions.iter().map(|v| v.version.clone()).collect();
            Ok(metadata::render_artifact(coords, &names, &last_updated))
        }
        Target::VersionMetadata { coords, version } => {
            let files = services.read_files(principal, key, version).await?;
            let files: Vec<SnapshotFile> = files
                .iter()
                .filter_map(|f| {
                    let parsed = path::parse_file_name(coords.clone(), version, &f.name).ok()?;
                    Some(SnapshotFile {
                        classifier: parsed.classifier,
                        extension: parsed.extension,
                        stamp: parsed.snapshot,
                        stored: stamp(f.created_at),
                    })
                })
                .collect();
            if files.is_empty() {
                return Err(MavenError::not_found());
            }
            metadata::render_snapshot(coords, version, &files).ok_or_else(MavenError::not_found)
        }
        Target::File(_) => Err(MavenError::not_found()),
    }
}

/// `yyyyMMddHHmmss`, Maven's `lastUpdated` form.
fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d%H%M%S").to_string()
}

async fn read_small(payload: web::Payload, limit: usize) -> Result<Bytes> {
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => Err(MavenError::bad_request(format!(
            "reading the body: {error}"
        ))),
        Err(_) => Err(MavenError::too_large(limit as u64)),
    }
}

fn content_length(req: &HttpRequest) -> Result<Option<u64>> {
    match req.headers().get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| MavenError::bad_request("invalid Content-Length")),
    }
}

/// Facts a file says about its version, validated against its path: a POM's coordinates, a Gradle module.
fn structured_facts(
    file: &ArtifactFile,
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut facts = serde_json::Map::new();
    match file.extension.as_str() {
        "pom" => {
            let pom = pom::parse_for(body, &file.coords, &file.version)
                .map_err(MavenError::bad_request)?;
            facts.insert(
                "pom".into(),
                serde_json::json!({
                    "packaging": pom.packaging,
                    "name": pom.name,
                    "description": pom.description,
                }),
            );
        }
        "module" => {
            let module = module::parse_for(body, &file.coords, &file.version)
                .map_err(MavenError::bad_request)?;
            let dependencies = module.dependency_names();
            facts.insert(
                "gradle".into(),
                serde_json::json!({
                    "formatVersion": module.format_version,
                    "variants": module.variants,
                    "dependencies": dependencies,
                }),
            );
        }
        _ => {}
    }
    Ok(facts)
}

fn coordinates_facts(coords: &Coordinates) -> (String, serde_json::Value) {
    (
        "maven".into(),
        serde_json::json!({ "groupId": coords.group_id, "artifactId": coords.artifact_id }),
    )
}

async fn put_file(
    req: &HttpRequest,
    payload: web::Payload,
    services: &Services,
    config: &MavenConfig,
    principal: &Principal,
    key: PackageKey,
    file: &ArtifactFile,
) -> Result<HttpResponse> {
    // Before a byte of the body is read: a refused deploy should not cost the upload.
    services.authorize_deploy(principal, &key).await?;
    let size = content_length(req)?;
    let limit = config.max_file_size;
    if size.is_some_and(|size| size > limit) {
        return Err(MavenError::too_large(limit));
    }
    let structured =
        file.classifier.is_none() && matches!(file.extension.as_str(), "pom" | "module");
    let mut deploy = FileDeploy {
        key,
        version: file.version.clone(),
        file_name: file.name.clone(),
        content_type: Some(file_content_type(&file.extension).to_owned()),
        mutable: file.is_snapshot(),
        size,
        metadata: None,
    };
    if structured {
        let body = read_small(
            payload,
            STRUCTURED_LIMIT.min(usize::try_from(limit).unwrap_or(usize::MAX)),
        )
        .await?;
        let mut facts = structured_facts(file, &body)?;
        let (name, value) = coordinates_facts(&file.coords);
        facts.insert(name, value);
        deploy.metadata = Some(facts);
        deploy.size = Some(body.len() as u64);
        services
            .deploy_file(principal, deploy, bytes_stream(body))
            .await?;
        return Ok(created());
    }
    let (name, value) = coordinates_facts(&file.coords);
    deploy.metadata = Some(serde_json::Map::from_iter([(name, value)]));
    let too_large = Rc::new(Cell::new(false));
    let (body, forward) = forward_payload(payload, limit, too_large.clone());
    let (_, outcome) =
        futures_util::future::join(forward, services.deploy_file(principal, deploy, body)).await;
    match outcome {
        Ok(_) => Ok(created()),
        Err(_) if too_large.get() => Err(MavenError::too_large(limit)),
        Err(error) => Err(error.into()),
    }
}

/// Bridges the connection's body (which lives on this worker) to the `Send` stream the blob store reads, cutting
/// it off past `limit` bytes. The returned future must be polled together with the consumer of the stream.
fn forward_payload(
    mut payload: web::Payload,
    limit: u64,
    too_large: Rc<Cell<bool>>,
) -> (ByteStream, impl std::future::Future<Output = ()>) {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(BODY_QUEUE);
    let forward = async move {
        let mut total: u64 = 0;
        while let Some(chunk) = payload.next().await {
            let item = match chunk {
                Ok(bytes) => {
                    total += bytes.len() as u64;
                    if total > limit {
                        too_large.set(true);
                        Err(io::Error::other("the body is larger than the limit"))
                    } else {
                        Ok(bytes)
                    }
                }
                Err(error) => Err(io::Error::other(error.to_string())),
            };
            let stop = item.is_err();
            // A closed receiver means the deploy gave up (refused, or failed); nothing more to forward.
            if tx.send(item).await.is_err() || stop {
                return;
            }
        }
    };
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed();
    (body, forward)
}
