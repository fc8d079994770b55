//! PutEvents' usual request, read from Python as it arrives (`RuleSet.route_common`): a list of
//! one to ten dicts, each with just `Source`, `DetailType` and `Detail` (and perhaps this bus's
//! `EventBusName`), all non-empty `str`. Such a request passes every check of the general path
//! but routing's, so the binding reads it, mints the event ids, writes and matches the events,
//! builds the per-entry results and plans the queue deliveries (`PlainDeliveries`) in one
//! call; anything else is declined (`None`) and goes to the general path in Python
//! (`rulebus.events.put_events`), which is the reference.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use rulebus_messaging::plain::is_plain_text;

use crate::strings::utf8;

/// PutEvents' most entries per request (AWS's limit; `MAX_PUT_EVENTS_ENTRIES` in Python).
pub const MAX_ENTRIES: usize = 10;

/// The longest DetailType, in characters (AWS's limit; `MAX_DETAIL_TYPE_LENGTH` in Python).
pub const MAX_DETAIL_TYPE: usize = 128;

/// `RuleSet.route_common`'s answer: how many entries failed, each entry's result, the accepted
/// events as `(id, text, rule names)`, and their plain deliveries (`PlainDeliveries`) or None.
pub type Routed<'py> = (usize, Bound<'py, PyList>, Bound<'py, PyList>, Bound<'py, PyAny>);

/// One entry of the usual shape, its texts borrowed from the request's strings.
pub struct Entry<'a> {
    pub detail_type: &'a str,
    pub source: &'a str,
    pub detail: &'a str,
}

/// The `DetailType`, `Source` and `Detail` of each entry of a request of the usual shape (see the
/// module's note), in order; `None` for any other request.
pub fn strings<'py>(entries: &Bound<'py, PyAny>, bus: &str) -> Option<Vec<[Bound<'py, PyString>; 3]>> {
    let py = entries.py();
    let items: Vec<Bound<'py, PyAny>> = if let Ok(list) = entries.cast_exact::<PyList>() {
        list.iter().collect()
    } else if let Ok(tuple) = entries.cast_exact::<PyTuple>() {
        tuple.iter().collect()
    } else {
        return None;
    };
    if items.is_empty() || items.len() > MAX_ENTRIES {
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for item in &items {
        let entry = item.cast_exact::<PyDict>().ok()?;
        match entry.len() {
            3 => {}
            4 => {
                let name = entry.get_item(intern!(py, "EventBusName")).ok()??;
                if utf8(name.cast_exact::<PyString>().ok()?).ok()? != bus {
                    return None;
                }
            }
            _ => return None,
        }
        let member = |key: &Bound<'py, PyString>| -> Option<Bound<'py, PyString>> {
            let value = entry.get_item(key).ok()??;
            value.cast_exact::<PyString>().ok().cloned()
        };
        out.push([member(intern!(py, "DetailType"))?, member(intern!(py, "Source"))?, member(intern!(py, "Detail"))?]);
    }
    Some(out)
}

/// The entries' texts from `strings`; `None` when one is empty or has no UTF-8 (a lone
/// surrogate: the general path fails that entry alone), or a DetailType is too long, or the
/// entries might exceed `limit`, the bus's most bytes of entries per request. Their UTF-8, four
/// times over, must be within it (no character takes more than four bytes, nor fewer than
/// one), so that the size check the general path makes could not refuse them.
pub fn entries<'a>(strings: &'a [[Bound<'_, PyString>; 3]], limit: usize) -> Option<Vec<Entry<'a>>> {
    let mut bytes = 0usize;
    let mut out = Vec::with_capacity(strings.len());
    for [detail_type, source, detail] in strings {
        let (detail_type, source, detail) = (utf8(detail_type).ok()?, utf8(source).ok()?, utf8(detail).ok()?);
        if detail_type.is_empty() || source.is_empty() || detail.is_empty() {
            return None;
        }
        // Bytes are never fewer than characters: count the characters only when it matters.
        if detail_type.len() > MAX_DETAIL_TYPE && detail_type.chars().count() > MAX_DETAIL_TYPE {
            return None;
        }
        bytes += source.len() + detail_type.len() + detail.len() + 4;
        out.push(Entry { detail_type, source, detail });
    }
    (bytes.saturating_mul(4) <= limit).then_some(out)
}

/// The queue deliveries of a request's accepted events when every one is plain, planned as
/// `BusDelivery.deliver_plain` stores them: each rule an event matched delivers the whole event
/// to standard queues only (by the `queues` Python gives: a rule's name -> its queues, or None
/// when one of its targets takes something else; a name it lacks is a rule gone, skipped), and
/// each matched event's text is printable ASCII (`is_plain_text`: the engine writes compact
/// JSON, whose strings escape every control character but DEL).
pub struct PlainDeliveries<'py> {
    /// `(queue, text)` per delivery, in event order then rule order then target order.
    bodies: Bound<'py, PyList>,
    /// Deliveries per queue.
    sent: Bound<'py, PyDict>,
    matched_events: usize,
    triggered: usize,
    longest: usize,
    /// No event was found not plain (else the rest is left unplanned).
    all_plain: bool,
}

impl<'py> PlainDeliveries<'py> {
    pub fn new(py: Python<'py>) -> Self {
        Self {
            bodies: PyList::empty(py),
            sent: PyDict::new(py),
            matched_events: 0,
            triggered: 0,
            longest: 0,
            all_plain: true,
        }
    }

    /// An accepted event's deliveries: its text (also as the str the deliveries carry) and the
    /// names of the rules it matched.
    pub fn add(
        &mut self,
        queues: &Bound<'py, PyDict>,
        text: &str,
        text_object: &Bound<'py, PyString>,
        names: &Bound<'py, PyList>,
    ) -> PyResult<()> {
        if !self.all_plain || names.is_empty() {
            return Ok(());
        }
        self.matched_events += 1;
        if !is_plain_text(text) {
            self.all_plain = false;
            return Ok(());
        }
        // (ASCII: as many characters as bytes, as Python counts them.)
        self.longest = self.longest.max(text.len());
        for name in names.iter() {
            let Some(rule_queues) = queues.get_item(&name)? else { continue };
            if rule_queues.is_none() {
                self.all_plain = false;
                return Ok(());
            }
            self.triggered += 1;
            for queue in rule_queues.try_iter()? {
                let queue = queue?;
                self.bodies.append((&queue, text_object))?;
                let count = match self.sent.get_item(&queue)? {
                    Some(count) => count.extract::<usize>()?,
                    None => 0,
                };
                self.sent.set_item(&queue, count + 1)?;
            }
        }
        Ok(())
    }

    /// `(bodies, sent, matched events, rules triggered, the longest text)`, or None when an
    /// event was not plain.
    pub fn into_py(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if !self.all_plain {
            return Ok(py.None().into_bound(py));
        }
        Ok((self.bodies, self.sent, self.matched_events, self.triggered, self.longest).into_pyobject(py)?.into_any())
    }
}
