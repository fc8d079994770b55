//! rulebus-core: Amazon EventBridge event patterns and Amazon SNS filter policies, compiled into
//! matchers with AWS's exact semantics and error texts. Pure Rust: no Python, no I/O.
//!
//! ```
//! use rulebus_core::Pattern;
//! let p = Pattern::new(br#"{"detail": {"amount": [{"numeric": [">", 100]}]}}"#).unwrap();
//! assert!(p.matches(br#"{"detail": {"amount": 120}}"#).unwrap());
//! ```

pub mod casefold;
pub mod cidr;
pub mod complexity;
pub mod error;
pub mod event;
pub mod explain;
pub mod json;
pub mod lexer;
pub mod machine;
pub mod number;
pub mod pattern;
pub mod policy;
pub mod rule;
pub mod simd;
pub mod skip;
pub mod structural;
pub mod value;
pub mod wildcard;

pub use error::{Dialect, Error};
pub use policy::{Attribute, FilterPolicy, Scope};

use std::cell::RefCell;

use event::{scan, Flattened, ScanError};
use rule::{Rule, Scratch};

/// The largest event pattern EventBridge accepts, in characters (PutRule, TestEventPattern).
pub const MAX_PATTERN_LENGTH: usize = 4096;

/// The envelope fields TestEventPattern requires of an event (`resources` is not required).
const ENVELOPE: [&[u8]; 6] = [b"id", b"account", b"source", b"time", b"region", b"detail-type"];

/// A compiled EventBridge event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    rule: Rule,
}

impl Pattern {
    /// Validates and compiles a pattern.
    pub fn new(text: &[u8]) -> Result<Self, Error> {
        Ok(Self { rule: pattern::build(expand_pattern(text)?, number::Numbers::EventBridge) })
    }

    /// Whether the event matches (array-consistent, as EventBridge matches).
    pub fn matches(&self, event: &[u8]) -> Result<bool, Error> {
        with_workspace(|flat, scratch| {
            scan(event, &self.rule.index, flat).map_err(|e| invalid_event(&e))?;
            Ok(self.rule.matches(flat, scratch))
        })
    }

    /// The compiled rule.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }
}

/// Each thread's matching buffers, so that a match allocates nothing once warm.
#[derive(Default)]
struct Workspace {
    flat: Flattened<'static>,
    scratch: Scratch,
}

thread_local! {
    static WORKSPACE: RefCell<Workspace> = RefCell::default();
}

/// Runs `f` with this thread's buffers (fresh ones if they are in use further up the stack).
pub fn with_workspace<'a, R>(f: impl FnOnce(&mut Flattened<'a>, &mut Scratch) -> R) -> R {
    WORKSPACE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut workspace) => {
            let workspace = &mut *workspace;
            let mut flat = std::mem::take(&mut workspace.flat).recycle();
            let result = f(&mut flat, &mut workspace.scratch);
            workspace.flat = flat.recycle();
            result
        }
        Err(_) => f(&mut Flattened::default(), &mut Scratch::default()),
    })
}

/// Validates an EventBridge pattern (its length included) and expands its `$or`s.
pub fn expand_pattern(text: &[u8]) -> Result<pattern::Expanded, Error> {
    let length = String::from_utf8_lossy(text).chars().count();
    if length > MAX_PATTERN_LENGTH {
        return Err(Error::pattern(Dialect::EventBridge, pattern_too_long(length)));
    }
    let expanded = pattern::Compiler::new(text, Dialect::EventBridge).expand()?.unwrap_or_default();
    check_wildcard_complexity(&expanded)?;
    Ok(expanded)
}

pub use complexity::MAX_WILDCARD_COMPLEXITY;

/// EventBridge refuses rules whose wildcards would make matching slow (see [`complexity`]).
fn check_wildcard_complexity(expanded: &pattern::Expanded) -> Result<(), Error> {
    if complexity::within_limit(expanded) {
        Ok(())
    } else {
        Err(Error::pattern(Dialect::EventBridge, complexity::TOO_COMPLEX))
    }
}

#[cold]
fn pattern_too_long(length: usize) -> String {
    format!("Event pattern must be at most {MAX_PATTERN_LENGTH} characters long, but is {length}")
}

/// The error for an event that cannot be scanned.
#[cold]
pub fn invalid_event(error: &ScanError) -> Error {
    let reason = match error {
        ScanError::NotAnObject => "Event must be a JSON object".to_owned(),
        ScanError::Syntax(e) => e.message.clone(),
    };
    Error::InvalidEvent { message: format!("Event is not valid: {reason}"), reason }
}

/// AWS's TestEventPattern: validates the pattern, then requires the event to be a JSON object
/// with the envelope fields (their types are not checked), then matches.
pub fn test_event_pattern(pattern: &[u8], event: &[u8]) -> Result<bool, Error> {
    let pattern = Pattern::new(pattern)?;
    let invalid = || Error::InvalidEvent {
        message: "Parameter Event is not valid.".into(),
        reason: "Parameter Event is not valid.".into(),
    };
    let root = json::parse(event).map_err(|_| invalid())?;
    let json::Json::Object(entries) = &root.value else { return Err(invalid()) };
    if !ENVELOPE.iter().all(|field| entries.iter().any(|e| e.key == *field)) {
        return Err(invalid());
    }
    pattern.matches(event).map_err(|_| invalid())
}
