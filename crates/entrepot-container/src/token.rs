//! Registry bearer tokens: what `/token` hands out and every `/v2/` request may carry.
//!
//! A token is a JWT signed with HMAC-SHA256 (`header.claims.signature`, base64url without padding), so any replica
//! holding the shared key verifies it without state; tokens are never stored. The claims name the *hash* of the
//! personal access or workflow token that obtained it (never the secret), so each request authenticates that token
//! again through the service's cache, and revoking it ends its bearer tokens within the cache's lifetime. The
//! granted `access` only narrows what the permission core allows per request; it never widens it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// `{"alg":"HS256","typ":"JWT"}`, the only header we issue or accept.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// One repository's granted actions (`pull`, `push`, `delete`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub name: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// Hex sha256 of the token that obtained this one; `None` for an anonymous token.
    pub sub: Option<String>,
    pub access: Vec<Access>,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    /// Whether `action` on repository `name` was granted.
    pub fn allows(&self, name: &str, action: &str) -> bool {
        self.access.iter().any(|access| {
            access.resource_type == "repository"
                && access.name == name
                && access.actions.iter().any(|a| a == action)
        })
    }
}

/// Whether a presented bearer value is one of our registry tokens (rather than a personal access token).
pub fn looks_like_registry_token(value: &str) -> bool {
    value.starts_with(HEADER) && value.bytes().filter(|b| *b == b'.').count() == 2
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// Signs claims into a token.
pub fn sign(key: &[u8], claims: &Claims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{HEADER}.{payload}");
    let mut mac = mac(key);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Why a token was refused; the client only ever learns "invalid token".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
}

/// Verifies a token's signature and lifetime at `now` (unix seconds) and returns its claims.
pub fn verify(key: &[u8], token: &str, now: i64) -> Result<Claims, TokenError> {
    let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
    if header != HEADER {
        return Err(TokenError::Malformed);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut mac = mac(key);
    mac.update(signing_input.as_bytes());
    // Constant-time comparison, so the signature cannot be guessed byte by byte.
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    if claims.exp <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            iss: "entrepot".into(),
            sub: Some("ab".repeat(32)),
            access: vec![Access {
                resource_type: "repository".into(),
                name: "acme/app".into(),
                actions: vec!["pull".into(), "push".into()],
            }],
            iat: 100,
            exp,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let key = b"0123456789abcdef0123456789abcdef";
        let token = sign(key, &claims(200));
        assert!(looks_like_registry_token(&token));
        assert!(!looks_like_registry_token("etp_abcdef"));
        let got = verify(key, &token, 150).unwrap();
        assert_eq!(got, claims(200));
        assert!(got.allows("acme/app", "push"));
        assert!(!got.allows("acme/app", "delete"));
        assert!(!got.allows("acme/other", "pull"));
        assert_eq!(verify(key, &token, 200), Err(TokenError::Expired));
        assert_eq!(
            verify(b"another key", &token, 150),
            Err(TokenError::BadSignature)
        );
        // A tampered payload (more access) no longer matches its signature.
        let forged = sign(b"attacker", &claims(10_000));
        let forged_payload = forged.split('.').nth(1).unwrap();
        let tampered = format!(
            "{HEADER}.{forged_payload}.{}",
            token.rsplit('.').next().unwrap()
        );
        assert_eq!(verify(key, &tampered, 150), Err(TokenError::BadSignature));
        assert_eq!(verify(key, "a.b", 150), Err(TokenError::Malformed));
        assert_eq!(
            verify(key, &format!("{HEADER}.e30.AAAA"), 150),
            Err(TokenError::BadSignature)
        );
    }
}
