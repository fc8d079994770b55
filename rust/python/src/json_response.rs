//! AWS JSON responses (SQS, EventBridge, Kinesis) written natively: an operation's output walked
//! by a plan of its output shape (`JsonWriter`, the plan made by
//! `rulebus.aws.protocols.awsjson.native_plan`) and written as the compact JSON that
//! `JsonProtocol.encode` (orjson) writes for the document `JsonProtocol._out_structure` makes.
//!
//! As the native readers, it writes only what it writes exactly as the Python writer does and
//! declines (`None`) the rest, which the Python writer then writes (or, for a handler's bug, an
//! output member the shape lacks, refuses): a value of a type only Python writes (floats,
//! timestamps, blobs, documents), an integer past 64 bits, text with a lone surrogate, a
//! mapping that is not a `dict`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyList, PyString};

use rulebus_messaging::envelope::quote;

use crate::plans::{Described, MAX_DEPTH};
use crate::strings::utf8;

/// How one shape is written (the reader's plan, `json_request`, read the other way).
enum Plan {
    /// Members by name, each with the name it travels under.
    Structure(Vec<Member>),
    List(Box<Plan>),
    /// A map's values (its keys are text, written as they are).
    Map(Box<Plan>),
    /// A string, integer or boolean member: written as it is, whatever its value's type (the
    /// Python writer does not check it either).
    Plain,
    /// A type only the Python writer writes.
    Other,
}

struct Member {
    name: String,
    /// `"wire name":`, written once.
    field: String,
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
            let members = described.members(|plan| compile(plan, depth + 1))?.into_iter();
            let members = members.map(|(name, wire, plan)| {
                let mut field = String::new();
                quote(&mut field, &wire);
                field.push(':');
                Ok(Member { name: name.extract()?, field, plan })
            });
            Plan::Structure(members.collect::<PyResult<_>>()?)
        }
        "list" => Plan::List(plan(1)?),
        "map" => Plan::Map(plan(2)?),
        "string" | "integer" | "boolean" => Plan::Plain,
        "other" => Plan::Other,
        _ => return described.unknown("JSON"),
    })
}

/// An operation's output shape, written as AWS JSON response bodies (made once per operation).
#[pyclass(frozen, module = "rulebus._core")]
pub struct JsonWriter {
    plan: Plan,
}

#[pymethods]
impl JsonWriter {
    #[new]
    fn new(plan: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self { plan: compile(plan, 0)? })
    }

    /// The response body for ``output``, or None when the Python writer must write it.
    fn write<'py>(&self, py: Python<'py>, output: &Bound<'py, PyAny>) -> Option<Bound<'py, PyBytes>> {
        let mut out = String::with_capacity(256);
        // A panic here would be a bug: the Python writer then writes the answer (so it is
        // still right), rather than the panic reaching Python.
        let written = catch_unwind(AssertUnwindSafe(|| write(&self.plan, output, &mut out))).unwrap_or(None);
        written.map(|()| PyBytes::new(py, out.as_bytes()))
    }
}

/// Writes `value` by `plan` to `out`; None to decline.
fn write(plan: &Plan, value: &Bound<'_, PyAny>, out: &mut String) -> Option<()> {
    match plan {
        Plan::Structure(members) => object(value, out, |name, item, out| {
            // A member the shape lacks: the Python writer refuses it (a handler's bug).
            let name = utf8(name.cast_exact::<PyString>().ok()?).ok()?;
            let member = members.iter().find(|member| member.name == name)?;
            out.push_str(&member.field);
            write(&member.plan, item, out)
        })?,
        Plan::List(member) => {
            let items = value.cast_exact::<PyList>().ok()?;
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                match **member {
                    // (An item of a list of structures is never None: the Python writer would
                    // fail on one.)
                    Plan::Plain if item.is_none() => out.push_str("null"),
                    _ => write(member, &item, out)?,
                }
            }
            out.push(']');
        }
        Plan::Map(values) => object(value, out, |key, item, out| {
            quote(out, utf8(key.cast_exact::<PyString>().ok()?).ok()?);
            out.push(':');
            write(values, item, out)
        })?,
        Plan::Plain => plain(value, out)?,
        Plan::Other => return None,
    }
    Some(())
}

/// A dict's entries as a JSON object, those whose value is None left out (as the Python writer
/// leaves them); `entry` writes one entry's key and value.
fn object(
    value: &Bound<'_, PyAny>,
    out: &mut String,
    mut entry: impl FnMut(&Bound<'_, PyAny>, &Bound<'_, PyAny>, &mut String) -> Option<()>,
) -> Option<()> {
    let entries = value.cast_exact::<PyDict>().ok()?;
    out.push('{');
    let mut first = true;
    for (key, item) in entries.iter() {
        if item.is_none() {
            continue;
        }
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        entry(&key, &item, out)?;
    }
    out.push('}');
    Some(())
}

/// A string, integer or boolean as orjson writes it.
fn plain(value: &Bound<'_, PyAny>, out: &mut String) -> Option<()> {
    if let Ok(text) = value.cast_exact::<PyString>() {
        quote(out, utf8(text).ok()?);
    } else if let Ok(truth) = value.cast_exact::<PyBool>() {
        out.push_str(if truth.is_true() { "true" } else { "false" });
    } else if let Ok(number) = value.cast_exact::<PyInt>() {
        out.push_str(&number.extract::<i64>().ok()?.to_string());
    } else {
        return None;
    }
    Some(())
}
