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
//!
//! The pieces: `keys` (what an index key files: condition ids, or conditions to confirm),
//! `affixes` (prefixes and suffixes), `ranges` (numeric ranges), `field` (one field's index by
//! operator, and the probe of one value), this module (branches, anchors, rules by name, the
//! match) and `policy` (SNS filter policies of both scopes).

mod affixes;
mod field;
mod keys;
mod policy;
mod ranges;

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::event::{scan, Flattened, PathIndex};
use crate::number::Numbers;
use crate::pattern::Expanded;
use crate::rule::{group_by_path, Condition, Scratch, SubRule};
use crate::value::Matcher;
use field::{breadth, key_length, Field};
use keys::Ids;
pub use policy::{Message, PolicyMachine};

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
            bytes += field.approximate_bytes();
        }
        bytes
    }

    /// Distinct fields and indexed keys: the "states" of the machine.
    pub fn states(&self) -> usize {
        self.fields.iter().map(Field::states).sum()
    }
}

fn matcher_heap(m: &Matcher) -> usize {
    match m {
        Matcher::String { bytes, .. } | Matcher::Prefix(bytes) | Matcher::Suffix(bytes) => bytes.capacity(),
        Matcher::Number(n) => n.text.capacity(),
        _ => 32,
    }
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

/// The matchers of the first condition of a pattern's first branch, for tests of the index.
#[cfg(test)]
fn matchers_of(pattern: &str) -> Vec<Matcher> {
    crate::expand_pattern(pattern.as_bytes()).expect("valid pattern").remove(0).remove(0).matchers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(rules: &[(&str, &str)]) -> Machine {
        let mut machine = Machine::new();
        for (name, pattern) in rules {
            machine.add_pattern(name, pattern.as_bytes()).unwrap();
        }
        machine.prepare();
        machine
    }

    fn matches<'m>(machine: &'m Machine, event: &str) -> Vec<&'m str> {
        machine.matches(event.as_bytes()).unwrap()
    }

    #[test]
    fn a_rule_matches_when_all_its_fields_do() {
        let m = machine(&[
            ("source", r#"{"source": ["com.shop"]}"#),
            ("both", r#"{"source": ["com.shop"], "detail": {"amount": [{"numeric": [">", 100]}]}}"#),
            ("other", r#"{"source": ["com.bank"]}"#),
        ]);
        assert_eq!(matches(&m, r#"{"source": "com.shop", "detail": {"amount": 120}}"#), ["source", "both"]);
        assert_eq!(matches(&m, r#"{"source": "com.shop", "detail": {"amount": 80}}"#), ["source"]);
        assert_eq!(matches(&m, r#"{"source": "com.bank"}"#), ["other"]);
        assert!(matches(&m, r#"{"detail": {"amount": 120}}"#).is_empty());
        assert!(m.machine_is_consistent());
    }

    #[test]
    fn values_from_different_array_elements_do_not_combine() {
        let m = machine(&[("pair", r#"{"items": {"sku": ["a"], "qty": [2]}}"#)]);
        assert_eq!(matches(&m, r#"{"items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}"#), ["pair"]);
        assert!(matches(&m, r#"{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}"#).is_empty());
    }

    #[test]
    fn a_branch_without_required_fields_is_tried_on_every_event() {
        let m = machine(&[("no-a", r#"{"a": [{"exists": false}]}"#), ("a", r#"{"a": [{"exists": true}]}"#)]);
        assert_eq!(matches(&m, r#"{"b": 1}"#), ["no-a"]);
        assert_eq!(matches(&m, r#"{"a": 1}"#), ["a"]);
        assert_eq!(m.unconditional.len(), 1);
    }

    #[test]
    fn a_rule_whose_or_branches_both_match_is_named_once() {
        let m = machine(&[("either", r#"{"$or": [{"a": ["x"]}, {"b": ["y"]}]}"#)]);
        assert_eq!(matches(&m, r#"{"a": "x", "b": "y"}"#), ["either"]);
        assert_eq!(matches(&m, r#"{"b": "y"}"#), ["either"]);
        assert_eq!(m.entry_branches("either"), 2);
    }

    #[test]
    fn results_come_in_the_order_rules_were_first_added() {
        // More than 32 matches take the bitmap path, fewer a sort: both keep slot order.
        for count in [5, 40] {
            let names: Vec<String> = (0..count).map(|i| format!("r{}", count - i)).collect();
            let mut m = Machine::new();
            for (i, name) in names.iter().enumerate() {
                // Anchored on different operators, so the index reaches them in another order.
                let pattern = match i % 3 {
                    0 => r#"{"k": ["v"]}"#,
                    1 => r#"{"k": [{"prefix": "v"}]}"#,
                    _ => r#"{"k": [{"exists": true}]}"#,
                };
                m.add_pattern(name, pattern.as_bytes()).unwrap();
            }
            // Replacing a rule keeps its place.
            m.add_pattern(&names[0], br#"{"k": [{"suffix": "v"}]}"#).unwrap();
            m.prepare();
            assert_eq!(matches(&m, r#"{"k": "v"}"#), names, "{count} rules");
            assert_eq!(m.names().collect::<Vec<_>>(), names);
        }
    }

    #[test]
    fn removed_and_replaced_rules_leave_nothing_behind() {
        let mut m = machine(&[("a", r#"{"x": ["1"]}"#), ("b", r#"{"x": ["1"], "y": [{"numeric": ["<", 0]}]}"#)]);
        assert!(m.remove("a"));
        assert!(!m.remove("a"));
        m.add_pattern("b", br#"{"x": ["2"]}"#).unwrap();
        m.prepare();
        assert!(matches(&m, r#"{"x": "1", "y": -1}"#).is_empty());
        assert_eq!(matches(&m, r#"{"x": "2"}"#), ["b"]);
        assert_eq!(m.len(), 1);
        assert!(!m.contains("a"));
        // The freed branch ids are reused by the next rule.
        let branches = m.branches.len();
        m.add_pattern("c", br#"{"x": ["3"]}"#).unwrap();
        assert_eq!(m.branches.len(), branches);
        assert!(m.machine_is_consistent());
    }

    #[test]
    fn a_bad_pattern_changes_nothing() {
        let mut m = machine(&[("a", r#"{"x": ["1"]}"#)]);
        assert!(m.add_pattern("a", br#"{"x": "1"}"#).is_err());
        assert!(m.add_pattern("b", b"not json").is_err());
        assert!(!m.needs_prepare());
        assert_eq!(m.names().collect::<Vec<_>>(), ["a"]);
        assert_eq!(matches(&m, r#"{"x": "1"}"#), ["a"]);
    }

    #[test]
    fn ranges_added_after_a_match_are_sorted_before_the_next() {
        let mut m = machine(&[("low", r#"{"n": [{"numeric": ["<", 10]}]}"#)]);
        m.add_pattern("high", br#"{"n": [{"numeric": [">", 5]}]}"#).unwrap();
        assert!(m.needs_prepare());
        m.prepare();
        assert_eq!(matches(&m, r#"{"n": 7}"#), ["low", "high"]);
        assert_eq!(matches(&m, r#"{"n": 11}"#), ["high"]);
    }

    #[test]
    fn sources_are_kept_as_written_through_compaction() {
        let mut m = Machine::new();
        for round in 0..20 {
            for name in ["a", "b", "c"] {
                let pattern = format!(r#"{{"{name}": ["{round}"]}}"#);
                m.add_pattern(name, pattern.as_bytes()).unwrap();
            }
        }
        assert_eq!(m.source("b"), Some(&br#"{"b": ["19"]}"#[..]));
        assert!(m.sources.len() < 3 * 2 * 13, "dead text dropped: {} bytes", m.sources.len());
        assert_eq!(m.source("d"), None);
    }

    #[test]
    fn slots_name_rules() {
        let m = machine(&[("first", r#"{"a": ["x"]}"#), ("second", r#"{"a": ["x"]}"#)]);
        let mut slots = Vec::new();
        m.matches_slots(br#"{"a": "x"}"#, &mut slots).unwrap();
        assert_eq!(slots, [0, 1]);
        assert_eq!(m.slot("second"), Some(1));
        assert_eq!(m.slot_name(1), "second");
        assert_eq!(m.slot_name_shared(0).map(|n| &**n), Some("first"));
        assert!(m.states() >= 2);
    }

    #[test]
    fn an_event_that_is_not_an_object_is_an_error() {
        let m = machine(&[("a", r#"{"a": ["x"]}"#)]);
        assert!(m.matches(b"[1]").is_err());
        assert!(m.matches(b"{").is_err());
    }

    impl Machine {
        /// Every live branch is indexed once (under its anchor, or as unconditional) and maps
        /// back to its rule.
        fn machine_is_consistent(&self) -> bool {
            self.branches.iter().enumerate().all(|(id, branch)| match branch {
                Some(branch) => {
                    let (rule, suffices) = self.branch_rule[id];
                    let owner = self.rules[rule as usize].as_ref().expect("live rule");
                    owner.branches.as_slice().contains(&(id as u32))
                        && suffices == branch.anchor_suffices()
                        && (branch.anchor.is_some() != self.unconditional.contains(&(id as u32)))
                }
                None => self.branch_rule[id].0 == u32::MAX && self.free_branches.contains(&(id as u32)),
            })
        }

        fn entry_branches(&self, name: &str) -> usize {
            self.rules[self.names[name] as usize].as_ref().map_or(0, |e| e.branches.as_slice().len())
        }
    }
}
