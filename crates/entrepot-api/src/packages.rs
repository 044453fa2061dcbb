//! GitHub's packages REST API (`/user`, `/users/{username}`, `/orgs/{org}` × `/packages…`): list, get, delete and
//! restore packages and their versions, in GitHub's JSON shapes, with its pagination, so that GitHub clients
//! such as octokit work against `<base>/api/v3`.
//!
//! Every decision is the service's (and so the permission core's); this module parses GitHub's parameters and
//! renders GitHub's shapes. Beyond GitHub, packages and versions carry `download_count`.

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse, web};
use entrepot_http::base_url::external_base_url;
use entrepot_service::authz::{PackageType, Visibility};
use entrepot_service::{
    PackageKey, PackageView, RepositoryView, ServiceError, Services, UserView, VersionView,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, ApiPrincipal};

type Svc = web::Data<Services>;
type Reply = Result<HttpResponse, ApiError>;

/// GitHub's page size when none is asked for, and the most it serves.
const DEFAULT_PER_PAGE: u64 = 30;
const MAX_PER_PAGE: u64 = 100;
/// GitHub refuses pages beyond the first 10,000 results of the packages listing with 400.
const MAX_RESULT_WINDOW: u64 = 10_000;

/// Everything but unreserved characters is escaped in a path segment or a query value (a name's `/` too).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// The path parameters of every route here; `scope` and `owner` are absent under `/user`.
#[derive(Deserialize)]
pub struct PackagesPath {
    scope: Option<String>,
    owner: Option<String>,
    package_type: Option<String>,
    name: Option<String>,
    version_id: Option<String>,
}

/// Whose packages a request is about, after checking that the account is of the kind the path says.
struct Namespace {
    account: UserView,
}

impl Namespace {
    fn scope(&self) -> &'static str {
        if self.account.kind == "Organization" {
            "orgs"
        } else {
            "users"
        }
    }
}

impl PackagesPath {
    async fn namespace(
        &self,
        services: &Services,
        principal: &ApiPrincipal,
    ) -> Result<Namespace, ApiError> {
        let (scope, login) = match (&self.scope, &self.owner) {
            (Some(scope), Some(owner)) => (scope.as_str(), owner.clone()),
            _ => ("users", crate::handlers::me(services, &principal.0).await?),
        };
        let account = services.account(&login).await?;
        let is_org = account.kind == "Organization";
        match (scope, is_org) {
            ("orgs", true) | ("users", false) => Ok(Namespace { account }),
            _ => Err(ServiceError::NotFound(format!("{scope}/{login}")).into()),
        }
    }

    fn package_type(&self) -> Result<PackageType, ApiError> {
        let value = self.package_type.as_deref().unwrap_or_default();
        // An unknown type in the path names no package.
        parse_package_type(value)
            .ok_or_else(|| ServiceError::NotFound(format!("package type {value}")).into())
    }

    fn key(&self, namespace: &Namespace) -> Result<PackageKey, ApiError> {
        Ok(PackageKey::new(
            namespace.account.login.clone(),
            self.package_type()?,
            self.name.clone().unwrap_or_default(),
        ))
    }

    fn version_id(&self) -> Result<i64, ApiError> {
        self.version_id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| ServiceError::NotFound("version".into()).into())
    }
}

/// GitHub's `package_type` values, plus ours: `docker` is the container registry, `gradle` publishes Maven packages.
fn parse_package_type(value: &str) -> Option<PackageType> {
    match value {
        "docker" => Some(PackageType::Container),
        "gradle" => Some(PackageType::Maven),
        other => other.parse().ok(),
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message.into())
}

/// `page` and `per_page` as GitHub reads them: `per_page` defaults to 30 and is capped at 100, pages count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Page {
    page: u64,
    per_page: u64,
}

impl Page {
    fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Self, ApiError> {
        let number = |name: &str, value: Option<&str>| -> Result<Option<u64>, ApiError> {
            value
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| bad_request(format!("{name} must be a number")))
                })
                .transpose()
        };
        let per_page = number("per_page", per_page)?
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_PER_PAGE)
            .min(MAX_PER_PAGE);
        let page = number("page", page)?.unwrap_or(1).max(1);
        Ok(Self { page, per_page })
    }

    /// The packages listing's limit: GitHub answers 400 past the first 10,000 results.
    fn within_window(self) -> Result<Self, ApiError> {
        if self.page.saturating_mul(self.per_page) > MAX_RESULT_WINDOW {
            return Err(bad_request(format!(
                "The value of `per_page` multiplied by `page` cannot be greater than {MAX_RESULT_WINDOW}."
            )));
        }
        Ok(self)
    }

    fn slice<T>(self, items: &[T]) -> &[T] {
        let start =
            usize::try_from((self.page - 1).saturating_mul(self.per_page)).unwrap_or(usize::MAX);
        let end = start.saturating_add(self.per_page as usize);
        items
            .get(start.min(items.len())..end.min(items.len()))
            .unwrap_or_default()
    }

    fn last(self, total: usize) -> u64 {
        (total as u64).div_ceil(self.per_page).max(1)
    }

    /// GitHub's `Link` header: `next` and `last` while there are more pages, `first` and `prev` after the first.
    fn link(self, req: &HttpRequest, fixed: &[(&str, &str)], total: usize) -> Option<String> {
        let last = self.last(total);
        let base = format!("{}{}", external_base_url(req), req.path());
        let url = |page: u64| {
            let mut query: Vec<String> = fixed
                .iter()
                .map(|(name, value)| format!("{name}={}", encode(value)))
                .collect();
            query.push(format!("per_page={}", self.per_page));
            query.push(format!("page={page}"));
            format!("<{base}?{}>", query.join("&"))
        };
        let mut links = Vec::new();
        if self.page > 1 {
            links.push(format!("{}; rel=\"prev\"", url((self.page - 1).min(last))));
        }
        if self.page < last {
            links.push(format!("{}; rel=\"next\"", url(self.page + 1)));
            links.push(format!("{}; rel=\"last\"", url(last)));
        }
        if self.page > 1 {
            links.push(format!("{}; rel=\"first\"", url(1)));
        }
        (!links.is_empty()).then(|| links.join(", "))
    }
}

/// GitHub's `simple-user` for an account of this server.
fn simple_user(base: &str, account: &UserView) -> Value {
    let login = &account.login;
    let api = format!("{base}/api/v3/users/{login}");
    json!({
        "login": login,
        "id": account.id,
        "node_id": format!("{}_{}", if account.kind == "Organization" { "O" } else { "U" }, account.id),
        "avatar_url": "",
        "gravatar_id": "",
        "url": api,
        "html_url": format!("{base}/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": account.kind,
        "site_admin": account.site_admin,
    })
}

/// GitHub's `minimal-repository`, with the fields this server knows.
fn minimal_repository(base: &str, owner: &Value, repo: &RepositoryView) -> Value {
    let api = format!("{base}/api/v3/repos/{}", repo.full_name);
    json!({
        "id": repo.id,
        "node_id": format!("R_{}", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": owner,
        "private": repo.private,
        "visibility": repo.visibility,
        "html_url": format!("{base}/{}", repo.full_name),
        "description": null,
        "fork": false,
        "url": api,
        "created_at": repo.created_at,
        "updated_at": repo.updated_at,
    })
}

/// The URLs of one package, API and web.
struct PackageUrls {
    api: String,
    html: String,
}

impl PackageUrls {
    fn new(base: &str, namespace: &Namespace, package_type: &str, name: &str) -> Self {
        let scope = namespace.scope();
        let owner = &namespace.account.login;
        let name = encode(name);
        Self {
            api: format!("{base}/api/v3/{scope}/{owner}/packages/{package_type}/{name}"),
            html: format!("{base}/{scope}/{owner}/packages/{package_type}/package/{name}"),
        }
    }
}

fn package_json(base: &str, namespace: &Namespace, package: &PackageView) -> Value {
    let urls = PackageUrls::new(base, namespace, &package.package_type, &package.name);
    let owner = simple_user(base, &namespace.account);
    let mut body = json!({
        "id": package.id,
        "name": package.name,
        "package_type": package.package_type,
        "owner": owner,
        "version_count": package.version_count,
        "visibility": package.visibility,
        "url": urls.api,
        "html_url": urls.html,
        "created_at": package.created_at,
        "updated_at": package.updated_at,
        "download_count": package.downloads,
    });
    if let Some(repo) = &package.repository_detail {
        body["repository"] = minimal_repository(base, &owner, repo);
    }
    body
}

fn version_json(
    base: &str,
    namespace: &Namespace,
    package_type: PackageType,
    name: &str,
    version: &VersionView,
) -> Value {
    let urls = PackageUrls::new(base, namespace, package_type.as_str(), name);
    let mut metadata = json!({ "package_type": package_type.as_str() });
    if package_type == PackageType::Container {
        let tags: Vec<Value> = version.metadata["tags"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        metadata["container"] = json!({ "tags": tags });
        // GitHub's older Docker registry shape, which some clients still read.
        metadata["docker"] = json!({ "tag": tags });
    }
    let mut body = json!({
        "id": version.id,
        "name": version.version,
        "url": format!("{}/versions/{}", urls.api, version.id),
        "package_html_url": urls.html,
        "html_url": format!("{}/{}", urls.html.replacen("/package/", "/", 1), version.id),
        "created_at": version.created_at,
        "updated_at": version.updated_at,
        "metadata": metadata,
        "download_count": version.downloads,
    });
    for field in ["description", "license"] {
        if let Some(text) = version.metadata[field].as_str() {
            body[field] = json!(text);
        }
    }
    if let Some(deleted_at) = version.deleted_at {
        body["deleted_at"] = json!(deleted_at);
    }
    body
}

fn paged(
    req: &HttpRequest,
    page: Page,
    fixed: &[(&str, &str)],
    items: Vec<Value>,
    total: usize,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(link) = page.link(req, fixed, total) {
        response.insert_header((LINK, link));
    }
    response.json(items)
}

#[derive(Deserialize)]
pub struct ListQuery {
    package_type: Option<String>,
    visibility: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

/// `GET /user/packages`, `GET /{orgs|users}/{owner}/packages`: the packages of one type the caller may read.
pub async fn list_packages(
    req: HttpRequest,
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagesPath>,
    query: web::Query<ListQuery>,
) -> Reply {
    let type_name = query
        .package_type
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            bad_request(
                "package_type is required: one of npm, maven, rubygems, docker, nuget, container",
            )
        })?;
    let package_type = parse_package_type(type_name)
        .ok_or_else(|| bad_request(format!("unknown package_type {type_name:?}")))?;
    let visibility = match query.visibility.as_deref().filter(|v| !v.is_empty()) {
        Some(value) => Some(value.parse::<Visibility>().map_err(|_| {
            bad_request(format!(
                "unknown visibility {value:?}: use public, private or internal"
            ))
        })?),
        None => None,
    };
    let page = Page::parse(query.page.as_deref(), query.per_page.as_deref())?.within_window()?;
    let namespace = path.namespace(&services, &principal).await?;
    let mut packages = services
        .list_packages(&principal.0, &namespace.account.login, Some(package_type))
        .await?;
    if let Some(visibility) = visibility {
        packages.retain(|package| package.visibility == visibility.as_str());
    }
    let base = external_base_url(&req);
    let items: Vec<Value> = page
        .slice(&packages)
        .iter()
        .map(|package| package_json(&base, &namespace, package))
        .collect();
    let mut fixed = vec![("package_type", type_name)];
    if let Some(visibility) = query.visibility.as_deref() {
        fixed.push(("visibility", visibility));
    }
    Ok(paged(&req, page, &fixed, items, packages.len()))
}

pub async fn get_package(
    req: HttpRequest,
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagesPath>,
) -> Reply {
    let namespace = path.namespace(&services, &principal).await?;
    let package = services
        .package(&principal.0, &path.key(&namespace)?)
        .await?;
    Ok(HttpResponse::Ok().json(package_json(&external_base_url(&req), &namespace, &package)))
}

pub async fn delete_package(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagesPath>,
) -> Reply {
    let namespace = path.namespace(&services, &principal).await?;
    services
        .delete_package(&principal.0, &path.key(&namespace)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// GitHub's restore takes a `token` query parameter for its web flow; it is accepted and ignored.
pub async fn restore_package(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagesPath>,
) -> Reply {
    let namespace = path.namespace(&services, &principal).await?;
    services
        .restore_package(&principal.0, &path.key(&namespace)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct VersionsQuery {
    state: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

/// `…/versions?state=active|deleted`: deleted versions need the right to restore them.
pub async fn list_versions(
    req: HttpRequest,
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagesPath>,
    query: web::Query<VersionsQuery>,
) -> Reply {
    let deleted = match query.state.as_deref().filter(|s| !s.is_empty()) {
        None | Some("active") => false,
        Some("deleted") => true,
        Some(other) => {
            return Err(bad_request(format!(
                "unknown state {other:?}: use active or deleted"
            )));
        }
    };
    let page = Page::parse(query.page.as_deref(), query.per_page.as_deref())?;
    let namespace = path.namespace(&services, &principal).await?;
    let key = path.key(&namespace)?;
    let mut versions = services.versions(&principal.0, &key, deleted).await?;
    // GitHub lists the newest first.
    versions.reverse();
    let base = external_base_url(&req);
    let items: Vec<Value> = page
        .slice(&versions)
        .iter()
        .map(|version| version_json(&base, &namespace, key.package_type, &key.name, version))
        .collect();
    let fixed: Vec<(&str, &str)> = query
        .state
        .as_deref()
        .map(|state| ("state", state))
        .into_iter()
        .collect();
    Ok(paged(&req, page, &fixed, items, versions.len()))
}

pub async fn get_version(
    req: HttpRequest,
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagesPath>,
) -> Reply {
    let namespace = path.namespace(&services, &principal).await?;
    let key = path.key(&namespace)?;
    let version = services
        .version_by_id(&principal.0, &key, path.version_id()?)
        .await?;
    Ok(HttpResponse::Ok().json(version_json(
        &external_base_url(&req),
        &namespace,
        key.package_type,
        &key.name,
        &version,
    )))
}

pub async fn delete_version(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagesPath>,
) -> Reply {
    let namespace = path.namespace(&services, &principal).await?;
    services
        .delete_version_by_id(&principal.0, &path.key(&namespace)?, path.version_id()?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn restore_version(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<PackagesPath>,
) -> Reply {
    let namespace = path.namespace(&services, &principal).await?;
    services
        .restore_version_by_id(&principal.0, &path.key(&namespace)?, path.version_id()?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_github() {
        assert_eq!(
            Page::parse(None, None).unwrap(),
            Page {
                page: 1,
                per_page: 30
            }
        );
        assert_eq!(
            Page::parse(Some("0"), Some("500")).unwrap(),
            Page {
                page: 1,
                per_page: 100
            }
        );
        assert!(Page::parse(Some("x"), None).is_err());
        assert!(
            Page::parse(Some("100"), Some("100"))
                .unwrap()
                .within_window()
                .is_ok()
        );
        assert!(
            Page::parse(Some("101"), Some("100"))
                .unwrap()
                .within_window()
                .is_err()
        );
        let page = Page::parse(Some("2"), Some("2")).unwrap();
        assert_eq!(page.slice(&[1, 2, 3, 4, 5]), &[3, 4]);
        assert_eq!(page.last(5), 3);
        assert!(
            Page::parse(Some("9"), Some("2"))
                .unwrap()
                .slice(&[1, 2, 3])
                .is_empty()
        );
    }

    #[test]
    fn names_with_slashes_are_one_segment() {
        assert_eq!(encode("tools/app"), "tools%2Fapp");
        assert_eq!(encode("com.acme:core"), "com.acme%3Acore");
    }
}
