//! The external base URL that every absolute URL a registry hands out is built from.
//!
//! The configured base URL wins. Without one, the request says where it was sent: RFC 7239
//! `Forwarded`, then `X-Forwarded-Proto` / `X-Forwarded-Host`, then `Host` (or the HTTP/2
//! authority), so a server behind a reverse proxy works without configuration. Header values are
//! checked before use: a host with characters a host cannot have (a `/`, quotes, spaces) would
//! otherwise let a client inject text into the URLs of its own responses.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

/// The operator's `base_url`, put in app data as `web::Data<ConfiguredBaseUrl>`.
/// Stored without a trailing slash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfiguredBaseUrl(Option<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    #[error("the base URL must start with http:// or https://")]
    Scheme,
    #[error("the base URL must name a host")]
    Host,
    #[error("the base URL must not have a query or a fragment")]
    QueryOrFragment,
}

impl ConfiguredBaseUrl {
    /// No configured base URL: derive it from each request.
    pub fn from_request_headers() -> Self {
        Self(None)
    }

    /// Validates and normalises a configured base URL such as `https://packages.example.com` or
    /// `https://example.com/entrepot/` (a path prefix is kept; the trailing slash is dropped).
    pub fn new(url: &str) -> Result<Self, BaseUrlError> {
        let url = url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or(BaseUrlError::Scheme)?;
        let host = rest.split('/').next().unwrap_or_default();
        if !is_sane_host(host) {
            return Err(BaseUrlError::Host);
        }
        if rest.contains(['?', '#']) {
            return Err(BaseUrlError::QueryOrFragment);
        }
        Ok(Self(Some(url.trim_end_matches('/').to_owned())))
    }

    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// The external base URL for `req`, without a trailing slash, e.g. `https://pkg.example.com`.
/// Uses the `web::Data<ConfiguredBaseUrl>` in app data when there is one and it is set.
pub fn external_base_url(req: &HttpRequest) -> String {
    let configured = req.app_data::<web::Data<ConfiguredBaseUrl>>();
    match configured.and_then(|configured| configured.get()) {
        Some(url) => url.to_owned(),
        None => from_request(req),
    }
}

/// The base URL as the request headers describe it, ignoring configuration.
pub fn from_request(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let scheme = if info.scheme().eq_ignore_ascii_case("https") {
        "https"
    } else {
        "http"
    };
    let host = info.host();
    let host = if is_sane_host(host) {
        host
    } else {
        req.app_config().host()
    };
    format!("{scheme}://{host}")
}

/// The base URL of the request as an extractor: `BaseUrl(url)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(pub String);

impl FromRequest for BaseUrl {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self(external_base_url(req))))
    }
}

/// A host name or IP literal with an optional port: letters, digits, `.-_:` and IPv6 brackets.
fn is_sane_host(host: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_:[]".contains(c);
    !host.is_empty() && host.len() <= 255 && host.chars().all(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn configured_base_urls() {
        let cases = [
            ("https://pkg.example.com", Ok("https://pkg.example.com")),
            ("https://pkg.example.com/", Ok("https://pkg.example.com")),
            ("http://127.0.0.1:8080", Ok("http://127.0.0.1:8080")),
            (
                "https://example.com/entrepot/",
                Ok("https://example.com/entrepot"),
            ),
            ("  https://[::1]:8443  ", Ok("https://[::1]:8443")),
            ("ftp://example.com", Err(BaseUrlError::Scheme)),
            ("example.com", Err(BaseUrlError::Scheme)),
            ("https://", Err(BaseUrlError::Host)),
            ("https://exa mple.com", Err(BaseUrlError::Host)),
            (
                "https://example.com/?x=1",
                Err(BaseUrlError::QueryOrFragment),
            ),
            (
                "https://example.com/#top",
                Err(BaseUrlError::QueryOrFragment),
            ),
        ];
        for (input, expected) in cases {
            let actual = ConfiguredBaseUrl::new(input);
            let actual = actual.as_ref().map(|url| url.get().unwrap());
            assert_eq!(actual, expected.as_ref().map(|s| *s), "{input:?}");
        }
    }

    #[test]
    fn derived_from_headers() {
        let cases: [(&[(&str, &str)], &str); 8] = [
            (&[("Host", "pkg.local:8080")], "http://pkg.local:8080"),
            (
                &[
                    ("Host", "internal:8080"),
                    ("X-Forwarded-Proto", "https"),
                    ("X-Forwarded-Host", "pkg.example.com"),
                ],
                "https://pkg.example.com",
            ),
            (
                &[("X-Forwarded-Proto", "https, http"), ("Host", "a.example")],
                "https://a.example",
            ),
            (
                &[("Forwarded", "proto=https;host=fwd.example"), ("Host", "x")],
                "https://fwd.example",
            ),
            (
                &[("X-Forwarded-Proto", "gopher"), ("Host", "a.example")],
                "http://a.example",
            ),
            (
                &[("X-Forwarded-Proto", "HTTPS"), ("Host", "a.example")],
                "https://a.example",
            ),
            // An injected host is ignored for the server's own name.
            (
                &[("X-Forwarded-Host", "evil.example/\"><x")],
                "http://localhost:8080",
            ),
            (&[("Host", "[::1]:8080")], "http://[::1]:8080"),
        ];
        for (headers, expected) in cases {
            let mut request = TestRequest::default();
            for header in headers {
                request = request.insert_header(*header);
            }
            assert_eq!(
                from_request(&request.to_http_request()),
                expected,
                "{headers:?}"
            );
        }
    }

    #[test]
    fn configuration_wins_over_headers() {
        let configured = ConfiguredBaseUrl::new("https://pkg.example.com/").unwrap();
        let request = TestRequest::default()
            .insert_header(("Host", "internal:8080"))
            .app_data(web::Data::new(configured))
            .to_http_request();
        assert_eq!(external_base_url(&request), "https://pkg.example.com");

        let unset = TestRequest::default()
            .insert_header(("Host", "internal:8080"))
            .app_data(web::Data::new(ConfiguredBaseUrl::from_request_headers()))
            .to_http_request();
        assert_eq!(external_base_url(&unset), "http://internal:8080");
    }

    #[actix_web::test]
    async fn extractor() {
        let request = TestRequest::default()
            .insert_header(("Host", "h.example"))
            .to_http_request();
        let BaseUrl(url) = BaseUrl::extract(&request).await.unwrap();
        assert_eq!(url, "http://h.example");
    }
}
