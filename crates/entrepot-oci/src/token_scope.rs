//! Docker token-auth scopes and the `WWW-Authenticate: Bearer` challenge.
//!
//! A scope is `type[(class)]:name:action[,action…]` (Docker's token-scope grammar), for example
//! `repository:acme/app:pull,push`, `repository(plugin):acme/x:pull` or `registry:catalog:*`.
//! The name is whatever sits between the first and the last `:`, because a name may carry a
//! `host:port/` prefix. A token request may repeat `scope=` and a value may hold several scopes
//! separated by spaces; both are accepted. Unknown actions are kept, not refused: the token server
//! grants only what it understands, and clients invent actions (`delete`, `*`).

use std::fmt;

use crate::name::{NameError, RepoName};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    Pull,
    Push,
    Delete,
    /// `*`: every action (skopeo asks it for `delete`).
    All,
    Other(String),
}

impl Action {
    fn parse(s: &str) -> Self {
        match s {
            "pull" => Self::Pull,
            "push" => Self::Push,
            "delete" => Self::Delete,
            "*" => Self::All,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pull => "pull",
            Self::Push => "push",
            Self::Delete => "delete",
            Self::All => "*",
            Self::Other(s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("scope {0:?} is not type:name:actions")]
    Malformed(String),
    #[error("scope {0:?} has an invalid resource type")]
    BadType(String),
    #[error("scope {0:?} has an empty name")]
    EmptyName(String),
}

/// One requested (or granted) scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub resource_type: String,
    pub resource_class: Option<String>,
    pub name: String,
    pub actions: Vec<Action>,
}

fn is_type_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Scope {
    /// A `repository:NAME:actions` scope.
    pub fn repository(name: &str, actions: &[Action]) -> Self {
        Self {
            resource_type: "repository".into(),
            resource_class: None,
            name: name.into(),
            actions: actions.to_vec(),
        }
    }

    pub fn parse(input: &str) -> Result<Self, ScopeError> {
        let malformed = || ScopeError::Malformed(input.to_owned());
        let (ty, rest) = input.split_once(':').ok_or_else(malformed)?;
        let (name, actions) = rest.rsplit_once(':').ok_or_else(malformed)?;
        let (resource_type, resource_class) = match ty.split_once('(') {
            Some((t, class)) => {
                let class = class
                    .strip_suffix(')')
                    .ok_or_else(|| ScopeError::BadType(input.to_owned()))?;
                (t, Some(class))
            }
            None => (ty, None),
        };
        if !is_type_word(resource_type) || resource_class.is_some_and(|c| !is_type_word(c)) {
            return Err(ScopeError::BadType(input.to_owned()));
        }
        if name.is_empty() {
            return Err(ScopeError::EmptyName(input.to_owned()));
        }
        let actions = actions
            .split(',')
            .filter(|a| !a.is_empty())
            .map(Action::parse)
            .collect();
        Ok(Self {
            resource_type: resource_type.to_owned(),
            resource_class: resource_class.map(str::to_owned),
            name: name.to_owned(),
            actions,
        })
    }

    pub fn is_repository(&self) -> bool {
        self.resource_type == "repository"
    }

    /// The scope's name as an Entrepôt image name (for `repository` scopes).
    pub fn repository_name(&self) -> Result<RepoName, NameError> {
        RepoName::parse(&self.name)
    }

    pub fn wants(&self, action: &Action) -> bool {
        self.actions
            .iter()
            .any(|a| a == action || *a == Action::All)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource_type)?;
        if let Some(class) = &self.resource_class {
            write!(f, "({class})")?;
        }
        write!(f, ":{}:", self.name)?;
        for (i, a) in self.actions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(a.as_str())?;
        }
        Ok(())
    }
}

/// Parses every `scope` query value of a token request.
pub fn parse_scopes<S: AsRef<str>>(values: &[S]) -> Result<Vec<Scope>, ScopeError> {
    values
        .iter()
        .flat_map(|v| v.as_ref().split(' '))
        .filter(|s| !s.is_empty())
        .map(Scope::parse)
        .collect()
}

/// The `WWW-Authenticate` value a registry answers a 401 with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge<'a> {
    pub realm: &'a str,
    pub service: &'a str,
    pub scopes: &'a [Scope],
    /// Set when the token was valid but lacked the scope, so clients fetch a better one.
    pub insufficient_scope: bool,
}

fn quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in value.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

impl fmt::Display for Challenge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer realm=")?;
        quoted(f, self.realm)?;
        f.write_str(",service=")?;
        quoted(f, self.service)?;
        if !self.scopes.is_empty() {
            let scopes: Vec<String> = self.scopes.iter().map(Scope::to_string).collect();
            f.write_str(",scope=")?;
            quoted(f, &scopes.join(" "))?;
        }
        if self.insufficient_scope {
            f.write_str(",error=\"insufficient_scope\"")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let cases = [
            (
                "repository:ns/img:pull,push",
                "repository",
                None,
                "ns/img",
                vec![Action::Pull, Action::Push],
            ),
            (
                "repository:ns/copy:*",
                "repository",
                None,
                "ns/copy",
                vec![Action::All],
            ),
            (
                "repository(plugin):acme/x:pull",
                "repository",
                Some("plugin"),
                "acme/x",
                vec![Action::Pull],
            ),
            (
                "registry:catalog:*",
                "registry",
                None,
                "catalog",
                vec![Action::All],
            ),
            (
                "repository:localhost:5000/a/b:pull",
                "repository",
                None,
                "localhost:5000/a/b",
                vec![Action::Pull],
            ),
            (
                "repository:a/b:delete,mirror",
                "repository",
                None,
                "a/b",
                vec![Action::Delete, Action::Other("mirror".into())],
            ),
            ("repository:a/b:", "repository", None, "a/b", vec![]),
        ];
        for (input, ty, class, name, actions) in cases {
            let s = Scope::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (
                    s.resource_type.as_str(),
                    s.resource_class.as_deref(),
                    s.name.as_str(),
                    s.actions.clone()
                ),
                (ty, class, name, actions),
                "{input}"
            );
            assert_eq!(s.to_string(), input, "round trip");
        }
        let bad = [
            ("", ScopeError::Malformed(String::new())),
            ("repository", ScopeError::Malformed("repository".into())),
            (
                "repository:a/b",
                ScopeError::Malformed("repository:a/b".into()),
            ),
            (":a/b:pull", ScopeError::BadType(":a/b:pull".into())),
            (
                "repo sitory:a:pull",
                ScopeError::BadType("repo sitory:a:pull".into()),
            ),
            (
                "repository(plugin:a:pull",
                ScopeError::BadType("repository(plugin:a:pull".into()),
            ),
            (
                "repository():a:pull",
                ScopeError::BadType("repository():a:pull".into()),
            ),
            (
                "repository::pull",
                ScopeError::EmptyName("repository::pull".into()),
            ),
        ];
        for (input, expected) in bad {
            assert_eq!(Scope::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn several_scopes() {
        // skopeo's cross-repository copy, and a space-separated value.
        let got =
            parse_scopes(&["repository:ns/img:pull,push", "repository:ns/podman:pull"]).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].repository_name().unwrap().owner(), "ns");
        let got = parse_scopes(&["repository:a/b:pull repository:c/d:push"]).unwrap();
        assert_eq!(
            got.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["a/b", "c/d"]
        );
        assert_eq!(parse_scopes::<&str>(&[]).unwrap(), vec![]);
        assert!(parse_scopes(&["repository:a/b:pull", "oops"]).is_err());
    }

    #[test]
    fn wants() {
        let all = Scope::parse("repository:a/b:*").unwrap();
        assert!(all.wants(&Action::Push) && all.wants(&Action::Delete));
        let pull = Scope::parse("repository:a/b:pull").unwrap();
        assert!(pull.wants(&Action::Pull) && !pull.wants(&Action::Push));
        assert!(pull.is_repository());
        assert!(
            Scope::parse("repository:img:pull")
                .unwrap()
                .repository_name()
                .is_err()
        );
    }

    #[test]
    fn challenges() {
        let scopes = [Scope::repository("ns/img", &[Action::Pull])];
        let two = [
            Scope::repository("ns/artifact", &[Action::Pull, Action::Push]),
            Scope::repository("a/b", &[Action::Pull]),
        ];
        let realm = "http://127.0.0.1:5080/token";
        let cases = [
            (
                Challenge {
                    realm,
                    service: "demo-registry",
                    scopes: &[],
                    insufficient_scope: false,
                },
                r#"Bearer realm="http://127.0.0.1:5080/token",service="demo-registry""#,
            ),
            (
                Challenge {
                    realm,
                    service: "demo-registry",
                    scopes: &scopes,
                    insufficient_scope: true,
                },
                r#"Bearer realm="http://127.0.0.1:5080/token",service="demo-registry",scope="repository:ns/img:pull",error="insufficient_scope""#,
            ),
            (
                Challenge {
                    realm,
                    service: "s",
                    scopes: &two,
                    insufficient_scope: false,
                },
                r#"Bearer realm="http://127.0.0.1:5080/token",service="s",scope="repository:ns/artifact:pull,push repository:a/b:pull""#,
            ),
            (
                Challenge {
                    realm: "r\"x",
                    service: "a\\b",
                    scopes: &[],
                    insufficient_scope: false,
                },
                r#"Bearer realm="r\"x",service="a\\b""#,
            ),
        ];
        for (challenge, expected) in cases {
            assert_eq!(challenge.to_string(), expected);
        }
    }
}
