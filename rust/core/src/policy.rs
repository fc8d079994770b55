//! SNS subscription filter policies: the pattern language in SNS's dialect, its two scopes,
//! its limits, and message attributes as values.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::error::{Dialect, Error};
use crate::event::{scan, Flattened, Value};
use crate::json::{self, Json};
use crate::number::Numbers;
use crate::pattern::{build, Compiler, Expanded};
use crate::rule::Rule;
use crate::value::Scalar;

/// Keys a policy may have at its top level.
pub const MAX_KEYS: usize = 5;
/// The most value combinations a policy may have.
pub const MAX_COMBINATIONS: usize = 150;
/// A policy's largest size in bytes (256 KB).
pub const MAX_SIZE: usize = 256 * 1024;
/// SNS compares numbers from -10^9 to 10^9.
pub const MAX_MAGNITUDE: f64 = 1e9;

/// Which part of a message a policy filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    MessageAttributes,
    MessageBody,
}

impl Scope {
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "MessageAttributes" => Ok(Scope::MessageAttributes),
            "MessageBody" => Ok(Scope::MessageBody),
            other => Err(Error::InvalidPolicyParameter {
                message: format!(
                    "Invalid parameter: FilterPolicyScope: Invalid value [{other}]. Please use either MessageBody or MessageAttributes"
                ),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::MessageAttributes => "MessageAttributes",
            Scope::MessageBody => "MessageBody",
        }
    }
}

/// A numeric operand outside the range SNS compares.
pub fn check_number(text: &str, value: f64) -> Result<(), String> {
    if value.abs() > MAX_MAGNITUDE {
        return Err(format!("Bad value in numeric range: {text}"));
    }
    Ok(())
}

/// One message attribute as SNS receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    pub name: &'a [u8],
    /// `String`, `Number`, `Binary`, `String.Array`, or one of them with a custom suffix.
    pub data_type: &'a str,
    /// The string value (`None` for a binary attribute).
    pub value: Option<&'a [u8]>,
}

/// A compiled filter policy.
#[derive(Debug, Clone)]
pub struct FilterPolicy {
    rule: Rule,
    scope: Scope,
    /// The empty policy `{}` lets every message through.
    everything: bool,
}

impl FilterPolicy {
    pub fn new(text: &[u8], scope: Scope) -> Result<Self, Error> {
        match expand(text, scope)? {
            Some(expanded) => Ok(Self { rule: build(expanded, Numbers::Sns), scope, everything: false }),
            None => Ok(Self { rule: Rule::default(), scope, everything: true }),
        }
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Whether a message with these attributes passes (scope MessageAttributes).
    pub fn matches_attributes(&self, attributes: &[Attribute<'_>]) -> bool {
        if self.everything {
            return true;
        }
        crate::with_workspace(|flat, scratch| {
            flatten_attributes(flat, attributes, |name| self.rule.index.lookup(name));
            self.rule.matches(flat, scratch)
        })
    }

    /// Whether a message with this body passes (scope MessageBody). A body that is not a JSON
    /// object matches nothing.
    pub fn matches_body(&self, body: &[u8]) -> bool {
        if self.everything {
            return true;
        }
        crate::with_workspace(|flat, scratch| {
            scan(body, &self.rule.index, flat).is_ok() && self.rule.matches(flat, scratch)
        })
    }
}

fn push_attribute<'a>(flat: &mut Flattened<'a>, path: u32, attribute: &Attribute<'a>) {
    let Some(value) = attribute.value else { return };
    let base = attribute.data_type.split('.').next().unwrap_or("");
    let mut push = |scalar| flat.values.push(Value { path, node: 0, scalar });
    if attribute.data_type == "String.Array" {
        // Each element of the JSON array is matched on its own, with its JSON type; a value that
        // is one JSON scalar counts as a one-element array.
        let items = match json::parse(value) {
            Ok(json::Node { value: Json::Array(items), .. }) => items.into_iter().map(|n| n.value).collect(),
            Ok(json::Node { value: scalar, .. }) => vec![scalar],
            Err(_) => vec![Json::String(value.to_vec())],
        };
        for item in items {
            match item {
                Json::String(s) => push(Scalar::String(Cow::Owned(s))),
                Json::Number(n) => push(Scalar::Number(Cow::Owned(n))),
                Json::Bool(b) => push(Scalar::Bool(b)),
                Json::Null => push(Scalar::Null),
                Json::Array(_) | Json::Object(_) => {}
            }
        }
        return;
    }
    match base {
        "String" => push(Scalar::String(Cow::Borrowed(value))),
        "Number" => push(Scalar::Number(String::from_utf8_lossy(value))),
        // Binary attributes are never compared.
        _ => {}
    }
}

/// Validates a policy for a scope with SNS's checks, in SNS's order; `None` for the empty
/// policy `{}`, which lets every message through.
pub fn expand(text: &[u8], scope: Scope) -> Result<Option<Expanded>, Error> {
    if text.len() > MAX_SIZE {
        return Err(Error::pattern(Dialect::Sns, "Filter policy is too long"));
    }
    let Some(expanded) = Compiler::new(text, Dialect::Sns).expand()? else {
        return Ok(None);
    };
    if scope == Scope::MessageAttributes && expanded.iter().flatten().any(|leaf| leaf.depth > 1) {
        return Err(Error::InvalidPolicyParameter {
            message: "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
                .into(),
        });
    }
    check_limits(&expanded)?;
    Ok(Some(expanded))
}

/// Appends a message's attributes to a flattened message, as the values of the leaf paths
/// that `lookup` knows.
pub fn flatten_attributes<'a>(
    flat: &mut Flattened<'a>,
    attributes: &[Attribute<'a>],
    lookup: impl Fn(&[u8]) -> Option<u32>,
) {
    flat.clear();
    for attribute in attributes {
        if let Some(path) = lookup(attribute.name) {
            push_attribute(flat, path, attribute);
        }
    }
}

/// SNS's key and complexity limits over the `$or`-expanded policy.
fn check_limits(expanded: &Expanded) -> Result<(), Error> {
    let mut total = 0usize;
    for leaves in expanded {
        let keys: HashSet<&[u8]> = leaves.iter().map(|leaf| leaf.top.as_slice()).collect();
        if keys.len() > MAX_KEYS {
            return Err(Error::pattern(Dialect::Sns, "Filter policy can not have more than 5 keys"));
        }
        let product =
            leaves.iter().fold(1usize, |acc, leaf| acc.saturating_mul(leaf.depth.saturating_mul(leaf.values)));
        total = total.saturating_add(product);
    }
    if total > MAX_COMBINATIONS {
        return Err(Error::pattern(Dialect::Sns, "Filter policy is too complex"));
    }
    Ok(())
}
