//! `GET /-/v1/search`: ranking candidate packages against the query text and the response npm prints.
//!
//! The server picks the candidates the caller may read; this module only orders and pages them. npm prints
//! `package.version` in its result table, so it is always present (Verdaccio omits it and npm shows "undefined").

use serde::Serialize;

use crate::name::PackageName;

/// Default and largest page sizes, as the public registry has them.
pub const DEFAULT_SIZE: usize = 20;
pub const MAX_SIZE: usize = 250;

/// A package the caller may read, described by its `latest` version.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub name: PackageName,
    pub version: String,
    pub description: Option<String>,
    pub keywords: Vec<String>,
    /// RFC 3339 time of the latest version.
    pub date: String,
    pub links: Links,
    pub publisher: Option<Publisher>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Links {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bugs: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publisher {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The query string of a search, with npm's `size`/`from` paging (other parameters, such as the weights npm
/// sends, do not apply to this ranking and are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub size: usize,
    pub from: usize,
}

impl Query {
    /// Builds a query from raw parameters: unparsable or missing numbers fall back to the defaults, and `size` is
    /// clamped to `1..=MAX_SIZE` so a client cannot ask for the whole registry at once.
    pub fn new(text: Option<&str>, size: Option<&str>, from: Option<&str>) -> Self {
        let size = size
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(DEFAULT_SIZE)
            .clamp(1, MAX_SIZE);
        let from = from
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(0);
        Self {
            text: text.unwrap_or_default().trim().to_lowercase(),
            size,
            from,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    pub objects: Vec<Object>,
    pub total: usize,
    pub time: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Object {
    pub package: Package,
    pub score: Score,
    #[serde(rename = "searchScore")]
    pub search_score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Package {
    pub name: String,
    pub scope: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub keywords: Vec<String>,
    pub date: String,
    pub links: Links,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<Publisher>,
    /// npm 11's result formatter maps over it: always present, the publisher when known.
    pub maintainers: Vec<Publisher>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    #[serde(rename = "final")]
    pub final_score: f64,
    pub detail: ScoreDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreDetail {
    pub quality: f64,
    pub popularity: f64,
    pub maintenance: f64,
}

/// How well a candidate matches, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    ExactName,
    NamePrefix,
    NameContains,
    DescriptionOrKeyword,
    /// An empty query lists everything.
    Any,
}

impl Tier {
    fn score(self) -> f64 {
        match self {
            Self::ExactName => 1.0,
            Self::NamePrefix => 0.8,
            Self::NameContains => 0.6,
            Self::DescriptionOrKeyword => 0.4,
            Self::Any => 0.2,
        }
    }
}

fn tier(candidate: &Candidate, text: &str) -> Option<Tier> {
    if text.is_empty() {
        return Some(Tier::Any);
    }
    // Every spelling counts: people search for `lib` as often as for `@acme/lib`, and for an owner by its scope.
    let full = candidate.name.full();
    let bare = candidate.name.bare();
    if full == text || bare == text {
        return Some(Tier::ExactName);
    }
    let scope = candidate.name.scope();
    if full.starts_with(text) || bare.starts_with(text) || scope.starts_with(text) {
        return Some(Tier::NamePrefix);
    }
    if full.contains(text) {
        return Some(Tier::NameContains);
    }
    let in_description = candidate
        .description
        .as_deref()
        .is_some_and(|d| d.to_lowercase().contains(text));
    let in_keywords = candidate
        .keywords
        .iter()
        .any(|k| k.to_lowercase().contains(text));
    (in_description || in_keywords).then_some(Tier::DescriptionOrKeyword)
}

/// Ranks `candidates` for `query` (exact name, name prefix, name substring, then description or keyword; ties by
/// name) and returns the requested page. `total` counts every match, not only the page.
pub fn search(candidates: &[Candidate], query: &Query, time: &str) -> Response {
    let mut matches: Vec<(Tier, &Candidate)> = candidates
        .iter()
        .filter_map(|c| tier(c, &query.text).map(|t| (t, c)))
        .collect();
    matches.sort_by(|(ta, a), (tb, b)| ta.cmp(tb).then_with(|| a.name.cmp(&b.name)));
    let total = matches.len();
    let objects = matches
        .into_iter()
        .skip(query.from)
        .take(query.size)
        .map(|(tier, candidate)| Object {
            package: Package {
                name: candidate.name.full(),
                scope: candidate.name.scope().to_owned(),
                version: candidate.version.clone(),
                description: candidate.description.clone(),
                keywords: candidate.keywords.clone(),
                date: candidate.date.clone(),
                links: candidate.links.clone(),
                publisher: candidate.publisher.clone(),
                maintainers: candidate.publisher.iter().cloned().collect(),
            },
            score: Score {
                final_score: tier.score(),
                detail: ScoreDetail {
                    quality: tier.score(),
                    popularity: 0.0,
                    maintenance: 0.0,
                },
            },
            search_score: tier.score(),
        })
        .collect();
    Response {
        objects,
        total,
        time: time.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn candidate(name: &str, description: &str, keywords: &[&str]) -> Candidate {
        Candidate {
            name: PackageName::parse(name).unwrap(),
            version: "1.0.0".into(),
            description: (!description.is_empty()).then(|| description.to_owned()),
            keywords: keywords.iter().map(ToString::to_string).collect(),
            date: "2026-11-21T05:00:48.256Z".into(),
            links: Links::default(),
            publisher: None,
        }
    }

    fn corpus() -> Vec<Candidate> {
        vec![
            candidate("@zeta/demo-tools", "", &[]),
            candidate("@acme/lib", "scoped demo", &[]),
            candidate("@acme/demo", "", &[]),
            candidate("@acme/other", "", &["Demo"]),
            candidate("@demo/lib", "", &[]),
            candidate("@acme/unrelated", "nothing here", &["x"]),
            candidate("@acme/ademo", "", &[]),
        ]
    }

    fn names(response: &Response) -> Vec<&str> {
        response
            .objects
            .iter()
            .map(|o| o.package.name.as_str())
            .collect()
    }

    #[test]
    fn ranking() {
        let cases: &[(&str, &[&str])] = &[
            // Exact bare name, then prefixes (bare `demo-tools`, scope `@demo/`), then substrings, then text.
            (
                "demo",
                &[
                    "@acme/demo",
                    "@demo/lib",
                    "@zeta/demo-tools",
                    "@acme/ademo",
                    "@acme/lib",
                    "@acme/other",
                ],
            ),
            ("@acme/lib", &["@acme/lib"]),
            ("LIB", &["@acme/lib", "@demo/lib"]),
            ("  nothing  ", &["@acme/unrelated"]),
            ("absent", &[]),
            (
                "",
                &[
                    "@acme/ademo",
                    "@acme/demo",
                    "@acme/lib",
                    "@acme/other",
                    "@acme/unrelated",
                    "@demo/lib",
                    "@zeta/demo-tools",
                ],
            ),
        ];
        for (text, want) in cases {
            let response = search(&corpus(), &Query::new(Some(text), None, None), "t");
            assert_eq!(names(&response), *want, "{text:?}");
            assert_eq!(response.total, want.len(), "{text:?}");
        }
    }

    #[test]
    fn paging() {
        // (size, from, page, total)
        type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [&'a str], usize);
        let cases: &[Case] = &[
            (Some("2"), None, &["@acme/demo", "@demo/lib"], 6),
            (
                Some("2"),
                Some("2"),
                &["@zeta/demo-tools", "@acme/ademo"],
                6,
            ),
            (Some("10"), Some("5"), &["@acme/other"], 6),
            (None, Some("99"), &[], 6),
            (Some("0"), None, &["@acme/demo"], 6),
            (
                Some("nope"),
                Some("-1"),
                &[
                    "@acme/demo",
                    "@demo/lib",
                    "@zeta/demo-tools",
                    "@acme/ademo",
                    "@acme/lib",
                    "@acme/other",
                ],
                6,
            ),
        ];
        for (size, from, want, total) in cases {
            let response = search(&corpus(), &Query::new(Some("demo"), *size, *from), "t");
            assert_eq!(names(&response), *want, "size={size:?} from={from:?}");
            assert_eq!(response.total, *total);
        }
    }

    #[test]
    fn query_clamps() {
        let cases = [
            ((None, None), (DEFAULT_SIZE, 0)),
            ((Some("1000"), Some("3")), (MAX_SIZE, 3)),
            ((Some("0"), Some("x")), (1, 0)),
            ((Some(" 5 "), Some(" 7 ")), (5, 7)),
        ];
        for ((size, from), (want_size, want_from)) in cases {
            let query = Query::new(None, size, from);
            assert_eq!(
                (query.size, query.from),
                (want_size, want_from),
                "{size:?} {from:?}"
            );
        }
    }

    #[test]
    fn response_shape() {
        let mut lib = candidate("@acme/lib", "scoped demo", &["demo"]);
        lib.publisher = Some(Publisher {
            username: "alice".into(),
            email: None,
        });
        lib.links.npm = Some("https://pk.example/acme/lib".into());
        let response = search(
            &[lib],
            &Query::new(Some("lib"), None, None),
            "2026-11-21T06:00:00.000Z",
        );
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({
                "objects": [{
                    "package": {
                        "name": "@acme/lib",
                        "scope": "acme",
                        "version": "1.0.0",
                        "description": "scoped demo",
                        "keywords": ["demo"],
                        "date": "2026-11-21T05:00:48.256Z",
                        "links": {"npm": "https://pk.example/acme/lib"},
                        "publisher": {"username": "alice"},
                        "maintainers": [{"username": "alice"}],
                    },
                    "score": {"final": 1.0, "detail": {"quality": 1.0, "popularity": 0.0, "maintenance": 0.0}},
                    "searchScore": 1.0,
                }],
                "total": 1,
                "time": "2026-11-21T06:00:00.000Z",
            })
        );
    }
}
