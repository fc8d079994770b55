//! Many rules matched at once. (Provisional: rules are matched one by one; the shared
//! automaton replaces this behind the same interface.)

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::policy::{Attribute, FilterPolicy, Scope};
use crate::Pattern;

/// A compiled rule of either dialect.
#[derive(Debug, Clone)]
enum Compiled {
    Pattern(Pattern),
    Policy(FilterPolicy),
}

/// A named set of EventBridge patterns or SNS filter policies.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    rules: Vec<(String, Compiled)>,
    names: FxHashMap<String, usize>,
}

impl Machine {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an EventBridge pattern; a bad pattern leaves the set unchanged.
    pub fn add_pattern(&mut self, name: &str, pattern: &[u8]) -> Result<(), Error> {
        let compiled = Compiled::Pattern(Pattern::new(pattern)?);
        self.insert(name, compiled);
        Ok(())
    }

    /// Adds (or replaces) an SNS filter policy of a scope.
    pub fn add_policy(&mut self, name: &str, policy: &[u8], scope: Scope) -> Result<(), Error> {
        let compiled = Compiled::Policy(FilterPolicy::new(policy, scope)?);
        self.insert(name, compiled);
        Ok(())
    }

    fn insert(&mut self, name: &str, compiled: Compiled) {
        match self.names.get(name) {
            Some(&i) => self.rules[i].1 = compiled,
            None => {
                self.names.insert(name.to_owned(), self.rules.len());
                self.rules.push((name.to_owned(), compiled));
            }
        }
    }

    /// Removes a rule; false if there was none of that name.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(i) = self.names.remove(name) else { return false };
        self.rules.swap_remove(i);
        if let Some((moved, _)) = self.rules.get(i) {
            self.names.insert(moved.clone(), i);
        }
        true
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|(n, _)| n.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// The names of the EventBridge rules the event matches.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<&str>, Error> {
        let mut out = Vec::new();
        for (name, rule) in &self.rules {
            if let Compiled::Pattern(p) = rule {
                if p.matches(event)? {
                    out.push(name.as_str());
                }
            }
        }
        Ok(out)
    }

    /// The names of the SNS policies a message passes.
    pub fn matches_message(&self, body: Option<&[u8]>, attributes: &[Attribute<'_>]) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|(_, rule)| match rule {
                Compiled::Policy(p) => match p.scope() {
                    Scope::MessageAttributes => p.matches_attributes(attributes),
                    Scope::MessageBody => body.is_some_and(|b| p.matches_body(b)),
                },
                Compiled::Pattern(_) => false,
            })
            .map(|(n, _)| n.as_str())
            .collect()
    }
}
