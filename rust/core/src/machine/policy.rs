//! SNS filter policies matched at once: one machine per filter policy scope.

use std::sync::Arc;

use super::{with_counters, Machine};
use crate::error::Error;
use crate::event::scan;
use crate::number::Numbers;
use crate::policy::{expand as expand_policy, flatten_attributes, Attribute, Scope};

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

#[cfg(test)]
mod tests {
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
}
