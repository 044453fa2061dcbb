//! The `/v2/` dispatcher and one function per endpoint.
//!
//! Names contain `/`, so one actix route takes every `/v2/…` path and `entrepot_oci::path::Route` reads it from
//! the right. The method and route kind select the declaration in [`crate::routes::ROUTES`], whose `need` is
//! checked against a bearer token's grants before the endpoint runs; the endpoint then calls the service, which
//! asks the permission core.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use entrepot_oci::errors::{ErrorCode, OciError};
use entrepot_oci::manifest::{ParsedManifest, parse_manifest, source_from_config};
use entrepot_oci::media::{self, ManifestKind};
use entrepot_oci::name::RepoName;
use entrepot_oci::pagination::{PageRequest, next_link, paginate};
use entrepot_oci::path::Route;
use entrepot_oci::range::{self, parse_content_range, parse_range};
use entrepot_oci::reference::{Algorithm, DigestRef, Reference};
use entrepot_service::{ImageAction, ImageName, ManifestPush, ManifestRefusal, Services};
use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest as _, Sha256, Sha512};

use crate::ContainerState;
use crate::auth::{self, Caller};
use crate::body;
use crate::errors::{self, ChallengeFor};
use crate::routes::{self, Need, RouteKind};

/// Most tags or catalog entries in one answer when the client does not ask for fewer.
const MAX_PAGE: usize = 10_000;

/// A config blob larger than this is not read for its source label.
const MAX_CONFIG_FOR_LABEL: u64 = 1024 * 1024;

const API_VERSION: (&str, &str) = ("Docker-Distribution-API-Version", "registry/2.0");

/// What every endpoint gets.
struct Ctx<'a> {
    req: &'a HttpRequest,
    services: &'a Services,
    state: &'a ContainerState,
    caller: Caller,
    challenge: ChallengeFor,
    base: String,
}

impl Ctx<'_> {
    fn fail(&self, error: entrepot_service::ServiceError, unknown: ErrorCode) -> HttpResponse {
        errors::service(self.req, &self.challenge, error, unknown)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn image_of(name: &RepoName) -> ImageName {
    ImageName::new(name.owner(), name.package())
}

fn actions_for(need: Need) -> Vec<&'static str> {
    match need {
        Need::Image(ImageAction::Pull) => vec!["pull"],
        Need::Image(ImageAction::Push) => vec!["pull", "push"],
        Need::Image(ImageAction::Delete) => vec!["delete"],
        Need::Authentication | Need::Listing => Vec::new(),
    }
}

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

fn query<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Every `/v2` request.
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    services: web::Data<Services>,
    state: web::Data<ContainerState>,
) -> HttpResponse {
    let mut response = route(&req, payload, &services, &state).await;
    response.headers_mut().insert(
        header::HeaderName::from_static("docker-distribution-api-version"),
        HeaderValue::from_static(API_VERSION.1),
    );
    response
}

async fn route(
    req: &HttpRequest,
    payload: web::Payload,
    services: &Services,
    state: &ContainerState,
) -> HttpResponse {
    let route = match Route::parse_path(req.path()) {
        Ok(route) => route,
        Err(error) => {
            return match error.to_oci() {
                Some(error) => errors::oci(error),
                None => HttpResponse::NotFound().finish(),
            };
        }
    };
    let Some(decl) = routes::lookup(req.method().as_str(), RouteKind::of(&route)) else {
        return errors::oci(OciError::new(ErrorCode::Unsupported));
    };
    let base = entrepot_http::base_url::external_base_url(req);
    let challenge = ChallengeFor {
        realm: format!("{base}/token"),
        service: state.config.service.clone(),
        scope: route
            .name()
            .map(|name| (name.as_str().to_owned(), actions_for(decl.need))),
    };
    let caller = match auth::authenticate(req, services, state).await {
        Ok(caller) => caller,
        Err(error) => return errors::service(req, &challenge, error, ErrorCode::NameUnknown),
    };
    if let Need::Image(action) = decl.need
        && let Some(name) = route.name()
        && !caller.token_allows(name.as_str(), action)
    {
        return errors::unauthorized(
            &challenge,
            true,
            "the token was not granted this action on this repository",
        );
    }
    let ctx = Ctx {
        req,
        services,
        state,
        caller,
        challenge,
        base,
    };
    let method = req.method().as_str();
    match (&route, method) {
        (Route::Base, _) => base_check(&ctx),
        (Route::Catalog, _) => catalog(&ctx).await,
        (Route::Tags { name }, _) => tags(&ctx, name).await,
        (Route::Referrers { name, digest }, _) => referrers(&ctx, name, digest).await,
        (Route::Blob { name, digest }, "DELETE") => delete_blob(&ctx, name, digest).await,
        (Route::Blob { name, digest }, _) => get_blob(&ctx, name, digest, method == "HEAD").await,
        (Route::Manifest { name, reference }, "PUT") => {
            put_manifest(&ctx, name, reference, payload).await
        }
        (Route::Manifest { name, reference }, "DELETE") => {
            delete_manifest(&ctx, name, reference).await
        }
        (Route::Manifest { name, reference }, _) => {
            get_manifest(&ctx, name, reference, method == "HEAD").await
        }
        (Route::UploadStart { name }, _) => start_upload(&ctx, name, payload).await,
        (Route::Upload { name, id }, "PATCH") => patch_upload(&ctx, name, id, payload).await,
        (Route::Upload { name, id }, "PUT") => put_upload(&ctx, name, id, payload).await,
        (Route::Upload { name, id }, "DELETE") => cancel_upload(&ctx, name, id).await,
        (Route::Upload { name, id }, _) => upload_status(&ctx, name, id).await,
    }
}

fn base_check(ctx: &Ctx<'_>) -> HttpResponse {
    if ctx.caller.principal.is_authenticated() {
        HttpResponse::Ok()
            .content_type("application/json")
            .body("{}")
    } else {
        errors::unauthorized(&ctx.challenge, false, "authentication required")
    }
}

async fn catalog(ctx: &Ctx<'_>) -> HttpResponse {
    let pairs = query_pairs(ctx.req);
    let Ok(page) = PageRequest::parse(query(&pairs, "n"), query(&pairs, "last")) else {
        return errors::oci(
            OciError::new(ErrorCode::Unsupported)
                .with_status(400)
                .with_message("n must be a number"),
        );
    };
    let names = match ctx.services.container_catalog(&ctx.caller.principal).await {
        Ok(names) => names,
        Err(error) => return ctx.fail(error, ErrorCode::NameUnknown),
    };
    let found = paginate(&names, &page, MAX_PAGE);
    let mut response = HttpResponse::Ok();
    if let Some(last) = found.next_last {
        response.insert_header((
            header::LINK,
            next_link("/v2/_catalog", found.items.len(), last),
        ));
    }
    response.json(json!({ "repositories": found.items }))
}

async fn tags(ctx: &Ctx<'_>, name: &RepoName) -> HttpResponse {
    let pairs = query_pairs(ctx.req);
    let Ok(page) = PageRequest::parse(query(&pairs, "n"), query(&pairs, "last")) else {
        return errors::oci(
            OciError::new(ErrorCode::Unsupported)
                .with_status(400)
                .with_message("n must be a number"),
        );
    };
    let tags = match ctx
        .services
        .container_tags(&ctx.caller.principal, &image_of(name))
        .await
    {
        Ok(tags) => tags,
        Err(error) => return ctx.fail(error, ErrorCode::NameUnknown),
    };
    let found = paginate(&tags, &page, MAX_PAGE);
    let mut response = HttpResponse::Ok();
    if let Some(last) = found.next_last {
        response.insert_header((
            header::LINK,
            next_link(&format!("/v2/{name}/tags/list"), found.items.len(), last),
        ));
    }
    response.json(json!({ "name": name.as_str(), "tags": found.items }))
}

async fn referrers(ctx: &Ctx<'_>, name: &RepoName, digest: &DigestRef) -> HttpResponse {
    let pairs = query_pairs(ctx.req);
    let filter = query(&pairs, "artifactType").filter(|t| !t.is_empty());
    let mut manifests = match ctx
        .services
        .container_referrers(&ctx.caller.principal, &image_of(name), digest.as_str())
        .await
    {
        Ok(manifests) => manifests,
        Err(error) => return ctx.fail(error, ErrorCode::NameUnknown),
    };
    if let Some(filter) = filter {
        manifests.retain(|m| m["artifactType"].as_str() == Some(filter));
    }
    let mut response = HttpResponse::Ok();
    response.content_type(media::OCI_INDEX);
    if filter.is_some() {
        response.insert_header(("OCI-Filters-Applied", "artifactType"));
    }
    response.body(
        json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_INDEX,
            "manifests": manifests,
        })
        .to_string(),
    )
}

fn blob_range(req: &HttpRequest) -> Result<Option<entrepot_blob::ByteRange>, OciError> {
    let Some(value) = header_str(req, header::RANGE) else {
        return Ok(None);
    };
    match parse_range(value) {
        Ok(range::ByteRange::FromTo(a, b)) => Ok(Some(entrepot_blob::ByteRange::FromTo(a, b))),
        Ok(range::ByteRange::From(a)) => Ok(Some(entrepot_blob::ByteRange::From(a))),
        Ok(range::ByteRange::Suffix(n)) => Ok(Some(entrepot_blob::ByteRange::Last(n))),
        Err(error) => Err(OciError::from(error).with_status(416)),
    }
}

async fn get_blob(ctx: &Ctx<'_>, name: &RepoName, digest: &DigestRef, head: bool) -> HttpResponse {
    let image = image_of(name);
    let range = match blob_range(ctx.req) {
        Ok(range) => range,
        Err(error) => return errors::oci(error),
    };
    if head && range.is_none() {
        return match ctx
            .services
            .container_blob(&ctx.caller.principal, &image, digest.as_str())
            .await
        {
            Ok(blob) => HttpResponse::Ok()
                .content_type("application/octet-stream")
                .insert_header(("Docker-Content-Digest", digest.as_str()))
                .insert_header((header::ACCEPT_RANGES, "bytes"))
                .insert_header((header::ETAG, format!("\"{digest}\"")))
                .no_chunking(blob.size)
                .streaming(futures_util::stream::empty::<
                    Result<bytes::Bytes, std::io::Error>,
                >()),
            Err(error) => ctx.fail(error, ErrorCode::BlobUnknown),
        };
    }
    match ctx
        .services
        .container_open_blob(&ctx.caller.principal, &image, digest.as_str(), range)
        .await
    {
        Ok((_, reader)) => {
            let mut response = if range.is_some() {
                let mut r = HttpResponse::PartialContent();
                r.insert_header((header::CONTENT_RANGE, reader.content_range()));
                r
            } else {
                HttpResponse::Ok()
            };
            let len = reader.range.end - reader.range.start;
            response
                .content_type("application/octet-stream")
                .insert_header(("Docker-Content-Digest", digest.as_str()))
                .insert_header((header::ACCEPT_RANGES, "bytes"))
                .insert_header((header::ETAG, format!("\"{digest}\"")))
                .no_chunking(len);
            if head {
                response.streaming(futures_util::stream::empty::<
                    Result<bytes::Bytes, std::io::Error>,
                >())
            } else {
                response.streaming(reader.stream)
            }
        }
        Err(entrepot_service::ServiceError::Blob(entrepot_blob::BlobError::InvalidRange)) => {
            let size = ctx
                .services
                .container_blob(&ctx.caller.principal, &image, digest.as_str())
                .await
                .map(|b| b.size)
                .unwrap_or(0);
            let mut response = errors::oci(OciError::new(ErrorCode::RangeInvalid).with_status(416));
            if let Ok(value) = format!("bytes */{size}").parse() {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            response
        }
        Err(error) => ctx.fail(error, ErrorCode::BlobUnknown),
    }
}

async fn delete_blob(ctx: &Ctx<'_>, name: &RepoName, digest: &DigestRef) -> HttpResponse {
    match ctx
        .services
        .container_delete_blob(&ctx.caller.principal, &image_of(name), digest.as_str())
        .await
    {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(error) => ctx.fail(error, ErrorCode::BlobUnknown),
    }
}

/// 201 for a blob now in the image.
fn blob_created(ctx: &Ctx<'_>, name: &RepoName, digest: &str) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            ctx.url(&format!("/v2/{name}/blobs/{digest}")),
        ))
        .insert_header(("Docker-Content-Digest", digest))
        .finish()
}

/// 202 for an upload session at `size` bytes.
fn upload_accepted(
    ctx: &Ctx<'_>,
    status: StatusCode,
    name: &RepoName,
    id: &str,
    size: u64,
) -> HttpResponse {
    let range = if size == 0 {
        "0-0".to_owned()
    } else {
        format!("0-{}", size - 1)
    };
    HttpResponseBuilder::new(status)
        .insert_header((
            header::LOCATION,
            ctx.url(&format!("/v2/{name}/blobs/uploads/{id}")),
        ))
        .insert_header((header::RANGE, range))
        .insert_header(("Docker-Upload-UUID", id))
        .insert_header(("OCI-Chunk-Min-Length", "0"))
        .finish()
}

fn has_body(req: &HttpRequest) -> bool {
    let length = header_str(req, header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(length) => length > 0,
        None => req.headers().contains_key(header::TRANSFER_ENCODING),
    }
}

fn digest_param(pairs: &[(String, String)]) -> Result<Option<DigestRef>, OciError> {
    match query(pairs, "digest") {
        None => Ok(None),
        Some(value) => DigestRef::parse(value).map(Some).map_err(OciError::from),
    }
}

async fn start_upload(ctx: &Ctx<'_>, name: &RepoName, payload: web::Payload) -> HttpResponse {
    let pairs = query_pairs(ctx.req);
    let image = image_of(name);
    let principal = &ctx.caller.principal;
    let limit = ctx.state.config.max_layer_bytes;
    if let (Some(mount), Some(from)) = (query(&pairs, "mount"), query(&pairs, "from")) {
        let digest = match DigestRef::parse(mount) {
            Ok(digest) => digest,
            Err(error) => return errors::oci(OciError::from(error)),
        };
        // A source the caller cannot name or read falls back to an upload (202), as the spec allows.
        if let Ok(from) = RepoName::parse(from) {
            match ctx
                .services
                .container_mount(principal, &image, digest.as_str(), &image_of(&from))
                .await
            {
                Ok(Some(_)) => return blob_created(ctx, name, digest.as_str()),
                Ok(None) => {}
                Err(error) => return ctx.fail(error, ErrorCode::NameUnknown),
            }
        }
    }
    let digest = match digest_param(&pairs) {
        Ok(digest) => digest,
        Err(error) => return errors::oci(error),
    };
    if let Some(digest) = digest {
        let body = body::stream(payload, ctx.state.config.body_idle_timeout());
        return match ctx
            .services
            .container_put_blob(principal, &image, digest.as_str(), body, limit)
            .await
        {
            Ok(_) => blob_created(ctx, name, digest.as_str()),
            Err(error) => ctx.fail(error, ErrorCode::NameUnknown),
        };
    }
    match ctx.services.container_start_upload(principal, &image).await {
        Ok(id) => upload_accepted(ctx, StatusCode::ACCEPTED, name, &id, 0),
        Err(error) => ctx.fail(error, ErrorCode::NameUnknown),
    }
}

/// The offset a chunk says it starts at (`Content-Range`), or `None` for a streamed append.
fn chunk_offset(req: &HttpRequest) -> Result<Option<u64>, OciError> {
    match header_str(req, header::CONTENT_RANGE) {
        None => Ok(None),
        Some(value) => parse_content_range(value)
            .map(|range| Some(range.start))
            .map_err(|error| OciError::from(error).with_status(416)),
    }
}

/// A chunk's `Content-Range` and `Content-Length`, when both are given, must agree.
fn chunk_length_matches(req: &HttpRequest) -> Result<(), OciError> {
    let range = header_str(req, header::CONTENT_RANGE).and_then(|v| parse_content_range(v).ok());
    let length = header_str(req, header::CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    match (range, length) {
        (Some(range), Some(length)) if range.len() != length => {
            Err(OciError::new(ErrorCode::SizeInvalid).with_detail(format!(
                "Content-Range covers {} bytes but Content-Length is {length}",
                range.len()
            )))
        }
        _ => Ok(()),
    }
}

async fn patch_upload(
    ctx: &Ctx<'_>,
    name: &RepoName,
    id: &str,
    payload: web::Payload,
) -> HttpResponse {
    let offset = match chunk_offset(ctx.req) {
        Ok(offset) => offset,
        Err(error) => return errors::oci(error),
    };
    if let Err(error) = chunk_length_matches(ctx.req) {
        return errors::oci(error);
    }
    let body = body::stream(payload, ctx.state.config.body_idle_timeout());
    match ctx
        .services
        .container_append_upload(
            &ctx.caller.principal,
            &image_of(name),
            id,
            offset,
            body,
            ctx.state.config.max_layer_bytes,
        )
        .await
    {
        Ok(state) => upload_accepted(ctx, StatusCode::ACCEPTED, name, id, state.size),
        Err(error) => ctx.fail(error, ErrorCode::BlobUploadUnknown),
    }
}

async fn put_upload(
    ctx: &Ctx<'_>,
    name: &RepoName,
    id: &str,
    payload: web::Payload,
) -> HttpResponse {
    let pairs = query_pairs(ctx.req);
    let digest = match digest_param(&pairs) {
        Ok(Some(digest)) => digest,
        Ok(None) => {
            return errors::oci(
                OciError::new(ErrorCode::DigestInvalid)
                    .with_message("the digest parameter is required"),
            );
        }
        Err(error) => return errors::oci(error),
    };
    let last_chunk = if has_body(ctx.req) {
        let offset = match chunk_offset(ctx.req) {
            Ok(offset) => offset,
            Err(error) => return errors::oci(error),
        };
        Some((
            offset,
            body::stream(payload, ctx.state.config.body_idle_timeout()),
        ))
    } else {
        None
    };
    match ctx
        .services
        .container_complete_upload(
            &ctx.caller.principal,
            &image_of(name),
            id,
            digest.as_str(),
            last_chunk,
            ctx.state.config.max_layer_bytes,
        )
        .await
    {
        Ok(_) => blob_created(ctx, name, digest.as_str()),
        Err(error) => ctx.fail(error, ErrorCode::BlobUploadUnknown),
    }
}

async fn upload_status(ctx: &Ctx<'_>, name: &RepoName, id: &str) -> HttpResponse {
    match ctx
        .services
        .container_upload_status(&ctx.caller.principal, &image_of(name), id)
        .await
    {
        Ok(state) => upload_accepted(ctx, StatusCode::NO_CONTENT, name, id, state.size),
        Err(error) => ctx.fail(error, ErrorCode::BlobUploadUnknown),
    }
}

async fn cancel_upload(ctx: &Ctx<'_>, name: &RepoName, id: &str) -> HttpResponse {
    match ctx
        .services
        .container_cancel_upload(&ctx.caller.principal, &image_of(name), id)
        .await
    {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(error) => ctx.fail(error, ErrorCode::BlobUploadUnknown),
    }
}

/// The digest of manifest bytes in `algorithm`.
fn digest_of(algorithm: Algorithm, bytes: &[u8]) -> String {
    match algorithm {
        Algorithm::Sha256 => format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
        Algorithm::Sha512 => format!("sha512:{}", hex::encode(Sha512::digest(bytes))),
    }
}

async fn put_manifest(
    ctx: &Ctx<'_>,
    name: &RepoName,
    reference: &Reference,
    payload: web::Payload,
) -> HttpResponse {
    let limit = ctx.state.config.max_manifest_bytes;
    let bytes = match body::read_limited(payload, limit, ctx.state.config.body_idle_timeout()).await
    {
        Ok(bytes) => bytes,
        Err(body::ReadError::TooLarge) => {
            return errors::oci(
                OciError::new(ErrorCode::SizeInvalid)
                    .with_status(413)
                    .with_message(format!("manifest too large: the limit is {limit} bytes")),
            );
        }
        Err(body::ReadError::Io(error)) => {
            return errors::oci(
                OciError::new(ErrorCode::ManifestInvalid)
                    .with_message(format!("request body: {error}")),
            );
        }
    };
    let parsed: ParsedManifest =
        match parse_manifest(header_str(ctx.req, header::CONTENT_TYPE), &bytes) {
            Ok(parsed) => parsed,
            Err(error) => return errors::oci(OciError::from(error)),
        };
    let (digest, tag) = match reference {
        Reference::Digest(expected) => {
            let actual = digest_of(expected.algorithm(), &bytes);
            if actual != expected.as_str() {
                return errors::oci(
                    OciError::new(ErrorCode::DigestInvalid)
                        .with_detail(format!("the manifest's digest is {actual}, not {expected}")),
                );
            }
            (actual, None)
        }
        Reference::Tag(tag) => (
            digest_of(Algorithm::Sha256, &bytes),
            Some(tag.as_str().to_owned()),
        ),
    };
    let image = image_of(name);
    let source = match parsed.source() {
        Some(source) => Some(source.to_owned()),
        None => config_source(ctx, &image, &parsed).await,
    };
    let push = ManifestPush {
        digest: digest.clone(),
        media_type: parsed.media_type.to_owned(),
        bytes,
        tag,
        blobs: parsed
            .required_blobs()
            .map(|d| (d.digest.as_str().to_owned(), d.size))
            .collect(),
        manifests: parsed
            .manifests
            .iter()
            .map(|d| d.digest.as_str().to_owned())
            .collect(),
        subject: parsed
            .subject
            .as_ref()
            .map(|s| s.digest.as_str().to_owned()),
        artifact_type: parsed.artifact_type.clone(),
        annotations: serde_json::to_value(&parsed.annotations).unwrap_or_default(),
        source,
    };
    match ctx
        .services
        .container_put_manifest(&ctx.caller.principal, &image, push)
        .await
    {
        Ok(Ok(digest)) => {
            let mut response = HttpResponse::Created();
            response
                .insert_header((
                    header::LOCATION,
                    ctx.url(&format!("/v2/{name}/manifests/{digest}")),
                ))
                .insert_header(("Docker-Content-Digest", digest.as_str()));
            if let Some(subject) = &parsed.subject {
                response.insert_header(("OCI-Subject", subject.digest.as_str()));
            }
            response.finish()
        }
        Ok(Err(ManifestRefusal::Unknown(missing))) => errors::oci(
            OciError::new(ErrorCode::ManifestBlobUnknown).with_detail(json!({ "digest": missing })),
        ),
        Ok(Err(ManifestRefusal::SizeMismatch {
            digest,
            stored,
            declared,
        })) => errors::oci(OciError::new(ErrorCode::SizeInvalid).with_detail(format!(
            "the manifest gives {digest} {declared} bytes; the blob has {stored}"
        ))),
        Err(error) => ctx.fail(error, ErrorCode::NameUnknown),
    }
}

/// `org.opencontainers.image.source` from the image config's labels, where `docker build --label` puts it.
async fn config_source(
    ctx: &Ctx<'_>,
    image: &ImageName,
    parsed: &ParsedManifest,
) -> Option<String> {
    let config = parsed.config.as_ref()?;
    if parsed.kind != ManifestKind::Image || config.size > MAX_CONFIG_FOR_LABEL {
        return None;
    }
    let (_, mut reader) = ctx
        .services
        .container_open_blob(&ctx.caller.principal, image, config.digest.as_str(), None)
        .await
        .ok()?;
    let mut bytes = Vec::new();
    while let Some(chunk) = reader.stream.next().await {
        bytes.extend_from_slice(&chunk.ok()?);
        if bytes.len() as u64 > MAX_CONFIG_FOR_LABEL {
            return None;
        }
    }
    source_from_config(&bytes)
}

async fn get_manifest(
    ctx: &Ctx<'_>,
    name: &RepoName,
    reference: &Reference,
    head: bool,
) -> HttpResponse {
    let manifest = match ctx
        .services
        .container_manifest(&ctx.caller.principal, &image_of(name), reference.as_str())
        .await
    {
        Ok(manifest) => manifest,
        Err(error) => return ctx.fail(error, ErrorCode::ManifestUnknown),
    };
    // Repeated Accept headers are one list (skopeo sends six).
    let accept: Vec<&str> = ctx
        .req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !accept.is_empty() && !media::accepts(&accept, &manifest.media_type) {
        return errors::oci(
            OciError::new(ErrorCode::ManifestUnknown).with_detail(format!(
                "the manifest is {}, which the request does not accept",
                manifest.media_type
            )),
        );
    }
    let mut response = HttpResponse::Ok();
    response
        .content_type(manifest.media_type.as_str())
        .insert_header(("Docker-Content-Digest", manifest.digest.as_str()))
        .insert_header((header::ETAG, format!("\"{}\"", manifest.digest)));
    if head {
        response
            .no_chunking(manifest.bytes.len() as u64)
            .streaming(futures_util::stream::empty::<
                Result<bytes::Bytes, std::io::Error>,
            >())
    } else {
        ctx.services.container_pulled(&manifest);
        response.body(manifest.bytes)
    }
}

async fn delete_manifest(ctx: &Ctx<'_>, name: &RepoName, reference: &Reference) -> HttpResponse {
    match ctx
        .services
        .container_delete_manifest(&ctx.caller.principal, &image_of(name), reference.as_str())
        .await
    {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(error) => ctx.fail(error, ErrorCode::ManifestUnknown),
    }
}
