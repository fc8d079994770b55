//! SNS filter policies matched at once: one machine per filter policy scope.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{with_counters, Machine};
use crate::error::Error;
use crate::event::scan;
use crate::number::Numbers;
use crate::policy::{expand as expand_policy, flatten_attributes, Attribute, Scope};

/// One SNS message as the policies read it: its body, if it has one, and its attributes.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub body: Option<&'a [u8]>,
    pub attributes: &'a [Attribute<'a>],
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
        let (mut by_attributes, mut by_body) = (Vec::new(), Vec::new());
        self.match_scopes(&Message { body, attributes }, &mut by_attributes, &mut by_body);
        let mut out: Vec<&str> = by_attributes.iter().map(|&s| self.attributes.slot_name(s)).collect();
        out.extend(by_body.iter().map(|&s| self.body.slot_name(s)));
        if out.len() > 1 {
            // Both scopes' results, in the order the names were first added.
            out.sort_by_key(|name| self.order.iter().position(|n| &**n == *name));
        }
        out
    }

    /// `matches_message` for each message of a batch, as positions in `names()`: the policies
    /// message `i` passes are `found[ends[i - 1]..ends[i]]` (from 0 for the first), in
    /// `names()` order; `name_shared` gives their names. Both vectors are appended to.
    pub fn matches_messages(&self, messages: &[Message<'_>], found: &mut Vec<u32>, ends: &mut Vec<usize>) {
        // Slot to position, per scope, once for the batch.
        let by_name: FxHashMap<&str, u32> = self.order.iter().zip(0..).map(|(n, i)| (&**n, i)).collect();
        let positions = |machine: &Machine| -> Vec<Option<u32>> {
            machine.rules.iter().map(|entry| entry.as_ref().and_then(|e| by_name.get(&*e.name)).copied()).collect()
        };
        let (attribute_positions, body_positions) = (positions(&self.attributes), positions(&self.body));
        let (mut by_attributes, mut by_body) = (Vec::new(), Vec::new());
        ends.reserve(messages.len());
        for message in messages {
            let start = found.len();
            self.match_scopes(message, &mut by_attributes, &mut by_body);
            found.extend(by_attributes.drain(..).filter_map(|s| attribute_positions[s as usize]));
            found.extend(by_body.drain(..).filter_map(|s| body_positions[s as usize]));
            found[start..].sort_unstable();
            ends.push(found.len());
        }
    }

    /// The name at a position of `names()`, as a shared string (cheap to keep).
    pub fn name_shared(&self, position: u32) -> Option<&Arc<str>> {
        self.order.get(position as usize)
    }

    /// Appends the slots of the attribute policies a message passes to `by_attributes` and
    /// those of the body policies to `by_body`, each in its machine's slot order.
    fn match_scopes(&self, message: &Message<'_>, by_attributes: &mut Vec<u32>, by_body: &mut Vec<u32>) {
        if !self.attributes.is_empty() {
            crate::with_workspace(|flat, scratch| {
                flatten_attributes(flat, message.attributes, |name| self.attributes.paths.lookup(name));
                with_counters(|c| self.attributes.matches_flat(flat, scratch, c, by_attributes));
            });
        }
        if let (Some(body), false) = (message.body, self.body.is_empty()) {
            crate::with_workspace(|flat, scratch| {
                if scan(body, &self.body.paths, flat).is_ok() {
                    with_counters(|c| self.body.matches_flat(flat, scratch, c, by_body));
                }
            });
        }
    }

    pub fn approximate_bytes(&self) -> usize {
        self.attributes.approximate_bytes() + self.body.approximate_bytes()
    }

    pub fn states(&self) -> usize {
        self.attributes.states() + self.body.states()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;

    fn attribute<'a>(name: &'a str, data_type: &'a str, value: &'a str) -> Attribute<'a> {
        Attribute { name: name.as_bytes(), data_type, value: Some(value.as_bytes()) }
    }

    fn machine(policies: &[(&str, &str, Scope)]) -> PolicyMachine {
        let mut machine = PolicyMachine::new();
        for (name, policy, scope) in policies {
            machine.add_policy(name, policy.as_bytes(), *scope).unwrap();
        }
        machine.prepare();
        machine
    }

    #[test]
    fn each_scope_matches_its_own_part_of_a_message() {
        let m = machine(&[
            ("by-attribute", r#"{"color": ["red"]}"#, Scope::MessageAttributes),
            ("by-body", r#"{"color": ["blue"]}"#, Scope::MessageBody),
            ("by-price", r#"{"price": [{"numeric": [">", 100]}]}"#, Scope::MessageAttributes),
        ]);
        let red = [attribute("color", "String", "red"), attribute("price", "Number", "120")];
        assert_eq!(m.matches_message(Some(br#"{"color": "blue"}"#), &red), ["by-attribute", "by-body", "by-price"]);
        assert_eq!(m.matches_message(Some(br#"{"color": "red"}"#), &[]), Vec::<&str>::new());
        assert_eq!(m.matches_message(None, &red[1..]), ["by-price"]);
        assert_eq!(
            m.matches_message(Some(b"not json"), &red[..1]),
            ["by-attribute"],
            "a bad body passes no body policy"
        );
    }

    #[test]
    fn a_name_lives_in_one_scope_and_keeps_its_place() {
        let mut m = machine(&[
            ("first", r#"{"a": ["x"]}"#, Scope::MessageBody),
            ("second", r#"{"a": ["x"]}"#, Scope::MessageAttributes),
        ]);
        // Replacing "first" with an attribute policy moves it out of the body machine.
        m.add_policy("first", br#"{"a": ["x"]}"#, Scope::MessageAttributes).unwrap();
        m.prepare();
        assert_eq!(m.len(), 2);
        assert_eq!(m.names().collect::<Vec<_>>(), ["first", "second"]);
        let x = [attribute("a", "String", "x")];
        assert_eq!(m.matches_message(Some(br#"{"a": "x"}"#), &x), ["first", "second"]);
        assert!(m.remove("first"));
        assert!(!m.remove("first"));
        assert!(!m.contains("first"));
        assert_eq!(m.matches_message(Some(br#"{"a": "x"}"#), &x), ["second"]);
    }

    #[test]
    fn the_empty_policy_passes_every_message_and_bad_policies_change_nothing() {
        let mut m = machine(&[("all", "{}", Scope::MessageAttributes)]);
        assert_eq!(m.matches_message(None, &[]), ["all"]);
        assert!(m.add_policy("bad", br#"{"a": "not a list"}"#, Scope::MessageAttributes).is_err());
        assert!(m.add_policy("all", br#"{"a": [{"bogus": 1}]}"#, Scope::MessageAttributes).is_err());
        assert_eq!(m.len(), 1);
        assert!(!m.needs_prepare());
        assert_eq!(m.matches_message(None, &[]), ["all"]);
        assert!(!m.is_empty());
        assert!(m.approximate_bytes() > 0);
    }

    /// A policy of either scope over keys `a`..`c` (body ones may nest one level).
    fn policy() -> impl Strategy<Value = (String, Scope)> {
        let key = select(vec!["a", "b", "c"]);
        let condition = prop_oneof![
            select(vec![r#"["x"]"#, r#"["x", "y"]"#, r#"[{"prefix": "x"}]"#, r#"[{"anything-but": "y"}]"#]),
            select(vec![r#"[{"numeric": [">", 1]}]"#, r#"[{"exists": false}]"#, r#"[{"exists": true}]"#]),
        ];
        let scope = select(vec![Scope::MessageAttributes, Scope::MessageBody]);
        (proptest::collection::vec((key, condition), 0..3), scope, any::<bool>()).prop_map(
            |(conditions, scope, nested)| {
                let members: Vec<String> = conditions.iter().map(|(k, c)| format!("\"{k}\": {c}")).collect();
                let object = format!("{{{}}}", members.join(", "));
                match scope {
                    Scope::MessageBody if nested => (format!("{{\"n\": {object}}}"), scope),
                    _ => (object, scope),
                }
            },
        )
    }

    /// A body (absent, not JSON, or an object over `a`..`c` and `n`) and attributes.
    #[allow(clippy::type_complexity)]
    fn message() -> impl Strategy<Value = (Option<String>, Vec<(&'static str, &'static str, Option<&'static str>)>)> {
        let value = select(vec![r#""x""#, r#""y""#, r#""xy""#, "2", "0", "[1, \"x\"]"]);
        let member = (select(vec!["a", "b", "c", "n"]), value);
        let object = proptest::collection::vec(member, 0..4).prop_map(|members| {
            let members: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            let inner = members.join(", ");
            format!("{{{inner}, \"n\": {{{inner}}}}}").replace("{, ", "{")
        });
        let body = prop_oneof![Just(None), Just(Some("not json".to_owned())), object.prop_map(Some)];
        let attribute = (
            select(vec!["a", "b", "c"]),
            select(vec!["String", "Number", "String.Array", "Binary"]),
            select(vec![Some("x"), Some("y"), Some("2"), Some("[\"x\", 2]"), None]),
        );
        (body, proptest::collection::vec(attribute, 0..4))
    }

    proptest! {
        #[test]
        fn a_batch_finds_what_each_message_finds(
            policies in proptest::collection::vec(policy(), 1..8),
            removed in proptest::collection::vec(0usize..8, 0..3),
            messages in proptest::collection::vec(message(), 0..12),
        ) {
            let mut m = PolicyMachine::new();
            for (i, (policy, scope)) in policies.iter().enumerate() {
                // Names repeat: a later policy replaces an earlier one, possibly in the other scope.
                let _ = m.add_policy(&format!("p{}", i % 5), policy.as_bytes(), *scope);
            }
            for r in removed {
                m.remove(&format!("p{r}"));
            }
            m.prepare();
            let attributes: Vec<Vec<Attribute<'_>>> = messages
                .iter()
                .map(|(_, attributes)| {
                    attributes
                        .iter()
                        .map(|&(name, data_type, value)| Attribute { name: name.as_bytes(), data_type, value: value.map(str::as_bytes) })
                        .collect()
                })
                .collect();
            let batch: Vec<Message<'_>> = messages
                .iter()
                .zip(&attributes)
                .map(|((body, _), attributes)| Message { body: body.as_deref().map(str::as_bytes), attributes })
                .collect();
            let (mut found, mut ends) = (vec![7], Vec::new());
            m.matches_messages(&batch, &mut found, &mut ends);
            prop_assert_eq!(ends.len(), batch.len());
            let mut start = 1;
            for (message, &end) in batch.iter().zip(&ends) {
                let names: Vec<&str> = found[start..end].iter().map(|&p| &**m.name_shared(p).unwrap()).collect();
                prop_assert_eq!(names, m.matches_message(message.body, message.attributes));
                start = end;
            }
        }
    }
}
