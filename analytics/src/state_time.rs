//! The cut of agents' state changes into time per state and period: each state runs from its
//! change until the agent's next one (or the end of the range), and is cut where periods end.
//! One pass over the rows, which come by agent and then in order: fifty million changes
//! take a second or two on two cores, where Polars' expressions for the same neighbours,
//! cuts and sums took tens of seconds and gigabytes (BENCHMARKS.md). Polars reads the columns
//! and takes the result; the loop between is plain Rust over the columns' values.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use polars::prelude::*;

use crate::ReportError;
use crate::facts::time_dtype;
use crate::period::Bucket;

/// One agent's time in one period, per state and not-ready reason (indexes into the pass's
/// lists of texts), in milliseconds.
#[derive(Debug)]
struct Cell {
    agent: u32,
    period: i64,
    sums: Vec<(u16, u16, i64)>,
}

/// What one pass found: the agents' names in the order met, the texts of states and reasons,
/// and the cells.
#[derive(Debug, Default)]
struct Pass {
    agents: Vec<String>,
    states: Vec<String>,
    reasons: Vec<String>,
    cells: Vec<Cell>,
}

/// The index of `text` in `list`, added when new; the lists hold a handful of states and
/// reasons, so a look along them beats hashing.
fn intern(list: &mut Vec<String>, text: &str) -> u16 {
    match list.iter().position(|t| t == text) {
        Some(i) => i as u16,
        None => {
            list.push(text.to_string());
            (list.len() - 1) as u16
        }
    }
}

/// The bucket an instant is in, remembered: an agent's changes come in order, so the next is
/// nearly always in the bucket of the last.
struct Buckets {
    bucket: Bucket,
    zone: Tz,
    last: (i64, i64),
}

impl Buckets {
    fn of(&mut self, at: i64) -> (i64, i64) {
        if !(self.last.0 <= at && at < self.last.1) {
            let instant = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
            let start = self.bucket.start_in(self.zone, instant);
            self.last = (
                start.timestamp_millis(),
                self.bucket.next_in(self.zone, start).timestamp_millis(),
            );
        }
        self.last
    }
}

/// A text column as the pass reads it: texts, or the codes of a Categorical column (as a
/// dictionary-encoded Parquet column is read) with each code's text, which spares making
/// fifty million strings.
#[derive(Clone)]
enum Texts {
    Plain(StringChunked),
    Coded(UInt32Chunked, Arc<Vec<String>>),
}

impl Texts {
    fn of(frame: &DataFrame, name: &str) -> Result<Self, ReportError> {
        let column = frame.column(name)?;
        if matches!(column.dtype(), DataType::Categorical(..))
            && let Some(coded) = column.as_materialized_series().try_cat32()
        {
            let mapping = coded.get_mapping();
            // The codes' texts once, in a plain list: a look-up per value into it is an index.
            let texts = (0..mapping.num_cats_upper_bound())
                .map(|code| mapping.cat_to_str(code as u32).unwrap_or_default().to_string())
                .collect();
            return Ok(Texts::Coded(coded.physical().clone(), Arc::new(texts)));
        }
        Ok(Texts::Plain(column.cast(&DataType::String)?.str()?.clone()))
    }

    fn slice(&self, offset: usize, length: usize) -> Self {
        match self {
            Texts::Plain(texts) => Texts::Plain(texts.slice(offset as i64, length)),
            Texts::Coded(codes, texts) => Texts::Coded(codes.slice(offset as i64, length), texts.clone()),
        }
    }

    fn get(&self, index: usize) -> Option<&str> {
        match self {
            Texts::Plain(texts) => texts.get(index),
            Texts::Coded(codes, texts) => codes.get(index).map(|code| texts[code as usize].as_str()),
        }
    }

    /// The values, chunk after chunk, through the arrays' own iterators (the chunked
    /// array's iterator is a boxed one, a call through a pointer per value).
    fn values(&self) -> OneOf<impl Iterator<Item = Option<&str>>, impl Iterator<Item = Option<&str>>> {
        match self {
            Texts::Plain(column) => OneOf::First(column.downcast_iter().flat_map(|array| array.iter())),
            Texts::Coded(codes, texts) => OneOf::Second(
                codes
                    .downcast_iter()
                    .flat_map(|array| array.iter())
                    .map(|code| code.map(|code| texts[*code as usize].as_str())),
            ),
        }
    }
}

/// One of two iterators of the same items, chosen once (a match per value, which the
/// processor predicts, rather than a call through a pointer).
enum OneOf<A, B> {
    First(A),
    Second(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for OneOf<A, B> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            OneOf::First(a) => a.next(),
            OneOf::Second(b) => b.next(),
        }
    }
}

/// Milliseconds per agent, period (its start), state and, for not ready, reason, from
/// `changes` (the columns `agent`, `at`, `to_state`, `reason` of
/// [`crate::facts::state_changes_frame`]), by agent and then in the order they happened.
/// Logged out is no time. Periods are `bucket`s of `zone`'s wall clock.
///
/// The columns of the result: `agent`, `state`, `reason` (String; `reason` null but for not
/// ready), `period` (Datetime, ms) and `ms` (Int64); one row per agent's run of rows, period,
/// state and reason with time. Returned with whether each agent's rows came in one run (as
/// they should), so that the rows are one per agent, period, state and reason.
pub fn cut(changes: &DataFrame, to: DateTime<Utc>, bucket: Bucket, zone: Tz) -> Result<(DataFrame, bool), ReportError> {
    let (passes, once) = passes(changes, to, bucket, zone)?;
    Ok((frame_of(passes)?, once))
}

/// The same cut as a table: one row per agent's run of rows and period, with `agent`,
/// `period`, `logged_in` (every state's time), a column per state of `states` (`(state,
/// column)`), and one per not-ready reason, `not_ready:REASON` in the order of the reasons'
/// texts; times in seconds (Float64). Returned with whether each agent's rows came in one run.
pub fn cut_wide(
    changes: &DataFrame,
    to: DateTime<Utc>,
    bucket: Bucket,
    zone: Tz,
    states: &[(&str, &str)],
) -> Result<(DataFrame, bool), ReportError> {
    let (passes, once) = passes(changes, to, bucket, zone)?;
    let mut reasons: Vec<&str> = passes
        .iter()
        .flat_map(|p| p.reasons.iter().map(String::as_str))
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    let rows: usize = passes.iter().map(|p| p.cells.len()).sum();
    let mut agents: Vec<&str> = Vec::with_capacity(rows);
    let mut periods: Vec<i64> = Vec::with_capacity(rows);
    let mut logged_in: Vec<f64> = Vec::with_capacity(rows);
    let mut by_state: Vec<Vec<f64>> = vec![Vec::with_capacity(rows); states.len()];
    let mut by_reason: Vec<Vec<f64>> = vec![Vec::with_capacity(rows); reasons.len()];
    for pass in &passes {
        // Each of the pass's state and reason codes to its column, if it has one.
        let state_column: Vec<Option<usize>> = pass
            .states
            .iter()
            .map(|text| states.iter().position(|(state, _)| state == text))
            .collect();
        let reason_column: Vec<Option<usize>> = pass
            .reasons
            .iter()
            .map(|text| reasons.binary_search(&text.as_str()).ok())
            .collect();
        let not_ready = pass.states.iter().position(|s| s == "not_ready");
        for cell in &pass.cells {
            agents.push(&pass.agents[cell.agent as usize]);
            periods.push(cell.period);
            let (mut all, mut each, mut why) = (0, vec![0i64; states.len()], vec![0i64; reasons.len()]);
            for (state, reason, ms) in &cell.sums {
                all += ms;
                if let Some(column) = state_column[usize::from(*state)] {
                    each[column] += ms;
                }
                if Some(usize::from(*state)) == not_ready
                    && let Some(Some(column)) = reason.checked_sub(1).map(|r| reason_column[usize::from(r)])
                {
                    why[column] += ms;
                }
            }
            logged_in.push(all as f64 / 1000.0);
            for (column, ms) in by_state.iter_mut().zip(each) {
                column.push(ms as f64 / 1000.0);
            }
            for (column, ms) in by_reason.iter_mut().zip(why) {
                column.push(ms as f64 / 1000.0);
            }
        }
    }
    let mut columns = vec![
        Column::new("agent".into(), agents),
        Column::new("period".into(), periods).cast(&time_dtype())?,
        Column::new("logged_in".into(), logged_in),
    ];
    for ((_, name), values) in states.iter().zip(by_state) {
        columns.push(Column::new((*name).into(), values));
    }
    for (reason, values) in reasons.iter().zip(by_reason) {
        columns.push(Column::new(format!("not_ready:{reason}").into(), values));
    }
    Ok((DataFrame::new(rows, columns)?, once))
}

/// The two passes over the rows, and whether each agent's rows came in one run.
fn passes(changes: &DataFrame, to: DateTime<Utc>, bucket: Bucket, zone: Tz) -> Result<([Pass; 2], bool), ReportError> {
    let agent = Texts::of(changes, "agent")?;
    let state = Texts::of(changes, "to_state")?;
    let reason = Texts::of(changes, "reason")?;
    let at = changes.column("at")?.cast(&time_dtype())?.cast(&DataType::Int64)?;
    let at = at.i64()?;
    // The columns are read in many chunks; they are walked chunk after chunk rather than
    // joined into one (which copies every text).
    let n = at.len();
    // Two halves, each on a core, split where an agent's rows begin.
    let mut split = n / 2;
    while split > 0 && split < n && agent.get(split) == agent.get(split - 1) {
        split += 1;
    }
    let split = split.min(n);
    let to = to.timestamp_millis();
    let run = |offset: usize, length: usize| {
        let (agent, state, reason, at) = (
            agent.slice(offset, length),
            state.slice(offset, length),
            reason.slice(offset, length),
            at.slice(offset as i64, length),
        );
        let rows = agent
            .values()
            .zip(state.values())
            .zip(reason.values())
            .zip(at.downcast_iter().flat_map(|array| array.iter()))
            .map(|(((agent, state), reason), at)| Row {
                agent,
                state,
                reason,
                at: at.copied().unwrap_or(i64::MAX),
            });
        pass(
            rows,
            to,
            Buckets {
                bucket,
                zone,
                last: (0, 0),
            },
        )
    };
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| run(split, n - split));
        let first = run(0, split);
        (first, second.join().expect("the second half's pass"))
    });
    let mut seen = std::collections::HashSet::new();
    let once = first.agents.iter().chain(&second.agents).all(|a| seen.insert(a));
    Ok(([first, second], once))
}

/// One state change as the pass reads it.
struct Row<'a> {
    agent: Option<&'a str>,
    state: Option<&'a str>,
    reason: Option<&'a str>,
    at: i64,
}

/// The cut of `rows` (whole agents).
fn pass<'a>(rows: impl Iterator<Item = Row<'a>>, to: i64, mut buckets: Buckets) -> Pass {
    let mut out = Pass::default();
    let not_ready = intern(&mut out.states, "not_ready");
    let logged_out = intern(&mut out.states, "logged_out");
    // The cell of each agent and period, and the one last added to.
    let mut cell_of: HashMap<(u32, i64), usize> = HashMap::new();
    let mut last_cell: Option<((u32, i64), usize)> = None;
    // The states' codes by a hash of their length and ends: one comparison a row to confirm,
    // where the states follow each other in turn (ready, reserved, on call, wrap-up).
    let mut state_slots: [Option<u16>; 32] = [None; 32];
    let mut last_reason: Option<(&str, u16)> = None;
    // Whether the row starts an agent's rows: known from the look at the next row.
    let mut starts_agent = true;
    let mut rows = rows.peekable();
    while let Some(row) = rows.next() {
        let Some(name) = row.agent else {
            starts_agent = true;
            continue;
        };
        let same_agent_next = matches!(rows.peek(), Some(next) if next.agent == Some(name));
        if std::mem::replace(&mut starts_agent, !same_agent_next) {
            out.agents.push(name.to_string());
        }
        let who = (out.agents.len() - 1) as u32;
        let text = row.state.unwrap_or("");
        let bytes = text.as_bytes();
        let slot = (bytes.len() * 31
            + usize::from(bytes.first().copied().unwrap_or(0))
            + 7 * usize::from(bytes.last().copied().unwrap_or(0)))
            % state_slots.len();
        let code = match state_slots[slot] {
            Some(c) if out.states[usize::from(c)] == text => c,
            _ => {
                let c = intern(&mut out.states, text);
                state_slots[slot] = Some(c);
                c
            }
        };
        if code == logged_out {
            continue;
        }
        let why = match row.reason {
            Some(text) if code == not_ready => match last_reason {
                Some((t, c)) if t == text => c,
                _ => {
                    // 0 is "no reason": reasons are numbered from 1.
                    let c = intern(&mut out.reasons, text) + 1;
                    last_reason = Some((text, c));
                    c
                }
            },
            _ => 0,
        };
        let until = match rows.peek() {
            Some(next) if same_agent_next => next.at.min(to),
            _ => to,
        };
        let mut from = row.at;
        while from < until {
            let (period, next) = buckets.of(from);
            let piece_end = until.min(next);
            let key = (who, period);
            let index = match last_cell {
                Some((k, index)) if k == key => index,
                _ => {
                    let index = *cell_of.entry(key).or_insert_with(|| {
                        out.cells.push(Cell {
                            agent: who,
                            period,
                            sums: Vec::new(),
                        });
                        out.cells.len() - 1
                    });
                    last_cell = Some((key, index));
                    index
                }
            };
            let sums = &mut out.cells[index].sums;
            match sums.iter_mut().find(|(s, r, _)| *s == code && *r == why) {
                Some((_, _, ms)) => *ms += piece_end - from,
                None => sums.push((code, why, piece_end - from)),
            }
            from = piece_end;
        }
    }
    out
}

/// The passes' cells as one frame.
fn frame_of(passes: [Pass; 2]) -> Result<DataFrame, ReportError> {
    let rows: usize = passes
        .iter()
        .map(|p| p.cells.iter().map(|c| c.sums.len()).sum::<usize>())
        .sum();
    let mut agents: Vec<&str> = Vec::with_capacity(rows);
    let mut periods: Vec<i64> = Vec::with_capacity(rows);
    let mut states: Vec<&str> = Vec::with_capacity(rows);
    let mut reasons: Vec<Option<&str>> = Vec::with_capacity(rows);
    let mut ms: Vec<i64> = Vec::with_capacity(rows);
    for pass in &passes {
        for cell in &pass.cells {
            for (state, reason, time) in &cell.sums {
                agents.push(&pass.agents[cell.agent as usize]);
                periods.push(cell.period);
                states.push(&pass.states[*state as usize]);
                reasons.push(reason.checked_sub(1).map(|r| pass.reasons[r as usize].as_str()));
                ms.push(*time);
            }
        }
    }
    Ok(DataFrame::new(
        rows,
        vec![
            Column::new("agent".into(), agents),
            Column::new("period".into(), periods).cast(&time_dtype())?,
            Column::new("state".into(), states),
            Column::new("reason".into(), reasons),
            Column::new("ms".into(), ms),
        ],
    )?)
}
