//! Request handlers: parse the request, call one service function, render the answer.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use entrepot_service::authz::{
    OrgRole, PackageType, Principal, Role, Scopes, Visibility, VisibilitySet, WorkflowLevel,
};
use entrepot_service::{
    GranteeRef, NewRepository, NewTokenRequest, NewUser, OrgSettingsUpdate, PackageKey,
    ServiceError, Services,
};
use serde::Deserialize;

use crate::{ApiError, ApiPrincipal};

type Svc = web::Data<Services>;
type Reply = Result<HttpResponse, ApiError>;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(message)
}

/// GitHub's permission names: `pull`/`read`/`triage` → read, `push`/`write`/`maintain` → write, `admin`.
fn parse_role(value: &str) -> Result<Role, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "pull" | "read" | "triage" => Ok(Role::Read),
        "push" | "write" | "maintain" => Ok(Role::Write),
        "admin" => Ok(Role::Admin),
        other => Err(invalid(format!(
            "unknown permission {other:?}: use read, write or admin"
        ))),
    }
}

fn parse_visibility(value: &str) -> Result<Visibility, ApiError> {
    value.parse().map_err(|_| {
        invalid(format!(
            "unknown visibility {value:?}: use public, private or internal"
        ))
    })
}

/// The login behind the principal, or 401.
pub(crate) async fn me(services: &Services, principal: &Principal) -> Result<String, ApiError> {
    match services.whoami(principal).await? {
        Some(user) => Ok(user.login),
        None => Err(ServiceError::Denied(entrepot_service::authz::Deny::Unauthenticated).into()),
    }
}

pub async fn whoami(services: Svc, principal: ApiPrincipal) -> Reply {
    me(&services, &principal.0).await?;
    let user = services.whoami(&principal.0).await?;
    Ok(HttpResponse::Ok().json(user))
}

#[derive(Deserialize)]
pub struct TokenBody {
    /// GitHub calls the name of a classic token its `note`.
    #[serde(alias = "note")]
    name: String,
    scopes: Vec<String>,
    expires_in_days: Option<u64>,
}

impl TokenBody {
    fn into_request(self) -> Result<NewTokenRequest, ApiError> {
        let scopes =
            Scopes::parse_list(&self.scopes).map_err(|error| invalid(error.to_string()))?;
        if scopes.is_empty() {
            return Err(invalid("a token needs at least one scope"));
        }
        let expires_in = match self.expires_in_days {
            Some(0) => return Err(invalid("expires_in_days must be at least 1")),
            Some(days) => Some(Duration::from_secs(days.min(366 * 10) * 86_400)),
            None => None,
        };
        Ok(NewTokenRequest {
            name: self.name,
            scopes,
            expires_in,
        })
    }
}

pub async fn list_own_tokens(services: Svc, principal: ApiPrincipal) -> Reply {
    let login = me(&services, &principal.0).await?;
    Ok(HttpResponse::Ok().json(services.list_tokens(&principal.0, &login).await?))
}

pub async fn create_own_token(
    services: Svc,
    principal: ApiPrincipal,
    body: web::Json<TokenBody>,
) -> Reply {
    let login = me(&services, &principal.0).await?;
    let created = services
        .create_token(&principal.0, &login, body.into_inner().into_request()?)
        .await?;
    Ok(HttpResponse::Created().json(created))
}

pub async fn revoke_token(services: Svc, principal: ApiPrincipal, id: web::Path<i64>) -> Reply {
    services.revoke_token(&principal.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_user_tokens(
    services: Svc,
    principal: ApiPrincipal,
    login: web::Path<String>,
) -> Reply {
    Ok(HttpResponse::Ok().json(services.list_tokens(&principal.0, &login).await?))
}

pub async fn create_user_token(
    services: Svc,
    principal: ApiPrincipal,
    login: web::Path<String>,
    body: web::Json<TokenBody>,
) -> Reply {
    let created = services
        .create_token(&principal.0, &login, body.into_inner().into_request()?)
        .await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(Deserialize)]
pub struct RepoBody {
    name: String,
    visibility: Option<String>,
    private: Option<bool>,
}

impl RepoBody {
    fn visibility(&self) -> Result<Visibility, ApiError> {
        match (&self.visibility, self.private) {
            (Some(visibility), _) => parse_visibility(visibility),
            (None, Some(false)) => Ok(Visibility::Public),
            (None, _) => Ok(Visibility::Private),
        }
    }
}

pub async fn create_own_repo(
    services: Svc,
    principal: ApiPrincipal,
    body: web::Json<RepoBody>,
) -> Reply {
    let owner = me(&services, &principal.0).await?;
    let new = NewRepository {
        owner,
        name: body.name.clone(),
        visibility: body.visibility()?,
    };
    Ok(HttpResponse::Created().json(services.create_repository(&principal.0, new).await?))
}

pub async fn create_org_repo(
    services: Svc,
    principal: ApiPrincipal,
    org: web::Path<String>,
    body: web::Json<RepoBody>,
) -> Reply {
    let new = NewRepository {
        owner: org.into_inner(),
        name: body.name.clone(),
        visibility: body.visibility()?,
    };
    Ok(HttpResponse::Created().json(services.create_repository(&principal.0, new).await?))
}

pub async fn list_users(services: Svc, principal: ApiPrincipal) -> Reply {
    Ok(HttpResponse::Ok().json(services.list_users(&principal.0).await?))
}

pub async fn get_account(services: Svc, login: web::Path<String>) -> Reply {
    Ok(HttpResponse::Ok().json(services.account(&login).await?))
}

/// Repositories of a user or an org, as far as the caller may read them.
pub async fn list_repos(services: Svc, principal: ApiPrincipal, owner: web::Path<String>) -> Reply {
    Ok(HttpResponse::Ok().json(services.repositories(&principal.0, &owner).await?))
}

#[derive(Deserialize)]
pub struct UserBody {
    login: String,
    password: Option<String>,
    email: Option<String>,
    name: Option<String>,
    #[serde(default)]
    site_admin: bool,
}

pub async fn create_user(
    services: Svc,
    principal: ApiPrincipal,
    body: web::Json<UserBody>,
) -> Reply {
    let body = body.into_inner();
    let new = NewUser {
        login: body.login,
        password: body.password,
        email: body.email,
        name: body.name,
        site_admin: body.site_admin,
    };
    Ok(HttpResponse::Created().json(services.create_user(&principal.0, new).await?))
}

#[derive(Deserialize)]
pub struct OrgBody {
    login: String,
    /// The first owner (GitHub Enterprise's `admin`); the caller when absent.
    admin: Option<String>,
}

pub async fn create_org(services: Svc, principal: ApiPrincipal, body: web::Json<OrgBody>) -> Reply {
    let owner = match &body.admin {
        Some(admin) => admin.clone(),
        None => me(&services, &principal.0).await?,
    };
    Ok(HttpResponse::Created().json(
        services
            .create_org(&principal.0, &body.login, &owner)
            .await?,
    ))
}

pub async fn list_orgs(services: Svc) -> Reply {
    Ok(HttpResponse::Ok().json(services.list_orgs().await?))
}

pub async fn get_org(services: Svc, principal: ApiPrincipal, org: web::Path<String>) -> Reply {
    let settings = services.org_settings(&principal.0, &org).await?;
    let account = services.account(&org).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "id": account.id,
        "login": account.login,
        "type": account.kind,
        "created_at": account.created_at,
        "default_repository_permission": settings.base_permission,
        "inherit_access_by_default": settings.inherit_access_by_default,
        "package_creation_visibilities": settings.package_creation_visibilities,
    })))
}

#[derive(Deserialize)]
pub struct OrgUpdate {
    default_repository_permission: Option<String>,
    inherit_access_by_default: Option<bool>,
    package_creation_visibilities: Option<Vec<String>>,
}

pub async fn update_org(
    services: Svc,
    principal: ApiPrincipal,
    org: web::Path<String>,
    body: web::Json<OrgUpdate>,
) -> Reply {
    let body = body.into_inner();
    let base_permission = match body.default_repository_permission.as_deref() {
        None => None,
        Some("none") => Some(None),
        Some(role) => Some(Some(parse_role(role)?)),
    };
    let package_creation_visibilities = match body.package_creation_visibilities {
        Some(list) => {
            Some(VisibilitySet::parse_list(&list).map_err(|error| invalid(error.to_string()))?)
        }
        None => None,
    };
    let update = OrgSettingsUpdate {
        base_permission,
        inherit_access_by_default: body.inherit_access_by_default,
        package_creation_visibilities,
    };
    Ok(HttpResponse::Ok().json(
        services
            .update_org_settings(&principal.0, &org, update)
            .await?,
    ))
}

pub async fn list_members(services: Svc, principal: ApiPrincipal, org: web::Path<String>) -> Reply {
    Ok(HttpResponse::Ok().json(services.members(&principal.0, &org).await?))
}

#[derive(Deserialize)]
pub struct MembershipBody {
    role: Option<String>,
}

pub async fn set_membership(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String)>,
    body: Option<web::Json<MembershipBody>>,
) -> Reply {
    let (org, login) = path.into_inner();
    // GitHub calls an org owner `admin`.
    let role = match body.and_then(|b| b.into_inner().role).as_deref() {
        None | Some("member") => OrgRole::Member,
        Some("admin" | "owner") => OrgRole::Owner,
        Some(other) => {
            return Err(invalid(format!(
                "unknown role {other:?}: use member or admin"
            )));
        }
    };
    services
        .set_membership(&principal.0, &org, &login, role)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "organization": org, "user": login, "role": role.as_str(), "state": "active" })))
}

pub async fn remove_membership(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String)>,
) -> Reply {
    let (org, login) = path.into_inner();
    services
        .remove_membership(&principal.0, &org, &login)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_teams(services: Svc, principal: ApiPrincipal, org: web::Path<String>) -> Reply {
    Ok(HttpResponse::Ok().json(services.teams(&principal.0, &org).await?))
}

#[derive(Deserialize)]
pub struct TeamBody {
    name: String,
    slug: Option<String>,
}

pub async fn create_team(
    services: Svc,
    principal: ApiPrincipal,
    org: web::Path<String>,
    body: web::Json<TeamBody>,
) -> Reply {
    let slug = body
        .slug
        .clone()
        .unwrap_or_else(|| body.name.to_lowercase().replace(' ', "-"));
    Ok(HttpResponse::Created().json(
        services
            .create_team(&principal.0, &org, &slug, Some(&body.name))
            .await?,
    ))
}

pub async fn add_team_member(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String, String)>,
) -> Reply {
    let (org, team, login) = path.into_inner();
    services
        .add_team_member(&principal.0, &org, &team, &login)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "role": "member", "state": "active" })))
}

pub async fn remove_team_member(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String, String)>,
) -> Reply {
    let (org, team, login) = path.into_inner();
    services
        .remove_team_member(&principal.0, &org, &team, &login)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct PermissionBody {
    permission: Option<String>,
}

impl PermissionBody {
    fn role(body: Option<web::Json<PermissionBody>>, default: Role) -> Result<Role, ApiError> {
        match body.and_then(|b| b.into_inner().permission) {
            Some(permission) => parse_role(&permission),
            None => Ok(default),
        }
    }
}

pub async fn set_team_repo(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String, String, String)>,
    body: Option<web::Json<PermissionBody>>,
) -> Reply {
    let (org, team, owner, repo) = path.into_inner();
    if !org.eq_ignore_ascii_case(&owner) {
        return Err(invalid(
            "a team can only be given repositories of its own organization",
        ));
    }
    services
        .set_team_repository_role(
            &principal.0,
            &owner,
            &repo,
            &team,
            PermissionBody::role(body, Role::Read)?,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn get_repo(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String)>,
) -> Reply {
    let (owner, repo) = path.into_inner();
    Ok(HttpResponse::Ok().json(services.repository(&principal.0, &owner, &repo).await?))
}

#[derive(Deserialize)]
pub struct RepoUpdate {
    visibility: Option<String>,
    private: Option<bool>,
}

pub async fn update_repo(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String)>,
    body: web::Json<RepoUpdate>,
) -> Reply {
    let (owner, repo) = path.into_inner();
    let visibility = match (&body.visibility, body.private) {
        (Some(visibility), _) => Some(parse_visibility(visibility)?),
        (None, Some(private)) => Some(if private {
            Visibility::Private
        } else {
            Visibility::Public
        }),
        (None, None) => None,
    };
    if let Some(visibility) = visibility {
        services
            .set_repository_visibility(&principal.0, &owner, &repo, visibility)
            .await?;
    }
    Ok(HttpResponse::Ok().json(services.repository(&principal.0, &owner, &repo).await?))
}

pub async fn set_collaborator(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String, String)>,
    body: Option<web::Json<PermissionBody>>,
) -> Reply {
    let (owner, repo, login) = path.into_inner();
    services
        .set_collaborator(
            &principal.0,
            &owner,
            &repo,
            &login,
            PermissionBody::role(body, Role::Write)?,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn remove_collaborator(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String, String)>,
) -> Reply {
    let (owner, repo, login) = path.into_inner();
    services
        .remove_collaborator(&principal.0, &owner, &repo, &login)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct WorkflowTokenBody {
    /// `read` or `write`: the workflow's `packages:` permission.
    permission: String,
    expires_in: Option<u64>,
}

pub async fn mint_workflow_token(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String)>,
    body: web::Json<WorkflowTokenBody>,
) -> Reply {
    let (owner, repo) = path.into_inner();
    let level = match body.permission.as_str() {
        "read" => WorkflowLevel::Read,
        "write" => WorkflowLevel::Write,
        other => {
            return Err(invalid(format!(
                "unknown packages permission {other:?}: use read or write"
            )));
        }
    };
    let ttl = body.expires_in.map(Duration::from_secs);
    Ok(HttpResponse::Created().json(
        services
            .mint_workflow_token(&principal.0, &owner, &repo, level, ttl)
            .await?,
    ))
}

/// `/{orgs|users}/{owner}/packages/{package_type}/{name}` → the package's key. Names with `/` come URL-encoded.
fn package_key(
    scope: &str,
    owner: &str,
    package_type: &str,
    name: &str,
) -> Result<PackageKey, ApiError> {
    if scope != "orgs" && scope != "users" {
        return Err(ServiceError::NotFound("route".into()).into());
    }
    let package_type: PackageType = match package_type {
        // Gradle publishes are Maven packages, as in GitHub's API.
        "gradle" => PackageType::Maven,
        other => other
            .parse()
            .map_err(|_| invalid(format!("unknown package_type {other:?}")))?,
    };
    Ok(PackageKey::new(owner, package_type, name))
}

#[derive(Deserialize)]
pub struct PackagePath {
    scope: String,
    owner: String,
    package_type: String,
    name: String,
}

impl PackagePath {
    fn key(&self) -> Result<PackageKey, ApiError> {
        package_key(&self.scope, &self.owner, &self.package_type, &self.name)
    }
}

#[derive(Deserialize)]
pub struct VisibilityBody {
    visibility: String,
}

pub async fn set_visibility(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagePath>,
    body: web::Json<VisibilityBody>,
) -> Reply {
    let view = services
        .set_package_visibility(
            &principal.0,
            &path.key()?,
            parse_visibility(&body.visibility)?,
        )
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
pub struct GranteePath {
    scope: String,
    owner: String,
    package_type: String,
    name: String,
    #[serde(alias = "login", alias = "team", alias = "repo")]
    grantee: String,
}

impl GranteePath {
    fn key(&self) -> Result<PackageKey, ApiError> {
        package_key(&self.scope, &self.owner, &self.package_type, &self.name)
    }
}

#[derive(Deserialize)]
pub struct RoleBody {
    role: String,
}

pub async fn grant_user(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<GranteePath>,
    body: web::Json<RoleBody>,
) -> Reply {
    services
        .grant(
            &principal.0,
            &path.key()?,
            &GranteeRef::User(path.grantee.clone()),
            parse_role(&body.role)?,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn revoke_user(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<GranteePath>,
) -> Reply {
    services
        .revoke(
            &principal.0,
            &path.key()?,
            &GranteeRef::User(path.grantee.clone()),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn grant_team(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<GranteePath>,
    body: web::Json<RoleBody>,
) -> Reply {
    services
        .grant(
            &principal.0,
            &path.key()?,
            &GranteeRef::Team(path.grantee.clone()),
            parse_role(&body.role)?,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn revoke_team(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<GranteePath>,
) -> Reply {
    services
        .revoke(
            &principal.0,
            &path.key()?,
            &GranteeRef::Team(path.grantee.clone()),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn set_actions_access(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<GranteePath>,
    body: web::Json<RoleBody>,
) -> Reply {
    services
        .set_actions_access(
            &principal.0,
            &path.key()?,
            &path.grantee,
            parse_role(&body.role)?,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn remove_actions_access(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<GranteePath>,
) -> Reply {
    services
        .remove_actions_access(&principal.0, &path.key()?, &path.grantee)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct LinkBody {
    /// The repository's name; it must belong to the package's owner.
    repository: String,
}

pub async fn link(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagePath>,
    body: web::Json<LinkBody>,
) -> Reply {
    let repository = body
        .repository
        .rsplit('/')
        .next()
        .unwrap_or(&body.repository)
        .to_owned();
    Ok(HttpResponse::Ok().json(
        services
            .link(&principal.0, &path.key()?, Some(&repository))
            .await?,
    ))
}

pub async fn unlink(services: Svc, principal: ApiPrincipal, path: web::Path<PackagePath>) -> Reply {
    Ok(HttpResponse::Ok().json(services.link(&principal.0, &path.key()?, None).await?))
}

#[derive(Deserialize)]
pub struct InheritanceBody {
    inherit: bool,
}

pub async fn set_inheritance(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagePath>,
    body: web::Json<InheritanceBody>,
) -> Reply {
    Ok(HttpResponse::Ok().json(
        services
            .set_inheritance(&principal.0, &path.key()?, body.inherit)
            .await?,
    ))
}
