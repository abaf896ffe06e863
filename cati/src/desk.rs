//! The survey desk of a running campaign: where the dialer and the interview runtime meet.
//! When the engine bridges a person to an interviewer, the desk starts the record's interview
//! (or resumes the one a callback left open), keeps each interviewer's interview, stores every
//! step as it is taken, keeps the campaign's quota counts (so the dialer's gate holds back
//! records of full cells), screens out interviews that land in a full cell, and at the end
//! gives the disposition the interview's ending means for the record.
//!
//! The desk holds no engine: it reads the engine's events and returns the [`Disposal`] that
//! the interviewer's desktop, or a simulated interviewer, gives the engine.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{CampaignError, CampaignKind};
use paceline_dialer::clock::Clock;
use paceline_dialer::events::{CallStep, Event};
use paceline_dialer::runtime::Disposal;
use paceline_dialer::store::Db;
use paceline_dialer::users::UserId;

use crate::expr::Value;
use crate::interview::{Interview, Refused, Saved, Shown, State};
use crate::questionnaire::Questionnaire;
use crate::quota::{CellId, QuotaBook, SampleGate};
use crate::store::{self, InterviewId, Party, StoreError, VersionId};

/// Why the desk could not do what was asked; nothing stored was changed.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The campaign is unknown or unreadable.
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    /// The campaign has no questionnaire to ask.
    #[error("campaign '{0}' has no questionnaire: set its `questionnaire` to a published questionnaire's id")]
    NoQuestionnaire(String),
    /// The campaign's questionnaire has never been published.
    #[error("campaign '{campaign}' asks questionnaire '{key}', which is not published; publish it first")]
    NotPublished {
        /// The campaign.
        campaign: String,
        /// The questionnaire's id.
        key: String,
    },
    /// The interviewer has no interview open.
    #[error("interviewer {0} has no interview open")]
    NoInterview(UserId),
    /// The interview has not ended: say how it ends (a break-off, a callback).
    #[error("the interview is still on question '{0}': end it as a break-off or a callback")]
    NotEnded(String),
    /// A callback needs a time after now.
    #[error("a callback needs a time after now")]
    CallbackTime,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How an interviewer ends an interview.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// As the questionnaire ended it: complete, screened out, quota full.
    AsItEnded,
    /// The respondent broke off, or the line dropped for good, before the end.
    BreakOff {
        /// Why, in the interviewer's words.
        reason: String,
    },
    /// Stopped for a callback; the next call to the record resumes at the same question.
    Callback {
        /// When, in UTC (see [`crate::callback::local_to_utc`] for the respondent's time).
        at: DateTime<Utc>,
        /// Whether the same interviewer makes it; else anyone on the campaign.
        personal: bool,
    },
}

/// A survey campaign's questionnaire as the desk uses it.
#[derive(Debug)]
struct Survey {
    version: VersionId,
}

/// An interviewer's interview in progress.
#[derive(Debug, Clone)]
pub struct Open {
    /// The campaign.
    pub campaign: i64,
    /// The record.
    pub record: i64,
    /// The stored interview.
    pub interview: InterviewId,
    /// The questionnaire version it runs on.
    pub version: VersionId,
    /// Whether it resumed an interview a callback (or a dropped line) left open.
    pub resumed: bool,
    /// What is stored of it now.
    saved: Saved,
    /// The quota cells it is counted in (in progress).
    cells: Vec<CellId>,
}

/// The survey desk of one runtime: the interviews of its interviewers, and the quota counts
/// of its survey campaigns.
pub struct SurveyDesk {
    db: Db,
    clock: Arc<dyn Clock>,
    gate: Arc<SampleGate>,
    surveys: HashMap<i64, Survey>,
    /// Questionnaires by version, loaded once (versions never change).
    versions: HashMap<VersionId, Arc<Questionnaire>>,
    open: HashMap<UserId, Open>,
}

impl SurveyDesk {
    /// A desk on `db`, its time from `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        SurveyDesk {
            db,
            gate: Arc::new(SampleGate::new(clock.clone())),
            clock,
            surveys: HashMap::new(),
            versions: HashMap::new(),
            open: HashMap::new(),
        }
    }

    /// The quota gate over this desk's campaigns, for the engine (`Engine::set_quota_gate`):
    /// it holds back records whose sample fields put them in a full cell.
    pub fn gate(&self) -> Arc<SampleGate> {
        self.gate.clone()
    }

    /// Takes on a survey campaign: its questionnaire's latest published version for new
    /// interviews, and its quota counts from the interviews stored.
    pub async fn open_campaign(&mut self, campaign: i64) -> Result<(), DeskError> {
        let c = campaigns::find(&self.db, &campaign.to_string()).await?;
        if c.kind != CampaignKind::Survey {
            return Ok(());
        }
        let key = c
            .settings
            .questionnaire
            .clone()
            .ok_or_else(|| DeskError::NoQuestionnaire(c.name.clone()))?;
        let version = store::latest_version(&self.db, &key)
            .await?
            .ok_or_else(|| DeskError::NotPublished {
                campaign: c.name.clone(),
                key: key.clone(),
            })?;
        let questionnaire = self.questionnaire(version).await?;
        let book = store::quota_book(&self.db, campaign, &questionnaire).await?;
        self.gate.set_book(campaign, book);
        self.surveys.insert(campaign, Survey { version });
        Ok(())
    }

    async fn questionnaire(&mut self, version: VersionId) -> Result<Arc<Questionnaire>, DeskError> {
        if let Some(q) = self.versions.get(&version) {
            return Ok(q.clone());
        }
        let q = Arc::new(store::version(&self.db, version).await?);
        self.versions.insert(version, q.clone());
        Ok(q)
    }

    /// Follows the engine's events: a person bridged to an interviewer on a survey campaign
    /// starts the record's interview, or resumes its open one. Returns the interviewer whose
    /// interview opened.
    pub async fn on_event(&mut self, event: &Event) -> Result<Option<UserId>, DeskError> {
        let Event::Call(note) = event else { return Ok(None) };
        let CallStep::Bridged { agent } = note.step else {
            return Ok(None);
        };
        let Some(survey) = self.surveys.get(&note.campaign) else {
            return Ok(None);
        };
        let latest = survey.version;
        let now = self.clock.now();
        let open = match store::open_for_record(&self.db, note.record).await? {
            Some(id) => {
                let stored = store::load(&self.db, id).await?;
                let q = self.questionnaire(stored.version).await?;
                let mut interview =
                    Interview::restore(&q, stored.saved.clone()).map_err(|why| StoreError::Unreadable { id, why })?;
                interview.resume();
                store::save(&self.db, id, &stored.saved, &interview, now).await?;
                let saved = interview.saved();
                let cells = self.cells(note.campaign, &saved);
                Open {
                    campaign: note.campaign,
                    record: note.record,
                    interview: id,
                    version: stored.version,
                    resumed: true,
                    saved,
                    cells,
                }
            }
            None => {
                let q = self.questionnaire(latest).await?;
                let fields = store::record_fields(&self.db, note.record).await?;
                let sample = sample_of(&q, &fields);
                let language = q.languages.first().cloned().unwrap_or_default();
                // The record fixes the shuffles: the same respondent sees the same order.
                let seed = note.record as u64;
                let interview = Interview::start(&q, sample, &language, now.date_naive(), seed);
                let party = Party {
                    record: Some(note.record),
                    interviewer: Some(agent),
                };
                let id = store::start(&self.db, latest, party, &interview, now).await?;
                let saved = interview.saved();
                let cells = self.cells(note.campaign, &saved);
                self.gate.update(note.campaign, |book| book.started(&cells));
                Open {
                    campaign: note.campaign,
                    record: note.record,
                    interview: id,
                    version: latest,
                    resumed: false,
                    saved,
                    cells,
                }
            }
        };
        self.open.insert(agent, open);
        // A resumed interview may sit in a cell filled meanwhile.
        self.step(agent, |_| Ok(()), false).await.map_err(|e| match e {
            Stepped::Desk(e) => e,
            Stepped::Refused(_) => unreachable!("no answer was given"),
        })?;
        Ok(Some(agent))
    }

    fn cells(&self, campaign: i64, saved: &Saved) -> Vec<CellId> {
        self.gate
            .read(campaign, |book| {
                book.cells_of(&saved.answers, &saved.sample, saved.today)
            })
            .unwrap_or_default()
    }

    /// A question of the questionnaire of the interviewer's open interview, by name (or by
    /// the key of its answer inside a repeat).
    pub fn question(&self, agent: UserId, name: &str) -> Option<crate::questionnaire::Question> {
        let open = self.open.get(&agent)?;
        self.versions.get(&open.version)?.question(name).cloned()
    }

    /// The language the interviewer's interview is read in, and the languages it may be.
    pub fn languages(&self, agent: UserId) -> Option<(String, Vec<String>)> {
        let open = self.open.get(&agent)?;
        let q = self.versions.get(&open.version)?;
        Some((open.saved.language.clone(), q.languages.clone()))
    }

    /// The interviewer's open interview, if any.
    pub fn open(&self, agent: UserId) -> Option<&Open> {
        self.open.get(&agent)
    }

    /// The interviewer's interview as it stands: its state, and the question on screen.
    pub fn current(&self, agent: UserId) -> Option<(State, Option<Shown>)> {
        let open = self.open.get(&agent)?;
        let q = self.versions.get(&open.version)?;
        let interview = Interview::restore(q, open.saved.clone()).ok()?;
        Some((interview.state().clone(), interview.current()))
    }

    /// Answers the question on screen (with the text of "other, specify" when it is picked),
    /// stores the step, and screens the interview out when its quota cell is full.
    pub async fn answer(&mut self, agent: UserId, value: Value, other: Option<&str>) -> Result<(), Answered> {
        self.step(agent, |iv| iv.answer_other(value, other), true)
            .await
            .map_err(|e| match e {
                Stepped::Desk(e) => Answered::Desk(e),
                Stepped::Refused(r) => Answered::Refused(r),
            })
    }

    /// Goes back to the question before (answers kept).
    pub async fn back(&mut self, agent: UserId) -> Result<(), DeskError> {
        self.navigate(agent, |iv| {
            iv.back();
            Ok(())
        })
        .await
    }

    /// Jumps back to a question already shown.
    pub async fn jump_to(&mut self, agent: UserId, question: &str) -> Result<(), Answered> {
        self.step(agent, |iv| iv.jump_to(question), false)
            .await
            .map_err(|e| match e {
                Stepped::Desk(e) => Answered::Desk(e),
                Stepped::Refused(r) => Answered::Refused(r),
            })
    }

    /// Switches the language the interview is read in.
    pub async fn set_language(&mut self, agent: UserId, language: &str) -> Result<(), DeskError> {
        self.navigate(agent, |iv| {
            iv.set_language(language);
            Ok(())
        })
        .await
    }

    async fn navigate(
        &mut self,
        agent: UserId,
        change: impl FnOnce(&mut Interview<'_>) -> Result<(), Refused>,
    ) -> Result<(), DeskError> {
        self.step(agent, change, false).await.map_err(|e| match e {
            Stepped::Desk(e) => e,
            Stepped::Refused(_) => unreachable!("navigation refuses nothing"),
        })
    }

    /// The interviewer's open interview and its questionnaire.
    fn opened(&self, agent: UserId) -> Result<(&Open, Arc<Questionnaire>), DeskError> {
        let open = self.open.get(&agent).ok_or(DeskError::NoInterview(agent))?;
        let q = self
            .versions
            .get(&open.version)
            .cloned()
            .expect("an open interview's version is loaded");
        Ok((open, q))
    }

    /// Applies one change to the interviewer's interview, then the quotas, and stores it.
    async fn step(
        &mut self,
        agent: UserId,
        change: impl FnOnce(&mut Interview<'_>) -> Result<(), Refused>,
        answered: bool,
    ) -> Result<(), Stepped> {
        let (open, q) = self.opened(agent)?;
        let mut interview = restore(&q, open)?;
        change(&mut interview).map_err(Stepped::Refused)?;
        let campaign = open.campaign;
        if interview.state() == &State::Asking
            && let Some(Some(full)) = self.gate.read(campaign, |book: &QuotaBook| {
                book.closes(interview.answers(), interview.sample(), interview.today(), answered)
            })
        {
            interview.screen_out(&full.to_string());
        }
        let now = self.clock.now();
        store::save(&self.db, open.interview, &open.saved, &interview, now)
            .await
            .map_err(DeskError::from)?;
        let saved = interview.saved();
        let cells = self.cells(campaign, &saved);
        let open = self.open.get_mut(&agent).expect("looked up above");
        if cells != open.cells {
            let before = std::mem::replace(&mut open.cells, cells.clone());
            self.gate.update(campaign, |book| {
                book.abandoned(&before);
                book.started(&cells);
            });
        }
        open.saved = saved;
        Ok(())
    }

    /// Ends the interviewer's interview as `ending` says, stores its end, counts it in its
    /// quota cells, and returns the disposition to give the engine for the call.
    pub async fn finish(&mut self, agent: UserId, ending: Ending) -> Result<Disposal, DeskError> {
        let (open, q) = self.opened(agent)?;
        let mut interview = restore(&q, open)?;
        let now = self.clock.now();
        let (callback_at, callback_agent) = match &ending {
            Ending::AsItEnded => {
                if let Some(shown) = interview.current()
                    && interview.state() == &State::Asking
                {
                    return Err(DeskError::NotEnded(shown.name));
                }
                (None, None)
            }
            Ending::BreakOff { reason } => {
                if matches!(interview.state(), State::Asking | State::Suspended) {
                    interview.terminate(reason);
                }
                (None, None)
            }
            Ending::Callback { at, personal } => {
                if *at <= now {
                    return Err(DeskError::CallbackTime);
                }
                interview.suspend();
                (Some(*at), personal.then_some(agent))
            }
        };
        let code = crate::outcome::disposition(interview.state()).expect("the interview has ended or stopped");
        store::save(&self.db, open.interview, &open.saved, &interview, now).await?;
        let cells = open.cells.clone();
        let campaign = open.campaign;
        match interview.state() {
            State::Complete => self.gate.update(campaign, |book| book.completed(&cells)),
            // A callback keeps its place in the counts of interviews in progress.
            State::Suspended => {}
            _ => self.gate.update(campaign, |book| book.abandoned(&cells)),
        }
        self.open.remove(&agent);
        Ok(Disposal::Code {
            code: code.to_string(),
            callback_at,
            callback_agent,
            note: None,
        })
    }

    /// Quota progress of a campaign, per cell.
    pub fn quota_progress(&self, campaign: i64) -> Vec<crate::quota::CellProgress> {
        self.gate.read(campaign, QuotaBook::progress).unwrap_or_default()
    }
}

/// An open interview rebuilt from what is stored of it.
fn restore<'q>(q: &'q Questionnaire, open: &Open) -> Result<Interview<'q>, StoreError> {
    Interview::restore(q, open.saved.clone()).map_err(|why| StoreError::Unreadable {
        id: open.interview,
        why,
    })
}

/// Why an answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum Answered {
    /// Refused, with the question's own message; nothing changed.
    #[error(transparent)]
    Refused(Refused),
    /// The desk failed.
    #[error(transparent)]
    Desk(#[from] DeskError),
}

enum Stepped {
    Desk(DeskError),
    Refused(Refused),
}

impl From<DeskError> for Stepped {
    fn from(e: DeskError) -> Self {
        Stepped::Desk(e)
    }
}

impl From<StoreError> for Stepped {
    fn from(e: StoreError) -> Self {
        Stepped::Desk(e.into())
    }
}

/// A record's stored fields typed as the questionnaire declares them; a field that does not
/// fit its type is taken as stored (the call is already connected: better asked than lost).
fn sample_of(q: &Questionnaire, fields: &serde_json::Value) -> BTreeMap<String, Value> {
    let Some(map) = fields.as_object() else {
        return BTreeMap::new();
    };
    map.iter()
        .map(|(name, json)| {
            let value = q.sample_value(name, json).unwrap_or_else(|why| {
                tracing::warn!(field = %name, %why, "a sample field does not fit its declared type");
                Value::from_json(json)
            });
            (name.clone(), value)
        })
        .collect()
}
