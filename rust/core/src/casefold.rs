//! `equals-ignore-case`, as event-ruler implements it: each character of the pattern stands for
//! itself, its lower-case form and its upper-case form (whole-string mappings of that one
//! character, so `ß` also matches `SS`). This is not full Unicode case folding, and AWS's answers
//! follow this rule rather than folding (final sigma `ς` does not match `Σ`, for instance).

/// The alternatives of each pattern character, in pattern order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IgnoreCase {
    chars: Vec<Vec<Vec<u8>>>,
    ascii: Option<Vec<u8>>,
}

impl IgnoreCase {
    /// The pattern's text when it is all ASCII (then matching is comparing ASCII-lower-cased
    /// bytes, which is how many rules can share one index).
    pub fn ascii_text(&self) -> Option<&[u8]> {
        self.ascii.as_deref()
    }

    pub fn new(pattern: &[u8]) -> Self {
        let text = String::from_utf8_lossy(pattern);
        let chars = text
            .chars()
            .map(|c| {
                let mut alternatives: Vec<Vec<u8>> = vec![c.to_string().into_bytes()];
                for form in [c.to_lowercase().collect::<String>(), c.to_uppercase().collect::<String>()] {
                    let form = form.into_bytes();
                    if !alternatives.contains(&form) {
                        alternatives.push(form);
                    }
                }
                alternatives
            })
            .collect();
        Self { chars, ascii: pattern.is_ascii().then(|| pattern.to_vec()) }
    }

    /// The whole value matches.
    pub fn equals(&self, value: &[u8]) -> bool {
        // An ASCII character's lower- and upper-case forms are ASCII, so an all-ASCII pattern
        // matches exactly the values equal to it ignoring ASCII case: compared in place, with
        // no search (here and in the two below).
        match &self.ascii {
            Some(text) => value.eq_ignore_ascii_case(text),
            None => forward(&self.chars, value).any(|end| end == value.len()),
        }
    }

    /// A prefix of the value matches.
    pub fn is_prefix_of(&self, value: &[u8]) -> bool {
        match &self.ascii {
            Some(text) => value.get(..text.len()).is_some_and(|head| head.eq_ignore_ascii_case(text)),
            None => forward(&self.chars, value).next().is_some(),
        }
    }

    /// A suffix of the value matches.
    pub fn is_suffix_of(&self, value: &[u8]) -> bool {
        match &self.ascii {
            Some(text) => value.len() >= text.len() && value[value.len() - text.len()..].eq_ignore_ascii_case(text),
            None => backward(&self.chars, value),
        }
    }
}

/// Every end offset at which the character sequence matches a prefix of `value`. Alternatives of
/// one character are rarely prefixes of each other, so the search almost never branches.
fn forward<'a>(chars: &'a [Vec<Vec<u8>>], value: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let mut stack = vec![(0usize, 0usize)];
    std::iter::from_fn(move || {
        while let Some((k, at)) = stack.pop() {
            if k == chars.len() {
                return Some(at);
            }
            for alternative in &chars[k] {
                if value[at..].starts_with(alternative) {
                    stack.push((k + 1, at + alternative.len()));
                }
            }
        }
        None
    })
}

fn backward(chars: &[Vec<Vec<u8>>], value: &[u8]) -> bool {
    let mut stack = vec![(chars.len(), value.len())];
    while let Some((k, end)) = stack.pop() {
        if k == 0 {
            return true;
        }
        for alternative in &chars[k - 1] {
            if value[..end].ends_with(alternative) {
                stack.push((k - 1, end - alternative.len()));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::IgnoreCase;

    #[test]
    fn equals() {
        let p = IgnoreCase::new("EventBridge".as_bytes());
        assert!(p.equals(b"eventbridge"));
        assert!(p.equals(b"EVENTBRIDGE"));
        assert!(!p.equals(b"eventbridg"));
        assert!(IgnoreCase::new("ß".as_bytes()).equals(b"SS"));
        assert!(!IgnoreCase::new("ς".as_bytes()).equals("σ".as_bytes()));
        assert!(IgnoreCase::new(b"").equals(b""));
        assert!(!IgnoreCase::new(b"").equals(b"x"));
    }

    #[test]
    fn ascii_patterns_compare_in_place_as_the_search_does() {
        use proptest::prelude::*;
        let text = "[a-zA-Z0-9 ._ßſKİıΣσς-]{0,6}";
        proptest!(ProptestConfig::with_cases(5_000), |(pattern in "[a-zA-Z0-9 ._-]{0,4}", value in text)| {
            let p = IgnoreCase::new(pattern.as_bytes());
            let v = value.as_bytes();
            prop_assert!(p.ascii_text().is_some());
            prop_assert_eq!(p.equals(v), super::forward(&p.chars, v).any(|end| end == v.len()));
            prop_assert_eq!(p.is_prefix_of(v), super::forward(&p.chars, v).next().is_some());
            prop_assert_eq!(p.is_suffix_of(v), super::backward(&p.chars, v));
        });
    }

    #[test]
    fn prefix_and_suffix() {
        assert!(IgnoreCase::new(b"EventB").is_prefix_of(b"eventbridge"));
        assert!(!IgnoreCase::new(b"EventB").is_prefix_of(b"xeventbridge"));
        assert!(IgnoreCase::new(b".png").is_suffix_of(b"photo.PNG"));
        assert!(!IgnoreCase::new(b".png").is_suffix_of(b"photo.PNGx"));
        assert!(IgnoreCase::new(b"").is_suffix_of(b"abc"));
    }
}
