//! The JSON lexer shared by the pattern parser and the event scanner.
//!
//! It reads UTF-8 bytes and words its errors as Jackson does, because AWS's error messages for
//! malformed patterns are Jackson's. Strings are decoded into bytes; a lone surrogate escape
//! (`\ud800`), legal in Jackson's UTF-16 strings, is kept in its three-byte generalised UTF-8
//! form so that a pattern and an event holding the same escape still compare equal.

use std::borrow::Cow;

/// A syntax error: Jackson's message and the byte offset where the parser stood. Boxed, so
/// that the lexer's results stay one word wide on the hot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(Box<SyntaxErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxErrorInner {
    pub message: String,
    pub offset: usize,
}

impl SyntaxError {
    #[cold]
    #[inline(never)]
    pub fn new(message: impl Into<String>, offset: usize) -> Self {
        Self(Box::new(SyntaxErrorInner { message: message.into(), offset }))
    }
}

impl std::ops::Deref for SyntaxError {
    type Target = SyntaxErrorInner;

    fn deref(&self) -> &SyntaxErrorInner {
        &self.0
    }
}

/// Jackson's description of a character in error messages: `'x' (code 120)`.
pub fn describe_char(c: char) -> String {
    let code = c as u32;
    if c.is_control() {
        format!("(CTRL-CHAR, code {code})")
    } else {
        format!("'{c}' (code {code})")
    }
}

/// Checks that the whole input is UTF-8, with Jackson's wording when it is not.
pub fn check_utf8(input: &[u8]) -> Result<&str, SyntaxError> {
    // simdutf8 checks 32 or 64 bytes a step (the processor's best instructions, found at run
    // time); only invalid input is read again by the standard library, for where it goes wrong.
    if let Ok(text) = simdutf8::basic::from_utf8(input) {
        return Ok(text);
    }
    std::str::from_utf8(input).map_err(|e| {
        let at = e.valid_up_to();
        let byte = input[at];
        let message = if (0x80..0xC0).contains(&byte) || byte >= 0xF8 {
            format!("Invalid UTF-8 start byte 0x{byte:x}")
        } else if let Some(&next) = input.get(at + 1) {
            format!("Invalid UTF-8 middle byte 0x{next:x}")
        } else {
            "Unexpected end-of-input in UTF-8 character".to_owned()
        };
        SyntaxError::new(message, at)
    })
}

/// A cursor over JSON text that is already known to be valid UTF-8.
pub struct Cursor<'a> {
    pub text: &'a str,
    pub bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { text, bytes: text.as_bytes(), pos: 0 }
    }

    #[inline]
    pub fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b' ' || b == b'\n' || b == b'\r' || b == b'\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// The next non-whitespace byte, not consumed.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    /// The character at the cursor, for error messages.
    #[cold]
    pub fn char_here(&self) -> char {
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        // The input is UTF-8 and `pos` is on a character boundary wherever this is called.
        std::str::from_utf8(rest).ok().and_then(|s| s.chars().next()).unwrap_or('\u{fffd}')
    }

    #[cold]
    pub fn unexpected(&self, expectation: &str) -> SyntaxError {
        if self.pos >= self.bytes.len() {
            return SyntaxError::new(format!("Unexpected end-of-input: {expectation}"), self.pos);
        }
        SyntaxError::new(format!("Unexpected character ({}): {expectation}", describe_char(self.char_here())), self.pos)
    }

    /// Jackson's message for a value position holding something that is not a value.
    #[cold]
    pub fn bad_value(&self) -> SyntaxError {
        let Some(&b) = self.bytes.get(self.pos) else {
            return SyntaxError::new("Unexpected end-of-input: expected a value", self.pos);
        };
        if b.is_ascii_alphabetic() || b >= 0x80 || b == b'-' {
            let token = self.token_here();
            if token == "NaN" || token == "Infinity" || token == "-Infinity" || token == "+Infinity" {
                return SyntaxError::new(
                    format!(
                        "Non-standard token '{token}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"
                    ),
                    self.pos,
                );
            }
            if b != b'-' {
                return SyntaxError::new(
                    format!(
                        "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
                    ),
                    self.pos,
                );
            }
        }
        self.unexpected("expected a value")
    }

    /// The run of token characters at the cursor (what Jackson quotes in "Unrecognized token").
    fn token_here(&self) -> String {
        let rest = std::str::from_utf8(&self.bytes[self.pos..]).unwrap_or("");
        let mut out = String::new();
        for (i, c) in rest.chars().enumerate() {
            let token_char = c.is_alphanumeric() || c == '_' || c == '$' || (i == 0 && (c == '-' || c == '+'));
            if !token_char || out.len() >= 256 {
                break;
            }
            out.push(c);
        }
        out
    }

    /// Consumes one of the literals `true`, `false`, `null` (the first byte already peeked).
    #[inline]
    pub fn literal(&mut self, word: &'static [u8]) -> Result<(), SyntaxError> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end) == Some(word) {
            // A literal must not run on into more token characters ("trueish").
            if let Some(&next) = self.bytes.get(end) {
                if next.is_ascii_alphanumeric() || next == b'_' || next >= 0x80 {
                    return Err(self.bad_value());
                }
            }
            self.pos = end;
            Ok(())
        } else {
            Err(self.bad_value())
        }
    }

    /// Consumes a number and returns its lexeme (JSON grammar, Jackson's messages).
    #[inline]
    pub fn number(&mut self) -> Result<&'a str, SyntaxError> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => {
                i += 1;
                if matches!(b.get(i), Some(b'0'..=b'9')) {
                    self.pos = i;
                    return Err(SyntaxError::new("Invalid numeric value: Leading zeroes not allowed", i));
                }
            }
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => {
                if i == start + 1 {
                    let token = {
                        self.pos = start;
                        self.token_here()
                    };
                    if token == "-Infinity" {
                        return Err(self.bad_value());
                    }
                    self.pos = i;
                    return Err(self.unexpected("expected digit (0-9) to follow minus sign, for valid numeric value"));
                }
                self.pos = i;
                return Err(self.bad_value());
            }
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                self.pos = i;
                return Err(self.number_error("Decimal point not followed by a digit"));
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !matches!(b.get(i), Some(b'0'..=b'9')) {
                self.pos = i;
                return Err(self.number_error("Exponent indicator not followed by a digit"));
            }
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        self.pos = i;
        // Every byte consumed above is ASCII, so both ends are character boundaries.
        Ok(&self.text[start..i])
    }

    #[cold]
    fn number_error(&self, what: &str) -> SyntaxError {
        if self.pos >= self.bytes.len() {
            return SyntaxError::new(format!("Unexpected end-of-input in a Number value: {what}"), self.pos);
        }
        SyntaxError::new(
            format!("Unexpected character ({}) in numeric value: {what}", describe_char(self.char_here())),
            self.pos,
        )
    }

    /// Consumes a string (the cursor on its opening quote) and returns its decoded bytes,
    /// borrowed from the input when it holds no escapes.
    #[inline]
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>, SyntaxError> {
        let start = self.pos + 1;
        let (end, escaped) = self.string_end(start)?;
        self.pos = end + 1;
        if escaped {
            Ok(Cow::Owned(decode_escapes(&self.bytes[start..end], start)?))
        } else {
            Ok(Cow::Borrowed(&self.bytes[start..end]))
        }
    }

    /// Consumes a string without decoding it (but still validating it).
    #[inline]
    pub fn skip_string(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos + 1;
        let (end, escaped) = self.string_end(start)?;
        self.pos = end + 1;
        if escaped {
            decode_escapes(&self.bytes[start..end], start)?;
        }
        Ok(())
    }

    /// The offset of the closing quote of a string whose content starts at `start`, and whether
    /// the string holds escapes; rejects unescaped control characters as Jackson does.
    #[inline]
    fn string_end(&mut self, start: usize) -> Result<(usize, bool), SyntaxError> {
        let b = self.bytes;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = special_byte(b, i);
            match b.get(i) {
                Some(b'"') => return Ok((i, escaped)),
                Some(b'\\') => {
                    // Skip the backslash and the character it escapes (validated when decoding).
                    escaped = true;
                    i += 2;
                }
                Some(&code) => {
                    return Err(SyntaxError::new(
                        format!(
                            "Illegal unquoted character ((CTRL-CHAR, code {code})): has to be escaped using backslash to be included in string value"
                        ),
                        i,
                    ))
                }
                None => {
                    self.pos = b.len();
                    return Err(SyntaxError::new(
                        "Unexpected end-of-input: was expecting closing quote for a string value",
                        b.len(),
                    ));
                }
            }
        }
    }
}

pub use crate::simd::special_byte;

/// Decodes the escapes of a string body (between its quotes).
pub fn decode_escapes(body: &[u8], base: usize) -> Result<Vec<u8>, SyntaxError> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = body.get(i + 1) else {
            return Err(SyntaxError::new("Unexpected end-of-input in character escape sequence", base + i));
        };
        i += 2;
        match e {
            b'"' => out.push(b'"'),
            b'\\' => out.push(b'\\'),
            b'/' => out.push(b'/'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                let mut unit = hex4(body, i, base)?;
                i += 4;
                // A high surrogate followed by an escaped low surrogate is one character.
                if (0xD800..0xDC00).contains(&unit) && body.get(i) == Some(&b'\\') && body.get(i + 1) == Some(&b'u') {
                    let low = hex4(body, i + 2, base)?;
                    if (0xDC00..0xE000).contains(&low) {
                        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        i += 6;
                    }
                }
                push_code_point(&mut out, unit);
            }
            _ => {
                let c = std::str::from_utf8(&body[i - 1..]).ok().and_then(|s| s.chars().next()).unwrap_or('\u{fffd}');
                return Err(SyntaxError::new(
                    format!("Unrecognized character escape {}", describe_char(c)),
                    base + i - 1,
                ));
            }
        }
    }
    Ok(out)
}

fn hex4(body: &[u8], at: usize, base: usize) -> Result<u32, SyntaxError> {
    let mut value = 0u32;
    for k in 0..4 {
        let Some(&h) = body.get(at + k) else {
            return Err(SyntaxError::new("Unexpected end-of-input in character escape sequence", base + at + k));
        };
        let digit = (h as char).to_digit(16).ok_or_else(|| {
            let c = std::str::from_utf8(&body[at + k..]).ok().and_then(|s| s.chars().next()).unwrap_or('\u{fffd}');
            SyntaxError::new(
                format!(
                    "Unexpected character ({}): expected a hex-digit for character escape sequence",
                    describe_char(c)
                ),
                base + at + k,
            )
        })?;
        value = value * 16 + digit;
    }
    Ok(value)
}

/// Appends a code point as (generalised) UTF-8: surrogates get their three-byte form.
fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    if let Some(c) = char::from_u32(cp) {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    } else {
        out.push(0xE0 | (cp >> 12) as u8);
        out.push(0x80 | ((cp >> 6) & 0x3F) as u8);
        out.push(0x80 | (cp & 0x3F) as u8);
    }
}

/// Jackson's 1-based (line, column) of a byte offset, columns counted in characters.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    // A cold path (error messages): no need for a bytecount crate.
    #[allow(clippy::naive_bytecount)]
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let column = 1 + String::from_utf8_lossy(&before[line_start..]).chars().count();
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex_number(s: &str) -> Result<String, String> {
        let mut c = Cursor::new(s);
        c.number().map(str::to_owned).map_err(|e| e.message.clone())
    }

    #[test]
    fn numbers_follow_json_grammar() {
        assert_eq!(lex_number("-12.5e+3,").unwrap(), "-12.5e+3");
        assert_eq!(lex_number("0]").unwrap(), "0");
        assert_eq!(lex_number("01").unwrap_err(), "Invalid numeric value: Leading zeroes not allowed");
        assert!(lex_number("1.}").unwrap_err().contains("Decimal point not followed by a digit"));
        assert!(lex_number("1e}").unwrap_err().contains("Exponent indicator not followed by a digit"));
        assert!(lex_number("-x").unwrap_err().contains("to follow minus sign"));
        assert!(lex_number("-Infinity").unwrap_err().starts_with("Non-standard token '-Infinity'"));
    }

    #[test]
    fn strings_decode_escapes_and_surrogates() {
        let mut c = Cursor::new(r#""a\"b\u00e9\ud83d\ude00\ud800x""#);
        let s = c.string().unwrap();
        let mut expected = "a\"bé😀".as_bytes().to_vec();
        expected.extend_from_slice(&[0xED, 0xA0, 0x80, b'x']);
        assert_eq!(s.as_ref(), expected.as_slice());
        let mut c = Cursor::new(r#""plain""#);
        assert!(matches!(c.string().unwrap(), Cow::Borrowed(b"plain")));
    }

    #[test]
    fn string_errors_are_jacksons() {
        let mut c = Cursor::new("\"a\nb\"");
        assert!(c.string().unwrap_err().message.starts_with("Illegal unquoted character ((CTRL-CHAR, code 10))"));
        let mut c = Cursor::new(r#""a\qb""#);
        assert_eq!(c.string().unwrap_err().message, "Unrecognized character escape 'q' (code 113)");
        let mut c = Cursor::new(r#""abc"#);
        assert!(c.string().unwrap_err().message.starts_with("Unexpected end-of-input"));
    }

    #[test]
    fn special_bytes_are_found_in_every_position() {
        for len in 0..40 {
            for special in [b'"', b'\\', b'\n', 0x1f] {
                for at in 0..len {
                    let mut text = "é".repeat(len).into_bytes();
                    text.truncate(len);
                    for b in &mut text {
                        if *b < 0x80 {
                            *b = b'a';
                        }
                    }
                    text[at] = special;
                    assert_eq!(special_byte(&text, 0), at, "{text:?}");
                    assert_eq!(crate::simd::special_byte_swar(&text, 0), at, "{text:?}");
                }
                assert_eq!(special_byte(&vec![b'x'; len], 0), len);
            }
        }
    }

    #[test]
    fn utf8_errors() {
        assert_eq!(check_utf8(b"ab\xffc").unwrap_err().message, "Invalid UTF-8 start byte 0xff");
        assert_eq!(check_utf8(b"a\xc3(").unwrap_err().message, "Invalid UTF-8 middle byte 0x28");
    }

    #[test]
    fn literals_and_bad_tokens() {
        let mut c = Cursor::new("true,");
        c.literal(b"true").unwrap();
        assert_eq!(c.pos, 4);
        let mut c = Cursor::new("this");
        assert_eq!(
            c.literal(b"true").unwrap_err().message,
            "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        );
        let c = Cursor::new("NaN");
        assert!(c.bad_value().message.starts_with("Non-standard token 'NaN'"));
        let c = Cursor::new("}");
        assert_eq!(c.bad_value().message, "Unexpected character ('}' (code 125)): expected a value");
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_column("{\"a\": 1}", 5), (1, 6));
        assert_eq!(line_column("{\n  \"é\": x", 10), (2, 8));
    }
}
