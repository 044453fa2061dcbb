//! Passwords: a length rule, argon2id hashing into a PHC string, and verification.
//!
//! Passwords log people in to the web UI and the API only; registry endpoints accept tokens,
//! never passwords, so argon2's deliberate slowness is paid once per login, not per download.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest accepted password, in bytes: long enough for any passphrase or generated password,
/// short enough that a request body cannot make hashing expensive.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {MIN_PASSWORD_CHARS} characters long")]
    TooShort,
    #[error("password must be at most {MAX_PASSWORD_BYTES} bytes long")]
    TooLong,
    /// The hasher itself failed; not the caller's fault. Carries argon2's message, which never
    /// includes the password.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Applies the length rule without hashing, e.g. to validate a form before doing anything else.
pub fn validate_password(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// Hashes an acceptable password with argon2id and a fresh random salt, returning the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) to store.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    validate_password(password)?;
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordError::Hashing(error.to_string()))
}

/// Whether `password` matches the stored PHC string. A malformed or foreign PHC string is a
/// mismatch, not an error: the caller's answer is "wrong credentials" either way.
///
/// The parameters come from the PHC string, so hashes made with older parameters still verify.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 20 ms here.
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify_password("correct horse battery staple", &phc));
        assert!(!verify_password("correct horse battery stapler", &phc));
        assert!(!verify_password("", &phc));
    }

    #[test]
    fn salts_differ() {
        let a = hash_password("same password").unwrap();
        let b = hash_password("same password").unwrap();
        assert_ne!(a, b);
        assert!(verify_password("same password", &a));
        assert!(verify_password("same password", &b));
    }

    #[test]
    fn length_rule() {
        let cases = [
            ("", Err(PasswordError::TooShort)),
            ("1234567", Err(PasswordError::TooShort)),
            // Characters, not bytes: seven two-byte characters are still too short.
            ("ééééééé", Err(PasswordError::TooShort)),
            ("12345678", Ok(())),
            ("éééééééé", Ok(())),
        ];
        for (password, expected) in cases {
            assert_eq!(validate_password(password), expected, "{password:?}");
        }
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(validate_password(&long), Err(PasswordError::TooLong));
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
    }

    #[test]
    fn malformed_phc_is_a_mismatch() {
        for phc in [
            "",
            "not a phc",
            "$argon2id$v=19$m=19456",
            "$2b$12$bcrypthashbcrypthash",
        ] {
            assert!(!verify_password("whatever password", phc), "{phc:?}");
        }
    }
}
