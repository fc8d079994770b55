//! An AWS JSON request body (SQS, EventBridge, Kinesis) read as a tree of borrowed values, for
//! the native request reader (`rulebus._core.JsonReader`), which walks it by a plan of the
//! operation's input shape.
//!
//! It reads only what it reads exactly as Python's readers (orjson, and the standard library
//! where orjson refuses) do, and declines (`None`) the rest, which the Python reader then reads
//! and, where it is wrong, words AWS's error for: text that is not UTF-8, a document that is not
//! an object, any grammar error, a lone surrogate escape, `NaN` and its kin (which the standard
//! library takes), nesting deeper than `MAX_DEPTH`. Integers that fit in 64 bits are read; any
//! other number is kept as `Node::Number` (valid, but read only in Python).

use std::borrow::Cow;

use rulebus_core::lexer::special_byte;
use rulebus_core::skip::string_end;

/// Documents nested deeper than this are declined (AWS's request shapes nest a few levels).
pub const MAX_DEPTH: usize = 64;

/// A JSON value of a request body; text borrowed from the body where it holds no escapes.
#[derive(Debug, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    /// An integer literal (no fraction, no exponent) within 64 bits.
    Integer(i64),
    /// Any other valid number: read only by the Python reader.
    Number,
    Text(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    /// Members in the document's order, repeated names included.
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// The body's document when it is one JSON object (whitespace around it), else `None`.
pub fn parse(body: &[u8]) -> Option<Node<'_>> {
    let mut reader = Reader::new(body)?;
    if reader.upcoming()? != b'{' {
        return None;
    }
    let document = reader.value(0)?;
    reader.finish().then_some(document)
}

/// A body read a token at a time, for a caller that builds its own values as it goes (the
/// native request reader builds Python objects with no tree between); `parse` is the same
/// grammar read whole. Every method returns `None` (or false) where the grammar is broken or
/// the text is one `parse` declines; the caller then declines the body.
pub struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    /// The last string `text` decoded.
    decoded: Vec<u8>,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `body`, when it is UTF-8.
    pub fn new(body: &'a [u8]) -> Option<Self> {
        let text = simdutf8::basic::from_utf8(body).ok()?;
        Some(Reader { text, bytes: text.as_bytes(), at: 0, decoded: Vec::new() })
    }

    /// The first byte of the next token (whitespace passed over), not consumed.
    pub fn upcoming(&mut self) -> Option<u8> {
        self.space();
        self.peek()
    }

    /// At the `{` or `[` `upcoming` saw: consumes it, and its closing bracket too when the
    /// container is empty; whether it is.
    pub fn open(&mut self) -> bool {
        let close = if self.bytes[self.at] == b'{' { b'}' } else { b']' };
        self.at += 1;
        self.eat(close)
    }

    /// After a member or an element: true at a `,` (consumed; another follows), false at the
    /// container's closing bracket `close` (consumed), `None` at anything else.
    pub fn more(&mut self, close: u8) -> Option<bool> {
        if self.eat(b',') {
            return Some(true);
        }
        self.eat(close).then_some(false)
    }

    /// A member's name and its colon.
    pub fn name(&mut self) -> Option<Cow<'a, str>> {
        if self.upcoming()? != b'"' {
            return None;
        }
        let name = self.string()?;
        self.eat(b':').then_some(name)
    }

    /// Whether the rest of the body is whitespace.
    pub fn finish(&mut self) -> bool {
        self.space();
        self.at == self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `byte` (after whitespace) when it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        let next = self.peek() == Some(byte);
        if next {
            self.at += 1;
        }
        next
    }

    /// The value at the next token, whole (`depth`: the containers it is in).
    pub fn value(&mut self, depth: usize) -> Option<Node<'a>> {
        self.space();
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Node::Text),
            b't' => self.word("true", Node::Bool(true)),
            b'f' => self.word("false", Node::Bool(false)),
            b'n' => self.word("null", Node::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn object(&mut self, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1; // '{'
        let mut members = Vec::new();
        if self.eat(b'}') {
            return Some(Node::Object(members));
        }
        loop {
            self.space();
            if self.peek()? != b'"' {
                return None;
            }
            let name = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            members.push((name, self.value(depth)?));
            if self.eat(b',') {
                continue;
            }
            return self.eat(b'}').then_some(Node::Object(members));
        }
    }

    fn array(&mut self, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1; // '['
        let mut items = Vec::new();
        if self.eat(b']') {
            return Some(Node::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            if self.eat(b',') {
                continue;
            }
            return self.eat(b']').then_some(Node::Array(items));
        }
    }

    fn word(&mut self, word: &str, node: Node<'a>) -> Option<Node<'a>> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            node
        })
    }

    /// A number by JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<Node<'a>> {
        let start = self.at;
        let digit = |reader: &Self| matches!(reader.peek(), Some(b'0'..=b'9'));
        let digits = |reader: &mut Self| {
            while digit(reader) {
                reader.at += 1;
            }
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => digits(self),
            _ => return None,
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !digit(self) {
                return None;
            }
            digits(self);
            integer = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !digit(self) {
                return None;
            }
            digits(self);
            integer = false;
        }
        // (A leading zero followed by digits, "01", is left behind and fails the caller.)
        let literal = &self.text[start..self.at];
        Some(if integer { literal.parse().map_or(Node::Number, Node::Integer) } else { Node::Number })
    }

    /// A string starting at its quote: its text, borrowed when it holds no escape.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at + 1;
        if !self.plain_string()? {
            let mut owned = Vec::new();
            self.unescape(start, &mut owned)?;
            // SAFETY: as in `text`.
            return Some(Cow::Owned(unsafe { String::from_utf8_unchecked(owned) }));
        }
        Some(Cow::Borrowed(&self.text[start..self.at - 1]))
    }

    /// The string at the `"` `upcoming` saw, its escapes decoded into the reader's own buffer (no
    /// allocation per string, for a caller that copies the text at once).
    pub fn text(&mut self) -> Option<&str> {
        let start = self.at + 1;
        if self.plain_string()? {
            return Some(&self.text[start..self.at - 1]);
        }
        let mut decoded = std::mem::take(&mut self.decoded);
        decoded.clear();
        let done = self.unescape(start, &mut decoded);
        self.decoded = decoded;
        done?;
        // SAFETY: the body is UTF-8 (checked in `new`), and `unescape` copies whole runs of it
        // that begin and end beside ASCII bytes (quotes, backslashes), so at character
        // boundaries, and writes escapes as ASCII bytes or a `char`'s own UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(&self.decoded) })
    }

    /// Passes a string (at its quote) when it holds no escape: true, and the reader is after
    /// its closing quote. False at its first backslash. Runs of plain text are skipped to the
    /// next quote, backslash or control character many bytes at a time (`special_byte`, as the
    /// event scanner skips them).
    fn plain_string(&mut self) -> Option<bool> {
        self.at = special_byte(self.bytes, self.at + 1);
        match self.peek()? {
            b'"' => {
                self.at += 1;
                Some(true)
            }
            b'\\' => Some(false),
            _ => None, // a control character must be escaped
        }
    }

    /// The text of a string from `start` (its content's first byte) written into `out`, the
    /// reader at the string's first backslash; the reader ends after its closing quote.
    fn unescape(&mut self, start: usize, out: &mut Vec<u8>) -> Option<()> {
        // Escapes only shorten the text: its bytes up to the closing quote are room enough
        // (`string_end`, from the first backslash, refuses what the loop below would refuse,
        // before it builds anything).
        let (end, _) = string_end(self.bytes, self.at)?;
        out.reserve(end - start);
        out.extend_from_slice(&self.bytes[start..self.at]);
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => {
                    let escape = *self.bytes.get(self.at + 1)?;
                    self.at += 2;
                    out.push(match escape {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let character = self.unicode_escape()?;
                            out.extend_from_slice(character.encode_utf8(&mut [0; 4]).as_bytes());
                            continue;
                        }
                        _ => return None,
                    });
                }
                0..=0x1f => return None,
                _ => {
                    // A run of plain text, copied whole: most runs between escapes are short, so
                    // a fixed 16 bytes are copied (a move, not a call to `memcpy`) and the
                    // excess dropped.
                    let run = self.at;
                    self.at = special_byte(self.bytes, run);
                    match self.bytes.get(run..run + 16) {
                        Some(block) if self.at - run <= 16 => {
                            let kept = out.len() + (self.at - run);
                            out.extend_from_slice(block);
                            out.truncate(kept);
                        }
                        _ => out.extend_from_slice(&self.bytes[run..self.at]),
                    }
                }
            }
        }
    }

    /// The character of a `\u` escape (its `\u` read), joining a surrogate pair; `None` for a
    /// lone surrogate, which Python's standard reader keeps and orjson refuses.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if !(0xD800..0xE000).contains(&high) {
            return char::from_u32(high);
        }
        if high >= 0xDC00 || self.bytes.get(self.at..self.at + 2)? != b"\\u" {
            return None;
        }
        self.at += 2;
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return None;
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        if !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Node<'_> {
        Node::Text(Cow::Borrowed(value))
    }

    #[test]
    fn an_object_is_read_with_its_members_in_order() {
        let body = br#" {"QueueUrl": "q", "Max": 10, "B": [true, false, null], "N": {"a": -0}, "a": "x"} "#;
        assert_eq!(
            parse(body),
            Some(Node::Object(vec![
                (Cow::Borrowed("QueueUrl"), text("q")),
                (Cow::Borrowed("Max"), Node::Integer(10)),
                (Cow::Borrowed("B"), Node::Array(vec![Node::Bool(true), Node::Bool(false), Node::Null])),
                (Cow::Borrowed("N"), Node::Object(vec![(Cow::Borrowed("a"), Node::Integer(0))])),
                (Cow::Borrowed("a"), text("x")),
            ]))
        );
        assert_eq!(parse(b"{}"), Some(Node::Object(vec![])));
    }

    #[test]
    fn a_body_is_read_a_token_at_a_time() {
        let mut r = Reader::new(br#" {"a" : [ 7, "x\ny", null ], "b\u0041": {}, "c": "plain"} "#).unwrap();
        assert_eq!(r.upcoming(), Some(b'{'));
        assert!(!r.open());
        assert_eq!(r.name().as_deref(), Some("a"));
        assert_eq!(r.upcoming(), Some(b'['));
        assert!(!r.open());
        assert_eq!(r.value(2), Some(Node::Integer(7)));
        assert_eq!(r.more(b']'), Some(true));
        assert_eq!(r.upcoming(), Some(b'"'));
        assert_eq!(r.text(), Some("x\ny"));
        assert_eq!(r.more(b']'), Some(true));
        assert_eq!(r.value(2), Some(Node::Null));
        assert_eq!(r.more(b']'), Some(false));
        assert_eq!(r.more(b'}'), Some(true));
        assert_eq!(r.name().as_deref(), Some("bA"));
        assert_eq!(r.upcoming(), Some(b'{'));
        assert!(r.open()); // empty: its `}` consumed too
        assert_eq!(r.more(b'}'), Some(true));
        assert_eq!(r.name().as_deref(), Some("c"));
        assert_eq!(r.upcoming(), Some(b'"'));
        assert_eq!(r.text(), Some("plain"));
        assert_eq!(r.more(b'}'), Some(false));
        assert!(r.finish());
        // A separator where none belongs, and text after the end.
        let mut r = Reader::new(br#"{"a": 1 2}"#).unwrap();
        r.upcoming();
        r.open();
        r.name();
        r.value(1);
        assert_eq!(r.more(b'}'), None);
        let mut r = Reader::new(b"{} x").unwrap();
        r.upcoming();
        assert!(r.open());
        assert!(!r.finish());
        assert!(Reader::new(b"{\"a\": \"\xff\"}").is_none());
    }

    #[test]
    fn escapes_are_decoded_and_pairs_joined() {
        let Some(Node::Object(members)) = parse(br#"{"k\u0041": "a\"b\\c\/\b\f\n\r\t\u00e9\ud83d\ude00 \u2603"}"#)
        else {
            panic!("not read");
        };
        assert_eq!(members[0].0, "kA");
        assert_eq!(members[0].1, text("a\"b\\c/\u{8}\u{c}\n\r\t\u{e9}\u{1f600} \u{2603}"));
        assert_eq!(parse("{\"é\": \"ü\"}".as_bytes()), Some(Node::Object(vec![(Cow::Borrowed("é"), text("ü"))])));
    }

    #[test]
    fn numbers_other_than_64_bit_integers_are_kept_apart() {
        for (literal, node) in [
            ("0", Node::Integer(0)),
            ("-12", Node::Integer(-12)),
            ("9223372036854775807", Node::Integer(i64::MAX)),
            ("-9223372036854775808", Node::Integer(i64::MIN)),
            ("9223372036854775808", Node::Number),
            ("1.5", Node::Number),
            ("1e3", Node::Number),
            ("-0.0E+2", Node::Number),
        ] {
            let body = format!("{{\"n\": {literal}}}");
            assert_eq!(parse(body.as_bytes()), Some(Node::Object(vec![(Cow::Borrowed("n"), node)])), "{literal}");
        }
    }

    #[test]
    fn what_python_reads_otherwise_or_refuses_is_declined() {
        for body in [
            &b"[1]"[..],
            b"\"text\"",
            b"",
            b"{",
            b"{\"a\": 1,}",
            b"{\"a\" 1}",
            b"{\"a\": 01}",
            b"{\"a\": 1.}",
            b"{\"a\": -}",
            b"{\"a\": NaN}",
            b"{\"a\": Infinity}",
            b"{\"a\": tru}",
            b"{\"a\": \"\\ud800\"}",
            b"{\"a\": \"\\udc00\\ud800\"}",
            b"{\"a\": \"\\ud800\\u0041\"}",
            b"{\"a\": \"\\x\"}",
            b"{\"a\": \"\\u12\"}",
            b"{\"a\": \"tab\there\"}",
            b"{\"a\": \"\xff\"}",
            b"\xef\xbb\xbf{}",
            b"{} {}",
            b"{\"a\": [1 2]}",
        ] {
            assert_eq!(parse(body), None, "{}", String::from_utf8_lossy(body));
        }
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(parse(deep.as_bytes()), None);
        let fits = format!("{{\"a\": {}{}}}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(parse(fits.as_bytes()).is_some());
    }
}
