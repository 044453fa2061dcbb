//! The coordinates a POM declares, checked against the path it is deployed to.

use crate::coords::Coordinates;
use crate::xml::{self, XmlError};

/// What the server reads from a POM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PomFacts {
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
    pub packaging: String,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// Why a POM is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PomError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the root element is <{0}>, not <project>")]
    NotAPom(String),
    #[error("the POM has no {0}")]
    Missing(&'static str),
    #[error("the POM declares {field} {declared:?}, but it is deployed as {path:?}")]
    Contradicts {
        field: &'static str,
        declared: String,
        path: String,
    },
}

/// Parses a POM; the group id and version may come from `<parent>`, as Maven allows.
pub fn parse(bytes: &[u8]) -> Result<PomFacts, PomError> {
    let root = xml::parse(bytes)?;
    if root.name != "project" {
        return Err(PomError::NotAPom(root.name));
    }
    let parent = root.child("parent");
    let inherited = |field: &str| {
        root.child_text(field)
            .or_else(|| parent.and_then(|p| p.child_text(field)))
            .map(str::to_owned)
    };
    Ok(PomFacts {
        group_id: inherited("groupId").ok_or(PomError::Missing("groupId"))?,
        artifact_id: root
            .child_text("artifactId")
            .ok_or(PomError::Missing("artifactId"))?
            .to_owned(),
        version: inherited("version").ok_or(PomError::Missing("version"))?,
        packaging: root.child_text("packaging").unwrap_or("jar").to_owned(),
        name: root.child_text("name").map(str::to_owned),
        description: root.child_text("description").map(str::to_owned),
    })
}

/// Parses a POM and checks it declares the coordinates and version of its path. Values still holding a
/// `${property}` are not compared: resolving them would need the parent POMs.
pub fn parse_for(bytes: &[u8], coords: &Coordinates, version: &str) -> Result<PomFacts, PomError> {
    let facts = parse(bytes)?;
    for (field, declared, path) in [
        ("groupId", &facts.group_id, coords.group_id.as_str()),
        (
            "artifactId",
            &facts.artifact_id,
            coords.artifact_id.as_str(),
        ),
        ("version", &facts.version, version),
    ] {
        if !declared.contains("${") && declared != path {
            return Err(PomError::Contradicts {
                field,
                declared: declared.clone(),
                path: path.to_owned(),
            });
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POM: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>hello</artifactId>
  <version>1.1.0-SNAPSHOT</version>
  <packaging>jar</packaging>
  <dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>1</version></dependency></dependencies>
</project>"#;

    #[test]
    fn reads_coordinates() {
        let facts = parse(POM).unwrap();
        assert_eq!(facts.group_id, "com.example");
        assert_eq!(facts.artifact_id, "hello");
        assert_eq!(facts.version, "1.1.0-SNAPSHOT");
        assert_eq!(facts.packaging, "jar");
        let coords = Coordinates::new("com.example", "hello");
        assert!(parse_for(POM, &coords, "1.1.0-SNAPSHOT").is_ok());
    }

    /// What `mvn deploy:deploy-file` generates (maven-deploy-plugin 3.0.0).
    #[test]
    fn reads_a_generated_pom() {
        let pom = br#"<?xml version="1.0" encoding="UTF-8"?>
<project xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd" xmlns="http://maven.apache.org/POM/4.0.0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>hello-file</artifactId>
  <version>2.0.0</version>
</project>
"#;
        let coords = Coordinates::new("com.example", "hello-file");
        parse_for(pom, &coords, "2.0.0").unwrap();
    }

    #[test]
    fn inherits_from_parent() {
        let pom = br#"<project><parent><groupId>org.p</groupId><artifactId>parent</artifactId><version>3</version></parent>
            <artifactId>child</artifactId></project>"#;
        let facts = parse(pom).unwrap();
        assert_eq!(
            (facts.group_id.as_str(), facts.version.as_str()),
            ("org.p", "3")
        );
        assert_eq!(facts.packaging, "jar");
    }

    #[test]
    fn refuses_contradictions_and_garbage() {
        let coords = Coordinates::new("com.example", "hello");
        let error = parse_for(POM, &coords, "1.0.0").unwrap_err();
        assert!(
            matches!(
                error,
                PomError::Contradicts {
                    field: "version",
                    ..
                }
            ),
            "{error}"
        );
        let other = Coordinates::new("com.other", "hello");
        assert!(matches!(
            parse_for(POM, &other, "1.1.0-SNAPSHOT"),
            Err(PomError::Contradicts {
                field: "groupId",
                ..
            })
        ));
        assert!(matches!(
            parse(b"<project><groupId>"),
            Err(PomError::Xml(_))
        ));
        assert!(matches!(parse(b"<metadata/>"), Err(PomError::NotAPom(_))));
        assert!(matches!(
            parse(b"<project><groupId>a</groupId></project>"),
            Err(PomError::Missing("artifactId"))
        ));
        let templated = br#"<project><groupId>com.example</groupId><artifactId>hello</artifactId><version>${revision}</version></project>"#;
        assert!(parse_for(templated, &coords, "9").is_ok());
    }
}
