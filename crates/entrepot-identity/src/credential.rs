//! Credential extraction from the header values each supported client sends.
//!
//! What is accepted, and why:
//!
//! | header | example | result |
//! |---|---|---|
//! | `Authorization: Bearer T` | npm, pnpm, yarn, docker after the token flow | `Token(T)` |
//! | `Authorization: token T` | octokit and other GitHub API clients | `Token(T)` |
//! | `Authorization: T` (one word, no scheme) | `gem push` | `Token(T)` |
//! | `Authorization: Basic base64(user:T)` | Maven, Gradle, NuGet, bundler, docker login | `Basic` |
//! | `X-NuGet-ApiKey: T` | `nuget push -ApiKey T` | `Token(T)` |
//!
//! Scheme names are case-insensitive, and spaces or tabs around the value and between scheme
//! and value are ignored. A value with an unknown scheme (`Digest …`, `Negotiate …`), a scheme
//! without a value, several words after `Bearer`, or a `Basic` value that is not base64 of UTF-8
//! yields `None`: such a request is anonymous, and the route decides whether that is enough.
//! When `Authorization` yields a credential it wins over `X-NuGet-ApiKey`, because NuGet sends
//! its API key on every push (often a placeholder) and sends `Basic` only after a 401 challenge.
//!
//! For `Basic`, which half holds the token is decided by [`Credential::token_candidate`]:
//! normally the password (`alice:T`, `x:T`, `:T`), but the username when the password is empty
//! (`T:`, `base64(T)` with no colon) or when only the username has a token's shape
//! (`T:x-oauth-basic`, GitHub's old convention).

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::secret::Secret;
use crate::token::looks_like_token;

/// Credentials presented by a request, before anything has checked them.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A bare token: `Bearer`, `token`, RubyGems' scheme-less value, or `X-NuGet-ApiKey`.
    Token(Secret),
    /// `Basic` credentials. The username is a login, or the token itself in the `T:` style.
    Basic { username: String, password: Secret },
}

impl Credential {
    /// The string to verify as a token. Registries accept tokens only, so for `Basic` this picks
    /// the half that holds it (see the module documentation).
    pub fn token_candidate(&self) -> Secret {
        match self {
            Credential::Token(token) => token.clone(),
            Credential::Basic { username, password } => {
                if Self::token_in_username(username, password) {
                    Secret::new(username.as_str())
                } else {
                    password.clone()
                }
            }
        }
    }

    /// The login a `Basic` credential names, when its username is a login rather than the token.
    /// Informational only (npm's login, the container `account`); the token decides who is
    /// calling.
    pub fn username(&self) -> Option<&str> {
        match self {
            // A username with a token's shape is never reported, even when the password holds
            // a token too: it would end up in a log line.
            Credential::Basic { username, password }
                if !username.is_empty()
                    && !looks_like_token(username)
                    && !Self::token_in_username(username, password) =>
            {
                Some(username)
            }
            _ => None,
        }
    }

    /// For a web or API password login: the `Basic` pair, when its username is a login.
    pub fn login_and_password(&self) -> Option<(&str, &Secret)> {
        match self {
            Credential::Basic { password, .. } => {
                self.username().map(|username| (username, password))
            }
            Credential::Token(_) => None,
        }
    }

    fn token_in_username(username: &str, password: &Secret) -> bool {
        let password = password.expose();
        password.is_empty()
            || (!username.is_empty() && looks_like_token(username) && !looks_like_token(password))
    }
}

// Hand-written so that a username holding the token (the `T:` style) is redacted too.
impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Token(token) => f.debug_tuple("Token").field(token).finish(),
            Credential::Basic { password, .. } => f
                .debug_struct("Basic")
                .field("username", &self.username().unwrap_or("[redacted]"))
                .field("password", password)
                .finish(),
        }
    }
}

/// Reads the credentials out of the `Authorization` and `X-NuGet-ApiKey` header values.
/// Never panics, whatever the input; see the module documentation for what is accepted.
pub fn extract(authorization: Option<&str>, nuget_api_key: Option<&str>) -> Option<Credential> {
    authorization
        .and_then(from_authorization)
        .or_else(|| nuget_api_key.and_then(from_api_key))
}

fn from_authorization(value: &str) -> Option<Credential> {
    let value = trim_http_whitespace(value);
    match value.split_once([' ', '\t']) {
        None => {
            // One word: RubyGems' raw token, unless it is a scheme name standing alone.
            if is_scheme_name(value) {
                None
            } else {
                single_word(value).map(|token| Credential::Token(Secret::new(token)))
            }
        }
        Some((scheme, rest)) => {
            let rest = trim_http_whitespace(rest);
            if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
                single_word(rest).map(|token| Credential::Token(Secret::new(token)))
            } else if scheme.eq_ignore_ascii_case("basic") {
                single_word(rest).and_then(decode_basic)
            } else {
                None
            }
        }
    }
}

fn from_api_key(value: &str) -> Option<Credential> {
    single_word(trim_http_whitespace(value)).map(|key| Credential::Token(Secret::new(key)))
}

fn decode_basic(encoded: &str) -> Option<Credential> {
    // Padding is optional in practice: some clients strip it.
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let decoded = LENIENT.decode(encoded).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    // `echo user:token | base64` is a common way to build the header by hand; its newline is
    // never part of a token.
    let decoded = decoded.trim_end_matches(['\r', '\n']);
    // RFC 7617: the user-id cannot contain a colon, the password can.
    let (username, password) = decoded.split_once(':').unwrap_or((decoded, ""));
    if username.is_empty() && password.is_empty() {
        return None;
    }
    Some(Credential::Basic {
        username: username.to_owned(),
        password: Secret::new(password),
    })
}

fn is_scheme_name(word: &str) -> bool {
    ["bearer", "basic", "token"]
        .iter()
        .any(|scheme| word.eq_ignore_ascii_case(scheme))
}

/// A non-empty run of visible ASCII: what a token, an API key or a base64 blob can be.
fn single_word(value: &str) -> Option<&str> {
    let visible = |b: &u8| (0x21..=0x7e).contains(b);
    (!value.is_empty() && value.as_bytes().iter().all(visible)).then_some(value)
}

fn trim_http_whitespace(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{TokenKind, generate};
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use proptest::prelude::*;

    fn b64(text: &str) -> String {
        STANDARD.encode(text)
    }

    fn token(value: &str) -> Option<Credential> {
        Some(Credential::Token(Secret::new(value)))
    }

    fn basic(username: &str, password: &str) -> Option<Credential> {
        Some(Credential::Basic {
            username: username.to_owned(),
            password: Secret::new(password),
        })
    }

    #[test]
    fn extract_table() {
        /// Name, `Authorization`, `X-NuGet-ApiKey`, expected credential.
        type Case = (
            &'static str,
            Option<String>,
            Option<&'static str>,
            Option<Credential>,
        );
        let cases: Vec<Case> = vec![
            ("nothing", None, None, None),
            ("bearer", Some("Bearer abc".into()), None, token("abc")),
            (
                "bearer lower case",
                Some("bearer abc".into()),
                None,
                token("abc"),
            ),
            (
                "bearer upper case",
                Some("BEARER abc".into()),
                None,
                token("abc"),
            ),
            (
                "bearer extra spaces",
                Some("  Bearer    abc  ".into()),
                None,
                token("abc"),
            ),
            ("bearer tab", Some("Bearer\tabc".into()), None, token("abc")),
            (
                "bearer jwt",
                Some("Bearer eyJ0.eyJz.c2ln-_".into()),
                None,
                token("eyJ0.eyJz.c2ln-_"),
            ),
            ("bearer alone", Some("Bearer".into()), None, None),
            ("bearer and spaces", Some("Bearer   ".into()), None, None),
            ("bearer two words", Some("Bearer a b".into()), None, None),
            (
                "github token scheme",
                Some("token abc".into()),
                None,
                token("abc"),
            ),
            (
                "rubygems raw",
                Some("rubygems_testkey123".into()),
                None,
                token("rubygems_testkey123"),
            ),
            (
                "rubygems raw padded",
                Some(" key ".into()),
                None,
                token("key"),
            ),
            ("raw with control char", Some("ab\u{1}c".into()), None, None),
            ("raw non-ascii", Some("clé".into()), None, None),
            (
                "unknown scheme",
                Some("Digest username=x".into()),
                None,
                None,
            ),
            ("negotiate", Some("Negotiate YIIB".into()), None, None),
            ("empty", Some(String::new()), None, None),
            ("only spaces", Some("   ".into()), None, None),
            (
                "basic",
                Some(format!("Basic {}", b64("alice:tok"))),
                None,
                basic("alice", "tok"),
            ),
            (
                "basic scheme case",
                Some(format!("bAsIc {}", b64("alice:tok"))),
                None,
                basic("alice", "tok"),
            ),
            (
                "basic no padding",
                Some(format!("Basic {}", STANDARD_NO_PAD.encode("alice:t"))),
                None,
                basic("alice", "t"),
            ),
            (
                "basic colon in password",
                Some(format!("Basic {}", b64("a:b:c"))),
                None,
                basic("a", "b:c"),
            ),
            (
                "basic empty user",
                Some(format!("Basic {}", b64(":tok"))),
                None,
                basic("", "tok"),
            ),
            (
                "basic token as user",
                Some(format!("Basic {}", b64("tok:"))),
                None,
                basic("tok", ""),
            ),
            (
                "basic no colon",
                Some(format!("Basic {}", b64("tok"))),
                None,
                basic("tok", ""),
            ),
            (
                "basic trailing newline",
                Some(format!("Basic {}", b64("alice:tok\n"))),
                None,
                basic("alice", "tok"),
            ),
            (
                "basic both empty",
                Some(format!("Basic {}", b64(":"))),
                None,
                None,
            ),
            ("basic nothing", Some("Basic ".into()), None, None),
            ("basic alone", Some("Basic".into()), None, None),
            (
                "basic malformed base64",
                Some("Basic !!!notbase64".into()),
                None,
                None,
            ),
            (
                "basic base64 bad length",
                Some("Basic a".into()),
                None,
                None,
            ),
            (
                "basic not utf-8",
                Some(format!("Basic {}", STANDARD.encode([0xff, b':', 0xfe]))),
                None,
                None,
            ),
            (
                "basic two words",
                Some(format!("Basic {} x", b64("a:b"))),
                None,
                None,
            ),
            ("nuget api key", None, Some("key123"), token("key123")),
            (
                "nuget api key padded",
                None,
                Some("  key123 "),
                token("key123"),
            ),
            ("nuget api key empty", None, Some(""), None),
            ("nuget api key with space", None, Some("a b"), None),
            (
                "authorization wins over api key",
                Some("Bearer abc".into()),
                Some("placeholder"),
                token("abc"),
            ),
            (
                "api key when authorization is garbage",
                Some("Digest x".into()),
                Some("key"),
                token("key"),
            ),
        ];
        for (name, authorization, api_key, expected) in cases {
            let actual = extract(authorization.as_deref(), api_key);
            assert_eq!(actual, expected, "case {name:?}");
        }
    }

    #[test]
    fn token_candidate_table() {
        let real = generate(TokenKind::Personal);
        let real = real.secret.expose();
        let cases: Vec<(&str, Credential, &str, Option<&str>)> = vec![
            ("bearer", Credential::Token(Secret::new(real)), real, None),
            (
                "user:token",
                basic("alice", real).unwrap(),
                real,
                Some("alice"),
            ),
            ("x:token", basic("x", real).unwrap(), real, Some("x")),
            (":token", basic("", real).unwrap(), real, None),
            ("token:", basic(real, "").unwrap(), real, None),
            (
                "token:x-oauth-basic",
                basic(real, "x-oauth-basic").unwrap(),
                real,
                None,
            ),
            ("token:token", basic(real, real).unwrap(), real, None),
            // Neither half has our shape (e.g. a foreign or mistyped token): the password, as
            // every client means it; verification will then refuse it.
            (
                "alice:whatever",
                basic("alice", "whatever").unwrap(),
                "whatever",
                Some("alice"),
            ),
            ("opaque:", basic("opaque", "").unwrap(), "opaque", None),
        ];
        for (name, credential, candidate, username) in cases {
            assert_eq!(
                credential.token_candidate().expose(),
                candidate,
                "case {name:?}"
            );
            assert_eq!(credential.username(), username, "case {name:?}");
        }
    }

    #[test]
    fn login_and_password() {
        let credential = basic("alice", "s3cret-password").unwrap();
        let (login, password) = credential.login_and_password().unwrap();
        assert_eq!(login, "alice");
        assert_eq!(password.expose(), "s3cret-password");
        assert_eq!(basic("tok", "").unwrap().login_and_password(), None);
        assert_eq!(token("x").unwrap().login_and_password(), None);
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let real = generate(TokenKind::Personal);
        let real = real.secret.expose();
        let credentials = [
            Credential::Token(Secret::new(real)),
            basic("alice", real).unwrap(),
            basic(real, "").unwrap(),
            basic(real, "x-oauth-basic").unwrap(),
            basic(real, real).unwrap(),
            basic("alice", "a password").unwrap(),
        ];
        for credential in credentials {
            let rendered = format!("{credential:?}");
            assert!(!rendered.contains(real), "{rendered}");
            assert!(!rendered.contains("a password"), "{rendered}");
        }
        assert_eq!(
            format!("{:?}", basic("alice", "pw").unwrap()),
            r#"Basic { username: "alice", password: Secret([redacted]) }"#
        );
    }

    proptest! {
        #[test]
        fn extract_never_panics(authorization in proptest::option::of(".*"), api_key in proptest::option::of(".*")) {
            if let Some(credential) = extract(authorization.as_deref(), api_key.as_deref()) {
                let _ = credential.token_candidate();
                let _ = credential.username();
                let _ = format!("{credential:?}");
            }
        }

        #[test]
        fn extract_never_panics_on_basic_of_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64), scheme in "(?i)basic|bearer|token") {
            let header = format!("{scheme} {}", STANDARD.encode(&bytes));
            if let Some(credential) = extract(Some(&header), None) {
                let _ = credential.token_candidate();
            }
        }

        #[test]
        fn basic_round_trips(username in "[^:\r\n]{0,20}", password in "[^\r\n]{0,40}") {
            prop_assume!(!(username.is_empty() && password.is_empty()));
            let header = format!("Basic {}", b64(&format!("{username}:{password}")));
            prop_assert_eq!(extract(Some(&header), None), basic(&username, &password));
        }
    }
}
