//! Sets pyo3's cfgs (`Py_3_14`, ...) for this crate too: `queue::is_plain_body` reads a str's
//! ASCII flag where the interpreter's layout has one that pyo3 reads.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
