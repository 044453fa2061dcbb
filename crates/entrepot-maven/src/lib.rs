//! Pure Maven repository protocol (no I/O): what the Maven front-end needs to know about the Maven 2 repository layout.
//!
//! - [`path`]: `/<group path>/<artifact>/<version>/<file>` and the two `maven-metadata.xml` levels, parsed and
//!   checked (traversal, encoded separators, a version directory that contradicts the file name).
//! - [`coords`]: group and artifact ids, and the artifact-id rule GitHub applies (configurable).
//! - [`version`]: Maven's version ordering (`ComparableVersion`'s rules, not semver).
//! - [`snapshot`]: timestamped SNAPSHOT file versions (`1.0-20261121.050659-3`).
//! - [`metadata`]: `maven-metadata.xml` rendered from what the server stores, and parsed from what clients send.
//! - [`pom`]: the coordinates a POM declares, to refuse one that contradicts its path.
//! - [`checksum`]: the `.md5 .sha1 .sha256 .sha512` side files.
//!
//! Who may deploy, whether a release file exists already and where bytes go are the service's business.

pub mod checksum;
pub mod coords;
pub mod metadata;
pub mod path;
pub mod pom;
pub mod snapshot;
pub mod version;

mod xml;
