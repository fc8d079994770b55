//! AWS JSON requests (SQS, EventBridge, Kinesis) read natively: the body read a token at a time
//! (`rulebus_messaging::json_request::Reader`) by a plan of the operation's input shape
//! (`JsonReader`), which `rulebus.aws.protocols.awsjson` makes from botocore's model, the params'
//! Python objects made as the text is read.
//!
//! As the query protocol's reader (`query_form`), it reads only what it reads exactly as the
//! Python reader does and declines (`None`) the rest: a body the parser declines, a member of
//! the wrong type, a missing required member, a name given twice, a type read only in Python
//! (floats, timestamps, blobs, documents). The Python reader then reads the request and says
//! what is wrong with it in AWS's words; so every error comes from one place.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};

use rulebus_messaging::json_request::{Node, Reader};

use crate::plans::{Described, MAX_DEPTH};
use rulebus_messaging::json_request::MAX_DEPTH as DOCUMENT_DEPTH;

/// How one shape is read from the document (see `rulebus.aws.protocols.awsjson.native_plan`).
enum Plan {
    /// Members in the shape's order (a document names each at most once), and the names of
    /// the required ones.
    Structure {
        members: Vec<Member>,
        required: Vec<Py<PyString>>,
    },
    List(Box<Plan>),
    Map {
        key: Box<Plan>,
        value: Box<Plan>,
    },
    Text,
    Integer,
    Boolean,
    /// A type only the Python reader reads.
    Other,
}

struct Member {
    name: Py<PyString>,
    wire: String,
    plan: Plan,
}

fn compile(description: &Bound<'_, PyAny>, depth: usize) -> PyResult<Plan> {
    if depth > MAX_DEPTH {
        return Ok(Plan::Other);
    }
    let described = Described::of(description)?;
    let plan = |index: usize| -> PyResult<Box<Plan>> { Ok(Box::new(compile(&described.part(index)?, depth + 1)?)) };
    Ok(match described.kind.as_str() {
        "structure" => {
            let mut required = Vec::new();
            for name in described.part(2)?.try_iter()? {
                required.push(name?.cast_into::<PyString>()?.unbind());
            }
            let members = described.members(|plan| compile(plan, depth + 1))?;
            let members = members.into_iter().map(|(name, wire, plan)| Member { name: name.unbind(), wire, plan });
            Plan::Structure { members: members.collect(), required }
        }
        "list" => Plan::List(plan(1)?),
        "map" => Plan::Map { key: plan(1)?, value: plan(2)? },
        "string" => Plan::Text,
        "integer" => Plan::Integer,
        "boolean" => Plan::Boolean,
        "other" => Plan::Other,
        _ => return described.unknown("JSON"),
    })
}

/// An operation's input shape, read from AWS JSON bodies (made once per operation).
#[pyclass(frozen, module = "rulebus._core")]
pub struct JsonReader {
    plan: Plan,
}

#[pymethods]
impl JsonReader {
    #[new]
    fn new(plan: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self { plan: compile(plan, 0)? })
    }

    /// The params of a request body, or None when the Python reader must read it.
    fn read<'py>(&self, py: Python<'py>, body: &[u8]) -> PyResult<Option<Bound<'py, PyAny>>> {
        // A panic here would be a bug: the Python reader then reads the body (so the answer is
        // still right), rather than the panic reaching Python.
        catch_unwind(AssertUnwindSafe(|| {
            let Some(mut reader) = Reader::new(body) else { return Ok(None) };
            if reader.upcoming() != Some(b'{') {
                return Ok(None);
            }
            match read(py, &self.plan, &mut reader, 0)? {
                Some(Read::Value(params)) if reader.finish() => Ok(Some(params)),
                _ => Ok(None),
            }
        }))
        .unwrap_or(Ok(None))
    }
}

/// A value read by a plan.
enum Read<'py> {
    Value(Bound<'py, PyAny>),
    /// JSON's null, read for any plan: a member left out, an element kept as None.
    Null,
}

/// The value `plan` reads at the reader's next token, inside `depth` containers, or None to
/// decline. Python objects are made as the text is read, with no tree between; a body
/// declined halfway drops what was made.
fn read<'py>(py: Python<'py>, plan: &Plan, r: &mut Reader<'_>, depth: usize) -> PyResult<Option<Read<'py>>> {
    let Some(next) = r.upcoming() else { return Ok(None) };
    if next == b'n' {
        return Ok(matches!(r.value(depth), Some(Node::Null)).then_some(Read::Null));
    }
    let inner = depth + 1;
    let value = match (plan, next) {
        (_, b'{' | b'[') if inner > DOCUMENT_DEPTH => return Ok(None),
        (Plan::Structure { members, required }, b'{') => {
            let Some(parsed) = structure(py, members, r, inner)? else { return Ok(None) };
            for name in required {
                if !parsed.contains(name.bind(py))? {
                    return Ok(None);
                }
            }
            parsed.into_any()
        }
        (Plan::List(member), b'[') => {
            let list = PyList::empty(py);
            let mut more = !r.open();
            while more {
                match read(py, member, r, inner)? {
                    None => return Ok(None),
                    Some(Read::Null) => list.append(py.None())?,
                    Some(Read::Value(value)) => list.append(value)?,
                }
                let Some(after) = r.more(b']') else { return Ok(None) };
                more = after;
            }
            list.into_any()
        }
        (Plan::Map { key, value }, b'{') => {
            if !matches!(**key, Plan::Text) {
                return Ok(None);
            }
            let Some(parsed) = map(py, value, r, inner)? else { return Ok(None) };
            parsed.into_any()
        }
        (Plan::Text, b'"') => {
            let Some(text) = r.text() else { return Ok(None) };
            PyString::new(py, text).into_any()
        }
        (Plan::Integer, b'-' | b'0'..=b'9') => match r.value(depth) {
            Some(Node::Integer(number)) => number.into_pyobject(py)?.into_any(),
            _ => return Ok(None),
        },
        (Plan::Boolean, b't' | b'f') => match r.value(depth) {
            Some(Node::Bool(truth)) => PyBool::new(py, truth).to_owned().into_any(),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(Read::Value(value)))
}

/// A structure's members, at its `{`; None to decline.
fn structure<'py>(
    py: Python<'py>,
    members: &[Member],
    r: &mut Reader<'_>,
    depth: usize,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let parsed = PyDict::new(py);
    let mut seen = vec![false; members.len()];
    let mut more = !r.open();
    while more {
        let Some(wire) = r.name() else { return Ok(None) };
        if let Some(index) = members.iter().position(|member| member.wire == *wire) {
            if std::mem::replace(&mut seen[index], true) {
                return Ok(None); // named twice: the Python reader keeps the last, in the first's place
            }
            let member = &members[index];
            match read(py, &member.plan, r, depth)? {
                None => return Ok(None),
                Some(Read::Null) => {}
                Some(Read::Value(value)) => parsed.set_item(member.name.bind(py), value)?,
            }
        } else if r.value(depth).is_none() {
            // A member the shape lacks is passed over, once its grammar is checked.
            return Ok(None);
        }
        let Some(after) = r.more(b'}') else { return Ok(None) };
        more = after;
    }
    Ok(Some(parsed))
}

/// A map's entries (string keys), at its `{`; None to decline.
fn map<'py>(py: Python<'py>, value: &Plan, r: &mut Reader<'_>, depth: usize) -> PyResult<Option<Bound<'py, PyDict>>> {
    let parsed = PyDict::new(py);
    let mut names: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    let mut more = !r.open();
    while more {
        let Some(name) = r.name() else { return Ok(None) };
        if names.contains(&name) {
            return Ok(None); // (as a structure's member named twice)
        }
        match read(py, value, r, depth)? {
            None => return Ok(None),
            Some(Read::Null) => {}
            Some(Read::Value(item)) => parsed.set_item(PyString::new(py, &name), item)?,
        }
        names.push(name);
        let Some(after) = r.more(b'}') else { return Ok(None) };
        more = after;
    }
    Ok(Some(parsed))
}
