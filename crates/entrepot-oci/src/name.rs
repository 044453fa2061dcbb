//! Repository names: the distribution spec's grammar and Entrepôt's owner / package split.
//!
//! The grammar is `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`. It is
//! checked by hand, one path component at a time: the grammar is small, a hand-written scanner
//! reports *which* rule failed (useful in an error's detail), and the crate avoids a regex
//! dependency for five lines of logic.
//!
//! distribution limits the whole name to 255 bytes; so do we, because the name ends up in URLs,
//! token scopes and database keys.

use std::fmt;
use std::str::FromStr;

/// The longest accepted repository name, in bytes (distribution's `RepositoryNameTotalLengthMax`).
pub const MAX_NAME_LEN: usize = 255;

/// Why a repository name was refused; every variant answers `NAME_INVALID`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("repository name is empty")]
    Empty,
    #[error("repository name is longer than {MAX_NAME_LEN} characters")]
    TooLong,
    #[error("repository name has an empty path component")]
    EmptyComponent,
    #[error("repository name contains the invalid character {0:?}")]
    InvalidChar(char),
    #[error("repository name component {0:?} must start and end with a lowercase letter or digit")]
    BadEdge(String),
    #[error("repository name component {0:?} has an invalid separator")]
    BadSeparator(String),
    /// Valid by the spec, but Entrepôt needs an owner: `/v2/OWNER/IMAGE`.
    #[error("repository name {0:?} has no owner: expected OWNER/IMAGE")]
    MissingOwner(String),
}

/// A repository name that follows the grammar and has an owner segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoName {
    full: String,
    /// Byte index of the first `/`, which splits the owner from the package name.
    slash: usize,
}

impl RepoName {
    /// Parses and validates a full repository name such as `acme/tools/app`.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        validate(input)?;
        match input.find('/') {
            Some(slash) => Ok(Self {
                full: input.to_owned(),
                slash,
            }),
            None => Err(NameError::MissingOwner(input.to_owned())),
        }
    }

    /// The full name, as it appears in URLs and scopes.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The account that owns the image: the first path segment.
    pub fn owner(&self) -> &str {
        &self.full[..self.slash]
    }

    /// The package name as Entrepôt stores it: everything after the owner.
    pub fn package(&self) -> &str {
        &self.full[self.slash + 1..]
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl FromStr for RepoName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Checks the spec's grammar only (no owner rule); for names that are not Entrepôt images, such
/// as the `from` repository of a mount, which still must be well formed.
pub fn validate(input: &str) -> Result<(), NameError> {
    if input.is_empty() {
        return Err(NameError::Empty);
    }
    if input.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    input.split('/').try_for_each(validate_component)
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn validate_component(component: &str) -> Result<(), NameError> {
    let bytes = component.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Err(NameError::EmptyComponent);
    };
    if let Some(bad) = component
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(NameError::InvalidChar(bad));
    }
    if !is_alnum(first) || !is_alnum(last) {
        return Err(NameError::BadEdge(component.to_owned()));
    }
    // Between alphanumeric runs, a separator is exactly `.`, `_`, `__`, or any number of `-`.
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return Err(NameError::BadSeparator(component.to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        let cases = [
            ("acme/app", "acme", "app"),
            ("acme/tools/app", "acme", "tools/app"),
            ("a/b", "a", "b"),
            ("acme-corp/my.app", "acme-corp", "my.app"),
            ("acme/my_app", "acme", "my_app"),
            ("acme/my__app", "acme", "my__app"),
            ("acme/my---app", "acme", "my---app"),
            ("0/9/8/7", "0", "9/8/7"),
            ("acme/a.b-c_d__e--f", "acme", "a.b-c_d__e--f"),
        ];
        for (input, owner, package) in cases {
            let name = RepoName::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(name.owner(), owner, "{input}");
            assert_eq!(name.package(), package, "{input}");
            assert_eq!(name.as_str(), input);
            assert_eq!(name.to_string(), input);
        }
    }

    #[test]
    fn invalid_names() {
        let long = format!("acme/{}", "a".repeat(251));
        let cases: Vec<(&str, NameError)> = vec![
            ("", NameError::Empty),
            ("app", NameError::MissingOwner("app".into())),
            ("Acme/app", NameError::InvalidChar('A')),
            ("acme/App", NameError::InvalidChar('A')),
            ("acme//app", NameError::EmptyComponent),
            ("/acme/app", NameError::EmptyComponent),
            ("acme/app/", NameError::EmptyComponent),
            ("acme/-app", NameError::BadEdge("-app".into())),
            ("acme/app-", NameError::BadEdge("app-".into())),
            ("acme/.app", NameError::BadEdge(".app".into())),
            ("acme/_app", NameError::BadEdge("_app".into())),
            ("acme/a..b", NameError::BadSeparator("a..b".into())),
            ("acme/a___b", NameError::BadSeparator("a___b".into())),
            ("acme/a._b", NameError::BadSeparator("a._b".into())),
            ("acme/a-.b", NameError::BadSeparator("a-.b".into())),
            ("acme/a b", NameError::InvalidChar(' ')),
            ("acme/a:b", NameError::InvalidChar(':')),
            ("acme/é", NameError::InvalidChar('é')),
            (long.as_str(), NameError::TooLong),
        ];
        for (input, expected) in cases {
            assert_eq!(RepoName::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn length_limit_is_inclusive() {
        let max = format!("acme/{}", "a".repeat(MAX_NAME_LEN - 5));
        assert_eq!(max.len(), MAX_NAME_LEN);
        assert!(RepoName::parse(&max).is_ok());
    }

    #[test]
    fn validate_allows_single_segment() {
        assert_eq!(validate("library"), Ok(()));
        assert_eq!(validate("Library"), Err(NameError::InvalidChar('L')));
    }
}
