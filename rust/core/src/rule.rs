//! A compiled rule: sub-rules (one per `$or` branch combination) of conditions over paths, and
//! the array-consistent test of a flattened event against them.

use crate::event::{Flattened, Node, PathIndex};
use crate::number::Numbers;
use crate::value::Matcher;

/// One field of a sub-rule: the path's value must satisfy one of the matchers, or, when
/// `absent_ok` (the list holds `{"exists": false}`), the path may have no value at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub path: u32,
    pub matchers: Vec<Matcher>,
    pub absent_ok: bool,
}

/// All conditions must hold, with values that no array makes inconsistent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubRule {
    pub conditions: Vec<Condition>,
}

/// Sub-rules OR together.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub index: PathIndex,
    pub subrules: Vec<SubRule>,
    pub numbers: Numbers,
}

impl Rule {
    /// Whether the flattened event (scanned with this rule's index) satisfies some sub-rule.
    /// Sorts the event's values by path.
    pub fn matches(&self, event: &mut Flattened<'_>, scratch: &mut Scratch) -> bool {
        let starts = group_by_path(event, self.index.len(), scratch);
        let found = self.subrules.iter().any(|sub| sub.matches(event, &starts, self.numbers, scratch));
        scratch.starts = starts;
        found
    }
}

/// Sorts the event's values by path and returns where each path's values start (index `p`)
/// and end (index `p + 1`). Give the vector back to `scratch.starts` when done.
pub(crate) fn group_by_path(event: &mut Flattened<'_>, paths: usize, scratch: &mut Scratch) -> Vec<u32> {
    event.values.sort_by_key(|v| v.path);
    let mut starts = std::mem::take(&mut scratch.starts);
    starts.clear();
    starts.resize(paths + 1, 0);
    for v in &event.values {
        starts[v.path as usize + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    starts
}

/// What one condition may use: its matching values, and (for a condition that allows absence)
/// the range of all its path's values, which must all be out of reach for absence to hold.
struct Choice {
    candidates: Vec<u32>,
    absent: Option<(u32, u32)>,
}

/// Buffers of one matching thread, reused from event to event.
#[derive(Default)]
pub struct Scratch {
    pub(crate) starts: Vec<u32>,
    choices: Vec<Choice>,
    fixed: Vec<(u32, u32)>,
}

impl SubRule {
    pub(crate) fn matches(
        &self,
        event: &Flattened<'_>,
        starts: &[u32],
        numbers: Numbers,
        scratch: &mut Scratch,
    ) -> bool {
        let mut used = 0;
        let mut in_arrays = false;
        for condition in &self.conditions {
            let (start, end) = (starts[condition.path as usize], starts[condition.path as usize + 1]);
            if start == end {
                if condition.absent_ok {
                    continue;
                }
                return false;
            }
            if used == scratch.choices.len() {
                scratch.choices.push(Choice { candidates: Vec::new(), absent: None });
            }
            let choice = &mut scratch.choices[used];
            choice.candidates.clear();
            choice.absent = condition.absent_ok.then_some((start, end));
            let mut at_root = false;
            for i in start..end {
                let value = &event.values[i as usize];
                at_root |= value.node == 0;
                in_arrays |= value.node != 0;
                if condition.matchers.iter().any(|m| m.matches(&value.scalar, numbers)) {
                    choice.candidates.push(i);
                }
            }
            // A value outside every array is always in reach, so absence cannot hold then.
            if choice.candidates.is_empty() && (!condition.absent_ok || at_root) {
                return false;
            }
            used += 1;
        }
        let choices = &mut scratch.choices[..used];
        if !in_arrays {
            return true;
        }
        // In the order of the conditions' paths (sorted when compiled): event-ruler walks a
        // rule's fields in that order and judges an absence against the array elements that the
        // fields before it have chosen.
        scratch.fixed.clear();
        consistent(choices, event, &mut scratch.fixed)
    }
}

/// Whether, taking the choices in order, each can pick one candidate (or, where allowed, hold
/// by absence) so that no two picked values come from different elements of one array. A
/// choice holds by absence when none of its path's values could sit beside the values picked
/// before it. `fixed` holds the (array, element) picks made so far.
fn consistent(choices: &[Choice], event: &Flattened<'_>, fixed: &mut Vec<(u32, u32)>) -> bool {
    let Some((first, rest)) = choices.split_first() else { return true };
    for &i in &first.candidates {
        let mark = fixed.len();
        if assign(event.values[i as usize].node, &event.nodes, fixed) && consistent(rest, event, fixed) {
            return true;
        }
        fixed.truncate(mark);
    }
    first.absent.is_some_and(|(start, end)| {
        (start..end).all(|i| !reachable(event.values[i as usize].node, &event.nodes, fixed))
            && consistent(rest, event, fixed)
    })
}

/// Fixes the elements on the path from `node` to the root; false if one conflicts.
fn assign(mut node: u32, nodes: &[Node], fixed: &mut Vec<(u32, u32)>) -> bool {
    while node != 0 {
        let Node { parent, array } = nodes[node as usize];
        match fixed.iter().find(|(a, _)| *a == array) {
            // The same element was fixed earlier, and with it every element above it.
            Some(&(_, element)) if element == node => return true,
            Some(_) => return false,
            None => fixed.push((array, node)),
        }
        node = parent;
    }
    true
}

/// Whether a value in `node` could be combined with the elements fixed so far.
fn reachable(mut node: u32, nodes: &[Node], fixed: &[(u32, u32)]) -> bool {
    while node != 0 {
        let Node { parent, array } = nodes[node as usize];
        if fixed.iter().any(|&(a, element)| a == array && element != node) {
            return false;
        }
        node = parent;
    }
    true
}
