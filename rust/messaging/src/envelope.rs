//! EventBridge's event envelope, written in one pass: PutEvents' hot path.
//!
//! PutEvents gets `Detail` as text that must hold exactly one JSON object (else the entry fails
//! with MalformedDetail). The envelope around it is fixed (the EventBridge user guide's "Amazon
//! EventBridge events"), so the event's text is the envelope's members with the detail spliced
//! in: validated by the fast skipper (the full grammar, nesting counted from the envelope's own
//! level) and stripped of the whitespace between tokens, its tokens kept as sent. Strings of the
//! envelope are escaped as Python's `json` module escapes them (`"`, `\`, and control
//! characters; everything else as is), so the text is the one the Python layer would write for
//! the same members.

use std::fmt::Write as _;

use rulebus_core::skip;

/// The members of one event besides its detail, in the envelope's key order.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub id: &'a str,
    pub detail_type: &'a str,
    pub source: &'a str,
    pub account: &'a str,
    pub time: &'a str,
    pub region: &'a str,
    pub resources: &'a [&'a str],
}

/// The event's compact JSON text, or `None` when `detail` is not exactly one JSON object
/// (whitespace around it aside) or nests too deep: PutEvents' MalformedDetail.
#[must_use]
pub fn event_text(envelope: &Envelope<'_>, detail: &str) -> Option<String> {
    let b = detail.as_bytes();
    let start = skip::ws(b, 0);
    if b.get(start) != Some(&b'{') {
        return None;
    }
    // Depth 1: the detail is a member of the envelope, which is an object itself.
    let end = skip::value(b, start, 1)?;
    if skip::ws(b, end) != b.len() {
        return None;
    }
    let mut out = String::with_capacity(capacity(envelope, end - start));
    out.push_str(r#"{"version":"0","id":"#);
    quote(&mut out, envelope.id);
    out.push_str(r#","detail-type":"#);
    quote(&mut out, envelope.detail_type);
    out.push_str(r#","source":"#);
    quote(&mut out, envelope.source);
    out.push_str(r#","account":"#);
    quote(&mut out, envelope.account);
    out.push_str(r#","time":"#);
    quote(&mut out, envelope.time);
    out.push_str(r#","region":"#);
    quote(&mut out, envelope.region);
    out.push_str(r#","resources":["#);
    for (i, resource) in envelope.resources.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote(&mut out, resource);
    }
    out.push_str(r#"],"detail":"#);
    compact(&mut out, &detail[start..end]);
    out.push('}');
    Some(out)
}

/// The length of the event's text when no string needs an escape (the usual case): one
/// allocation, where a guess short of it would copy the text again as it grows.
fn capacity(envelope: &Envelope<'_>, detail: usize) -> usize {
    // The keys, quotes, colons, commas and brackets around the members.
    const FIXED: usize = r#"{"version":"0","id":"","detail-type":"","source":"","account":"","time":"","region":"","resources":[],"detail":}"#.len();
    let Envelope { id, detail_type, source, account, time, region, resources } = envelope;
    let strings = [id, detail_type, source, account, time, region].iter().map(|s| s.len()).sum::<usize>();
    // Each quoted, with a comma between two.
    let resources = resources.iter().map(|r| r.len() + 3).sum::<usize>().saturating_sub(1);
    FIXED + strings + resources + detail
}

/// `text` as a JSON string, escaped as Python's `json.dumps(ensure_ascii=False)` escapes it
/// (and orjson: `"`, `\\`, and the control characters, `\b\f\n\r\t` short, the rest `\u00xx`).
pub fn quote(out: &mut String, text: &str) {
    out.push('"');
    // Most strings need no escape: one scan that vectorises (no early exit), then one copy.
    if text.bytes().fold(0u8, |escape, b| escape | u8::from(b < 0x20 || b == b'"' || b == b'\\')) != 0 {
        escape_into(out, text);
    } else {
        out.push_str(text);
    }
    out.push('"');
}

/// The length in bytes of `text` quoted by `quote`.
pub(crate) fn quoted_len(text: &str) -> usize {
    let extra: usize = text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..0x20 => 5,
            _ => 0,
        })
        .sum();
    text.len() + extra + 2
}

fn escape_into(out: &mut String, text: &str) {
    let mut plain = 0;
    for (i, c) in text.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&text[plain..i]);
        if escape.is_empty() {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escape);
        }
        plain = i + c.len_utf8();
    }
    out.push_str(&text[plain..]);
}

/// Valid JSON without the whitespace between its tokens (strings copied as they are).
fn compact(out: &mut String, json: &str) {
    let b = json.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                // Validated already: the string ends at its closing quote.
                let (close, _) = skip::string_end(b, i + 1).unwrap_or((b.len() - 1, false));
                i = close + 1;
            }
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.push_str(&json[copied..i]);
                i = skip::ws(b, i);
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&json[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope<'a>(resources: &'a [&'a str]) -> Envelope<'a> {
        Envelope {
            id: "1f0c5e9e-0000-4000-8000-000000000000",
            detail_type: "Order \"Placed\"\n",
            source: "com.shop",
            account: "000000000000",
            time: "2026-11-29T00:00:00Z",
            region: "us-east-1",
            resources,
        }
    }

    #[test]
    fn writes_the_envelope_in_key_order() {
        let text = event_text(&envelope(&["r1", "r\\2"]), "{ \"a\" : [1, 2.50, \"x y\"] ,\n\"b\":{} }").unwrap();
        assert_eq!(
            text,
            r#"{"version":"0","id":"1f0c5e9e-0000-4000-8000-000000000000","detail-type":"Order \"Placed\"\n","source":"com.shop","account":"000000000000","time":"2026-11-29T00:00:00Z","region":"us-east-1","resources":["r1","r\\2"],"detail":{"a":[1,2.50,"x y"],"b":{}}}"#
        );
    }

    #[test]
    fn the_text_is_allotted_its_length_when_nothing_is_escaped() {
        let plain = Envelope { detail_type: "Order Placed", ..envelope(&["arn:aws:s3:::a", "r2"]) };
        for resources in [&[][..], &["r1"][..], plain.resources] {
            let plain = Envelope { resources, ..plain };
            let detail = r#"{"a":[1,2.50,"x y"],"b":{}}"#;
            let text = event_text(&plain, detail).unwrap();
            assert_eq!(capacity(&plain, detail.len()), text.len(), "{text}");
        }
    }

    #[test]
    fn control_characters_are_escaped_as_python_does() {
        let mut out = String::new();
        quote(&mut out, "a\u{1}é\u{7f}\u{8}\u{c}");
        assert_eq!(out, "\"a\\u0001é\u{7f}\\b\\f\"");
    }

    #[test]
    fn strings_keep_their_spaces_and_escapes() {
        let text = event_text(&envelope(&[]), r#"{"k": "a  b\" c\u00e9 ", "n": -0.0e+1}"#).unwrap();
        assert!(text.ends_with(r#""resources":[],"detail":{"k":"a  b\" c\u00e9 ","n":-0.0e+1}}"#));
    }

    #[test]
    fn malformed_details_are_refused() {
        for bad in [
            "",
            " ",
            "[1]",
            "\"x\"",
            "1",
            "null",
            "{",
            "{\"a\":}",
            "{\"a\":1} x",
            "{\"a\":1}{}",
            "{'a':1}",
            "{\"a\":NaN}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":01}",
        ] {
            assert!(event_text(&envelope(&[]), bad).is_none(), "{bad:?}");
        }
        let deep = format!("{}{}", "{\"a\":".repeat(1000), "}".repeat(1000));
        assert!(event_text(&envelope(&[]), &deep).is_none());
        let fine = format!("{}1{}", "{\"a\":".repeat(998), "}".repeat(998));
        assert!(event_text(&envelope(&[]), &fine).is_some());
        assert!(event_text(&envelope(&[]), " \n{} \t").is_some());
    }
}
