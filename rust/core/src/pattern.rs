//! The pattern compiler: JSON text -> validated [`Rule`], with event-ruler's reasons and
//! Jackson's locations. EventBridge patterns and SNS filter policies share the language; the
//! few places where SNS differs take the dialect into account.

use crate::casefold::IgnoreCase;
use crate::cidr::{parse_cidr, single_address};
use crate::error::{Dialect, Error};
use crate::json::{self, Entry, Json, Node};
use crate::number::{comparable, Numbers};
use crate::rule::{Condition, Rule, SubRule};
use crate::value::{AnythingBut, Bound, Matcher, Number, Range};
use crate::wildcard::Wildcard;

/// Field names that may not be keys of a `$or` branch (event-ruler's
/// `RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP`: operators in use and reserved for later).
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

/// Sub-rules one pattern may expand into through `$or` before it is refused. Expansion is
/// multiplicative, so the bound keeps a small pattern from exhausting memory.
pub const MAX_OR_COMBINATIONS: usize = 1000;

/// event-ruler's reason for anything that follows a complete numeric or anything-but expression.
const TOO_MANY_ELEMENTS: &str = "Too many elements in numeric expression";

/// One leaf of a sub-rule before paths are interned.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub path: Vec<u8>,
    /// Nesting depth of the leaf's key: 1 for a key of the top-level object.
    pub depth: usize,
    /// The top-level key the leaf sits under.
    pub top: Vec<u8>,
    pub matchers: Vec<Matcher>,
    pub absent_ok: bool,
    /// Entries in the leaf's value list (SNS counts them toward its complexity limit).
    pub values: usize,
    /// The value list's entries as JSON text, for explanations.
    pub source: Vec<String>,
}

/// A pattern after validation and `$or` expansion: one list of leaves per sub-rule.
pub type Expanded = Vec<Vec<Leaf>>;

pub struct Compiler<'t> {
    text: &'t [u8],
    dialect: Dialect,
    numbers: Numbers,
}

impl<'t> Compiler<'t> {
    pub fn new(text: &'t [u8], dialect: Dialect) -> Self {
        let numbers = match dialect {
            Dialect::EventBridge => Numbers::EventBridge,
            Dialect::Sns => Numbers::Sns,
        };
        Self { text, dialect, numbers }
    }

    /// Parses and validates; `Ok(None)` for an SNS policy that is the empty object.
    pub fn expand(&self) -> Result<Option<Expanded>, Error> {
        let root = json::parse(self.text).map_err(|e| {
            let reason = match self.dialect {
                Dialect::EventBridge => e.message.clone(),
                Dialect::Sns => format!("failed to parse JSON. {}", e.message),
            };
            Error::pattern_at(self.dialect, reason, self.text, e.offset)
        })?;
        let Json::Object(entries) = &root.value else {
            let start = self.text.iter().position(|b| !b" \t\r\n".contains(b)).unwrap_or(0);
            let at = if matches!(root.value, Json::Array(_)) { start + 1 } else { root.end };
            return Err(self.error_at("Filter is not an object", at));
        };
        if entries.is_empty() {
            if self.dialect == Dialect::Sns {
                return Ok(None);
            }
            return Err(self.error_at("Empty objects are not allowed", root.end));
        }
        let mut expanded = self.object(entries, b"", 1, None)?;
        for leaves in &mut expanded {
            last_wins(leaves);
        }
        Ok(Some(expanded))
    }

    #[cold]
    fn error_at(&self, reason: impl Into<String>, offset: usize) -> Error {
        Error::pattern_at(self.dialect, reason, self.text, offset)
    }

    #[cold]
    fn error(&self, reason: impl Into<String>) -> Error {
        Error::pattern(self.dialect, reason)
    }

    fn object(&self, entries: &[Entry], prefix: &[u8], depth: usize, top: Option<&[u8]>) -> Result<Expanded, Error> {
        stacker::maybe_grow(json::RED_ZONE, json::STACK_GROWTH, || self.object_here(entries, prefix, depth, top))
    }

    fn object_here(
        &self,
        entries: &[Entry],
        prefix: &[u8],
        depth: usize,
        top: Option<&[u8]>,
    ) -> Result<Expanded, Error> {
        let mut alternatives: Expanded = vec![Vec::new()];
        for entry in last_of_each_key(entries) {
            let top_key = top.unwrap_or(&entry.key);
            let node = &entry.value;
            match &node.value {
                Json::Array(items) if entry.key == b"$or" && is_or(items) => {
                    if items.len() < 2 {
                        return Err(self.error_at("There must have at least 2 Objects in $or relationship.", node.end));
                    }
                    let mut union = Vec::new();
                    for item in items {
                        let Json::Object(branch) = &item.value else { unreachable!("is_or checked") };
                        if branch.is_empty() {
                            return Err(self.error_at("Empty objects are not allowed", item.end));
                        }
                        if let Some(bad) = branch.iter().find(|e| RESERVED_IN_OR.iter().any(|r| r.as_bytes() == e.key))
                        {
                            return Err(self.error_at(
                                format!(
                                    "{} is Ruler reserved fieldName which cannot be used inside $or.",
                                    String::from_utf8_lossy(&bad.key)
                                ),
                                bad.key_end,
                            ));
                        }
                        union.extend(self.object(branch, prefix, depth, top)?);
                    }
                    alternatives = self.cross(alternatives, &union)?;
                }
                Json::Array(items) => {
                    if items.is_empty() {
                        return Err(self.error_at("Empty arrays are not allowed", node.end));
                    }
                    let (matchers, absent_ok) = self.leaf(items)?;
                    let leaf = Leaf {
                        path: join(prefix, &entry.key),
                        depth,
                        top: top_key.to_vec(),
                        matchers,
                        absent_ok,
                        values: items.len(),
                        source: items.iter().map(|i| i.value.to_text()).collect(),
                    };
                    for alternative in &mut alternatives {
                        alternative.push(leaf.clone());
                    }
                }
                Json::Object(children) => {
                    if children.is_empty() {
                        return Err(self.error_at("Empty objects are not allowed", node.end));
                    }
                    let path = join(prefix, &entry.key);
                    let nested = self.object(children, &path, depth + 1, Some(top_key))?;
                    alternatives = self.cross(alternatives, &nested)?;
                }
                _ => {
                    return Err(self.error_at(
                        format!("\"{}\" must be an object or an array", String::from_utf8_lossy(&entry.key)),
                        node.end,
                    ))
                }
            }
        }
        Ok(alternatives)
    }

    /// Every alternative of `left` joined with every alternative of `right`.
    fn cross(&self, left: Expanded, right: &Expanded) -> Result<Expanded, Error> {
        if right.len() == 1 {
            let mut left = left;
            for alternative in &mut left {
                alternative.extend(right[0].iter().cloned());
            }
            return Ok(left);
        }
        if left.len().saturating_mul(right.len()) > MAX_OR_COMBINATIONS {
            return Err(self.error(too_many_combinations(self.dialect)));
        }
        let mut out = Vec::with_capacity(left.len() * right.len());
        for l in &left {
            for r in right {
                let mut joined = l.clone();
                joined.extend(r.iter().cloned());
                out.push(joined);
            }
        }
        Ok(out)
    }

    /// A leaf's value list: its matchers, and whether `{"exists": false}` is among them.
    fn leaf(&self, items: &[Node]) -> Result<(Vec<Matcher>, bool), Error> {
        let mut matchers = Vec::with_capacity(items.len());
        let mut absent_ok = false;
        for item in items {
            let matcher = match &item.value {
                Json::String(s) => Matcher::String { bytes: s.clone(), ip: single_address(s).map(Box::new) },
                Json::Number(n) => {
                    if self.dialect == Dialect::Sns {
                        self.sns_number(n, item.end)?;
                    }
                    Matcher::Number(Number::new(n, self.numbers))
                }
                Json::Bool(b) => Matcher::Bool(*b),
                Json::Null => Matcher::Null,
                Json::Array(_) => {
                    return Err(self.error_at("Match value must be String, number, true, false, or null", item.end))
                }
                Json::Object(entries) => {
                    let Some(m) = self.expression(entries, item)? else {
                        absent_ok = true;
                        continue;
                    };
                    m
                }
            };
            matchers.push(matcher);
        }
        Ok((matchers, absent_ok))
    }

    /// A match expression (`{"prefix": "a"}`...). `None` stands for `{"exists": false}`.
    fn expression(&self, entries: &[Entry], node: &Node) -> Result<Option<Matcher>, Error> {
        let Some(first) = entries.first() else {
            return Err(self.error_at("Match expression name not found", node.end));
        };
        let operand = &first.value;
        let op = first.key.as_slice();
        let sns = self.dialect == Dialect::Sns;
        let matcher = match op {
            b"exactly" => Matcher::String { bytes: self.string_operand(operand, "exact")?.to_vec(), ip: None },
            b"prefix" | b"suffix" => self.prefix_or_suffix(op == b"prefix", operand)?,
            b"equals-ignore-case" => Matcher::EqualsIgnoreCase(Box::new(IgnoreCase::new(
                self.string_operand(operand, "equals-ignore-case")?,
            ))),
            b"wildcard" if !sns => {
                let text = self.string_operand(operand, "wildcard")?;
                Matcher::Wildcard(Wildcard::parse(text).map_err(|reason| self.error(reason))?)
            }
            b"numeric" => Matcher::Numeric(self.numeric(operand)?),
            b"exists" => match operand.value {
                Json::Bool(true) => Matcher::Exists,
                Json::Bool(false) => {
                    self.only_one_key(entries)?;
                    return Ok(None);
                }
                _ => return Err(self.error_at("exists match pattern must be either true or false.", operand.end)),
            },
            b"cidr" => {
                // AWS really does word a non-string CIDR this way.
                let text = self.string_operand(operand, "prefix")?;
                Matcher::Cidr(parse_cidr(text).map_err(|reason| self.error(reason))?)
            }
            b"anything-but" => Matcher::AnythingBut(self.anything_but(operand)?),
            _ => {
                return Err(
                    self.error_at(format!("Unrecognized match type {}", String::from_utf8_lossy(op)), first.key_end)
                )
            }
        };
        if !sns && matches!(op, b"numeric" | b"anything-but") {
            // event-ruler reports a second key after these two with its numeric-expression text.
            if let Some(second) = entries.get(1) {
                return Err(self.error_at(TOO_MANY_ELEMENTS, second.key_end));
            }
        }
        self.only_one_key(entries)?;
        Ok(Some(matcher))
    }

    fn only_one_key(&self, entries: &[Entry]) -> Result<(), Error> {
        match entries.get(1) {
            Some(second) => Err(self.error_at("Only one key allowed in match expression", second.key_end)),
            None => Ok(()),
        }
    }

    fn string_operand<'n>(&self, operand: &'n Node, op: &str) -> Result<&'n [u8], Error> {
        match &operand.value {
            Json::String(s) => Ok(s),
            _ => Err(self.error_at(format!("{op} match pattern must be a string"), operand.end)),
        }
    }

    fn prefix_or_suffix(&self, prefix: bool, operand: &Node) -> Result<Matcher, Error> {
        let op = if prefix { "prefix" } else { "suffix" };
        if let Json::Object(entries) = &operand.value {
            let Some(first) = entries.first() else {
                let capital = if prefix { "Prefix" } else { "Suffix" };
                return Err(self.error_at(format!("{capital} expression name not found"), operand.end));
            };
            if first.key != b"equals-ignore-case" {
                return Err(self.error_at(
                    format!("Unsupported {op} pattern: {}", String::from_utf8_lossy(&first.key)),
                    first.key_end,
                ));
            }
            let folded = Box::new(IgnoreCase::new(self.string_operand(&first.value, "equals-ignore-case")?));
            self.only_one_key(entries)?;
            return Ok(if prefix { Matcher::PrefixIgnoreCase(folded) } else { Matcher::SuffixIgnoreCase(folded) });
        }
        let text = self.string_operand(operand, op)?.to_vec();
        Ok(if prefix { Matcher::Prefix(text) } else { Matcher::Suffix(text) })
    }

    fn numeric(&self, operand: &Node) -> Result<Range, Error> {
        let Json::Array(items) = &operand.value else {
            return Err(self.error_at("Value of numeric must be an array.", operand.end));
        };
        let Some(first) = items.first() else {
            return Err(self.error_at("Invalid member in numeric match: ]", operand.end));
        };
        let Json::String(op) = &first.value else {
            return Err(
                self.error_at(format!("Invalid member in numeric match: {}", first.value.token_text()), first.end)
            );
        };
        let value = self.numeric_operand(op, items.get(1), operand.end)?;
        match op.as_slice() {
            b"=" | b"<" | b"<=" => {
                if items.len() > 2 {
                    return Err(self.error_at(TOO_MANY_ELEMENTS, items[2].end));
                }
                let inclusive = op != b"<";
                let bound = Some(Bound { value, inclusive });
                Ok(if op == b"=" { Range { low: bound, high: bound } } else { Range { low: None, high: bound } })
            }
            _ => {
                let low = Some(Bound { value, inclusive: op == b">=" });
                let Some(second) = items.get(2) else {
                    return Ok(Range { low, high: None });
                };
                let upper = match &second.value {
                    Json::String(s) if s == b"<" || s == b"<=" => s,
                    Json::String(s) => {
                        return Err(self.error_at(
                            format!("Bad numeric range operator: {}", String::from_utf8_lossy(s)),
                            second.end,
                        ))
                    }
                    other => {
                        return Err(
                            self.error_at(format!("Bad value in numeric range: {}", other.token_text()), second.end)
                        )
                    }
                };
                let top = self.numeric_operand(upper, items.get(3), operand.end)?;
                if items.len() > 4 {
                    return Err(self.error_at("Too many terms in numeric range expression", items[4].end));
                }
                if value >= top {
                    return Err(self.error_at("Bottom must be less than top", operand.end));
                }
                Ok(Range { low, high: Some(Bound { value: top, inclusive: upper == b"<=" }) })
            }
        }
    }

    /// The number after operator `op` (whose validity is checked here first).
    fn numeric_operand(&self, op: &[u8], operand: Option<&Node>, end: usize) -> Result<f64, Error> {
        let name = match op {
            b"=" => "equals",
            b"<" => "<",
            b"<=" => "<=",
            b">" => ">",
            b">=" => ">=",
            _ => {
                return Err(
                    self.error_at(format!("Unrecognized numeric range operator: {}", String::from_utf8_lossy(op)), end)
                )
            }
        };
        let Some(Node { value: Json::Number(text), end }) = operand else {
            return Err(self.error_at(format!("Value of {name} must be numeric"), operand.map_or(end, |n| n.end)));
        };
        if self.dialect == Dialect::Sns {
            return self.sns_number(text, *end);
        }
        comparable(text).ok_or_else(|| self.error_at(format!("Cannot compare number : {text}"), *end))
    }

    /// A number of an SNS policy: within SNS's range, compared to five decimal places.
    fn sns_number(&self, text: &str, end: usize) -> Result<f64, Error> {
        let value: f64 = text.parse().unwrap_or(f64::INFINITY);
        crate::policy::check_number(text, value).map_err(|reason| self.error_at(reason, end))?;
        Ok(self.numbers.value(text).unwrap_or(value))
    }

    fn anything_but(&self, operand: &Node) -> Result<AnythingBut, Error> {
        const NOT_A_VALUE: &str = "Value of anything-but must be an array or single string/number value.";
        match &operand.value {
            Json::String(s) => Ok(AnythingBut::Strings(vec![s.clone()])),
            Json::Number(n) => Ok(AnythingBut::Numbers(vec![Number::new(n, self.numbers)])),
            Json::Array(items) => self.anything_but_list(operand, items),
            Json::Object(entries) => {
                let Some(first) = entries.first() else {
                    return Err(self.error_at("Anything-But expression name not found", operand.end));
                };
                let sns = self.dialect == Dialect::Sns;
                let supported: [&[u8]; 4] = [b"prefix", b"suffix", b"equals-ignore-case", b"wildcard"];
                if !sns
                    && supported.contains(&first.key.as_slice())
                    && !matches!(first.value.value, Json::String(_) | Json::Number(_) | Json::Array(_))
                {
                    // event-ruler looks at the operand's kind before the operation does: an
                    // object, true, false or null is refused whatever the operation.
                    return Err(self.error_at(NOT_A_VALUE, first.value.end));
                }
                let result = match first.key.as_slice() {
                    b"prefix" => AnythingBut::Prefixes(self.anything_but_affixes(&first.value)?),
                    b"suffix" if !sns => AnythingBut::Suffixes(self.anything_but_affixes(&first.value)?),
                    b"equals-ignore-case" => AnythingBut::IgnoreCase(
                        self.string_or_list(&first.value, |_| {
                            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
                                .to_owned()
                        })?
                        .into_iter()
                        .map(|s| IgnoreCase::new(&s))
                        .collect(),
                    ),
                    b"wildcard" if !sns => {
                        let texts = self
                            .string_or_list(&first.value, |_| "wildcard match pattern must be a string".to_owned())?;
                        let parsed: Result<Vec<_>, _> = texts.iter().map(|t| Wildcard::parse(t)).collect();
                        AnythingBut::Wildcards(parsed.map_err(|reason| self.error(reason))?)
                    }
                    other => {
                        return Err(self.error_at(
                            format!("Unsupported anything-but pattern: {}", String::from_utf8_lossy(other)),
                            first.key_end,
                        ))
                    }
                };
                if sns {
                    self.only_one_key(entries)?;
                } else if let Some(second) = entries.get(1) {
                    return Err(self.error_at(TOO_MANY_ELEMENTS, second.key_end));
                }
                Ok(result)
            }
            Json::Bool(_) | Json::Null => Err(self.error_at(NOT_A_VALUE, operand.end)),
        }
    }

    fn anything_but_list(&self, list: &Node, items: &[Node]) -> Result<AnythingBut, Error> {
        const MIXED: &str =
            "Inside anything but list, either all values are number or string, mixed type is not supported";
        if items.is_empty() {
            // event-ruler cannot tell the type of an empty list and reports it as mixed.
            return Err(self.error(MIXED));
        }
        let mut strings = Vec::new();
        let mut numbers = Vec::new();
        for item in items {
            match &item.value {
                Json::String(s) => strings.push(s.clone()),
                Json::Number(n) => numbers.push(Number::new(n, self.numbers)),
                _ => {
                    return Err(
                        self.error_at("Inside anything but list, start|null|boolean is not supported.", item.end)
                    )
                }
            }
        }
        // event-ruler judges the mix once the whole list is read, so a null or boolean after the
        // first string-number mix is what it reports.
        match (strings.is_empty(), numbers.is_empty()) {
            (false, false) => Err(self.error_at(MIXED, list.end)),
            (true, _) => Ok(AnythingBut::Numbers(numbers)),
            (false, true) => Ok(AnythingBut::Strings(strings)),
        }
    }

    /// The operand of anything-but's prefix or suffix: a non-empty string, or (on EventBridge)
    /// a list of them.
    fn anything_but_affixes(&self, operand: &Node) -> Result<Vec<Vec<u8>>, Error> {
        let not_a_string = match self.dialect {
            Dialect::EventBridge => "prefix/suffix match pattern must be a string",
            Dialect::Sns => "prefix match pattern must be a string",
        };
        let items: Vec<&Node> = match &operand.value {
            Json::Array(items) if self.dialect == Dialect::EventBridge => items.iter().collect(),
            _ => vec![operand],
        };
        items
            .into_iter()
            .map(|item| match &item.value {
                Json::String(s) if s.is_empty() => Err(self.error_at("Null prefix/suffix not allowed", item.end)),
                Json::String(s) => Ok(s.clone()),
                _ => Err(self.error_at(not_a_string, item.end)),
            })
            .collect()
    }

    fn string_or_list(&self, operand: &Node, message: impl Fn(&Node) -> String) -> Result<Vec<Vec<u8>>, Error> {
        let items: Vec<&Node> = match &operand.value {
            Json::Array(items) => items.iter().collect(),
            _ => vec![operand],
        };
        items
            .into_iter()
            .map(|item| match &item.value {
                Json::String(s) => Ok(s.clone()),
                _ => Err(self.error_at(message(item), item.end)),
            })
            .collect()
    }
}

/// A `$or` array: one whose entries are all objects (otherwise `$or` is an ordinary field name,
/// as event-ruler keeps it for backward compatibility).
fn is_or(items: &[Node]) -> bool {
    !items.is_empty() && items.iter().all(|i| matches!(i.value, Json::Object(_)))
}

#[cold]
fn too_many_combinations(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::EventBridge => "Event pattern is too complex",
        Dialect::Sns => "Filter policy is too complex",
    }
}

fn join(prefix: &[u8], key: &[u8]) -> Vec<u8> {
    if prefix.is_empty() {
        return key.to_vec();
    }
    let mut path = Vec::with_capacity(prefix.len() + 1 + key.len());
    path.extend_from_slice(prefix);
    path.push(b'.');
    path.extend_from_slice(key);
    path
}

/// The entries of an object with each key's last occurrence winning (in the position of its
/// first), as Jackson's object model, which event-ruler reads patterns into, keeps them.
fn last_of_each_key(entries: &[Entry]) -> Vec<&Entry> {
    let mut out: Vec<&Entry> = Vec::with_capacity(entries.len());
    for entry in entries {
        match out.iter_mut().find(|e| e.key == entry.key) {
            Some(slot) => *slot = entry,
            None => out.push(entry),
        }
    }
    out
}

/// A path named twice in one sub-rule keeps its last value list (event-ruler's default).
fn last_wins(leaves: &mut Vec<Leaf>) {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<Leaf> = Vec::with_capacity(leaves.len());
    for leaf in leaves.drain(..).rev() {
        if seen.insert(leaf.path.clone()) {
            kept.push(leaf);
        }
    }
    kept.reverse();
    *leaves = kept;
}

/// Interns the leaves' paths and builds the rule.
pub fn build(expanded: Expanded, numbers: Numbers) -> Rule {
    let mut rule = Rule { numbers, ..Rule::default() };
    for mut leaves in expanded {
        // Conditions in the order of their paths, the order event-ruler walks fields in.
        leaves.sort_by(|a, b| a.path.cmp(&b.path));
        let conditions = leaves
            .into_iter()
            .map(|leaf| Condition {
                path: rule.index.intern(&leaf.path),
                matchers: leaf.matchers,
                absent_ok: leaf.absent_ok,
            })
            .collect();
        rule.subrules.push(SubRule { conditions });
    }
    rule
}
