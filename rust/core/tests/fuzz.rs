//! Property tests: nothing panics, and every outcome is one the API allows.
//!
//! * `Pattern::new` returns `Ok` or `Err(InvalidPattern)` in the EventBridge dialect;
//! * `FilterPolicy::new` returns `Ok`, `Err(InvalidPattern)` in the SNS dialect, or (MessageAttributes
//!   scope only) `Err(InvalidPolicyParameter)` with the nested-policy message;
//! * `Pattern::matches` returns `Ok` or `Err(InvalidEvent)`; `matches_body` and `matches_attributes`
//!   return a bool;
//! * compact and pretty-printed JSON give the same answers.
//!
//! Inputs: (a) random bytes and token soup, (b) random JSON values from a recursive strategy (free
//! form and pattern-shaped), (c) valid patterns and events from the spec with random byte
//! insertions, deletions and replacements.
//!
//! Each property runs a default number of cases chosen so that the file finishes in well under
//! 30 s in a debug build; set `PROPTEST_CASES` to run that many cases per property instead, e.g.
//! `PROPTEST_CASES=100000 cargo test --release -p rulebus-core --test fuzz -- --nocapture`.
//! Each property prints how many cases it ran (visible with `--nocapture`).

use std::cell::Cell;
use std::fmt::Debug;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rulebus_core::{Attribute, Dialect, Error, FilterPolicy, Pattern, Scope};
use serde_json::{Map, Number, Value};

const EB_HEAD: &str = "Event pattern is not valid. Reason: ";
const SNS_HEAD: &str = "Invalid parameter: FilterPolicy: ";
const NESTED_SCOPE_ERROR: &str =
    "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy";

// -------------------------------------------------------------------------------------------------
// Running
// -------------------------------------------------------------------------------------------------

/// Cases per property: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// Runs `test` over `strategy`, prints how many cases ran, and fails with proptest's minimal input.
fn check<S>(name: &str, default: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let config = Config { cases: cases(default), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let ran = Cell::new(0u64);
    let result = runner.run(&strategy, |value| {
        ran.set(ran.get() + 1);
        test(value)
    });
    println!("proptest {name}: {} cases", ran.get());
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

// -------------------------------------------------------------------------------------------------
// The invariants
// -------------------------------------------------------------------------------------------------

/// Compiles an EventBridge pattern, checking the shape of any error.
fn pattern(text: &[u8]) -> Result<Option<Pattern>, TestCaseError> {
    match Pattern::new(text) {
        Ok(p) => Ok(Some(p)),
        Err(e @ Error::InvalidPattern { dialect: Dialect::EventBridge, .. }) => {
            let head = format!("{EB_HEAD}{}", e.reason());
            prop_assert!(!e.reason().is_empty() && e.message().starts_with(&head), "bad EventBridge error {:?}", e);
            Ok(None)
        }
        Err(e) => Err(TestCaseError::fail(format!("Pattern::new gave {e:?}"))),
    }
}

/// Compiles an SNS policy, checking the shape of any error.
fn policy(text: &[u8], scope: Scope) -> Result<Option<FilterPolicy>, TestCaseError> {
    match FilterPolicy::new(text, scope) {
        Ok(p) => {
            prop_assert_eq!(p.scope(), scope);
            Ok(Some(p))
        }
        Err(e @ Error::InvalidPattern { dialect: Dialect::Sns, .. }) => {
            let head = format!("{SNS_HEAD}{}", e.reason());
            prop_assert!(!e.reason().is_empty() && e.message().starts_with(&head), "bad SNS error {:?}", e);
            Ok(None)
        }
        Err(Error::InvalidPolicyParameter { ref message })
            if scope == Scope::MessageAttributes && message == NESTED_SCOPE_ERROR =>
        {
            Ok(None)
        }
        Err(e) => Err(TestCaseError::fail(format!("FilterPolicy::new({scope:?}) gave {e:?}"))),
    }
}

/// Matches, allowing only `Ok` or `Err(InvalidEvent)`; `None` for an event that cannot be matched.
fn matches(p: &Pattern, event: &[u8]) -> Result<Option<bool>, TestCaseError> {
    match p.matches(event) {
        Ok(b) => Ok(Some(b)),
        Err(Error::InvalidEvent { .. }) => Ok(None),
        Err(e) => Err(TestCaseError::fail(format!("Pattern::matches gave {e:?}"))),
    }
}

/// Compiles `text` as a pattern and as a policy in both scopes, and matches every compiled one
/// against each event. Returns the compiled pattern, if any.
fn exercise(text: &[u8], events: &[&[u8]]) -> Result<Option<Pattern>, TestCaseError> {
    let compiled = pattern(text)?;
    if let Some(p) = &compiled {
        for event in events {
            let first = matches(p, event)?;
            // buffers are reused between matches: the answer must not depend on the previous one
            prop_assert_eq!(first, matches(p, event)?);
        }
    }
    let attributes_scope = policy(text, Scope::MessageAttributes)?;
    let body_scope = policy(text, Scope::MessageBody)?;
    // MessageAttributes only adds the nested-policy check
    prop_assert!(attributes_scope.is_none() || body_scope.is_some(), "accepted for attributes, refused for the body");
    if let Some(fp) = body_scope {
        for event in events {
            let first = fp.matches_body(event);
            prop_assert_eq!(first, fp.matches_body(event));
        }
    }
    if let Some(fp) = attributes_scope {
        let attributes = attributes_from(events);
        fp.matches_attributes(&attributes);
        fp.matches_attributes(&[]);
    }
    Ok(compiled)
}

/// Some message attributes made from event bytes, of every data type.
fn attributes_from<'a>(events: &[&'a [u8]]) -> Vec<Attribute<'a>> {
    const NAMES: [&[u8]; 6] = [b"x", b"a", b"key", b"price", b"store", b"ip"];
    const TYPES: [&str; 7] = ["String", "Number", "String.Array", "Binary", "Number.float", "String.x", "Other"];
    events
        .iter()
        .enumerate()
        .map(|(i, value)| Attribute {
            name: NAMES[i % NAMES.len()],
            data_type: TYPES[i % TYPES.len()],
            value: if i % 5 == 4 { None } else { Some(value) },
        })
        .collect()
}

// -------------------------------------------------------------------------------------------------
// Inputs
// -------------------------------------------------------------------------------------------------

/// Valid patterns from the spec (sections 1.1-1.3, "Rules recorded against AWS").
const VALID_PATTERNS: &[&str] = &[
    r#"{"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}"#,
    r#"{"detail": {"amount": [{"numeric": [">", 100]}]}}"#,
    r#"{"x": [{"numeric": [">", 0, "<=", 5]}]}"#,
    r#"{"x": [{"numeric": ["=", 3.018e2]}]}"#,
    r#"{"x": [{"prefix": "ab"}, {"suffix": ".png"}]}"#,
    r#"{"x": [{"prefix": {"equals-ignore-case": "EventB"}}]}"#,
    r#"{"x": [{"suffix": {"equals-ignore-case": ".png"}}]}"#,
    r#"{"x": [{"equals-ignore-case": "Alice"}]}"#,
    r#"{"x": [{"wildcard": "a*b\\*c"}]}"#,
    r#"{"x": [{"anything-but": ["a", "b"]}]}"#,
    r#"{"x": [{"anything-but": [1, 2.5]}]}"#,
    r#"{"x": [{"anything-but": {"prefix": ["a", "b"]}}]}"#,
    r#"{"x": [{"anything-but": {"suffix": ".png"}}]}"#,
    r#"{"x": [{"anything-but": {"equals-ignore-case": ["a", "B"]}}]}"#,
    r#"{"x": [{"anything-but": {"wildcard": "*x*"}}]}"#,
    r#"{"x": [{"anything-but": ["roses"]}, {"exists": false}]}"#,
    r#"{"x": [{"exists": true}], "y": [null, true, false, 1, "s", ""]}"#,
    r#"{"ip": [{"cidr": "10.0.0.0/24"}, {"cidr": "2001:db8::/32"}, "10.0.0.1"]}"#,
    r#"{"$or": [{"a": [1]}, {"b": [2]}]}"#,
    r#"{"detail": {"$or": [{"a": [1]}, {"b": [{"prefix": "x"}]}]}, "source": ["s"]}"#,
    r#"{"e": {"f": ["Anna"], "l": ["Jones"]}}"#,
    r#"{"a.b": ["c"], "a": {"d": [{"exactly": "e"}]}}"#,
];

/// Valid events that the patterns above name fields of.
const VALID_EVENTS: &[&str] = &[
    r#"{"source": "aws.ec2", "detail": {"state": "terminated", "amount": 120}}"#,
    r#"{"x": "abc.png", "y": null, "ip": "10.0.0.1"}"#,
    r#"{"x": [1, 2.5, "a", null, true, {"y": 1}, [[]]], "a": {"b": "c", "d": "e"}}"#,
    r#"{"x": 3.018e2, "e": [{"f": "Anna", "l": "Smith"}, {"f": "Peter", "l": "Jones"}]}"#,
    r#"{"detail": {"a": 1, "b": "xy"}, "source": "s", "$or": "x"}"#,
    r#"{"ip": "2001:0db8:0000:0000:0000:0000:0000:0001", "x": "ALICE", "a.b": "c"}"#,
    r#"{"x": "\u00e9\"\\*", "x": 5e0, "y": -0.0, "z": 1e400, "w": 0.10000000000000001}"#,
    "{}",
];

/// Pieces that JSON, patterns and events are made of, for token soup.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    " ",
    "\n",
    "\\",
    "\\\"",
    "\\u00e9",
    "\\u",
    "\\q",
    "*",
    ".",
    "-",
    "+",
    "e",
    "0",
    "1",
    "5",
    "01",
    "1e400",
    "-0.0",
    "0.10000000000000001",
    "123456789012345678901",
    "NaN",
    "true",
    "false",
    "null",
    "tru",
    "\"x\"",
    "\"a\"",
    "\"a.b\"",
    "\"$or\"",
    "\"prefix\"",
    "\"suffix\"",
    "\"equals-ignore-case\"",
    "\"anything-but\"",
    "\"numeric\"",
    "\"exists\"",
    "\"wildcard\"",
    "\"cidr\"",
    "\"exactly\"",
    "\">\"",
    "\"<=\"",
    "\"=\"",
    "\"10.0.0.0/24\"",
    "\"2001:db8::1\"",
    "\"a**b\"",
    "\"a\\\\b\"",
    "\"\"",
    "é",
    "\u{ff}",
    "\0",
];

fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(select(TOKENS), 0..40).prop_map(|tokens| tokens.concat().into_bytes())
}

fn random_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..64), proptest::collection::vec(any::<u8>(), 0..600)]
}

const KEYS: &[&str] = &[
    "x",
    "y",
    "a",
    "b",
    "a.b",
    "detail",
    "source",
    "ip",
    "$or",
    "prefix",
    "suffix",
    "equals-ignore-case",
    "anything-but",
    "numeric",
    "exists",
    "wildcard",
    "cidr",
    "exactly",
    "",
    "é",
    "X",
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "ab",
    "abc",
    "A",
    "x.png",
    "10.0.0.1",
    "10.0.0.0/24",
    "2001:db8::1",
    "2001:db8::/32",
    "a*b",
    "*",
    "a**b",
    "a\\b",
    "a\\*b",
    "*x*",
    ">",
    ">=",
    "<",
    "<=",
    "=",
    "é",
    "ß",
    "SS",
    "Σ",
    "ς",
    "null",
    "5",
    "{\"b\": 1}",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![4 => select(KEYS).prop_map(str::to_owned), 1 => "\\PC{0,6}"]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        (-1000i64..1000).prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        (-1000.0f64..1000.0).prop_filter_map("finite", Number::from_f64),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        select(STRINGS).prop_map(|s| Value::String(s.to_owned())),
        "\\PC{0,8}".prop_map(Value::String),
    ]
}

/// Any JSON value, with keys and strings drawn mostly from the pattern language's own words.
fn json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// An event: a JSON object over the same keys.
fn event() -> impl Strategy<Value = Value> {
    proptest::collection::vec((key(), json()), 0..6).prop_map(|entries| Value::Object(entries.into_iter().collect()))
}

/// A match expression, mostly well-formed.
fn expression() -> impl Strategy<Value = Value> {
    let string = || select(STRINGS).prop_map(|s| Value::String(s.to_owned()));
    let strings = || proptest::collection::vec(select(STRINGS).prop_map(|s| Value::String(s.to_owned())), 1..3);
    let op = select(&[">", ">=", "<", "<=", "="][..]).prop_map(|s| Value::String(s.to_owned()));
    let upper = select(&["<", "<="][..]).prop_map(|s| Value::String(s.to_owned()));
    let numeric = prop_oneof![
        (op, number()).prop_map(|(o, n)| vec![o, Value::Number(n)]),
        (select(&[">", ">="][..]), number(), upper, number()).prop_map(|(o, lo, u, hi)| vec![
            Value::String(o.to_owned()),
            Value::Number(lo),
            u,
            Value::Number(hi)
        ]),
        proptest::collection::vec(scalar(), 0..5),
    ];
    let one = |k: &str, v: Value| {
        let mut m = Map::new();
        m.insert(k.to_owned(), v);
        Value::Object(m)
    };
    let operand = prop_oneof![
        3 => string(),
        1 => strings().prop_map(Value::Array),
        1 => number().prop_map(Value::Number),
        1 => (select(&["equals-ignore-case", "prefix", "suffix", "wildcard", "numeric"][..]), string())
            .prop_map(move |(k, v)| one(k, v)),
        1 => (select(&["prefix", "suffix", "wildcard", "equals-ignore-case"][..]), strings())
            .prop_map(move |(k, v)| one(k, Value::Array(v))),
        1 => scalar(),
    ];
    prop_oneof![
        (
            select(&["prefix", "suffix", "equals-ignore-case", "wildcard", "exactly", "cidr", "anything-but"][..]),
            operand
        )
            .prop_map(move |(k, v)| one(k, v)),
        numeric.prop_map(move |v| one("numeric", Value::Array(v))),
        any::<bool>().prop_map(move |b| one("exists", Value::Bool(b))),
        (key(), scalar()).prop_map(move |(k, v)| one(&k, v)),
    ]
}

/// A pattern-shaped value: an object of leaf lists, nested objects and `$or` arrays.
fn shaped_pattern() -> impl Strategy<Value = Value> {
    let leaf = proptest::collection::vec(prop_oneof![2 => scalar(), 3 => expression()], 1..4).prop_map(Value::Array);
    leaf.prop_recursive(3, 24, 4, |inner| {
        let object = || {
            proptest::collection::vec((key(), inner.clone()), 1..4).prop_map(|e| Value::Object(e.into_iter().collect()))
        };
        prop_oneof![
            3 => object(),
            1 => proptest::collection::vec(object(), 1..4).prop_map(|branches| {
                let mut m = Map::new();
                m.insert("$or".to_owned(), Value::Array(branches));
                Value::Object(m)
            }),
        ]
    })
    .prop_map(|v| match v {
        Value::Object(_) => v,
        other => {
            let mut m = Map::new();
            m.insert("x".to_owned(), other);
            Value::Object(m)
        }
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
}

fn edit_byte() -> impl Strategy<Value = u8> {
    prop_oneof![3 => select(&b"{}[]\":,*\\ .-+e0159abnultr\xc3\xa9\xff\x00"[..]), 1 => any::<u8>()]
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), edit_byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), edit_byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
    ];
    proptest::collection::vec(edit, 1..5)
}

fn apply(text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        match *edit {
            Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Edit::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % bytes.len());
            }
            Edit::Replace(i, b) if !bytes.is_empty() => {
                let at = i % bytes.len();
                bytes[at] = b;
            }
            Edit::Delete(_) | Edit::Replace(..) => {}
        }
    }
    bytes
}

fn valid_events() -> Vec<&'static [u8]> {
    VALID_EVENTS.iter().map(|e| e.as_bytes()).collect()
}

fn compiled_valid_patterns() -> Vec<Pattern> {
    VALID_PATTERNS.iter().map(|p| Pattern::new(p.as_bytes()).unwrap_or_else(|e| panic!("{p}: {e:?}"))).collect()
}

// -------------------------------------------------------------------------------------------------
// (a) random bytes
// -------------------------------------------------------------------------------------------------

#[test]
fn random_bytes_as_patterns_and_policies() {
    let events = valid_events();
    check("random bytes as patterns/policies", 10_000, random_bytes(), |bytes| exercise(&bytes, &events).map(drop));
}

#[test]
fn token_soup_as_patterns_and_policies() {
    let events = valid_events();
    check("token soup as patterns/policies", 10_000, token_soup(), |bytes| exercise(&bytes, &events).map(drop));
}

#[test]
fn random_bytes_as_events() {
    let patterns = compiled_valid_patterns();
    let policies: Vec<FilterPolicy> =
        VALID_PATTERNS.iter().filter_map(|p| FilterPolicy::new(p.as_bytes(), Scope::MessageBody).ok()).collect();
    check("random bytes/token soup as events", 5000, prop_oneof![random_bytes(), token_soup()], |bytes| {
        for p in &patterns {
            let first = matches(p, &bytes)?;
            prop_assert_eq!(first, matches(p, &bytes)?);
        }
        for fp in &policies {
            fp.matches_body(&bytes);
        }
        Ok(())
    });
}

// -------------------------------------------------------------------------------------------------
// (b) random JSON values
// -------------------------------------------------------------------------------------------------

/// A pattern and some events as compact and as pretty-printed text give the same answers.
fn compact_and_pretty(pattern_value: &Value, events: &[Value]) -> Result<(), TestCaseError> {
    let compact: Vec<Vec<u8>> = events.iter().map(|e| serde_json::to_vec(e).unwrap()).collect();
    let pretty: Vec<Vec<u8>> = events.iter().map(|e| serde_json::to_vec_pretty(e).unwrap()).collect();
    let compact_refs: Vec<&[u8]> = compact.iter().map(Vec::as_slice).collect();
    let pattern_compact = serde_json::to_vec(pattern_value).unwrap();
    let pattern_pretty = serde_json::to_vec_pretty(pattern_value).unwrap();
    let p = exercise(&pattern_compact, &compact_refs)?;
    let q = pattern(&pattern_pretty)?;
    // Whitespace changes a reason's location, never the reason, as long as the pretty form stays
    // within EventBridge's length limit.
    if String::from_utf8_lossy(&pattern_pretty).chars().count() <= rulebus_core::MAX_PATTERN_LENGTH {
        prop_assert_eq!(
            Pattern::new(&pattern_compact).err().map(|e| e.reason().to_owned()),
            Pattern::new(&pattern_pretty).err().map(|e| e.reason().to_owned())
        );
    }
    if let (Some(p), Some(q)) = (&p, &q) {
        for (c, pr) in compact.iter().zip(&pretty) {
            let answer = matches(p, c)?;
            prop_assert_eq!(answer, matches(p, pr)?, "compact vs pretty event");
            prop_assert_eq!(answer, matches(q, c)?, "compact vs pretty pattern");
            // every serde_json object is an event we can match
            prop_assert!(answer.is_some(), "a JSON object event was refused");
        }
    }
    if let Ok(fp) = FilterPolicy::new(&pattern_compact, Scope::MessageBody) {
        let fq = FilterPolicy::new(&pattern_pretty, Scope::MessageBody);
        prop_assert!(fq.is_ok(), "pretty policy refused: {:?}", fq.err());
        let fq = fq.unwrap();
        for (c, pr) in compact.iter().zip(&pretty) {
            let answer = fp.matches_body(c);
            prop_assert_eq!(answer, fp.matches_body(pr), "compact vs pretty body");
            prop_assert_eq!(answer, fq.matches_body(c), "compact vs pretty policy");
        }
    }
    Ok(())
}

#[test]
fn random_json_as_patterns_and_events() {
    check(
        "random JSON as patterns and events",
        2000,
        (json(), proptest::collection::vec(json(), 1..4)),
        |(pattern_value, events)| {
            let texts: Vec<Vec<u8>> = events.iter().map(|e| serde_json::to_vec(e).unwrap()).collect();
            let refs: Vec<&[u8]> = texts.iter().map(Vec::as_slice).collect();
            exercise(&serde_json::to_vec(&pattern_value).unwrap(), &refs)?;
            Ok(())
        },
    );
}

#[test]
fn shaped_patterns_against_random_events_compact_and_pretty() {
    check(
        "pattern-shaped JSON vs events, compact and pretty",
        1000,
        (shaped_pattern(), proptest::collection::vec(event(), 1..4)),
        |(pattern_value, events)| compact_and_pretty(&pattern_value, &events),
    );
}

#[test]
fn valid_patterns_against_random_events_compact_and_pretty() {
    let values: Vec<Value> = VALID_PATTERNS.iter().map(|p| serde_json::from_str(p).unwrap()).collect();
    check(
        "valid patterns vs random events, compact and pretty",
        1200,
        (select(values), proptest::collection::vec(event(), 1..4)),
        |(pattern_value, events)| compact_and_pretty(&pattern_value, &events),
    );
}

// -------------------------------------------------------------------------------------------------
// (c) mutated valid patterns and events
// -------------------------------------------------------------------------------------------------

#[test]
fn mutated_valid_patterns() {
    let events = valid_events();
    check("mutated valid patterns", 20_000, (select(VALID_PATTERNS), edits()), |(text, edits)| {
        exercise(&apply(text, &edits), &events).map(drop)
    });
}

#[test]
fn mutated_valid_events() {
    let patterns = compiled_valid_patterns();
    let policies: Vec<FilterPolicy> =
        VALID_PATTERNS.iter().filter_map(|p| FilterPolicy::new(p.as_bytes(), Scope::MessageBody).ok()).collect();
    check("mutated valid events", 10_000, (select(VALID_EVENTS), edits()), |(text, edits)| {
        let event = apply(text, &edits);
        for p in &patterns {
            let first = matches(p, &event)?;
            prop_assert_eq!(first, matches(p, &event)?);
        }
        for fp in &policies {
            fp.matches_body(&event);
        }
        Ok(())
    });
}

/// Every valid pattern compiles, and answers the same for its compact and pretty forms.
#[test]
fn valid_patterns_compile_in_every_form() {
    for text in VALID_PATTERNS {
        let value: Value = serde_json::from_str(text).unwrap();
        for form in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
            assert!(Pattern::new(form.as_bytes()).is_ok(), "{form}");
        }
    }
}
