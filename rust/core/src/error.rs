//! The core's one error type, worded as AWS words it.

use std::fmt;

/// Which AWS front end a pattern belongs to: the wording of errors differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// EventBridge event patterns (InvalidEventPatternException).
    EventBridge,
    /// SNS subscription filter policies (InvalidParameter).
    Sns,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A pattern or policy that AWS refuses. `reason` is event-ruler's reason text; `location` the
    /// Jackson location suffix AWS appends to reasons raised while reading the pattern.
    InvalidPattern { dialect: Dialect, reason: String, location: Option<String> },
    /// SNS errors that are whole messages rather than a FilterPolicy reason (the scope errors).
    InvalidPolicyParameter { message: String },
    /// An event that cannot be matched (not JSON, not an object, or not an AWS envelope).
    InvalidEvent { message: String, reason: String },
}

impl Error {
    #[cold]
    pub fn pattern(dialect: Dialect, reason: impl Into<String>) -> Self {
        Error::InvalidPattern { dialect, reason: reason.into(), location: None }
    }

    /// A pattern error raised while the parser stood at `offset` of `text`.
    #[cold]
    pub fn pattern_at(dialect: Dialect, reason: impl Into<String>, text: &[u8], offset: usize) -> Self {
        Error::InvalidPattern { dialect, reason: reason.into(), location: Some(location(text, offset)) }
    }

    /// AWS's reason text (for the scope errors, the whole message).
    pub fn reason(&self) -> &str {
        match self {
            Error::InvalidPattern { reason, .. } | Error::InvalidEvent { reason, .. } => reason,
            Error::InvalidPolicyParameter { message } => message,
        }
    }

    /// AWS's whole message.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidPattern { dialect, reason, location } => {
                let head = match dialect {
                    Dialect::EventBridge => "Event pattern is not valid. Reason: ",
                    Dialect::Sns => "Invalid parameter: FilterPolicy: ",
                };
                let mut out = String::with_capacity(head.len() + reason.len() + 64);
                out.push_str(head);
                out.push_str(reason);
                if let Some(location) = location {
                    out.push_str(location);
                }
                out
            }
            Error::InvalidPolicyParameter { message } | Error::InvalidEvent { message, .. } => message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

/// Jackson's location suffix: `\n at [Source: (String)"<text>"; line: L, column: C]`.
#[cold]
pub fn location(text: &[u8], offset: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let (line, column) = crate::lexer::line_column(&text, offset);
    format!("\n at [Source: (String){}; line: {line}, column: {column}]", quote_source(&text))
}

/// Jackson quotes at most 500 characters of the source and says how many it left out.
pub fn quote_source(text: &str) -> String {
    const MAX: usize = 500;
    let count = text.chars().count();
    if count <= MAX {
        format!("\"{text}\"")
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("\"{head}\"[truncated {} chars]", count - MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_per_dialect() {
        let e = Error::pattern(Dialect::EventBridge, "Filter is not an object");
        assert_eq!(e.message(), "Event pattern is not valid. Reason: Filter is not an object");
        let e = Error::pattern(Dialect::Sns, "Filter policy is too complex");
        assert_eq!(e.message(), "Invalid parameter: FilterPolicy: Filter policy is too complex");
        let e = Error::pattern_at(Dialect::EventBridge, "\"x\" must be an object or an array", br#"{"x": "a"}"#, 9);
        assert_eq!(
            e.message(),
            "Event pattern is not valid. Reason: \"x\" must be an object or an array\n at [Source: (String)\"{\"x\": \"a\"}\"; line: 1, column: 10]"
        );
        assert_eq!(e.reason(), "\"x\" must be an object or an array");
    }

    #[test]
    fn long_sources_are_truncated() {
        let text = "a".repeat(510);
        assert_eq!(quote_source(&text), format!("\"{}\"[truncated 10 chars]", "a".repeat(500)));
    }
}
