//! AWS JSON requests (SQS, EventBridge, Kinesis) read natively: the body parsed
//! (`rulebus_messaging::json_request`) and turned into an operation's params by a plan of its
//! input shape (`JsonReader`), which `rulebus.aws.protocols.awsjson` makes from botocore's model.
//!
//! As the query protocol's reader (`query_form`), it reads only what it reads exactly as the
//! Python reader does and declines (`None`) the rest: a body the parser declines, a member of
//! the wrong type, a missing required member, a name given twice, a type read only in Python
//! (floats, timestamps, blobs, documents). The Python reader then reads the request and says
//! what is wrong with it in AWS's words; so every error comes from one place.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};

use rulebus_messaging::json_request::{self, Node};

use crate::plans::{Described, MAX_DEPTH};

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
        catch_unwind(AssertUnwindSafe(|| match json_request::parse(body) {
            Some(document) => read(py, &self.plan, &document),
            None => Ok(None),
        }))
        .unwrap_or(Ok(None))
    }
}

/// The value `plan` reads from `node`, or None to decline.
fn read<'py>(py: Python<'py>, plan: &Plan, node: &Node<'_>) -> PyResult<Option<Bound<'py, PyAny>>> {
    Ok(Some(match (plan, node) {
        (Plan::Structure { members, required }, Node::Object(found)) => {
            let parsed = PyDict::new(py);
            let mut seen = vec![false; members.len()];
            for (wire, value) in found {
                // A member the shape lacks is passed over (the parser checked its grammar).
                let Some(index) = members.iter().position(|member| member.wire == *wire) else { continue };
                if std::mem::replace(&mut seen[index], true) {
                    return Ok(None); // named twice: the Python reader keeps the last, in the first's place
                }
                if *value == Node::Null {
                    continue;
                }
                let member = &members[index];
                let Some(value) = read(py, &member.plan, value)? else { return Ok(None) };
                parsed.set_item(member.name.bind(py), value)?;
            }
            for name in required {
                if !parsed.contains(name.bind(py))? {
                    return Ok(None);
                }
            }
            parsed.into_any()
        }
        (Plan::List(member), Node::Array(items)) => {
            let list = PyList::empty(py);
            for item in items {
                if *item == Node::Null {
                    list.append(py.None())?;
                    continue;
                }
                let Some(value) = read(py, member, item)? else { return Ok(None) };
                list.append(value)?;
            }
            list.into_any()
        }
        (Plan::Map { key, value }, Node::Object(entries)) => {
            if !matches!(**key, Plan::Text) {
                return Ok(None);
            }
            let parsed = PyDict::new(py);
            for (index, (name, item)) in entries.iter().enumerate() {
                if entries[..index].iter().any(|(earlier, _)| earlier == name) {
                    return Ok(None); // (as a structure's member named twice)
                }
                if *item == Node::Null {
                    continue;
                }
                let Some(item) = read(py, value, item)? else { return Ok(None) };
                parsed.set_item(PyString::new(py, name), item)?;
            }
            parsed.into_any()
        }
        (Plan::Text, Node::Text(text)) => PyString::new(py, text).into_any(),
        (Plan::Integer, Node::Integer(number)) => number.into_pyobject(py)?.into_any(),
        (Plan::Boolean, Node::Bool(truth)) => PyBool::new(py, *truth).to_owned().into_any(),
        _ => return Ok(None),
    }))
}
