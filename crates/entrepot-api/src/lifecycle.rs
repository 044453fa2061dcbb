//! Lifecycle routes: repository transfer and the audit logs (an organization's, and the site's).

use actix_web::{HttpRequest, HttpResponse, web};
use entrepot_service::{AuditQuery, Services};
use serde::Deserialize;

use crate::{ApiError, ApiPrincipal};

type Svc = web::Data<Services>;
type Reply = Result<HttpResponse, ApiError>;

#[derive(Deserialize)]
pub struct TransferBody {
    new_owner: String,
    /// GitHub allows a new name on transfer; renames are out of scope, so only the same name is accepted.
    new_name: Option<String>,
}

/// `POST /repos/{owner}/{repo}/transfer`: GitHub answers 202 with the repository.
pub async fn transfer_repo(
    services: Svc,
    principal: ApiPrincipal,
    path: web::Path<(String, String)>,
    body: web::Json<TransferBody>,
) -> Reply {
    let (owner, repo) = path.into_inner();
    if body
        .new_name
        .as_deref()
        .is_some_and(|name| !name.eq_ignore_ascii_case(&repo))
    {
        return Err(ApiError::unprocessable(
            "renaming a repository on transfer is not supported",
        ));
    }
    let view = services
        .transfer_repository(&principal.0, &owner, &repo, &body.new_owner)
        .await?;
    Ok(HttpResponse::Accepted().json(view))
}

#[derive(Deserialize)]
pub struct Page {
    page: Option<u64>,
    per_page: Option<u64>,
}

impl Page {
    fn query(&self, org: Option<String>) -> Result<AuditQuery, ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(30);
        if page == 0 || per_page == 0 || per_page > 100 {
            return Err(ApiError::unprocessable(
                "page starts at 1 and per_page is between 1 and 100",
            ));
        }
        Ok(AuditQuery {
            org,
            page,
            per_page,
        })
    }
}

/// `GET /orgs/{org}/audit-log`: the organization's owners.
pub async fn org_audit_log(
    services: Svc,
    principal: ApiPrincipal,
    org: web::Path<String>,
    page: web::Query<Page>,
    request: HttpRequest,
) -> Reply {
    let query = page.query(Some(org.into_inner()))?;
    audit_page(&services, &principal, query, &request).await
}

/// `GET /admin/audit-log`: the whole site's, for site admins.
pub async fn site_audit_log(
    services: Svc,
    principal: ApiPrincipal,
    page: web::Query<Page>,
    request: HttpRequest,
) -> Reply {
    let query = page.query(None)?;
    audit_page(&services, &principal, query, &request).await
}

async fn audit_page(
    services: &Services,
    principal: &ApiPrincipal,
    query: AuditQuery,
    request: &HttpRequest,
) -> Reply {
    let (entries, more) = services.audit_log(&principal.0, &query).await?;
    let mut response = HttpResponse::Ok();
    if more {
        let url = request.full_url();
        let mut next = url.clone();
        next.query_pairs_mut()
            .clear()
            .append_pair("page", &(query.page + 1).to_string())
            .append_pair("per_page", &query.per_page.to_string());
        response.insert_header(("Link", format!("<{next}>; rel=\"next\"")));
    }
    Ok(response.json(entries))
}
