//! Scoped package names: decoding them from URL path segments and validating npm's naming rules.
//!
//! Entrepôt serves scoped packages only, because the scope is the owner: `@acme/lib` is the package `lib` of the
//! account `acme`. The rules follow `validate-npm-package-name` for new packages, which is stricter than what the
//! public registry still tolerates for legacy names; a new registry has no legacy to carry.

use std::fmt;

use thiserror::Error;

/// npm's limit on the length of a full name, scope included.
pub const MAX_NAME_LENGTH: usize = 214;

/// Names that npm refuses because they would clash with files a client writes next to packages.
const RESERVED: &[&str] = &["node_modules", "favicon.ico"];

/// Why a package name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("package name is empty")]
    Empty,
    #[error("Entrepôt serves scoped packages only: use @OWNER/name")]
    Unscoped,
    #[error("package name has an empty scope or name: use @OWNER/name")]
    EmptyPart,
    #[error("package name has more than one `/`: use @OWNER/name")]
    TooManySlashes,
    #[error("package name is longer than {MAX_NAME_LENGTH} characters")]
    TooLong,
    #[error("package name must be lowercase")]
    Uppercase,
    #[error("package name and scope must not start with `.` or `_`")]
    LeadingDotOrUnderscore,
    #[error("package name contains {0:?}: only a-z, 0-9, `-`, `.` and `_` are allowed")]
    InvalidChar(char),
    #[error("package name contains an invalid percent-escape")]
    BadEscape,
    #[error("`{0}` is a reserved name")]
    Reserved(String),
}

/// A valid scoped package name, `@scope/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageName {
    scope: String,
    name: String,
}

impl PackageName {
    /// Parses a full name as written in package.json: `@scope/name`.
    pub fn parse(full: &str) -> Result<Self, NameError> {
        if full.is_empty() {
            return Err(NameError::Empty);
        }
        // An unscoped name is refused before its characters are checked, so the common mistake (`npm publish` of
        // `lib`) gets the message that tells the user what to do.
        let Some(rest) = full.strip_prefix('@') else {
            return Err(NameError::Unscoped);
        };
        let (scope, name) = rest.split_once('/').ok_or(NameError::Unscoped)?;
        if name.contains('/') {
            return Err(NameError::TooManySlashes);
        }
        if scope.is_empty() || name.is_empty() {
            return Err(NameError::EmptyPart);
        }
        if full.chars().count() > MAX_NAME_LENGTH {
            return Err(NameError::TooLong);
        }
        for part in [scope, name] {
            check_part(part)?;
        }
        if RESERVED.contains(&name) {
            return Err(NameError::Reserved(name.to_owned()));
        }
        Ok(Self {
            scope: scope.to_owned(),
            name: name.to_owned(),
        })
    }

    /// Parses the package segment of a registry URL. Clients escape the slash differently (npm `%2f`, pnpm `%2F`,
    /// tarball paths and some tools not at all), and older clients escape the `@` as `%40`.
    pub fn from_path_segment(segment: &str) -> Result<Self, NameError> {
        Self::parse(&percent_decode(segment)?)
    }

    /// The scope without `@`: the owner's login.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The name without the scope: the package's name in Entrepôt's database.
    pub fn bare(&self) -> &str {
        &self.name
    }

    /// `@scope/name`.
    pub fn full(&self) -> String {
        format!("@{}/{}", self.scope, self.name)
    }

    /// The escaped form npm itself puts in URLs: `@scope%2fname`.
    pub fn escaped(&self) -> String {
        format!("@{}%2f{}", self.scope, self.name)
    }

    /// The file name the registry serves a version's tarball under, as the public registry does: `name-1.0.0.tgz`.
    pub fn tarball_filename(&self, version: &str) -> String {
        format!("{}-{}.tgz", self.name, version)
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}/{}", self.scope, self.name)
    }
}

fn check_part(part: &str) -> Result<(), NameError> {
    if part.starts_with('.') || part.starts_with('_') {
        return Err(NameError::LeadingDotOrUnderscore);
    }
    for c in part.chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' | '.' | '_' => {}
            'A'..='Z' => return Err(NameError::Uppercase),
            other => return Err(NameError::InvalidChar(other)),
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes. Anything that does not decode to UTF-8 is refused rather than replaced, so two different
/// segments never name the same package.
fn percent_decode(segment: &str) -> Result<String, NameError> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(NameError::BadEscape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| NameError::BadEscape)?;
            let byte = u8::from_str_radix(hex, 16).map_err(|_| NameError::BadEscape)?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| NameError::BadEscape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn path_segments() {
        let ok: &[(&str, &str, &str)] = &[
            ("@acme%2flib", "acme", "lib"),
            ("@acme%2Flib", "acme", "lib"),
            ("@acme/lib", "acme", "lib"),
            ("%40acme%2flib", "acme", "lib"),
            ("@my-org%2fmy.pkg_2", "my-org", "my.pkg_2"),
            ("@a%2fb", "a", "b"),
            ("@acme%2flib-", "acme", "lib-"),
        ];
        for (segment, scope, bare) in ok {
            let name = PackageName::from_path_segment(segment)
                .unwrap_or_else(|e| panic!("{segment}: {e}"));
            assert_eq!((name.scope(), name.bare()), (*scope, *bare), "{segment}");
        }
    }

    #[test]
    fn refused_names() {
        let long = format!("@acme/{}", "a".repeat(MAX_NAME_LENGTH));
        let cases: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            ("lib", NameError::Unscoped),
            ("demo-demo", NameError::Unscoped),
            ("@acme", NameError::Unscoped),
            ("@acme%2f", NameError::EmptyPart),
            ("@%2flib", NameError::EmptyPart),
            ("@acme%2flib%2fx", NameError::TooManySlashes),
            ("@acme/lib/x", NameError::TooManySlashes),
            (&long, NameError::TooLong),
            ("@Acme%2flib", NameError::Uppercase),
            ("@acme%2fLib", NameError::Uppercase),
            ("@acme%2f.lib", NameError::LeadingDotOrUnderscore),
            ("@acme%2f_lib", NameError::LeadingDotOrUnderscore),
            ("@.acme%2flib", NameError::LeadingDotOrUnderscore),
            ("@acme%2fl%20b", NameError::InvalidChar(' ')),
            ("@acme%2flib~", NameError::InvalidChar('~')),
            ("@acme%2fli(b)", NameError::InvalidChar('(')),
            ("@acme%2fl!b", NameError::InvalidChar('!')),
            ("@acme%2fcafé", NameError::InvalidChar('é')),
            ("@acme%2fa:b", NameError::InvalidChar(':')),
            ("@ac%me%2flib", NameError::BadEscape),
            ("@acme%2", NameError::BadEscape),
            ("@acme%2flib%", NameError::BadEscape),
            ("@acme%2f%ff", NameError::BadEscape),
            (
                "@acme%2fnode_modules",
                NameError::Reserved("node_modules".into()),
            ),
            (
                "@acme%2ffavicon.ico",
                NameError::Reserved("favicon.ico".into()),
            ),
        ];
        for (segment, want) in cases {
            assert_eq!(
                PackageName::from_path_segment(segment).as_ref(),
                Err(want),
                "{segment}"
            );
        }
    }

    #[test]
    fn unscoped_message_tells_what_to_do() {
        let error = PackageName::parse("lib").unwrap_err();
        assert_eq!(
            error.to_string(),
            "Entrepôt serves scoped packages only: use @OWNER/name"
        );
    }

    #[test]
    fn renderings() {
        let name = PackageName::parse("@acme/lib").unwrap();
        assert_eq!(name.full(), "@acme/lib");
        assert_eq!(name.to_string(), "@acme/lib");
        assert_eq!(name.escaped(), "@acme%2flib");
        assert_eq!(
            name.tarball_filename("1.0.0-beta.1"),
            "lib-1.0.0-beta.1.tgz"
        );
    }

    #[test]
    fn length_limit_counts_the_scope() {
        let exactly = format!("@ab/{}", "c".repeat(MAX_NAME_LENGTH - 4));
        assert!(PackageName::parse(&exactly).is_ok());
        let over = format!("@ab/{}", "c".repeat(MAX_NAME_LENGTH - 3));
        assert_eq!(PackageName::parse(&over), Err(NameError::TooLong));
    }

    proptest! {
        #[test]
        fn never_panics(segment in ".{0,300}") {
            let _ = PackageName::from_path_segment(&segment);
        }

        #[test]
        fn never_panics_on_escapes(segment in "[@%/a-zA-Z0-9._~-]{0,40}") {
            let _ = PackageName::from_path_segment(&segment);
        }

        #[test]
        fn valid_names_round_trip(scope in "[a-z0-9][a-z0-9-]{0,20}", bare in "[a-z0-9][a-z0-9._-]{0,40}") {
            let full = format!("@{scope}/{bare}");
            prop_assume!(!RESERVED.contains(&bare.as_str()));
            let name = PackageName::parse(&full).unwrap();
            prop_assert_eq!(name.full(), full);
            prop_assert_eq!(PackageName::from_path_segment(&name.escaped()).unwrap(), name);
        }
    }
}
