//! Validation errors, word for word: every reason EventBridge and SNS give for a pattern or policy
//! they refuse, checked through `Error::reason()` and `Error::message()`.
//!
//! Expected texts come from AWS's answers recorded against the service, from event-ruler's error
//! texts (docs/semantics.md, 'The pattern language'), and from the Python tests tests/test_pattern_errors.py and
//! tests/test_filter_policy.py (AWS recordings, LocalStack snapshots), never from the engine.
//! Wildcard positions follow event-ruler's `WildcardParser`, which reports the UTF-8 byte index of
//! the offending character in the operand *with its leading quote* (so index + 1), and its own test
//! `"abc**def"` -> "pos 4".

use rulebus_core::{Dialect, Error, FilterPolicy, Pattern, Scope};

const EB: &str = "Event pattern is not valid. Reason: ";
const SNS: &str = "Invalid parameter: FilterPolicy: ";
const SNS_PARSE: &str = "failed to parse JSON. ";
const NESTED_SCOPE_ERROR: &str =
    "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy";
const BAD_SCOPE_ERROR: &str =
    "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes";

const MATCH_VALUE: &str = "Match value must be String, number, true, false, or null";
const AB_LIST: &str = "Inside anything but list, start|null|boolean is not supported.";
const AB_MIXED: &str = "Inside anything but list, either all values are number or string, mixed type is not supported";
const AB_EIC: &str = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.";
const AB_VALUE: &str = "Value of anything-but must be an array or single string/number value.";
const AB_PS: &str = "prefix/suffix match pattern must be a string";
const ONE_KEY: &str = "Only one key allowed in match expression";
const EXISTS: &str = "exists match pattern must be either true or false.";
const UNRECOGNIZED_TOKEN: &str =
    "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/// (pattern text, reason): EventBridge reasons. Parser-raised reasons may carry Jackson's location
/// after a newline, so `message()` is compared by prefix.
const EB_CASES: &[(&str, &str)] = &[
    // --- not an object (spec 3, 5.2) ---
    ("[1,2]", "Filter is not an object"),
    ("[]", "Filter is not an object"),
    (r#""abc""#, "Filter is not an object"),
    ("123", "Filter is not an object"),
    ("-1.5e3", "Filter is not an object"),
    ("true", "Filter is not an object"),
    ("false", "Filter is not an object"),
    ("null", "Filter is not an object"),
    // --- a leaf that is not an array (spec 3, 5.2; buildkite example) ---
    (r#"{"x": "a"}"#, "\"x\" must be an object or an array"),
    (r#"{"int": 5}"#, "\"int\" must be an object or an array"),
    (r#"{"string": "s"}"#, "\"string\" must be an object or an array"),
    (r#"{"x": null}"#, "\"x\" must be an object or an array"),
    (r#"{"x": true}"#, "\"x\" must be an object or an array"),
    (r#"{"x": false}"#, "\"x\" must be an object or an array"),
    (r#"{"detail": {"slug": "some-pipeline"}}"#, "\"slug\" must be an object or an array"),
    (r#"{"a": ["ok"], "b": 1}"#, "\"b\" must be an object or an array"),
    (r#"{"a.b": "c"}"#, "\"a.b\" must be an object or an array"),
    // --- empty arrays and objects (spec 3) ---
    (r#"{"x": []}"#, "Empty arrays are not allowed"),
    (r#"{"a": {"b": []}}"#, "Empty arrays are not allowed"),
    (r#"{"x": {}}"#, "Empty objects are not allowed"),
    (r#"{"a": {"b": {}}}"#, "Empty objects are not allowed"),
    // --- leaf entries (spec 1.1, 3) ---
    (r#"{"x": [["a"]]}"#, MATCH_VALUE),
    (r#"{"x": ["a", []]}"#, MATCH_VALUE),
    // --- unknown and wrong-case operators (spec 3, 5.2: "Unrecognized match type NUMERIC, EXISTS") ---
    (r#"{"x": [{"foo": "bar"}]}"#, "Unrecognized match type foo"),
    (r#"{"x": [{"wrong-operator": true}]}"#, "Unrecognized match type wrong-operator"),
    (r#"{"x": [{"NUMERIC": [">", 1]}]}"#, "Unrecognized match type NUMERIC"),
    (r#"{"x": [{"EXISTS": true}]}"#, "Unrecognized match type EXISTS"),
    (r#"{"x": [{"Prefix": "a"}]}"#, "Unrecognized match type Prefix"),
    (r#"{"x": [{"SUFFIX": "a"}]}"#, "Unrecognized match type SUFFIX"),
    (r#"{"x": [{"Anything-But": "a"}]}"#, "Unrecognized match type Anything-But"),
    (r#"{"x": [{"Equals-Ignore-Case": "a"}]}"#, "Unrecognized match type Equals-Ignore-Case"),
    (r#"{"x": [{"WILDCARD": "a*"}]}"#, "Unrecognized match type WILDCARD"),
    (r#"{"x": [{"CIDR": "10.0.0.0/24"}]}"#, "Unrecognized match type CIDR"),
    // --- one key per match expression (spec 3) ---
    (r#"{"x": [{"prefix": "a", "suffix": "b"}]}"#, ONE_KEY),
    (r#"{"x": [{"exists": true, "prefix": "a"}]}"#, ONE_KEY),
    (r#"{"x": [{"exists": false, "prefix": "a"}]}"#, ONE_KEY),
    (r#"{"x": [{"equals-ignore-case": "a", "prefix": "b"}]}"#, ONE_KEY),
    (r#"{"x": [{"cidr": "10.0.0.0/24", "prefix": "b"}]}"#, ONE_KEY),
    // --- non-string operands (spec 3, 5.2) ---
    (r#"{"x": [{"prefix": 5}]}"#, "prefix match pattern must be a string"),
    (r#"{"x": [{"prefix": null}]}"#, "prefix match pattern must be a string"),
    (r#"{"x": [{"prefix": ["a"]}]}"#, "prefix match pattern must be a string"),
    (r#"{"x": [{"prefix": true}]}"#, "prefix match pattern must be a string"),
    (r#"{"x": [{"suffix": 100}]}"#, "suffix match pattern must be a string"),
    (r#"{"x": [{"suffix": null}]}"#, "suffix match pattern must be a string"),
    (r#"{"x": [{"suffix": []}]}"#, "suffix match pattern must be a string"),
    (r#"{"x": [{"suffix": ["test", "test2"]}]}"#, "suffix match pattern must be a string"),
    (r#"{"x": [{"wildcard": 5}]}"#, "wildcard match pattern must be a string"),
    (r#"{"x": [{"wildcard": null}]}"#, "wildcard match pattern must be a string"),
    (r#"{"x": [{"wildcard": ["a*"]}]}"#, "wildcard match pattern must be a string"),
    (r#"{"x": [{"equals-ignore-case": 5}]}"#, "equals-ignore-case match pattern must be a string"),
    (r#"{"x": [{"equals-ignore-case": ["a"]}]}"#, "equals-ignore-case match pattern must be a string"),
    (r#"{"x": [{"equals-ignore-case": null}]}"#, "equals-ignore-case match pattern must be a string"),
    (r#"{"x": [{"exactly": 5}]}"#, "exact match pattern must be a string"),
    // Texts read from event-ruler's compiler, where AWS's recording is silent.
    (r#"{"x": [{"prefix": {}}]}"#, "Prefix expression name not found"),
    (r#"{"x": [{"suffix": {}}]}"#, "Suffix expression name not found"),
    (r#"{"x": [{"prefix": {"foo": "a"}}]}"#, "Unsupported prefix pattern: foo"),
    (r#"{"x": [{"suffix": {"foo": "a"}}]}"#, "Unsupported suffix pattern: foo"),
    (r#"{"x": [{"anything-but": {}}]}"#, "Anything-But expression name not found"),
    (
        r#"{"x": [{"anything-but": []}]}"#,
        "Inside anything but list, either all values are number or string, mixed type is not supported",
    ),
    // cidr's non-string operand is reported with the prefix text (spec 5.2)
    (r#"{"x": [{"cidr": 5}]}"#, "prefix match pattern must be a string"),
    (r#"{"x": [{"cidr": null}]}"#, "prefix match pattern must be a string"),
    (r#"{"x": [{"cidr": ["10.0.0.0/24"]}]}"#, "prefix match pattern must be a string"),
    // --- numeric (spec 3, 5.2, SNS snapshots) ---
    (r#"{"x": [{"numeric": 5}]}"#, "Value of numeric must be an array."),
    (r#"{"x": [{"numeric": ">"}]}"#, "Value of numeric must be an array."),
    (r#"{"x": [{"numeric": []}]}"#, "Invalid member in numeric match: ]"),
    (r#"{"x": [{"numeric": [1, "<="]}]}"#, "Invalid member in numeric match: 1"),
    (r#"{"x": [{"numeric": ["!=", 5]}]}"#, "Unrecognized numeric range operator: !="),
    (r#"{"x": [{"numeric": ["operator"]}]}"#, "Unrecognized numeric range operator: operator"),
    (r#"{"x": [{"numeric": ["0"]}]}"#, "Unrecognized numeric range operator: 0"),
    (r#"{"x": [{"numeric": [">", "5"]}]}"#, "Value of > must be numeric"),
    (r#"{"x": [{"numeric": ["<", "100"]}]}"#, "Value of < must be numeric"),
    (r#"{"x": [{"numeric": ["=", "000"]}]}"#, "Value of equals must be numeric"),
    (r#"{"x": [{"numeric": [">="]}]}"#, "Value of >= must be numeric"),
    (r#"{"x": [{"numeric": ["<="]}]}"#, "Value of <= must be numeric"),
    (r#"{"x": [{"numeric": [">", null]}]}"#, "Value of > must be numeric"),
    (r#"{"x": [{"numeric": [">", 20, "<="]}]}"#, "Value of <= must be numeric"),
    (r#"{"x": [{"numeric": [">", 20, "<", "30"]}]}"#, "Value of < must be numeric"),
    (r#"{"x": [{"numeric": [">", "20", "<", "30"]}]}"#, "Value of > must be numeric"),
    (r#"{"x": [{"numeric": ["<", 5, ">", 1]}]}"#, "Too many elements in numeric expression"),
    (r#"{"x": [{"numeric": ["=", 5, "<", 6]}]}"#, "Too many elements in numeric expression"),
    (r#"{"x": [{"numeric": ["<=", 5, ">=", 1]}]}"#, "Too many elements in numeric expression"),
    (r#"{"x": [{"numeric": [">=", 1, ">", 2]}]}"#, "Bad numeric range operator: >"),
    (r#"{"x": [{"numeric": [">", 20, "test"]}]}"#, "Bad numeric range operator: test"),
    (r#"{"x": [{"numeric": [">", 20, 30]}]}"#, "Bad value in numeric range: 30"),
    (r#"{"x": [{"numeric": [">", 3, "<", 1]}]}"#, "Bottom must be less than top"),
    (r#"{"x": [{"numeric": [">", 3, "<=", 3]}]}"#, "Bottom must be less than top"),
    (r#"{"x": [{"numeric": [">=", 3, "<", 3]}]}"#, "Bottom must be less than top"),
    (r#"{"x": [{"numeric": [">", 1, "<", 5, "<", 6]}]}"#, "Too many terms in numeric range expression"),
    (r#"{"x": [{"numeric": [">", 20, "<", 30, "<", 50]}]}"#, "Too many terms in numeric range expression"),
    // numbers outside double, or not exactly representable (spec 3 table, probe)
    (r#"{"x": [{"numeric": [">", 1e400]}]}"#, "Cannot compare number : 1e400"),
    (r#"{"x": [{"numeric": ["=", 0.10000000000000000001]}]}"#, "Cannot compare number : 0.10000000000000000001"),
    // --- exists (spec 3, SNS snapshots) ---
    (r#"{"x": [{"exists": "yes"}]}"#, EXISTS),
    (r#"{"x": [{"exists": null}]}"#, EXISTS),
    (r#"{"x": [{"exists": 1}]}"#, EXISTS),
    (r#"{"x": [{"exists": "true"}]}"#, EXISTS),
    (r#"{"x": [{"exists": [true]}]}"#, EXISTS),
    // --- anything-but: value and list forms (spec 3, 5.2) ---
    (r#"{"x": [{"anything-but": ["a", 1]}]}"#, AB_MIXED),
    (r#"{"x": [{"anything-but": [1, "a"]}]}"#, AB_MIXED),
    // The mix is judged once the whole list is read: a null or boolean after it comes first.
    (r#"{"x": [{"anything-but": ["a", 1, null]}]}"#, AB_LIST),
    (r#"{"x": [{"anything-but": [1, "a", true]}]}"#, AB_LIST),
    (r#"{"x": [{"anything-but": [null]}]}"#, AB_LIST),
    (r#"{"x": [{"anything-but": [true]}]}"#, AB_LIST),
    (r#"{"x": [{"anything-but": ["a", false]}]}"#, AB_LIST),
    (r#"{"x": [{"anything-but": [["a"]]}]}"#, AB_LIST),
    (r#"{"x": [{"anything-but": true}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": null}]}"#, AB_VALUE),
    // --- anything-but: operator forms ("Rules recorded against AWS", spec 3, 5.2) ---
    (r#"{"x": [{"anything-but": {"numeric": [">", 1]}}]}"#, "Unsupported anything-but pattern: numeric"),
    (r#"{"x": [{"anything-but": {"foo": "a"}}]}"#, "Unsupported anything-but pattern: foo"),
    (r#"{"x": [{"anything-but": {"exists": true}}]}"#, "Unsupported anything-but pattern: exists"),
    (r#"{"x": [{"anything-but": {"prefix": [null]}}]}"#, AB_PS),
    (r#"{"x": [{"anything-but": {"prefix": 5}}]}"#, AB_PS),
    // event-ruler checks the operand's kind (array, string or number) before the operation looks
    // at it, so a single object, boolean or null gets anything-but's own reason.
    (r#"{"x": [{"anything-but": {"prefix": false}}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": {"prefix": null}}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": {"prefix": {"equals-ignore-case": "a"}}}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": {"suffix": {"equals-ignore-case": "a"}}}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": {"suffix": {}}}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": {"suffix": null}}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": {"wildcard": true}}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": {"equals-ignore-case": null}}]}"#, AB_VALUE),
    (r#"{"x": [{"anything-but": {"prefix": [{"equals-ignore-case": "a"}]}}]}"#, AB_PS),
    (r#"{"x": [{"anything-but": {"suffix": [[".png"]]}}]}"#, AB_PS),
    (r#"{"x": [{"anything-but": {"suffix": 1.5}}]}"#, AB_PS),
    (r#"{"x": [{"anything-but": {"suffix": [""]}}]}"#, "Null prefix/suffix not allowed"),
    // Two problems: the operand is read before the second key is seen.
    (r#"{"x": [{"anything-but": {"prefix": 5, "suffix": "a"}}]}"#, AB_PS),
    (r#"{"x": [{"anything-but": {"foo": 5, "prefix": "a"}}]}"#, "Unsupported anything-but pattern: foo"),
    // A second key after a complete numeric or anything-but expression: event-ruler's numeric text.
    (r#"{"x": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}"#, "Too many elements in numeric expression"),
    (r#"{"x": [{"anything-but": "a", "prefix": "b"}]}"#, "Too many elements in numeric expression"),
    (r#"{"x": [{"numeric": [">", 1], "prefix": "b"}]}"#, "Too many elements in numeric expression"),
    (r#"{"x": [{"numeric": [">", "1"], "prefix": "b"}]}"#, "Value of > must be numeric"),
    (r#"{"x": [{"prefix": "a", "suffix": "b"}]}"#, ONE_KEY),
    (r#"{"x": [{"anything-but": {"prefix": ["a", 1]}}]}"#, AB_PS),
    (r#"{"x": [{"anything-but": {"suffix": 5}}]}"#, AB_PS),
    (r#"{"x": [{"anything-but": {"suffix": ["a", true]}}]}"#, AB_PS),
    (r#"{"x": [{"anything-but": {"prefix": ""}}]}"#, "Null prefix/suffix not allowed"),
    (r#"{"x": [{"anything-but": {"suffix": ""}}]}"#, "Null prefix/suffix not allowed"),
    (r#"{"x": [{"anything-but": {"prefix": ["a", ""]}}]}"#, "Null prefix/suffix not allowed"),
    (r#"{"x": [{"anything-but": {"equals-ignore-case": 5}}]}"#, AB_EIC),
    (r#"{"x": [{"anything-but": {"equals-ignore-case": ["a", 5]}}]}"#, AB_EIC),
    (r#"{"x": [{"anything-but": {"equals-ignore-case": [null]}}]}"#, AB_EIC),
    (r#"{"x": [{"anything-but": {"wildcard": 5}}]}"#, "wildcard match pattern must be a string"),
    (r#"{"x": [{"anything-but": {"wildcard": "a**"}}]}"#, "Consecutive wildcard characters at pos 2"),
    // --- wildcard syntax and positions (spec 1.2, 3, 5.2; event-ruler WildcardParser) ---
    (r#"{"x": [{"wildcard": "a**b"}]}"#, "Consecutive wildcard characters at pos 2"),
    (r#"{"x": [{"wildcard": "**"}]}"#, "Consecutive wildcard characters at pos 1"),
    (r#"{"x": [{"wildcard": "abc**def"}]}"#, "Consecutive wildcard characters at pos 4"),
    (r#"{"x": [{"wildcard": "a*b*c**"}]}"#, "Consecutive wildcard characters at pos 6"),
    // an escaped star, then two wildcards: the second of them is at byte 4 (+1)
    (r#"{"x": [{"wildcard": "a\\***"}]}"#, "Consecutive wildcard characters at pos 4"),
    // positions count UTF-8 bytes: "é" is two bytes
    (r#"{"x": [{"wildcard": "é**"}]}"#, "Consecutive wildcard characters at pos 3"),
    // JSON "a\\b" is a, backslash, b
    (r#"{"x": [{"wildcard": "a\\b"}]}"#, "Invalid escape character at pos 2"),
    (r#"{"x": [{"wildcard": "\\x"}]}"#, "Invalid escape character at pos 1"),
    (r#"{"x": [{"wildcard": "ab*\\c"}]}"#, "Invalid escape character at pos 4"),
    // a trailing backslash escapes nothing (the quote event-ruler appends)
    (r#"{"x": [{"wildcard": "a\\"}]}"#, "Invalid escape character at pos 2"),
    // --- $or (spec 1.1, 3) ---
    (r#"{"$or": [{"a": [1]}]}"#, "There must have at least 2 Objects in $or relationship."),
    (r#"{"detail": {"$or": [{"a": [1]}]}}"#, "There must have at least 2 Objects in $or relationship."),
    (
        r#"{"$or": [{"numeric": 123}, {"b": [1]}]}"#,
        "numeric is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    (
        r#"{"$or": [{"a": [1]}, {"prefix": ["x"]}]}"#,
        "prefix is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    (
        r#"{"$or": [{"a": [1]}, {"anything-but": ["x"]}]}"#,
        "anything-but is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    (
        r#"{"$or": [{"exists": [1]}, {"b": [1]}]}"#,
        "exists is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    (r#"{"$or": [{">=": [1]}, {"b": [1]}]}"#, ">= is Ruler reserved fieldName which cannot be used inside $or."),
    (r#"{"$or": [{"regex": [1]}, {"b": [1]}]}"#, "regex is Ruler reserved fieldName which cannot be used inside $or."),
    (
        r#"{"$or": [{"a": [1]}, {"ip-address-in-range": [1]}]}"#,
        "ip-address-in-range is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    // --- JSON syntax: Jackson's own message, nothing in front (spec 3, 5.2) ---
    (r#"{"x": [1,}"#, "Unexpected character ('}' (code 125)): expected a value"),
    ("{'source': ['a']}", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
    (r#"{invalid: ["a"]}"#, "Unexpected character ('i' (code 105)): was expecting double-quote to start field name"),
    (r#"{"a" [1]}"#, "Unexpected character ('[' (code 91)): was expecting a colon to separate field name and value"),
    (r#"{"a": [1 2]}"#, "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"),
    (r#"{"a": [1] "b": [2]}"#, "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"),
    (r#"{"a": ["\q"]}"#, "Unrecognized character escape 'q' (code 113)"),
    (r#"{"a": [01]}"#, "Invalid numeric value: Leading zeroes not allowed"),
];

/// JSON syntax reasons whose tail carries Jackson's own location, so only their start is fixed.
const EB_SYNTAX_PREFIXES: &[(&str, &str)] = &[
    (r#"{"x": [1]"#, "Unexpected end-of-input"),
    (r#"{"x": ["#, "Unexpected end-of-input"),
    (r#"{"x": ["abc"#, "Unexpected end-of-input"),
    (r#"{"a": [NaN]}"#, "Non-standard token 'NaN'"),
];

/// CIDR reasons are IllegalArgumentExceptions: no location suffix (spec 5.2), whole message fixed.
const EB_CIDR_CASES: &[(&str, &str)] = &[
    (r#"{"x": [{"cidr": "hello"}]}"#, "Malformed CIDR, one '/' required"),
    (r#"{"x": [{"cidr": "10.0.0.0/8/8"}]}"#, "Malformed CIDR, one '/' required"),
    (r#"{"x": [{"cidr": "10.0.0.0"}]}"#, "Malformed CIDR, one '/' required"),
    (r#"{"x": [{"cidr": "2001:db8::1"}]}"#, "Malformed CIDR, one '/' required"),
    (r#"{"x": [{"cidr": "10.0.0.0/ab"}]}"#, "Malformed CIDR, mask bits must be an integer"),
    (r#"{"x": [{"cidr": "10.0.0.0/2.5"}]}"#, "Malformed CIDR, mask bits must be an integer"),
    // event-ruler's CIDR parser: Java's split, a Java int, and no full-length masks.
    (r#"{"x": [{"cidr": "10.0.0.0/"}]}"#, "Malformed CIDR, one '/' required"),
    (r#"{"x": [{"cidr": "10.0.0.0/99999999999"}]}"#, "Malformed CIDR, mask bits must be an integer"),
    (r#"{"x": [{"cidr": "10.0.0.0/-1"}]}"#, "Malformed CIDR, mask bits must not be negative"),
    (r#"{"x": [{"cidr": "10.0.0.0/32"}]}"#, "IPv4 mask bits must be < 32"),
    (r#"{"x": [{"cidr": "2001:db8::/128"}]}"#, "IPv6 mask bits must be < 128"),
    (r#"{"x": [{"cidr": "xx.11.xx/24"}]}"#, "Nonstandard IP address: xx.11.xx"),
    (r#"{"x": [{"cidr": "hello/24"}]}"#, "Nonstandard IP address: hello"),
    (r#"{"x": [{"cidr": "10.0.0.0/99"}]}"#, "IPv4 mask bits must be < 32"),
];

/// (policy text, reason) under either SNS scope (tests/test_filter_policy.py ERROR_CASES).
const SNS_CASES: &[(&str, &str)] = &[
    (r#"{"key":[["value"]]}"#, MATCH_VALUE),
    (r#"{"key": [{"wrong-operator": true}]}"#, "Unrecognized match type wrong-operator"),
    (r#"{"key": [{"suffix": "value", "prefix": "value2"}]}"#, ONE_KEY),
    (r#"{"key": [{"suffix": 100}]}"#, "suffix match pattern must be a string"),
    (r#"{"key": [{"suffix": null}]}"#, "suffix match pattern must be a string"),
    (r#"{"key": [{"suffix": []}]}"#, "suffix match pattern must be a string"),
    (r#"{"key": [{"suffix": ["test", "test2"]}]}"#, "suffix match pattern must be a string"),
    (r#"{"key": [{"prefix": 5}]}"#, "prefix match pattern must be a string"),
    (r#"{"key":{"suffix":"value"}}"#, "\"suffix\" must be an object or an array"),
    (r#"{"key":{"suffix":"value","prefix":"value"}}"#, "\"suffix\" must be an object or an array"),
    (r#"{"key":{"not-an-operator":"value"}}"#, "\"not-an-operator\" must be an object or an array"),
    (r#"{"key_a":"value_one"}"#, "\"key_a\" must be an object or an array"),
    (r#"{"Amount":[]}"#, "Empty arrays are not allowed"),
    ("[1,2]", "Filter is not an object"),
    (r#"{"key": [{"numeric": []}]}"#, "Invalid member in numeric match: ]"),
    (r#"{"key": [{"numeric": ["operator"]}]}"#, "Unrecognized numeric range operator: operator"),
    (r#"{"key": [{"numeric": [1, "<="]}]}"#, "Invalid member in numeric match: 1"),
    (r#"{"key": [{"numeric": ["=", "000"]}]}"#, "Value of equals must be numeric"),
    (r#"{"key": [{"numeric": [">="]}]}"#, "Value of >= must be numeric"),
    (r#"{"key": [{"numeric": ["<", 100, ">", 10]}]}"#, "Too many elements in numeric expression"),
    (r#"{"key": [{"numeric": [">=", 1, ">", 2]}]}"#, "Bad numeric range operator: >"),
    (r#"{"key": [{"numeric": [">", 3, "<", 1]}]}"#, "Bottom must be less than top"),
    (r#"{"key": [{"numeric": [">", 20, "<="]}]}"#, "Value of <= must be numeric"),
    (r#"{"key": [{"numeric": [">", 20, 30]}]}"#, "Bad value in numeric range: 30"),
    (r#"{"key": [{"numeric": [">", 20, "test"]}]}"#, "Bad numeric range operator: test"),
    (r#"{"key": [{"numeric": [">", "20", "<", "30"]}]}"#, "Value of > must be numeric"),
    (r#"{"key": [{"numeric": [">", 20, "<", "30"]}]}"#, "Value of < must be numeric"),
    (r#"{"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]}"#, "Too many terms in numeric range expression"),
    (r#"{"key": [{"exists": null}]}"#, EXISTS),
    (r#"{"key": [{"exists": "no"}]}"#, EXISTS),
    // SNS-only: anything-but accepts fewer operators than EventBridge (spec 5.3, "Rules recorded")
    (r#"{"key": [{"anything-but": {"wrong-operator": null}}]}"#, "Unsupported anything-but pattern: wrong-operator"),
    (r#"{"key": [{"anything-but": {"suffix": "test"}}]}"#, "Unsupported anything-but pattern: suffix"),
    (r#"{"key": [{"anything-but": {"exists": false}}]}"#, "Unsupported anything-but pattern: exists"),
    (r#"{"key": [{"anything-but": {"prefix": false}}]}"#, "prefix match pattern must be a string"),
    (r#"{"key": [{"anything-but": {"prefix": 5}}]}"#, "prefix match pattern must be a string"),
    // CIDR
    (r#"{"key": [{"cidr": "hello"}]}"#, "Malformed CIDR, one '/' required"),
    (r#"{"key": [{"cidr": "10.0.0.0/ab"}]}"#, "Malformed CIDR, mask bits must be an integer"),
    (r#"{"key": [{"cidr": "xx.11.xx/24"}]}"#, "Nonstandard IP address: xx.11.xx"),
    (r#"{"key": [{"cidr": 5}]}"#, "prefix match pattern must be a string"),
    // JSON syntax: "failed to parse JSON. " + Jackson's message (spec "Rules recorded", 5.3)
    (
        r#"{invalid: ["a"]}"#,
        "failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field name",
    ),
    (r#"{"key": [1,}"#, "failed to parse JSON. Unexpected character ('}' (code 125)): expected a value"),
    (
        "this",
        "failed to parse JSON. Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
    ),
    (
        "{'key': ['a']}",
        "failed to parse JSON. Unexpected character (''' (code 39)): was expecting double-quote to start field name",
    ),
];

/// Runs `new` on each case and returns a description of every case whose error is not the one
/// expected (so that one run reports all mismatches, not only the first).
fn mismatches(
    cases: &[(&str, &str)],
    new: impl Fn(&str) -> Result<(), Error>,
    head: &str,
    dialect: Dialect,
    exact_message: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    for &(text, reason) in cases {
        match new(text) {
            Ok(()) => failures.push(format!("{text}\n    expected reason {reason:?}\n    got Ok")),
            Err(err) => {
                let got_dialect = match &err {
                    Error::InvalidPattern { dialect, .. } => Some(*dialect),
                    _ => None,
                };
                let message = err.message();
                let expected_message = format!("{head}{reason}");
                let message_ok = if exact_message {
                    message == expected_message
                } else {
                    message == expected_message || message.starts_with(&format!("{expected_message}\n at [Source: "))
                };
                if err.reason() != reason || !message_ok || got_dialect != Some(dialect) {
                    failures.push(format!(
                        "{text}\n    expected reason {reason:?}\n    got      reason {:?}\n    message {message:?}\n    error {err:?}",
                        err.reason()
                    ));
                }
            }
        }
    }
    failures
}

fn assert_none(failures: &[String]) {
    assert!(failures.is_empty(), "{} case(s) disagree:\n{}", failures.len(), failures.join("\n"));
}

fn eb(text: &str) -> Result<(), Error> {
    Pattern::new(text.as_bytes()).map(drop)
}

fn sns(scope: Scope) -> impl Fn(&str) -> Result<(), Error> {
    move |text| FilterPolicy::new(text.as_bytes(), scope).map(drop)
}

fn eb_error(text: &str) -> Error {
    match Pattern::new(text.as_bytes()) {
        Ok(_) => panic!("expected {text} to be refused"),
        Err(e) => e,
    }
}

fn sns_error(text: &str, scope: Scope) -> Error {
    match FilterPolicy::new(text.as_bytes(), scope) {
        Ok(_) => panic!("expected {text} to be refused under {scope:?}"),
        Err(e) => e,
    }
}

// -------------------------------------------------------------------------------------------------
// EventBridge
// -------------------------------------------------------------------------------------------------

#[test]
fn eventbridge_reasons() {
    assert_none(&mismatches(EB_CASES, eb, EB, Dialect::EventBridge, false));
}

#[test]
fn eventbridge_bare_word_is_an_unrecognized_token() {
    let reason = format!("Unrecognized token 'this': {UNRECOGNIZED_TOKEN}");
    assert_none(&mismatches(&[("this", reason.as_str())], eb, EB, Dialect::EventBridge, false));
}

#[test]
fn eventbridge_syntax_errors_with_jackson_locations() {
    let mut failures = Vec::new();
    for &(text, start) in EB_SYNTAX_PREFIXES {
        let err = eb_error(text);
        if !err.reason().starts_with(start) || !err.message().starts_with(&format!("{EB}{start}")) {
            failures.push(format!("{text}\n    expected a reason starting {start:?}\n    got {:?}", err.reason()));
        }
    }
    assert_none(&failures);
}

#[test]
fn eventbridge_cidr_reasons_have_no_location() {
    assert_none(&mismatches(EB_CIDR_CASES, eb, EB, Dialect::EventBridge, true));
}

#[test]
fn eventbridge_location_suffix_shape() {
    // Parser-raised reasons may carry Jackson's location; if they do, it has Jackson's shape
    // (spec 5.2: "\n at [Source: (String)\"<pattern text>\"; line: 1, column: <n>]").
    let text = r#"{"x": "a"}"#;
    let message = eb_error(text).message();
    let mut lines = message.split('\n');
    assert_eq!(lines.next(), Some("Event pattern is not valid. Reason: \"x\" must be an object or an array"));
    if let Some(location) = lines.next() {
        assert!(location.starts_with(&format!(" at [Source: (String)\"{text}\"; line: 1, column: ")), "{location:?}");
        assert!(location.ends_with(']'), "{location:?}");
    }
}

#[test]
fn eventbridge_errors_are_invalid_pattern() {
    for text in ["[1,2]", r#"{"x": [1,}"#, r#"{"x": [{"cidr": "hello"}]}"#] {
        let err = eb_error(text);
        assert!(matches!(err, Error::InvalidPattern { dialect: Dialect::EventBridge, .. }), "{text}: {err:?}");
        assert_eq!(err.to_string(), err.message());
    }
}

/// Patterns EventBridge accepts (spec "Rules recorded against AWS", 1.2): the validator must not be
/// stricter than AWS.
const EB_VALID: &[&str] = &[
    r#"{"x": [{"prefix": ""}]}"#,
    r#"{"x": [{"suffix": ""}]}"#,
    r#"{"x": [{"equals-ignore-case": ""}]}"#,
    r#"{"x": [{"wildcard": ""}]}"#,
    r#"{"x": [{"anything-but": {"wildcard": ""}}]}"#,
    r#"{"x": [{"anything-but": {"wildcard": ["a*", "*b"]}}]}"#,
    r#"{"x": [{"anything-but": {"prefix": ["a", "b"]}}]}"#,
    r#"{"x": [{"anything-but": {"suffix": ".png"}}]}"#,
    r#"{"x": [{"anything-but": {"suffix": [".png", ".jpg"]}}]}"#,
    r#"{"x": [{"anything-but": {"equals-ignore-case": "a"}}]}"#,
    r#"{"x": [{"anything-but": {"equals-ignore-case": ["a", "B"]}}]}"#,
    r#"{"x": [{"anything-but": 5}]}"#,
    r#"{"x": [{"anything-but": [1, 2.5]}]}"#,
    r#"{"x": [{"anything-but": "a"}]}"#,
    r#"{"x": [{"anything-but": ["a", "b"]}]}"#,
    r#"{"x": [{"prefix": {"equals-ignore-case": "EventB"}}]}"#,
    r#"{"x": [{"suffix": {"equals-ignore-case": ".png"}}]}"#,
    r#"{"x": [{"exactly": "a"}]}"#,
    r#"{"x": [{"wildcard": "a\\*b\\\\c*"}]}"#,
    r#"{"x": [{"wildcard": "a\\**"}]}"#,
    r#"{"x": [{"numeric": [">", 0, "<=", 5]}]}"#,
    r#"{"x": [{"numeric": [">", 1e308]}]}"#,
    r#"{"x": [{"numeric": ["=", 3.018e2]}]}"#,
    r#"{"x": [{"numeric": ["<", -1e308]}]}"#,
    r#"{"x": [{"exists": true}]}"#,
    r#"{"x": [{"exists": false}]}"#,
    r#"{"x": [{"anything-but": ["roses"]}, {"exists": false}]}"#,
    r#"{"x": [{"cidr": "10.0.0.0/24"}]}"#,
    r#"{"x": [{"cidr": "2001:db8::/32"}]}"#,
    r#"{"x": [null, true, false, 1, "s", ""]}"#,
    r#"{"x": [123456789012345678901]}"#,
    r#"{"$or": [{"a": [1]}, {"b": [2]}]}"#,
    r#"{"detail": {"$or": [{"a": [1]}, {"b": [{"prefix": "x"}]}]}, "source": ["s"]}"#,
    r#"{"$or": ["not", "objects"]}"#,
    r#"{"a.b": ["c"]}"#,
    r#"{"x": ["1"], "x": ["2"]}"#,
];

#[test]
fn eventbridge_valid_patterns_compile() {
    let failures: Vec<String> = EB_VALID
        .iter()
        .filter_map(|text| Pattern::new(text.as_bytes()).err().map(|e| format!("{text}\n    got {e:?}")))
        .collect();
    assert_none(&failures);
}

#[test]
fn eventbridge_pattern_length_limit() {
    // The API caps EventPattern at 4096 characters (spec 5.1); the text past it is not recorded.
    let (head, tail) = (r#"{"a": [""#, r#""]}"#);
    let at_limit = format!("{head}{}{tail}", "x".repeat(4096 - head.len() - tail.len()));
    assert_eq!(at_limit.chars().count(), 4096);
    Pattern::new(at_limit.as_bytes()).expect("4096 characters are allowed");
    let over = format!("{head}{}{tail}", "x".repeat(4097 - head.len() - tail.len()));
    let err = Pattern::new(over.as_bytes()).expect_err("4097 characters are too many");
    assert!(matches!(err, Error::InvalidPattern { dialect: Dialect::EventBridge, .. }), "{err:?}");
    // Characters, not bytes: 4096 two-byte characters are still 4096 characters.
    let wide = format!("{head}{}{tail}", "é".repeat(4096 - head.len() - tail.len()));
    Pattern::new(wide.as_bytes()).expect("4096 characters (more bytes) are allowed");
}

fn or_product(groups: usize, branches: usize) -> String {
    let groups: Vec<String> = (0..groups)
        .map(|g| {
            let items: Vec<String> = (0..branches).map(|b| format!(r#"{{"f{b}": [{b}]}}"#)).collect();
            format!(r#""g{g}": {{"$or": [{}]}}"#, items.join(", "))
        })
        .collect();
    format!("{{{}}}", groups.join(", "))
}

#[test]
fn eventbridge_or_combination_limit() {
    Pattern::new(or_product(3, 10).as_bytes()).expect("1000 $or combinations are allowed");
    let err = Pattern::new(or_product(10, 2).as_bytes()).expect_err("1024 $or combinations are too many");
    assert!(matches!(err, Error::InvalidPattern { dialect: Dialect::EventBridge, .. }), "{err:?}");
}

// -------------------------------------------------------------------------------------------------
// TestEventPattern's envelope (spec "Rules recorded against AWS", 5.1)
// -------------------------------------------------------------------------------------------------

const ENVELOPE_PATTERN: &str = r#"{"source": ["com.shop"], "detail": {"amount": [{"numeric": [">", 100]}]}}"#;
const ENVELOPE_FIELDS: [(&str, &str); 9] = [
    ("version", r#""0""#),
    ("id", r#""6a7e8feb-b491-4cf7-a9f1-bf3703467718""#),
    ("detail-type", r#""Order Placed""#),
    ("source", r#""com.shop""#),
    ("account", r#""111122223333""#),
    ("time", r#""2017-12-22T18:43:48Z""#),
    ("region", r#""us-west-1""#),
    ("resources", "[]"),
    ("detail", r#"{"amount": 120}"#),
];

fn envelope(skip: &str, replace: &[(&str, &str)]) -> String {
    let fields: Vec<String> = ENVELOPE_FIELDS
        .iter()
        .filter(|(k, _)| *k != skip)
        .map(|(k, v)| {
            let v = replace.iter().find(|(r, _)| r == k).map_or(*v, |(_, v)| *v);
            format!("\"{k}\": {v}")
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

#[test]
fn test_event_pattern_envelope() {
    use rulebus_core::test_event_pattern;
    let invalid = "Parameter Event is not valid.";
    assert_eq!(test_event_pattern(ENVELOPE_PATTERN.as_bytes(), envelope("", &[]).as_bytes()), Ok(true));
    let low = envelope("", &[("detail", r#"{"amount": 99}"#)]);
    assert_eq!(test_event_pattern(ENVELOPE_PATTERN.as_bytes(), low.as_bytes()), Ok(false));
    // resources is not required; field types are not checked
    assert_eq!(test_event_pattern(ENVELOPE_PATTERN.as_bytes(), envelope("resources", &[]).as_bytes()), Ok(true));
    let odd = envelope("", &[("id", "123"), ("time", r#""not a time""#), ("region", "true"), ("account", "5")]);
    assert_eq!(test_event_pattern(ENVELOPE_PATTERN.as_bytes(), odd.as_bytes()), Ok(true));
    let mut failures = Vec::new();
    let mut bad: Vec<String> =
        ["id", "account", "source", "time", "region", "detail-type"].iter().map(|field| envelope(field, &[])).collect();
    bad.extend(
        ["not json at all", r#"{"id": "#, "[]", r#""a string""#, "123", "null", "true", "{}"].map(str::to_owned),
    );
    bad.push(format!("[{}]", envelope("", &[])));
    for event in &bad {
        match test_event_pattern(ENVELOPE_PATTERN.as_bytes(), event.as_bytes()) {
            Err(e @ Error::InvalidEvent { .. }) if e.message() == invalid => {}
            other => failures.push(format!("{event}\n    expected {invalid:?}\n    got {other:?}")),
        }
    }
    assert_none(&failures);
    // the pattern is still validated first
    let err = test_event_pattern(br#"{"source": "com.shop"}"#, envelope("", &[]).as_bytes()).unwrap_err();
    assert_eq!(err.reason(), "\"source\" must be an object or an array");
}

// -------------------------------------------------------------------------------------------------
// SNS
// -------------------------------------------------------------------------------------------------

#[test]
fn sns_reasons_message_attributes_scope() {
    assert_none(&mismatches(SNS_CASES, sns(Scope::MessageAttributes), SNS, Dialect::Sns, false));
}

#[test]
fn sns_reasons_message_body_scope() {
    assert_none(&mismatches(SNS_CASES, sns(Scope::MessageBody), SNS, Dialect::Sns, false));
}

#[test]
fn sns_json_syntax_errors_are_prefixed() {
    for scope in [Scope::MessageAttributes, Scope::MessageBody] {
        for text in [r#"{"key": [1"#, r#"{"key": "#, "{'a': 1}", r#"{"a": [1] "b": [2]}"#] {
            let err = sns_error(text, scope);
            assert!(err.reason().starts_with(SNS_PARSE), "{text} under {scope:?}: {err:?}");
            assert!(err.message().starts_with(&format!("{SNS}{SNS_PARSE}")), "{text}: {:?}", err.message());
        }
    }
}

#[test]
fn sns_errors_are_invalid_pattern_with_sns_dialect() {
    let err = sns_error(r#"{"key": []}"#, Scope::MessageAttributes);
    assert!(matches!(err, Error::InvalidPattern { dialect: Dialect::Sns, .. }), "{err:?}");
    assert_eq!(err.to_string(), err.message());
}

#[test]
fn sns_anything_but_forms_sns_accepts() {
    for scope in [Scope::MessageAttributes, Scope::MessageBody] {
        for text in [
            r#"{"key": [{"anything-but": {"prefix": "test-"}}]}"#,
            r#"{"key": [{"anything-but": ["test", "test2"]}]}"#,
            r#"{"key": [{"anything-but": "test"}]}"#,
            r#"{"key": [{"anything-but": [100, 500]}]}"#,
        ] {
            if let Err(e) = FilterPolicy::new(text.as_bytes(), scope) {
                panic!("{text} under {scope:?}: {e:?}");
            }
        }
    }
    // EventBridge-only form
    Pattern::new(br#"{"key": [{"anything-but": {"suffix": "test"}}]}"#)
        .expect("EventBridge accepts anything-but suffix");
}

// --- scope errors: whole messages (spec 5.3) ---

#[test]
fn sns_bad_scope_is_a_whole_message() {
    let err = Scope::parse("RandomValue").expect_err("not a scope");
    assert!(matches!(err, Error::InvalidPolicyParameter { .. }), "{err:?}");
    assert_eq!(err.message(), BAD_SCOPE_ERROR);
    assert_eq!(err.to_string(), BAD_SCOPE_ERROR);
    assert_eq!(Scope::parse("MessageBody"), Ok(Scope::MessageBody));
    assert_eq!(Scope::parse("MessageAttributes"), Ok(Scope::MessageAttributes));
    // scope names are case-sensitive
    assert!(Scope::parse("messagebody").is_err());
}

#[test]
fn sns_nested_policy_needs_message_body() {
    for nested in [
        r#"{"object": {"key": [{"prefix": "auto-"}]}}"#,
        r#"{"a": ["x"], "b": {"c": ["y"]}}"#,
        r#"{"$or": [{"a": ["x"]}, {"b": {"c": ["y"]}}]}"#,
    ] {
        let err = sns_error(nested, Scope::MessageAttributes);
        assert!(matches!(err, Error::InvalidPolicyParameter { .. }), "{nested}: {err:?}");
        assert_eq!(err.message(), NESTED_SCOPE_ERROR, "{nested}");
        FilterPolicy::new(nested.as_bytes(), Scope::MessageBody).expect("nested policies are fine on the body");
    }
}

#[test]
fn sns_structure_check_runs_before_scope_check() {
    // "Rules recorded against AWS": the first scalar-valued key is reported, operator names included
    let err = sns_error(r#"{"key": {"suffix": "v"}}"#, Scope::MessageAttributes);
    assert_eq!(err.reason(), "\"suffix\" must be an object or an array");
    assert!(err.message().starts_with(&format!("{SNS}\"suffix\" must be an object or an array")));
    let err = sns_error(r#"{"key": {"inner": ["ok"], "bad": 1}}"#, Scope::MessageAttributes);
    assert_eq!(err.reason(), "\"bad\" must be an object or an array");
}

// --- limits: 5 top-level keys; 150 combinations (spec "SNS complexity (the 150 limit)") ---

const TOO_MANY_KEYS: &str = "Filter policy can not have more than 5 keys";
const TOO_COMPLEX: &str = "Filter policy is too complex";

fn values(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| format!("\"v{i}\"")).collect();
    format!("[{}]", items.join(", "))
}

fn numbers(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

fn limit_error(policy: &str, scope: Scope, reason: &str) -> Option<String> {
    match FilterPolicy::new(policy.as_bytes(), scope) {
        Ok(_) => Some(format!("{policy} under {scope:?}\n    expected {reason:?}\n    got Ok")),
        Err(err) if err.reason() == reason && err.message() == format!("{SNS}{reason}") => None,
        Err(err) => Some(format!("{policy} under {scope:?}\n    expected {reason:?}\n    got {err:?}")),
    }
}

#[test]
fn sns_five_keys() {
    let ok = r#"{"key_a": ["a"], "key_b": ["b"], "key_c": ["c"], "key_d": ["d"], "key_e": ["e"]}"#;
    let six = r#"{"key_a": ["a"], "key_b": ["b"], "key_c": ["c"], "key_d": ["d"], "key_e": ["e"], "key_f": ["f"]}"#;
    let mut failures = Vec::new();
    for scope in [Scope::MessageAttributes, Scope::MessageBody] {
        if let Err(e) = FilterPolicy::new(ok.as_bytes(), scope) {
            failures.push(format!("5 keys under {scope:?}: {e:?}"));
        }
        failures.extend(limit_error(six, scope, TOO_MANY_KEYS));
    }
    // only top-level keys count: 5 top-level keys, 6 leaves
    let nested = r#"{"a": {"x": [1], "y": [2]}, "b": [1], "c": [1], "d": [1], "e": [1]}"#;
    if let Err(e) = FilterPolicy::new(nested.as_bytes(), Scope::MessageBody) {
        failures.push(format!("{nested}: {e:?}"));
    }
    assert_none(&failures);
}

#[test]
fn sns_complexity_limit_both_sides() {
    // (scope, policy, total per the spec's formula)
    let cases: Vec<(Scope, String, usize)> = vec![
        (Scope::MessageAttributes, format!(r#"{{"key": {}}}"#, values(150)), 150),
        (Scope::MessageAttributes, format!(r#"{{"key": {}}}"#, values(151)), 151),
        (Scope::MessageAttributes, format!(r#"{{"n": {}}}"#, numbers(150)), 150),
        (Scope::MessageAttributes, format!(r#"{{"n": {}}}"#, numbers(151)), 151),
        (Scope::MessageAttributes, format!(r#"{{"k1": {}, "k2": {}}}"#, values(10), values(15)), 150),
        (Scope::MessageAttributes, format!(r#"{{"k1": {}, "k2": {}}}"#, values(10), values(16)), 160),
        (Scope::MessageAttributes, format!(r#"{{"key1": {}, "key2": {}}}"#, values(100), values(51)), 5100),
        (Scope::MessageBody, format!(r#"{{"key": {}}}"#, values(150)), 150),
        (Scope::MessageBody, format!(r#"{{"key": {}}}"#, values(151)), 151),
        // depth multiplies: a leaf two levels down counts 2 x its values
        (Scope::MessageBody, format!(r#"{{"a": {{"b": {}}}}}"#, values(75)), 150),
        (Scope::MessageBody, format!(r#"{{"a": {{"b": {}}}}}"#, values(76)), 152),
        (Scope::MessageBody, format!(r#"{{"a": {{"b": {{"c": {}}}}}}}"#, values(50)), 150),
        (Scope::MessageBody, format!(r#"{{"a": {{"b": {{"c": {}}}}}}}"#, values(51)), 153),
        (
            Scope::MessageBody,
            format!(
                r#"{{"key_a": {{"key_b": {{"key_c": {}}}}}, "key_d": {{"key_e": {}}}, "key_f": {}}}"#,
                values(4),
                values(3),
                values(3)
            ),
            216,
        ),
        // $or branches add
        (Scope::MessageAttributes, format!(r#"{{"$or": [{{"a": {}}}, {{"b": {}}}]}}"#, values(75), values(75)), 150),
        (Scope::MessageAttributes, format!(r#"{{"$or": [{{"a": {}}}, {{"b": {}}}]}}"#, values(75), values(76)), 151),
        // accepted: 3x6 + 3x4x4 + 3x4x7
        (
            Scope::MessageAttributes,
            format!(
                r#"{{"source": {}, "$or": [{{"metricName": {}}}, {{"metricType": {}, "$or": [{{"metricId": [1234, 4321, 5678, 9012]}}, {{"spaceId": {}}}]}}]}}"#,
                values(3),
                values(6),
                values(4),
                values(7)
            ),
            150,
        ),
        // rejected: 4x6 + 4x4x4 + 4x4x4
        (
            Scope::MessageAttributes,
            format!(
                r#"{{"source": {}, "$or": [{{"metricName": {}}}, {{"metricType": {}, "$or": [{{"metricId": [1234, 4321, 5678, 9012]}}, {{"spaceId": [1, 2, 3, 4]}}]}}]}}"#,
                values(4),
                values(6),
                values(4)
            ),
            152,
        ),
        // rejected: 3x(2x2)x(2x1) + 3x4x(2x3) + 2x4x2 + 2x4x6
        (
            Scope::MessageBody,
            format!(
                r#"{{"$or": [{{"metricName": {}}}, {{"namespace": {}}}], "detail": {{"scope": {}, "$or": [{{"source": {}}}, {{"type": {}}}]}}}}"#,
                values(3),
                values(2),
                values(2),
                values(1),
                values(3)
            ),
            160,
        ),
    ];
    let mut failures = Vec::new();
    for (scope, policy, total) in &cases {
        if *total > 150 {
            failures.extend(limit_error(policy, *scope, TOO_COMPLEX));
        } else if let Err(e) = FilterPolicy::new(policy.as_bytes(), *scope) {
            failures.push(format!("{policy} under {scope:?} (total {total}) should be accepted\n    got {e:?}"));
        }
    }
    assert_none(&failures);
}

#[test]
fn sns_empty_policy_lets_everything_through() {
    for scope in [Scope::MessageAttributes, Scope::MessageBody] {
        let policy = FilterPolicy::new(b"{}", scope).expect("the empty policy is valid on SNS");
        assert_eq!(policy.scope(), scope);
        assert!(policy.matches_body(br#"{"a": 1}"#));
        assert!(policy.matches_attributes(&[]));
    }
}
