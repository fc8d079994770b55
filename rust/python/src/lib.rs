//! Python bindings of rulebus-core and rulebus-messaging: input conversion and the mapping of the
//! core's errors to Python exceptions, in one place. No matching logic lives here.

mod convert;
mod errors;
mod fan_out;
mod json_request;
mod json_response;
mod messages;
mod notice;
mod plans;
mod put_events;
mod query_form;
mod queue;
mod strings;

use std::panic::{catch_unwind, AssertUnwindSafe};

#[cfg(any(not(Py_LIMITED_API), Py_3_11))]
use pyo3::buffer::PyBuffer;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};

use std::sync::{Arc, Mutex, PoisonError, RwLock, TryLockError};

use rustc_hash::FxHashMap;

use pyo3::exceptions::PyValueError;
use rulebus_core::machine::{Machine, Message, PolicyMachine};
use rulebus_core::{Attribute, Dialect, Error, Scope};

use errors::{guard, retyped, rule_not_found, text_argument, to_py, type_error};

/// Events larger than this are matched with the GIL released.
const RELEASE_GIL_ABOVE: usize = 64 * 1024;

/// JSON text borrowed from a `str` or `bytes`, or owned when it had to be copied or serialised.
enum Text<'py> {
    Borrowed(&'py [u8]),
    Owned(Vec<u8>),
}

impl Text<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Text::Borrowed(b) => b,
            Text::Owned(v) => v,
        }
    }
}

/// What an input is, for the error its conversion may raise.
#[derive(Clone, Copy)]
enum Input {
    Pattern(Dialect),
    Event,
}

impl Input {
    fn name(self) -> &'static str {
        match self {
            Input::Pattern(Dialect::EventBridge) => "pattern",
            Input::Pattern(Dialect::Sns) => "policy",
            Input::Event => "event",
        }
    }

    /// The error for a mapping nested too deeply to serialise.
    #[cold]
    fn too_deep(self) -> Error {
        let reason = "Document nesting depth exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)";
        match self {
            Input::Pattern(dialect) => Error::pattern(dialect, reason),
            Input::Event => {
                Error::InvalidEvent { message: format!("Event is not valid: {reason}"), reason: reason.into() }
            }
        }
    }
}

fn text<'py>(obj: &'py Bound<'py, PyAny>, input: Input) -> PyResult<Text<'py>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Text::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        if let Ok(s) = crate::strings::utf8(s) {
            return Ok(Text::Borrowed(s.as_bytes()));
        }
        // A str with lone surrogates has no UTF-8 form: the core gets the surrogates' own
        // (invalid) UTF-8 bytes and refuses them as any invalid UTF-8, as AWS does.
        let bytes = s.call_method1("encode", ("utf-8", "surrogatepass"))?;
        return Ok(Text::Owned(bytes.cast::<PyBytes>()?.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Text::Owned(b.to_vec()));
    }
    #[cfg(any(not(Py_LIMITED_API), Py_3_11))]
    if let Ok(buffer) = PyBuffer::<u8>::get(obj) {
        return Ok(Text::Owned(buffer.to_vec(obj.py())?));
    }
    // (The stable ABI reads a buffer only from 3.11: before, through a memoryview's bytes.)
    #[cfg(all(Py_LIMITED_API, not(Py_3_11)))]
    if let Ok(view) = pyo3::types::PyMemoryView::from(obj) {
        let bytes = view.call_method0(pyo3::intern!(obj.py(), "tobytes"))?;
        return Ok(Text::Owned(bytes.cast::<PyBytes>()?.as_bytes().to_vec()));
    }
    if obj.is_instance_of::<PyDict>() || obj.hasattr("keys")? && obj.hasattr("__getitem__")? {
        return Ok(Text::Owned(convert::mapping_json(obj, || to_py(obj.py(), &input.too_deep()))?));
    }
    Err(type_error(
        obj.py(),
        format!(
            "{} must be str, bytes, bytearray, memoryview or a mapping, not {}",
            input.name(),
            obj.get_type().name()?
        ),
    ))
}

/// Runs `f` on `input`, releasing the GIL when the input is large.
fn on_input<T: Send>(py: Python<'_>, input: &[u8], f: impl FnOnce(&[u8]) -> Result<T, Error> + Send) -> PyResult<T> {
    if input.len() > RELEASE_GIL_ABOVE {
        let result = py.detach(|| catch_unwind(AssertUnwindSafe(|| f(input))));
        guard(py, || result.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    } else {
        guard(py, || f(input))
    }
}

/// An EventBridge event pattern, validated and compiled once, matched many times.
#[pyclass(frozen, module = "rulebus._core")]
struct Pattern {
    inner: rulebus_core::Pattern,
    text: String,
}

#[pymethods]
impl Pattern {
    #[new]
    fn new(py: Python<'_>, pattern: &Bound<'_, PyAny>) -> PyResult<Self> {
        let source = text(pattern, Input::Pattern(Dialect::EventBridge))?;
        let inner = guard(py, || rulebus_core::Pattern::new(source.bytes()))?;
        Ok(Self { inner, text: String::from_utf8_lossy(source.bytes()).into_owned() })
    }

    /// The pattern's JSON text.
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    /// Whether the event matches.
    fn matches(&self, py: Python<'_>, event: &Bound<'_, PyAny>) -> PyResult<bool> {
        let event = text(event, Input::Event)?;
        on_input(py, event.bytes(), |e| self.inner.matches(e))
    }

    /// Why the event does not match: one dict per failing condition (empty when it matches).
    fn explain(&self, py: Python<'_>, event: &Bound<'_, PyAny>) -> PyResult<Vec<Py<PyAny>>> {
        let event = text(event, Input::Event)?;
        let reasons = guard(py, || rulebus_core::explain::explain(self.text.as_bytes(), event.bytes()))?;
        reasons_to_py(py, &reasons)
    }

    fn __repr__(&self) -> String {
        format!("Pattern({:?})", self.text)
    }
}

/// An SNS subscription filter policy for one scope.
#[pyclass(frozen, module = "rulebus._core")]
struct FilterPolicy {
    inner: rulebus_core::FilterPolicy,
    text: String,
}

#[pymethods]
impl FilterPolicy {
    #[new]
    // `scope` is read here, not by PyO3, so that a wrong type is a RulebusError; absent (or None)
    // it is MessageAttributes.
    #[pyo3(signature = (policy, scope = None), text_signature = "(policy, scope='MessageAttributes')")]
    fn new(py: Python<'_>, policy: &Bound<'_, PyAny>, scope: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let scope = match scope {
            Some(scope) if !scope.is_none() => text_argument(py, scope, "scope")?,
            _ => "MessageAttributes",
        };
        let scope = guard(py, || Scope::parse(scope))?;
        let source = text(policy, Input::Pattern(Dialect::Sns))?;
        let inner = guard(py, || rulebus_core::FilterPolicy::new(source.bytes(), scope))?;
        Ok(Self { inner, text: String::from_utf8_lossy(source.bytes()).into_owned() })
    }

    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    #[getter]
    fn scope(&self) -> &'static str {
        self.inner.scope().as_str()
    }

    /// Whether SNS would deliver the message to this subscription.
    #[pyo3(signature = (attributes = None, body = None))]
    fn matches(
        &self,
        py: Python<'_>,
        attributes: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        match self.message(py, attributes, body, "matches")? {
            SnsMessage::Body(body) => on_input(py, body.bytes(), |b| Ok(self.inner.matches_body(b))),
            SnsMessage::Attributes(owned) => {
                let list = attribute_list(&owned);
                guard(py, || Ok(self.inner.matches_attributes(&list)))
            }
        }
    }

    /// Why SNS would not deliver the message to this subscription: one dict per failing
    /// condition (see `Pattern.explain`); empty when it would.
    #[pyo3(signature = (attributes = None, body = None))]
    fn explain(
        &self,
        py: Python<'_>,
        attributes: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let policy = self.text.as_bytes();
        let reasons = match self.message(py, attributes, body, "explains")? {
            SnsMessage::Body(body) => guard(py, || rulebus_core::explain::explain_policy_body(policy, body.bytes()))?,
            SnsMessage::Attributes(owned) => {
                let list = attribute_list(&owned);
                guard(py, || rulebus_core::explain::explain_policy_attributes(policy, &list))?
            }
        };
        reasons_to_py(py, &reasons)
    }

    fn __repr__(&self) -> String {
        format!("FilterPolicy({:?}, scope={:?})", self.text, self.inner.scope().as_str())
    }
}

type OwnedAttribute = (String, String, Option<Vec<u8>>);

/// The part of a message a filter policy reads: its body (MessageBody scope) or its attributes.
enum SnsMessage<'py> {
    Body(Text<'py>),
    Attributes(Vec<OwnedAttribute>),
}

impl FilterPolicy {
    /// The part of the message this policy's scope reads, from `matches`' or `explain`'s
    /// arguments (`verb` words the error when a body policy gets no body).
    fn message<'py>(
        &self,
        py: Python<'py>,
        attributes: Option<&'py Bound<'py, PyAny>>,
        body: Option<&'py Bound<'py, PyAny>>,
        verb: &str,
    ) -> PyResult<SnsMessage<'py>> {
        match self.inner.scope() {
            Scope::MessageBody => match body {
                Some(body) => Ok(SnsMessage::Body(text(body, Input::Event)?)),
                None => Err(type_error(py, format!("a MessageBody policy {verb} a message body: pass body="))),
            },
            Scope::MessageAttributes => Ok(SnsMessage::Attributes(match attributes {
                Some(a) if !a.is_none() => message_attributes(a)?,
                _ => Vec::new(),
            })),
        }
    }
}

/// Reads message attributes in the notification form (`{"Type", "Value"}`) or boto3's Publish
/// form (`{"DataType", "StringValue" | "BinaryValue"}`).
/// Python's own TypeErrors (a name or value of the wrong type) come out as `type_error`s.
fn message_attributes(attributes: &Bound<'_, PyAny>) -> PyResult<Vec<OwnedAttribute>> {
    read_message_attributes(attributes).map_err(|e| retyped(attributes.py(), e))
}

fn read_message_attributes<'py>(attributes: &Bound<'py, PyAny>) -> PyResult<Vec<OwnedAttribute>> {
    let py = attributes.py();
    let items = attributes
        .call_method0("items")
        .map_err(|_| type_error(attributes.py(), "attributes must be a mapping of name -> attribute"))?;
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let (name, attribute): (String, Bound<'py, PyAny>) = item?.extract()?;
        if !(attribute.is_instance_of::<PyDict>() || attribute.hasattr("keys")? && attribute.hasattr("__getitem__")?) {
            return Err(type_error(
                attribute.py(),
                format!(
                    "message attribute {name:?} must be a mapping such as {{\"Type\": \"String\", \"Value\": \"...\"}}"
                ),
            ));
        }
        // A plain dict is read without raising (and catching) a KeyError per absent member.
        let dict = attribute.cast_exact::<PyDict>().ok();
        let field = |key: &Bound<'py, PyString>| -> PyResult<Option<Bound<'py, PyAny>>> {
            if let Some(dict) = dict {
                return dict.get_item(key);
            }
            match attribute.get_item(key) {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyError>(attribute.py()) => Ok(None),
                Err(e) => Err(e),
            }
        };
        let data_type = match field(intern!(py, "Type"))?.or(field(intern!(py, "DataType"))?) {
            Some(t) => t.extract::<String>()?,
            None => {
                return Err(type_error(
                    attribute.py(),
                    format!("message attribute {name:?} needs a Type (or DataType)"),
                ))
            }
        };
        let value = match field(intern!(py, "Value"))?.or(field(intern!(py, "StringValue"))?) {
            Some(v) if v.is_instance_of::<PyString>() => Some(v.extract::<String>()?.into_bytes()),
            // The SNS documentation writes Number values as JSON numbers; take their text.
            Some(v)
                if !v.is_instance_of::<pyo3::types::PyBool>() && v.is_instance_of::<pyo3::types::PyFloat>()
                    || v.is_instance_of::<pyo3::types::PyInt>() && !v.is_instance_of::<pyo3::types::PyBool>() =>
            {
                Some(crate::strings::utf8(&v.str()?)?.as_bytes().to_vec())
            }
            _ => None,
        };
        out.push((name, data_type, value));
    }
    Ok(out)
}

/// The compiled rules of a RuleSet, by dialect. (One per RuleSet: the size of the larger
/// variant does not matter.)
#[allow(clippy::large_enum_variant)]
enum Rules {
    EventBridge(Machine),
    Sns(PolicyMachine),
}

impl Rules {
    fn len(&self) -> usize {
        match self {
            Rules::EventBridge(m) => m.len(),
            Rules::Sns(m) => m.len(),
        }
    }

    fn contains(&self, name: &str) -> bool {
        match self {
            Rules::EventBridge(m) => m.contains(name),
            Rules::Sns(m) => m.contains(name),
        }
    }

    fn names(&self) -> Vec<String> {
        match self {
            Rules::EventBridge(m) => m.names().map(str::to_owned).collect(),
            Rules::Sns(m) => m.names().map(str::to_owned).collect(),
        }
    }

    fn remove(&mut self, name: &str) -> bool {
        match self {
            Rules::EventBridge(m) => m.remove(name),
            Rules::Sns(m) => m.remove(name),
        }
    }

    fn needs_prepare(&self) -> bool {
        match self {
            Rules::EventBridge(m) => m.needs_prepare(),
            Rules::Sns(m) => m.needs_prepare(),
        }
    }

    fn prepare(&mut self) {
        match self {
            Rules::EventBridge(m) => m.prepare(),
            Rules::Sns(m) => m.prepare(),
        }
    }
}

/// Many named rules of one dialect, matched together.
#[pyclass(frozen, module = "rulebus._core")]
struct RuleSet {
    dialect: Dialect,
    names_cache: NameCache,
    // Readers share the lock while matching (GIL released); `add` and `remove` take it
    // exclusively, so a batch sees the rules as they were when it started.
    rules: RwLock<Rules>,
}

impl RuleSet {
    /// Runs `f` on the rules, ready to match (indexes left stale by changes are rebuilt first,
    /// once). Lock discipline: never wait for the lock while holding the GIL, or a writer
    /// waiting for a reader that waits for the GIL would deadlock. The lock is only tried with
    /// the GIL held; waiting happens with the GIL released.
    fn view<R: Send>(&self, py: Python<'_>, f: impl FnOnce(&Rules) -> Result<R, Error> + Send) -> PyResult<R> {
        self.view_releasing(py, false, f)
    }

    /// `view`, releasing the GIL for the work itself when `release` (batches, large events).
    fn view_releasing<R: Send>(
        &self,
        py: Python<'_>,
        release: bool,
        f: impl FnOnce(&Rules) -> Result<R, Error> + Send,
    ) -> PyResult<R> {
        let ready = if release {
            None
        } else {
            match self.rules.try_read() {
                Ok(rules) => (!rules.needs_prepare()).then_some(rules),
                Err(TryLockError::Poisoned(p)) => Some(p.into_inner()).filter(|r| !r.needs_prepare()),
                Err(TryLockError::WouldBlock) => None,
            }
        };
        if let Some(rules) = ready {
            return guard(py, || f(&rules));
        }
        let result = py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| loop {
                let rules = self.rules.read().unwrap_or_else(PoisonError::into_inner);
                if !rules.needs_prepare() {
                    return f(&rules);
                }
                drop(rules);
                self.rules.write().unwrap_or_else(PoisonError::into_inner).prepare();
            }))
        });
        guard(py, || result.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    }

    /// Runs `f` on the rules exclusively, with the GIL released while it waits and works.
    fn change<R: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut Rules) -> Result<R, Error> + Send) -> PyResult<R> {
        let result = py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| {
                // A panic while writing is caught before it could leave the rules half-changed,
                // so a poisoned lock still guards consistent rules.
                f(&mut self.rules.write().unwrap_or_else(PoisonError::into_inner))
            }))
        });
        guard(py, || result.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    }

    /// Matches a batch of EventBridge events: the matched rule slots of each, and the names of
    /// every slot that matched, taken while the rules cannot change.
    fn match_batch(&self, py: Python<'_>, events: &[&[u8]], release: bool) -> PyResult<Found> {
        self.view_releasing(py, release, |rules| {
            let machine = Self::machine(rules);
            let mut found = Found { slots: Vec::new(), ends: Vec::with_capacity(events.len()), names: Vec::new() };
            for (i, event) in events.iter().enumerate() {
                match machine.matches_slots(event, &mut found.slots) {
                    Ok(()) => found.ends.push(found.slots.len()),
                    Err(Error::InvalidEvent { message, reason }) if events.len() > 1 => {
                        return Err(Error::InvalidEvent { message: format!("event {i}: {message}"), reason })
                    }
                    Err(e) => return Err(e),
                }
            }
            found.name_slots(|slot| machine.slot_name_shared(slot));
            Ok(found)
        })
    }

    /// Matches a batch of SNS messages with the GIL released: the policies each passes (their
    /// positions in the set's names as slots), and the names of those that matched, taken while
    /// the rules cannot change.
    fn match_messages(&self, py: Python<'_>, messages: &[Message<'_>]) -> PyResult<Found> {
        self.view_releasing(py, true, |rules| {
            let Rules::Sns(machine) = rules else { unreachable!("checked by dialect") };
            let mut found = Found { slots: Vec::new(), ends: Vec::new(), names: Vec::new() };
            machine.matches_messages(messages, &mut found.slots, &mut found.ends);
            found.name_slots(|position| machine.name_shared(position));
            Ok(found)
        })
    }

    fn machine(rules: &Rules) -> &Machine {
        match rules {
            Rules::EventBridge(m) => m,
            Rules::Sns(_) => unreachable!("checked by dialect"),
        }
    }
}

/// The result of a batch: per event, the matched rule slots (`slots[ends[i-1]..ends[i]]`), and
/// the name of each slot that matched. (SNS rule sets number their policies by position in
/// `names()`; the name cache's identity check keeps a position's name honest after a removal.)
struct Found {
    slots: Vec<u32>,
    ends: Vec<usize>,
    names: Vec<(u32, Arc<str>)>,
}

/// Python strings of rule names by slot (SNS: by position), kept from batch to batch: a match then costs a
/// reference count, not a new string. An entry holds the name's `Arc`, so its identity check
/// cannot be fooled by a freed name's address being reused.
type NameCache = Mutex<FxHashMap<u32, (Arc<str>, Py<PyString>)>>;

impl Found {
    /// Takes the name of each slot that matched, once.
    fn name_slots<'a>(&mut self, name: impl Fn(u32) -> Option<&'a Arc<str>>) {
        let mut seen = vec![false; self.slots.iter().max().map_or(0, |&m| m as usize + 1)];
        for &slot in &self.slots {
            if !std::mem::replace(&mut seen[slot as usize], true) {
                if let Some(name) = name(slot) {
                    self.names.push((slot, name.clone()));
                }
            }
        }
    }

    /// One Python list of names per event.
    fn lists<'py>(&self, py: Python<'py>, cache: &NameCache) -> PyResult<Vec<Bound<'py, PyList>>> {
        let size = self.names.iter().map(|&(slot, _)| slot as usize + 1).max().unwrap_or(0);
        let mut strings: Vec<Option<Bound<'py, PyString>>> = vec![None; size];
        {
            let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
            for (slot, name) in &self.names {
                strings[*slot as usize] = Some(cached_name(py, &mut cache, *slot, name));
            }
        }
        let mut start = 0;
        let mut out = Vec::with_capacity(self.ends.len());
        for &end in &self.ends {
            let names = self.slots[start..end].iter().filter_map(|&s| strings[s as usize].as_ref());
            out.push(untracked(PyList::new(py, names)?));
            start = end;
        }
        Ok(out)
    }
}

/// The Python string of the name of the rule in `slot`, from the cache when it holds this very
/// name (see `NameCache`), else made and kept.
fn cached_name<'py>(
    py: Python<'py>,
    cache: &mut FxHashMap<u32, (Arc<str>, Py<PyString>)>,
    slot: u32,
    name: &Arc<str>,
) -> Bound<'py, PyString> {
    match cache.get(&slot) {
        Some((held, string)) if Arc::ptr_eq(held, name) => string.bind(py).clone(),
        _ => {
            let string = PyString::new(py, name);
            cache.insert(slot, (name.clone(), string.clone().unbind()));
            string
        }
    }
}

/// `list` taken out of the cycle collector's care. A batch's result lists hold only strings,
/// so they cannot be part of a reference cycle; tracked, the thousands made per batch would
/// trigger collections that walk every long-lived container in the program (measured: 15% of
/// `matches_many` over citylots2 with the events held in one list).
fn untracked(list: Bound<'_, PyList>) -> Bound<'_, PyList> {
    // SAFETY: the list is alive (we hold a reference) and the GIL is held; untracking an object
    // the collector tracks is always allowed.
    unsafe { pyo3::ffi::PyObject_GC_UnTrack(list.as_ptr().cast()) };
    list
}

fn names(found: Vec<&str>) -> Vec<String> {
    found.into_iter().map(str::to_owned).collect()
}

#[pymethods]
impl RuleSet {
    #[new]
    #[pyo3(signature = (dialect = "eventbridge"))]
    fn new(dialect: &str) -> PyResult<Self> {
        let dialect = match dialect {
            "eventbridge" => Dialect::EventBridge,
            "sns" => Dialect::Sns,
            other => {
                return Err(PyValueError::new_err(format!("dialect must be \"eventbridge\" or \"sns\", not {other:?}")))
            }
        };
        let rules = match dialect {
            Dialect::EventBridge => Rules::EventBridge(Machine::new()),
            Dialect::Sns => Rules::Sns(PolicyMachine::new()),
        };
        Ok(Self { dialect, rules: RwLock::new(rules), names_cache: Mutex::default() })
    }

    /// "eventbridge" or "sns".
    #[getter]
    fn dialect(&self) -> &'static str {
        match self.dialect {
            Dialect::EventBridge => "eventbridge",
            Dialect::Sns => "sns",
        }
    }

    /// Adds a rule, or replaces the rule of that name. A bad pattern raises and leaves the set
    /// unchanged. `scope` is the SNS filter policy scope (sns dialect only).
    #[pyo3(signature = (name, pattern, scope = None))]
    fn add(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        pattern: &Bound<'_, PyAny>,
        scope: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let name = text_argument(py, name, "name")?;
        let scope = scope.filter(|s| !s.is_none()).map(|s| text_argument(py, s, "scope")).transpose()?;
        let source = text(pattern, Input::Pattern(self.dialect))?;
        let scope = match (self.dialect, scope) {
            (Dialect::EventBridge, None) => None,
            (Dialect::EventBridge, Some(_)) => {
                return Err(type_error(py, "scope applies to the sns dialect only"));
            }
            (Dialect::Sns, scope) => Some(guard(py, || Scope::parse(scope.unwrap_or("MessageAttributes")))?),
        };
        let bytes = source.bytes();
        // The machines validate first and change nothing on error.
        self.change(py, |rules| match (rules, scope) {
            (Rules::EventBridge(m), _) => m.add_pattern(name, bytes),
            (Rules::Sns(m), Some(scope)) => m.add_policy(name, bytes, scope),
            (Rules::Sns(_), None) => unreachable!("scope set for sns"),
        })
    }

    /// Removes the rule of that name (`NotFound`, a KeyError, if there is none).
    fn remove(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = text_argument(py, name, "name")?;
        let removed = self.change(py, |rules| {
            let slot = match rules {
                Rules::EventBridge(m) => m.slot(name),
                Rules::Sns(_) => None,
            };
            Ok(rules.remove(name).then_some(slot))
        })?;
        if let Some(slot) = removed {
            if let Some(slot) = slot {
                self.names_cache.lock().unwrap_or_else(PoisonError::into_inner).remove(&slot);
            }
            Ok(())
        } else {
            Err(rule_not_found(py, name))
        }
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.view(py, |rules| Ok(rules.len()))
    }

    fn __contains__(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        self.view(py, |rules| Ok(rules.contains(name)))
    }

    /// The rules' names, in the order they were first added.
    fn names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.view(py, |rules| Ok(rules.names()))
    }

    /// Size of the compiled rules: {"rules", "states", "bytes"} (bytes approximate).
    fn stats(&self, py: Python<'_>) -> PyResult<std::collections::HashMap<&'static str, usize>> {
        self.view(py, |rules| {
            let (states, bytes) = match rules {
                Rules::EventBridge(m) => (m.states(), m.approximate_bytes()),
                Rules::Sns(m) => (m.states(), m.approximate_bytes()),
            };
            Ok([("rules", rules.len()), ("states", states), ("bytes", bytes)].into_iter().collect())
        })
    }

    /// The names of the rules the event matches (sns dialect: the message body and
    /// attributes).
    #[pyo3(signature = (event = None, attributes = None))]
    fn matches(
        &self,
        py: Python<'_>,
        event: Option<&Bound<'_, PyAny>>,
        attributes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyList>> {
        match self.dialect {
            Dialect::EventBridge => {
                let Some(event) = event else {
                    return Err(type_error(py, "matches() needs an event"));
                };
                let event = text(event, Input::Event)?;
                // One event: its rules' names taken while the rules cannot change, without the
                // tables a batch keeps to name each rule once (a call's cost when many match).
                let release = event.bytes().len() > RELEASE_GIL_ABOVE;
                let matched = self.view_releasing(py, release, |rules| {
                    let machine = Self::machine(rules);
                    let mut slots = Vec::new();
                    machine.matches_slots(event.bytes(), &mut slots)?;
                    let named =
                        slots.iter().filter_map(|&slot| machine.slot_name_shared(slot).map(|n| (slot, n.clone())));
                    Ok(named.collect::<Vec<_>>())
                })?;
                let mut cache = self.names_cache.lock().unwrap_or_else(PoisonError::into_inner);
                let names: Vec<_> =
                    matched.iter().map(|(slot, name)| cached_name(py, &mut cache, *slot, name)).collect();
                drop(cache);
                Ok(untracked(PyList::new(py, names)?).unbind())
            }
            Dialect::Sns => {
                let body = match event {
                    Some(e) if !e.is_none() => Some(text(e, Input::Event)?),
                    _ => None,
                };
                let owned = match attributes {
                    Some(a) if !a.is_none() => message_attributes(a)?,
                    _ => Vec::new(),
                };
                let list = attribute_list(&owned);
                let body = body.as_ref().map(Text::bytes);
                let found = self.view(py, |rules| {
                    let Rules::Sns(machine) = rules else { unreachable!("checked by dialect") };
                    Ok(names(machine.matches_message(body, &list)))
                })?;
                Ok(PyList::new(py, found)?.unbind())
            }
        }
    }

    /// PutEvents' routing in one call: for each entry `(id, detail_type, source, time,
    /// resources, detail)` the event's text (`rulebus_messaging::envelope`) and the names of the rules it
    /// matches, or None when its detail is malformed. The texts are written, and matched, while
    /// the rules cannot change. EventBridge dialect only.
    #[allow(clippy::type_complexity, clippy::needless_pass_by_value)] // the entries as PyO3 extracts them
    fn route_events<'py>(
        &self,
        py: Python<'py>,
        entries: Vec<(String, String, String, String, Vec<String>, String)>,
        account: &str,
        region: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        if self.dialect != Dialect::EventBridge {
            return Err(type_error(py, "route_events() is for EventBridge rule sets"));
        }
        let texts: Vec<Option<String>> = entries
            .iter()
            .map(|(id, detail_type, source, time, resources, detail)| {
                let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
                let envelope = rulebus_messaging::envelope::Envelope {
                    id,
                    detail_type,
                    source,
                    account,
                    time,
                    region,
                    resources: &resources,
                };
                rulebus_messaging::envelope::event_text(&envelope, detail)
            })
            .collect();
        let valid: Vec<&[u8]> = texts.iter().flatten().map(String::as_bytes).collect();
        let found = self.match_batch(py, &valid, false)?;
        let mut lists = found.lists(py, &self.names_cache)?.into_iter();
        let out = PyList::empty(py);
        for text in texts {
            match text {
                Some(text) => {
                    let names = lists.next().unwrap_or_else(|| PyList::empty(py));
                    out.append((text, names))?;
                }
                None => out.append(py.None())?,
            }
        }
        Ok(out)
    }

    /// PutEvents' usual request in one call (`put_events`: a list of one to ten dicts of just
    /// `Source`, `DetailType` and `Detail`, perhaps with this `bus`'s name): `None` for any other
    /// request. Else, with an id minted from `tokens` for each entry and its event written and
    /// matched as `route_events` does, `(failed, results, accepted, plain)`: how many failed;
    /// per entry its result, `{"EventId": id}`, or None for a malformed detail, or False for a
    /// source starting with "aws." (refused after the detail, as the general path refuses them);
    /// `(id, text, names of the rules matched)` for each entry accepted, in order; and the
    /// accepted events' queue deliveries when all are plain by `queues` (a rule's name -> the
    /// queues it delivers whole events to, or None when it delivers otherwise; see
    /// `put_events::PlainDeliveries`), else None.
    #[allow(clippy::too_many_arguments)] // PutEvents' request and the bus's place, as Python has them
    fn route_common<'py>(
        &self,
        py: Python<'py>,
        entries: &Bound<'py, PyAny>,
        bus: &str,
        limit: usize,
        account: &str,
        region: &str,
        time: &str,
        tokens: &queue::Tokens,
        queues: &Bound<'py, PyDict>,
    ) -> PyResult<Option<put_events::Routed<'py>>> {
        if self.dialect != Dialect::EventBridge {
            return Err(type_error(py, "route_common() is for EventBridge rule sets"));
        }
        let Some(strings) = put_events::strings(entries, bus) else { return Ok(None) };
        let Some(entries) = put_events::entries(&strings, limit) else { return Ok(None) };
        let ids: Vec<String> = entries.iter().map(|_| tokens.mint()).collect();
        let texts: Vec<Option<String>> = entries
            .iter()
            .zip(&ids)
            .map(|(entry, id)| {
                let envelope = rulebus_messaging::envelope::Envelope {
                    id,
                    detail_type: entry.detail_type,
                    source: entry.source,
                    account,
                    time,
                    region,
                    resources: &[],
                };
                rulebus_messaging::envelope::event_text(&envelope, entry.detail)
            })
            .collect();
        let refused = |entry: &put_events::Entry<'_>| entry.source.starts_with("aws.");
        let mut valid: Vec<&[u8]> = Vec::with_capacity(texts.len());
        valid.extend(
            texts
                .iter()
                .zip(&entries)
                .filter_map(|(text, entry)| text.as_deref().filter(|_| !refused(entry)).map(str::as_bytes)),
        );
        let found = self.match_batch(py, &valid, false)?;
        let mut lists = found.lists(py, &self.names_cache)?.into_iter();
        let results = PyList::empty(py);
        let accepted = PyList::empty(py);
        let event_id = intern!(py, "EventId");
        let mut failed = 0;
        let mut plain = put_events::PlainDeliveries::new(py);
        for ((id, text), entry) in ids.iter().zip(texts).zip(&entries) {
            match text {
                None => {
                    failed += 1;
                    results.append(py.None())?;
                }
                Some(_) if refused(entry) => {
                    failed += 1;
                    results.append(false)?;
                }
                Some(text) => {
                    let id = PyString::new(py, id);
                    let result = PyDict::new(py);
                    result.set_item(event_id, &id)?;
                    results.append(result)?;
                    let names = lists.next().unwrap_or_else(|| PyList::empty(py));
                    let text_object = PyString::new(py, &text);
                    plain.add(queues, &text, &text_object, &names)?;
                    accepted.append((id, text_object, names))?;
                }
            }
        }
        Ok(Some((failed, results, accepted, plain.into_py(py)?)))
    }

    /// `matches` for every event of an iterable, with the GIL released for the whole batch.
    fn matches_many<'py>(&self, py: Python<'py>, events: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        if self.dialect == Dialect::Sns {
            // Read into Rust with the GIL held, then matched as one batch without it.
            let messages = messages::Messages::read(events)?;
            let found = messages.with_batch(|batch| self.match_messages(py, batch))??;
            return PyList::new(py, found.lists(py, &self.names_cache)?);
        }
        let items: Vec<Bound<'_, PyAny>> = events.try_iter().map_err(|e| retyped(py, e))?.collect::<PyResult<_>>()?;
        let texts: Vec<Text<'_>> = items.iter().map(|e| text(e, Input::Event)).collect::<PyResult<_>>()?;
        let slices: Vec<&[u8]> = texts.iter().map(Text::bytes).collect();
        PyList::new(py, self.match_batch(py, &slices, true)?.lists(py, &self.names_cache)?)
    }

    /// Why the event does not match the rule of that name (`NotFound`, a KeyError, if none); see
    /// `Pattern.explain`. EventBridge rules only.
    fn explain(&self, py: Python<'_>, name: &Bound<'_, PyAny>, event: &Bound<'_, PyAny>) -> PyResult<Vec<Py<PyAny>>> {
        let name = text_argument(py, name, "name")?;
        if self.dialect != Dialect::EventBridge {
            return Err(type_error(py, "explain applies to the eventbridge dialect"));
        }
        let source = self.view(py, |rules| Ok(Self::machine(rules).source(name).map(<[u8]>::to_vec)))?;
        let Some(source) = source else {
            return Err(rule_not_found(py, name));
        };
        let event = text(event, Input::Event)?;
        let reasons = guard(py, || rulebus_core::explain::explain(&source, event.bytes()))?;
        reasons_to_py(py, &reasons)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("RuleSet(dialect={:?}, rules={})", self.dialect(), self.__len__(py)?))
    }
}

/// Explanations as dicts: {"branch", "path", "operator", "expected", "actual", "message"}, with
/// the pattern's and the event's values as Python values.
fn reasons_to_py(py: Python<'_>, reasons: &[rulebus_core::explain::Reason]) -> PyResult<Vec<Py<PyAny>>> {
    let loads = py.import("json")?.getattr("loads")?;
    let values = |texts: &[String]| -> PyResult<Vec<Bound<'_, PyAny>>> {
        texts.iter().map(|t| loads.call1((t.as_str(),))).collect()
    };
    reasons
        .iter()
        .map(|r| {
            let d = PyDict::new(py);
            d.set_item("branch", r.branch)?;
            d.set_item("path", &r.path)?;
            d.set_item("operator", &r.operator)?;
            d.set_item("expected", values(&r.expected)?)?;
            d.set_item("actual", values(&r.actual)?)?;
            d.set_item("message", &r.message)?;
            Ok(d.into_any().unbind())
        })
        .collect()
}

fn attribute_list(owned: &[OwnedAttribute]) -> Vec<Attribute<'_>> {
    owned
        .iter()
        .map(|(name, data_type, value)| Attribute { name: name.as_bytes(), data_type, value: value.as_deref() })
        .collect()
}

/// AWS TestEventPattern: validates the pattern and the event envelope, then matches.
#[pyfunction]
fn test_event_pattern(py: Python<'_>, pattern: &Bound<'_, PyAny>, event: &Bound<'_, PyAny>) -> PyResult<bool> {
    let pattern = text(pattern, Input::Pattern(Dialect::EventBridge))?;
    let event = text(event, Input::Event)?;
    guard(py, || rulebus_core::test_event_pattern(pattern.bytes(), event.bytes()))
}

/// The SNS notification envelope's text up to its UnsubscribeURL (see
/// `rulebus_messaging::notification`): one publish's part common to all its deliveries. With
/// ``sequence_number``, a FIFO topic's (no signature members).
#[pyfunction]
#[pyo3(signature = (
    message_id, topic_arn, subject, message, timestamp, signature_version, signing_cert_url, sequence_number = None
))]
#[allow(clippy::too_many_arguments)] // the envelope's members, as Python passes them
fn sns_notification_head(
    message_id: &str,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
    timestamp: &str,
    signature_version: &str,
    signing_cert_url: &str,
    sequence_number: Option<&str>,
) -> String {
    rulebus_messaging::notification::Notification {
        message_id,
        sequence_number,
        topic_arn,
        subject,
        message,
        timestamp,
        signature_version,
        signing_cert_url,
    }
    .head()
}

/// The SNS notification envelope's text after the UnsubscribeURL's value: the MessageAttributes
/// member of ``attributes``, ``(name, DataType, value)`` each in order (a ``bytes`` value is a
/// Binary attribute's, written in base64), and the closing brace.
#[pyfunction]
#[allow(clippy::needless_pass_by_value)] // pyo3 extracts the list as an owned Vec
fn sns_attributes_tail(
    attributes: Vec<(Bound<'_, PyString>, Bound<'_, PyString>, Bound<'_, PyAny>)>,
) -> PyResult<String> {
    use rulebus_messaging::notification::AttributeValue;
    let mut members = Vec::with_capacity(attributes.len());
    for (name, data_type, value) in &attributes {
        let value = if let Ok(bytes) = value.cast::<PyBytes>() {
            AttributeValue::Binary(bytes.as_bytes())
        } else {
            AttributeValue::Text(crate::strings::utf8(value.cast::<PyString>()?)?)
        };
        members.push((crate::strings::utf8(name)?, crate::strings::utf8(data_type)?, value));
    }
    Ok(rulebus_messaging::notification::attributes_tail(&members))
}

/// ``text`` as a JSON string, escaped as the envelope's writer escapes its strings (non-ASCII
/// kept, quotes, backslashes and control characters escaped): a subscription's UnsubscribeURL as
/// it goes between a notification's head and tail.
#[pyfunction]
fn sns_json_string(text: &str) -> String {
    rulebus_messaging::notification::json_string(text)
}

/// An SNS SubscriptionConfirmation's whole text, its placeholder signature included (see
/// `rulebus_messaging::notification::Confirmation`).
#[pyfunction]
#[allow(clippy::too_many_arguments)] // the message's members, as Python passes them
fn sns_confirmation_text(
    message_id: &str,
    token: &str,
    topic_arn: &str,
    message: &str,
    subscribe_url: &str,
    timestamp: &str,
    signature_version: &str,
    signing_cert_url: &str,
) -> String {
    rulebus_messaging::notification::Confirmation {
        message_id,
        token,
        topic_arn,
        message,
        subscribe_url,
        timestamp,
        signature_version,
        signing_cert_url,
    }
    .text()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Pattern>()?;
    m.add_class::<FilterPolicy>()?;
    m.add_class::<RuleSet>()?;
    m.add_class::<query_form::QueryReader>()?;
    m.add_class::<json_request::JsonReader>()?;
    m.add_class::<json_response::JsonWriter>()?;
    m.add_function(wrap_pyfunction!(query_form::decode_form, m)?)?;
    m.add_function(wrap_pyfunction!(test_event_pattern, m)?)?;
    m.add_function(wrap_pyfunction!(sns_notification_head, m)?)?;
    m.add_function(wrap_pyfunction!(sns_attributes_tail, m)?)?;
    m.add_function(wrap_pyfunction!(sns_json_string, m)?)?;
    m.add_function(wrap_pyfunction!(sns_confirmation_text, m)?)?;
    queue::register(m)?;
    fan_out::register(m)?;
    Ok(())
}
