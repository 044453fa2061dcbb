//! Who is calling: the Docker token endpoint (`/token`) and the authentication of every `/v2/` request.
//!
//! `/token` takes `Basic user:PAT` (the username is not checked: the token says who it is, as on GitHub) or no
//! credentials (an anonymous token), and grants per requested `repository:NAME:ACTIONS` scope exactly the actions
//! the permission core allows now. A `pull`-only request from a principal who may push is granted `push` too,
//! because some clients (oras) never ask again. `*` asks for every action.
//!
//! A `/v2/` request carries a registry bearer token from `/token`, or a PAT directly (Basic or Bearer). A bearer
//! token narrows the request to its granted actions; the permission core still decides every request.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::{HttpRequest, HttpResponse, web};
use entrepot_http::credentials::Credentials;
use entrepot_identity::credential::Credential;
use entrepot_oci::errors::{ErrorCode, OciError};
use entrepot_oci::name::RepoName;
use entrepot_oci::token_scope::{Action, parse_scopes};
use entrepot_service::authz::Principal;
use entrepot_service::{ImageAction, ImageName, ServiceError, Services};
use serde::Serialize;

use crate::token::{self, Access, Claims};
use crate::{ContainerState, errors};

/// The authenticated caller of a `/v2/` request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The registry bearer token's grants; `None` when a PAT was presented directly (nothing narrows it).
    pub granted: Option<Claims>,
}

impl Caller {
    /// Whether the bearer token (if any) was granted `action` on `name`.
    pub fn token_allows(&self, name: &str, action: ImageAction) -> bool {
        match &self.granted {
            None => true,
            Some(claims) => claims.allows(name, crate::routes::action_name(action)),
        }
    }
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The caller of a request, from its credentials.
pub async fn authenticate(
    req: &HttpRequest,
    services: &Services,
    state: &ContainerState,
) -> Result<Caller, ServiceError> {
    let credentials = Credentials::from_headers(req.headers()).into_inner();
    if let Some(Credential::Token(secret)) = &credentials
        && token::looks_like_registry_token(secret.expose())
    {
        let key = state.signing_key(services).await?;
        return Ok(match token::verify(key, secret.expose(), now_secs()) {
            Ok(claims) => Caller {
                principal: services
                    .container_bearer_principal(claims.sub.as_deref())
                    .await?,
                granted: Some(claims),
            },
            Err(_) => Caller {
                principal: Principal::InvalidCredentials,
                granted: None,
            },
        });
    }
    Ok(Caller {
        principal: services.authenticate(credentials.as_ref()).await?,
        granted: None,
    })
}

#[derive(Serialize)]
struct TokenAnswer {
    token: String,
    access_token: String,
    expires_in: u64,
    issued_at: String,
}

/// `GET /token?service=…&scope=…[&scope=…]`.
pub async fn token_endpoint(
    req: HttpRequest,
    services: web::Data<Services>,
    state: web::Data<ContainerState>,
) -> HttpResponse {
    let credentials = Credentials::from_headers(req.headers()).into_inner();
    let (principal, subject) = match services.container_token_subject(credentials.as_ref()).await {
        Ok(found) => found,
        Err(error) => return errors::internal(&req, &error),
    };
    if !principal.is_authenticated() && credentials.is_some() {
        let mut response = errors::oci(
            OciError::new(ErrorCode::Unauthorized)
                .with_message("invalid credentials: use a personal access token as the password"),
        );
        if let Ok(value) = format!("Basic realm=\"{}\"", state.config.service).parse() {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        return response;
    }
    let values: Vec<String> = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| {
            q.into_inner()
                .into_iter()
                .filter(|(k, _)| k == "scope")
                .map(|(_, v)| v)
                .collect()
        })
        .unwrap_or_default();
    let scopes = match parse_scopes(&values) {
        Ok(scopes) => scopes,
        Err(error) => {
            return errors::oci(
                OciError::new(ErrorCode::Unsupported)
                    .with_status(400)
                    .with_message(error.to_string()),
            );
        }
    };
    let mut access: Vec<Access> = Vec::new();
    for scope in scopes.iter().filter(|s| s.is_repository()) {
        let Ok(name) = RepoName::parse(&scope.name) else {
            continue;
        };
        let image = ImageName::new(name.owner(), name.package());
        let mut wanted: Vec<ImageAction> = Vec::new();
        if scope.wants(&Action::Pull) {
            wanted.extend([ImageAction::Pull, ImageAction::Push]);
        }
        if scope.wants(&Action::Push) {
            wanted.extend([ImageAction::Pull, ImageAction::Push]);
        }
        if scope.wants(&Action::Delete) {
            wanted.push(ImageAction::Delete);
        }
        wanted.dedup();
        let mut granted: Vec<String> = Vec::new();
        for action in [ImageAction::Pull, ImageAction::Push, ImageAction::Delete] {
            if !wanted.contains(&action) {
                continue;
            }
            match services.container_allowed(&principal, &image, action).await {
                Ok(()) => granted.push(crate::routes::action_name(action).to_owned()),
                Err(ServiceError::Denied(_) | ServiceError::NotFound(_)) => {}
                Err(error) => return errors::internal(&req, &error),
            }
        }
        match access.iter_mut().find(|a| a.name == name.as_str()) {
            Some(existing) => {
                for action in granted {
                    if !existing.actions.contains(&action) {
                        existing.actions.push(action);
                    }
                }
            }
            None => access.push(Access {
                resource_type: "repository".into(),
                name: name.as_str().to_owned(),
                actions: granted,
            }),
        }
    }
    let key = match state.signing_key(&services).await {
        Ok(key) => key,
        Err(error) => return errors::internal(&req, &error),
    };
    let lifetime = state.config.token_lifetime().as_secs();
    let issued = now_secs();
    let claims = Claims {
        iss: state.config.service.clone(),
        sub: subject.filter(|_| principal.is_authenticated()),
        access,
        iat: issued,
        exp: issued + lifetime as i64,
    };
    let token = token::sign(key, &claims);
    let issued_at = chrono::DateTime::from_timestamp(issued, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenAnswer {
            access_token: token.clone(),
            token,
            expires_in: lifetime,
            issued_at,
        })
}
