//! The expression language of questionnaires: XLSForm's subset of XPath, for relevance
//! (when a question is asked), constraints (when an answer is accepted), calculations and
//! choice filters.
//!
//! - [`parse`]: text to [`Expr`], with the position of a syntax error;
//! - [`check`]: the checks made when a questionnaire is loaded (unknown names, answers not
//!   yet given, unknown functions, type mismatches, options that do not exist);
//! - [`eval`]: the value of an expression for an interview's answers, as ODK computes it.
//!
//! Written here because no crate reads XLSForm's expressions; templates (piping) are
//! minijinja's.

pub mod check;
pub mod eval;
pub mod parse;

pub use check::{CheckError, Scope, Type, check};
pub use eval::{EvalError, Value, Values, eval};
pub use parse::{Expr, Op, SyntaxError, parse};
