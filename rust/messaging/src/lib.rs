//! rulebus-messaging: the per-message pieces of rulebus's messaging layer that run in Rust: an
//! SQS queue's order in memory (`queue`), what a plain SQS body is (`plain`), EventBridge's event
//! envelope (`envelope`), SNS's notification envelope (`notification`) and the query protocol's
//! request forms (`query_form`). Pure Rust: no Python, no I/O.

pub mod envelope;
pub mod json_request;
pub mod notification;
pub mod plain;
pub mod query_form;
pub mod queue;
