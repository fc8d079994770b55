//! The memory store's queues: `StoredMessage` (one message and its delivery state), `MemoryQueue`
//! (one queue's messages, ordered by `rulebus_messaging::queue::MessageQueue`), `Tokens` (unique ids
//! and nonces) and `put_plain_many` (a topic's or a bus's fan-out stored in one call).
//!
//! The SQS rules stay in Python (`rulebus.stores.queues`); this is only where the messages live, so that
//! the per-message work of a send, a receive or a fan-out is not interpreted Python.

use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use md5::{Digest, Md5};
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use rulebus_messaging::plain::is_plain_text;
use rulebus_messaging::queue::{Held, MessageQueue};

use crate::notice::Notice;

/// One message and its delivery state, immutable: a change is a new message (`replace`,
/// `received`). `md5_of_body` is computed on first read when not given, so a fan-out does not
/// hash bodies nobody has received yet.
#[pyclass(frozen, module = "rulebus._core")]
pub struct StoredMessage {
    #[pyo3(get)]
    message_id: Py<PyString>,
    #[pyo3(get)]
    body: Py<PyString>,
    md5_of_body: PyOnceLock<Py<PyString>>,
    #[pyo3(get)]
    message_attributes: Py<PyAny>,
    #[pyo3(get)]
    md5_of_message_attributes: Option<Py<PyAny>>,
    #[pyo3(get)]
    sender_id: Py<PyAny>,
    #[pyo3(get)]
    sent_timestamp: f64,
    #[pyo3(get)]
    visible_at: f64,
    #[pyo3(get)]
    receive_count: i64,
    #[pyo3(get)]
    first_receive_timestamp: Option<f64>,
    #[pyo3(get)]
    last_receive_timestamp: Option<f64>,
    #[pyo3(get)]
    message_group_id: Option<Py<PyAny>>,
    #[pyo3(get)]
    message_deduplication_id: Option<Py<PyAny>>,
    #[pyo3(get)]
    sequence_number: Option<Py<PyAny>>,
    #[pyo3(get)]
    dead_letter_source_arn: Option<Py<PyAny>>,
    /// The AWSTraceHeader system attribute the send carried; most messages have none (a None
    /// costs no allocation).
    #[pyo3(get)]
    aws_trace_header: Option<Py<PyAny>>,
}

/// A message's id and the MD5 of its body, as SendMessageBatch answers them.
type IdAndDigest = (Py<PyString>, Py<PyString>);

/// The hex MD5 of `bytes` (SQS's MD5OfBody of a body's UTF-8).
fn md5_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(32);
    for byte in Md5::digest(bytes) {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

/// A new Python object for `message`, which the cycle collector does not track: a message
/// refers only to strings, numbers and its attribute dict (which holds strings and bytes), so it
/// can never be part of a reference cycle, and a queue of a million messages would otherwise be
/// traversed by every full collection.
fn untracked(py: Python<'_>, message: StoredMessage) -> PyResult<Py<StoredMessage>> {
    let object = Py::new(py, message)?;
    forget_tracking(&object);
    Ok(object)
}

/// Takes a native object the store keeps out of the cycle collector's lists (see `untracked`).
pub(crate) fn forget_tracking<T>(object: &Py<T>) {
    // SAFETY: a live object of a GC type (every pyclass is one), with the GIL held by the
    // caller's `py` token; untracking an object that is not tracked does nothing.
    unsafe { pyo3::ffi::PyObject_GC_UnTrack(object.as_ptr().cast()) };
}

fn known_md5(py: Python<'_>, md5: Option<Py<PyString>>) -> PyOnceLock<Py<PyString>> {
    let lock = PyOnceLock::new();
    if let Some(md5) = md5 {
        let _ = lock.set(py, md5);
    }
    lock
}

fn copy(py: Python<'_>, value: Option<&Py<PyAny>>) -> Option<Py<PyAny>> {
    value.map(|v| v.clone_ref(py))
}

/// A value of `replace(**changes)`: None, or what the field holds.
fn optional<'py, T: FromPyObjectOwned<'py>>(value: &Bound<'py, PyAny>) -> PyResult<Option<T>> {
    if value.is_none() {
        Ok(None)
    } else {
        value.extract().map(Some).map_err(Into::into)
    }
}

impl StoredMessage {
    fn copy(&self, py: Python<'_>) -> Self {
        Self {
            message_id: self.message_id.clone_ref(py),
            body: self.body.clone_ref(py),
            md5_of_body: known_md5(py, self.md5_of_body.get(py).map(|m| m.clone_ref(py))),
            message_attributes: self.message_attributes.clone_ref(py),
            md5_of_message_attributes: copy(py, self.md5_of_message_attributes.as_ref()),
            sender_id: self.sender_id.clone_ref(py),
            sent_timestamp: self.sent_timestamp,
            visible_at: self.visible_at,
            receive_count: self.receive_count,
            first_receive_timestamp: self.first_receive_timestamp,
            last_receive_timestamp: self.last_receive_timestamp,
            message_group_id: copy(py, self.message_group_id.as_ref()),
            message_deduplication_id: copy(py, self.message_deduplication_id.as_ref()),
            sequence_number: copy(py, self.sequence_number.as_ref()),
            dead_letter_source_arn: copy(py, self.dead_letter_source_arn.as_ref()),
            aws_trace_header: copy(py, self.aws_trace_header.as_ref()),
        }
    }

    /// A plain message: no attributes, no group, never received.
    fn plain(
        py: Python<'_>,
        id: &str,
        body: Py<PyString>,
        md5: Option<Py<PyString>>,
        sender: &Bound<'_, PyAny>,
        now: f64,
        visible_at: f64,
    ) -> Self {
        Self {
            message_id: PyString::new(py, id).unbind(),
            body,
            md5_of_body: known_md5(py, md5),
            message_attributes: PyDict::new(py).into_any().unbind(),
            md5_of_message_attributes: None,
            sender_id: sender.clone().unbind(),
            sent_timestamp: now,
            visible_at,
            receive_count: 0,
            first_receive_timestamp: None,
            last_receive_timestamp: None,
            message_group_id: None,
            message_deduplication_id: None,
            sequence_number: None,
            dead_letter_source_arn: None,
            aws_trace_header: None,
        }
    }

    /// See `received`.
    fn receive(mut self, now: f64, visibility_timeout: f64) -> Self {
        self.visible_at = now + visibility_timeout;
        self.receive_count += 1;
        self.first_receive_timestamp.get_or_insert(now);
        self.last_receive_timestamp = Some(now);
        self
    }
}

#[pymethods]
impl StoredMessage {
    #[new]
    #[pyo3(signature = (
        message_id, body, md5_of_body, message_attributes, md5_of_message_attributes, sender_id,
        sent_timestamp, visible_at, receive_count = 0, first_receive_timestamp = None,
        last_receive_timestamp = None, message_group_id = None, message_deduplication_id = None,
        sequence_number = None, dead_letter_source_arn = None, aws_trace_header = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        message_id: Py<PyString>,
        body: Py<PyString>,
        md5_of_body: Option<Py<PyString>>,
        message_attributes: Py<PyAny>,
        md5_of_message_attributes: Option<Py<PyAny>>,
        sender_id: Py<PyAny>,
        sent_timestamp: f64,
        visible_at: f64,
        receive_count: i64,
        first_receive_timestamp: Option<f64>,
        last_receive_timestamp: Option<f64>,
        message_group_id: Option<Py<PyAny>>,
        message_deduplication_id: Option<Py<PyAny>>,
        sequence_number: Option<Py<PyAny>>,
        dead_letter_source_arn: Option<Py<PyAny>>,
        aws_trace_header: Option<Py<PyAny>>,
    ) -> Self {
        Self {
            message_id,
            body,
            md5_of_body: known_md5(py, md5_of_body),
            message_attributes,
            md5_of_message_attributes,
            sender_id,
            sent_timestamp,
            visible_at,
            receive_count,
            first_receive_timestamp,
            last_receive_timestamp,
            message_group_id,
            message_deduplication_id,
            sequence_number,
            dead_letter_source_arn,
            aws_trace_header,
        }
    }

    /// SQS's MD5OfBody: the hex MD5 of the body's UTF-8 bytes.
    #[getter]
    fn md5_of_body(&self, py: Python<'_>) -> Py<PyString> {
        self.md5_of_body
            .get_or_init(py, || PyString::new(py, &md5_hex(self.body.bind(py).to_string_lossy().as_bytes())).unbind())
            .clone_ref(py)
    }

    /// This message with some fields changed (``dataclasses.replace``'s contract).
    #[pyo3(signature = (**changes))]
    fn replace(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Py<Self>> {
        let mut new = self.copy(py);
        let Some(changes) = changes else { return untracked(py, new) };
        let mut body_changed = false;
        let mut md5_given = false;
        for (key, value) in changes.iter() {
            let key = key.cast::<PyString>()?;
            match &*key.to_cow()? {
                "message_id" => new.message_id = value.extract()?,
                "body" => {
                    new.body = value.extract()?;
                    body_changed = true;
                }
                "md5_of_body" => {
                    new.md5_of_body = known_md5(py, optional(&value)?);
                    md5_given = true;
                }
                "message_attributes" => new.message_attributes = value.unbind(),
                "md5_of_message_attributes" => new.md5_of_message_attributes = optional(&value)?,
                "sender_id" => new.sender_id = value.unbind(),
                "sent_timestamp" => new.sent_timestamp = value.extract()?,
                "visible_at" => new.visible_at = value.extract()?,
                "receive_count" => new.receive_count = value.extract()?,
                "first_receive_timestamp" => new.first_receive_timestamp = optional(&value)?,
                "last_receive_timestamp" => new.last_receive_timestamp = optional(&value)?,
                "message_group_id" => new.message_group_id = optional(&value)?,
                "message_deduplication_id" => new.message_deduplication_id = optional(&value)?,
                "sequence_number" => new.sequence_number = optional(&value)?,
                "dead_letter_source_arn" => new.dead_letter_source_arn = optional(&value)?,
                "aws_trace_header" => new.aws_trace_header = optional(&value)?,
                other => return Err(PyTypeError::new_err(format!("StoredMessage has no field {other:?}"))),
            }
        }
        if body_changed && !md5_given {
            new.md5_of_body = PyOnceLock::new();
        }
        untracked(py, new)
    }

    /// This message as a receive at ``now`` leaves it: hidden for ``visibility_timeout``
    /// seconds, its receive count one higher, its receive timestamps set.
    fn received(&self, py: Python<'_>, now: f64, visibility_timeout: f64) -> PyResult<Py<Self>> {
        untracked(py, self.copy(py).receive(now, visibility_timeout))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "StoredMessage(message_id={}, receive_count={}, visible_at={})",
            self.message_id.bind(py).repr()?,
            self.receive_count,
            self.visible_at
        ))
    }
}

/// What a memory queue needs of its record (a `rulebus.stores.queues.QueueRecord`), read when it is set.
struct Settings {
    fifo: bool,
    maximum_message_size: usize,
    delay_seconds: f64,
    retention: f64,
}

impl Settings {
    fn of(record: &Bound<'_, PyAny>) -> PyResult<Self> {
        let attributes = record.getattr("attributes")?;
        Ok(Self {
            fifo: attributes.getattr("fifo_queue")?.extract()?,
            maximum_message_size: attributes.getattr("maximum_message_size")?.extract()?,
            delay_seconds: attributes.getattr("delay_seconds")?.extract()?,
            retention: attributes.getattr("message_retention_period")?.extract()?,
        })
    }
}

/// A plain message's body: the caller's string, or one notification's text around this
/// delivery's middle piece (``head + middle + tail``), kept in pieces until someone reads it.
pub(crate) enum Body {
    Text(Py<PyString>),
    /// The middle is shared too: a topic's fan-out keeps each subscription's piece from one
    /// publish to the next. Python references, not `Arc`s: under the GIL their counts are
    /// plain increments, where an `Arc`'s locked one waited on the stores before it (a
    /// fan-out's new messages, written to fresh memory).
    Wrapped {
        notice: Py<Notice>,
        middle: Py<PyString>,
    },
}

/// A plain message as a fan-out stores it: what `StoredMessage::plain` would hold, without
/// making the Python object (nor, for a wrapped body, the text) until the message is read.
/// Most of a fan-out's messages are read once, by the receive that takes them. Its id, sent
/// time and visibility are the queue's (`Held`), not kept twice. A SendMessageBatch's message
/// keeps the MD5 of its body, which the send answered with; a fan-out's is computed when read.
struct Plain {
    body: Body,
    md5: Option<Py<PyString>>,
    sender: Py<PyAny>,
}

/// What a memory queue keeps per message.
enum Stored {
    Object(Py<StoredMessage>),
    Plain(Plain),
}

impl Plain {
    /// The message, given what its queue keeps beside it (`Held`).
    fn message(&self, py: Python<'_>, id: &str, sent: f64, visible_at: f64) -> PyResult<StoredMessage> {
        let body = match &self.body {
            Body::Text(text) => text.clone_ref(py),
            Body::Wrapped { notice, middle } => {
                PyString::new(py, &notice.get().text_with(py, crate::strings::utf8(middle.bind(py))?)?).unbind()
            }
        };
        let md5 = self.md5.as_ref().map(|md5| md5.clone_ref(py));
        Ok(StoredMessage::plain(py, id, body, md5, self.sender.bind(py), sent, visible_at))
    }
}

impl Stored {
    /// The message as a `StoredMessage`, made once: the slot keeps the object from then on.
    fn object(py: Python<'_>, held: Held<'_, Stored>) -> PyResult<Py<StoredMessage>> {
        let Held { id, sent, visible_at, message } = held;
        let object = match message {
            Stored::Object(object) => return Ok(object.clone_ref(py)),
            Stored::Plain(plain) => untracked(py, plain.message(py, id, sent, visible_at)?)?,
        };
        *message = Stored::Object(object.clone_ref(py));
        Ok(object)
    }

    /// The message as a receive at ``now`` leaves it (`StoredMessage::received`); a plain one is
    /// made straight in that state, not made once as it was and then copied.
    fn received(
        py: Python<'_>,
        held: &Held<'_, Stored>,
        now: f64,
        visibility_timeout: f64,
    ) -> PyResult<Py<StoredMessage>> {
        match &*held.message {
            Stored::Object(object) => object.get().received(py, now, visibility_timeout),
            Stored::Plain(plain) => {
                let message = plain.message(py, held.id, held.sent, held.visible_at)?;
                untracked(py, message.receive(now, visibility_timeout))
            }
        }
    }
}

/// One queue of the memory store: its record, its messages, and the FIFO bookkeeping the store
/// keeps beside them (``deduplication``, ``attempts``: plain dicts the store reads and writes).
/// Not thread-safe by itself: the store calls it under its lock.
#[pyclass(module = "rulebus._core")]
pub struct MemoryQueue {
    messages: MessageQueue<Stored>,
    record: Py<PyAny>,
    settings: Settings,
    #[pyo3(get)]
    deduplication: Py<PyDict>,
    #[pyo3(get)]
    attempts: Py<PyDict>,
}

impl MemoryQueue {
    /// Stores a plain message of a fan-out (a standard queue, a plain body within the queue's
    /// maximum size: the caller's `plain` says whether the text is); false, storing nothing,
    /// when this delivery must take SendMessage's long way instead.
    pub(crate) fn put_plain(
        &mut self,
        body: Body,
        length: usize,
        plain: bool,
        sender: &Bound<'_, PyAny>,
        now: f64,
        tokens: &Tokens,
    ) -> bool {
        let settings = &self.settings;
        if settings.fifo || !plain || length == 0 || length > settings.maximum_message_size {
            return false;
        }
        let visible_at = now + settings.delay_seconds;
        let message = Plain { body, md5: None, sender: sender.clone().unbind() };
        tokens.with_new(|id| self.messages.add(id, Stored::Plain(message), now, visible_at, false, now));
        true
    }

    fn file(&mut self, py: Python<'_>, message: Py<StoredMessage>, now: f64, new: bool) -> PyResult<bool> {
        forget_tracking(&message); // made in Python perhaps: kept here, it need not be tracked
        let m = message.get();
        let id = m.message_id.clone_ref(py);
        let (sent, visible_at, received) = (m.sent_timestamp, m.visible_at, m.receive_count > 0);
        let message = Stored::Object(message);
        let id = crate::strings::utf8(id.bind(py))?;
        if new {
            self.messages.add(id, message, sent, visible_at, received, now);
            Ok(true)
        } else {
            Ok(self.messages.update(id, message, visible_at, received, now))
        }
    }
}

#[pymethods]
impl MemoryQueue {
    #[new]
    fn new(py: Python<'_>, record: Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            messages: MessageQueue::new(),
            settings: Settings::of(&record)?,
            record: record.unbind(),
            deduplication: PyDict::new(py).unbind(),
            attempts: PyDict::new(py).unbind(),
        })
    }

    /// SendMessageBatch's usual entries in one call: each of ``bodies`` stored as a new plain
    /// message from ``sender_id`` sent at ``now`` (visible after the queue's DelaySeconds), when
    /// this is a standard queue and every body is plain for it (`is_plain_body`). Returns each
    /// message's (id, MD5 of its body), in order; None, having stored nothing, otherwise.
    fn put_plain_batch(
        &mut self,
        py: Python<'_>,
        bodies: &Bound<'_, PyList>,
        sender_id: &Bound<'_, PyAny>,
        now: f64,
        tokens: &Tokens,
    ) -> PyResult<Option<Vec<IdAndDigest>>> {
        let limit = i64::try_from(self.settings.maximum_message_size).unwrap_or(i64::MAX);
        if self.settings.fifo || !bodies.iter().all(|body| is_plain_body(&body, limit)) {
            return Ok(None);
        }
        let visible_at = now + self.settings.delay_seconds;
        let mut stored = Vec::with_capacity(bodies.len());
        for body in bodies.iter() {
            let text = body.cast_into::<PyString>()?;
            let md5 = PyString::new(py, &md5_hex(crate::strings::utf8(&text)?.as_bytes())).unbind();
            let message = Plain {
                body: Body::Text(text.unbind()),
                md5: Some(md5.clone_ref(py)),
                sender: sender_id.clone().unbind(),
            };
            let id = tokens.with_new(|id| {
                self.messages.add(id, Stored::Plain(message), now, visible_at, false, now);
                PyString::new(py, id).unbind()
            });
            stored.push((id, md5));
        }
        Ok(Some(stored))
    }

    /// The queue's ``QueueRecord``; setting it re-reads the attributes this queue uses.
    #[getter]
    fn record(&self, py: Python<'_>) -> Py<PyAny> {
        self.record.clone_ref(py)
    }

    #[setter]
    fn set_record(&mut self, record: Bound<'_, PyAny>) -> PyResult<()> {
        self.settings = Settings::of(&record)?;
        self.record = record.unbind();
        Ok(())
    }

    /// A new message, last in send order.
    fn add(&mut self, py: Python<'_>, message: Py<StoredMessage>, now: f64) -> PyResult<()> {
        self.file(py, message, now, true).map(drop)
    }

    /// A message already here changed; KeyError when it is not here.
    fn update(&mut self, py: Python<'_>, message: Py<StoredMessage>, now: f64) -> PyResult<()> {
        let id = message.get().message_id.clone_ref(py);
        if self.file(py, message, now, false)? {
            Ok(())
        } else {
            Err(PyKeyError::new_err(id))
        }
    }

    /// Removes a message; False when it was not here.
    fn remove(&mut self, message_id: &str) -> bool {
        self.messages.remove(message_id).is_some()
    }

    fn clear(&mut self) {
        self.messages.clear();
    }

    /// Hidden messages whose time has come become visible.
    fn promote(&mut self, now: f64) {
        self.messages.promote(now);
    }

    /// The oldest visible message, without a place until ``update`` or ``remove``; None when
    /// none is visible. Call ``promote`` first.
    fn take(&mut self, py: Python<'_>, now: f64) -> PyResult<Option<Py<StoredMessage>>> {
        self.messages.take_held(now).map(|held| Stored::object(py, held)).transpose()
    }

    /// A standard receive without redrive: up to ``max_messages`` of the oldest visible
    /// messages, each received at ``now`` (hidden for ``visibility_timeout``), in send order.
    fn receive(
        &mut self,
        py: Python<'_>,
        max_messages: usize,
        now: f64,
        visibility_timeout: f64,
    ) -> PyResult<Vec<Py<StoredMessage>>> {
        self.messages.promote(now);
        let mut taken = Vec::with_capacity(max_messages.min(16));
        while taken.len() < max_messages {
            let Some(held) = self.messages.take_held(now) else { break };
            taken.push(Stored::received(py, &held, now, visibility_timeout)?);
        }
        // Filed only now: with a visibility timeout of 0 a message is visible again at once,
        // and one receive must not return it twice.
        for message in &taken {
            self.file(py, message.clone_ref(py), now, false)?;
        }
        Ok(taken)
    }

    /// Removes the messages past the retention period at ``now``.
    fn drop_expired(&mut self, now: f64) -> usize {
        self.messages.drop_expired(now - self.settings.retention)
    }

    /// ``(visible, in flight, delayed)`` at ``now``, after dropping the expired messages and
    /// promoting the due ones: read from the filing, not by looking at each message, unless the
    /// clock went back.
    fn counts(&mut self, now: f64) -> (usize, usize, usize) {
        let counts = self.messages.settled_counts(now, now - self.settings.retention);
        (counts.visible, counts.in_flight, counts.delayed)
    }

    /// Received messages still hidden: exact after ``promote(now)``.
    #[getter]
    fn in_flight_count(&self) -> usize {
        self.messages.in_flight()
    }

    #[pyo3(signature = (message_id, default = None))]
    fn get(&mut self, py: Python<'_>, message_id: &str, default: Option<Py<PyAny>>) -> PyResult<Option<Py<PyAny>>> {
        match self.messages.get_held(message_id) {
            Some(held) => Ok(Some(Stored::object(py, held)?.into_any())),
            None => Ok(default),
        }
    }

    fn __getitem__(&mut self, py: Python<'_>, message_id: &str) -> PyResult<Py<StoredMessage>> {
        match self.messages.get_held(message_id) {
            Some(held) => Stored::object(py, held),
            None => Err(PyKeyError::new_err(message_id.to_string())),
        }
    }

    fn __contains__(&self, message_id: &str) -> bool {
        self.messages.contains(message_id)
    }

    fn __len__(&self) -> usize {
        self.messages.len()
    }

    /// Every message, in send order.
    fn values<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let objects = self.messages.iter_held().map(|held| Stored::object(py, held)).collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objects)
    }

    /// The first `limit` messages in send order that were sent after `cutoff` (a peek: it makes
    /// objects of what it shows only, however long the queue).
    fn peek<'py>(&mut self, py: Python<'py>, limit: usize, cutoff: f64) -> PyResult<Bound<'py, PyList>> {
        let objects = self
            .messages
            .iter_held()
            .filter(|held| held.sent > cutoff)
            .take(limit)
            .map(|held| Stored::object(py, held))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objects)
    }
}

/// Unique tokens, cheaply: a prefix drawn at random by the caller (per process; again in a
/// forked child) and a counter, formatted as a version-4 UUID whose last 12 digits count.
#[pyclass(frozen, module = "rulebus._core")]
pub struct Tokens {
    state: Mutex<(String, u64)>,
}

impl Tokens {
    fn mint_into(&self, token: &mut String) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (prefix, counter) = &mut *state;
        token.clear();
        token.push_str(prefix);
        // The counter's low 48 bits as 12 hex digits (by hand: the formatter costs more).
        let value = *counter & 0xFFFF_FFFF_FFFF;
        token
            .extend((0..12).rev().map(|digit| char::from(b"0123456789abcdef"[((value >> (4 * digit)) & 15) as usize])));
        *counter = counter.wrapping_add(1);
    }

    pub(crate) fn mint(&self) -> String {
        let mut token = String::with_capacity(36);
        self.mint_into(&mut token);
        token
    }

    /// `f` of a new token, written in a buffer of the thread's: no allocation of its own.
    pub(crate) fn with_new<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        thread_local! {
            static TOKEN: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        TOKEN.with_borrow_mut(|token| {
            self.mint_into(token);
            f(token)
        })
    }
}

#[pymethods]
impl Tokens {
    #[new]
    fn new(prefix: String) -> Self {
        Self { state: Mutex::new((prefix, 0)) }
    }

    /// Start again from a new prefix (a forked child must not repeat its parent's tokens).
    fn reseed(&self, prefix: String) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = (prefix, 0);
    }

    fn next(&self) -> String {
        self.mint()
    }

    /// A new receipt handle for one receive of ``message_id`` from ``queue``: URL-safe base64
    /// (padded) of ``"rb1\n<queue>\n<message id>\n<a new token>"`` (see rulebus.stores.queues).
    fn receipt_handle(&self, queue: &str, message_id: &str) -> String {
        let mut raw = String::with_capacity(queue.len() + message_id.len() + 44);
        raw.push_str("rb1\n");
        raw.push_str(queue);
        raw.push('\n');
        raw.push_str(message_id);
        raw.push('\n');
        let mut token = String::with_capacity(36);
        self.mint_into(&mut token);
        raw.push_str(&token);
        base64::engine::general_purpose::URL_SAFE.encode(raw)
    }
}

/// Stores each ``(queue name, body)`` of ``deliveries`` in ``queues`` (a dict of `MemoryQueue`)
/// as a new plain message from ``sender_id`` sent at ``now``; returns the indices of those not
/// taken (queue missing or FIFO, body not plain for it). See `Store.put_plain_many`.
#[pyfunction]
pub fn put_plain_many(
    queues: &Bound<'_, PyDict>,
    deliveries: &Bound<'_, PyAny>,
    sender_id: &Bound<'_, PyAny>,
    now: f64,
    tokens: &Tokens,
) -> PyResult<Vec<usize>> {
    let mut refused = Vec::new();
    for (index, delivery) in deliveries.try_iter()?.enumerate() {
        let delivery = delivery?;
        let pair = delivery.cast::<PyTuple>()?;
        let (name, text) = (pair.get_item(0)?, pair.get_item(1)?);
        let Some(queue) = queues.get_item(&name)? else {
            refused.push(index);
            continue;
        };
        let mut queue = queue.cast::<MemoryQueue>()?.borrow_mut();
        let Ok(text) = text.cast_into::<PyString>() else {
            refused.push(index);
            continue;
        };
        let Ok(piece) = crate::strings::utf8(&text) else {
            refused.push(index);
            continue;
        };
        let (length, plain) = (piece.len(), is_plain_text(piece));
        if !queue.put_plain(Body::Text(text.unbind()), length, plain, sender_id, now, tokens) {
            refused.push(index);
        }
    }
    Ok(refused)
}

/// Whether ``body`` passes every check of SendMessage on a standard queue with no attributes:
/// a ``str`` (exactly), printable ASCII perhaps on lines, not empty, within ``limit`` bytes (see
/// `rulebus_messaging::plain`). The one check of a plain body: what Python's sends take the
/// short way on is what `put_plain_many` and the fan-out store. A call on the send hot path: a
/// compact ASCII string's UTF-8 is its own data, so `to_str` copies nothing.
#[pyfunction]
pub fn is_plain_body(body: &Bound<'_, PyAny>, limit: i64) -> bool {
    let Ok(limit) = usize::try_from(limit) else {
        return false; // (a negative limit admits nothing)
    };
    // Exactly a str, as SendMessage's checks ask (a subclass may override what they read).
    let Ok(text) = body.cast_exact::<PyString>() else {
        return false;
    };
    // A str that is not ASCII is not plain; asking for its UTF-8 would have CPython keep a copy
    // in the str for as long as it lives (a stored body, perhaps), so its flag is read first.
    #[cfg(not(any(Py_3_14, PyPy, GraalPy, Py_LIMITED_API)))]
    // SAFETY: `text` is a live str, with the GIL held (its `py` token).
    if unsafe { pyo3::ffi::PyUnicode_IS_ASCII(text.as_ptr()) } == 0 {
        return false;
    }
    #[cfg(Py_LIMITED_API)]
    if !crate::strings::is_ascii(text).unwrap_or(false) {
        return false;
    }
    crate::strings::utf8(text).is_ok_and(|text| rulebus_messaging::plain::is_plain_body(text, limit))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(is_plain_body, m)?)?;
    m.add_class::<StoredMessage>()?;
    m.add_class::<MemoryQueue>()?;
    m.add_class::<Tokens>()?;
    m.add_function(wrap_pyfunction!(put_plain_many, m)?)?;
    Ok(())
}
