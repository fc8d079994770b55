//! A compiled rule: sub-rules (one per `$or` branch combination) of conditions over paths, and
//! the array-consistent test of a flattened event against them.

use crate::event::{Flattened, Node, PathIndex};
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
}

impl Rule {
    /// Whether the flattened event (scanned with this rule's index) satisfies some sub-rule.
    /// Sorts the event's values by path.
    pub fn matches(&self, event: &mut Flattened<'_>) -> bool {
        event.values.sort_by_key(|v| v.path);
        let mut starts = vec![0u32; self.index.len() + 1];
        for v in &event.values {
            starts[v.path as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut scratch = Scratch::default();
        self.subrules.iter().any(|sub| sub.matches(event, &starts, &mut scratch))
    }
}

#[derive(Default)]
struct Scratch {
    candidates: Vec<Vec<u32>>,
    fixed: Vec<(u32, u32)>,
}

impl SubRule {
    fn matches(&self, event: &Flattened<'_>, starts: &[u32], scratch: &mut Scratch) -> bool {
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
            if used == scratch.candidates.len() {
                scratch.candidates.push(Vec::new());
            }
            let list = &mut scratch.candidates[used];
            list.clear();
            for i in start..end {
                let value = &event.values[i as usize];
                if condition.matchers.iter().any(|m| m.matches(&value.scalar)) {
                    list.push(i);
                    in_arrays |= value.node != 0;
                }
            }
            if list.is_empty() {
                return false;
            }
            used += 1;
        }
        if !in_arrays || used <= 1 {
            return true;
        }
        let lists = &mut scratch.candidates[..used];
        lists.sort_by_key(Vec::len);
        scratch.fixed.clear();
        consistent(lists, event, &mut scratch.fixed)
    }
}

/// Whether one candidate per list can be chosen so that no two come from different elements of
/// one array. `fixed` holds the (array, element) choices made so far.
fn consistent(lists: &[Vec<u32>], event: &Flattened<'_>, fixed: &mut Vec<(u32, u32)>) -> bool {
    let Some((first, rest)) = lists.split_first() else { return true };
    for &i in first {
        let mark = fixed.len();
        if assign(event.values[i as usize].node, &event.nodes, fixed) && consistent(rest, event, fixed) {
            return true;
        }
        fixed.truncate(mark);
    }
    false
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
