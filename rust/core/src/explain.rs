//! Why an event does not match a pattern, in plain words: "why didn't my rule fire?"
//!
//! For each `$or` branch of the pattern, every condition the event fails: the field's path, the
//! operator, the pattern's values and the event's values there (none when the field is absent).
//! A branch whose conditions each hold on their own but not within one element of an array is
//! reported as such. A pattern that matches has nothing to explain.

use crate::error::Error;
use crate::event::{scan, Flattened};
use crate::json::write_string;
use crate::number::Numbers;
use crate::pattern::{build, Expanded, Leaf};
use crate::policy::{flatten_attributes, Attribute, Scope};
use crate::rule::{group_by_path, Rule, Scratch};
use crate::value::Scalar;

/// One reason an event fails a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The `$or` branch (0 when the pattern has no `$or`).
    pub branch: usize,
    /// The field's dotted path (empty for a reason about the branch as a whole).
    pub path: String,
    /// The operator(s) of the pattern's value list, e.g. `prefix` or `equals or numeric`.
    pub operator: String,
    /// The pattern's value list, each entry as JSON text.
    pub expected: Vec<String>,
    /// The event's values at the path, as JSON text (empty when the field is absent).
    pub actual: Vec<String>,
    pub message: String,
}

/// The reasons `event` fails the EventBridge pattern `pattern` (none when it matches).
pub fn explain(pattern: &[u8], event: &[u8]) -> Result<Vec<Reason>, Error> {
    let expanded = crate::expand_pattern(pattern)?;
    explain_expanded(expanded, Numbers::EventBridge, "event", |rule, flat| {
        scan(event, &rule.index, flat).map_err(|e| crate::invalid_event(&e))
    })
}

/// The reasons a message fails the SNS filter policy `policy` of scope MessageAttributes, given
/// its attributes (none when it passes).
pub fn explain_policy_attributes(policy: &[u8], attributes: &[Attribute<'_>]) -> Result<Vec<Reason>, Error> {
    let Some(expanded) = crate::policy::expand(policy, Scope::MessageAttributes)? else {
        return Ok(Vec::new()); // `{}` lets every message through
    };
    explain_expanded(expanded, Numbers::Sns, "message's attributes", |rule, flat| {
        flatten_attributes(flat, attributes, |name| rule.index.lookup(name));
        Ok(())
    })
}

/// The reasons a message body fails the SNS filter policy `policy` of scope MessageBody (none
/// when it passes). A body that is not a JSON object passes no policy but `{}`: one reason says so.
pub fn explain_policy_body(policy: &[u8], body: &[u8]) -> Result<Vec<Reason>, Error> {
    let Some(expanded) = crate::policy::expand(policy, Scope::MessageBody)? else {
        return Ok(Vec::new());
    };
    let mut not_an_object = false;
    let reasons = explain_expanded(expanded, Numbers::Sns, "message body", |rule, flat| {
        if scan(body, &rule.index, flat).is_err() {
            not_an_object = true;
            flat.clear();
        }
        Ok(())
    })?;
    if not_an_object {
        return Ok(vec![Reason {
            branch: 0,
            path: String::new(),
            operator: "body".into(),
            expected: Vec::new(),
            actual: Vec::new(),
            message: "the message body is not a JSON object, and a MessageBody filter policy matches only JSON \
                      objects"
                .into(),
        }]);
    }
    Ok(reasons)
}

/// The reasons the message that `fill` lays out fails the expanded pattern or policy; `subject`
/// names what is absent a field ("event", "message body").
fn explain_expanded<'a>(
    expanded: Expanded,
    numbers: Numbers,
    subject: &str,
    fill: impl FnOnce(&Rule, &mut Flattened<'a>) -> Result<(), Error>,
) -> Result<Vec<Reason>, Error> {
    let mut branches: Vec<Vec<Leaf>> = expanded.clone();
    for leaves in &mut branches {
        // The order `build` puts each branch's conditions in.
        leaves.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let rule = build(expanded, numbers);
    let mut flat = Flattened::default();
    fill(&rule, &mut flat)?;
    let mut scratch = Scratch::default();
    if rule.matches(&mut flat, &mut scratch) {
        return Ok(Vec::new());
    }
    let starts = group_by_path(&mut flat, rule.index.len(), &mut scratch);
    let mut reasons = Vec::new();
    for (branch, (leaves, sub)) in branches.iter().zip(&rule.subrules).enumerate() {
        let before = reasons.len();
        for (leaf, condition) in leaves.iter().zip(&sub.conditions) {
            let (start, end) = (starts[condition.path as usize] as usize, starts[condition.path as usize + 1] as usize);
            let values = &flat.values[start..end];
            let path = String::from_utf8_lossy(&leaf.path).into_owned();
            let actual: Vec<String> = values.iter().map(|v| scalar_text(&v.scalar)).collect();
            let operator = operators(&leaf.source);
            let wanted = leaf.source.join(" or ");
            let matching = values.iter().any(|v| condition.matchers.iter().any(|m| m.matches(&v.scalar, rule.numbers)));
            let message = if values.is_empty() {
                if condition.absent_ok {
                    continue;
                }
                format!("{path} is absent from the {subject}; the pattern wants {wanted}")
            } else if matching {
                continue;
            } else if condition.matchers.is_empty() {
                format!("{path} must be absent, but the {subject} has {}", actual.join(", "))
            } else {
                format!("{path} is {}, which does not match {wanted}", actual.join(", "))
            };
            reasons.push(Reason { branch, path, operator, expected: leaf.source.clone(), actual, message });
        }
        if reasons.len() == before {
            // Each condition holds somewhere, but not all within one element of an array (or a
            // field that must be absent is present beside the matching values).
            reasons.push(Reason {
                branch,
                path: String::new(),
                operator: "array-consistency".into(),
                expected: Vec::new(),
                actual: Vec::new(),
                message: "each field matches on its own, but the matching values sit in different elements of \
                          the same array (or beside a field that must be absent)"
                    .into(),
            });
        }
    }
    Ok(reasons)
}

/// The operators of a value list's entries, each named once, in order.
fn operators(source: &[String]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for entry in source {
        let name = match entry.strip_prefix("{\"") {
            Some(rest) => rest.split('"').next().unwrap_or("equals"),
            None => "equals",
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(" or ")
}

fn scalar_text(scalar: &Scalar<'_>) -> String {
    match scalar {
        Scalar::String(s) => {
            let mut out = String::new();
            write_string(s, &mut out);
            out
        }
        Scalar::Number(n) => n.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Null => "null".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::{explain, explain_policy_attributes, explain_policy_body};
    use crate::policy::Attribute;

    #[test]
    fn wildcard_complexity_is_bounded() {
        let many = (0..50).map(|i| format!(r#"{{"wildcard": "a*b*{i}"}}"#)).collect::<Vec<_>>().join(",");
        let error = crate::Pattern::new(format!(r#"{{"x": [{many}]}}"#).as_bytes()).unwrap_err();
        assert!(error.reason().starts_with("Rule is too complex - try using fewer wildcard characters"));
        let few = (0..30).map(|i| format!(r#"{{"wildcard": "a*b*{i}"}}"#)).collect::<Vec<_>>().join(",");
        assert!(crate::Pattern::new(format!(r#"{{"x": [{few}]}}"#).as_bytes()).is_ok());
    }

    #[test]
    fn a_match_has_no_reasons() {
        assert!(explain(br#"{"a": [1]}"#, br#"{"a": 1}"#).unwrap().is_empty());
    }

    #[test]
    fn failing_conditions_are_named() {
        let reasons = explain(
            br#"{"source": ["com.shop"], "detail": {"amount": [{"numeric": [">", 100]}], "id": [{"exists": true}]}}"#,
            br#"{"source": "com.shop", "detail": {"amount": 50}}"#,
        )
        .unwrap();
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[0].path, "detail.amount");
        assert_eq!(reasons[0].operator, "numeric");
        assert_eq!(reasons[0].expected, [r#"{"numeric":[">",100]}"#]);
        assert_eq!(reasons[0].actual, ["50"]);
        assert_eq!(reasons[0].message, r#"detail.amount is 50, which does not match {"numeric":[">",100]}"#);
        assert_eq!(reasons[1].path, "detail.id");
        assert!(reasons[1].actual.is_empty());
        assert!(reasons[1].message.contains("absent from the event"));
    }

    #[test]
    fn branches_and_absence_and_arrays() {
        let reasons =
            explain(br#"{"$or": [{"a": ["x"]}, {"b": [{"exists": false}]}]}"#, br#"{"a": "y", "b": 1}"#).unwrap();
        assert_eq!(reasons.iter().map(|r| r.branch).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(reasons[1].message, "b must be absent, but the event has 1");
        let reasons = explain(
            br#"{"e": {"f": ["Anna"], "l": ["Jones"]}}"#,
            br#"{"e": [{"f": "Anna", "l": "Smith"}, {"f": "Peter", "l": "Jones"}]}"#,
        )
        .unwrap();
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].operator, "array-consistency");
    }

    #[test]
    fn a_policy_on_attributes_names_what_fails() {
        let policy =
            br#"{"store": ["example_corp"], "price_usd": [{"numeric": [">=", 100]}], "kind": [{"exists": true}]}"#;
        let attributes = [
            Attribute { name: b"store", data_type: "String", value: Some(b"example_corp") },
            Attribute { name: b"price_usd", data_type: "Number", value: Some(b"99.5") },
        ];
        let reasons = explain_policy_attributes(policy, &attributes).unwrap();
        assert_eq!(reasons.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(), ["kind", "price_usd"]);
        assert_eq!(
            reasons[0].message,
            r#"kind is absent from the message's attributes; the pattern wants {"exists":true}"#
        );
        assert_eq!(reasons[1].actual, ["99.5"]);
        // A Binary attribute is never compared, so it counts as absent.
        let binary = [Attribute { name: b"kind", data_type: "Binary", value: None }];
        assert!(explain_policy_attributes(br#"{"kind": [{"exists": true}]}"#, &binary).unwrap()[0]
            .message
            .contains("absent"));
        let passing = [
            Attribute { name: b"store", data_type: "String", value: Some(b"example_corp") },
            Attribute { name: b"price_usd", data_type: "Number", value: Some(b"100") },
            Attribute { name: b"kind", data_type: "String", value: Some(b"x") },
        ];
        assert!(explain_policy_attributes(policy, &passing).unwrap().is_empty());
        assert!(explain_policy_attributes(b"{}", &[]).unwrap().is_empty());
    }

    #[test]
    fn a_policy_on_the_body_names_what_fails_and_refuses_nested_attributes() {
        let policy = br#"{"order": {"total": [{"numeric": [">", 10]}]}}"#;
        let reasons = explain_policy_body(policy, br#"{"order": {"total": 5}}"#).unwrap();
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].message, r#"order.total is 5, which does not match {"numeric":[">",10]}"#);
        assert!(explain_policy_body(policy, br#"{"order": {"total": 11}}"#).unwrap().is_empty());
        let text = explain_policy_body(policy, b"plain text").unwrap();
        assert_eq!(text[0].operator, "body");
        // The policy's own errors, as FilterPolicy::new gives them.
        assert!(explain_policy_attributes(policy, &[]).unwrap_err().message().contains("nested"));
    }
}
