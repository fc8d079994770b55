//! Many rules matched at once.
//!
//! Every condition of every rule is indexed under its field by what it asks of a value: exact
//! strings and numbers in hash maps, prefixes and suffixes in maps probed once per distinct
//! length, case-insensitive forms (ASCII) by their folded bytes, numeric ranges in an interval
//! tree, wildcards under their leading or trailing literal. Matching an event looks up each of
//! its values once and counts, per sub-rule, the conditions it satisfied: a sub-rule whose
//! required conditions are all met is a candidate, confirmed directly when no array or absence
//! is involved, else by the exact (array-consistent) test of the single-pattern path. The work
//! per event follows its values and the conditions they meet, not the number of rules.

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
#[derive(Debug, Clone, Default)]
struct KeyMap<K: std::hash::Hash + Eq> {
    map: FxHashMap<K, Ids>,
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

/// Numeric ranges: an interval tree over ranges sorted by lower bound, rebuilt after changes.
#[derive(Debug, Clone, Default)]
struct Ranges {
    /// (low, high, condition); bounds widened to closed, exactness checked by `matcher`.
    items: Vec<(f64, f64, u32, crate::value::Range)>,
    /// Segment tree of the largest `high` over `items` ranges (built lazily).
    max_high: Vec<f64>,
    dirty: bool,
}

impl Ranges {
    fn insert(&mut self, range: crate::value::Range, id: u32) {
        let low = range.low.map_or(f64::NEG_INFINITY, |b| b.value);
        let high = range.high.map_or(f64::INFINITY, |b| b.value);
        self.items.push((low, high, id, range));
        self.dirty = true;
    }

    fn remove(&mut self, id: u32) {
        self.items.retain(|item| item.2 != id);
        self.dirty = true;
    }

    fn build(&mut self) {
        self.items.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = self.items.len();
        self.max_high = vec![f64::NEG_INFINITY; 2 * n.next_power_of_two().max(1)];
        let size = self.max_high.len() / 2;
        for (i, item) in self.items.iter().enumerate() {
            self.max_high[size + i] = item.1;
        }
        for i in (1..size).rev() {
            self.max_high[i] = self.max_high[2 * i].max(self.max_high[2 * i + 1]);
        }
        self.dirty = false;
    }

    #[inline]
    fn probe(&self, x: f64, hit: &mut impl FnMut(u32)) {
        if self.items.is_empty() {
            return;
        }
        // Only ranges starting at or below x can hold it: a prefix of the sorted items.
        let end = self.items.partition_point(|item| item.0 <= x);
        if end == 0 {
            return;
        }
        let size = self.max_high.len() / 2;
        // Walk the tree over [0, end), entering subtrees whose largest high reaches x.
        let mut stack = [(1usize, 0usize, size); 64];
        let mut top = 1;
        while top > 0 {
            top -= 1;
            let (node, lo, hi) = stack[top];
            if lo >= end || self.max_high[node] < x {
                continue;
            }
            if hi - lo == 1 {
                let (_, _, id, range) = &self.items[lo];
                if range.contains(x) {
                    hit(*id);
                }
                continue;
            }
            let mid = (lo + hi) / 2;
            stack[top] = (2 * node + 1, mid, hi);
            stack[top + 1] = (2 * node, lo, mid);
            top += 2;
        }
    }
}

/// Everything indexed under one field (path).
#[derive(Debug, Clone, Default)]
struct Field {
    strings: KeyMap<Box<[u8]>>,
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
        Matcher::EqualsIgnoreCase(f) => vec![f.ascii_text().and_then(ascii_folded).map_or(Slot::CheckedString, Slot::FoldedEquals)],
        Matcher::PrefixIgnoreCase(f) => vec![f.ascii_text().and_then(ascii_folded).map_or(Slot::CheckedString, Slot::FoldedPrefix)],
        Matcher::SuffixIgnoreCase(f) => vec![f.ascii_text().and_then(ascii_folded).map_or(Slot::CheckedString, Slot::FoldedSuffix)],
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

impl Field {
    fn insert(&mut self, matcher: &Matcher, id: u32) {
        for slot in slots(matcher) {
            let checked = || Checked { id, matcher: matcher.clone() };
            match slot {
                Slot::String(b) => self.strings.insert(b.into(), id),
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
    rule: u32,
    sub: SubRule,
    /// Condition ids, one per condition of `sub`.
    ids: Vec<u32>,
    /// Conditions that must meet a value (those not satisfied by absence).
    required: u32,
    /// Whether a candidate needs the exact test even outside arrays (absence involved).
    check: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    name: Arc<str>,
    branches: Vec<u32>,
    /// When the name was first added: results come in this order.
    seq: u64,
    /// The rule as written, for explanations.
    source: Box<[u8]>,
}

/// A set of named rules of one dialect compiled together.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    numbers: Numbers,
    paths: PathIndex,
    fields: Vec<Field>,
    /// Owner branch of each condition id (`u32::MAX` when free).
    owners: Vec<u32>,
    free_ids: Vec<u32>,
    branches: Vec<Option<Branch>>,
    free_branches: Vec<u32>,
    rules: Vec<Option<Entry>>,
    free_rules: Vec<u32>,
    names: FxHashMap<Arc<str>, u32>,
    /// Branches without required conditions: candidates for every event.
    unconditional: Vec<u32>,
    /// Whether some field's index must be rebuilt before matching.
    dirty: bool,
    /// Rules in the order of their first `add`, with that order's counter.
    order: Vec<Arc<str>>,
    next_seq: u64,
}

/// Per-thread counters of one match, stamped with the event's generation so that nothing
/// needs clearing between events.
#[derive(Default)]
pub struct Counters {
    generation: u32,
    condition_seen: Vec<u32>,
    branch_seen: Vec<u32>,
    branch_count: Vec<u32>,
    branch_in_array: Vec<u32>,
    rule_seen: Vec<u32>,
    candidates: Vec<u32>,
    folded: Vec<u8>,
}

impl Counters {
    fn start(&mut self, ids: usize, branches: usize, rules: usize) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: old stamps could collide with new generations.
            self.condition_seen.fill(0);
            self.branch_seen.fill(0);
            self.branch_in_array.fill(0);
            self.rule_seen.fill(0);
            self.generation = 1;
        }
        self.condition_seen.resize(ids, 0);
        self.branch_seen.resize(branches, 0);
        self.branch_count.resize(branches, 0);
        self.branch_in_array.resize(branches, 0);
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
        self.rules[rule as usize].as_ref().map(|e| &*e.source)
    }

    /// Adds already validated branches under `name`, replacing a rule of that name.
    fn insert(&mut self, name: &str, expanded: Expanded, source: &[u8]) {
        let replaced = self.names.get(name).copied();
        let replaced_seq = replaced.and_then(|r| self.rules[r as usize].as_ref().map(|e| e.seq));
        if let Some(rule) = replaced {
            self.unlink(rule);
        }
        let rule = match replaced.or_else(|| self.free_rules.pop()) {
            Some(r) => r,
            None => {
                self.rules.push(None);
                (self.rules.len() - 1) as u32
            }
        };
        let (name, seq) = match (self.names.get_key_value(name), replaced_seq) {
            (Some((existing, _)), Some(seq)) => (existing.clone(), seq),
            _ => {
                let name: Arc<str> = name.into();
                self.names.insert(name.clone(), rule);
                self.order.push(name.clone());
                self.next_seq += 1;
                (name, self.next_seq)
            }
        };
        let mut branch_ids = Vec::with_capacity(expanded.len());
        for leaves in expanded {
            let mut sub = SubRule::default();
            let mut ids = Vec::with_capacity(leaves.len());
            let branch = self.free_branches.pop().unwrap_or_else(|| {
                self.branches.push(None);
                (self.branches.len() - 1) as u32
            });
            for leaf in leaves {
                let path = self.paths.intern(&leaf.path);
                if self.fields.len() <= path as usize {
                    self.fields.resize_with(path as usize + 1, Field::default);
                }
                let id = self.free_ids.pop().unwrap_or_else(|| {
                    self.owners.push(u32::MAX);
                    (self.owners.len() - 1) as u32
                });
                self.owners[id as usize] = branch;
                for matcher in &leaf.matchers {
                    self.fields[path as usize].insert(matcher, id);
                }
                ids.push(id);
                sub.conditions.push(Condition { path, matchers: leaf.matchers, absent_ok: leaf.absent_ok });
            }
            let required = sub.conditions.iter().filter(|c| !c.absent_ok).count() as u32;
            let check = sub.conditions.iter().any(|c| c.absent_ok);
            if required == 0 {
                self.unconditional.push(branch);
            }
            self.branches[branch as usize] = Some(Branch { rule, sub, ids, required, check });
            branch_ids.push(branch);
        }
        self.rules[rule as usize] = Some(Entry { name, branches: branch_ids, seq, source: source.into() });
        self.dirty = true;
    }

    /// Takes a rule's branches out of the indexes (the rule's slot and name stay).
    fn unlink(&mut self, rule: u32) {
        let Some(entry) = self.rules[rule as usize].take() else { return };
        for branch_id in entry.branches {
            let Some(branch) = self.branches[branch_id as usize].take() else { continue };
            for (condition, &id) in branch.sub.conditions.iter().zip(&branch.ids) {
                for matcher in &condition.matchers {
                    self.fields[condition.path as usize].remove(matcher, id);
                }
                self.owners[id as usize] = u32::MAX;
                self.free_ids.push(id);
            }
            if branch.required == 0 {
                self.unconditional.retain(|&b| b != branch_id);
            }
            self.free_branches.push(branch_id);
        }
        self.dirty = true;
    }

    /// Removes a rule; false if there was none of that name.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(rule) = self.names.remove(name) else { return false };
        self.unlink(rule);
        self.free_rules.push(rule);
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

    /// The names of the rules the event matches. Call `prepare` after changes first.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<&str>, Error> {
        debug_assert!(!self.dirty, "prepare() after changes");
        crate::with_workspace(|flat, scratch| {
            scan(event, &self.paths, flat).map_err(|e| crate::invalid_event(&e))?;
            Ok(with_counters(|counters| self.matches_flat(flat, scratch, counters)))
        })
    }

    /// The names of the rules a flattened event matches.
    fn matches_flat(&self, flat: &mut Flattened<'_>, scratch: &mut Scratch, counters: &mut Counters) -> Vec<&str> {
        counters.start(self.owners.len(), self.branches.len(), self.rules.len());
        let generation = counters.generation;
        let mut folded = std::mem::take(&mut counters.folded);
        for value in &flat.values {
            let in_array = value.node != 0;
            let c = &mut *counters;
            let mut hit = |id: u32| {
                let seen = &mut c.condition_seen[id as usize];
                if *seen == generation {
                    return;
                }
                *seen = generation;
                let branch = self.owners[id as usize] as usize;
                if c.branch_seen[branch] != generation {
                    c.branch_seen[branch] = generation;
                    c.branch_count[branch] = 0;
                }
                if in_array {
                    c.branch_in_array[branch] = generation;
                }
                c.branch_count[branch] += 1;
                let required = self.branches[branch].as_ref().map_or(u32::MAX, |b| b.required);
                if c.branch_count[branch] == required {
                    c.candidates.push(branch as u32);
                }
            };
            self.fields[value.path as usize].probe(&value.scalar, self.numbers, &mut folded, &mut hit);
        }
        counters.folded = folded;
        counters.candidates.extend_from_slice(&self.unconditional);
        let mut found: Vec<u32> = Vec::new();
        let mut starts: Option<Vec<u32>> = None;
        for i in 0..counters.candidates.len() {
            let branch_id = counters.candidates[i];
            let Some(branch) = &self.branches[branch_id as usize] else { continue };
            if counters.rule_seen[branch.rule as usize] == generation {
                continue;
            }
            let confirmed = if branch.check || counters.branch_in_array[branch_id as usize] == generation {
                let starts = starts.get_or_insert_with(|| group_by_path(flat, self.paths.len(), scratch));
                branch.sub.matches(flat, starts, self.numbers, scratch)
            } else {
                true
            };
            if confirmed {
                counters.rule_seen[branch.rule as usize] = generation;
                found.push(branch.rule);
            }
        }
        if let Some(starts) = starts {
            scratch.starts = starts;
        }
        let mut entries: Vec<&Entry> = found.iter().filter_map(|&r| self.rules[r as usize].as_ref()).collect();
        entries.sort_unstable_by_key(|e| e.seq);
        entries.into_iter().map(|e| &*e.name).collect()
    }

    /// Rough memory held by the compiled machine, in bytes.
    pub fn approximate_bytes(&self) -> usize {
        let mut bytes = std::mem::size_of::<Self>();
        bytes += self.owners.capacity() * 4 + self.free_ids.capacity() * 4;
        for branch in self.branches.iter().flatten() {
            bytes += std::mem::size_of::<Branch>() + branch.ids.capacity() * 4;
            for c in &branch.sub.conditions {
                bytes += std::mem::size_of::<Condition>() + c.matchers.capacity() * std::mem::size_of::<Matcher>();
                bytes += c.matchers.iter().map(matcher_heap).sum::<usize>();
            }
        }
        bytes += self.branches.capacity() * std::mem::size_of::<Option<Branch>>();
        for entry in self.rules.iter().flatten() {
            bytes += std::mem::size_of::<Entry>() + entry.name.len() + 16 + entry.branches.capacity() * 4;
            bytes += entry.source.len();
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
            .map(|f| 1 + f.strings.map.len() + f.numbers.map.len() + f.prefixes.exact.map.len() + f.suffixes.exact.map.len())
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
    let heap: usize = f.strings.map.keys().map(|k| k.len()).sum();
    std::mem::size_of::<Field>()
        + key_map(f.strings.map.capacity(), heap)
        + key_map(f.numbers.map.capacity(), 0)
        + key_map(f.prefixes.exact.map.capacity(), f.prefixes.exact.map.keys().map(|k| k.len()).sum())
        + key_map(f.suffixes.exact.map.capacity(), f.suffixes.exact.map.keys().map(|k| k.len()).sum())
        + f.ranges.items.capacity() * 48
        + f.ranges.max_high.capacity() * 8
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
        Self { attributes: Machine::with_numbers(Numbers::Sns), body: Machine::with_numbers(Numbers::Sns), order: Vec::new() }
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
        if !self.attributes.is_empty() {
            crate::with_workspace(|flat, scratch| {
                flatten_attributes(flat, attributes, |name| self.attributes.paths.lookup(name));
                out.extend(with_counters(|c| self.attributes.matches_flat(flat, scratch, c)));
            });
        }
        if let (Some(body), false) = (body, self.body.is_empty()) {
            crate::with_workspace(|flat, scratch| {
                if scan(body, &self.body.paths, flat).is_ok() {
                    out.extend(with_counters(|c| self.body.matches_flat(flat, scratch, c)));
                }
            });
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
