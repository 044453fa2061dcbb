//! Macros that give the crate's small enums and sets one uniform text form.
//!
//! The same lowercase spelling is used in configuration, in the database and in messages,
//! so it is generated once here rather than hand-written per type.

/// Implements `ALL`, `as_str`, `Display` and a case-insensitive `FromStr` for a fieldless enum.
macro_rules! text_enum {
    ($ty:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in ascending order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The canonical lowercase spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::model::ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let trimmed = s.trim();
                $(
                    if trimmed.eq_ignore_ascii_case($text) {
                        return Ok($ty::$variant);
                    }
                )+
                Err($crate::model::ParseError::new(
                    $kind,
                    s,
                    concat!($($text, " "),+),
                ))
            }
        }
    };
}

/// Defines a bitset over a fieldless enum `$elem` whose discriminants are 0, 1, 2, ….
///
/// Text form: a comma- or whitespace-separated list (`"public, private"`); serde reads either
/// that text or a list of strings and writes a list.
macro_rules! small_set {
    ($(#[$meta:meta])* $set:ident of $elem:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $set(u8);

        impl $set {
            const MASK: u8 = {
                let mut mask = 0u8;
                let mut i = 0;
                while i < $elem::ALL.len() {
                    mask |= 1 << ($elem::ALL[i] as u8);
                    i += 1;
                }
                mask
            };

            /// The empty set.
            pub const fn empty() -> Self {
                Self(0)
            }

            /// The set of every value.
            pub const fn all() -> Self {
                Self(Self::MASK)
            }

            /// A set holding exactly `elem`.
            pub const fn only(elem: $elem) -> Self {
                Self(1 << (elem as u8))
            }

            /// Whether `elem` is in the set.
            pub const fn contains(self, elem: $elem) -> bool {
                self.0 & (1 << (elem as u8)) != 0
            }

            /// Whether every element of `other` is in the set.
            pub const fn contains_all(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// The set plus `elem`.
            #[must_use]
            pub const fn with(self, elem: $elem) -> Self {
                Self(self.0 | (1 << (elem as u8)))
            }

            /// The set minus `elem`.
            #[must_use]
            pub const fn without(self, elem: $elem) -> Self {
                Self(self.0 & !(1 << (elem as u8)))
            }

            /// Elements in either set.
            #[must_use]
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            /// Elements of `self` that are not in `other`.
            #[must_use]
            pub const fn difference(self, other: Self) -> Self {
                Self(self.0 & !other.0)
            }

            /// Whether the set has no element.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The number of elements.
            pub const fn len(self) -> usize {
                self.0.count_ones() as usize
            }

            /// The raw bits, for compact storage; bit `i` is the element with discriminant `i`.
            pub const fn bits(self) -> u8 {
                self.0
            }

            /// The set of raw bits, or `None` when a bit names no element.
            pub const fn from_bits(bits: u8) -> Option<Self> {
                if bits & !Self::MASK == 0 { Some(Self(bits)) } else { None }
            }

            /// Parses a list of names, such as a text-array column; each name is parsed alone.
            pub fn parse_list<I>(names: I) -> Result<Self, $crate::model::ParseError>
            where
                I: IntoIterator,
                I::Item: AsRef<str>,
            {
                names
                    .into_iter()
                    .map(|name| name.as_ref().parse::<$elem>())
                    .collect()
            }

            /// The elements, in ascending order.
            pub fn iter(self) -> impl Iterator<Item = $elem> {
                $elem::ALL.iter().copied().filter(move |e| self.contains(*e))
            }
        }

        impl ::std::fmt::Debug for $set {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_set().entries(self.iter()).finish()
            }
        }

        impl ::std::fmt::Display for $set {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                for (i, elem) in self.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(elem.as_str())?;
                }
                Ok(())
            }
        }

        impl ::std::str::FromStr for $set {
            type Err = $crate::model::ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|part| !part.is_empty())
                    .map(str::parse::<$elem>)
                    .collect()
            }
        }

        impl ::std::iter::FromIterator<$elem> for $set {
            fn from_iter<I: IntoIterator<Item = $elem>>(iter: I) -> Self {
                iter.into_iter().fold(Self::empty(), Self::with)
            }
        }

        impl From<$elem> for $set {
            fn from(elem: $elem) -> Self {
                Self::only(elem)
            }
        }

        impl ::serde::Serialize for $set {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.iter())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $set {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(::serde::Deserialize)]
                #[serde(untagged)]
                enum Repr {
                    Text(String),
                    List(Vec<$elem>),
                }
                match <Repr as ::serde::Deserialize>::deserialize(deserializer)? {
                    Repr::Text(text) => text.parse().map_err(::serde::de::Error::custom),
                    Repr::List(list) => Ok(list.into_iter().collect()),
                }
            }
        }
    };
}
