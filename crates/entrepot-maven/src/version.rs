//! Maven's version ordering: the rules of `org.apache.maven.artifact.versioning.ComparableVersion` (Maven 3.8).
//!
//! Maven does not use semver: `1.0` = `1.0.0` = `1-ga`, qualifiers order as
//! `alpha < beta < milestone < rc = cr < snapshot < "" (release) < sp`, unknown qualifiers sort after those
//! alphabetically, and a switch between letters and digits (`1a1`) splits items like a hyphen. Clients pick
//! `<latest>`/`<release>` and resolve ranges with these rules, so the server's `maven-metadata.xml` must list versions
//! in this order.

use std::cmp::Ordering;

/// A parsed version that orders as Maven orders it. Equality is Maven's (`1.0 == 1`), not textual.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    original: String,
    items: List,
}

impl MavenVersion {
    pub fn parse(version: &str) -> Self {
        Self {
            original: version.to_owned(),
            items: parse(version),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether this is a `-SNAPSHOT` version (the mutable kind).
    pub fn is_snapshot(&self) -> bool {
        is_snapshot(&self.original)
    }
}

/// Whether a version string names a SNAPSHOT (Maven's test is the suffix, case-sensitive, or the `LATEST` keyword).
pub fn is_snapshot(version: &str) -> bool {
    version.ends_with("-SNAPSHOT")
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, Some(&other.items))
    }
}

/// Sorts version strings in Maven's order, oldest first; ties keep their input order.
pub fn sort(versions: &mut [String]) {
    versions.sort_by_cached_key(|v| MavenVersion::parse(v));
}

type List = Vec<Item>;

#[derive(Debug, Clone)]
enum Item {
    /// Digits without leading zeros (arbitrary length, as Maven's BigInteger).
    Int(String),
    /// A qualifier, already aliased (`ga`/`final`/`release` → "", `cr` → `rc`, `a1` → `alpha`).
    Str(String),
    List(List),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// The index of the release qualifier ("") in [`QUALIFIERS`].
const RELEASE_INDEX: usize = 5;

fn int_item(digits: &str) -> Item {
    let trimmed = digits.trim_start_matches('0');
    Item::Int(trimmed.to_owned())
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let value = if followed_by_digit && value.len() == 1 {
        match value {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        }
    } else {
        value
    };
    let value = match value {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(value.to_owned())
}

/// A qualifier's sort key: its index among the known ones, else after all of them, alphabetically.
fn qualifier_key(value: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|q| *q == value) {
        Some(index) => (index, ""),
        None => (QUALIFIERS.len(), value),
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(digits) => digits.is_empty(),
        Item::Str(value) => qualifier_key(value).0 == RELEASE_INDEX,
        Item::List(list) => list.is_empty(),
    }
}

/// Removes null items (`0`, release qualifiers, empty lists) from the end, walking back past non-null lists, as
/// Maven's `ListItem.normalize` does: `1.0-alpha` becomes `1-alpha`.
fn normalize(list: &mut List) {
    let mut index = list.len();
    while index > 0 {
        index -= 1;
        if is_null(&list[index]) {
            list.remove(index);
        } else if !matches!(list[index], Item::List(_)) {
            break;
        }
    }
}

fn parse(version: &str) -> List {
    let version = version.to_lowercase();
    let bytes = version.as_bytes();
    // A stack of lists: the path from the root list down to the one being filled.
    let mut stack: Vec<List> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    fn push_list(stack: &mut Vec<List>) {
        stack.push(Vec::new());
    }
    for (i, &c) in bytes.iter().enumerate() {
        let top = stack.last_mut().expect("the root list");
        if c == b'.' {
            if i == start {
                top.push(Item::Int(String::new()));
            } else {
                top.push(parse_item(is_digit, &version[start..i]));
            }
            start = i + 1;
        } else if c == b'-' {
            if i == start {
                top.push(Item::Int(String::new()));
            } else {
                top.push(parse_item(is_digit, &version[start..i]));
            }
            start = i + 1;
            push_list(&mut stack);
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                top.push(string_item(&version[start..i], true));
                start = i;
                push_list(&mut stack);
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                top.push(parse_item(true, &version[start..i]));
                start = i;
                push_list(&mut stack);
            }
            is_digit = false;
        }
    }
    if version.len() > start {
        stack
            .last_mut()
            .expect("the root list")
            .push(parse_item(is_digit, &version[start..]));
    }
    // Close the nested lists from the innermost out: each is normalised, then becomes the last item of its parent.
    while stack.len() > 1 {
        let mut inner = stack.pop().expect("an inner list");
        normalize(&mut inner);
        stack
            .last_mut()
            .expect("a parent list")
            .push(Item::List(inner));
    }
    let mut root = stack.pop().expect("the root list");
    normalize(&mut root);
    root
}

fn parse_item(is_digit: bool, text: &str) -> Item {
    if is_digit {
        int_item(text)
    } else {
        string_item(text, false)
    }
}

fn compare_ints(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `item.compareTo(other)` of Maven, where `None` is Maven's `null` (a missing item).
fn compare_items(item: &Item, other: Option<&Item>) -> Ordering {
    match (item, other) {
        (Item::Int(digits), None) => {
            if digits.is_empty() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (Item::Int(a), Some(Item::Int(b))) => compare_ints(a, b),
        (Item::Int(_), Some(_)) => Ordering::Greater,
        (Item::Str(value), None) => qualifier_key(value).cmp(&qualifier_key("")),
        (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
        (Item::Str(a), Some(Item::Str(b))) => qualifier_key(a).cmp(&qualifier_key(b)),
        (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
        (Item::List(list), other) => match other {
            None => match list.first() {
                None => Ordering::Equal,
                Some(first) => compare_items(first, None),
            },
            Some(Item::Int(_)) => Ordering::Less,
            Some(Item::Str(_)) => Ordering::Greater,
            Some(Item::List(other)) => compare_lists(list, Some(other)),
        },
    }
}

fn compare_lists(left: &List, right: Option<&List>) -> Ordering {
    let Some(right) = right else {
        return match left.first() {
            None => Ordering::Equal,
            Some(first) => compare_items(first, None),
        };
    };
    let longest = left.len().max(right.len());
    for index in 0..longest {
        let result = match (left.get(index), right.get(index)) {
            (None, None) => Ordering::Equal,
            (None, Some(r)) => compare_items(r, None).reverse(),
            (Some(l), r) => compare_items(l, r),
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each list is in increasing order (from Maven's own `ComparableVersionTest`).
    const QUALIFIER_ORDER: &[&str] = &[
        "1-alpha2snapshot",
        "1-alpha2",
        "1-alpha-123",
        "1-beta-2",
        "1-beta123",
        "1-m2",
        "1-m11",
        "1-rc",
        "1-cr2",
        "1-rc123",
        "1-SNAPSHOT",
        "1",
        "1-sp",
        "1-sp2",
        "1-sp123",
        "1-abc",
        "1-def",
        "1-pom-1",
        "1-1-snapshot",
        "1-1",
        "1-2",
        "1-123",
    ];

    const NUMBER_ORDER: &[&str] = &[
        "2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c",
        "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2",
        "11.m11", "11", "11.a", "11b", "11c", "11m",
    ];

    fn check_order(versions: &[&str]) {
        for (i, low) in versions.iter().enumerate() {
            for high in &versions[i + 1..] {
                let (l, h) = (MavenVersion::parse(low), MavenVersion::parse(high));
                assert!(l < h, "{low} < {high}");
                assert!(h > l, "{high} > {low}");
            }
        }
    }

    #[test]
    fn qualifiers_order_as_maven() {
        check_order(QUALIFIER_ORDER);
    }

    #[test]
    fn numbers_order_as_maven() {
        check_order(NUMBER_ORDER);
    }

    #[test]
    fn equal_spellings() {
        let groups: &[&[&str]] = &[
            &[
                "1", "1.0", "1.0.0", "1-0", "1.0-0", "1ga", "1release", "1final", "1Ga", "1GA",
            ],
            &["1a", "1-a", "1.0-a", "1.0.0-a", "1.0a", "1.0.0a", "1A"],
            &["1x", "1-x", "1.0-x", "1.0.0-x", "1.0x", "1.0.0x", "1X"],
            &["1cr", "1rc"],
            &["1a1", "1-alpha-1"],
            &["1b2", "1-beta-2"],
            &["1m3", "1-milestone-3"],
            &["1-SNAPSHOT", "1-snapshot", "1.0-SNAPSHOT"],
        ];
        for group in groups {
            for a in *group {
                for b in *group {
                    assert_eq!(MavenVersion::parse(a), MavenVersion::parse(b), "{a} = {b}");
                }
            }
        }
    }

    #[test]
    fn not_semver() {
        // semver would put 1.10.0 after 1.9.0 too, but it cannot parse these at all, and orders pre-releases
        // differently (1.0.0-SNAPSHOT < 1.0.0-alpha in semver, the reverse in Maven).
        check_order(&[
            "1.0-alpha",
            "1.0-SNAPSHOT",
            "1.0",
            "1.0.1",
            "1.9",
            "1.10",
            "1.10.1-sp1",
        ]);
        check_order(&[
            "1.0.0-SNAPSHOT",
            "1.0.0",
            "1.0.1-SNAPSHOT",
            "1.0.1",
            "1.1.0-SNAPSHOT",
        ]);
    }

    #[test]
    fn sorting_strings() {
        let mut versions: Vec<String> = ["1.10", "1.2", "1.2-SNAPSHOT", "1.9.9", "1.2.0.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sort(&mut versions);
        assert_eq!(
            versions,
            ["1.2-SNAPSHOT", "1.2", "1.2.0.1", "1.9.9", "1.10"]
        );
    }

    #[test]
    fn snapshot_test() {
        assert!(is_snapshot("1.0-SNAPSHOT"));
        assert!(!is_snapshot("1.0"));
        assert!(!is_snapshot("1.0-snapshot-1"));
    }

    /// Versions as people write them: numbers, maybe a qualifier, maybe a number after it.
    const VERSION: &str = "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-(alpha|beta|rc|SNAPSHOT|sp|foo)[0-9]?)?";

    proptest::proptest! {
        #[test]
        fn antisymmetric(a in "[0-9a-z.-]{0,12}", b in "[0-9a-z.-]{0,12}") {
            // Maven's ordering is not transitive for degenerate strings such as "-.a" (a list compares with a
            // missing item by its first element only), so only antisymmetry holds for arbitrary input.
            let (a, b) = (MavenVersion::parse(&a), MavenVersion::parse(&b));
            proptest::prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        }

        #[test]
        fn transitive_on_real_versions(
            a in VERSION, b in VERSION, c in VERSION,
        ) {
            let (a, b, c) = (MavenVersion::parse(&a), MavenVersion::parse(&b), MavenVersion::parse(&c));
            if a <= b && b <= c {
                proptest::prop_assert!(a <= c);
            }
        }
    }
}
