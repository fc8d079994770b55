//! A batch of SNS messages read from Python with the GIL held, kept in a form the core can match
//! with the GIL released.

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use rulebus_core::machine::Message;
use rulebus_core::Attribute;

use crate::errors::retyped;
use crate::{attribute_list, message_attributes, text, Input, OwnedAttribute, Text};

/// A message body: a `str` or `bytes` whose text is read in place when the batch is matched, or
/// the text it had to be converted to.
enum Body<'py> {
    InPlace(Bound<'py, PyAny>),
    Converted(Vec<u8>),
}

/// The messages of a batch, each a body (if any) and its attributes.
pub(crate) struct Messages<'py> {
    bodies: Vec<Option<Body<'py>>>,
    attributes: Vec<Vec<OwnedAttribute>>,
}

impl<'py> Messages<'py> {
    /// Reads each item of `events` as `RuleSet.matches` reads its arguments: a 2-tuple is
    /// `(body, attributes)`, anything else a body; None is an absent body or attributes. Items
    /// are taken one at a time and reading stops at the first that cannot be read, raising what
    /// `matches` raises for it (the body is read before the attributes).
    pub(crate) fn read(events: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = events.py();
        let mut messages = Self { bodies: Vec::new(), attributes: Vec::new() };
        for item in events.try_iter().map_err(|e| retyped(py, e))? {
            let item = item?;
            let (body, attributes) = match item.cast::<PyTuple>() {
                Ok(pair) if pair.len() == 2 => (pair.get_item(0)?, Some(pair.get_item(1)?)),
                _ => (item, None),
            };
            let body = if body.is_none() {
                None
            } else {
                match text(&body, Input::Event)? {
                    Text::Borrowed(_) => Some(Body::InPlace(body)),
                    Text::Owned(converted) => Some(Body::Converted(converted)),
                }
            };
            let attributes = match attributes {
                Some(a) if !a.is_none() => message_attributes(&a)?,
                _ => Vec::new(),
            };
            messages.bodies.push(body);
            messages.attributes.push(attributes);
        }
        Ok(messages)
    }

    /// Calls `f` with the batch as the core reads it (borrowing the bodies read in place).
    pub(crate) fn with_batch<R>(&self, f: impl FnOnce(&[Message<'_>]) -> R) -> PyResult<R> {
        let bodies: Vec<Option<Text<'_>>> = self
            .bodies
            .iter()
            .map(|body| match body {
                None => Ok(None),
                // Read in place when the batch was read, so again now.
                Some(Body::InPlace(object)) => text(object, Input::Event).map(Some),
                Some(Body::Converted(converted)) => Ok(Some(Text::Borrowed(converted))),
            })
            .collect::<PyResult<_>>()?;
        let attributes: Vec<Vec<Attribute<'_>>> = self.attributes.iter().map(|a| attribute_list(a)).collect();
        let batch: Vec<Message<'_>> = bodies
            .iter()
            .zip(&attributes)
            .map(|(body, attributes)| Message { body: body.as_ref().map(Text::bytes), attributes })
            .collect();
        Ok(f(&batch))
    }
}
