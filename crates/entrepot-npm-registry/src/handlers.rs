//! The request handlers: one dispatcher routes with `entrepot_npm::route`, authenticates, and calls the service.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use entrepot_http::credentials::Credentials;
use entrepot_identity::secret::Secret;
use entrepot_npm::name::PackageName;
use entrepot_npm::packument::{ABBREVIATED_MEDIA_TYPE, wants_abbreviated};
use entrepot_npm::publish::{Limits, PublishError};
use entrepot_npm::route::{Endpoint, route};
use entrepot_npm::split::Splitter;
use entrepot_npm::{search, tags};
use entrepot_service::authz::Principal;
use entrepot_service::{NpmError, PutOutcome, ServiceError, Services};
use futures_util::StreamExt;
use serde_json::json;

use crate::error::NpmHttpError;
use crate::{BASE_PATH, NpmConfig};

type Answer = Result<HttpResponse, NpmHttpError>;

/// How many decoded tarball chunks may wait between the connection and the blob store.
const BODY_QUEUE: usize = 16;

/// Everything a handler needs about the request.
struct Ctx<'r> {
    req: &'r HttpRequest,
    services: &'r Services,
    principal: Principal,
    /// The registry's external URL, e.g. `https://pk.example/npm`.
    registry_url: String,
}

impl Ctx<'_> {
    fn fail(&self, error: impl Into<NpmError>, package: Option<&PackageName>) -> NpmHttpError {
        let package = package.map(PackageName::full);
        NpmHttpError::from_npm(error.into(), package.as_deref(), &self.registry_url)
    }
}

/// The one entry point of the registry.
pub(crate) async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    services: web::Data<Services>,
    config: web::Data<NpmConfig>,
) -> Answer {
    let path = req
        .uri()
        .path()
        .strip_prefix(BASE_PATH)
        .unwrap_or(req.uri().path());
    let endpoint = route(req.method().as_str(), path)
        .map_err(|error| NpmHttpError::from_route(&error, req.method()))?;
    let credential = Credentials::from_headers(req.headers()).into_inner();
    let registry_url = format!(
        "{}{BASE_PATH}",
        entrepot_http::base_url::external_base_url(&req)
    );
    let principal = services
        .authenticate(credential.as_ref())
        .await
        .map_err(|error| NpmHttpError::from_npm(error.into(), None, &registry_url))?;
    let ctx = Ctx {
        req: &req,
        services: &services,
        principal,
        registry_url,
    };
    match endpoint {
        Endpoint::Ping => Ok(HttpResponse::Ok().json(json!({}))),
        Endpoint::Audit => Ok(HttpResponse::Ok().json(json!({}))),
        Endpoint::WebLogin => Err(NpmHttpError::new(
            StatusCode::NOT_FOUND,
            entrepot_npm::errors::web_login_unsupported(),
        )),
        Endpoint::Whoami => {
            let login = services
                .npm_whoami(&ctx.principal)
                .await
                .map_err(|error| ctx.fail(error, None))?;
            Ok(HttpResponse::Ok().json(json!({ "username": login })))
        }
        Endpoint::Login { user } => login(&ctx, &user, payload).await,
        Endpoint::Logout { token } => logout(&ctx, &token).await,
        Endpoint::Search => search(&ctx).await,
        Endpoint::Packument { name } => packument(&ctx, &name).await,
        Endpoint::Put { name } => put(&ctx, &name, payload, *config.get_ref()).await,
        Endpoint::UnpublishPackage { name } => {
            services
                .npm_unpublish_package(&ctx.principal, &name)
                .await
                .map_err(|error| ctx.fail(error, Some(&name)))?;
            Ok(HttpResponse::Created().json(json!({ "ok": "package unpublished" })))
        }
        Endpoint::Tarball { name, file } => tarball(&ctx, &name, &file).await,
        Endpoint::UnpublishTarball { name, file } => {
            services
                .npm_unpublish_tarball(&ctx.principal, &name, &file)
                .await
                .map_err(|error| ctx.fail(error, Some(&name)))?;
            Ok(HttpResponse::Ok().json(json!({ "ok": "tarball removed" })))
        }
        Endpoint::DistTags { name } => {
            let tags = services
                .npm_dist_tags(&ctx.principal, &name)
                .await
                .map_err(|error| ctx.fail(error, Some(&name)))?;
            Ok(HttpResponse::Ok().json(tags))
        }
        Endpoint::SetDistTag { name, tag } => {
            tags::validate_tag(&tag).map_err(|error| ctx.fail(error, Some(&name)))?;
            let body = read_body(payload, 64 * 1024).await?;
            let version =
                tags::parse_tag_target(&body).map_err(|error| ctx.fail(error, Some(&name)))?;
            let tags = services
                .npm_set_dist_tag(&ctx.principal, &name, &tag, &version)
                .await
                .map_err(|error| ctx.fail(error, Some(&name)))?;
            Ok(HttpResponse::Created().json(tags))
        }
        Endpoint::RemoveDistTag { name, tag } => {
            let tags = services
                .npm_remove_dist_tag(&ctx.principal, &name, &tag)
                .await
                .map_err(|error| ctx.fail(error, Some(&name)))?;
            Ok(HttpResponse::Created().json(tags))
        }
    }
}

/// Reads a body up to `limit` bytes; 413 beyond it, without reading the rest.
async fn read_body(mut payload: web::Payload, limit: u64) -> Result<BytesMut, NpmHttpError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            NpmHttpError::new(
                StatusCode::BAD_REQUEST,
                format!("could not read the request body: {error}"),
            )
        })?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(NpmHttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than the limit of {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn header_str(req: &HttpRequest, name: header::HeaderName) -> &str {
    req.headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.replace(' ', "") == "q=0");
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn etag_matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

async fn packument(ctx: &Ctx<'_>, name: &PackageName) -> Answer {
    let doc = ctx
        .services
        .npm_packument(&ctx.principal, name, &ctx.registry_url)
        .await
        .map_err(|error| ctx.fail(error, Some(name)))?;
    let abbreviated = wants_abbreviated(header_str(ctx.req, header::ACCEPT));
    let (rendered, content_type) = if abbreviated {
        (&doc.abbreviated, ABBREVIATED_MEDIA_TYPE)
    } else {
        (&doc.full, "application/json")
    };
    let not_modified = etag_matches(ctx.req, &rendered.etag);
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, rendered.etag.clone()))
        .insert_header((header::VARY, "Accept, Accept-Encoding, Authorization"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    if not_modified {
        return Ok(response.finish());
    }
    response.insert_header((header::CONTENT_TYPE, content_type));
    if accepts_gzip(ctx.req) {
        response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
        // The body is already compressed: stop any compression middleware from doing it again.
        Ok(response.body(rendered.gzip.clone()))
    } else {
        Ok(response.body(rendered.body.clone()))
    }
}

async fn put(
    ctx: &Ctx<'_>,
    name: &PackageName,
    payload: web::Payload,
    config: NpmConfig,
) -> Answer {
    // A declared length over the limit is refused before anything is read.
    let declared = header_str(ctx.req, header::CONTENT_LENGTH)
        .parse::<u64>()
        .unwrap_or(0);
    if declared > config.max_body_bytes() {
        return Err(ctx.fail(
            PublishError::TooLarge {
                limit: config.max_tarball_bytes,
            },
            Some(name),
        ));
    }
    // The tarball is decoded as the body streams in and goes straight to the blob store; only the JSON around it
    // is kept as text.
    let limits = Limits::for_tarball(config.max_tarball_bytes);
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(BODY_QUEUE);
    let tarball = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed();
    let read = async move {
        let mut payload = payload;
        let mut splitter = Splitter::streaming(config.max_tarball_bytes);
        let mut received: u64 = 0;
        while let Some(chunk) = payload.next().await {
            let refusal = match chunk {
                Err(error) => Some(NpmHttpError::new(
                    StatusCode::BAD_REQUEST,
                    format!("could not read the request body: {error}"),
                )),
                Ok(chunk) => {
                    received += chunk.len() as u64;
                    if received > config.max_body_bytes() {
                        Some(ctx.fail(
                            PublishError::TooLarge {
                                limit: config.max_tarball_bytes,
                            },
                            Some(name),
                        ))
                    } else {
                        splitter.push(&chunk);
                        None
                    }
                }
            };
            if let Some(refusal) = refusal {
                // Fails the staging too: nothing of this body is kept.
                let _ = tx.send(Err(std::io::Error::other("body refused"))).await;
                return Err(refusal);
            }
            let decoded = splitter.take_streamed();
            // A closed receiver means the staging failed; its error is reported below.
            if !decoded.is_empty() && tx.send(Ok(Bytes::from(decoded))).await.is_err() {
                break;
            }
        }
        Ok(splitter.finish())
    };
    let (body, staged) =
        futures_util::future::join(read, ctx.services.npm_stage_tarball(tarball, limits)).await;
    let body = body?;
    let staged = staged.map_err(|error| ctx.fail(error, Some(name)))?;
    let outcome = ctx
        .services
        .npm_put_split(&ctx.principal, name, body, staged, limits)
        .await
        .map_err(|error| ctx.fail(error, Some(name)))?;
    let message = match outcome {
        PutOutcome::Published { version } => format!("published {name}@{version}"),
        PutOutcome::Deprecated { changed } => {
            format!("updated the deprecation of {changed} version(s) of {name}")
        }
        PutOutcome::Unpublished { versions } => {
            format!("unpublished {name}@{}", versions.join(", "))
        }
    };
    Ok(HttpResponse::Created().json(json!({ "ok": message, "success": true })))
}

async fn tarball(ctx: &Ctx<'_>, name: &PackageName, file: &str) -> Answer {
    let opened = ctx
        .services
        .npm_tarball(&ctx.principal, name, file)
        .await
        .map_err(|error| ctx.fail(error, Some(name)))?;
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header((
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        ))
        .insert_header((header::ETAG, format!("\"{}\"", opened.file.sha256)))
        .no_chunking(opened.reader.size);
    if ctx.req.method() == actix_web::http::Method::HEAD {
        return Ok(response.finish());
    }
    Ok(response.streaming(opened.reader.stream))
}

async fn search(ctx: &Ctx<'_>) -> Answer {
    let query = web::Query::<Vec<(String, String)>>::from_query(ctx.req.query_string())
        .map(|query| query.into_inner())
        .unwrap_or_default();
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let query = search::Query::new(get("text"), get("size"), get("from"));
    let response = ctx
        .services
        .npm_search(&ctx.principal, &query)
        .await
        .map_err(|error| ctx.fail(error, None))?;
    Ok(HttpResponse::Ok().json(response))
}

#[derive(serde::Deserialize)]
struct LoginBody {
    name: Option<String>,
    password: Option<String>,
}

/// `npm login` / `npm adduser`: the password must be a personal access token of that user; the answer hands it
/// back as the token npm writes to `.npmrc`.
async fn login(ctx: &Ctx<'_>, user: &str, payload: web::Payload) -> Answer {
    let body = read_body(payload, 64 * 1024).await?;
    let body: LoginBody = serde_json::from_slice(&body).map_err(|error| {
        NpmHttpError::new(
            StatusCode::BAD_REQUEST,
            format!("login body is not valid JSON: {error}"),
        )
    })?;
    let name = body.name.unwrap_or_else(|| user.to_owned());
    let password = Secret::new(body.password.unwrap_or_default());
    let unauthorized = || {
        NpmHttpError::new(
            StatusCode::UNAUTHORIZED,
            entrepot_npm::errors::login_needs_token(),
        )
    };
    if !name.eq_ignore_ascii_case(user) {
        return Err(unauthorized());
    }
    match ctx.services.npm_login(&name, &password).await {
        Ok(login) => Ok(HttpResponse::Created().json(json!({
            "ok": format!("you are authenticated as '{login}'"),
            "token": password.expose(),
        }))),
        Err(NpmError::Service(ServiceError::Denied(_))) => Err(unauthorized()),
        Err(error) => Err(ctx.fail(error, None)),
    }
}

/// `npm logout`: npm forgets the token locally. The token is a personal access token the user created and may
/// use elsewhere, so it is not revoked here (revoke it through the API); only its holder may log it out.
async fn logout(ctx: &Ctx<'_>, token: &str) -> Answer {
    let presented = Credentials::from_headers(ctx.req.headers())
        .into_inner()
        .map(|credential| credential.token_candidate());
    let same = presented.is_some_and(|secret| secret.expose() == token);
    if !ctx.principal.is_authenticated() || !same {
        return Err(ctx.fail(
            ServiceError::Denied(entrepot_service::authz::Deny::Unauthenticated),
            None,
        ));
    }
    Ok(HttpResponse::Ok().json(json!({ "ok": "Logged out" })))
}
