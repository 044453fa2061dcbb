//! The deployment's permission configuration: scoping table, anonymous reads, delete guard.
//!
//! Every field has the spec's default, so an empty configuration section behaves like
//! github.com. Registry code asks the policy (`policy.scoping(PackageType::Npm)`) instead of
//! testing package types, so that a deployment can move npm, NuGet or RubyGems to the
//! repository-scoped model as GitHub Enterprise Server does.

use serde::{Deserialize, Serialize};

use crate::model::{PackageType, ScopingModel};

small_set! {
    /// A set of package types, e.g. the registries with anonymous read enabled.
    PackageTypeSet of PackageType
}

/// Which scoping model each package type uses. Deserializes from a partial map
/// (`{ npm = "repository" }`); missing entries keep their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScopingTable {
    container: ScopingModel,
    npm: ScopingModel,
    nuget: ScopingModel,
    rubygems: ScopingModel,
    maven: ScopingModel,
}

impl Default for ScopingTable {
    /// As on github.com: Maven (and so Gradle) repository-scoped, the others granular.
    fn default() -> Self {
        Self {
            container: ScopingModel::Granular,
            npm: ScopingModel::Granular,
            nuget: ScopingModel::Granular,
            rubygems: ScopingModel::Granular,
            maven: ScopingModel::Repository,
        }
    }
}

impl ScopingTable {
    pub const fn get(&self, package_type: PackageType) -> ScopingModel {
        match package_type {
            PackageType::Container => self.container,
            PackageType::Npm => self.npm,
            PackageType::Nuget => self.nuget,
            PackageType::Rubygems => self.rubygems,
            PackageType::Maven => self.maven,
        }
    }

    pub fn set(&mut self, package_type: PackageType, model: ScopingModel) {
        let slot = match package_type {
            PackageType::Container => &mut self.container,
            PackageType::Npm => &mut self.npm,
            PackageType::Nuget => &mut self.nuget,
            PackageType::Rubygems => &mut self.rubygems,
            PackageType::Maven => &mut self.maven,
        };
        *slot = model;
    }
}

/// The permission configuration of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Which scoping model each package type uses.
    pub scoping: ScopingTable,
    /// Package types whose public packages anonymous clients may read (default: container,
    /// GitHub's rule).
    pub anonymous_read: PackageTypeSet,
    /// A public package or version with more downloads than this can only be deleted by a
    /// site admin.
    pub delete_guard_downloads: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            scoping: ScopingTable::default(),
            anonymous_read: PackageTypeSet::only(PackageType::Container),
            delete_guard_downloads: 5000,
        }
    }
}

impl Policy {
    /// The scoping model of `package_type`.
    pub const fn scoping(&self, package_type: PackageType) -> ScopingModel {
        self.scoping.get(package_type)
    }

    /// Whether public packages of `package_type` are readable without credentials.
    pub const fn anonymous_read(&self, package_type: PackageType) -> bool {
        self.anonymous_read.contains(package_type)
    }

    pub fn set_scoping(&mut self, package_type: PackageType, model: ScopingModel) {
        self.scoping.set(package_type, model);
    }

    pub fn set_anonymous_read(&mut self, package_type: PackageType, enabled: bool) {
        self.anonymous_read = if enabled {
            self.anonymous_read.with(package_type)
        } else {
            self.anonymous_read.without(package_type)
        };
    }

    /// Builder form of [`Policy::set_scoping`].
    #[must_use]
    pub fn with_scoping(mut self, package_type: PackageType, model: ScopingModel) -> Self {
        self.set_scoping(package_type, model);
        self
    }

    /// Builder form of [`Policy::set_anonymous_read`].
    #[must_use]
    pub fn with_anonymous_read(mut self, package_type: PackageType, enabled: bool) -> Self {
        self.set_anonymous_read(package_type, enabled);
        self
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, MapDeserializer};

    use super::*;

    fn from_pairs<'a, T: Deserialize<'a>>(pairs: &[(&'a str, &'a str)]) -> Result<T, Error> {
        T::deserialize(MapDeserializer::new(pairs.iter().copied()))
    }

    #[test]
    fn defaults_are_the_spec_defaults() {
        let policy = Policy::default();
        for t in PackageType::ALL.iter().copied() {
            let expected = if t == PackageType::Maven {
                ScopingModel::Repository
            } else {
                ScopingModel::Granular
            };
            assert_eq!(policy.scoping(t), expected);
            assert_eq!(policy.anonymous_read(t), t == PackageType::Container);
        }
        assert_eq!(policy.delete_guard_downloads, 5000);
    }

    #[test]
    fn empty_config_deserializes_to_defaults() {
        assert_eq!(from_pairs::<Policy>(&[]).unwrap(), Policy::default());
    }

    #[test]
    fn partial_scoping_table_keeps_other_defaults() {
        let table: ScopingTable = from_pairs(&[("npm", "repository")]).unwrap();
        assert_eq!(table.get(PackageType::Npm), ScopingModel::Repository);
        assert_eq!(table.get(PackageType::Maven), ScopingModel::Repository);
        assert_eq!(table.get(PackageType::Nuget), ScopingModel::Granular);
        assert!(from_pairs::<ScopingTable>(&[("gradel", "granular")]).is_err());
    }

    #[test]
    fn anonymous_read_accepts_a_comma_list() {
        let policy: Policy = from_pairs(&[("anonymous_read", "container, npm")]).unwrap();
        assert!(policy.anonymous_read(PackageType::Npm));
        assert!(!policy.anonymous_read(PackageType::Maven));
        assert!(from_pairs::<Policy>(&[("anonymous_read", "container,cargo")]).is_err());
        assert!(from_pairs::<Policy>(&[("anonymus_read", "npm")]).is_err());
    }

    #[test]
    fn anonymous_read_accepts_a_sequence() {
        let set =
            PackageTypeSet::deserialize(vec!["npm", "maven"].into_deserializer()
                as serde::de::value::SeqDeserializer<_, Error>)
            .unwrap();
        assert_eq!(
            set,
            PackageTypeSet::only(PackageType::Npm).with(PackageType::Maven)
        );
    }

    #[test]
    fn setters_change_one_entry() {
        let policy = Policy::default()
            .with_scoping(PackageType::Npm, ScopingModel::Repository)
            .with_anonymous_read(PackageType::Container, false)
            .with_anonymous_read(PackageType::Maven, true);
        assert_eq!(policy.scoping(PackageType::Npm), ScopingModel::Repository);
        assert_eq!(
            policy.scoping(PackageType::Rubygems),
            ScopingModel::Granular
        );
        assert!(!policy.anonymous_read(PackageType::Container));
        assert!(policy.anonymous_read(PackageType::Maven));
    }
}
