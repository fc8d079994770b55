//! Matching semantics, one test per operator, each with matching and non-matching events.
//!
//! Expectations come from behaviour recorded against AWS first, then from event-ruler's documented
//! semantics (docs/semantics.md, 'The pattern language') and, for SNS, from
//! tests/test_filter_policy.py, never from the engine.

use rulebus_core::{Attribute, FilterPolicy, Pattern, Scope};

/// (pattern, event, expected match).
type Case<'a> = (&'a str, &'a str, bool);

/// Checks every case and reports all disagreements at once.
fn run(cases: &[Case<'_>]) {
    let mut failures = Vec::new();
    for &(pattern, event, expected) in cases {
        let compiled = match Pattern::new(pattern.as_bytes()) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("pattern {pattern}\n    does not compile: {e:?}"));
                continue;
            }
        };
        match compiled.matches(event.as_bytes()) {
            Ok(got) if got == expected => {}
            got => {
                failures.push(format!("pattern {pattern}\n    event   {event}\n    expected {expected}, got {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} case(s) disagree:\n{}", failures.len(), failures.join("\n"));
}

/// The same pattern against several events.
fn each<'a>(pattern: &'a str, events: &[(&'a str, bool)]) -> Vec<Case<'a>> {
    events.iter().map(|&(event, expected)| (pattern, event, expected)).collect()
}

// -------------------------------------------------------------------------------------------------
// Exact values (spec 1.2 EXACT, 1.3)
// -------------------------------------------------------------------------------------------------

#[test]
fn exact_string() {
    let mut cases = each(
        r#"{"x": ["s"]}"#,
        &[
            (r#"{"x": "s"}"#, true),
            (r#"{"x": "S"}"#, false),
            (r#"{"x": "st"}"#, false),
            (r#"{"x": ""}"#, false),
            (r#"{"y": "s"}"#, false),
            ("{}", false),
            (r#"{"x": ["a", "s"]}"#, true),
            (r#"{"x": {"s": 1}}"#, false),
            (r#"{"x": null}"#, false),
        ],
    );
    cases.extend(each(r#"{"x": [""]}"#, &[(r#"{"x": ""}"#, true), (r#"{"x": "a"}"#, false)]));
    // Jackson decodes escapes on both sides (1.3)
    cases.extend(each(r#"{"x": ["\u00e9"]}"#, &[(r#"{"x": "é"}"#, true), (r#"{"x": "e"}"#, false)]));
    cases.extend(each(r#"{"x": ["é"]}"#, &[(r#"{"x": "\u00e9"}"#, true)]));
    cases.extend(each(r#"{"x": ["a\"b"]}"#, &[(r#"{"x": "a\"b"}"#, true), (r#"{"x": "a\u0022b"}"#, true)]));
    // a string never equals a number, a boolean or null (1.3, "Rules recorded": null)
    cases.extend(each(r#"{"x": ["5"]}"#, &[(r#"{"x": 5}"#, false), (r#"{"x": "5"}"#, true)]));
    cases.extend(each(r#"{"x": ["true"]}"#, &[(r#"{"x": true}"#, false)]));
    cases.extend(each(r#"{"x": ["null"]}"#, &[(r#"{"x": null}"#, false), (r#"{"x": "null"}"#, true)]));
    // field names are case-sensitive ("Rules recorded")
    cases.extend(each(r#"{"X": ["s"]}"#, &[(r#"{"x": "s"}"#, false), (r#"{"X": "s"}"#, true)]));
    // a JSON string that holds JSON is a string, never parsed ("Rules recorded")
    cases.extend(each(
        r#"{"a": {"b": ["c"]}}"#,
        &[(r#"{"a": "{\"b\": \"c\"}"}"#, false), (r#"{"a": {"b": "c"}}"#, true)],
    ));
    run(&cases);
}

#[test]
fn exactly() {
    run(&each(
        r#"{"x": [{"exactly": "s"}]}"#,
        &[(r#"{"x": "s"}"#, true), (r#"{"x": "S"}"#, false), (r#"{"x": "ss"}"#, false), ("{}", false)],
    ));
}

#[test]
fn exact_number() {
    let mut cases = each(
        r#"{"x": [5]}"#,
        &[
            (r#"{"x": 5}"#, true),
            (r#"{"x": 5.0}"#, true),
            (r#"{"x": 5e0}"#, true),
            (r#"{"x": 0.5e1}"#, true),
            (r#"{"x": 6}"#, false),
            (r#"{"x": "5"}"#, false),
            (r#"{"x": [4, 5]}"#, true),
        ],
    );
    cases.extend(each(r#"{"x": [1]}"#, &[(r#"{"x": 1.0}"#, true), (r#"{"x": 1e0}"#, true), (r#"{"x": 1.5}"#, false)]));
    cases.extend(each(r#"{"x": [300]}"#, &[(r#"{"x": 3e2}"#, true), (r#"{"x": 300.000}"#, true)]));
    cases.extend(each(r#"{"x": [-1.5]}"#, &[(r#"{"x": -1.50}"#, true), (r#"{"x": 1.5}"#, false)]));
    // BigDecimal has no -0 (1.3)
    cases.extend(each(r#"{"x": [0]}"#, &[(r#"{"x": -0.0}"#, true), (r#"{"x": 0}"#, true), (r#"{"x": -0}"#, true)]));
    // not exactly representable: only the exact text matches (1.3)
    cases.extend(each(
        r#"{"x": [123456789012345678901]}"#,
        &[(r#"{"x": 123456789012345678901}"#, true), (r#"{"x": 1.23456789012345678901e20}"#, false)],
    ));
    cases.extend(each(
        r#"{"x": [9007199254740993]}"#,
        &[(r#"{"x": 9007199254740993}"#, true), (r#"{"x": 9007199254740992}"#, false)],
    ));
    cases.extend(each(r#"{"x": [0.1]}"#, &[(r#"{"x": 0.10000000000000001}"#, false), (r#"{"x": 1e-1}"#, true)]));
    run(&cases);
}

#[test]
fn exact_bool() {
    let mut cases = each(
        r#"{"x": [true]}"#,
        &[(r#"{"x": true}"#, true), (r#"{"x": false}"#, false), (r#"{"x": "true"}"#, false), (r#"{"x": 1}"#, false)],
    );
    cases.extend(each(
        r#"{"x": [false]}"#,
        &[(r#"{"x": false}"#, true), (r#"{"x": true}"#, false), (r#"{"x": 0}"#, false)],
    ));
    run(&cases);
}

#[test]
fn exact_null() {
    // [null] matches only a JSON null ("Rules recorded")
    run(&each(
        r#"{"x": [null]}"#,
        &[
            (r#"{"x": null}"#, true),
            (r#"{"x": "null"}"#, false),
            (r#"{"x": []}"#, false),
            ("{}", false),
            (r#"{"x": ""}"#, false),
            (r#"{"x": false}"#, false),
            (r#"{"x": [1, null]}"#, true),
        ],
    ));
}

// -------------------------------------------------------------------------------------------------
// Numbers: equality across lexemes, and the numbers that do not compare (spec 1.3)
// -------------------------------------------------------------------------------------------------

#[test]
fn number_equality_across_lexemes() {
    let mut cases = each(
        r#"{"x": [{"numeric": ["=", 3.018e2]}]}"#,
        &[
            (r#"{"x": 301.8}"#, true),
            (r#"{"x": 3018e-1}"#, true),
            (r#"{"x": 301.80}"#, true),
            (r#"{"x": 301.9}"#, false),
        ],
    );
    cases.extend(each(
        r#"{"x": [{"numeric": ["=", 301.5]}]}"#,
        &[(r#"{"x": 301.5}"#, true), (r#"{"x": 3.015e2}"#, true), (r#"{"x": 301.4}"#, false)],
    ));
    cases.extend(each(r#"{"x": [{"numeric": ["=", 0]}]}"#, &[(r#"{"x": -0.0}"#, true), (r#"{"x": 0e5}"#, true)]));
    run(&cases);
}

#[test]
fn numbers_that_do_not_compare() {
    let mut cases = Vec::new();
    // 17 digits, not the shortest double representation: falls back to string matching (1.3)
    cases.extend(each(
        r#"{"x": [{"numeric": [">", 0]}]}"#,
        &[
            (r#"{"x": 37.807807921694092}"#, false),
            (r#"{"x": 37.80780792169409}"#, true),
            (r#"{"x": 9007199254740993}"#, false),
            (r#"{"x": 9007199254740992}"#, true),
        ],
    ));
    cases.extend(each(r#"{"x": [{"numeric": [">=", 0]}]}"#, &[(r#"{"x": 1e-400}"#, false), (r#"{"x": 0}"#, true)]));
    cases.extend(each(
        r#"{"x": [{"numeric": ["=", 0.1]}]}"#,
        &[(r#"{"x": 0.10000000000000001}"#, false), (r#"{"x": 0.1}"#, true), (r#"{"x": 1e-1}"#, true)],
    ));
    // numeric never matches null or a numeric-looking string ("Rules recorded", 1.3)
    cases.extend(each(
        r#"{"x": [{"numeric": [">", 1]}]}"#,
        &[(r#"{"x": "5"}"#, false), (r#"{"x": null}"#, false), (r#"{"x": true}"#, false), (r#"{"x": 5}"#, true)],
    ));
    run(&cases);
}

// -------------------------------------------------------------------------------------------------
// prefix, suffix and their equals-ignore-case forms
// -------------------------------------------------------------------------------------------------

#[test]
fn prefix() {
    let mut cases = each(
        r#"{"x": [{"prefix": "ab"}]}"#,
        &[
            (r#"{"x": "abc"}"#, true),
            (r#"{"x": "ab"}"#, true),
            (r#"{"x": "a"}"#, false),
            (r#"{"x": "xab"}"#, false),
            (r#"{"x": "ABc"}"#, false),
            (r#"{"x": null}"#, false),
            ("{}", false),
            (r#"{"x": ["zz", "abz"]}"#, true),
        ],
    );
    // a prefix never matches a number (1.3)
    cases.extend(each(r#"{"x": [{"prefix": "12"}]}"#, &[(r#"{"x": 123}"#, false), (r#"{"x": "123"}"#, true)]));
    // the empty prefix matches every string ("Rules recorded")
    cases.extend(each(
        r#"{"x": [{"prefix": ""}]}"#,
        &[(r#"{"x": "abc"}"#, true), (r#"{"x": ""}"#, true), ("{}", false)],
    ));
    run(&cases);
}

#[test]
fn suffix() {
    let mut cases = each(
        r#"{"x": [{"suffix": ".png"}]}"#,
        &[
            (r#"{"x": "a.png"}"#, true),
            (r#"{"x": ".png"}"#, true),
            (r#"{"x": "a.PNG"}"#, false),
            (r#"{"x": "png"}"#, false),
            (r#"{"x": "a.png.jpg"}"#, false),
            ("{}", false),
        ],
    );
    cases.extend(each(r#"{"x": [{"suffix": "23"}]}"#, &[(r#"{"x": 123}"#, false), (r#"{"x": "123"}"#, true)]));
    cases.extend(each(r#"{"x": [{"suffix": ""}]}"#, &[(r#"{"x": "abc"}"#, true), (r#"{"x": ""}"#, true)]));
    run(&cases);
}

#[test]
fn prefix_equals_ignore_case() {
    run(&each(
        r#"{"x": [{"prefix": {"equals-ignore-case": "EventB"}}]}"#,
        &[
            (r#"{"x": "eventbridge"}"#, true),
            (r#"{"x": "EVENTBRIDGE"}"#, true),
            (r#"{"x": "EventB"}"#, true),
            (r#"{"x": "xeventb"}"#, false),
            (r#"{"x": "event"}"#, false),
            ("{}", false),
        ],
    ));
}

#[test]
fn suffix_equals_ignore_case() {
    run(&each(
        r#"{"x": [{"suffix": {"equals-ignore-case": ".png"}}]}"#,
        &[
            (r#"{"x": "A.PNG"}"#, true),
            (r#"{"x": "a.PnG"}"#, true),
            (r#"{"x": "a.png"}"#, true),
            (r#"{"x": "a.jpg"}"#, false),
            (r#"{"x": "a.pngx"}"#, false),
        ],
    ));
}

#[test]
fn equals_ignore_case() {
    let mut cases = each(
        r#"{"x": [{"equals-ignore-case": "Alice"}]}"#,
        &[
            (r#"{"x": "ALICE"}"#, true),
            (r#"{"x": "alice"}"#, true),
            (r#"{"x": "Alice"}"#, true),
            (r#"{"x": "alicia"}"#, false),
            (r#"{"x": "Alice "}"#, false),
            ("{}", false),
        ],
    );
    // the empty operand matches only the empty string ("Rules recorded")
    cases.extend(each(r#"{"x": [{"equals-ignore-case": ""}]}"#, &[(r#"{"x": ""}"#, true), (r#"{"x": "a"}"#, false)]));
    // Java char case mapping, not full folding (1.2, probe): ß matches SS; Σ does not match final ς
    cases.extend(each(r#"{"x": [{"equals-ignore-case": "ß"}]}"#, &[(r#"{"x": "SS"}"#, true), (r#"{"x": "ß"}"#, true)]));
    cases.extend(each(r#"{"x": [{"equals-ignore-case": "Σ"}]}"#, &[(r#"{"x": "ς"}"#, false), (r#"{"x": "σ"}"#, true)]));
    cases.extend(each(r#"{"x": [{"equals-ignore-case": "é"}]}"#, &[(r#"{"x": "É"}"#, true)]));
    run(&cases);
}

// -------------------------------------------------------------------------------------------------
// wildcard (spec 1.2, 1.3)
// -------------------------------------------------------------------------------------------------

#[test]
fn wildcard() {
    let mut cases = each(
        r#"{"x": [{"wildcard": "a*b"}]}"#,
        &[
            (r#"{"x": "ab"}"#, true),
            (r#"{"x": "axxb"}"#, true),
            (r#"{"x": "abc"}"#, false),
            (r#"{"x": "ba"}"#, false),
            (r#"{"x": null}"#, false),
            ("{}", false),
        ],
    );
    cases.extend(each(
        r#"{"x": [{"wildcard": "*"}]}"#,
        &[(r#"{"x": ""}"#, true), (r#"{"x": "anything"}"#, true), (r#"{"x": 5}"#, false), (r#"{"x": true}"#, false)],
    ));
    // JSON "a\\*b" is a\*b: a literal star (1.3)
    cases.extend(each(r#"{"x": [{"wildcard": "a\\*b"}]}"#, &[(r#"{"x": "a*b"}"#, true), (r#"{"x": "axb"}"#, false)]));
    // JSON "a\\\\b*" is a\\b*: a literal backslash then a wildcard
    cases.extend(each(
        r#"{"x": [{"wildcard": "a\\\\b*"}]}"#,
        &[(r#"{"x": "a\\bcd"}"#, true), (r#"{"x": "abcd"}"#, false)],
    ));
    cases.extend(each(r#"{"x": [{"wildcard": ""}]}"#, &[(r#"{"x": ""}"#, true), (r#"{"x": "a"}"#, false)]));
    cases.extend(each(
        r#"{"x": [{"wildcard": "*.png"}]}"#,
        &[(r#"{"x": "a.png"}"#, true), (r#"{"x": ".png"}"#, true), (r#"{"x": "a.jpg"}"#, false)],
    ));
    cases.extend(each(
        r#"{"x": [{"wildcard": "a*b*c"}]}"#,
        &[
            (r#"{"x": "aXbYc"}"#, true),
            (r#"{"x": "abc"}"#, true),
            (r#"{"x": "acb"}"#, false),
            (r#"{"x": "abcd"}"#, false),
        ],
    ));
    cases.extend(each(r#"{"x": [{"wildcard": "1*"}]}"#, &[(r#"{"x": 123}"#, false), (r#"{"x": "123"}"#, true)]));
    run(&cases);
}

// -------------------------------------------------------------------------------------------------
// anything-but, every form ("Rules recorded": matches null, never a missing field; string forms
// match numbers)
// -------------------------------------------------------------------------------------------------

#[test]
fn anything_but_string() {
    run(&each(
        r#"{"x": [{"anything-but": "a"}]}"#,
        &[
            (r#"{"x": "a"}"#, false),
            (r#"{"x": "b"}"#, true),
            (r#"{"x": "A"}"#, true),
            (r#"{"x": null}"#, true),
            (r#"{"x": 5}"#, true),
            ("{}", false),
            (r#"{"x": ["a", "b"]}"#, true),
            (r#"{"x": ["a"]}"#, false),
            (r#"{"x": []}"#, false),
        ],
    ));
}

#[test]
fn anything_but_number() {
    run(&each(
        r#"{"x": [{"anything-but": 5}]}"#,
        &[
            (r#"{"x": 5}"#, false),
            (r#"{"x": 5.0}"#, false),
            (r#"{"x": 6}"#, true),
            (r#"{"x": "a"}"#, true),
            (r#"{"x": null}"#, true),
            ("{}", false),
        ],
    ));
}

#[test]
fn anything_but_string_list() {
    let mut cases = each(
        r#"{"x": [{"anything-but": ["a", "b"]}]}"#,
        &[
            (r#"{"x": "c"}"#, true),
            (r#"{"x": "b"}"#, false),
            (r#"{"x": "a"}"#, false),
            (r#"{"x": 5}"#, true),
            (r#"{"x": null}"#, true),
            ("{}", false),
        ],
    );
    // a number is not excluded by a string list ("Rules recorded")
    cases.extend(each(r#"{"x": [{"anything-but": ["100"]}]}"#, &[(r#"{"x": 100}"#, true), (r#"{"x": "100"}"#, false)]));
    run(&cases);
}

#[test]
fn anything_but_number_list() {
    run(&each(
        r#"{"x": [{"anything-but": [1, 2.5]}]}"#,
        &[
            (r#"{"x": 2.5}"#, false),
            (r#"{"x": 1}"#, false),
            (r#"{"x": 1.0}"#, false),
            (r#"{"x": 25e-1}"#, false),
            (r#"{"x": 3}"#, true),
            (r#"{"x": "a"}"#, true),
            (r#"{"x": null}"#, true),
            ("{}", false),
        ],
    ));
}

#[test]
fn anything_but_prefix() {
    let mut cases = each(
        r#"{"x": [{"anything-but": {"prefix": "a"}}]}"#,
        &[
            (r#"{"x": "abc"}"#, false),
            (r#"{"x": "a"}"#, false),
            (r#"{"x": "bcd"}"#, true),
            (r#"{"x": ""}"#, true),
            (r#"{"x": 5}"#, true),
            (r#"{"x": null}"#, true),
            ("{}", false),
        ],
    );
    cases.extend(each(
        r#"{"x": [{"anything-but": {"prefix": ["a", "b"]}}]}"#,
        &[(r#"{"x": "apple"}"#, false), (r#"{"x": "banana"}"#, false), (r#"{"x": "cherry"}"#, true)],
    ));
    run(&cases);
}

#[test]
fn anything_but_suffix() {
    let mut cases = each(
        r#"{"x": [{"anything-but": {"suffix": ".png"}}]}"#,
        &[
            (r#"{"x": "x.png"}"#, false),
            (r#"{"x": "x.jpg"}"#, true),
            (r#"{"x": 5}"#, true),
            (r#"{"x": null}"#, true),
            ("{}", false),
        ],
    );
    cases.extend(each(
        r#"{"x": [{"anything-but": {"suffix": [".png", ".jpg"]}}]}"#,
        &[(r#"{"x": "a.png"}"#, false), (r#"{"x": "a.jpg"}"#, false), (r#"{"x": "a.gif"}"#, true)],
    ));
    run(&cases);
}

#[test]
fn anything_but_equals_ignore_case() {
    let mut cases = each(
        r#"{"x": [{"anything-but": {"equals-ignore-case": "a"}}]}"#,
        &[
            (r#"{"x": "A"}"#, false),
            (r#"{"x": "a"}"#, false),
            (r#"{"x": "b"}"#, true),
            (r#"{"x": 5}"#, true),
            (r#"{"x": null}"#, true),
            ("{}", false),
        ],
    );
    cases.extend(each(
        r#"{"x": [{"anything-but": {"equals-ignore-case": ["a", "B"]}}]}"#,
        &[(r#"{"x": "b"}"#, false), (r#"{"x": "A"}"#, false), (r#"{"x": "c"}"#, true)],
    ));
    run(&cases);
}

#[test]
fn anything_but_wildcard() {
    let mut cases = each(
        r#"{"x": [{"anything-but": {"wildcard": "*x*"}}]}"#,
        &[
            (r#"{"x": "axb"}"#, false),
            (r#"{"x": "x"}"#, false),
            (r#"{"x": "abc"}"#, true),
            (r#"{"x": 5}"#, true),
            (r#"{"x": null}"#, true),
            ("{}", false),
        ],
    );
    cases.extend(each(
        r#"{"x": [{"anything-but": {"wildcard": ""}}]}"#,
        &[(r#"{"x": ""}"#, false), (r#"{"x": "a"}"#, true)],
    ));
    cases.extend(each(
        r#"{"x": [{"anything-but": {"wildcard": ["a*", "*b"]}}]}"#,
        &[(r#"{"x": "ax"}"#, false), (r#"{"x": "xb"}"#, false), (r#"{"x": "xx"}"#, true)],
    ));
    run(&cases);
}

#[test]
fn anything_but_or_absent() {
    // "Rules recorded": exists:false in the list lets absence through, beside other matchers
    run(&each(
        r#"{"x": [{"anything-but": ["roses"]}, {"exists": false}]}"#,
        &[("{}", true), (r#"{"x": "roses"}"#, false), (r#"{"x": "tulip"}"#, true), (r#"{"y": "roses"}"#, true)],
    ));
}

// -------------------------------------------------------------------------------------------------
// numeric (spec 1.2)
// -------------------------------------------------------------------------------------------------

#[test]
fn numeric_one_bound() {
    let mut cases = each(
        r#"{"x": [{"numeric": [">", 100]}]}"#,
        &[
            (r#"{"x": 120}"#, true),
            (r#"{"x": 100}"#, false),
            (r#"{"x": 99.5}"#, false),
            (r#"{"x": 1.2e2}"#, true),
            (r#"{"x": -500}"#, false),
            (r#"{"x": "120"}"#, false),
            (r#"{"x": null}"#, false),
            ("{}", false),
            (r#"{"x": [1, 200]}"#, true),
        ],
    );
    cases.extend(each(r#"{"x": [{"numeric": [">=", 100]}]}"#, &[(r#"{"x": 100}"#, true), (r#"{"x": 99.999}"#, false)]));
    cases.extend(each(
        r#"{"x": [{"numeric": ["<", 0]}]}"#,
        &[(r#"{"x": -1}"#, true), (r#"{"x": 0}"#, false), (r#"{"x": -0.0}"#, false), (r#"{"x": -1e-300}"#, true)],
    ));
    cases.extend(each(
        r#"{"x": [{"numeric": ["<=", 0]}]}"#,
        &[(r#"{"x": 0}"#, true), (r#"{"x": -0.0}"#, true), (r#"{"x": 1}"#, false)],
    ));
    // the full float64 range (1.2)
    cases.extend(each(
        r#"{"x": [{"numeric": [">", 1e308]}]}"#,
        &[(r#"{"x": 1.5e308}"#, true), (r#"{"x": 1e308}"#, false), (r#"{"x": 1e300}"#, false)],
    ));
    cases.extend(each(
        r#"{"x": [{"numeric": ["<", -1e308]}]}"#,
        &[(r#"{"x": -1.5e308}"#, true), (r#"{"x": 0}"#, false)],
    ));
    run(&cases);
}

#[test]
fn numeric_two_bounds() {
    let mut cases = each(
        r#"{"x": [{"numeric": [">", 0, "<=", 5]}]}"#,
        &[
            (r#"{"x": 0}"#, false),
            (r#"{"x": 0.0001}"#, true),
            (r#"{"x": 5}"#, true),
            (r#"{"x": 5.0001}"#, false),
            (r#"{"x": -1}"#, false),
        ],
    );
    cases.extend(each(
        r#"{"x": [{"numeric": [">=", 0, "<", 5]}]}"#,
        &[(r#"{"x": 0}"#, true), (r#"{"x": 5}"#, false), (r#"{"x": 4.99}"#, true)],
    ));
    cases.extend(each(
        r#"{"x": [{"numeric": [">", -1e9, "<", 1e9]}]}"#,
        &[(r#"{"x": 1e10}"#, false), (r#"{"x": -999999999}"#, true)],
    ));
    run(&cases);
}

#[test]
fn numeric_equals() {
    run(&each(
        r#"{"x": [{"numeric": ["=", 5]}]}"#,
        &[(r#"{"x": 5}"#, true), (r#"{"x": 5.0}"#, true), (r#"{"x": 5.000001}"#, false), (r#"{"x": "5"}"#, false)],
    ));
}

// -------------------------------------------------------------------------------------------------
// exists ("Rules recorded", 1.2, 1.3)
// -------------------------------------------------------------------------------------------------

#[test]
fn exists_true() {
    let mut cases = each(
        r#"{"x": [{"exists": true}]}"#,
        &[
            (r#"{"x": null}"#, true),
            (r#"{"x": ""}"#, true),
            (r#"{"x": false}"#, true),
            (r#"{"x": 0}"#, true),
            (r#"{"x": ["a"]}"#, true),
            (r#"{"x": []}"#, false),
            (r#"{"x": [[]]}"#, false),
            (r#"{"x": {"y": 1}}"#, false),
            ("{}", false),
            (r#"{"y": 1}"#, false),
        ],
    );
    // an array of objects where some element has the key
    cases.extend(each(
        r#"{"a": {"b": [{"exists": true}]}}"#,
        &[(r#"{"a": [{"c": 1}, {"b": 2}]}"#, true), (r#"{"a": [{"c": 1}]}"#, false), (r#"{"a": {"b": null}}"#, true)],
    ));
    run(&cases);
}

#[test]
fn exists_false() {
    let mut cases = each(
        r#"{"x": [{"exists": false}]}"#,
        &[
            ("{}", true),
            (r#"{"y": 1}"#, true),
            (r#"{"x": null}"#, false),
            (r#"{"x": ""}"#, false),
            (r#"{"x": "a"}"#, false),
            (r#"{"x": []}"#, true),
            (r#"{"x": {"y": 1}}"#, true),
        ],
    );
    // absence also when an ancestor object is missing
    cases.extend(each(
        r#"{"a": {"b": [{"exists": false}]}}"#,
        &[(r#"{"c": 1}"#, true), (r#"{"a": {"c": 1}}"#, true), (r#"{"a": {"b": 1}}"#, false)],
    ));
    cases.extend(each(
        r#"{"a": ["x"], "b": [{"exists": false}]}"#,
        &[(r#"{"a": "x"}"#, true), (r#"{"a": "x", "b": "y"}"#, false), (r#"{"b": "y"}"#, false)],
    ));
    run(&cases);
}

// -------------------------------------------------------------------------------------------------
// cidr and plain IP strings (spec 1.2)
// -------------------------------------------------------------------------------------------------

#[test]
fn cidr_v4() {
    let mut cases = each(
        r#"{"ip": [{"cidr": "10.0.0.0/24"}]}"#,
        &[
            (r#"{"ip": "10.0.0.255"}"#, true),
            (r#"{"ip": "10.0.0.0"}"#, true),
            (r#"{"ip": "10.0.1.0"}"#, false),
            (r#"{"ip": "9.255.255.255"}"#, false),
            (r#"{"ip": 10}"#, false),
            (r#"{"ip": "not an ip"}"#, false),
            (r#"{"ip": "2001:db8::1"}"#, false),
            ("{}", false),
        ],
    );
    cases.extend(each(
        r#"{"ip": [{"cidr": "0.0.0.0/0"}]}"#,
        &[(r#"{"ip": "255.255.255.255"}"#, true), (r#"{"ip": "0.0.0.0"}"#, true), (r#"{"ip": "::1"}"#, false)],
    ));
    cases.extend(each(
        r#"{"ip": [{"cidr": "220.160.153.170/31"}]}"#,
        &[(r#"{"ip": "220.160.153.171"}"#, true), (r#"{"ip": "220.160.153.172"}"#, false)],
    ));
    run(&cases);
}

#[test]
fn cidr_v6() {
    run(&each(
        r#"{"ip": [{"cidr": "2001:db8::/32"}]}"#,
        &[
            (r#"{"ip": "2001:db8::1"}"#, true),
            (r#"{"ip": "2001:0db8:0000:0000:0000:0000:0000:0001"}"#, true),
            (r#"{"ip": "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"}"#, true),
            (r#"{"ip": "2001:db9::1"}"#, false),
            (r#"{"ip": "10.0.0.1"}"#, false),
        ],
    ));
}

#[test]
fn plain_ip_strings() {
    let mut cases = each(
        r#"{"ip": ["10.0.0.1"]}"#,
        &[(r#"{"ip": "10.0.0.1"}"#, true), (r#"{"ip": "10.0.0.2"}"#, false), (r#"{"ip": "10.0.0.10"}"#, false)],
    );
    // "2001:db8::1" matches its expanded form (probe)
    cases.extend(each(
        r#"{"ip": ["2001:db8::1"]}"#,
        &[
            (r#"{"ip": "2001:0db8:0000:0000:0000:0000:0000:0001"}"#, true),
            (r#"{"ip": "2001:db8::1"}"#, true),
            (r#"{"ip": "2001:db8::2"}"#, false),
        ],
    ));
    run(&cases);
}

// -------------------------------------------------------------------------------------------------
// $or (spec 1.1)
// -------------------------------------------------------------------------------------------------

#[test]
fn or_top_level() {
    run(&each(
        r#"{"$or": [{"a": [1]}, {"b": [2]}]}"#,
        &[
            (r#"{"a": 1}"#, true),
            (r#"{"b": 2}"#, true),
            (r#"{"a": 1, "b": 2}"#, true),
            (r#"{"a": 2, "b": 1}"#, false),
            (r#"{"c": 3}"#, false),
            ("{}", false),
        ],
    ));
}

#[test]
fn or_nested() {
    let mut cases = each(
        r#"{"detail": {"$or": [{"a": [1]}, {"b": [{"prefix": "x"}]}]}, "source": ["s"]}"#,
        &[
            (r#"{"source": "s", "detail": {"a": 1}}"#, true),
            (r#"{"source": "s", "detail": {"b": "xy"}}"#, true),
            (r#"{"source": "t", "detail": {"a": 1}}"#, false),
            (r#"{"source": "s", "detail": {"b": "y"}}"#, false),
            (r#"{"source": "s", "a": 1}"#, false),
        ],
    );
    // tests/test_filter_policy.py OR_BODY_POLICY: branches of $or OR, everything else ANDs
    let or_body = r#"{"$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}], "detail": {"scope": ["Service"], "$or": [{"source": ["aws.cloudwatch"]}, {"type": ["CloudWatch Alarm State Change"]}]}}"#;
    cases.extend(each(
        or_body,
        &[
            (r#"{"metricName": "CPUUtilization", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}"#, true),
            (r#"{"metricName": "ReadLatency", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}"#, true),
            (r#"{"namespace": "AWS/EC2", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}"#, true),
            (r#"{"namespace": "AWS/ES", "detail": {"scope": "Service", "source": "aws.cloudwatch"}}"#, true),
            (r#"{"metricName": "CPUUtilization", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}"#, true),
            (r#"{"metricName": "CPUUtilization", "detail": {"scope": "aws.cloudwatch", "type": "CloudWatch Alarm State Change"}}"#, false),
            (r#"{"metricName": "CPUUtilization", "detail": {"scope": "Service", "type": "CPUUtilization"}}"#, false),
            (r#"{"metricName": "CPUUtilization", "detail": {"type": "CloudWatch Alarm State Change"}}"#, false),
            (r#"{"metricName": "CPUUtilization", "detail": {"scope": "Service"}}"#, false),
            (r#"{"metricName": "CPUUtilization", "scope": "Service"}"#, false),
            (r#"{"metricName": "AWS/EC2", "detail": {"scope": "Service", "type": "CloudWatch Alarm State Change"}}"#, false),
        ],
    ));
    run(&cases);
}

#[test]
fn or_with_non_objects_is_a_field_name() {
    // backward compatibility: "$or" whose array is not of objects is an ordinary field (1.1)
    run(&each(r#"{"$or": ["x"]}"#, &[(r#"{"$or": "x"}"#, true), (r#"{"$or": "y"}"#, false), (r#"{"x": "x"}"#, false)]));
}

// -------------------------------------------------------------------------------------------------
// Paths: dotted keys vs nesting ("Rules recorded")
// -------------------------------------------------------------------------------------------------

#[test]
fn dotted_keys_and_nesting() {
    let mut cases = each(
        r#"{"a.b": ["c"]}"#,
        &[
            (r#"{"a": {"b": "c"}}"#, true),
            (r#"{"a.b": "c"}"#, true),
            (r#"{"a": {"b": "d"}}"#, false),
            (r#"{"a": "c"}"#, false),
            (r#"{"ab": "c"}"#, false),
        ],
    );
    cases.extend(each(r#"{"a": {"b": ["c"]}}"#, &[(r#"{"a.b": "c"}"#, true), (r#"{"a": {"b": "c"}}"#, true)]));
    cases.extend(each(
        r#"{"object.nested.test": ["v"]}"#,
        &[
            (r#"{"object": {"nested": {"test": "v"}}}"#, true),
            (r#"{"object.nested.test": "v"}"#, true),
            (r#"{"object.nested": {"test": "v"}}"#, true),
            (r#"{"object": {"nested.test": "v"}}"#, true),
            (r#"{"object": {"nested": {"test": "w"}}}"#, false),
        ],
    ));
    cases.extend(each(
        r#"{"a": {"b.c": ["v"]}}"#,
        &[(r#"{"a.b": {"c": "v"}}"#, true), (r#"{"a": {"b": {"c": "v"}}}"#, true)],
    ));
    run(&cases);
}

// -------------------------------------------------------------------------------------------------
// Arrays (spec 1.3, 1.4)
// -------------------------------------------------------------------------------------------------

#[test]
fn arrays_any_of() {
    run(&each(
        r#"{"x": ["b"]}"#,
        &[
            (r#"{"x": ["a", "b"]}"#, true),
            (r#"{"x": [["a"], ["b"]]}"#, true),
            (r#"{"x": [[["b"]]]}"#, true),
            (r#"{"x": ["a"]}"#, false),
            (r#"{"x": []}"#, false),
        ],
    ));
}

#[test]
fn array_consistency() {
    let pattern = r#"{"e": {"f": ["Anna"], "l": ["Jones"]}}"#;
    let mut cases = each(
        pattern,
        &[
            (r#"{"e": [{"f": "Anna", "l": "Smith"}, {"f": "Peter", "l": "Jones"}]}"#, false),
            (r#"{"e": [{"f": "Anna", "l": "Jones"}, {"f": "Peter", "l": "Smith"}]}"#, true),
            (r#"{"e": [{"f": "Peter", "l": "Smith"}, {"f": "Anna", "l": "Jones"}]}"#, true),
            (r#"{"e": {"f": "Anna", "l": "Jones"}}"#, true),
        ],
    );
    // tests/test_filter_policy.py S3 cases: one element satisfying the whole pattern
    let s3 = r#"{"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}, "eventName": [{"prefix": "ObjectCreated:"}]}}"#;
    cases.extend(each(
        s3,
        &[
            (
                r#"{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "auto-insurance-2314.xml", "size": 17}}}]}"#,
                true,
            ),
            (
                r#"{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"object": [[{"key": "auto-insurance-2314.xml", "size": 17}]]}}, {"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "home-insurance-2314.xml", "size": 17}}}]}"#,
                true,
            ),
            (
                r#"{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "auto-insurance-2314.xml", "size": 17}}}]}"#,
                false,
            ),
            (
                r#"{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "home-insurance-2314.xml"}}}, {"eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "auto-x"}}}]}"#,
                false,
            ),
        ],
    ));
    run(&cases);
}

// -------------------------------------------------------------------------------------------------
// Duplicate keys (spec 1.1: last occurrence wins in a pattern; 1.3: an event keeps both)
// -------------------------------------------------------------------------------------------------

#[test]
fn duplicate_keys_in_pattern_last_wins() {
    let mut cases = each(r#"{"x": ["1"], "x": ["2"]}"#, &[(r#"{"x": "2"}"#, true), (r#"{"x": "1"}"#, false)]);
    cases.extend(each(
        r#"{"a": {"b": ["1"]}, "a": {"c": ["2"]}}"#,
        &[(r#"{"a": {"c": "2"}}"#, true), (r#"{"a": {"b": "1"}}"#, false)],
    ));
    run(&cases);
}

#[test]
fn duplicate_keys_in_event_keep_both() {
    let event = r#"{"x": "1", "x": "2"}"#;
    run(&[
        (r#"{"x": ["1"]}"#, event, true),
        (r#"{"x": ["2"]}"#, event, true),
        (r#"{"x": ["3"]}"#, event, false),
        (r#"{"x": [{"anything-but": "1"}]}"#, event, true),
    ]);
}

// -------------------------------------------------------------------------------------------------
// Events that cannot be matched (spec 1.3)
// -------------------------------------------------------------------------------------------------

#[test]
fn events_that_are_not_objects() {
    let pattern = Pattern::new(br#"{"x": ["a"]}"#).unwrap();
    for event in ["[1]", "\"a\"", "5", "null", "true"] {
        match pattern.matches(event.as_bytes()) {
            Err(e @ rulebus_core::Error::InvalidEvent { .. }) => {
                assert_eq!(e.reason(), "Event must be a JSON object", "{event}");
            }
            other => panic!("{event}: expected InvalidEvent, got {other:?}"),
        }
    }
    for event in ["", "{", r#"{"x": "a""#, "not json", r#"{"x": [1,]}"#] {
        match pattern.matches(event.as_bytes()) {
            Err(rulebus_core::Error::InvalidEvent { .. }) => {}
            other => panic!("{event:?}: expected InvalidEvent, got {other:?}"),
        }
    }
}

// -------------------------------------------------------------------------------------------------
// SNS: message attributes and message bodies (tests/test_filter_policy.py)
// -------------------------------------------------------------------------------------------------

/// (name, data type, value; `None` for a binary value).
type Attr<'a> = (&'a str, &'a str, Option<&'a str>);

const DOC_MESSAGE: &[Attr<'static>] = &[
    ("customer_interests", "String.Array", Some(r#"["soccer", "rugby", "hockey"]"#)),
    ("store", "String", Some("example_corp")),
    ("event", "String", Some("order_placed")),
    ("price_usd", "Number", Some("210.75")),
];

fn attribute_matches(policy: &str, attrs: &[Attr<'_>]) -> Result<bool, String> {
    let policy = FilterPolicy::new(policy.as_bytes(), Scope::MessageAttributes).map_err(|e| format!("{e:?}"))?;
    let attributes: Vec<Attribute<'_>> = attrs
        .iter()
        .map(|&(name, data_type, value)| Attribute {
            name: name.as_bytes(),
            data_type,
            value: value.map(str::as_bytes),
        })
        .collect();
    Ok(policy.matches_attributes(&attributes))
}

#[test]
fn sns_message_attributes() {
    let s = |name, value| (name, "String", Some(value));
    let n = |name, value| (name, "Number", Some(value));
    let a = |name, value| (name, "String.Array", Some(value));
    let price_gt = r#"{"price": [{"numeric": [">", 100]}]}"#;
    let range = r#"{"attr1": [{"numeric": [">", 0, "<=", 100]}]}"#;
    let eq = r#"{"price_usd": [{"numeric": ["=", 301.5]}]}"#;
    let ab_list = r#"{"ci": [{"anything-but": ["rugby", "tennis"]}]}"#;
    let null_or_ab = r#"{"attr1": [null, {"anything-but": "whatever"}]}"#;
    let or =
        r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]}"#;
    let docs_accepting = r#"{"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}], "customer_interests": ["rugby", "football", "baseball"], "price_usd": [{"numeric": [">=", 100]}]}"#;
    let docs_rejecting = r#"{"store": ["example_corp"], "event": ["order_cancelled"], "encrypted": [false], "customer_interests": ["basketball", "baseball"]}"#;
    let cases: Vec<(&str, Vec<Attr<'_>>, bool)> = vec![
        (r#"{"store": ["example_corp"]}"#, vec![s("store", "example_corp")], true),
        (r#"{"store": ["example_corp"]}"#, vec![s("store", "Example_corp")], false),
        (r#"{"store": ["example_corp"]}"#, vec![s("other", "example_corp")], false),
        (r#"{"store": ["example_corp"]}"#, vec![], false),
        (r#"{"store": ["a", "b"]}"#, vec![s("store", "b")], true),
        (r#"{"store": ["a"], "event": ["x"]}"#, vec![s("store", "a"), s("event", "x")], true),
        (r#"{"store": ["a"], "event": ["x"]}"#, vec![s("store", "a")], false),
        (r#"{"store": ["a"]}"#, vec![s("store", "a"), s("zzz", "q")], true),
        (docs_accepting, DOC_MESSAGE.to_vec(), true),
        (docs_rejecting, DOC_MESSAGE.to_vec(), false),
        (price_gt, vec![n("price", "120")], true),
        (price_gt, vec![n("price", "100")], false),
        (price_gt, vec![n("price", "99.5")], false),
        (price_gt, vec![n("price", "1.2e2")], true),
        (price_gt, vec![n("price", "-500")], false),
        (price_gt, vec![s("price", "120")], false),
        (price_gt, vec![("price", "Number.float", Some("120.5"))], true),
        (range, vec![n("attr1", "99")], true),
        (range, vec![n("attr1", "111")], false),
        (range, vec![n("attr1", "100")], true),
        (range, vec![n("attr1", "0")], false),
        (r#"{"p": [{"numeric": ["<", 0]}]}"#, vec![n("p", "-1")], true),
        (eq, vec![n("price_usd", "301.5")], true),
        (eq, vec![n("price_usd", "3.015e2")], true),
        (eq, vec![n("price_usd", "301.4")], false),
        (r#"{"price": [100]}"#, vec![n("price", "100")], true),
        (r#"{"price": [100.1]}"#, vec![n("price", "100.1")], true),
        (r#"{"price": [100]}"#, vec![n("price", "101")], false),
        (r#"{"price": [100]}"#, vec![s("price", "100")], false),
        (r#"{"price": [100]}"#, vec![n("price", "100.0")], true),
        (r#"{"price": [100]}"#, vec![("price", "Number.int", Some("100"))], true),
        (r#"{"price": [100]}"#, vec![a("price", "[100, 50]")], true),
        (r#"{"store": ["a"]}"#, vec![("store", "String.custom", Some("a"))], true),
        (r#"{"price": [{"anything-but": [100, 500]}]}"#, vec![n("price", "101")], true),
        (r#"{"price": [{"anything-but": [100, 500]}]}"#, vec![n("price", "100.1")], true),
        (r#"{"price": [{"anything-but": [100, 500]}]}"#, vec![n("price", "100")], false),
        (r#"{"ci": [{"anything-but": [100]}]}"#, vec![n("ci", "50")], true),
        (r#"{"ci": [{"anything-but": [100]}]}"#, vec![n("ci", "100")], false),
        (r#"{"ci": [{"anything-but": ["100"]}]}"#, vec![n("ci", "100")], true),
        (r#"{"customer_interests": ["rugby", "football"]}"#, DOC_MESSAGE.to_vec(), true),
        (r#"{"customer_interests": ["tennis"]}"#, DOC_MESSAGE.to_vec(), false),
        (r#"{"ci": [{"prefix": "bas"}]}"#, vec![a("ci", r#"["rugby", "basketball"]"#)], true),
        (ab_list, vec![a("ci", r#"["rugby", "baseball"]"#)], true),
        (ab_list, vec![s("ci", "rugby")], false),
        (ab_list, vec![s("ci", "baseball")], true),
        (r#"{"price": [100, 500]}"#, vec![a("price", "[100, 50]")], true),
        (r#"{"price": [500]}"#, vec![a("price", "[100, 50]")], false),
        (r#"{"k": [1]}"#, vec![a("k", r#"["a", 1, true, null]"#)], true),
        (r#"{"store": [{"exists": true}]}"#, vec![a("store", r#"["value1", "value2"]"#)], true),
        (r#"{"store": ["value1"]}"#, vec![a("store", r#"["value1", "value2"]"#)], true),
        (r#"{"store": ["value1"]}"#, vec![a("store", r#"["value2", "value3"]"#)], false),
        (r#"{"img": ["aGVsbG8="]}"#, vec![("img", "Binary", None)], false),
        (r#"{"store": ["a"]}"#, vec![s("store", "a"), ("img", "Binary", None)], true),
        (r#"{"ci": [{"prefix": "bas"}]}"#, vec![s("ci", "baseball")], true),
        (r#"{"ci": [{"prefix": "bas"}]}"#, vec![s("ci", "rugby")], false),
        (r#"{"f": [{"suffix": ".png"}]}"#, vec![s("f", "a.png")], true),
        (r#"{"f": [{"suffix": ".png"}]}"#, vec![s("f", "a.PNG")], false),
        (r#"{"n": [{"equals-ignore-case": "Alice"}]}"#, vec![s("n", "ALICE")], true),
        (r#"{"n": [{"equals-ignore-case": "Alice"}]}"#, vec![s("n", "alicia")], false),
        (r#"{"event": [{"anything-but": "order_cancelled"}]}"#, vec![s("event", "order_placed")], true),
        (r#"{"event": [{"anything-but": "order_cancelled"}]}"#, vec![s("event", "order_cancelled")], false),
        (r#"{"event": [{"anything-but": "order_cancelled"}]}"#, vec![], false),
        (r#"{"event": [{"anything-but": ["a", "b"]}]}"#, vec![s("event", "c")], true),
        (r#"{"event": [{"anything-but": ["a", "b"]}]}"#, vec![s("event", "b")], false),
        (r#"{"e": [{"anything-but": {"prefix": "order-"}}]}"#, vec![s("e", "refund")], true),
        (r#"{"e": [{"anything-but": {"prefix": "order-"}}]}"#, vec![s("e", "order-1")], false),
        (r#"{"ip": [{"cidr": "10.0.0.0/24"}]}"#, vec![s("ip", "10.0.0.255")], true),
        (r#"{"ip": [{"cidr": "10.0.0.0/24"}]}"#, vec![s("ip", "10.0.1.0")], false),
        (r#"{"ip": [{"cidr": "2001:db8::/32"}]}"#, vec![s("ip", "2001:db8::1")], true),
        (r#"{"ip": [{"cidr": "2001:db8::/32"}]}"#, vec![s("ip", "2001:db9::1")], false),
        (r#"{"store": [{"exists": true}]}"#, vec![n("store", "99"), n("def", "99")], true),
        (r#"{"store": [{"exists": true}]}"#, vec![n("attr1", "111")], false),
        (r#"{"store": [{"exists": false}]}"#, vec![n("def", "99")], true),
        (r#"{"store": [{"exists": false}]}"#, vec![n("store", "99"), n("def", "99")], false),
        (r#"{"store": [{"exists": false}]}"#, vec![], true),
        (null_or_ab, vec![], false),
        (null_or_ab, vec![s("attr1", "x")], true),
        (null_or_ab, vec![s("attr1", "whatever")], false),
        (or, vec![s("source", "aws.cloudwatch"), s("metricName", "CPUUtilization")], true),
        (or, vec![s("source", "aws.cloudwatch"), s("namespace", "AWS/EC2")], true),
        (or, vec![s("source", "aws.cloudwatch")], false),
    ];
    let mut failures = Vec::new();
    for (policy, attrs, expected) in &cases {
        match attribute_matches(policy, attrs) {
            Ok(got) if got == *expected => {}
            got => failures
                .push(format!("policy {policy}\n    attributes {attrs:?}\n    expected {expected}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{} case(s) disagree:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn sns_message_body() {
    let body_policy = r#"{"object": {"key": [{"prefix": "auto-"}, "hardcodedvalue"], "nested_key": [{"exists": false}]}, "test": [{"exists": false}]}"#;
    let route = r#"{"headers": {"route-to": ["queue1"]}}"#;
    let cases: Vec<(&str, &str, bool)> = vec![
        (body_policy, r#"{"object": {"key": "auto-test"}}"#, true),
        (body_policy, r#"{"object": {"key": "hardcodedvalue"}}"#, true),
        (body_policy, r#"{"object": {"key": "test-auto"}}"#, false),
        (body_policy, r#"{"object": {"key": "auto-test"}, "test": "just-exists"}"#, false),
        (body_policy, r#"{"object": {"key": "auto-test", "nested_key": "just-exists"}}"#, false),
        (body_policy, r#"{"object": {"test": "auto-test"}}"#, false),
        (body_policy, r#"{"test": "auto-test"}"#, false),
        (route, r#"{"headers": {"route-to": ["queue1"]}}"#, true),
        (route, r#"{"headers": {"route-to": ["queue1", "queue2"]}}"#, true),
        (route, r#"{"headers": {"route-to": ["queue3"]}}"#, false),
        (r#"{"object.nested": ["string.value"]}"#, r#"{"object": {"nested": "string.value"}}"#, true),
        (r#"{"object.nested": ["string.value"]}"#, r#"{"object.nested": "string.value"}"#, true),
        (r#"{"object.nested": ["string.value"]}"#, r#"{"object": {"nested": "test-auto"}}"#, false),
        (r#"{"price": [100]}"#, r#"{"price": 100}"#, true),
        (r#"{"price": [100.1]}"#, r#"{"price": 100.1}"#, true),
        (r#"{"price": [100]}"#, r#"{"price": 101}"#, false),
        (r#"{"price": [100]}"#, r#"{"price": "100"}"#, false),
        (r#"{"ci": [{"numeric": [">", 49, "<=", 100]}]}"#, r#"{"ci": 100}"#, true),
        (r#"{"ci": [{"numeric": [">", 49, "<=", 100]}]}"#, r#"{"ci": 150}"#, false),
        (r#"{"price": [100, 500]}"#, r#"{"price": [100, 50]}"#, true),
        (r#"{"price": [500]}"#, r#"{"price": [100, 50]}"#, false),
        (r#"{"price_usd": [{"numeric": ["=", 301.5]}]}"#, r#"{"price_usd": 3.015e2}"#, true),
        (r#"{"a": {"b": [{"exists": false}]}}"#, r#"{"c": 1}"#, true),
    ];
    let mut failures = Vec::new();
    for (policy, body, expected) in &cases {
        let got = FilterPolicy::new(policy.as_bytes(), Scope::MessageBody)
            .map(|p| p.matches_body(body.as_bytes()))
            .map_err(|e| format!("{e:?}"));
        if got != Ok(*expected) {
            failures.push(format!("policy {policy}\n    body {body}\n    expected {expected}, got {got:?}"));
        }
    }
    // a body that is not a JSON object matches nothing, and is no error
    for body in ["Regular string message", r#""Regular string message""#, "[1, 2]", "123", "null", "true", r#"{"a": "#]
    {
        for policy in [r#"{"a": [{"exists": false}]}"#, r#"{"a": [{"anything-but": "x"}]}"#] {
            let policy = FilterPolicy::new(policy.as_bytes(), Scope::MessageBody).unwrap();
            if policy.matches_body(body.as_bytes()) {
                failures.push(format!("body {body:?} is not an object but matched"));
            }
        }
    }
    assert!(failures.is_empty(), "{} case(s) disagree:\n{}", failures.len(), failures.join("\n"));
}
