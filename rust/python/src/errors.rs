//! The Python exceptions the binding raises. The classes are defined once, in `rulebus._errors`
//! (they carry `.reason` and `.code` and subclass `ValueError`); each is imported the first time
//! it is raised and kept.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use rulebus_core::{Dialect, Error};

/// One exception class of `rulebus._errors`, imported once.
struct ErrorClass {
    name: &'static str,
    class: PyOnceLock<Py<PyType>>,
}

impl ErrorClass {
    const fn new(name: &'static str) -> Self {
        Self { name, class: PyOnceLock::new() }
    }

    fn get<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyType>> {
        self.class
            .get_or_try_init(py, || {
                Ok(py.import("rulebus._errors")?.getattr(self.name)?.cast_into::<PyType>()?.unbind())
            })
            .map(|class| class.bind(py))
    }

    /// An instance of the class made with `args`, as a Python exception.
    #[cold]
    fn raise<'py>(&self, py: Python<'py>, args: impl pyo3::call::PyCallArgs<'py>) -> PyErr {
        match self.get(py).and_then(|class| class.call1(args)) {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        }
    }
}

static RULEBUS_ERROR: ErrorClass = ErrorClass::new("RulebusError");
static INVALID_PATTERN: ErrorClass = ErrorClass::new("InvalidPatternError");
static INVALID_FILTER_POLICY: ErrorClass = ErrorClass::new("InvalidFilterPolicyError");
static INVALID_EVENT: ErrorClass = ErrorClass::new("InvalidEventError");

/// The Python exception for a core error: the one place the core's errors meet Python's.
#[cold]
pub(crate) fn to_py(py: Python<'_>, error: &Error) -> PyErr {
    let class = match error {
        Error::InvalidPattern { dialect: Dialect::EventBridge, .. } => &INVALID_PATTERN,
        Error::InvalidPattern { dialect: Dialect::Sns, .. } | Error::InvalidPolicyParameter { .. } => {
            &INVALID_FILTER_POLICY
        }
        Error::InvalidEvent { .. } => &INVALID_EVENT,
    };
    class.raise(py, (error.message(), error.reason()))
}

/// Runs core code, turning a panic (a bug) into a Python exception rather than an abort.
pub(crate) fn guard<T>(py: Python<'_>, f: impl FnOnce() -> Result<T, Error>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(to_py(py, &error)),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(RULEBUS_ERROR.raise(py, (format!("internal error in rulebus: {detail}"),)))
        }
    }
}
