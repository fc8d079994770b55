//! The plans the AWS protocols' native readers and writers are made from (`query_form`,
//! `json_request`, `json_response`): tuples `(kind, part, ...)` that `rulebus.aws.protocols`
//! writes from botocore's shapes (each module's `native_plan`), read here for each one's own
//! plan type.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

/// Deeper plans than this are compiled as a type only Python reads: botocore's shapes nest a
/// handful of levels.
pub(crate) const MAX_DEPTH: usize = 32;

/// One shape's description: its kind, and its parts after it.
pub(crate) struct Described<'py> {
    pub kind: String,
    parts: Bound<'py, PyTuple>,
}

/// A structure's member as described: its name, the key or wire name it travels under, and
/// its plan.
pub(crate) type DescribedMember<'py, T> = (Bound<'py, PyString>, String, T);

impl<'py> Described<'py> {
    pub fn of(description: &Bound<'py, PyAny>) -> PyResult<Self> {
        let parts = description.cast::<PyTuple>()?.clone();
        let kind = parts.get_item(0)?.extract()?;
        Ok(Self { kind, parts })
    }

    /// The part at `index` (the kind is at 0).
    pub fn part(&self, index: usize) -> PyResult<Bound<'py, PyAny>> {
        self.parts.get_item(index)
    }

    /// A structure's members (its part 1), each member's plan made by `compile`.
    pub fn members<T>(
        &self,
        mut compile: impl FnMut(&Bound<'py, PyAny>) -> PyResult<T>,
    ) -> PyResult<Vec<DescribedMember<'py, T>>> {
        let mut members = Vec::new();
        for member in self.parts.get_item(1)?.try_iter()? {
            let member = member?;
            let member = member.cast::<PyTuple>()?;
            let name = member.get_item(0)?.cast_into::<PyString>()?;
            members.push((name, member.get_item(1)?.extract()?, compile(&member.get_item(2)?)?));
        }
        Ok(members)
    }

    /// The error for a kind the plan's reader does not know (a bug in the Python side).
    pub fn unknown<T>(&self, protocol: &str) -> PyResult<T> {
        Err(PyValueError::new_err(format!("unknown kind in a {protocol} plan: {:?}", self.kind)))
    }
}
