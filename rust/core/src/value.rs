//! Event values and the matchers that test them: one matcher per entry of a pattern's value list.

use std::borrow::Cow;

use crate::casefold::IgnoreCase;
use crate::cidr::{parse_ip, IpRange};
use crate::number::Numbers;
use crate::wildcard::Wildcard;

/// A scalar value of an event, borrowed from the event's text where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// Decoded bytes (generalised UTF-8).
    String(Cow<'a, [u8]>),
    /// The number's lexeme, exactly as written.
    Number(Cow<'a, str>),
    Bool(bool),
    Null,
}

/// One entry of a pattern's value list. Kept small (rare large operands are boxed): a machine
/// holds one per condition of every rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// A string; `ip` is set when the string is an IP address, which then also matches the
    /// same address written another way (event-ruler compiles it as a one-address range).
    String {
        bytes: Vec<u8>,
        ip: Option<Box<IpRange>>,
    },
    /// A number literal: equal by value when both sides are comparable, else by text.
    Number(Number),
    Bool(bool),
    Null,
    Prefix(Vec<u8>),
    Suffix(Vec<u8>),
    PrefixIgnoreCase(Box<IgnoreCase>),
    SuffixIgnoreCase(Box<IgnoreCase>),
    EqualsIgnoreCase(Box<IgnoreCase>),
    Wildcard(Wildcard),
    Numeric(Range),
    Cidr(IpRange),
    /// `{"exists": true}`. (`{"exists": false}` is a property of the whole condition.)
    Exists,
    AnythingBut(AnythingBut),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    pub text: String,
    pub value: Option<f64>,
}

impl Number {
    pub fn new(text: &str, numbers: Numbers) -> Self {
        Self { text: text.to_owned(), value: numbers.value(text) }
    }

    #[inline]
    fn equals(&self, lexeme: &str, numbers: Numbers) -> bool {
        match (self.value, numbers.value(lexeme)) {
            // Exact equality is the semantics: both sides are exactly representable values.
            #[allow(clippy::float_cmp)]
            (Some(a), Some(b)) => a == b,
            _ => self.text == lexeme,
        }
    }
}

/// A numeric range; `=` is a range whose bounds are equal and inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub low: Option<Bound>,
    pub high: Option<Bound>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: f64,
    pub inclusive: bool,
}

impl Range {
    #[inline]
    pub fn contains(&self, x: f64) -> bool {
        let above = self.low.is_none_or(|b| if b.inclusive { x >= b.value } else { x > b.value });
        let below = self.high.is_none_or(|b| if b.inclusive { x <= b.value } else { x < b.value });
        above && below
    }
}

/// `anything-but`: matches every present value that none of its entries excludes.
#[derive(Debug, Clone, PartialEq)]
pub enum AnythingBut {
    Strings(Vec<Vec<u8>>),
    Numbers(Vec<Number>),
    Prefixes(Vec<Vec<u8>>),
    Suffixes(Vec<Vec<u8>>),
    IgnoreCase(Vec<IgnoreCase>),
    Wildcards(Vec<Wildcard>),
}

impl AnythingBut {
    /// Whether the value is excluded. Only strings are excluded by the string forms and only
    /// numbers by the number form: a value of another type is never excluded.
    fn excludes(&self, value: &Scalar<'_>, numbers: Numbers) -> bool {
        match (self, value) {
            (AnythingBut::Strings(list), Scalar::String(s)) => list.iter().any(|x| x.as_slice() == s.as_ref()),
            (AnythingBut::Numbers(list), Scalar::Number(n)) => list.iter().any(|x| x.equals(n, numbers)),
            (AnythingBut::Prefixes(list), Scalar::String(s)) => list.iter().any(|x| s.starts_with(x)),
            (AnythingBut::Suffixes(list), Scalar::String(s)) => list.iter().any(|x| s.ends_with(x)),
            (AnythingBut::IgnoreCase(list), Scalar::String(s)) => list.iter().any(|x| x.equals(s)),
            (AnythingBut::Wildcards(list), Scalar::String(s)) => list.iter().any(|x| x.matches(s)),
            _ => false,
        }
    }
}

impl Matcher {
    /// Whether one scalar value satisfies this matcher.
    pub fn matches(&self, value: &Scalar<'_>, numbers: Numbers) -> bool {
        match (self, value) {
            (Matcher::String { bytes, ip }, Scalar::String(s)) => {
                bytes.as_slice() == s.as_ref()
                    || ip.as_ref().is_some_and(|r| parse_ip(s).is_some_and(|a| r.contains(a)))
            }
            (Matcher::Number(n), Scalar::Number(lexeme)) => n.equals(lexeme, numbers),
            (Matcher::Bool(b), Scalar::Bool(v)) => b == v,
            (Matcher::Null, Scalar::Null) | (Matcher::Exists, _) => true,
            (Matcher::Prefix(p), Scalar::String(s)) => s.starts_with(p),
            (Matcher::Suffix(p), Scalar::String(s)) => s.ends_with(p),
            (Matcher::PrefixIgnoreCase(p), Scalar::String(s)) => p.is_prefix_of(s),
            (Matcher::SuffixIgnoreCase(p), Scalar::String(s)) => p.is_suffix_of(s),
            (Matcher::EqualsIgnoreCase(p), Scalar::String(s)) => p.equals(s),
            (Matcher::Wildcard(w), Scalar::String(s)) => w.matches(s),
            (Matcher::Numeric(r), Scalar::Number(lexeme)) => numbers.value(lexeme).is_some_and(|x| r.contains(x)),
            (Matcher::Cidr(r), Scalar::String(s)) => parse_ip(s).is_some_and(|a| r.contains(a)),
            (Matcher::AnythingBut(a), v) => !a.excludes(v, numbers),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const EB: Numbers = Numbers::EventBridge;

    fn s(x: &str) -> Scalar<'_> {
        Scalar::String(Cow::Borrowed(x.as_bytes()))
    }
    fn n(x: &str) -> Scalar<'_> {
        Scalar::Number(Cow::Borrowed(x))
    }

    #[test]
    fn exact_numbers_compare_by_value_then_text() {
        let five = Matcher::Number(Number::new("5", Numbers::EventBridge));
        assert!(five.matches(&n("5.0"), EB));
        assert!(five.matches(&n("5e0"), EB));
        assert!(!five.matches(&s("5"), EB));
        let big = Matcher::Number(Number::new("123456789012345678901", Numbers::EventBridge));
        assert!(big.matches(&n("123456789012345678901"), EB));
        assert!(!big.matches(&n("1.23456789012345678901e20"), EB));
        assert!(Matcher::Number(Number::new("0", Numbers::EventBridge)).matches(&n("-0.0"), EB));
    }

    #[test]
    fn anything_but_never_excludes_other_types() {
        let a = Matcher::AnythingBut(AnythingBut::Strings(vec![b"a".to_vec()]));
        assert!(!a.matches(&s("a"), EB));
        assert!(a.matches(&s("b"), EB));
        assert!(a.matches(&n("5"), EB));
        assert!(a.matches(&Scalar::Null, EB));
        let five = Matcher::AnythingBut(AnythingBut::Numbers(vec![Number::new("5", Numbers::EventBridge)]));
        assert!(!five.matches(&n("5.0"), EB));
        assert!(five.matches(&s("5"), EB));
    }

    #[test]
    fn ranges() {
        let r = Range {
            low: Some(Bound { value: 0.0, inclusive: false }),
            high: Some(Bound { value: 5.0, inclusive: true }),
        };
        assert!(!r.contains(0.0));
        assert!(r.contains(5.0));
        assert!(Matcher::Numeric(r).matches(&n("3"), EB));
        assert!(!Matcher::Numeric(r).matches(&s("3"), EB));
        assert!(!Matcher::Numeric(r).matches(&n("0.10000000000000001"), EB));
    }

    #[test]
    fn strings_that_are_addresses() {
        let m = Matcher::String {
            bytes: b"2001:db8::1".to_vec(),
            ip: crate::cidr::single_address(b"2001:db8::1").map(Box::new),
        };
        assert!(m.matches(&s("2001:0db8:0000:0000:0000:0000:0000:0001"), EB));
        assert!(!m.matches(&s("2001:db8::2"), EB));
    }
}
