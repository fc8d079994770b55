//! What a plain SQS body is: a body that passes every check of SendMessage on a standard queue
//! with no message attributes, so a fan-out or a send may store it without SendMessage's long
//! way. SQS accepts only `#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to
//! #x10FFFF` (Amazon SQS API Reference, "SendMessage"); "plain" is the narrower set that needs
//! no per-character check at all: printable ASCII, perhaps on lines.

/// Printable ASCII (`' '` to `'~'`), perhaps on lines (`'\n'`). No early exit, so that the scan
/// vectorises: bodies are nearly always plain.
#[must_use]
pub fn is_plain_text(text: &str) -> bool {
    text.bytes().fold(0u8, |bad, b| bad | u8::from(!((b' '..=b'~').contains(&b) || b == b'\n'))) == 0
}

/// A plain body within `limit` bytes (a queue's MaximumMessageSize): not empty, not longer, and
/// plain text. Its length in bytes is its length in characters, as it is ASCII.
#[must_use]
pub fn is_plain_body(text: &str, limit: usize) -> bool {
    !text.is_empty() && text.len() <= limit && is_plain_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_printable_ascii_on_lines() {
        for text in ["", "a", " ~", "line\nline", "{\"a\" : 1}\n", &"x".repeat(1000)] {
            assert!(is_plain_text(text), "{text:?}");
        }
        for text in ["\t", "\r", "\u{0}", "\u{1f}", "\u{7f}", "é", "a\u{80}", "ok\u{2713}", "\u{10ffff}"] {
            assert!(!is_plain_text(text), "{text:?}");
        }
    }

    #[test]
    fn every_byte_is_plain_exactly_when_printable_or_newline() {
        for b in 0u8..0x80 {
            let text = String::from(char::from(b));
            assert_eq!(is_plain_text(&text), (0x20..0x7f).contains(&b) || b == b'\n', "{b:#x}");
        }
    }

    #[test]
    fn a_plain_body_is_not_empty_and_within_the_limit() {
        assert!(!is_plain_body("", 10));
        assert!(is_plain_body("a", 1));
        assert!(!is_plain_body("ab", 1));
        assert!(is_plain_body(&"a".repeat(262_144), 262_144));
        assert!(!is_plain_body("a\tb", 10));
        assert!(!is_plain_body("a", 0));
    }
}
