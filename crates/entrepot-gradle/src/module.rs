//! Gradle module metadata (`<artifact>-<version>.module`): parse, validate, and extract variants and dependencies.
//!
//! The format (version 1.x) is JSON: a `component` naming group, module and version, and `variants`, each with
//! `attributes`, `dependencies`, `dependencyConstraints`, `files` and `capabilities`. The server keeps the file as
//! uploaded and records what it declares on the version, so the API can show a Gradle component's variants.

use std::collections::BTreeMap;

use entrepot_maven::coords::Coordinates;
use serde::{Deserialize, Serialize};

/// The major format version this server understands.
const FORMAT_MAJOR: &str = "1";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawModule {
    format_version: String,
    component: RawComponent,
    #[serde(default)]
    variants: Vec<RawVariant>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct RawComponent {
    group: String,
    module: String,
    version: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVariant {
    name: String,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    dependencies: Vec<RawDependency>,
    #[serde(default)]
    dependency_constraints: Vec<RawDependency>,
    #[serde(default)]
    files: Vec<RawFile>,
    #[serde(default, rename = "available-at")]
    available_at: Option<RawAvailableAt>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct RawDependency {
    group: String,
    module: String,
    #[serde(default)]
    version: Option<VersionConstraint>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct RawFile {
    name: String,
    url: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct RawAvailableAt {
    url: String,
    group: String,
    module: String,
    version: String,
}

/// A rich version constraint, as Gradle writes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VersionConstraint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strictly: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefers: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejects: Vec<String>,
}

/// A dependency a variant declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    pub group: String,
    pub module: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionConstraint>,
    /// `true` for a `dependencyConstraints` entry (a constraint, not a dependency).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub constraint: bool,
}

/// A variant of the component, as recorded on the version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    pub name: String,
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub dependencies: Vec<Dependency>,
    /// The names of the files the variant is made of.
    pub files: Vec<String>,
    /// `group:module:version` a variant is published at instead (Kotlin multiplatform style).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_at: Option<String>,
}

/// What the server records from a `.module` file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleFacts {
    pub format_version: String,
    pub variants: Vec<Variant>,
}

impl ModuleFacts {
    /// Every dependency of every variant, deduplicated, as `group:module`.
    pub fn dependency_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .variants
            .iter()
            .flat_map(|v| v.dependencies.iter().filter(|d| !d.constraint))
            .map(|d| format!("{}:{}", d.group, d.module))
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Why a `.module` file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    #[error("invalid Gradle module metadata: {0}")]
    Json(String),
    #[error("unsupported module metadata format {0:?} (this server reads format 1.x)")]
    Format(String),
    #[error("the module metadata describes {declared:?}, but it is deployed as {path:?}")]
    Contradicts { declared: String, path: String },
    #[error("invalid Gradle module metadata: {0}")]
    Invalid(String),
}

/// Parses and validates a `.module` file deployed at `coords` and version directory `version`.
pub fn parse_for(
    bytes: &[u8],
    coords: &Coordinates,
    version: &str,
) -> Result<ModuleFacts, ModuleError> {
    let raw: RawModule =
        serde_json::from_slice(bytes).map_err(|error| ModuleError::Json(error.to_string()))?;
    if raw.format_version.split('.').next() != Some(FORMAT_MAJOR) {
        return Err(ModuleError::Format(raw.format_version));
    }
    let declared = format!(
        "{}:{}:{}",
        raw.component.group, raw.component.module, raw.component.version
    );
    let path = format!("{}:{}:{}", coords.group_id, coords.artifact_id, version);
    if declared != path {
        return Err(ModuleError::Contradicts { declared, path });
    }
    let mut names = std::collections::BTreeSet::new();
    let mut variants = Vec::with_capacity(raw.variants.len());
    for variant in raw.variants {
        if variant.name.trim().is_empty() {
            return Err(ModuleError::Invalid("a variant has no name".into()));
        }
        if !names.insert(variant.name.clone()) {
            return Err(ModuleError::Invalid(format!(
                "the variant {:?} is declared twice",
                variant.name
            )));
        }
        for file in &variant.files {
            // Files are siblings of the .module; a URL elsewhere would let metadata point clients anywhere.
            if file.name.is_empty()
                || file.url.is_empty()
                || file.url.contains("..")
                || file.url.contains("://")
                || file.url.starts_with('/')
                || file.url.contains('\\')
            {
                return Err(ModuleError::Invalid(format!(
                    "the file {:?} of variant {:?} has an invalid url {:?}",
                    file.name, variant.name, file.url
                )));
            }
        }
        let dependencies = variant
            .dependencies
            .into_iter()
            .map(|d| (d, false))
            .chain(
                variant
                    .dependency_constraints
                    .into_iter()
                    .map(|d| (d, true)),
            )
            .map(|(d, constraint)| {
                if d.group.is_empty() || d.module.is_empty() {
                    return Err(ModuleError::Invalid(format!(
                        "a dependency of variant {:?} has no group or module",
                        variant.name
                    )));
                }
                Ok(Dependency {
                    group: d.group,
                    module: d.module,
                    version: d.version,
                    constraint,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        variants.push(Variant {
            name: variant.name,
            attributes: variant.attributes,
            dependencies,
            files: variant.files.into_iter().map(|f| f.name).collect(),
            available_at: variant
                .available_at
                .map(|at| format!("{}:{}:{} ({})", at.group, at.module, at.version, at.url)),
        });
    }
    Ok(ModuleFacts {
        format_version: raw.format_version,
        variants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module file as Gradle 6+ writes it (trimmed).
    const MODULE: &str = r#"{
  "formatVersion": "1.1",
  "component": { "group": "com.example", "module": "glib", "version": "1.0.0",
                 "attributes": { "org.gradle.status": "release" } },
  "createdBy": { "gradle": { "version": "8.5" } },
  "variants": [
    { "name": "apiElements",
      "attributes": { "org.gradle.category": "library", "org.gradle.usage": "java-api" },
      "dependencies": [ { "group": "com.example", "module": "hello", "version": { "requires": "1.0.0" } } ],
      "files": [ { "name": "glib-1.0.0.jar", "url": "glib-1.0.0.jar", "size": 261,
                   "sha512": "x", "sha256": "y", "sha1": "z", "md5": "w" } ] },
    { "name": "runtimeElements",
      "attributes": { "org.gradle.usage": "java-runtime" },
      "dependencies": [ { "group": "com.example", "module": "hello", "version": { "requires": "1.0.0" } },
                        { "group": "org.slf4j", "module": "slf4j-api", "version": { "strictly": "[1.7,2.0)", "prefers": "1.7.36" } } ],
      "dependencyConstraints": [ { "group": "org.x", "module": "y", "version": { "requires": "2" } } ],
      "files": [ { "name": "glib-1.0.0.jar", "url": "glib-1.0.0.jar" } ] }
  ]
}"#;

    fn coords() -> Coordinates {
        Coordinates::new("com.example", "glib")
    }

    #[test]
    fn extracts_variants_and_dependencies() {
        let facts = parse_for(MODULE.as_bytes(), &coords(), "1.0.0").unwrap();
        assert_eq!(facts.format_version, "1.1");
        let names: Vec<&str> = facts.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["apiElements", "runtimeElements"]);
        assert_eq!(facts.variants[0].files, ["glib-1.0.0.jar"]);
        assert_eq!(
            facts.variants[0].attributes["org.gradle.usage"],
            serde_json::json!("java-api")
        );
        let runtime = &facts.variants[1];
        assert_eq!(runtime.dependencies.len(), 3);
        assert!(runtime.dependencies[2].constraint);
        assert_eq!(
            runtime.dependencies[1]
                .version
                .as_ref()
                .unwrap()
                .strictly
                .as_deref(),
            Some("[1.7,2.0)")
        );
        assert_eq!(
            facts.dependency_names(),
            ["com.example:hello", "org.slf4j:slf4j-api"]
        );
        let json = serde_json::to_value(&facts).unwrap();
        assert_eq!(json["variants"][1]["dependencies"][2]["constraint"], true);
    }

    #[test]
    fn refuses_what_it_cannot_trust() {
        let c = coords();
        assert!(matches!(
            parse_for(b"{", &c, "1.0.0"),
            Err(ModuleError::Json(_))
        ));
        assert!(matches!(
            parse_for(b"[]", &c, "1.0.0"),
            Err(ModuleError::Json(_))
        ));
        assert!(matches!(
            parse_for(MODULE.as_bytes(), &c, "2.0.0"),
            Err(ModuleError::Contradicts { .. })
        ));
        let v2 = MODULE.replace("\"1.1\"", "\"2.0\"");
        assert!(matches!(
            parse_for(v2.as_bytes(), &c, "1.0.0"),
            Err(ModuleError::Format(_))
        ));
        let twice = MODULE.replace("runtimeElements", "apiElements");
        assert!(matches!(
            parse_for(twice.as_bytes(), &c, "1.0.0"),
            Err(ModuleError::Invalid(_))
        ));
        let escaping =
            MODULE.replacen("\"url\": \"glib-1.0.0.jar\"", "\"url\": \"../../x.jar\"", 1);
        assert!(matches!(
            parse_for(escaping.as_bytes(), &c, "1.0.0"),
            Err(ModuleError::Invalid(_))
        ));
        let nameless = MODULE.replace("\"name\": \"apiElements\"", "\"name\": \"\"");
        assert!(matches!(
            parse_for(nameless.as_bytes(), &c, "1.0.0"),
            Err(ModuleError::Invalid(_))
        ));
    }
}
