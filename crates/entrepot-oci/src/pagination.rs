//! `n` / `last` pagination of tag lists (and the catalog) with the `Link` header.
//!
//! The spec orders tags lexically and defines `last` as "the results start after this value",
//! whether or not it exists, so a page is found by binary search in the sorted list rather than
//! by position. Sorting is byte order (`str`'s `Ord`), the same on every database, so pages are
//! stable across replicas.

/// Why the pagination parameters were refused (the front-end answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaginationError {
    #[error("n must be a non-negative integer")]
    InvalidN,
}

/// The requested page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Maximum number of entries; `None` means "all" (capped by the caller's limit).
    pub n: Option<usize>,
    pub last: Option<String>,
}

impl PageRequest {
    /// From the raw `n` and `last` query values; empty values count as absent.
    pub fn parse(n: Option<&str>, last: Option<&str>) -> Result<Self, PaginationError> {
        let n = match n.filter(|s| !s.is_empty()) {
            Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
                // Any absurdly large `n` means "as many as you allow".
                Some(s.parse::<usize>().unwrap_or(usize::MAX))
            }
            Some(_) => return Err(PaginationError::InvalidN),
            None => None,
        };
        Ok(Self {
            n,
            last: last.filter(|s| !s.is_empty()).map(str::to_owned),
        })
    }
}

/// One page of a sorted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a, T> {
    pub items: &'a [T],
    /// The `last` for the next page, when more entries follow.
    pub next_last: Option<&'a T>,
}

/// Sorts a list the way pagination expects.
pub fn sort_lexically(items: &mut [String]) {
    items.sort_unstable();
}

/// Cuts the page `request` asks for out of `sorted` (which must be lexically sorted), returning
/// at most `max` entries whatever `n` says.
pub fn paginate<'a, T: AsRef<str>>(
    sorted: &'a [T],
    request: &PageRequest,
    max: usize,
) -> Page<'a, T> {
    let start = match &request.last {
        Some(last) => sorted.partition_point(|t| t.as_ref() <= last.as_str()),
        None => 0,
    };
    let rest = &sorted[start..];
    let n = request.n.unwrap_or(max).min(max);
    let items = &rest[..n.min(rest.len())];
    let next_last = if rest.len() > items.len() && !items.is_empty() {
        items.last()
    } else {
        None
    };
    Page { items, next_last }
}

/// The `Link` value pointing at the next page: `</v2/NAME/tags/list?n=N&last=LAST>; rel="next"`.
///
/// `path` is the list's path (`/v2/acme/app/tags/list` or `/v2/_catalog`). Tags and repository
/// names use only characters that need no escaping in a query.
pub fn next_link(path: &str, n: usize, last: &str) -> String {
    format!("<{path}?n={n}&last={last}>; rel=\"next\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Vec<String> {
        let mut t: Vec<String> = ["v2", "latest", "V1", "1.0", "_x", "v10", "v1"]
            .map(String::from)
            .to_vec();
        sort_lexically(&mut t);
        t
    }

    #[test]
    fn sorting_is_bytewise() {
        assert_eq!(tags(), ["1.0", "V1", "_x", "latest", "v1", "v10", "v2"]);
    }

    #[test]
    fn pages() {
        let t = tags();
        let req = |n: Option<usize>, last: Option<&str>| PageRequest {
            n,
            last: last.map(String::from),
        };
        let cases: Vec<(PageRequest, usize, Vec<&str>, Option<&str>)> = vec![
            (
                req(None, None),
                100,
                vec!["1.0", "V1", "_x", "latest", "v1", "v10", "v2"],
                None,
            ),
            (req(Some(2), None), 100, vec!["1.0", "V1"], Some("V1")),
            (
                req(Some(2), Some("V1")),
                100,
                vec!["_x", "latest"],
                Some("latest"),
            ),
            (req(Some(3), Some("v1")), 100, vec!["v10", "v2"], None),
            (req(Some(2), Some("v10")), 100, vec!["v2"], None),
            (req(Some(2), Some("v2")), 100, vec![], None),
            (req(Some(2), Some("zzz")), 100, vec![], None),
            // `last` need not be a tag that exists.
            (req(Some(1), Some("u")), 100, vec!["v1"], Some("v1")),
            (req(Some(0), None), 100, vec![], None),
            (
                req(Some(7), None),
                100,
                t.iter().map(String::as_str).collect(),
                None,
            ),
            (req(None, None), 3, vec!["1.0", "V1", "_x"], Some("_x")),
            (
                req(Some(50), Some("latest")),
                2,
                vec!["v1", "v10"],
                Some("v10"),
            ),
        ];
        for (request, max, items, next) in cases {
            let page = paginate(&t, &request, max);
            assert_eq!(
                page.items.iter().map(String::as_str).collect::<Vec<_>>(),
                items,
                "{request:?} max {max}"
            );
            assert_eq!(
                page.next_last.map(String::as_str),
                next,
                "{request:?} max {max}"
            );
        }
        let empty: Vec<String> = vec![];
        assert_eq!(paginate(&empty, &req(Some(5), None), 10).items.len(), 0);
    }

    #[test]
    fn walking_all_pages_sees_every_tag_once() {
        let t = tags();
        for n in 1..=8 {
            let mut seen = Vec::new();
            let mut request = PageRequest {
                n: Some(n),
                last: None,
            };
            loop {
                let page = paginate(&t, &request, 100);
                seen.extend(page.items.iter().cloned());
                match page.next_last {
                    Some(last) => request.last = Some(last.clone()),
                    None => break,
                }
            }
            assert_eq!(seen, t, "n = {n}");
        }
    }

    #[test]
    fn request_parsing() {
        let cases = [
            (None, None, Ok(PageRequest::default())),
            (Some(""), Some(""), Ok(PageRequest::default())),
            (
                Some("10"),
                Some("v1"),
                Ok(PageRequest {
                    n: Some(10),
                    last: Some("v1".into()),
                }),
            ),
            (
                Some("0"),
                None,
                Ok(PageRequest {
                    n: Some(0),
                    last: None,
                }),
            ),
            (
                Some("99999999999999999999999"),
                None,
                Ok(PageRequest {
                    n: Some(usize::MAX),
                    last: None,
                }),
            ),
            (Some("-1"), None, Err(PaginationError::InvalidN)),
            (Some("ten"), None, Err(PaginationError::InvalidN)),
            (Some("+5"), None, Err(PaginationError::InvalidN)),
        ];
        for (n, last, expected) in cases {
            assert_eq!(PageRequest::parse(n, last), expected, "{n:?} {last:?}");
        }
    }

    #[test]
    fn links() {
        assert_eq!(
            next_link("/v2/acme/app/tags/list", 2, "v1"),
            r#"</v2/acme/app/tags/list?n=2&last=v1>; rel="next""#
        );
        assert_eq!(
            next_link("/v2/_catalog", 10, "acme/app"),
            r#"</v2/_catalog?n=10&last=acme/app>; rel="next""#
        );
    }
}
