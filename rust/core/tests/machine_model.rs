//! `Machine` against `Pattern`: many rules compiled together must match exactly the events each
//! rule matches on its own.
//!
//! Random EventBridge patterns over a small vocabulary of fields and values (exact strings and
//! numbers, booleans and null, prefix, suffix, equals-ignore-case, wildcard, anything-but in its
//! forms, numeric ranges, exists, nested fields and `$or`) are added to a machine, replaced and
//! removed in random order; after every step each of a few random events (scalars, arrays,
//! arrays of objects) must match in the machine exactly the rules, in the order of their first
//! add, whose pattern `Pattern` says it matches. A pattern the machine refuses must be one
//! `Pattern` refuses too, and the other way round.
//!
//! `PROPTEST_CASES` sets the number of sequences (default 300).

use proptest::prelude::*;
use rulebus_core::machine::Machine;
use rulebus_core::Pattern;

const NAMES: [&str; 6] = ["r0", "r1", "r2", "r3", "r4", "r5"];

fn string() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "x", "xy", "Xy", "yx", "xyz", "y", "10.0.0.1"])
}

fn number() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["0", "1", "5", "5.0", "1e1", "10", "2.5", "-3"])
}

/// One entry of a field's value list.
fn matcher() -> impl Strategy<Value = String> {
    let comparison = prop::sample::select(vec![">", ">=", "<", "<=", "="]);
    prop_oneof![
        3 => string().prop_map(|s| format!("{s:?}")),
        2 => number().prop_map(str::to_owned),
        1 => prop::sample::select(vec!["true", "false", "null"]).prop_map(str::to_owned),
        1 => string().prop_map(|s| format!(r#"{{"prefix": {s:?}}}"#)),
        1 => string().prop_map(|s| format!(r#"{{"suffix": {s:?}}}"#)),
        1 => string().prop_map(|s| format!(r#"{{"prefix": {{"equals-ignore-case": {s:?}}}}}"#)),
        1 => string().prop_map(|s| format!(r#"{{"equals-ignore-case": {s:?}}}"#)),
        1 => prop::sample::select(vec!["x*", "*y", "x*y", "*x*", "xy", "*"]).prop_map(|w| format!(r#"{{"wildcard": {w:?}}}"#)),
        1 => prop::collection::vec(string(), 1..3).prop_map(|list| format!(r#"{{"anything-but": {list:?}}}"#)),
        1 => number().prop_map(|n| format!(r#"{{"anything-but": {n}}}"#)),
        1 => string().prop_map(|s| format!(r#"{{"anything-but": {{"prefix": {s:?}}}}}"#)),
        2 => (comparison.clone(), number(), proptest::option::of(number()))
            .prop_map(|(op, n, upper)| match upper {
                Some(m) if op.starts_with('>') => format!(r#"{{"numeric": [{op:?}, {n}, "<=", {m}]}}"#),
                _ => format!(r#"{{"numeric": [{op:?}, {n}]}}"#),
            }),
        1 => Just(r#"{"exists": true}"#.to_owned()),
        1 => Just(r#"{"cidr": "10.0.0.0/24"}"#.to_owned()),
    ]
}

/// A field's condition: a value list, or absence.
fn condition() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::collection::vec(matcher(), 1..4).prop_map(|list| format!("[{}]", list.join(", "))),
        1 => Just(r#"[{"exists": false}]"#.to_owned()),
    ]
}

/// An object of conditions over the fields `a`, `b` and `c.d`, `c.e` (nested).
fn fields() -> impl Strategy<Value = String> {
    let nested = (proptest::option::of(condition()), proptest::option::of(condition())).prop_map(|(d, e)| {
        let members: Vec<String> =
            [("d", d), ("e", e)].into_iter().filter_map(|(k, v)| v.map(|v| format!("{k:?}: {v}"))).collect();
        (!members.is_empty()).then(|| format!("{{{}}}", members.join(", ")))
    });
    (proptest::option::of(condition()), proptest::option::of(condition()), nested).prop_map(|(a, b, c)| {
        let members: Vec<String> =
            [("a", a), ("b", b), ("c", c)].into_iter().filter_map(|(k, v)| v.map(|v| format!("{k:?}: {v}"))).collect();
        members.join(", ")
    })
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => fields().prop_map(|f| format!("{{{f}}}")),
        1 => (fields(), fields(), fields()).prop_map(|(f, x, y)| {
            let or = format!(r#""$or": [{{{x}}}, {{{y}}}]"#);
            if f.is_empty() { format!("{{{or}}}") } else { format!("{{{f}, {or}}}") }
        }),
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => string().prop_map(|s| format!("{s:?}")),
        2 => number().prop_map(str::to_owned),
        1 => prop::sample::select(vec!["true", "false", "null", "\"XY\"", "\"10.0.0.7\""]).prop_map(str::to_owned),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => scalar(),
        1 => prop::collection::vec(scalar(), 0..3).prop_map(|list| format!("[{}]", list.join(", "))),
    ]
}

/// An object with the fields `d` and `e`, either or both left out.
fn inner_object() -> impl Strategy<Value = String> {
    (proptest::option::of(value()), proptest::option::of(value())).prop_map(|(d, e)| {
        let members: Vec<String> =
            [("d", d), ("e", e)].into_iter().filter_map(|(k, v)| v.map(|v| format!("{k:?}: {v}"))).collect();
        format!("{{{}}}", members.join(", "))
    })
}

fn event() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        2 => inner_object(),
        1 => prop::collection::vec(inner_object(), 1..3).prop_map(|list| format!("[{}]", list.join(", "))),
        1 => value(),
    ];
    (proptest::option::of(value()), proptest::option::of(value()), proptest::option::of(c)).prop_map(|(a, b, c)| {
        let members: Vec<String> =
            [("a", a), ("b", b), ("c", c)].into_iter().filter_map(|(k, v)| v.map(|v| format!("{k:?}: {v}"))).collect();
        format!("{{{}}}", members.join(", "))
    })
}

#[derive(Debug, Clone)]
enum Step {
    /// Add the pattern under a name, replacing the rule of that name.
    Add(usize, String),
    Remove(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..NAMES.len(), pattern()).prop_map(|(name, pattern)| Step::Add(name, pattern)),
        1 => (0..NAMES.len()).prop_map(Step::Remove),
    ]
}

/// The rules as the model keeps them: (name, compiled pattern), in the order of first add.
type Model = Vec<(&'static str, Pattern)>;

fn apply(machine: &mut Machine, model: &mut Model, step: &Step) -> Result<(), TestCaseError> {
    match step {
        Step::Add(name, text) => {
            let name = NAMES[*name];
            let single = Pattern::new(text.as_bytes());
            let added = machine.add_pattern(name, text.as_bytes());
            prop_assert_eq!(single.as_ref().err(), added.as_ref().err(), "pattern {}", text);
            if let Ok(pattern) = single {
                match model.iter_mut().find(|(n, _)| *n == name) {
                    Some(rule) => rule.1 = pattern,
                    None => model.push((name, pattern)),
                }
            }
        }
        Step::Remove(name) => {
            let name = NAMES[*name];
            let present = model.iter().any(|(n, _)| *n == name);
            prop_assert_eq!(machine.remove(name), present);
            model.retain(|(n, _)| *n != name);
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn machine_matches_what_each_pattern_matches(
        steps in prop::collection::vec(step(), 1..12),
        events in prop::collection::vec(event(), 1..6),
    ) {
        let mut machine = Machine::new();
        let mut model = Model::new();
        for step in &steps {
            apply(&mut machine, &mut model, step)?;
            machine.prepare();
            prop_assert_eq!(machine.names().collect::<Vec<_>>(), model.iter().map(|(n, _)| *n).collect::<Vec<_>>());
            for event in &events {
                let mut expected = Vec::new();
                for (name, pattern) in &model {
                    if pattern.matches(event.as_bytes()).expect("valid event") {
                        expected.push(*name);
                    }
                }
                let found = machine.matches(event.as_bytes()).expect("valid event");
                prop_assert_eq!(
                    &found,
                    &expected,
                    "event {} with rules {:?}",
                    event,
                    model.iter().map(|(n, _)| (*n, machine.source(n).map(String::from_utf8_lossy))).collect::<Vec<_>>()
                );
            }
        }
    }
}
