//! The caller of an API request: a token, or a password (the API is the one place passwords are accepted).

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use entrepot_http::credentials::Credentials;
use entrepot_service::Services;
use entrepot_service::authz::Principal;

use crate::ApiError;

/// The authenticated (or anonymous) principal of a request.
#[derive(Debug, Clone, Copy)]
pub struct ApiPrincipal(pub Principal);

impl FromRequest for ApiPrincipal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let credentials = Credentials::from_headers(req.headers());
        let services = req.app_data::<web::Data<Services>>().cloned();
        Box::pin(async move {
            let services = services.ok_or_else(|| {
                entrepot_service::ServiceError::Internal("no services in app data".into())
            })?;
            Ok(ApiPrincipal(
                services.authenticate_api(credentials.0.as_ref()).await?,
            ))
        })
    }
}
