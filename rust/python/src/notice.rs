//! One SNS notification's text before and after each subscription's piece (its UnsubscribeURL),
//! shared by every delivery of a publish to a memory queue.
//!
//! A topic's fan-out gives the notification's members rather than its text: the head (and its
//! placeholder signature, a SHA-256) is written the first time one of its deliveries is read,
//! once for all of them. Publish answers without it; its length and whether it is plain, which
//! the store needs at once, are worked out without writing it.

use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::types::PyString;

use rulebus_messaging::notification::Notification;

use crate::queue::forget_tracking;

/// What a topic's notification is written from (see `rulebus_messaging::notification`).
pub(crate) struct Members {
    /// `(TopicArn, SignatureVersion, SigningCertURL)`, shared by a call's publishes.
    pub(crate) topic: Arc<(String, String, String)>,
    pub(crate) message_id: Py<PyString>,
    pub(crate) subject: Option<Py<PyString>>,
    pub(crate) message: Py<PyString>,
    pub(crate) timestamp: Arc<str>,
}

impl Members {
    /// The members as the core's `Notification` (valid UTF-8: each was read as `&str` when the
    /// publish was stored).
    fn with<R>(&self, py: Python<'_>, f: impl FnOnce(&Notification<'_>) -> R) -> PyResult<R> {
        let (topic_arn, signature_version, signing_cert_url) = &*self.topic;
        let subject = match &self.subject {
            Some(subject) => Some(crate::strings::utf8(subject.bind(py))?),
            None => None,
        };
        let notification = Notification {
            message_id: crate::strings::utf8(self.message_id.bind(py))?,
            sequence_number: None, // (the fan-out serves standard topics only)
            topic_arn,
            subject,
            message: crate::strings::utf8(self.message.bind(py))?,
            timestamp: &self.timestamp,
            signature_version,
            signing_cert_url,
        };
        Ok(f(&notification))
    }
}

/// A Python object only so that deliveries share it by Python reference (see `queue::Body`).
#[pyclass(frozen, module = "rulebus._core")]
pub(crate) struct Notice {
    head: OnceLock<Box<str>>,
    /// What the head is written from.
    members: Members,
    head_len: usize,
    plain: bool,
    tail: Box<str>,
}

impl Notice {
    /// A notice whose head is written when first read; `plain` and `len` are known now.
    pub(crate) fn of(py: Python<'_>, members: Members, tail: String, tail_plain: bool) -> PyResult<Self> {
        let (head_len, plain) = members.with(py, |n| (n.head_len(), n.head_is_plain()))?;
        Ok(Self { head: OnceLock::new(), members, head_len, plain: plain && tail_plain, tail: tail.into() })
    }

    /// The notice as the object its deliveries share, which the cycle collector does not
    /// track: it refers only to strings, so it can be in no cycle, and a fan-out makes one a
    /// publish.
    pub(crate) fn shared(py: Python<'_>, notice: Self) -> PyResult<Py<Self>> {
        let object = Py::new(py, notice)?;
        forget_tracking(&object);
        Ok(object)
    }

    /// Whether head and tail are plain text (see `rulebus_messaging::plain`).
    pub(crate) fn is_plain(&self) -> bool {
        self.plain
    }

    /// The length in bytes of one delivery's text: head, `middle`, tail.
    pub(crate) fn len_with(&self, middle: &str) -> usize {
        self.head_and_tail_len() + middle.len()
    }

    pub(crate) fn head_and_tail_len(&self) -> usize {
        self.head_len + self.tail.len()
    }

    /// One delivery's text.
    pub(crate) fn text_with(&self, py: Python<'_>, middle: &str) -> PyResult<String> {
        let head = self.head(py)?;
        let mut text = String::with_capacity(self.len_with(middle));
        text.push_str(head);
        text.push_str(middle);
        text.push_str(&self.tail);
        Ok(text)
    }

    fn head(&self, py: Python<'_>) -> PyResult<&str> {
        if let Some(head) = self.head.get() {
            return Ok(head);
        }
        #[allow(clippy::redundant_closure_for_method_calls)] // `Notification::head` is not general enough
        let head = self.members.with(py, |notification| notification.head())?;
        Ok(self.head.get_or_init(|| head.into_boxed_str()))
    }
}
