//! Survey data: a campaign's interviews read from the store (`facts`), laid out as a
//! labelled data set one row per interview (`dataset`) with its codebook (`codebook`), and
//! the survey progress reports (`progress`).

pub mod codebook;
pub mod dataset;
pub mod facts;
pub mod progress;
