//! Paceline's survey engine (CATI): what an interview is made of and what it counts for.
//!
//! - [`aapor`]: the AAPOR final disposition codes for telephone surveys, the groups the
//!   outcome rates count them in, and the response, cooperation, refusal and contact rates
//!   (RR1-RR6, COOP1-COOP4, REF1-REF3, CON1-CON3).
//! - [`callback`]: callbacks booked in the respondent's own time zone.
//! - [`expr`]: the expression language of relevance, constraints, calculations and choice
//!   filters (XLSForm's XPath subset): parse, check when loading, evaluate.
//! - [`interview`]: the interview runtime, a state machine over a questionnaire: routing,
//!   validation, piping, reproducible shuffles, back and jump, suspend and resume.
//! - [`lookups`]: what interviewers and supervisors look up: call records, a record's
//!   answers, the leaderboard (completes per hour logged in).
//! - [`outcome`]: the disposition an interview's ending gives its record.
//! - [`quota`]: quota cells and their counts: which cells an interview is in, which full cell
//!   ends it, which records the dialer holds back.
//! - [`template`]: texts with answers piped in (`${name}`, and minijinja templates).
//! - [`return_visit`]: return-visit lists drawn by rule, assigned with deadlines, overdue
//!   ones flagged (CATI-10).
//! - [`store`]: published questionnaire versions and interviews, stored as they are given,
//!   on the dialer's store (SQLite or PostgreSQL).
//! - [`questionnaire`]: the questionnaire model, the own TOML format, and the checks made
//!   when a questionnaire is loaded.
//!
//! Pure logic in plain types, no I/O and no clock, except [`store`], the async shell that
//! keeps versions and interviews. The dialer stores dispositions by AAPOR code; analytics and
//! the command line compute rates from their counts here.

pub mod aapor;
pub mod callback;
pub mod desk;
pub mod expr;
pub mod interview;
pub mod lookups;
pub mod outcome;
pub mod questionnaire;
pub mod quota;
pub mod respondent;
pub mod return_visit;
pub mod store;
pub mod template;
