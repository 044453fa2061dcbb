//! Maven coordinates: group id, artifact id, and the naming rules a deployment enforces.

use std::fmt;

/// `groupId:artifactId`, the name of a Maven package (GitHub's convention: the package name leaves the owner out).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Coordinates {
    pub group_id: String,
    pub artifact_id: String,
}

impl Coordinates {
    pub fn new(group_id: impl Into<String>, artifact_id: impl Into<String>) -> Self {
        Self {
            group_id: group_id.into(),
            artifact_id: artifact_id.into(),
        }
    }

    /// The package name: `com.example:hello`.
    pub fn package_name(&self) -> String {
        format!("{}:{}", self.group_id, self.artifact_id)
    }

    /// `com/example/hello`: where the artifact lives in the repository layout.
    pub fn path(&self) -> String {
        format!("{}/{}", self.group_id.replace('.', "/"), self.artifact_id)
    }
}

impl fmt::Display for Coordinates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.group_id, self.artifact_id)
    }
}

/// How strictly artifact ids are checked at deploy time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArtifactIdRule {
    /// GitHub's rule: lowercase ASCII letters, digits and hyphens only.
    #[default]
    Lowercase,
    /// Whatever the repository layout can hold (the path rules still apply).
    Any,
}

/// Why an artifact id is refused; the message tells the user what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the artifact id {0:?} is not allowed: use only lowercase letters, digits and hyphens (for example {1:?})"
)]
pub struct ArtifactIdError(pub String, pub String);

impl ArtifactIdRule {
    pub fn check(self, artifact_id: &str) -> Result<(), ArtifactIdError> {
        match self {
            Self::Any => Ok(()),
            Self::Lowercase => {
                let ok = !artifact_id.is_empty()
                    && artifact_id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if ok {
                    Ok(())
                } else {
                    Err(ArtifactIdError(
                        artifact_id.to_owned(),
                        suggestion(artifact_id),
                    ))
                }
            }
        }
    }
}

fn suggestion(artifact_id: &str) -> String {
    artifact_id
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' | '-' => c,
            _ => '-',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        let c = Coordinates::new("com.example", "hello");
        assert_eq!(c.package_name(), "com.example:hello");
        assert_eq!(c.path(), "com/example/hello");
        assert_eq!(c.to_string(), "com.example:hello");
    }

    #[test]
    fn artifact_id_rule() {
        for ok in ["hello", "hello-file", "glib2", "a-1-b"] {
            assert_eq!(ArtifactIdRule::Lowercase.check(ok), Ok(()), "{ok}");
        }
        for bad in ["Hello", "hello_world", "hello.core", ""] {
            let error = ArtifactIdRule::Lowercase.check(bad).unwrap_err();
            assert!(error.to_string().contains("lowercase"), "{bad}");
        }
        assert_eq!(
            ArtifactIdRule::Lowercase.check("My_Lib").unwrap_err().1,
            "my-lib"
        );
        assert_eq!(ArtifactIdRule::Any.check("My_Lib"), Ok(()));
    }
}
