//! Quotas: cells over sample fields and answers (region × gender × age band), each with a
//! target, counted on completes (and, if the quota says so, on interviews in progress).
//!
//! Pure: a [`QuotaBook`] holds the counts and answers the three questions the runtime asks:
//! which cells an interview is in, whether one of them is full (the interview then ends as
//! screened out, AAPOR 4.80), and, for the dialer, whether a record's sample fields alone put
//! it in a full cell (then it is not dialed). Storage keeps the counts; this decides.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::expr::{self, Value, Values};
use crate::interview::View;
use crate::questionnaire::{Questionnaire, Quota, QuotaAction, QuotaCell};

/// A cell's place: its quota's name and its own key (e.g. `north/f/18-34`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CellId {
    /// The quota.
    pub quota: String,
    /// The cell within it.
    pub cell: String,
}

impl std::fmt::Display for CellId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.quota, self.cell)
    }
}

/// How many interviews count towards a cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Completed interviews in the cell.
    pub completes: u32,
    /// Interviews in progress in the cell.
    pub in_progress: u32,
}

/// One cell's progress, as a supervisor sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellProgress {
    /// Which cell.
    #[serde(flatten)]
    pub id: CellId,
    /// Its target.
    pub target: u32,
    /// Its counts.
    #[serde(flatten)]
    pub count: Count,
    /// Whether it takes no more interviews.
    pub full: bool,
}

/// The quotas of one questionnaire and their counts.
#[derive(Debug, Clone)]
pub struct QuotaBook {
    quotas: Vec<Quota>,
    counts: BTreeMap<CellId, Count>,
}

impl QuotaBook {
    /// The quotas of `questionnaire`, every count at zero.
    pub fn new(questionnaire: &Questionnaire) -> Self {
        QuotaBook {
            quotas: questionnaire.quotas.clone(),
            counts: BTreeMap::new(),
        }
    }

    /// Sets a cell's target over the questionnaire's (a campaign's change in the field);
    /// `false`, and nothing changes, if the questionnaire has no such cell.
    pub fn set_target(&mut self, id: &CellId, target: u32) -> bool {
        let cell = self
            .quotas
            .iter_mut()
            .filter(|q| q.name == id.quota)
            .flat_map(|q| q.cells.iter_mut())
            .find(|c| c.key == id.cell);
        match cell {
            Some(cell) => {
                cell.target = target;
                true
            }
            None => false,
        }
    }

    /// Every cell of the quotas, in the questionnaire's order.
    pub fn cells(&self) -> impl Iterator<Item = CellId> + '_ {
        self.quotas.iter().flat_map(|q| {
            q.cells.iter().map(|c| CellId {
                quota: q.name.clone(),
                cell: c.key.clone(),
            })
        })
    }

    /// Sets a cell's counts (as loaded from the store).
    pub fn set(&mut self, id: CellId, count: Count) {
        self.counts.insert(id, count);
    }

    /// A cell's counts.
    pub fn count(&self, id: &CellId) -> Count {
        self.counts.get(id).copied().unwrap_or_default()
    }

    /// Counts one more interview in progress in each of `cells`.
    pub fn started(&mut self, cells: &[CellId]) {
        for id in cells {
            self.counts.entry(id.clone()).or_default().in_progress += 1;
        }
    }

    /// Moves an interview in `cells` from in progress to complete.
    pub fn completed(&mut self, cells: &[CellId]) {
        for id in cells {
            let c = self.counts.entry(id.clone()).or_default();
            c.in_progress = c.in_progress.saturating_sub(1);
            c.completes += 1;
        }
    }

    /// Takes an interview in `cells` out of the in-progress counts (it ended otherwise).
    pub fn abandoned(&mut self, cells: &[CellId]) {
        for id in cells {
            let c = self.counts.entry(id.clone()).or_default();
            c.in_progress = c.in_progress.saturating_sub(1);
        }
    }

    fn is_full(&self, quota: &Quota, id: &CellId, target: u32) -> bool {
        let c = self.count(id);
        let counted = c.completes + if quota.count_in_progress { c.in_progress } else { 0 };
        counted >= target
    }

    /// The cells the answers and sample fields put an interview in (unanswered dimensions
    /// put it in none yet).
    pub fn cells_of(
        &self,
        answers: &BTreeMap<String, Value>,
        sample: &BTreeMap<String, Value>,
        today: NaiveDate,
    ) -> Vec<CellId> {
        let values = View::of(answers, sample, today);
        let mut out = Vec::new();
        for quota in &self.quotas {
            for cell in &quota.cells {
                if expr::eval(&cell.when, &values).is_ok_and(|v| v.truth()) {
                    out.push(CellId {
                        quota: quota.name.clone(),
                        cell: cell.key.clone(),
                    });
                }
            }
        }
        out
    }

    /// The full cell that ends this interview now, if any. `answered` says whether an answer
    /// was just given: a quota whose action is `after_question` ends an interview only then,
    /// one whose action is `at_once` also between questions (an interview resumed, or one
    /// whose cell another interview has just filled).
    pub fn closes(
        &self,
        answers: &BTreeMap<String, Value>,
        sample: &BTreeMap<String, Value>,
        today: NaiveDate,
        answered: bool,
    ) -> Option<CellId> {
        let values = View::of(answers, sample, today);
        self.first_full(&values, |quota, _| answered || quota.action == QuotaAction::AtOnce)
    }

    /// For the dialer: the full cell a record's sample fields alone put it in, if any (cells
    /// that need answers are decided in the interview).
    pub fn closed_for_sample(&self, sample: &BTreeMap<String, Value>, today: NaiveDate) -> Option<CellId> {
        let none = BTreeMap::new();
        let values = View::of(&none, sample, today);
        self.first_full(&values, |_, cell| cell.sample_only)
    }

    /// The first full cell, among those `considered`, that `values` put an interview in.
    fn first_full(&self, values: &dyn Values, considered: impl Fn(&Quota, &QuotaCell) -> bool) -> Option<CellId> {
        for quota in &self.quotas {
            for cell in quota.cells.iter().filter(|c| considered(quota, c)) {
                let id = CellId {
                    quota: quota.name.clone(),
                    cell: cell.key.clone(),
                };
                if self.is_full(quota, &id, cell.target) && expr::eval(&cell.when, values).is_ok_and(|v| v.truth()) {
                    return Some(id);
                }
            }
        }
        None
    }

    /// Every cell's progress, in the questionnaire's order.
    pub fn progress(&self) -> Vec<CellProgress> {
        let mut out = Vec::new();
        for quota in &self.quotas {
            for cell in &quota.cells {
                let id = CellId {
                    quota: quota.name.clone(),
                    cell: cell.key.clone(),
                };
                out.push(CellProgress {
                    count: self.count(&id),
                    full: self.is_full(quota, &id, cell.target),
                    target: cell.target,
                    id,
                });
            }
        }
        out
    }
}

/// The dialer's quota gate, over the quota books of the campaigns' questionnaires: a record is
/// held back (status `quota_closed`) when its sample fields alone put it in a full cell.
pub struct SampleGate {
    books: std::sync::RwLock<std::collections::HashMap<i64, QuotaBook>>,
    clock: std::sync::Arc<dyn paceline_dialer::clock::Clock>,
}

impl SampleGate {
    /// A gate with no books yet, on `clock` (for `today()` in cell conditions).
    pub fn new(clock: std::sync::Arc<dyn paceline_dialer::clock::Clock>) -> Self {
        SampleGate {
            books: Default::default(),
            clock,
        }
    }

    /// Sets or replaces a campaign's book (at start-up, or when counts move).
    pub fn set_book(&self, campaign: i64, book: QuotaBook) {
        self.books.write().expect("the quota books").insert(campaign, book);
    }

    /// Changes a campaign's book in place (an interview completed).
    pub fn update(&self, campaign: i64, change: impl FnOnce(&mut QuotaBook)) {
        if let Some(book) = self.books.write().expect("the quota books").get_mut(&campaign) {
            change(book);
        }
    }

    /// Reads a campaign's book (none: the campaign has none here).
    pub fn read<R>(&self, campaign: i64, look: impl FnOnce(&QuotaBook) -> R) -> Option<R> {
        self.books.read().expect("the quota books").get(&campaign).map(look)
    }
}

/// A record's stored fields as expression values.
pub fn sample_values(fields: &serde_json::Value) -> BTreeMap<String, Value> {
    fields
        .as_object()
        .map(|map| map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
        .unwrap_or_default()
}

impl paceline_dialer::runtime::QuotaGate for SampleGate {
    fn closed(&self, campaign: i64, fields: &serde_json::Value) -> bool {
        let books = self.books.read().expect("the quota books");
        let Some(book) = books.get(&campaign) else { return false };
        book.closed_for_sample(&sample_values(fields), self.clock.now().date_naive())
            .is_some()
    }
}
