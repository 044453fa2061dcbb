//! The `Credentials` extractor: whatever credentials a request carries, unchecked.

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderName};
use actix_web::{FromRequest, HttpRequest};
use entrepot_identity::credential::{Credential, extract};

/// NuGet's API key header.
pub const NUGET_API_KEY: HeaderName = HeaderName::from_static("x-nuget-apikey");

/// The credentials a request presents, read from `Authorization` and `X-NuGet-ApiKey` by
/// [`entrepot_identity::credential::extract`]. `None` when there are none, or none that parse;
/// whether anonymous access suffices is the route's decision, not the extractor's, so extraction
/// never fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials(pub Option<Credential>);

impl Credentials {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        // A value with bytes outside visible ASCII cannot hold one of our tokens; treat it as
        // absent rather than guess at an encoding.
        let header = |name: &HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
        Self(extract(header(&AUTHORIZATION), header(&NUGET_API_KEY)))
    }

    pub fn into_inner(self) -> Option<Credential> {
        self.0
    }
}

impl FromRequest for Credentials {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self::from_headers(req.headers())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse, web};
    use entrepot_identity::secret::Secret;

    /// Answers with what the extractor saw, exposing the candidate only because this is a test.
    async fn show(credentials: Credentials) -> HttpResponse {
        let body = match credentials.0 {
            None => "none".to_owned(),
            Some(credential @ Credential::Token(_)) => {
                format!("token {}", credential.token_candidate().expose())
            }
            Some(credential @ Credential::Basic { .. }) => format!(
                "basic {} {}",
                credential.username().unwrap_or("-"),
                credential.token_candidate().expose()
            ),
        };
        HttpResponse::Ok().body(body)
    }

    #[actix_web::test]
    async fn reads_every_client_style() {
        let app = actix_test::init_service(App::new().route("/", web::get().to(show))).await;
        /// Request headers (raw bytes, to test non-ASCII values) and the expected answer.
        type Case<'a> = (&'a [(&'a str, &'a [u8])], &'a str);
        let cases: [Case; 7] = [
            (&[], "none"),
            (&[("Authorization", b"Bearer abc")], "token abc"),
            (&[("authorization", b"rubygems_key")], "token rubygems_key"),
            (&[("X-NuGet-ApiKey", b"nugetkey")], "token nugetkey"),
            // base64("alice:tok")
            (
                &[("Authorization", b"Basic YWxpY2U6dG9r")],
                "basic alice tok",
            ),
            (&[("Authorization", b"Basic %%%")], "none"),
            // Not valid UTF-8/visible ASCII: ignored, the API key still counts.
            (
                &[
                    ("Authorization", b"Bearer \xff\xfe"),
                    ("X-NuGet-ApiKey", b"k"),
                ],
                "token k",
            ),
        ];
        for (headers, expected) in cases {
            let mut request = actix_test::TestRequest::get().uri("/");
            for (name, value) in headers {
                let value = actix_web::http::header::HeaderValue::from_bytes(value).unwrap();
                request = request.insert_header((*name, value));
            }
            let response = actix_test::call_service(&app, request.to_request()).await;
            let body = actix_test::read_body(response).await;
            assert_eq!(body, expected.as_bytes(), "{headers:?}");
        }
    }

    #[test]
    fn debug_redacts() {
        let credentials = Credentials(Some(Credential::Token(Secret::new("etp_secret"))));
        assert!(!format!("{credentials:?}").contains("etp_secret"));
    }
}
