//! A standard topic's usual fan-out, natively: each publish's SNS notification to the memory
//! store's standard queues, the text built here (`rulebus_messaging::notification`) and stored in
//! pieces, without a Python object per delivery.
//!
//! The topic (`rulebus.sns.topic`) decides where a publish goes; this only carries it out for the
//! deliveries that need no SQS check beyond `MemoryQueue::put_plain`'s, and hands back those it
//! refused for the topic to send the long way (SendMessage's checks, dead-lettering).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use rulebus_messaging::plain::is_plain_text;

use crate::notice::{Members, Notice};
use crate::queue::{Body, MemoryQueue, Tokens};

/// A subscription's count of delivered notifications (``Subscription.delivered_count``), which
/// the native fan-out adds to as it stores: one count however a delivery was made.
#[pyclass(frozen, module = "rulebus._core")]
pub struct DeliveryCounter {
    value: AtomicI64,
}

impl DeliveryCounter {
    /// One more, with the GIL held (as every change of a counter is: `add` and the setter are
    /// Python methods), so a plain read and write cannot lose a count. Not `fetch_add`: a locked
    /// instruction waits for every store before it, and in a fan-out those are the new messages'
    /// first writes to fresh memory.
    fn count_one(&self) {
        self.value.store(self.value.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
}

#[pymethods]
impl DeliveryCounter {
    #[new]
    #[pyo3(signature = (value = 0))]
    fn new(value: i64) -> Self {
        Self { value: AtomicI64::new(value) }
    }

    #[getter]
    fn value(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }

    #[setter]
    fn set_value(&self, value: i64) {
        self.value.store(value, Ordering::Relaxed);
    }

    fn add(&self, count: i64) {
        self.value.fetch_add(count, Ordering::Relaxed);
    }

    fn __repr__(&self) -> String {
        format!("DeliveryCounter({})", self.value())
    }
}

/// One subscription of a fan-out: its queue's name, its piece of the notification (the JSON
/// string of its UnsubscribeURL) and its delivered count.
struct Route {
    queue: Py<PyString>,
    middle: Py<PyString>,
    /// `middle`'s length in bytes.
    middle_len: usize,
    /// Whether `middle` is plain text (see `rulebus_messaging::plain`).
    plain: bool,
    delivered: Py<DeliveryCounter>,
}

/// The subscriptions one publish is stored to, in subscription order: made once per route
/// plan selection and used by every publish that has it.
#[pyclass(frozen, module = "rulebus._core")]
pub struct FanOut {
    routes: Vec<Route>,
}

#[pymethods]
impl FanOut {
    /// ``routes``: ``(queue name, JSON UnsubscribeURL, DeliveryCounter)`` in subscription order.
    #[new]
    fn new(py: Python<'_>, routes: Vec<(Py<PyString>, Py<PyString>, Py<DeliveryCounter>)>) -> PyResult<Self> {
        let routes = routes
            .into_iter()
            .map(|(queue, middle, delivered)| {
                let text = crate::strings::utf8(middle.bind(py))?;
                Ok(Route { plain: is_plain_text(text), middle_len: text.len(), queue, middle, delivered })
            })
            .collect::<PyResult<_>>()?;
        Ok(Self { routes })
    }

    /// The routes as given to the constructor (for stores that are not native).
    #[getter]
    fn routes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self.routes.iter().map(|route| {
            (route.queue.clone_ref(py), route.middle.clone_ref(py), route.delivered.clone_ref(py)).into_pyobject(py)
        });
        PyList::new(py, items.collect::<PyResult<Vec<_>>>()?)
    }

    fn __len__(&self) -> usize {
        self.routes.len()
    }
}

/// Stores standard publishes to their fan-outs on the memory store's ``queues``.
/// ``topic``: ``(TopicArn, SignatureVersion, SigningCertURL)``; ``publishes``: ``(fan_out,
/// message_id, subject, message, tail)`` each, sent at ``now`` (its ``timestamp`` in the
/// envelope). Each delivery's text is the notification's head, the route's UnsubscribeURL and
/// ``tail`` (the message attributes and the closing brace). Returns ``(done, refused)``: the
/// number of publishes stored, and the routes of the last of them that were refused (queue gone
/// or FIFO, text not plain or too long). It stops after the first publish with a refusal, for
/// the caller to send those the long way before it stores any later publish.
#[pyfunction]
#[pyo3(signature = (queues, topic, publishes, sender_id, now, timestamp, tokens))]
pub fn put_notifications(
    queues: &Bound<'_, PyDict>,
    topic: (String, String, String),
    publishes: &Bound<'_, PyList>,
    sender_id: &Bound<'_, PyAny>,
    now: f64,
    timestamp: &str,
    tokens: &Tokens,
) -> PyResult<(usize, Vec<usize>)> {
    let py = queues.py();
    let topic = Arc::new(topic);
    let timestamp: Arc<str> = timestamp.into();
    let mut refused = Vec::new();
    for (index, publish) in publishes.iter().enumerate() {
        let publish = publish.cast_into::<PyTuple>()?;
        let fan_out = publish.get_item(0)?;
        let fan_out = fan_out.cast::<FanOut>()?.get();
        let subject = publish.get_item(2)?;
        let members = Members {
            topic: topic.clone(),
            message_id: publish.get_item(1)?.cast_into::<PyString>()?.unbind(),
            subject: if subject.is_none() { None } else { Some(subject.cast_into::<PyString>()?.unbind()) },
            message: publish.get_item(3)?.cast_into::<PyString>()?.unbind(),
            timestamp: timestamp.clone(),
        };
        let tail = publish.get_item(4)?;
        let tail = crate::strings::utf8(tail.cast::<PyString>()?)?;
        let notice = Notice::shared(py, Notice::of(py, members, tail.to_owned(), is_plain_text(tail))?)?;
        let shared = notice.get();
        for (number, route) in fan_out.routes.iter().enumerate() {
            let stored = match queues.get_item(route.queue.bind(py))? {
                Some(queue) => {
                    let length = shared.head_and_tail_len() + route.middle_len;
                    let plain = shared.is_plain() && route.plain;
                    let body = Body::Wrapped { notice: notice.clone_ref(py), middle: route.middle.clone_ref(py) };
                    queue.cast::<MemoryQueue>()?.borrow_mut().put_plain(body, length, plain, sender_id, now, tokens)
                }
                None => false,
            };
            if stored {
                route.delivered.get().count_one();
            } else {
                refused.push(number);
            }
        }
        if !refused.is_empty() {
            return Ok((index + 1, refused));
        }
    }
    Ok((publishes.len(), refused))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<DeliveryCounter>()?;
    m.add_class::<FanOut>()?;
    m.add_function(wrap_pyfunction!(put_notifications, m)?)?;
    Ok(())
}
