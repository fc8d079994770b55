//! The query protocol's requests (SNS, STS, SQS's older clients) read natively: the form's pairs
//! decoded (`decode_form`) and turned into an operation's params by a plan of its input shape
//! (`QueryReader`), which `rulebus.aws.protocols.query` makes from botocore's model.
//!
//! Both read only what they can read exactly as the Python reader does, and decline (`None`)
//! the rest: a form that is not ASCII, a member that is missing, mistyped, or of a type read
//! only in Python (floats, timestamps, blobs). The Python reader then reads the request, and
//! says what is wrong with it in AWS's words; so every error comes from one place.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};

use rulebus_messaging::query_form::{self, Tree, ROOT};

use crate::plans::{Described, MAX_DEPTH};
use crate::strings::utf8;

/// How one shape is read from the form's tree (see `rulebus.aws.protocols.query.native_plan`).
enum Plan {
    /// Members in the shape's order, and the keys of the required ones.
    Structure {
        members: Vec<Member>,
        required: Vec<String>,
    },
    /// `holder`: the key the items sit under (`member`), or None for a flattened list.
    List {
        holder: Option<String>,
        member: Box<Plan>,
    },
    /// `entry`: the entries sit under `entry` (false: flattened).
    Map {
        entry: bool,
        key_name: String,
        value_name: String,
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
    key: String,
    plan: Plan,
}

fn compile(description: &Bound<'_, PyAny>, depth: usize) -> PyResult<Plan> {
    if depth > MAX_DEPTH {
        return Ok(Plan::Other);
    }
    let described = Described::of(description)?;
    let plan = |index: usize| -> PyResult<Box<Plan>> { Ok(Box::new(compile(&described.part(index)?, depth + 1)?)) };
    Ok(match described.kind.as_str() {
        "structure" => Plan::Structure {
            members: described
                .members(|plan| compile(plan, depth + 1))?
                .into_iter()
                .map(|(name, key, plan)| Member { name: name.unbind(), key, plan })
                .collect(),
            required: described.part(2)?.extract()?,
        },
        "list" => Plan::List { holder: described.part(1)?.extract()?, member: plan(2)? },
        "map" => Plan::Map {
            entry: described.part(1)?.extract()?,
            key_name: described.part(2)?.extract()?,
            value_name: described.part(3)?.extract()?,
            key: plan(4)?,
            value: plan(5)?,
        },
        "string" => Plan::Text,
        "integer" => Plan::Integer,
        "boolean" => Plan::Boolean,
        "other" => Plan::Other,
        _ => return described.unknown("query"),
    })
}

/// An operation's input shape, read from query forms (made once per operation).
#[pyclass(frozen, module = "rulebus._core")]
pub struct QueryReader {
    plan: Plan,
}

#[pymethods]
impl QueryReader {
    #[new]
    fn new(plan: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self { plan: compile(plan, 0)? })
    }

    /// The params of a form given as its `(name, value)` pairs (the last of repeated names
    /// wins), or None when the Python reader must read it.
    fn read<'py>(&self, py: Python<'py>, pairs: &Bound<'py, PyList>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let mut held = Vec::with_capacity(pairs.len());
        for item in pairs.iter() {
            let Ok(pair) = item.cast_into::<PyTuple>() else { return Ok(None) };
            if pair.len() != 2 {
                return Ok(None);
            }
            let (Ok(name), Ok(value)) =
                (pair.get_item(0)?.cast_into::<PyString>(), pair.get_item(1)?.cast_into::<PyString>())
            else {
                return Ok(None);
            };
            held.push((name, value));
        }
        let mut texts = Vec::with_capacity(held.len());
        for (name, value) in &held {
            let (Ok(name), Ok(value)) = (utf8(name), utf8(value)) else { return Ok(None) };
            texts.push((name, value));
        }
        // A panic here would be a bug: the Python reader then reads the form (so the answer is
        // still right), rather than the panic reaching Python.
        catch_unwind(AssertUnwindSafe(|| read(py, &self.plan, &Tree::new(texts), ROOT))).unwrap_or(Ok(None))
    }
}

/// The value `plan` reads at `node`, or None to decline.
fn read<'py>(py: Python<'py>, plan: &Plan, tree: &Tree<'_>, node: usize) -> PyResult<Option<Bound<'py, PyAny>>> {
    Ok(Some(match plan {
        Plan::Structure { members, required } => {
            if required.iter().any(|key| tree.child(node, key).is_none()) {
                return Ok(None);
            }
            let parsed = PyDict::new(py);
            for member in members {
                let Some(child) = tree.child(node, &member.key) else { continue };
                let Some(value) = read(py, &member.plan, tree, child)? else { return Ok(None) };
                parsed.set_item(member.name.bind(py), value)?;
            }
            parsed.into_any()
        }
        Plan::List { holder, member } => {
            let items = match holder {
                None => node,
                Some(holder) => match tree.child(node, holder) {
                    Some(items) => items,
                    None => return Ok(Some(PyList::empty(py).into_any())), // "Name=": the empty list
                },
            };
            let Some(numbered) = tree.numbered(items) else { return Ok(None) };
            let list = PyList::empty(py);
            for item in numbered {
                let Some(value) = read(py, member, tree, item)? else { return Ok(None) };
                list.append(value)?;
            }
            list.into_any()
        }
        Plan::Map { entry, key_name, value_name, key, value } => {
            let parsed = PyDict::new(py);
            let entries = if *entry {
                match tree.child(node, "entry") {
                    Some(entries) => entries,
                    None => return Ok(Some(parsed.into_any())),
                }
            } else {
                node
            };
            let Some(numbered) = tree.numbered(entries) else { return Ok(None) };
            for pair in numbered {
                let (Some(key_node), Some(value_node)) = (tree.child(pair, key_name), tree.child(pair, value_name))
                else {
                    return Ok(None);
                };
                let (Some(k), Some(v)) = (read(py, key, tree, key_node)?, read(py, value, tree, value_node)?) else {
                    return Ok(None);
                };
                parsed.set_item(k, v)?;
            }
            parsed.into_any()
        }
        Plan::Text => PyString::new(py, tree.node(node).value.unwrap_or("")).into_any(),
        Plan::Integer => match integer(tree.node(node).value.unwrap_or("")) {
            Some(number) => number.into_pyobject(py)?.into_any(),
            None => return Ok(None),
        },
        Plan::Boolean => {
            let text = tree.node(node).value.unwrap_or("");
            if text.eq_ignore_ascii_case("true") {
                PyBool::new(py, true).to_owned().into_any()
            } else if text.eq_ignore_ascii_case("false") {
                PyBool::new(py, false).to_owned().into_any()
            } else {
                return Ok(None); // (Python's reader also takes them with spaces around)
            }
        }
        Plan::Other => return Ok(None),
    }))
}

/// `[+-]?[0-9]+` as a number, when it has at most 18 digits (more: the Python reader's).
fn integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A form's `(name, value)` pairs as `rulebus.aws.dispatch` reads them, or None when its
/// Python reader must (see `rulebus_messaging::query_form::pairs`).
#[pyfunction]
pub fn decode_form<'py>(py: Python<'py>, raw: &[u8], max_fields: usize) -> PyResult<Option<Bound<'py, PyList>>> {
    let Ok(Some(pairs)) = catch_unwind(|| query_form::pairs(raw, max_fields)) else { return Ok(None) };
    let list = PyList::empty(py);
    for (name, value) in pairs {
        list.append(PyTuple::new(py, [PyString::new(py, &name), PyString::new(py, &value)])?)?;
    }
    Ok(Some(list))
}
