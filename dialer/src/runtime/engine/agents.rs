//! Agents' and supervisors' commands: log-in and log-out, ready and not ready, the campaigns
//! and dial mode an agent works in, preview cards, and dispositions. Each is committed before
//! it returns, so what an agent was told happened is stored.

use chrono::{DateTime, Utc};

use super::{Desk, Engine, EngineError, Wrap};
use crate::agent::{AgentState, Command, StateChange};
use crate::attempt::{AttemptEnd, next_dialing_state};
use crate::campaign::{DialMode, Outcome};
use crate::disposition::NextStep;
use crate::runtime::call::Phase;
use crate::runtime::hopper::Reserved;
use crate::runtime::journal::Entry;
use crate::telephony::Switch;
use crate::users::UserId;

/// What an agent says about a call that ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Disposal {
    /// A code of the campaign's disposition set.
    Code {
        /// The code.
        code: String,
        /// For a callback: when (default: in an hour).
        callback_at: Option<DateTime<Utc>>,
        /// For a callback: the agent who will make it (a personal callback); none: anyone.
        callback_agent: Option<UserId>,
        /// A note kept with the attempt.
        note: Option<String>,
    },
    /// The call reached an answering machine that detection did not catch.
    AnsweringMachine,
}

impl Disposal {
    /// A plain code, no callback, no note.
    pub fn code(code: &str) -> Self {
        Disposal::Code {
            code: code.to_string(),
            callback_at: None,
            callback_agent: None,
            note: None,
        }
    }
}

impl<S: Switch> Engine<S> {
    fn desk(&self, agent: UserId) -> Result<&Desk, EngineError> {
        self.desks.get(&agent).ok_or(EngineError::NotLoggedIn(agent))
    }

    /// Logs an agent in to the running campaigns they are assigned to (or those of them
    /// given) and opens their standing connection to the switch. They start not ready.
    pub async fn log_in(&mut self, agent: UserId, campaigns: Option<&[i64]>) -> Result<StateChange, EngineError> {
        if !self.pool.contains(agent)
            && let Some(view) = crate::agent::store::load_one(&self.db, agent).await?
        {
            // An agent created after the engine started.
            self.pool.insert(view);
        }
        let assigned = self.assigned_campaigns(agent);
        let chosen = match campaigns {
            None => assigned,
            Some(wanted) => {
                for campaign in wanted {
                    if !self.runs.contains_key(campaign) {
                        return Err(EngineError::NotRunning(*campaign));
                    }
                    if !assigned.contains(campaign) {
                        return Err(EngineError::NotAssigned {
                            agent,
                            campaign: *campaign,
                        });
                    }
                }
                wanted.to_vec()
            }
        };
        let change = self.agent_command(agent, Command::LogIn)?;
        let mode = chosen
            .first()
            .and_then(|c| self.runs.get(c))
            .map_or(DialMode::Predictive, |r| r.campaign.settings.dial_mode);
        let teams = super::teams_of(&self.db, agent).await?;
        self.desks.insert(
            agent,
            Desk {
                campaigns: chosen,
                mode,
                offer: None,
                wrap: None,
                teams,
                recheck: None,
                served: None,
            },
        );
        if let Err(e) = self.commit_for(agent).await {
            self.desks.remove(&agent);
            return Err(e);
        }
        self.switch.connect_agent(agent).await?;
        self.settle().await?;
        Ok(change)
    }

    /// The agent is ready for calls (from not ready, or at the end of wrap-up once the last
    /// call has its disposition).
    pub async fn go_ready(&mut self, agent: UserId) -> Result<StateChange, EngineError> {
        if self.desk(agent)?.wrap.is_some() {
            return Err(EngineError::DispositionNeeded(agent));
        }
        let change = self.agent_command(agent, Command::GoReady)?;
        self.commit_for(agent).await?;
        self.agent_available(agent).await?;
        self.settle().await?;
        Ok(change)
    }

    /// The agent takes no calls, for a reason; on a call it takes effect after wrap-up, and
    /// in a wrap-up whose call has its disposition, at once (the wrap-up ends). A record shown
    /// in preview goes back.
    pub async fn go_not_ready(&mut self, agent: UserId, reason: &str) -> Result<StateChange, EngineError> {
        let mut change = self.agent_command(
            agent,
            Command::GoNotReady {
                reason: reason.to_string(),
            },
        )?;
        let wrapping_up = matches!(
            self.pool.view(agent).map(|v| &v.status.state),
            Some(AgentState::WrapUp { .. })
        );
        if wrapping_up && !self.needs_disposition(agent) {
            change = self.agent_command(agent, Command::EndWrapUp)?;
        }
        let change = match self.desks.get_mut(&agent).and_then(|d| d.offer.take()) {
            Some(offer) => {
                let now = self.clock.now();
                self.release(&offer.reserved, None, now);
                self.agent_command(agent, Command::Release)?
            }
            None => change,
        };
        self.commit_for(agent).await?;
        self.settle().await?;
        Ok(change)
    }

    /// The agent signs out (not while on a call, nor before the last call has a disposition).
    pub async fn log_out(&mut self, agent: UserId) -> Result<StateChange, EngineError> {
        if self.desk(agent)?.wrap.is_some() {
            return Err(EngineError::DispositionNeeded(agent));
        }
        if let Some(offer) = self.desks.get_mut(&agent).and_then(|d| d.offer.take()) {
            let now = self.clock.now();
            self.release(&offer.reserved, None, now);
            self.agent_command(agent, Command::Release)?;
        }
        let change = self.agent_command(agent, Command::LogOut)?;
        self.desks.remove(&agent);
        self.commit_for(agent).await?;
        self.switch.disconnect_agent(agent).await?;
        self.settle().await?;
        Ok(change)
    }

    /// A supervisor signs an agent out whatever they are doing (IN-11): a call in progress is
    /// cut, a record in preview goes back, a call without a disposition is retried as failed.
    pub async fn force_log_out(&mut self, agent: UserId) -> Result<StateChange, EngineError> {
        let now = self.clock.now();
        if let Some(desk) = self.desks.get_mut(&agent) {
            let offer = desk.offer.take();
            let wrap = desk.wrap.take();
            if let Some(offer) = offer {
                self.release(&offer.reserved, None, now);
            }
            if let Some(wrap) = wrap {
                self.undisposed(wrap, now);
            }
        }
        let change = self.agent_command(agent, Command::ForceLogOut)?;
        let campaigns = self.desks.remove(&agent).map(|d| d.campaigns).unwrap_or_default();
        self.dirty.extend(campaigns);
        self.commit_for(agent).await?;
        self.switch.disconnect_agent(agent).await?;
        self.settle().await?;
        Ok(change)
    }

    /// Chooses the campaigns the agent takes calls from (DIAL-03), among those assigned.
    pub async fn set_campaigns(&mut self, agent: UserId, campaigns: &[i64]) -> Result<(), EngineError> {
        self.desk(agent)?;
        for campaign in campaigns {
            let run = self.runs.get(campaign).ok_or(EngineError::NotRunning(*campaign))?;
            if !run.assigned.contains(&agent) {
                return Err(EngineError::NotAssigned {
                    agent,
                    campaign: *campaign,
                });
            }
        }
        let desk = self.desks.get_mut(&agent).expect("checked above");
        self.dirty.extend(desk.campaigns.iter().copied());
        desk.campaigns = campaigns.to_vec();
        self.dirty.extend(campaigns.iter().copied());
        self.settle().await
    }

    /// Switches the agent's dial mode (DIAL-04), where every campaign they work in allows it.
    pub async fn set_mode(&mut self, agent: UserId, mode: DialMode) -> Result<(), EngineError> {
        let desk = self.desk(agent)?;
        for campaign in &desk.campaigns {
            let run = self.runs.get(campaign).ok_or(EngineError::NotRunning(*campaign))?;
            if !run.campaign.settings.dial_modes().contains(&mode) || mode == DialMode::Agentless {
                return Err(EngineError::ModeNotAllowed {
                    agent,
                    mode: mode.as_str(),
                    campaign: *campaign,
                });
            }
        }
        let desk = self.desks.get_mut(&agent).expect("checked above");
        desk.mode = mode;
        self.dirty.extend(desk.campaigns.clone());
        let offer = desk.offer.take();
        if let Some(offer) = offer {
            let now = self.clock.now();
            self.release(&offer.reserved, None, now);
            self.agent_command(agent, Command::Release)?;
        }
        if self
            .pool
            .view(agent)
            .is_some_and(|v| v.status.state == AgentState::Ready)
        {
            self.agent_available(agent).await?;
        }
        self.settle().await
    }

    /// The agent ends their call.
    pub async fn hang_up(&mut self, agent: UserId) -> Result<(), EngineError> {
        let call = self
            .calls
            .values()
            .find(|c| c.phase == Phase::Bridged(agent))
            .map(|c| c.id.clone())
            .ok_or(EngineError::NotOnCall(agent))?;
        self.switch.hang_up(&call).await?;
        Ok(())
    }

    /// Gives the agent's last call its disposition (stored before this returns), which
    /// decides the record's next step; the agent stays in wrap-up until they go ready.
    pub async fn dispose(&mut self, agent: UserId, disposal: Disposal) -> Result<(), EngineError> {
        self.write_disposal(agent, &disposal)?;
        self.commit().await?;
        self.settle().await
    }

    /// Gives the agent's last call its disposition and makes them ready for the next call,
    /// both stored in one commit before this returns (a desktop's "dispose and go ready").
    pub async fn dispose_and_ready(&mut self, agent: UserId, disposal: Disposal) -> Result<StateChange, EngineError> {
        self.write_disposal(agent, &disposal)?;
        let change = self.agent_command(agent, Command::GoReady)?;
        self.commit_for(agent).await?;
        self.agent_available(agent).await?;
        self.settle().await?;
        Ok(change)
    }

    /// Journals a disposition for the agent's last call; refuses, writing nothing, when
    /// there is none or it is not valid.
    fn write_disposal(&mut self, agent: UserId, disposal: &Disposal) -> Result<(), EngineError> {
        let now = self.clock.now();
        let wrap = self
            .desks
            .get(&agent)
            .and_then(|d| d.wrap.clone())
            .ok_or(EngineError::NothingToDispose(agent))?;
        let run = self
            .runs
            .get(&wrap.campaign)
            .ok_or(EngineError::NotRunning(wrap.campaign))?;
        let settings = &run.campaign.settings;
        let phones = wrap.reserved.phones.len() as i64;
        let (code, next, assign, note, outcome) = match disposal {
            Disposal::AnsweringMachine => {
                let end = AttemptEnd::Outcome {
                    outcome: Outcome::Machine,
                    earlier_same: wrap.reserved.earlier(Outcome::Machine),
                };
                let next = next_dialing_state(&wrap.reserved.state, &end, settings, phones, now);
                ("answering_machine".to_string(), next, None, None, Outcome::Machine)
            }
            Disposal::Code {
                code,
                callback_at,
                callback_agent,
                note,
            } => {
                let disposition = run.dispositions.iter().find(|d| &d.code == code).ok_or_else(|| {
                    EngineError::UnknownDisposition {
                        code: code.clone(),
                        campaign: wrap.campaign,
                        known: run
                            .dispositions
                            .iter()
                            .map(|d| d.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    }
                })?;
                if callback_at.is_some_and(|at| at <= now) {
                    return Err(EngineError::CallbackTime);
                }
                let end = AttemptEnd::Disposed {
                    disposition,
                    callback_at: *callback_at,
                };
                let next = next_dialing_state(&wrap.reserved.state, &end, settings, phones, now);
                let assign = (disposition.next == NextStep::Callback).then_some(*callback_agent);
                if disposition.next == NextStep::DoNotCall {
                    self.opt_outs.insert(wrap.reserved.e164.clone());
                }
                (code.clone(), next, assign, note.clone(), Outcome::Person)
            }
        };
        if outcome == Outcome::Machine {
            self.write(Entry::Reclassified {
                attempt: wrap.reserved.attempt,
                outcome,
            });
        }
        self.write(Entry::Disposed {
            attempt: wrap.reserved.attempt,
            code: code.clone(),
            by: Some(agent),
            at: now,
            note,
        });
        if next.status == crate::sample::record::RecordStatus::DoNotCall {
            self.write(Entry::DoNotCall {
                campaign: wrap.campaign,
                e164: wrap.reserved.e164.clone(),
                by: Some(agent),
                at: now,
            });
        }
        self.write(Entry::Record {
            record: wrap.reserved.record,
            state: next,
            at: now,
            outcome: Some(outcome),
            disposition: Some(code),
            assign,
        });
        if let Some(desk) = self.desks.get_mut(&agent) {
            desk.wrap = None;
        }
        Ok(())
    }

    /// A call whose agent left without a disposition: retried as a failed call.
    fn undisposed(&mut self, wrap: Wrap, now: DateTime<Utc>) {
        let Some(run) = self.runs.get(&wrap.campaign) else {
            return;
        };
        let end = AttemptEnd::Outcome {
            outcome: Outcome::Failed,
            earlier_same: wrap.reserved.earlier(Outcome::Failed),
        };
        let next = next_dialing_state(
            &wrap.reserved.state,
            &end,
            &run.campaign.settings,
            wrap.reserved.phones.len() as i64,
            now,
        );
        self.write(Entry::Record {
            record: wrap.reserved.record,
            state: next,
            at: now,
            outcome: None,
            disposition: None,
            assign: None,
        });
    }

    /// Dials the record shown to the agent, on its current number or the one at `position`
    /// (DIAL-06: change number and dial).
    pub async fn preview_dial(&mut self, agent: UserId, position: Option<i64>) -> Result<(), EngineError> {
        let offer = self
            .desks
            .get_mut(&agent)
            .and_then(|d| d.offer.take())
            .ok_or(EngineError::NoPreview(agent))?;
        let mut reserved = offer.reserved;
        if let Some(position) = position {
            let Some((_, e164)) = reserved.phones.iter().find(|(p, _)| *p == position) else {
                let record = reserved.record;
                if let Some(desk) = self.desks.get_mut(&agent) {
                    desk.offer = Some(super::Offer { reserved, ..offer });
                }
                return Err(EngineError::NoSuchNumber { record, position });
            };
            reserved.e164 = e164.clone();
            reserved.state.phone_position = position;
        }
        self.dial_for(agent, offer.campaign, reserved, offer.call, DialMode::Preview)
            .await?;
        self.settle().await
    }

    /// Puts the record shown to the agent back (it is offered again after the campaign's
    /// skip time) and shows the next one.
    pub async fn preview_skip(&mut self, agent: UserId) -> Result<(), EngineError> {
        let offer = self
            .desks
            .get_mut(&agent)
            .and_then(|d| d.offer.take())
            .ok_or(EngineError::NoPreview(agent))?;
        let now = self.clock.now();
        let minutes = self
            .runs
            .get(&offer.campaign)
            .map_or(15, |r| r.campaign.settings.preview.skip_minutes);
        self.release(&offer.reserved, Some(now + chrono::Duration::minutes(minutes)), now);
        self.agent_command(agent, Command::Release)?;
        self.commit_for(agent).await?;
        self.agent_available(agent).await?;
        self.settle().await
    }

    /// The preview card's time is up.
    pub(super) async fn preview_timeout(
        &mut self,
        agent: UserId,
        call: &crate::telephony::CallId,
    ) -> Result<(), EngineError> {
        let current = self
            .desks
            .get(&agent)
            .and_then(|d| d.offer.as_ref())
            .map(|o| (o.call.clone(), o.campaign));
        let Some((offered, campaign)) = current else {
            return Ok(());
        };
        if &offered != call {
            return Ok(());
        }
        let action = self
            .runs
            .get(&campaign)
            .map_or(crate::campaign::PreviewTimeout::Dial, |r| {
                r.campaign.settings.preview.on_timeout
            });
        match action {
            crate::campaign::PreviewTimeout::Dial => self.preview_dial(agent, None).await,
            crate::campaign::PreviewTimeout::Skip => self.preview_skip(agent).await,
        }
    }

    /// The agent just became ready: give them work in the order of the house: their own
    /// callbacks, then a person already waiting, then what their mode does.
    pub(super) async fn agent_available(&mut self, agent: UserId) -> Result<(), EngineError> {
        let Some(desk) = self.desks.get(&agent) else {
            return Ok(());
        };
        if self
            .pool
            .view(agent)
            .is_none_or(|v| v.status.state != AgentState::Ready)
        {
            return Ok(());
        }
        let (campaigns, mode, teams) = (desk.campaigns.clone(), desk.mode, desk.teams.clone());
        // A record of theirs (a personal callback) or of their team comes first.
        for campaign in &campaigns {
            let Some(run) = self.runs.get_mut(campaign) else {
                continue;
            };
            if !run.active {
                continue;
            }
            if let Some(i) = run.owned.iter().position(|r| {
                r.agent == Some(agent) || (r.agent.is_none() && r.team.is_some_and(|t| teams.contains(&t)))
            }) {
                let reserved = run.owned.swap_remove(i);
                let call = self.new_call_id(reserved.attempt);
                self.agent_command(agent, Command::Reserve { call: call.clone() })?;
                return self
                    .dial_for(agent, *campaign, reserved, call, DialMode::Progressive)
                    .await;
            }
        }
        match mode {
            DialMode::Predictive => {
                // The person who has waited longest on any of the agent's campaigns.
                let waiting = campaigns
                    .iter()
                    .filter_map(|c| self.runs.get(c))
                    .filter_map(|r| r.waiting.front())
                    .filter_map(|call| self.calls.get(call))
                    .min_by_key(|c| c.answered_at)
                    .map(|c| c.id.clone());
                if let Some(call) = waiting {
                    return self.connect(&call, agent).await;
                }
            }
            DialMode::Progressive => self.dial_progressive(agent).await?,
            DialMode::Preview => self.offer_preview(agent).await?,
            DialMode::Agentless => {}
        }
        if matches!(mode, DialMode::Progressive | DialMode::Preview)
            && self
                .pool
                .view(agent)
                .is_some_and(|v| v.status.state == AgentState::Ready)
        {
            // Nothing to dial now: look again when the hopper may have records (retries
            // come due, calling hours open), as no call event will wake this agent.
            let at = self.clock.now() + chrono::Duration::seconds(30);
            if let Some(desk) = self.desks.get_mut(&agent)
                && desk.recheck.is_none()
            {
                desk.recheck = Some(at);
                self.schedule(at, super::Timer::Available(agent));
            }
        }
        Ok(())
    }

    /// The record the agent is offered, if any.
    pub fn preview_of(&self, agent: UserId) -> Option<(&Reserved, i64)> {
        self.desks
            .get(&agent)
            .and_then(|d| d.offer.as_ref())
            .map(|o| (&o.reserved, o.campaign))
    }

    /// Whether the agent's last call waits for a disposition.
    pub fn needs_disposition(&self, agent: UserId) -> bool {
        self.desks.get(&agent).is_some_and(|d| d.wrap.is_some())
    }
}
