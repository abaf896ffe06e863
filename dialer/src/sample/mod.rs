//! A campaign's sample: its records, their typed fields, and how they arrive from files.
//!
//! An import flows `source` (file to rows of text) -> `mapping` (columns to fields) ->
//! `prepare` (typed values, `phone` numbers, `zones`; on every core) -> `import` (screening
//! and storing). `record` holds what happens to records afterwards.

pub mod fields;
pub mod import;
pub mod mapping;
pub mod phone;
pub mod prepare;
pub mod record;
pub mod source;
pub mod synthetic;
pub mod zones;
