//! `wildcard` patterns: `*` matches any run of characters (the empty run included), `\*` is a
//! literal star and `\\` a literal backslash.

/// A parsed wildcard pattern: the literal pieces between its stars.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wildcard {
    /// The literal pieces; there is one more piece than there are stars.
    pieces: Vec<Vec<u8>>,
}

impl Wildcard {
    /// Parses a decoded wildcard string with event-ruler's messages (positions are 0-based).
    pub fn parse(text: &[u8]) -> Result<Self, String> {
        let mut pieces = vec![Vec::new()];
        let mut i = 0;
        let mut previous_star = false;
        while i < text.len() {
            match text[i] {
                b'\\' => {
                    i += 1;
                    match text.get(i) {
                        Some(&c @ (b'*' | b'\\')) => pieces.last_mut().expect("never empty").push(c),
                        _ => return Err(format!("Invalid escape character at pos {i}")),
                    }
                    previous_star = false;
                }
                b'*' => {
                    if previous_star {
                        return Err(format!("Consecutive wildcard characters at pos {i}"));
                    }
                    pieces.push(Vec::new());
                    previous_star = true;
                }
                c => {
                    pieces.last_mut().expect("never empty").push(c);
                    previous_star = false;
                }
            }
            i += 1;
        }
        Ok(Self { pieces })
    }

    /// The literal text before the first star and after the last one.
    pub fn ends(&self) -> (&[u8], &[u8]) {
        if self.pieces.len() == 1 {
            // No star: the whole pattern is one literal; index it as a prefix.
            return (&self.pieces[0], &[]);
        }
        (&self.pieces[0], &self.pieces[self.pieces.len() - 1])
    }

    /// The literal pieces between the stars, in order (one more than there are stars).
    pub fn pieces(&self) -> &[Vec<u8>] {
        &self.pieces
    }

    /// The number of stars.
    pub fn stars(&self) -> usize {
        self.pieces.len() - 1
    }

    /// Whether `value` matches the whole pattern. With only `*` as a metacharacter, placing each
    /// middle piece at its leftmost occurrence is optimal, so this runs in linear time.
    pub fn matches(&self, value: &[u8]) -> bool {
        let first = &self.pieces[0];
        if self.pieces.len() == 1 {
            return value == first.as_slice();
        }
        let last = &self.pieces[self.pieces.len() - 1];
        if value.len() < first.len() + last.len() || !value.starts_with(first) || !value.ends_with(last) {
            return false;
        }
        let mut rest = &value[first.len()..value.len() - last.len()];
        for piece in &self.pieces[1..self.pieces.len() - 1] {
            match memchr::memmem::find(rest, piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Wildcard;

    fn m(p: &str, v: &str) -> bool {
        Wildcard::parse(p.as_bytes()).unwrap().matches(v.as_bytes())
    }

    #[test]
    fn matching() {
        assert!(m("*", ""));
        assert!(m("a*b", "ab"));
        assert!(m("a*b", "axxb"));
        assert!(!m("a*b", "axxbc"));
        assert!(m("*.png", "x.png"));
        assert!(m("a*b*c", "abbc"));
        assert!(!m("ab*ba", "aba"));
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "axb"));
        assert!(m(r"a\\*", r"a\bc"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn errors() {
        assert_eq!(Wildcard::parse(b"a**b").unwrap_err(), "Consecutive wildcard characters at pos 2");
        assert_eq!(Wildcard::parse(br"a\b").unwrap_err(), "Invalid escape character at pos 2");
        assert_eq!(Wildcard::parse(br"a\").unwrap_err(), "Invalid escape character at pos 2");
        assert_eq!(Wildcard::parse(br"\**").unwrap().stars(), 1);
    }
}
