//! The REST API under `/api/v3`: accounts, orgs, teams, repositories, tokens, workflow tokens, package settings,
//! and GitHub's packages API (list, get, delete and restore packages and versions, in `packages`).
//!
//! Every route is declared once in [`ROUTES`] with the operation it performs; `configure` mounts exactly that
//! table, and the authorization test walks it. Handlers parse, call the service layer, and render; the service
//! asks the permission core.

mod error;
mod handlers;
mod lifecycle;
mod packages;
mod principal;

use actix_web::web;

pub use error::ApiError;
pub use principal::ApiPrincipal;

/// What a route does, for the authorization table. Admin operations are decided by `authorize_admin`, package
/// settings by `authorize(Manage)`; `Public` routes answer anyone, `Authenticated` ones any valid credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    Public,
    Authenticated,
    Admin(entrepot_service::authz::AdminOp),
    Package(entrepot_service::authz::Operation),
}

/// One route of the API.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    /// The actix path pattern, below `/api/v3`.
    pub path: &'static str,
    pub declared: Declared,
    mount: fn(&'static str, &mut web::ServiceConfig),
}

macro_rules! routes {
    ($($method:ident $path:literal => $handler:path, $declared:expr;)*) => {
        /// Every route of the administration API, with its declared operation.
        pub const ROUTES: &[Route] = &[
            $(Route {
                method: stringify!($method),
                path: $path,
                declared: $declared,
                mount: |path, cfg| { cfg.route(path, web::method(actix_web::http::Method::$method).to($handler)); },
            },)*
        ];
    };
}

use entrepot_service::authz::AdminOp as A;
use entrepot_service::authz::Operation as O;

routes! {
    GET "/user" => handlers::whoami, Declared::Authenticated;
    GET "/user/tokens" => handlers::list_own_tokens, Declared::Admin(A::ManageOwnTokens);
    POST "/user/tokens" => handlers::create_own_token, Declared::Admin(A::ManageOwnTokens);
    DELETE "/user/tokens/{id}" => handlers::revoke_token, Declared::Admin(A::ManageOwnTokens);
    POST "/user/repos" => handlers::create_own_repo, Declared::Admin(A::CreateRepo);
    GET "/users" => handlers::list_users, Declared::Admin(A::ListUsers);
    GET "/users/{login}" => handlers::get_account, Declared::Public;
    GET "/users/{login}/repos" => handlers::list_repos, Declared::Public;
    POST "/admin/users" => handlers::create_user, Declared::Admin(A::CreateUser);
    GET "/admin/users/{login}/tokens" => handlers::list_user_tokens, Declared::Admin(A::ManageUserTokens);
    POST "/admin/users/{login}/tokens" => handlers::create_user_token, Declared::Admin(A::ManageUserTokens);
    POST "/admin/organizations" => handlers::create_org, Declared::Admin(A::CreateOrg);
    GET "/organizations" => handlers::list_orgs, Declared::Public;
    GET "/orgs/{org}" => handlers::get_org, Declared::Admin(A::ReadOrg);
    PATCH "/orgs/{org}" => handlers::update_org, Declared::Admin(A::ManageOrg);
    GET "/orgs/{org}/members" => handlers::list_members, Declared::Admin(A::ReadOrg);
    PUT "/orgs/{org}/memberships/{login}" => handlers::set_membership, Declared::Admin(A::ManageOrg);
    DELETE "/orgs/{org}/memberships/{login}" => handlers::remove_membership, Declared::Admin(A::ManageOrg);
    GET "/orgs/{org}/teams" => handlers::list_teams, Declared::Admin(A::ReadOrg);
    POST "/orgs/{org}/teams" => handlers::create_team, Declared::Admin(A::ManageOrg);
    PUT "/orgs/{org}/teams/{team}/memberships/{login}" => handlers::add_team_member, Declared::Admin(A::ManageOrg);
    DELETE "/orgs/{org}/teams/{team}/memberships/{login}" => handlers::remove_team_member, Declared::Admin(A::ManageOrg);
    PUT "/orgs/{org}/teams/{team}/repos/{owner}/{repo}" => handlers::set_team_repo, Declared::Admin(A::ManageRepo);
    GET "/orgs/{org}/repos" => handlers::list_repos, Declared::Public;
    POST "/orgs/{org}/repos" => handlers::create_org_repo, Declared::Admin(A::CreateRepo);
    GET "/repos/{owner}/{repo}" => handlers::get_repo, Declared::Admin(A::ReadRepo);
    PATCH "/repos/{owner}/{repo}" => handlers::update_repo, Declared::Admin(A::ManageRepo);
    PUT "/repos/{owner}/{repo}/collaborators/{login}" => handlers::set_collaborator, Declared::Admin(A::ManageRepo);
    DELETE "/repos/{owner}/{repo}/collaborators/{login}" => handlers::remove_collaborator, Declared::Admin(A::ManageRepo);
    POST "/repos/{owner}/{repo}/actions/token" => handlers::mint_workflow_token, Declared::Admin(A::MintWorkflowToken);
    POST "/repos/{owner}/{repo}/transfer" => lifecycle::transfer_repo, Declared::Admin(A::ManageRepo);
    GET "/orgs/{org}/audit-log" => lifecycle::org_audit_log, Declared::Admin(A::ManageOrg);
    GET "/admin/audit-log" => lifecycle::site_audit_log, Declared::Admin(A::ReadAuditLog);
    PUT "/{scope}/{owner}/packages/{package_type}/{name}/visibility" => handlers::set_visibility, Declared::Package(O::Manage);
    PUT "/{scope}/{owner}/packages/{package_type}/{name}/access/users/{login}" => handlers::grant_user, Declared::Package(O::Manage);
    DELETE "/{scope}/{owner}/packages/{package_type}/{name}/access/users/{login}" => handlers::revoke_user, Declared::Package(O::Manage);
    PUT "/{scope}/{owner}/packages/{package_type}/{name}/access/teams/{team}" => handlers::grant_team, Declared::Package(O::Manage);
    DELETE "/{scope}/{owner}/packages/{package_type}/{name}/access/teams/{team}" => handlers::revoke_team, Declared::Package(O::Manage);
    PUT "/{scope}/{owner}/packages/{package_type}/{name}/actions-access/{repo}" => handlers::set_actions_access, Declared::Package(O::Manage);
    DELETE "/{scope}/{owner}/packages/{package_type}/{name}/actions-access/{repo}" => handlers::remove_actions_access, Declared::Package(O::Manage);
    PUT "/{scope}/{owner}/packages/{package_type}/{name}/link" => handlers::link, Declared::Package(O::Manage);
    DELETE "/{scope}/{owner}/packages/{package_type}/{name}/link" => handlers::unlink, Declared::Package(O::Manage);
    PUT "/{scope}/{owner}/packages/{package_type}/{name}/inheritance" => handlers::set_inheritance, Declared::Package(O::Manage);
    // GitHub's packages API. A listing reads each package it shows (the others are left out).
    GET "/user/packages" => packages::list_packages, Declared::Package(O::Read);
    GET "/user/packages/{package_type}/{name}" => packages::get_package, Declared::Package(O::Read);
    DELETE "/user/packages/{package_type}/{name}" => packages::delete_package, Declared::Package(O::Delete);
    POST "/user/packages/{package_type}/{name}/restore" => packages::restore_package, Declared::Package(O::Restore);
    GET "/user/packages/{package_type}/{name}/versions" => packages::list_versions, Declared::Package(O::Read);
    GET "/user/packages/{package_type}/{name}/versions/{version_id}" => packages::get_version, Declared::Package(O::Read);
    DELETE "/user/packages/{package_type}/{name}/versions/{version_id}" => packages::delete_version, Declared::Package(O::Delete);
    POST "/user/packages/{package_type}/{name}/versions/{version_id}/restore" => packages::restore_version, Declared::Package(O::Restore);
    GET "/{scope}/{owner}/packages" => packages::list_packages, Declared::Package(O::Read);
    GET "/{scope}/{owner}/packages/{package_type}/{name}" => packages::get_package, Declared::Package(O::Read);
    DELETE "/{scope}/{owner}/packages/{package_type}/{name}" => packages::delete_package, Declared::Package(O::Delete);
    POST "/{scope}/{owner}/packages/{package_type}/{name}/restore" => packages::restore_package, Declared::Package(O::Restore);
    GET "/{scope}/{owner}/packages/{package_type}/{name}/versions" => packages::list_versions, Declared::Package(O::Read);
    GET "/{scope}/{owner}/packages/{package_type}/{name}/versions/{version_id}" => packages::get_version, Declared::Package(O::Read);
    DELETE "/{scope}/{owner}/packages/{package_type}/{name}/versions/{version_id}" => packages::delete_version, Declared::Package(O::Delete);
    POST "/{scope}/{owner}/packages/{package_type}/{name}/versions/{version_id}/restore" => packages::restore_version, Declared::Package(O::Restore);
}

/// Mounts the API under `/api/v3`. Needs `web::Data<entrepot_service::Services>` in the app data.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v3")
            .app_data(
                web::JsonConfig::default()
                    .limit(64 * 1024)
                    .error_handler(error::json_error),
            )
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .configure(|scope| {
                for route in ROUTES {
                    (route.mount)(route.path, scope);
                }
            })
            .default_service(web::to(error::no_route)),
    );
}
