//! EventBridge's guard against wildcard patterns that would make matching slow.
//!
//! EventBridge matches a field's values with one automaton per field, and a wildcard makes that
//! automaton non-deterministic: while an event value is read, several partial matches of the
//! field's wildcards can be alive at once. A rule is refused when some value could keep
//! [`MAX_WILDCARD_COMPLEXITY`] of them alive: "Rule is too complex - try using fewer wildcard
//! characters or fewer repeating character sequences after a wildcard character".
//!
//! The measure is the one of event-ruler, the engine EventBridge runs. A partial match is a
//! prefix of a wildcard pattern, cut after a literal byte or after a star, that the bytes read so
//! far match in full (a star matching any run, the empty one too); the measure is the most such
//! prefixes, over every value that could be read, counted once per pattern. Identical patterns
//! on one field count once; the values of one `anything-but` `wildcard` list are one pattern, so a
//! prefix they share counts once. Exact, prefix, suffix and every other kind of value add
//! nothing. Fields do not add up: the rule's measure is that of its worst field.
//!
//! A field's automaton is shared by `$or` branches that reach it through the same fields with the
//! same values, so their wildcards on it add up; the automaton of a field that sorts after one
//! whose only condition is `{"exists": false}` is reached through no value and is not measured
//! (event-ruler walks from each field to the next only through matched values).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::pattern::{Expanded, Leaf};
use crate::value::{AnythingBut, Matcher};
use crate::wildcard::Wildcard;

/// The number of live partial matches at which EventBridge refuses a rule (event-ruler's
/// complexity evaluator stops counting there, and the rule is refused once it is reached).
pub const MAX_WILDCARD_COMPLEXITY: usize = 100;

/// The most sets of live partial matches the measure walks through before it gives up and calls
/// the rule too complex, so that no pattern can make validation itself slow.
const MAX_WALKED_SETS: usize = 50_000;

/// The reason EventBridge gives for a rule whose wildcards are too complex.
pub const TOO_COMPLEX: &str = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";

/// Whether an expanded pattern stays under EventBridge's wildcard complexity limit.
pub fn within_limit(expanded: &Expanded) -> bool {
    field_groups(expanded).values().all(|patterns| complexity(patterns) < MAX_WILDCARD_COMPLEXITY)
}

/// A wildcard pattern as event-ruler tells patterns apart: its kind and its values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Counted<'a> {
    Wildcard(&'a Wildcard),
    AnythingBut(&'a [Wildcard]),
}

/// Identifies one field's automaton: the fields (and their value lists) on the way to it.
type Route = Vec<(Vec<u8>, Vec<String>)>;

/// The counted patterns of each field automaton the rule builds.
fn field_groups(expanded: &Expanded) -> HashMap<Route, Vec<Counted<'_>>> {
    let mut groups: HashMap<Route, Vec<Counted<'_>>> = HashMap::new();
    for branch in expanded {
        let mut leaves: Vec<&Leaf> = branch.iter().collect();
        leaves.sort_by(|a, b| a.path.cmp(&b.path));
        let mut route: Route = Vec::new();
        for leaf in leaves {
            let mut key = route.clone();
            key.push((leaf.path.clone(), Vec::new()));
            let patterns = groups.entry(key).or_default();
            for matcher in &leaf.matchers {
                let counted = match matcher {
                    Matcher::Wildcard(w) => Counted::Wildcard(w),
                    Matcher::AnythingBut(AnythingBut::Wildcards(list)) => Counted::AnythingBut(list),
                    _ => continue,
                };
                if !patterns.contains(&counted) {
                    patterns.push(counted);
                }
            }
            if leaf.matchers.is_empty() {
                // Only `{"exists": false}`: the next field is reached without matching a value.
                break;
            }
            route.push((leaf.path.clone(), leaf.source.clone()));
        }
    }
    groups
}

/// One step of a pattern: a literal byte or a star.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Step {
    Byte(u8),
    Star,
}

/// A prefix of a pattern (the prefixes of one counted pattern form a trie).
#[derive(Default)]
struct Node {
    children: HashMap<Step, usize>,
    is_star: bool,
    is_root: bool,
}

/// The automaton of one field's counted patterns.
struct Automaton {
    nodes: Vec<Node>,
}

impl Automaton {
    fn new(patterns: &[Counted<'_>]) -> (Self, Vec<usize>) {
        let mut automaton = Self { nodes: Vec::new() };
        let mut roots = Vec::new();
        for pattern in patterns {
            let root = automaton.add(Node { is_root: true, ..Node::default() });
            roots.push(root);
            let members: &[Wildcard] = match pattern {
                Counted::Wildcard(w) => std::slice::from_ref(*w),
                Counted::AnythingBut(list) => list,
            };
            for wildcard in members {
                let mut at = root;
                for step in steps(wildcard) {
                    at = automaton.child(at, step);
                }
            }
        }
        (automaton, roots)
    }

    /// The node after `at` on `step`, made if the trie does not have it yet.
    fn child(&mut self, at: usize, step: Step) -> usize {
        if let Some(&next) = self.nodes[at].children.get(&step) {
            return next;
        }
        let next = self.add(Node { is_star: step == Step::Star, ..Node::default() });
        self.nodes[at].children.insert(step, next);
        next
    }

    fn add(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Adds `node` and the stars it reaches without reading a byte (a star matches the empty run).
    fn enter(&self, mut node: usize, into: &mut Vec<usize>) {
        loop {
            into.push(node);
            match self.nodes[node].children.get(&Step::Star) {
                Some(&star) => node = star,
                None => return,
            }
        }
    }

    /// The live prefixes after reading `byte` from the live set `from`.
    fn read(&self, from: &[usize], byte: u8) -> Vec<usize> {
        let mut next = Vec::new();
        for &node in from {
            if self.nodes[node].is_star {
                next.push(node);
            }
            if let Some(&child) = self.nodes[node].children.get(&Step::Byte(byte)) {
                self.enter(child, &mut next);
            }
        }
        next.sort_unstable();
        next.dedup();
        next
    }

    /// Bytes that lead somewhere different: each literal byte, and one byte no pattern names.
    fn alphabet(&self) -> Vec<u8> {
        let mut named = [false; 256];
        for node in &self.nodes {
            for step in node.children.keys() {
                if let Step::Byte(b) = step {
                    named[usize::from(*b)] = true;
                }
            }
        }
        let mut bytes: Vec<u8> = (0..=255u8).filter(|b| named[usize::from(*b)]).collect();
        if let Some(other) = (0..=255u8).find(|b| !named[usize::from(*b)]) {
            bytes.push(other);
        }
        bytes
    }
}

/// The steps of a wildcard: its pieces' bytes with a star between consecutive pieces.
fn steps(wildcard: &Wildcard) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, piece) in wildcard.pieces().iter().enumerate() {
        if i > 0 {
            steps.push(Step::Star);
        }
        steps.extend(piece.iter().map(|&b| Step::Byte(b)));
    }
    steps
}

/// The most partial matches of `patterns` that one value can keep alive, counted up to
/// [`MAX_WILDCARD_COMPLEXITY`].
fn complexity(patterns: &[Counted<'_>]) -> usize {
    if patterns.is_empty() {
        return 0;
    }
    let (automaton, roots) = Automaton::new(patterns);
    let alphabet = automaton.alphabet();
    let mut start = Vec::new();
    for &root in &roots {
        automaton.enter(root, &mut start);
    }
    start.sort_unstable();
    let mut seen: HashSet<Vec<usize>> = HashSet::from([start.clone()]);
    let mut pending = VecDeque::from([start]);
    let mut most = 0;
    while let Some(live) = pending.pop_front() {
        for &byte in &alphabet {
            let next = automaton.read(&live, byte);
            let alive = next.iter().filter(|&&n| !automaton.nodes[n].is_root).count();
            most = most.max(alive);
            if most >= MAX_WILDCARD_COMPLEXITY {
                return MAX_WILDCARD_COMPLEXITY;
            }
            if !next.is_empty() && !seen.contains(&next) {
                if seen.len() >= MAX_WALKED_SETS {
                    return MAX_WILDCARD_COMPLEXITY;
                }
                seen.insert(next.clone());
                pending.push_back(next);
            }
        }
    }
    most
}

#[cfg(test)]
mod tests {
    use super::{complexity, Counted, MAX_WILDCARD_COMPLEXITY};
    use crate::wildcard::Wildcard;

    fn of(patterns: &[&str]) -> usize {
        let parsed: Vec<Wildcard> = patterns.iter().map(|p| Wildcard::parse(p.as_bytes()).unwrap()).collect();
        let mut counted: Vec<Counted<'_>> = Vec::new();
        for w in &parsed {
            if !counted.contains(&Counted::Wildcard(w)) {
                counted.push(Counted::Wildcard(w));
            }
        }
        complexity(&counted)
    }

    #[test]
    fn single_patterns_count_their_live_prefixes() {
        // Figures from event-ruler's own evaluator tests (the value in the comment keeps them all alive).
        let cases: &[(&str, usize)] = &[
            ("*", 1),        // "a": "*"
            ("abc", 1),      // "abc": "abc"
            ("*ab", 2),      // "ab": "*", "*ab"
            ("*aa", 3),      // "aa": "*", "*a", "*aa"
            ("a*b", 2),      // "ab": "a*", "a*b"
            ("aa*", 2),      // "aa": "aa", "aa*"
            ("a*bbb", 4),    // "abbb": "a*", "a*b", "a*bb", "a*bbb"
            ("*ab*ad", 4),   // "aba": "*", "*a", "*ab*", "*ab*a"
            ("a*b*cd", 3),   // "abcd": "a*", "a*b*", "a*b*cd"
            ("*ab*b*b*", 7), // "abbbab"
            ("*a*a*a*a*a*a*a*a*", 17),
        ];
        for &(pattern, expected) in cases {
            assert_eq!(of(&[pattern]), expected, "{pattern}");
        }
    }

    #[test]
    fn patterns_of_one_field_add_up() {
        assert_eq!(of(&["*", "ab*c"]), 3);
        assert_eq!(of(&["ab*c", "x*xx"]), 3); // no value keeps both alive
        assert_eq!(of(&["a*aaa", "aa*aa"]), 7);
        assert_eq!(of(&["ab*cd", "ab*wx", "ab*yz"]), 6);
        assert_eq!(of(&["ab*c", "ab*c"]), 2); // a repeated pattern counts once
        assert_eq!(of(&["F*eatureFeature", "Fe*atureFeature", "Fea*tureFeature"]), 10);
        let exploder = "aahed* aal*ii aargh* aarti* a*baca *abaci a*back ab*acs abaf*t *abaka ab*amp a*band \
                        *abase abash* abas*k ab*ate aba*ya abbas* abbed* ab*bes abbey* *abbot ab*cee abea*m \
                        abe*ar a*bele a*bers abet*s *abhor abi*de a*bies *abled";
        assert_eq!(of(&exploder.split(' ').collect::<Vec<_>>()), 45);
    }

    #[test]
    fn counting_stops_at_the_limit() {
        let huge = "F*e*a*t*u*r*e*".repeat(2000);
        assert_eq!(of(&[&huge]), MAX_WILDCARD_COMPLEXITY);
        let arn = format!("arn:{}", "*:".repeat(60));
        assert_eq!(of(&[&arn]), MAX_WILDCARD_COMPLEXITY);
    }

    #[test]
    fn anything_but_values_share_their_common_prefixes() {
        let list: Vec<Wildcard> = ["ab*c", "ab*d"].iter().map(|p| Wildcard::parse(p.as_bytes()).unwrap()).collect();
        // "ab": the shared "a*"-free prefix "ab" and the shared "ab*" count once each.
        assert_eq!(complexity(&[Counted::AnythingBut(&list)]), 2);
        assert_eq!(of(&["ab*c", "ab*d"]), 4);
    }

    /// `*a` repeated `n` times: a value of `n` a's keeps all `2n` prefixes alive.
    fn stars_and_as(n: usize) -> String {
        "*a".repeat(n)
    }

    fn refused(pattern: &str) -> bool {
        match crate::Pattern::new(pattern.as_bytes()) {
            Ok(_) => false,
            Err(e) => {
                assert_eq!(e.reason(), super::TOO_COMPLEX, "{pattern}");
                true
            }
        }
    }

    #[test]
    fn the_limit_is_reached_at_one_hundred() {
        assert_eq!(of(&[&stars_and_as(49)]), 98);
        assert_eq!(of(&[&format!("{}*", stars_and_as(49))]), 99);
        assert!(!refused(&format!(r#"{{"f": [{{"wildcard": "{}*"}}]}}"#, stars_and_as(49))));
        assert!(refused(&format!(r#"{{"f": [{{"wildcard": "{}"}}]}}"#, stars_and_as(50))));
    }

    #[test]
    fn a_rule_is_measured_per_field_with_its_values_combined() {
        let half = format!("{}*", stars_and_as(24)); // 49 on its own
        let other = format!("{}*", "*b".repeat(24));
        // One field: values that one event value keeps alive together add up (49 + 25 + 26 = 100).
        assert!(!refused(&format!(r#"{{"f": [{{"wildcard": "{half}"}}]}}"#)));
        assert!(refused(&format!(
            r#"{{"f": [{{"wildcard": "{half}"}}, {{"wildcard": "{other}"}}, {{"wildcard": "x{half}"}}]}}"#
        )));
        // The same values on two fields do not add up.
        assert!(!refused(&format!(r#"{{"f": [{{"wildcard": "{half}"}}], "g": [{{"wildcard": "{other}"}}]}}"#)));
        // `anything-but` wildcards count like wildcards.
        assert!(refused(&format!(
            r#"{{"f": [{{"wildcard": "{half}"}}, {{"anything-but": {{"wildcard": ["{other}", "x{half}"]}}}}]}}"#
        )));
    }

    #[test]
    fn or_branches_share_a_field_reached_the_same_way() {
        let half = format!("{}*", stars_and_as(24));
        let other = format!("{}*", "*b".repeat(24));
        let third = format!("x{half}");
        let shared = format!(
            r#"{{"a": ["1"], "$or": [{{"f": [{{"wildcard": "{half}"}}, {{"wildcard": "{other}"}}]}}, {{"f": [{{"wildcard": "{third}"}}]}}]}}"#
        );
        assert!(refused(&shared));
        let apart = format!(
            r#"{{"$or": [{{"a": ["1"], "f": [{{"wildcard": "{half}"}}, {{"wildcard": "{other}"}}]}}, {{"a": ["2"], "f": [{{"wildcard": "{third}"}}]}}]}}"#
        );
        assert!(!refused(&apart));
    }

    #[test]
    fn a_field_after_an_absent_one_is_not_measured() {
        let too_many = stars_and_as(50);
        assert!(!refused(&format!(r#"{{"a": [{{"exists": false}}], "f": [{{"wildcard": "{too_many}"}}]}}"#)));
        assert!(refused(&format!(r#"{{"a": [{{"exists": false}}, "x"], "f": [{{"wildcard": "{too_many}"}}]}}"#)));
        assert!(refused(&format!(r#"{{"g": [{{"exists": false}}], "f": [{{"wildcard": "{too_many}"}}]}}"#)));
    }

    #[test]
    fn arn_shaped_values() {
        // A star in every part but the first: each star and each colon after one stays alive.
        assert_eq!(of(&["arn:*:*:*:*:*"]), 9);
        assert_eq!(of(&["arn:aws:*:*:*:*"]), 7);
        assert!(!refused(r#"{"resources": [{"wildcard": "arn:*:*:*:*:*/*"}]}"#));
        let long = format!("arn:aws:{}", "*:".repeat(50)); // 100
        assert_eq!(of(&[&long]), 100);
        assert!(refused(&format!(r#"{{"resources": [{{"wildcard": "{long}"}}]}}"#)));
        let under = format!("arn:aws:{}", "*:".repeat(49)); // 98
        assert_eq!(of(&[&under]), 98);
        assert!(!refused(&format!(r#"{{"resources": [{{"wildcard": "{under}"}}]}}"#)));
    }
}
