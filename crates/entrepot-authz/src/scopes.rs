//! Personal access token scopes, their implications and what each operation requires.
//!
//! A token stores exactly the scopes it was minted with; implications (`write:packages`
//! grants `read:packages`) are applied when deciding, so that the stored set round-trips and
//! a later change of the implication table needs no data migration.

use serde::{Deserialize, Serialize};

use crate::model::{Operation, ScopingModel};

/// One classic personal access token scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "read:packages")]
    ReadPackages = 0,
    #[serde(rename = "write:packages")]
    WritePackages = 1,
    #[serde(rename = "delete:packages")]
    DeletePackages = 2,
    #[serde(rename = "repo")]
    Repo = 3,
}
text_enum!(Scope, "scope", {
    ReadPackages => "read:packages",
    WritePackages => "write:packages",
    DeletePackages => "delete:packages",
    Repo => "repo",
});

small_set! {
    /// A set of token scopes, stored as minted (see the module docs for implications).
    Scopes of Scope
}

impl Default for Scopes {
    fn default() -> Self {
        Self::empty()
    }
}

impl Scopes {
    /// The set with every scope another scope in it implies: `write:packages` ⇒
    /// `read:packages`.
    #[must_use]
    pub const fn implied(self) -> Self {
        if self.contains(Scope::WritePackages) {
            self.with(Scope::ReadPackages)
        } else {
            self
        }
    }

    /// Whether these held scopes grant `scope`, implications included.
    pub const fn grants(self, scope: Scope) -> bool {
        self.implied().contains(scope)
    }

    /// The scopes of `required` that these held scopes do not grant.
    #[must_use]
    pub const fn lacking(self, required: Scopes) -> Scopes {
        required.difference(self.implied())
    }

    /// The scopes a token needs for `op` (spec §3 table). Repository-scoped packages add
    /// `repo` to everything but reads, as GitHub does for Maven and Gradle.
    pub const fn required_for(op: Operation, model: ScopingModel) -> Scopes {
        let base = match op {
            Operation::Read => Scopes::only(Scope::ReadPackages),
            Operation::Write | Operation::Restore | Operation::Manage => {
                Scopes::only(Scope::WritePackages)
            }
            Operation::Delete => Scopes::only(Scope::DeletePackages).with(Scope::ReadPackages),
        };
        match (op, model) {
            (Operation::Read, _) | (_, ScopingModel::Granular) => base,
            (_, ScopingModel::Repository) => base.with(Scope::Repo),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_round_trips() {
        let scopes: Scopes = "read:packages, repo write:packages".parse().unwrap();
        assert_eq!(
            scopes,
            Scopes::empty()
                .with(Scope::ReadPackages)
                .with(Scope::WritePackages)
                .with(Scope::Repo)
        );
        assert_eq!(scopes.to_string(), "read:packages, write:packages, repo");
        assert_eq!(scopes.to_string().parse::<Scopes>().unwrap(), scopes);
        assert_eq!("".parse::<Scopes>().unwrap(), Scopes::empty());
        assert!("read:packages,admin:org".parse::<Scopes>().is_err());
        assert_eq!(
            Scopes::parse_list(["repo", "read:packages"]).unwrap(),
            Scopes::only(Scope::Repo).with(Scope::ReadPackages)
        );
        assert!(Scopes::parse_list(vec!["repo, read:packages".to_owned()]).is_err());
    }

    #[test]
    fn bits_round_trip_and_refuse_unknown_bits() {
        for bits in 0..16u8 {
            assert_eq!(Scopes::from_bits(bits).unwrap().bits(), bits);
        }
        assert_eq!(Scopes::from_bits(16), None);
        assert_eq!(Scopes::all().len(), 4);
    }

    #[test]
    fn write_implies_read_but_is_not_stored() {
        let write = Scopes::only(Scope::WritePackages);
        assert!(!write.contains(Scope::ReadPackages));
        assert!(write.grants(Scope::ReadPackages));
        assert!(!Scopes::only(Scope::DeletePackages).grants(Scope::ReadPackages));
        assert!(!Scopes::only(Scope::ReadPackages).grants(Scope::WritePackages));
    }

    #[test]
    fn lacking_names_only_what_is_missing() {
        let delete = Scopes::required_for(Operation::Delete, ScopingModel::Granular);
        assert_eq!(
            Scopes::only(Scope::DeletePackages).lacking(delete),
            Scopes::only(Scope::ReadPackages)
        );
        let with_write = Scopes::only(Scope::DeletePackages).with(Scope::WritePackages);
        assert!(with_write.lacking(delete).is_empty());
    }

    #[test]
    fn repository_scoped_adds_repo_except_for_reads() {
        for op in Operation::ALL.iter().copied() {
            let granular = Scopes::required_for(op, ScopingModel::Granular);
            let repository = Scopes::required_for(op, ScopingModel::Repository);
            assert!(!granular.contains(Scope::Repo));
            assert_eq!(repository.contains(Scope::Repo), op != Operation::Read);
            assert_eq!(repository.without(Scope::Repo), granular);
        }
    }
}
