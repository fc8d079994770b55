//! Many rules matched at once.
//!
//! Each branch of a rule (one per `$or` combination) is indexed by one of its conditions, its
//! anchor: the one expected to meet the fewest events, judged by how many branches already
//! share its index key and by its operator. The index keeps, per field, exact strings and
//! numbers in hash maps, prefixes and suffixes in maps probed once per distinct length,
//! case-insensitive forms (ASCII) by their folded bytes, numeric ranges in an interval tree, and
//! wildcards under their leading or trailing literal. Matching looks up each of the event's
//! values once; a branch whose anchor a value meets is a candidate, confirmed at once when the
//! anchor is its only condition, else by the exact (array-consistent) test of the single-pattern
//! path on the branch's other fields. Rules that share a common value (`"ST_TYPE": ["ST"]` in
//! ten thousand rules) are thus reached through their selective field, as a trie over sorted
//! fields would reach them: the work per event follows its values and the few branches they
//! select, not the number of rules.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::event::{scan, Flattened, PathIndex};
use crate::number::Numbers;
use crate::pattern::Expanded;
use crate::policy::{expand as expand_policy, flatten_attributes, Attribute, Scope};
use crate::rule::{group_by_path, Condition, Scratch, SubRule};
use crate::value::{Matcher, Scalar};
use crate::wildcard::Wildcard;

/// Condition ids that share an index key: almost always one.
#[derive(Debug, Clone)]
enum Ids {
    One(u32),
    Many(Vec<u32>),
}

impl Ids {
    fn push(&mut self, id: u32) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, id]),
            Ids::Many(v) => v.push(id),
        }
    }

    /// Removes `id`; true when nothing is left.
    fn remove(&mut self, id: u32) -> bool {
        match self {
            Ids::One(x) => *x == id,
            Ids::Many(v) => {
                v.retain(|&x| x != id);
                match v.as_slice() {
                    [] => true,
                    &[only] => {
                        *self = Ids::One(only);
                        false
                    }
                    _ => false,
                }
            }
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(x) => std::slice::from_ref(x),
            Ids::Many(v) => v,
        }
    }
}

/// Keys of one kind mapped to the conditions they satisfy.
#[derive(Debug, Clone)]
struct KeyMap<K: std::hash::Hash + Eq> {
    map: FxHashMap<K, Ids>,
}

impl<K: std::hash::Hash + Eq> Default for KeyMap<K> {
    fn default() -> Self {
        Self { map: FxHashMap::default() }
    }
}

impl<K: std::hash::Hash + Eq> KeyMap<K> {
    fn insert(&mut self, key: K, id: u32) {
        match self.map.get_mut(&key) {
            Some(ids) => ids.push(id),
            None => {
                self.map.insert(key, Ids::One(id));
            }
        }
    }

    fn remove<Q: std::hash::Hash + Eq + ?Sized>(&mut self, key: &Q, id: u32)
    where
        K: std::borrow::Borrow<Q>,
    {
        if self.map.get_mut(key).is_some_and(|ids| ids.remove(id)) {
            self.map.remove(key);
        }
    }

    #[inline]
    fn get<Q: std::hash::Hash + Eq + ?Sized>(&self, key: &Q) -> &[u32]
    where
        K: std::borrow::Borrow<Q>,
    {
        self.map.get(key).map_or(&[], Ids::as_slice)
    }
}

/// A byte string kept inline when short (most field values are), so that looking one up in a
/// map of a hundred thousand does not also chase a pointer to its bytes.
#[derive(Clone)]
enum Key {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Box<[u8]>),
}

impl Key {
    fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= 22 {
            let mut inline = [0u8; 22];
            inline[..bytes.len()].copy_from_slice(bytes);
            Key::Inline { len: bytes.len() as u8, bytes: inline }
        } else {
            Key::Heap(bytes.into())
        }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..*len as usize],
            Key::Heap(b) => b,
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        String::from_utf8_lossy(self.as_bytes()).fmt(f)
    }
}

// Equality and hashing are the bytes', as `Borrow<[u8]>` requires.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// A condition that needs its matcher run on the value after the index found it.
#[derive(Debug, Clone)]
struct Checked {
    id: u32,
    matcher: Matcher,
}

/// Prefixes (or suffixes) of byte strings: a map per affix, probed once per distinct length.
#[derive(Debug, Clone, Default)]
struct Affixes {
    exact: KeyMap<Box<[u8]>>,
    checked: FxHashMap<Box<[u8]>, Vec<Checked>>,
    /// Distinct affix lengths, with how many affixes have each.
    lengths: Vec<(usize, u32)>,
}

impl Affixes {
    fn add_length(&mut self, len: usize) {
        match self.lengths.binary_search_by_key(&len, |&(l, _)| l) {
            Ok(i) => self.lengths[i].1 += 1,
            Err(i) => self.lengths.insert(i, (len, 1)),
        }
    }

    fn remove_length(&mut self, len: usize) {
        if let Ok(i) = self.lengths.binary_search_by_key(&len, |&(l, _)| l) {
            self.lengths[i].1 -= 1;
            if self.lengths[i].1 == 0 {
                self.lengths.remove(i);
            }
        }
    }

    fn insert(&mut self, affix: &[u8], id: u32) {
        self.add_length(affix.len());
        self.exact.insert(affix.into(), id);
    }

    fn insert_checked(&mut self, affix: &[u8], id: u32, matcher: Matcher) {
        self.add_length(affix.len());
        self.checked.entry(affix.into()).or_default().push(Checked { id, matcher });
    }

    fn remove(&mut self, affix: &[u8], id: u32) {
        self.remove_length(affix.len());
        self.exact.remove(affix, id);
    }

    fn remove_checked(&mut self, affix: &[u8], id: u32) {
        self.remove_length(affix.len());
        if let Some(list) = self.checked.get_mut(affix) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                self.checked.remove(affix);
            }
        }
    }

    /// Calls `hit` for each condition whose affix is a prefix (`suffix` false) or a suffix of
    /// `key`; checked conditions are tested on `value` first.
    #[inline]
    fn probe(&self, key: &[u8], suffix: bool, value: &Scalar<'_>, numbers: Numbers, hit: &mut impl FnMut(u32)) {
        for &(len, _) in &self.lengths {
            if len > key.len() {
                break;
            }
            let part = if suffix { &key[key.len() - len..] } else { &key[..len] };
            for &id in self.exact.get(part) {
                hit(id);
            }
            if let Some(list) = self.checked.get(part) {
                for c in list {
                    if c.matcher.matches(value, numbers) {
                        hit(c.id);
                    }
                }
            }
        }
    }
}

/// A numeric range as the index keeps it: compact, so that scans stay in cache.
#[derive(Debug, Clone, Copy)]
struct Span {
    low: f64,
    high: f64,
    id: u32,
    low_inclusive: bool,
    high_inclusive: bool,
}

impl Span {
    fn new(range: crate::value::Range, id: u32) -> Self {
        let (low, low_inclusive) = range.low.map_or((f64::NEG_INFINITY, true), |b| (b.value, b.inclusive));
        let (high, high_inclusive) = range.high.map_or((f64::INFINITY, true), |b| (b.value, b.inclusive));
        Self { low, high, id, low_inclusive, high_inclusive }
    }

    #[inline]
    fn contains(&self, x: f64) -> bool {
        (x > self.low || (self.low_inclusive && x >= self.low))
            && (x < self.high || (self.high_inclusive && x <= self.high))
    }
}

/// Numeric ranges, grouped so that a lookup scans little beyond the ranges that hold the value:
/// ranges open above (all ranges starting at or below x hold it), ranges open below (all ending
/// at or above x), and bounded ranges by width class (those starting within one class width
/// below x, of which at least half hold it). Sorted lazily after changes.
#[derive(Debug, Clone, Default)]
struct Ranges {
    /// Sorted by lower bound.
    open_above: Vec<Span>,
    /// Sorted by upper bound.
    open_below: Vec<Span>,
    /// Width class (a power of two) and its ranges, sorted by lower bound.
    bounded: Vec<(f64, Vec<Span>)>,
    len: usize,
    dirty: bool,
}

impl Ranges {
    /// The smallest power of two at or above the width.
    fn class_width(width: f64) -> f64 {
        if width <= f64::MIN_POSITIVE {
            return f64::MIN_POSITIVE;
        }
        let w = 2f64.powi(width.log2().ceil() as i32);
        if w < width {
            w * 2.0
        } else {
            w
        }
    }

    fn insert(&mut self, range: crate::value::Range, id: u32) {
        let span = Span::new(range, id);
        match (range.low, range.high) {
            (Some(_), Some(_)) => {
                let width = Self::class_width(span.high - span.low);
                // Class widths are exact powers of two, so comparing their bits is exact.
                match self.bounded.iter_mut().find(|(w, _)| w.to_bits() == width.to_bits()) {
                    Some((_, spans)) => spans.push(span),
                    None => self.bounded.push((width, vec![span])),
                }
            }
            (None, Some(_)) => self.open_below.push(span),
            _ => self.open_above.push(span),
        }
        self.len += 1;
        self.dirty = true;
    }

    fn remove(&mut self, id: u32) {
        let before = self.open_above.len() + self.open_below.len();
        self.open_above.retain(|s| s.id != id);
        self.open_below.retain(|s| s.id != id);
        let mut removed = before - self.open_above.len() - self.open_below.len();
        for (_, spans) in &mut self.bounded {
            let n = spans.len();
            spans.retain(|s| s.id != id);
            removed += n - spans.len();
        }
        self.bounded.retain(|(_, spans)| !spans.is_empty());
        self.len -= removed;
    }

    fn build(&mut self) {
        self.open_above.sort_by(|a, b| a.low.total_cmp(&b.low));
        self.open_below.sort_by(|a, b| a.high.total_cmp(&b.high));
        for (_, spans) in &mut self.bounded {
            spans.sort_by(|a, b| a.low.total_cmp(&b.low));
        }
        self.dirty = false;
    }

    #[inline]
    fn probe(&self, x: f64, hit: &mut impl FnMut(u32)) {
        let end = self.open_above.partition_point(|s| s.low <= x);
        for span in &self.open_above[..end] {
            if span.contains(x) {
                hit(span.id);
            }
        }
        let start = self.open_below.partition_point(|s| s.high < x);
        for span in &self.open_below[start..] {
            if span.contains(x) {
                hit(span.id);
            }
        }
        for (width, spans) in &self.bounded {
            let from = x - width;
            let start = spans.partition_point(|s| s.low < from);
            for span in &spans[start..] {
                if span.low > x {
                    break;
                }
                if span.contains(x) {
                    hit(span.id);
                }
            }
        }
    }
}

/// Everything indexed under one field (path).
#[derive(Debug, Clone, Default)]
struct Field {
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
fn breadth(matcher: &Matcher) -> u32 {
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
fn key_length(matcher: &Matcher) -> usize {
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
    fn crowd(&self, matcher: &Matcher) -> usize {
        slots(matcher).first().map_or(0, |slot| match slot {
            Slot::String(b) => self.strings.get(*b).len(),
            Slot::Number(bits) => self.numbers.get(bits).len(),
            Slot::NumberText(t) => self.number_texts.get(*t).len(),
            Slot::True => self.trues.len(),
            Slot::False => self.falses.len(),
            Slot::Null => self.nulls.len(),
            Slot::Any => self.any.len(),
            Slot::Prefix(p) => self.prefixes.exact.get(*p).len(),
            Slot::Suffix(p) => self.suffixes.exact.get(*p).len(),
            Slot::FoldedEquals(f) => self.folded_equals.get(f.as_slice()).len(),
            Slot::FoldedPrefix(f) => self.folded_prefixes.exact.get(f.as_slice()).len(),
            Slot::FoldedSuffix(f) => self.folded_suffixes.exact.get(f.as_slice()).len(),
            Slot::Range(_) => self.ranges.len,
            Slot::CheckedPrefix(p) => self.prefixes.checked.get(*p).map_or(0, Vec::len),
            Slot::CheckedSuffix(p) => self.suffixes.checked.get(*p).map_or(0, Vec::len),
            Slot::CheckedString => self.strings_checked.len(),
            Slot::AnythingBut => self.anything_but.len(),
        })
    }

    fn insert(&mut self, matcher: &Matcher, id: u32) {
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

    fn remove(&mut self, matcher: &Matcher, id: u32) {
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
    fn probe(&self, value: &Scalar<'_>, numbers: Numbers, folded: &mut Vec<u8>, hit: &mut impl FnMut(u32)) {
        match value {
            Scalar::String(s) => {
                for &id in self.strings.get(s.as_ref()) {
                    hit(id);
                }
                self.prefixes.probe(s, false, value, numbers, hit);
                self.suffixes.probe(s, true, value, numbers, hit);
                if !(self.folded_equals.map.is_empty()
                    && self.folded_prefixes.lengths.is_empty()
                    && self.folded_suffixes.lengths.is_empty())
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

    fn is_dirty(&self) -> bool {
        self.ranges.dirty
    }

    fn build(&mut self) {
        self.ranges.build();
    }
}

/// One `$or` branch of a rule.
#[derive(Debug, Clone)]
struct Branch {
    sub: SubRule,
    /// The condition the branch is indexed by (`None`: every condition may hold by absence,
    /// so the branch is a candidate for every event).
    anchor: Option<usize>,
}

impl Branch {
    /// Whether the anchor's hit alone proves the branch: it is the only condition.
    fn anchor_suffices(&self) -> bool {
        self.sub.conditions.len() == 1 && self.anchor.is_some()
    }
}

#[derive(Debug, Clone)]
struct Entry {
    name: Arc<str>,
    branches: Ids,
    /// Where the rule as written (for explanations) lies in the machine's `sources`.
    source: (u32, u32),
}

/// A set of named rules of one dialect compiled together.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    numbers: Numbers,
    paths: PathIndex,
    fields: Vec<Field>,
    /// Branches by id (the index holds branch ids); freed ids are reused.
    branches: Vec<Option<Branch>>,
    /// Per branch id, its rule slot and whether its anchor alone proves it (`u32::MAX`: free):
    /// what the hot loop reads, kept dense so that thousands of candidates stay in cache.
    branch_rule: Vec<(u32, bool)>,
    free_branches: Vec<u32>,
    /// Rules by slot. Slots are not reused, so slot order is the order of first `add`, the
    /// order results come in.
    rules: Vec<Option<Entry>>,
    names: FxHashMap<Arc<str>, u32>,
    /// Branches without required conditions: candidates for every event.
    unconditional: Vec<u32>,
    /// Whether some field's index must be rebuilt before matching.
    dirty: bool,
    /// Rules in the order of their first `add`.
    order: Vec<Arc<str>>,
    /// The rules as written, one after another (one allocation for all of them); the text of
    /// replaced and removed rules is dropped when it outgrows the live text.
    sources: Vec<u8>,
    dead_source_bytes: usize,
}

/// Per-thread marks of one match, stamped with the event's generation so that nothing needs
/// clearing between events.
#[derive(Default)]
pub struct Counters {
    generation: u32,
    branch_seen: Vec<u32>,
    rule_seen: Vec<u32>,
    candidates: Vec<u32>,
    folded: Vec<u8>,
    bitmap: Vec<u64>,
}

impl Counters {
    fn start(&mut self, branches: usize, rules: usize) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: old stamps could collide with new generations.
            self.branch_seen.fill(0);
            self.rule_seen.fill(0);
            self.generation = 1;
        }
        self.branch_seen.resize(branches, 0);
        self.rule_seen.resize(rules, 0);
        self.candidates.clear();
    }
}

impl Machine {
    /// An empty EventBridge machine.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_numbers(numbers: Numbers) -> Self {
        Self { numbers, ..Self::default() }
    }

    /// Adds an EventBridge pattern under `name`, replacing a rule of that name. A bad pattern
    /// changes nothing.
    pub fn add_pattern(&mut self, name: &str, pattern: &[u8]) -> Result<(), Error> {
        let expanded = crate::expand_pattern(pattern)?;
        self.insert(name, expanded, pattern);
        Ok(())
    }

    /// The rule of that name as it was added.
    pub fn source(&self, name: &str) -> Option<&[u8]> {
        let rule = *self.names.get(name)?;
        self.rules[rule as usize].as_ref().map(|e| &self.sources[e.source.0 as usize..][..e.source.1 as usize])
    }

    /// Adds already validated branches under `name`, replacing a rule of that name.
    fn insert(&mut self, name: &str, expanded: Expanded, source: &[u8]) {
        let replaced = self.names.get(name).copied();
        if let Some(rule) = replaced {
            self.unlink(rule);
        }
        let rule = replaced.unwrap_or_else(|| {
            let rule = self.rules.len() as u32;
            self.rules.push(None);
            let name: Arc<str> = name.into();
            self.names.insert(name.clone(), rule);
            self.order.push(name);
            rule
        });
        let name = self.names.get_key_value(name).map(|(n, _)| n.clone()).expect("named above");
        let mut branch_ids = Vec::with_capacity(expanded.len());
        for mut leaves in expanded {
            // Conditions in path order, as the exact test expects (see `rule`).
            leaves.sort_by(|a, b| a.path.cmp(&b.path));
            let branch = self.free_branches.pop().unwrap_or_else(|| {
                self.branches.push(None);
                (self.branches.len() - 1) as u32
            });
            // Exactly as many slots as conditions: a machine holds one of these per rule.
            let mut sub = SubRule { conditions: Vec::with_capacity(leaves.len()) };
            for leaf in leaves {
                let path = self.paths.intern(&leaf.path);
                if self.fields.len() <= path as usize {
                    self.fields.resize_with(path as usize + 1, Field::default);
                }
                sub.conditions.push(Condition { path, matchers: leaf.matchers, absent_ok: leaf.absent_ok });
            }
            let anchor = self.choose_anchor(&sub);
            match anchor {
                Some(a) => {
                    let condition = &sub.conditions[a];
                    for matcher in &condition.matchers {
                        self.fields[condition.path as usize].insert(matcher, branch);
                    }
                }
                None => self.unconditional.push(branch),
            }
            let branch_info = Branch { sub, anchor };
            if self.branch_rule.len() <= branch as usize {
                self.branch_rule.resize(branch as usize + 1, (u32::MAX, false));
            }
            self.branch_rule[branch as usize] = (rule, branch_info.anchor_suffices());
            self.branches[branch as usize] = Some(branch_info);
            branch_ids.push(branch);
        }
        let branches = match branch_ids.as_slice() {
            &[only] => Ids::One(only),
            _ => Ids::Many(branch_ids),
        };
        let at = self.sources.len() as u32;
        self.sources.extend_from_slice(source);
        self.rules[rule as usize] = Some(Entry { name, branches, source: (at, source.len() as u32) });
        self.dirty = true;
    }

    /// The condition expected to meet the fewest events: fewest branches already indexed under
    /// the same keys, then the most selective operator, then the longest key.
    fn choose_anchor(&self, sub: &SubRule) -> Option<usize> {
        sub.conditions
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.absent_ok && !c.matchers.is_empty())
            .min_by_key(|(_, c)| {
                let field = &self.fields[c.path as usize];
                let crowd: usize = c.matchers.iter().map(|m| field.crowd(m)).sum();
                let breadth: u32 = c.matchers.iter().map(breadth).max().unwrap_or(0);
                let length: usize = c.matchers.iter().map(key_length).min().unwrap_or(0);
                (crowd, breadth, std::cmp::Reverse(length))
            })
            .map(|(i, _)| i)
    }

    /// Takes a rule's branches out of the indexes (the rule's slot and name stay).
    fn unlink(&mut self, rule: u32) {
        let Some(entry) = self.rules[rule as usize].take() else { return };
        self.dead_source_bytes += entry.source.1 as usize;
        if self.dead_source_bytes > self.sources.len() / 2 {
            self.compact_sources();
        }
        for &branch_id in entry.branches.as_slice() {
            let Some(branch) = self.branches[branch_id as usize].take() else { continue };
            self.branch_rule[branch_id as usize] = (u32::MAX, false);
            match branch.anchor {
                Some(a) => {
                    let condition = &branch.sub.conditions[a];
                    for matcher in &condition.matchers {
                        self.fields[condition.path as usize].remove(matcher, branch_id);
                    }
                }
                None => self.unconditional.retain(|&b| b != branch_id),
            }
            self.free_branches.push(branch_id);
        }
        self.dirty = true;
    }

    /// Rewrites `sources` with the live rules' text only.
    fn compact_sources(&mut self) {
        let mut sources = Vec::with_capacity(self.sources.len() - self.dead_source_bytes);
        for entry in self.rules.iter_mut().flatten() {
            let (at, len) = entry.source;
            entry.source = (sources.len() as u32, len);
            sources.extend_from_slice(&self.sources[at as usize..][..len as usize]);
        }
        self.sources = sources;
        self.dead_source_bytes = 0;
    }

    /// Removes a rule; false if there was none of that name.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(rule) = self.names.remove(name) else { return false };
        self.unlink(rule);
        self.order.retain(|n| &**n != name);
        true
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// The rules' names, in the order they were first added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(|n| &**n)
    }

    /// Rebuilds the indexes that changes left stale; matching needs it done (`&self`).
    pub fn prepare(&mut self) {
        if self.dirty {
            for field in &mut self.fields {
                if field.is_dirty() {
                    field.build();
                }
            }
            self.dirty = false;
        }
    }

    /// Whether `prepare` must run before matching.
    pub fn needs_prepare(&self) -> bool {
        self.dirty
    }

    /// The names of the rules the event matches, in the order they were first added. Call
    /// `prepare` after changes first.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<&str>, Error> {
        let mut slots = Vec::new();
        self.matches_slots(event, &mut slots)?;
        Ok(slots.iter().map(|&s| self.slot_name(s)).collect())
    }

    /// The slots of the rules the event matches, appended to `out` in slot order (the order
    /// of first `add`); `slot_name` gives their names.
    pub fn matches_slots(&self, event: &[u8], out: &mut Vec<u32>) -> Result<(), Error> {
        debug_assert!(!self.dirty, "prepare() after changes");
        crate::with_workspace(|flat, scratch| {
            scan(event, &self.paths, flat).map_err(|e| crate::invalid_event(&e))?;
            with_counters(|counters| self.matches_flat(flat, scratch, counters, out));
            Ok(())
        })
    }

    /// The slot of the rule of that name.
    pub fn slot(&self, name: &str) -> Option<u32> {
        self.names.get(name).copied()
    }

    /// The name of a rule slot that `matches_slots` returned.
    pub fn slot_name(&self, slot: u32) -> &str {
        self.rules[slot as usize].as_ref().map_or("", |e| &e.name)
    }

    /// The name of a rule slot as a shared string (cheap to keep).
    pub fn slot_name_shared(&self, slot: u32) -> Option<&Arc<str>> {
        self.rules[slot as usize].as_ref().map(|e| &e.name)
    }

    /// Appends the slots of the rules a flattened event matches to `out`, in slot order.
    fn matches_flat(
        &self,
        flat: &mut Flattened<'_>,
        scratch: &mut Scratch,
        counters: &mut Counters,
        out: &mut Vec<u32>,
    ) {
        counters.start(self.branches.len(), self.rules.len());
        let generation = counters.generation;
        let first = out.len();
        let mut folded = std::mem::take(&mut counters.folded);
        for value in &flat.values {
            let c = &mut *counters;
            let out = &mut *out;
            let mut hit = |branch: u32| {
                let (rule, suffices) = self.branch_rule[branch as usize];
                if suffices {
                    // The anchor is the branch's only condition: the rule matches.
                    let seen = &mut c.rule_seen[rule as usize];
                    if *seen != generation {
                        *seen = generation;
                        out.push(rule);
                    }
                } else {
                    let seen = &mut c.branch_seen[branch as usize];
                    if *seen != generation {
                        *seen = generation;
                        c.candidates.push(branch);
                    }
                }
            };
            self.fields[value.path as usize].probe(&value.scalar, self.numbers, &mut folded, &mut hit);
        }
        counters.folded = folded;
        counters.candidates.extend_from_slice(&self.unconditional);
        let mut starts: Option<Vec<u32>> = None;
        for i in 0..counters.candidates.len() {
            let branch_id = counters.candidates[i];
            let Some(branch) = &self.branches[branch_id as usize] else { continue };
            let rule = self.branch_rule[branch_id as usize].0;
            if counters.rule_seen[rule as usize] == generation {
                continue;
            }
            let starts = starts.get_or_insert_with(|| group_by_path(flat, self.paths.len(), scratch));
            if branch.sub.matches(flat, starts, self.numbers, scratch) {
                counters.rule_seen[rule as usize] = generation;
                out.push(rule);
            }
        }
        if let Some(starts) = starts {
            scratch.starts = starts;
        }
        let found = &mut out[first..];
        if found.len() > 32 {
            // Many matches: order them by a pass over a bitmap of rule slots, cheaper than
            // sorting them.
            let bitmap = &mut counters.bitmap;
            bitmap.resize(self.rules.len().div_ceil(64), 0);
            for &slot in found.iter() {
                bitmap[slot as usize / 64] |= 1 << (slot % 64);
            }
            let mut i = 0;
            for (w, word) in bitmap.iter_mut().enumerate() {
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    found[i] = (w * 64) as u32 + bits.trailing_zeros();
                    i += 1;
                    bits &= bits - 1;
                }
            }
        } else {
            found.sort_unstable();
        }
    }

    /// Rough memory held by the compiled machine, in bytes.
    pub fn approximate_bytes(&self) -> usize {
        let mut bytes = std::mem::size_of::<Self>();
        for branch in self.branches.iter().flatten() {
            bytes += std::mem::size_of::<Branch>();
            for c in &branch.sub.conditions {
                bytes += std::mem::size_of::<Condition>() + c.matchers.capacity() * std::mem::size_of::<Matcher>();
                bytes += c.matchers.iter().map(matcher_heap).sum::<usize>();
            }
        }
        bytes += self.branches.capacity() * std::mem::size_of::<Option<Branch>>();
        for entry in self.rules.iter().flatten() {
            bytes += std::mem::size_of::<Entry>() + entry.name.len() + 16 + entry.branches.as_slice().len() * 4;
            bytes += entry.source.1 as usize;
        }
        // Hash map slots hold a key, a value and a control byte; keys own their bytes.
        bytes += self.names.capacity() * (std::mem::size_of::<(Arc<str>, u32)>() + 1);
        for field in &self.fields {
            bytes += field_bytes(field);
        }
        bytes
    }

    /// Distinct fields and indexed keys: the "states" of the machine.
    pub fn states(&self) -> usize {
        self.fields
            .iter()
            .map(|f| {
                1 + f.strings.map.len() + f.numbers.map.len() + f.prefixes.exact.map.len() + f.suffixes.exact.map.len()
            })
            .sum()
    }
}

fn matcher_heap(m: &Matcher) -> usize {
    match m {
        Matcher::String { bytes, .. } | Matcher::Prefix(bytes) | Matcher::Suffix(bytes) => bytes.capacity(),
        Matcher::Number(n) => n.text.capacity(),
        _ => 32,
    }
}

fn field_bytes(f: &Field) -> usize {
    let key_map = |entries: usize, key_heap: usize| entries * (std::mem::size_of::<(Box<[u8]>, Ids)>() + 1) + key_heap;
    let heap: usize = f.strings.map.keys().map(|k| if let Key::Heap(b) = k { b.len() } else { 0 }).sum();
    std::mem::size_of::<Field>()
        + key_map(f.strings.map.capacity(), heap)
        + key_map(f.numbers.map.capacity(), 0)
        + key_map(f.prefixes.exact.map.capacity(), f.prefixes.exact.map.keys().map(|k| k.len()).sum())
        + key_map(f.suffixes.exact.map.capacity(), f.suffixes.exact.map.keys().map(|k| k.len()).sum())
        + f.ranges.len * 48
        + (f.strings_checked.capacity() + f.anything_but.capacity()) * std::mem::size_of::<Checked>()
}

thread_local! {
    static COUNTERS: std::cell::RefCell<Counters> = std::cell::RefCell::default();
}

fn with_counters<R>(f: impl FnOnce(&mut Counters) -> R) -> R {
    COUNTERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut counters) => f(&mut counters),
        Err(_) => f(&mut Counters::default()),
    })
}

/// SNS filter policies of both scopes: a machine over message attributes and one over bodies.
#[derive(Debug, Clone)]
pub struct PolicyMachine {
    attributes: Machine,
    body: Machine,
    order: Vec<Arc<str>>,
}

impl Default for PolicyMachine {
    fn default() -> Self {
        Self {
            attributes: Machine::with_numbers(Numbers::Sns),
            body: Machine::with_numbers(Numbers::Sns),
            order: Vec::new(),
        }
    }
}

impl PolicyMachine {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a policy of a scope under `name`, replacing a policy of that name in either scope.
    pub fn add_policy(&mut self, name: &str, policy: &[u8], scope: Scope) -> Result<(), Error> {
        // `None` is the empty policy: one branch without conditions, matching every message.
        let expanded = expand_policy(policy, scope)?.unwrap_or_else(|| vec![Vec::new()]);
        if !self.contains(name) {
            self.order.push(name.into());
        }
        let (target, other) = match scope {
            Scope::MessageAttributes => (&mut self.attributes, &mut self.body),
            Scope::MessageBody => (&mut self.body, &mut self.attributes),
        };
        other.remove(name);
        target.insert(name, expanded, policy);
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> bool {
        let removed = self.attributes.remove(name) | self.body.remove(name);
        if removed {
            self.order.retain(|n| &**n != name);
        }
        removed
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.attributes.contains(name) || self.body.contains(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(|n| &**n)
    }

    pub fn prepare(&mut self) {
        self.attributes.prepare();
        self.body.prepare();
    }

    pub fn needs_prepare(&self) -> bool {
        self.attributes.needs_prepare() || self.body.needs_prepare()
    }

    /// The names of the policies a message passes: attribute policies by its attributes, body
    /// policies by its body (a body that is not a JSON object passes none).
    pub fn matches_message(&self, body: Option<&[u8]>, attributes: &[Attribute<'_>]) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let mut slots = Vec::new();
        if !self.attributes.is_empty() {
            crate::with_workspace(|flat, scratch| {
                flatten_attributes(flat, attributes, |name| self.attributes.paths.lookup(name));
                with_counters(|c| self.attributes.matches_flat(flat, scratch, c, &mut slots));
            });
            out.extend(slots.drain(..).map(|s| self.attributes.slot_name(s)));
        }
        if let (Some(body), false) = (body, self.body.is_empty()) {
            crate::with_workspace(|flat, scratch| {
                if scan(body, &self.body.paths, flat).is_ok() {
                    with_counters(|c| self.body.matches_flat(flat, scratch, c, &mut slots));
                }
            });
            out.extend(slots.drain(..).map(|s| self.body.slot_name(s)));
        }
        if out.len() > 1 {
            // Both scopes' results, in the order the names were first added.
            out.sort_by_key(|name| self.order.iter().position(|n| &**n == *name));
        }
        out
    }

    pub fn approximate_bytes(&self) -> usize {
        self.attributes.approximate_bytes() + self.body.approximate_bytes()
    }

    pub fn states(&self) -> usize {
        self.attributes.states() + self.body.states()
    }
}
