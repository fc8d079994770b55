//! A field's index: everything the rules' anchors file under one field (path), by operator, and
//! the probe that finds, for one of an event's values, every condition it meets.

use super::affixes::Affixes;
use super::keys::{Checked, Ids, Key, KeyMap};
use super::ranges::Ranges;
use crate::number::Numbers;
use crate::value::{Matcher, Scalar};
use crate::wildcard::Wildcard;

/// Everything indexed under one field (path).
#[derive(Debug, Clone, Default)]
pub(super) struct Field {
    strings: KeyMap<Key>,
    numbers: KeyMap<u64>,
    number_texts: KeyMap<Box<str>>,
    trues: Vec<u32>,
    falses: Vec<u32>,
    nulls: Vec<u32>,
    /// Satisfied by every value (`exists: true`).
    any: Vec<u32>,
    prefixes: Affixes,
    suffixes: Affixes,
    /// ASCII case-insensitive forms, keyed by lower-cased bytes.
    folded_equals: KeyMap<Box<[u8]>>,
    folded_prefixes: Affixes,
    folded_suffixes: Affixes,
    ranges: Ranges,
    /// Conditions tested on every string value (unindexable wildcards, IP forms, non-ASCII
    /// case folding) and on every value (anything-but, which matches by what it excludes).
    strings_checked: Vec<Checked>,
    anything_but: Vec<Checked>,
}

/// Where a matcher goes in a field's index.
enum Slot<'m> {
    String(&'m [u8]),
    Number(u64),
    NumberText(&'m str),
    True,
    False,
    Null,
    Any,
    Prefix(&'m [u8]),
    Suffix(&'m [u8]),
    FoldedEquals(Vec<u8>),
    FoldedPrefix(Vec<u8>),
    FoldedSuffix(Vec<u8>),
    Range(crate::value::Range),
    /// Indexed under a literal prefix or suffix, confirmed by the matcher.
    CheckedPrefix(&'m [u8]),
    CheckedSuffix(&'m [u8]),
    CheckedString,
    AnythingBut,
}

fn ascii_folded(text: &[u8]) -> Option<Vec<u8>> {
    text.is_ascii().then(|| text.to_ascii_lowercase())
}

/// The index slots of a matcher (an IP string takes two: its text and its address).
fn slots(matcher: &Matcher) -> Vec<Slot<'_>> {
    match matcher {
        Matcher::String { bytes, ip } => {
            let mut out = vec![Slot::String(bytes)];
            if ip.is_some() {
                out.push(Slot::CheckedString);
            }
            out
        }
        Matcher::Number(n) => vec![match n.value {
            Some(v) => Slot::Number(v.to_bits()),
            None => Slot::NumberText(&n.text),
        }],
        Matcher::Bool(true) => vec![Slot::True],
        Matcher::Bool(false) => vec![Slot::False],
        Matcher::Null => vec![Slot::Null],
        Matcher::Exists => vec![Slot::Any],
        Matcher::Prefix(p) => vec![Slot::Prefix(p)],
        Matcher::Suffix(p) => vec![Slot::Suffix(p)],
        Matcher::EqualsIgnoreCase(f) => {
            vec![f.ascii_text().and_then(ascii_folded).map_or(Slot::CheckedString, Slot::FoldedEquals)]
        }
        Matcher::PrefixIgnoreCase(f) => {
            vec![f.ascii_text().and_then(ascii_folded).map_or(Slot::CheckedString, Slot::FoldedPrefix)]
        }
        Matcher::SuffixIgnoreCase(f) => {
            vec![f.ascii_text().and_then(ascii_folded).map_or(Slot::CheckedString, Slot::FoldedSuffix)]
        }
        Matcher::Wildcard(w) => vec![wildcard_slot(w)],
        Matcher::Numeric(r) => vec![Slot::Range(*r)],
        Matcher::Cidr(_) => vec![Slot::CheckedString],
        Matcher::AnythingBut(_) => vec![Slot::AnythingBut],
    }
}

fn wildcard_slot(w: &Wildcard) -> Slot<'_> {
    let (first, last) = w.ends();
    if !first.is_empty() {
        Slot::CheckedPrefix(first)
    } else if !last.is_empty() {
        Slot::CheckedSuffix(last)
    } else {
        Slot::CheckedString
    }
}

/// How broadly an operator matches, for choosing anchors: exact values first, catch-alls last.
pub(super) fn breadth(matcher: &Matcher) -> u32 {
    match matcher {
        Matcher::String { .. } | Matcher::Number(_) | Matcher::EqualsIgnoreCase(_) => 0,
        Matcher::Bool(_) | Matcher::Null => 1,
        Matcher::Prefix(_) | Matcher::Suffix(_) | Matcher::PrefixIgnoreCase(_) | Matcher::SuffixIgnoreCase(_) => 2,
        Matcher::Wildcard(_) | Matcher::Cidr(_) => 3,
        Matcher::Numeric(_) => 4,
        Matcher::Exists | Matcher::AnythingBut(_) => 5,
    }
}

/// The length of the literal a matcher looks up (longer is more selective).
pub(super) fn key_length(matcher: &Matcher) -> usize {
    match matcher {
        Matcher::String { bytes, .. } | Matcher::Prefix(bytes) | Matcher::Suffix(bytes) => bytes.len(),
        Matcher::Number(n) => n.text.len(),
        Matcher::Wildcard(w) => w.ends().0.len().max(w.ends().1.len()),
        _ => 0,
    }
}

impl Field {
    /// How many branches are indexed under the same key as `matcher` (for catch-all operators,
    /// under the same catch-all list).
    pub(super) fn crowd(&self, matcher: &Matcher) -> usize {
        slots(matcher).first().map_or(0, |slot| match slot {
            Slot::String(b) => self.strings.get(*b).len(),
            Slot::Number(bits) => self.numbers.get(bits).len(),
            Slot::NumberText(t) => self.number_texts.get(*t).len(),
            Slot::True => self.trues.len(),
            Slot::False => self.falses.len(),
            Slot::Null => self.nulls.len(),
            Slot::Any => self.any.len(),
            Slot::Prefix(p) => self.prefixes.exact().get(*p).len(),
            Slot::Suffix(p) => self.suffixes.exact().get(*p).len(),
            Slot::FoldedEquals(f) => self.folded_equals.get(f.as_slice()).len(),
            Slot::FoldedPrefix(f) => self.folded_prefixes.exact().get(f.as_slice()).len(),
            Slot::FoldedSuffix(f) => self.folded_suffixes.exact().get(f.as_slice()).len(),
            Slot::Range(_) => self.ranges.len(),
            Slot::CheckedPrefix(p) => self.prefixes.checked_len(p),
            Slot::CheckedSuffix(p) => self.suffixes.checked_len(p),
            Slot::CheckedString => self.strings_checked.len(),
            Slot::AnythingBut => self.anything_but.len(),
        })
    }

    pub(super) fn insert(&mut self, matcher: &Matcher, id: u32) {
        for slot in slots(matcher) {
            let checked = || Checked { id, matcher: matcher.clone() };
            match slot {
                Slot::String(b) => self.strings.insert(Key::new(b), id),
                Slot::Number(bits) => self.numbers.insert(bits, id),
                Slot::NumberText(t) => self.number_texts.insert(t.into(), id),
                Slot::True => self.trues.push(id),
                Slot::False => self.falses.push(id),
                Slot::Null => self.nulls.push(id),
                Slot::Any => self.any.push(id),
                Slot::Prefix(p) => self.prefixes.insert(p, id),
                Slot::Suffix(p) => self.suffixes.insert(p, id),
                Slot::FoldedEquals(f) => self.folded_equals.insert(f.into(), id),
                Slot::FoldedPrefix(f) => self.folded_prefixes.insert(&f, id),
                Slot::FoldedSuffix(f) => self.folded_suffixes.insert(&f, id),
                Slot::Range(r) => self.ranges.insert(r, id),
                Slot::CheckedPrefix(p) => self.prefixes.insert_checked(p, id, matcher.clone()),
                Slot::CheckedSuffix(p) => self.suffixes.insert_checked(p, id, matcher.clone()),
                Slot::CheckedString => self.strings_checked.push(checked()),
                Slot::AnythingBut => self.anything_but.push(checked()),
            }
        }
    }

    pub(super) fn remove(&mut self, matcher: &Matcher, id: u32) {
        for slot in slots(matcher) {
            match slot {
                Slot::String(b) => self.strings.remove(b, id),
                Slot::Number(bits) => self.numbers.remove(&bits, id),
                Slot::NumberText(t) => self.number_texts.remove(t, id),
                Slot::True => self.trues.retain(|&x| x != id),
                Slot::False => self.falses.retain(|&x| x != id),
                Slot::Null => self.nulls.retain(|&x| x != id),
                Slot::Any => self.any.retain(|&x| x != id),
                Slot::Prefix(p) => self.prefixes.remove(p, id),
                Slot::Suffix(p) => self.suffixes.remove(p, id),
                Slot::FoldedEquals(f) => self.folded_equals.remove(f.as_slice(), id),
                Slot::FoldedPrefix(f) => self.folded_prefixes.remove(&f, id),
                Slot::FoldedSuffix(f) => self.folded_suffixes.remove(&f, id),
                Slot::Range(_) => self.ranges.remove(id),
                Slot::CheckedPrefix(p) => self.prefixes.remove_checked(p, id),
                Slot::CheckedSuffix(p) => self.suffixes.remove_checked(p, id),
                Slot::CheckedString => self.strings_checked.retain(|c| c.id != id),
                Slot::AnythingBut => self.anything_but.retain(|c| c.id != id),
            }
        }
    }

    /// Calls `hit` with every condition the value satisfies (some more than once).
    #[inline]
    pub(super) fn probe(&self, value: &Scalar<'_>, numbers: Numbers, folded: &mut Vec<u8>, hit: &mut impl FnMut(u32)) {
        match value {
            Scalar::String(s) => {
                for &id in self.strings.get(s.as_ref()) {
                    hit(id);
                }
                self.prefixes.probe(s, false, value, numbers, hit);
                self.suffixes.probe(s, true, value, numbers, hit);
                if !(self.folded_equals.is_empty()
                    && self.folded_prefixes.is_empty()
                    && self.folded_suffixes.is_empty())
                {
                    folded.clear();
                    folded.extend(s.iter().map(u8::to_ascii_lowercase));
                    for &id in self.folded_equals.get(folded.as_slice()) {
                        hit(id);
                    }
                    self.folded_prefixes.probe(folded, false, value, numbers, hit);
                    self.folded_suffixes.probe(folded, true, value, numbers, hit);
                }
                for c in &self.strings_checked {
                    if c.matcher.matches(value, numbers) {
                        hit(c.id);
                    }
                }
            }
            Scalar::Number(lexeme) => match numbers.value(lexeme) {
                Some(x) => {
                    for &id in self.numbers.get(&x.to_bits()) {
                        hit(id);
                    }
                    self.ranges.probe(x, hit);
                }
                None => {
                    for &id in self.number_texts.get(lexeme.as_ref()) {
                        hit(id);
                    }
                }
            },
            Scalar::Bool(true) => self.trues.iter().for_each(|&id| hit(id)),
            Scalar::Bool(false) => self.falses.iter().for_each(|&id| hit(id)),
            Scalar::Null => self.nulls.iter().for_each(|&id| hit(id)),
        }
        for &id in &self.any {
            hit(id);
        }
        for c in &self.anything_but {
            if c.matcher.matches(value, numbers) {
                hit(c.id);
            }
        }
    }

    pub(super) fn is_dirty(&self) -> bool {
        self.ranges.is_dirty()
    }

    pub(super) fn build(&mut self) {
        self.ranges.build();
    }

    /// Distinct keys filed (with the field itself): its "states".
    pub(super) fn states(&self) -> usize {
        1 + self.strings.len() + self.numbers.len() + self.prefixes.exact().len() + self.suffixes.exact().len()
    }

    /// Rough memory held by the index, in bytes.
    pub(super) fn approximate_bytes(&self) -> usize {
        let key_map =
            |entries: usize, key_heap: usize| entries * (std::mem::size_of::<(Box<[u8]>, Ids)>() + 1) + key_heap;
        let heap: usize = self.strings.keys().map(|k| if let Key::Heap(b) = k { b.len() } else { 0 }).sum();
        let affix_bytes =
            |affixes: &Affixes| key_map(affixes.exact().capacity(), affixes.exact().keys().map(|k| k.len()).sum());
        std::mem::size_of::<Field>()
            + key_map(self.strings.capacity(), heap)
            + key_map(self.numbers.capacity(), 0)
            + affix_bytes(&self.prefixes)
            + affix_bytes(&self.suffixes)
            + self.ranges.len() * 48
            + (self.strings_checked.capacity() + self.anything_but.capacity()) * std::mem::size_of::<Checked>()
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::machine::matchers_of;

    /// A field with the matchers of `{"f": VALUES}` filed under ids 0, 1, ... in order.
    fn field(values: &str) -> Field {
        let mut field = Field::default();
        for (id, matcher) in matchers_of(&format!(r#"{{"f": {values}}}"#)).iter().enumerate() {
            field.insert(matcher, id as u32);
        }
        field.build();
        field
    }

    fn probe(field: &Field, value: &Scalar<'_>) -> Vec<u32> {
        let mut hits = Vec::new();
        field.probe(value, Numbers::EventBridge, &mut Vec::new(), &mut |id| hits.push(id));
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    fn string(s: &str) -> Scalar<'_> {
        Scalar::String(Cow::Borrowed(s.as_bytes()))
    }

    fn number(s: &str) -> Scalar<'_> {
        Scalar::Number(Cow::Borrowed(s))
    }

    #[test]
    fn exact_values_are_found_by_type_and_value() {
        let f = field(r#"["a", 5, true, false, null, "5"]"#);
        assert_eq!(probe(&f, &string("a")), [0]);
        assert_eq!(probe(&f, &number("5")), [1]);
        assert_eq!(probe(&f, &number("5.0")), [1], "numbers compare by value");
        assert_eq!(probe(&f, &number("5e0")), [1]);
        assert_eq!(probe(&f, &Scalar::Bool(true)), [2]);
        assert_eq!(probe(&f, &Scalar::Bool(false)), [3]);
        assert_eq!(probe(&f, &Scalar::Null), [4]);
        assert_eq!(probe(&f, &string("5")), [5], "a string is not a number");
        assert!(probe(&f, &string("A")).is_empty());
    }

    #[test]
    fn affixes_case_folding_and_wildcards_are_found_through_their_literals() {
        let f = field(
            r#"[{"prefix": "ab"}, {"suffix": "yz"}, {"equals-ignore-case": "HeLLo"},
               {"prefix": {"equals-ignore-case": "AB"}}, {"suffix": {"equals-ignore-case": "YZ"}},
               {"wildcard": "a*z"}, {"wildcard": "*mid*"}]"#,
        );
        assert_eq!(probe(&f, &string("abyz")), [0, 1, 3, 4, 5]);
        assert_eq!(probe(&f, &string("ABYZ")), [3, 4]);
        assert_eq!(probe(&f, &string("hello")), [2]);
        assert_eq!(probe(&f, &string("amidz")), [5, 6]);
        assert_eq!(probe(&f, &string("xmidx")), [6]);
        assert!(probe(&f, &number("1")).is_empty());
    }

    #[test]
    fn catch_alls_meet_values_of_every_type_they_hold_for() {
        let f = field(r#"[{"exists": true}, {"anything-but": ["a"]}, {"numeric": [">", 0, "<=", 10]}]"#);
        assert_eq!(probe(&f, &string("a")), [0]);
        assert_eq!(probe(&f, &string("b")), [0, 1]);
        assert_eq!(probe(&f, &number("10")), [0, 1, 2]);
        assert_eq!(probe(&f, &number("11")), [0, 1]);
        assert_eq!(probe(&f, &Scalar::Null), [0, 1]);
    }

    #[test]
    fn crowd_counts_the_conditions_under_the_same_key() {
        let mut f = Field::default();
        let a = matchers_of(r#"{"f": ["a"]}"#).remove(0);
        let range = matchers_of(r#"{"f": [{"numeric": [">", 0]}]}"#).remove(0);
        assert_eq!(f.crowd(&a), 0);
        f.insert(&a, 1);
        f.insert(&a, 2);
        f.insert(&range, 3);
        assert_eq!(f.crowd(&a), 2);
        assert_eq!(f.crowd(&range), 1);
        assert_eq!(f.crowd(&matchers_of(r#"{"f": ["b"]}"#).remove(0)), 0);
        assert_eq!(f.states(), 2);
        f.remove(&a, 1);
        assert_eq!(f.crowd(&a), 1);
        f.remove(&range, 3);
        f.build();
        assert!(probe(&f, &number("5")).is_empty());
    }

    #[test]
    fn an_ip_address_is_filed_twice_by_text_and_for_its_matcher() {
        let f = field(r#"["10.0.0.1"]"#);
        assert_eq!(f.strings.len(), 1);
        assert_eq!(f.strings_checked.len(), 1);
        assert_eq!(probe(&f, &string("10.0.0.1")), [0]);
        assert!(probe(&f, &string("10.0.0.2")).is_empty());
    }

    #[test]
    fn breadth_ranks_exact_values_before_catch_alls() {
        let ranked: Vec<u32> = matchers_of(
            r#"{"f": ["a", true, {"prefix": "p"}, {"wildcard": "*x"}, {"numeric": ["<", 1]}, {"exists": true}]}"#,
        )
        .iter()
        .map(breadth)
        .collect();
        assert_eq!(ranked, [0, 1, 2, 3, 4, 5]);
        assert_eq!(key_length(&matchers_of(r#"{"f": [{"prefix": "abc"}]}"#)[0]), 3);
    }
}
