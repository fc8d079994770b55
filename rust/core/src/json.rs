//! A JSON tree for patterns and policies (the cold path), with the offsets that error messages
//! cite. Objects keep every entry in document order, duplicates included: validation visits them
//! all, as event-ruler's streaming compiler does, and the pattern builder lets the last one win.

use crate::lexer::{check_utf8, Cursor, SyntaxError};

/// Jackson's default nesting limit (`StreamReadConstraints.getMaxNestingDepth()`).
pub const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's lexeme, exactly as written.
    Number(String),
    /// Decoded bytes (generalised UTF-8, see `lexer`).
    String(Vec<u8>),
    Array(Vec<Node>),
    Object(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Json,
    /// Offset just past the node's last token: where Jackson stands after reading it.
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Vec<u8>,
    /// Offset just past the key's closing quote.
    pub key_end: usize,
    pub value: Node,
}

impl Json {
    /// Compact JSON text of the value.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(n),
            Json::String(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.value.write(out);
                }
                out.push(']');
            }
            Json::Object(entries) => {
                out.push('{');
                for (i, entry) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(&entry.key, out);
                    out.push(':');
                    entry.value.value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The text Jackson's `getText()` gives for the first token of this value.
    pub fn token_text(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => n.clone(),
            Json::String(s) => String::from_utf8_lossy(s).into_owned(),
            Json::Array(_) => "[".into(),
            Json::Object(_) => "{".into(),
        }
    }
}

/// Refuses a container opened at `depth` (the number of containers around it) when that would
/// nest deeper than Jackson allows.
#[inline]
pub fn check_depth(c: &Cursor<'_>, depth: usize) -> Result<(), SyntaxError> {
    if depth >= MAX_DEPTH {
        return Err(SyntaxError::new(
            format!(
                "Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)",
                depth + 1
            ),
            c.pos,
        ));
    }
    Ok(())
}

/// Writes decoded string bytes as a JSON string literal.
pub fn write_string(bytes: &[u8], out: &mut String) {
    out.push('"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses one JSON value. Content after it is ignored, as event-ruler's compiler (which reads
/// one value from a streaming parser) ignores it.
pub fn parse(input: &[u8]) -> Result<Node, SyntaxError> {
    let text = check_utf8(input)?;
    let mut cursor = Cursor::new(text);
    if cursor.peek().is_none() {
        return Err(SyntaxError::new("No content to map due to end-of-input", 0));
    }
    value(&mut cursor, 0)
}

fn value(c: &mut Cursor<'_>, depth: usize) -> Result<Node, SyntaxError> {
    // Nesting is bounded by MAX_DEPTH, but a thousand frames may not fit a small thread stack.
    stacker::maybe_grow(RED_ZONE, STACK_GROWTH, || value_here(c, depth))
}

/// Stack that must remain before recursing, and how much to add when it does not.
pub const RED_ZONE: usize = 64 * 1024;
pub const STACK_GROWTH: usize = 1024 * 1024;

fn value_here(c: &mut Cursor<'_>, depth: usize) -> Result<Node, SyntaxError> {
    let Some(b) = c.peek() else {
        return Err(c.bad_value());
    };
    let json = match b {
        b'{' | b'[' => {
            check_depth(c, depth)?;
            if b == b'{' {
                object(c, depth + 1)?
            } else {
                array(c, depth + 1)?
            }
        }
        b'"' => Json::String(c.string()?.into_owned()),
        b't' => {
            c.literal(b"true")?;
            Json::Bool(true)
        }
        b'f' => {
            c.literal(b"false")?;
            Json::Bool(false)
        }
        b'n' => {
            c.literal(b"null")?;
            Json::Null
        }
        b'-' | b'0'..=b'9' => Json::Number(c.number()?.to_owned()),
        _ => return Err(c.bad_value()),
    };
    Ok(Node { value: json, end: c.pos })
}

fn object(c: &mut Cursor<'_>, depth: usize) -> Result<Json, SyntaxError> {
    let start = c.pos;
    c.pos += 1;
    let mut entries = Vec::new();
    if c.peek() == Some(b'}') {
        c.pos += 1;
        return Ok(Json::Object(entries));
    }
    loop {
        match c.peek() {
            Some(b'"') => {}
            None => return Err(unclosed(c, "Object", start)),
            Some(_) => return Err(c.unexpected("was expecting double-quote to start field name")),
        }
        let key = c.string()?.into_owned();
        let key_end = c.pos;
        match c.peek() {
            Some(b':') => c.pos += 1,
            None => return Err(unclosed(c, "Object", start)),
            Some(_) => return Err(c.unexpected("was expecting a colon to separate field name and value")),
        }
        let v = value(c, depth)?;
        entries.push(Entry { key, key_end, value: v });
        match c.peek() {
            Some(b',') => c.pos += 1,
            Some(b'}') => {
                c.pos += 1;
                return Ok(Json::Object(entries));
            }
            None => return Err(unclosed(c, "Object", start)),
            Some(_) => return Err(c.unexpected("was expecting comma to separate Object entries")),
        }
    }
}

fn array(c: &mut Cursor<'_>, depth: usize) -> Result<Json, SyntaxError> {
    let start = c.pos;
    c.pos += 1;
    let mut items = Vec::new();
    if c.peek() == Some(b']') {
        c.pos += 1;
        return Ok(Json::Array(items));
    }
    loop {
        if c.peek().is_none() {
            return Err(unclosed(c, "Array", start));
        }
        items.push(value(c, depth)?);
        match c.peek() {
            Some(b',') => c.pos += 1,
            Some(b']') => {
                c.pos += 1;
                return Ok(Json::Array(items));
            }
            None => return Err(unclosed(c, "Array", start)),
            Some(_) => return Err(c.unexpected("was expecting comma to separate Array entries")),
        }
    }
}

#[cold]
pub fn unclosed(c: &Cursor<'_>, what: &str, start: usize) -> SyntaxError {
    let text = std::str::from_utf8(c.bytes).unwrap_or("");
    let (line, column) = crate::lexer::line_column(text, start);
    SyntaxError::new(
        format!(
            "Unexpected end-of-input: expected close marker for {what} (start marker at [Source: (String){}; line: {line}, column: {column}])",
            crate::error::quote_source(text)
        ),
        c.bytes.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse(s.as_bytes()).unwrap_err().message.clone()
    }

    #[test]
    fn parses_values_with_offsets() {
        let n = parse(br#"{"a": [1, "x", null], "a": true}"#).unwrap();
        let Json::Object(entries) = n.value else { panic!() };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].key, b"a");
        assert_eq!(entries[0].key_end, 4);
        assert_eq!(entries[0].value.end, 20);
        assert_eq!(entries[1].value.value, Json::Bool(true));
    }

    #[test]
    fn jackson_messages() {
        assert_eq!(err(r#"{"x": [1,}"#), "Unexpected character ('}' (code 125)): expected a value");
        assert_eq!(
            err("{'a': 1}"),
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name"
        );
        assert_eq!(
            err("this"),
            "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        );
        assert_eq!(
            err(r#"{"a" 1}"#),
            "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"
        );
        assert_eq!(
            err(r#"{"a": [1 2]}"#),
            "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"
        );
        assert!(err(r#"{"a": [1]"#).starts_with("Unexpected end-of-input: expected close marker for Object"));
        assert_eq!(err("  "), "No content to map due to end-of-input");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(err(&deep).starts_with("Document nesting depth (1001) exceeds the maximum allowed (1000"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn trailing_content_is_ignored_like_event_ruler() {
        assert!(parse(br#"{"a": [1]} trailing"#).is_ok());
    }
}
