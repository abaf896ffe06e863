//! What the switch reports, call by call: answers (bridged to an agent, held for one within
//! the grace time, or abandoned with the information message), dials that resolved without a
//! person (retried by the campaign's rules), keypad replies, and the end of calls.

use chrono::{DateTime, Utc};

use super::{Engine, EngineError, Timer, Wrap};
use crate::agent::{AgentState, Command};
use crate::attempt::{AttemptEnd, next_dialing_state};
use crate::campaign::{DialMode, Outcome};
use crate::events::{CallNote, CallStep, Event};
use crate::pacer::Observation;
use crate::runtime::call::{Phase, Playing, Route};
use crate::runtime::journal::Entry;
use crate::telephony::{CallEvent, CallId, DigitCollection, FailReason, Side, Switch, Verdict};
use crate::users::UserId;

impl<S: Switch> Engine<S> {
    pub(super) fn note(&mut self, call: &CallId, step: CallStep) {
        if !self.events.has_subscribers() {
            return;
        }
        let Some(c) = self.calls.get(call) else { return };
        let note = CallNote {
            campaign: c.campaign,
            call: call.clone(),
            record: c.reserved.record,
            attempt: c.reserved.attempt,
            at: self.clock.now(),
            step,
        };
        self.pending.push(Event::Call(note));
    }

    fn observe(&mut self, campaign: i64, observation: Observation) {
        if let Some(run) = self.runs.get_mut(&campaign) {
            run.strategy.observe(&observation);
        }
    }

    pub(super) async fn call_event(&mut self, event: CallEvent) -> Result<(), EngineError> {
        if !self.calls.contains_key(event.call()) {
            tracing::debug!(call = %event.call(), "event for a call this engine does not hold");
            return Ok(());
        }
        match event {
            CallEvent::Ringing { .. } => Ok(()),
            CallEvent::Answered {
                call,
                verdict,
                analysis,
            } => {
                let analysis = chrono::Duration::from_std(analysis).unwrap_or_default();
                self.answered(&call, verdict, analysis).await
            }
            CallEvent::Busy { call } => self.unanswered(&call, Outcome::Busy).await,
            CallEvent::NoAnswer { call } => self.unanswered(&call, Outcome::NoAnswer).await,
            CallEvent::Failed { call, reason } => {
                let outcome = match reason {
                    FailReason::Invalid => Outcome::Invalid,
                    FailReason::Congestion | FailReason::Other => Outcome::Failed,
                };
                self.unanswered(&call, outcome).await
            }
            CallEvent::Bridged { call, agent } => self.bridged(&call, agent),
            CallEvent::PromptDone { call } => self.prompt_done(&call).await,
            CallEvent::Digits { call, digits } => self.digits(&call, digits).await,
            CallEvent::HungUp { call, by } => self.hung_up(&call, by).await,
        }
    }

    async fn answered(
        &mut self,
        call: &CallId,
        verdict: Verdict,
        analysis: chrono::Duration,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        let answered_at = now - analysis;
        let (campaign, attempt, route, dialed_at) = {
            let c = self.calls.get_mut(call).expect("checked by call_event");
            c.answered_at = Some(answered_at);
            c.verdict = Some(verdict);
            (c.campaign, c.reserved.attempt, c.route, c.dialed_at)
        };
        self.write(Entry::Answered {
            attempt,
            at: answered_at,
            verdict,
        });
        self.note(call, CallStep::Answered { verdict });
        self.dirty.insert(campaign);
        let person = verdict != Verdict::Machine;
        if route == Route::Pacer {
            let (dialed, at) = (self.secs(dialed_at), self.secs(now));
            self.observe(
                campaign,
                Observation::Resolved {
                    dialed_at: dialed,
                    at,
                    person,
                },
            );
        }
        let Some(run) = self.runs.get_mut(&campaign) else {
            return Ok(());
        };
        if !person {
            run.window.machine_detected(answered_at);
            run.in_flight.remove(call);
            let message = run.campaign.settings.amd.machine_message.clone();
            let c = self.calls.get_mut(call).expect("held");
            c.outcome = Some(Outcome::Machine);
            if let Route::Agent(agent) = route {
                self.give_back(agent, call)?;
            }
            return match message {
                Some(text) => {
                    let prompt = self.prompt(campaign, "machine_message", &text);
                    self.set_phase(call, Phase::Playing(Playing::MachineMessage));
                    self.switch.play(call, &prompt).await.map_err(Into::into)
                }
                None => self.end_call(call).await,
            };
        }
        run.window.person_answered(answered_at);
        let grace = chrono::Duration::microseconds((run.campaign.settings.abandon.grace_s * 1e6) as i64);
        match route {
            Route::Agent(agent) => self.connect(call, agent).await,
            Route::Agentless => {
                let settings = &self.runs.get(&campaign).expect("held").campaign.settings.agentless;
                let (text, timeout) = (settings.message.clone(), settings.keypad_timeout_s);
                let prompt = self.prompt(campaign, "agentless_message", &text);
                self.set_phase(call, Phase::Collecting);
                let collection = DigitCollection {
                    prompt: Some(prompt),
                    max_digits: 1,
                    terminator: None,
                    timeout: std::time::Duration::from_secs(timeout.max(1) as u64),
                };
                self.switch.collect_digits(call, &collection).await.map_err(Into::into)
            }
            Route::Pacer => match self.free_agent(campaign) {
                Some(agent) => self.connect(call, agent).await,
                None => {
                    self.runs
                        .get_mut(&campaign)
                        .expect("held")
                        .waiting
                        .push_back(call.clone());
                    self.set_phase(call, Phase::Waiting);
                    self.note(call, CallStep::Waiting);
                    self.schedule(answered_at + grace, Timer::Grace(call.clone()));
                    Ok(())
                }
            },
        }
    }

    /// The ready agent serving `campaign` in predictive mode who has waited longest.
    fn free_agent(&self, campaign: i64) -> Option<UserId> {
        self.desks
            .iter()
            .filter(|(_, d)| d.mode == DialMode::Predictive && d.campaigns.contains(&campaign) && d.wrap.is_none())
            .filter_map(|(agent, _)| self.pool.view(*agent))
            .filter(|v| v.status.state == AgentState::Ready)
            .min_by_key(|v| (v.since, v.agent))
            .map(|v| v.agent)
    }

    /// Reserves `agent` for the answered `call` (if not yet), stores that, then bridges.
    pub(super) async fn connect(&mut self, call: &CallId, agent: UserId) -> Result<(), EngineError> {
        let held = self.pool.holder(call) == Some(agent);
        if !held {
            self.agent_command(agent, Command::Reserve { call: call.clone() })?;
        }
        self.set_phase(call, Phase::Connecting(agent));
        let campaign = self.calls.get(call).expect("held").campaign;
        if let Some(run) = self.runs.get_mut(&campaign) {
            run.waiting.retain(|w| w != call);
        }
        // With several dialer processes on one PostgreSQL, a supervisor on another node may
        // have changed the agent: the reservation is committed (and a conflict found) before
        // the person is joined. The embedded store has one process, the agents' authority;
        // there the journal keeps its one-second deadline.
        if self.db.backend() == crate::store::Backend::Postgres {
            self.commit().await?;
            if self.pool.holder(call) != Some(agent) {
                // Reloaded in the commit: the agent is no longer ours to give this call. The
                // person waits again, first in line, while the grace time lasts.
                self.conflicts.retain(|a| *a != agent);
                self.set_phase(call, Phase::Waiting);
                if let Some(run) = self.runs.get_mut(&campaign) {
                    run.waiting.push_front(call.clone());
                }
                self.dirty.insert(campaign);
                return Ok(());
            }
        }
        if let Err(e) = self.switch.bridge(call, agent).await {
            tracing::warn!(call = %call, agent, error = %e, "bridge refused");
            self.agent_command(agent, Command::Release)?;
            self.end_call(call).await?;
        }
        Ok(())
    }

    fn bridged(&mut self, call: &CallId, agent: UserId) -> Result<(), EngineError> {
        let now = self.clock.now();
        self.agent_command(agent, Command::Connect { call: call.clone() })?;
        self.set_phase(call, Phase::Bridged(agent));
        let (campaign, attempt, answered_at, route) = {
            let c = self.calls.get_mut(call).expect("held");
            c.agent = Some(agent);
            c.bridged_at = Some(now);
            (c.campaign, c.reserved.attempt, c.answered_at.unwrap_or(now), c.route)
        };
        self.write(Entry::Bridged {
            attempt,
            agent,
            at: now,
        });
        self.note(call, CallStep::Bridged { agent });
        if let Some(run) = self.runs.get_mut(&campaign) {
            run.in_flight.remove(call);
        }
        if route == Route::Pacer {
            let (answered, at) = (self.secs(answered_at), self.secs(now));
            self.observe(
                campaign,
                Observation::Bridged {
                    answered_at: answered,
                    at,
                },
            );
        }
        self.dirty.insert(campaign);
        Ok(())
    }

    /// A person's grace time is over: if no agent reached them, the call is abandoned and
    /// they hear the information message.
    pub(super) async fn grace_over(&mut self, call: &CallId) -> Result<(), EngineError> {
        let Some(c) = self.calls.get(call) else { return Ok(()) };
        if c.phase != Phase::Waiting {
            return Ok(());
        }
        let (campaign, answered_at) = (c.campaign, c.answered_at.unwrap_or_else(|| self.clock.now()));
        self.abandon(call, campaign, answered_at);
        let template = self
            .runs
            .get(&campaign)
            .map(|r| r.campaign.settings.abandon.message.clone())
            .unwrap_or_default();
        let prompt = self.prompt(campaign, "abandon_message", &template);
        self.set_phase(call, Phase::Playing(Playing::AbandonMessage));
        if self.switch.play(call, &prompt).await.is_err() {
            self.end_call(call).await?;
        }
        Ok(())
    }

    /// Counts `call` as abandoned.
    fn abandon(&mut self, call: &CallId, campaign: i64, answered_at: DateTime<Utc>) {
        let now = self.clock.now();
        if let Some(c) = self.calls.get_mut(call) {
            if c.outcome == Some(Outcome::Abandoned) {
                return;
            }
            c.outcome = Some(Outcome::Abandoned);
        }
        let (answered, at) = (self.secs(answered_at), self.secs(now));
        if let Some(run) = self.runs.get_mut(&campaign) {
            run.waiting.retain(|w| w != call);
            run.in_flight.remove(call);
            run.window.abandoned(answered_at);
            run.strategy.observe(&Observation::Abandoned {
                answered_at: answered,
                at,
            });
        }
        self.note(call, CallStep::Abandoned);
        self.dirty.insert(campaign);
    }

    async fn prompt_done(&mut self, call: &CallId) -> Result<(), EngineError> {
        let phase = self.calls.get(call).map(|c| c.phase);
        if let Some(Phase::Playing(_)) = phase {
            self.end_call(call).await?;
        }
        Ok(())
    }

    /// Hangs a call up; the switch confirms with `HungUp`.
    pub(super) async fn end_call(&mut self, call: &CallId) -> Result<(), EngineError> {
        self.set_phase(call, Phase::Ending);
        if let Err(e) = self.switch.hang_up(call).await {
            tracing::debug!(call = %call, error = %e, "hang-up of a call already gone");
            self.finish(call, None, None).await?;
        }
        Ok(())
    }

    async fn digits(&mut self, call: &CallId, digits: String) -> Result<(), EngineError> {
        let Some(c) = self.calls.get(call) else { return Ok(()) };
        let (campaign, attempt) = (c.campaign, c.reserved.attempt);
        let Some(run) = self.runs.get(&campaign) else {
            return Ok(());
        };
        let settings = &run.campaign.settings.agentless;
        let action = settings.replies.get(&digits).cloned();
        let no_reply = settings.no_reply.clone();
        let thanks = settings.thanks.clone();
        if !digits.is_empty() {
            self.write(Entry::Keypad {
                attempt,
                digits: digits.clone(),
            });
        }
        self.note(call, CallStep::Keypad { digits: digits.clone() });
        if action.as_deref() == Some("agent") {
            let agent = self
                .desks
                .iter()
                .filter(|(_, d)| d.campaigns.contains(&campaign) && d.wrap.is_none())
                .filter_map(|(a, _)| self.pool.view(*a))
                .filter(|v| v.status.state == AgentState::Ready)
                .min_by_key(|v| (v.since, v.agent))
                .map(|v| v.agent);
            if let Some(agent) = agent {
                return self.connect(call, agent).await;
            }
        }
        let disposition = match action {
            Some(code) if code != "agent" => code,
            _ => no_reply,
        };
        self.calls.get_mut(call).expect("held").disposition = Some(disposition);
        if digits.is_empty() {
            return self.end_call(call).await;
        }
        let prompt = self.prompt(campaign, "thanks", &thanks);
        self.set_phase(call, Phase::Playing(Playing::Thanks));
        self.switch.play(call, &prompt).await.map_err(Into::into)
    }

    async fn unanswered(&mut self, call: &CallId, outcome: Outcome) -> Result<(), EngineError> {
        let (campaign, route, dialed_at) = {
            let c = self.calls.get(call).expect("checked by call_event");
            (c.campaign, c.route, c.dialed_at)
        };
        if route == Route::Pacer {
            let now = self.clock.now();
            let (dialed, at) = (self.secs(dialed_at), self.secs(now));
            self.observe(
                campaign,
                Observation::Resolved {
                    dialed_at: dialed,
                    at,
                    person: false,
                },
            );
        }
        self.finish(call, Some(outcome), None).await
    }

    async fn hung_up(&mut self, call: &CallId, by: Side) -> Result<(), EngineError> {
        let c = self.calls.get(call).expect("checked by call_event");
        let (campaign, phase, answered_at) = (c.campaign, c.phase, c.answered_at);
        match phase {
            Phase::Waiting | Phase::Connecting(_) => {
                // The person gave up before an agent reached them.
                if let Some(answered_at) = answered_at {
                    self.abandon(call, campaign, answered_at);
                }
                if let Phase::Connecting(agent) = phase {
                    self.give_back(agent, call)?;
                }
            }
            Phase::Bridged(agent) => {
                let now = self.clock.now();
                let bridged_at = self.calls.get(call).and_then(|c| c.bridged_at).unwrap_or(now);
                let (start, at) = (self.secs(bridged_at), self.secs(now));
                self.observe(campaign, Observation::TalkEnded { bridged_at: start, at });
                if self.pool.holder(call) == Some(agent) {
                    self.agent_command(agent, Command::HangUp)?;
                    let reserved = self.calls.get(call).expect("held").reserved.clone();
                    if let Some(desk) = self.desks.get_mut(&agent) {
                        desk.wrap = Some(Wrap { campaign, reserved });
                        desk.served = Some(campaign);
                    }
                }
            }
            _ => {}
        }
        self.finish(call, None, Some(by)).await
    }

    /// Gives an agent reserved for `call` back (the call did not reach them).
    pub(super) fn give_back(&mut self, agent: UserId, call: &CallId) -> Result<(), EngineError> {
        if self.pool.holder(call) == Some(agent)
            && matches!(
                self.pool.view(agent).map(|v| &v.status.state),
                Some(AgentState::Reserved { .. })
            )
        {
            self.agent_command(agent, Command::Release)?;
            self.schedule(self.clock.now(), Timer::Available(agent));
        }
        Ok(())
    }

    /// The call is over: its attempt is ended and, unless an agent will give a disposition,
    /// the record's next step is decided by the campaign's rules.
    pub(super) async fn finish(
        &mut self,
        call: &CallId,
        outcome: Option<Outcome>,
        by: Option<Side>,
    ) -> Result<(), EngineError> {
        let Some(c) = self.calls.get(call) else { return Ok(()) };
        let outcome = outcome.or(c.outcome).unwrap_or(match (c.answered_at, c.verdict) {
            (None, _) => Outcome::NoAnswer,
            (Some(_), Some(Verdict::Machine)) => Outcome::Machine,
            (Some(_), _) => Outcome::Person,
        });
        self.note(call, CallStep::Ended { outcome });
        let c = self.calls.remove(call).expect("held");
        let now = self.clock.now();
        let bridged = matches!(c.phase, Phase::Bridged(_)) || c.agent.is_some();
        if let Some(run) = self.runs.get_mut(&c.campaign) {
            run.in_flight.remove(call);
            run.waiting.retain(|w| w != call);
            run.live = run.live.saturating_sub(1);
        }
        if let Route::Agent(agent) = c.route
            && !bridged
        {
            self.give_back(agent, call)?;
        }
        self.write(Entry::Ended {
            attempt: c.reserved.attempt,
            record: c.reserved.record,
            position: c.reserved.state.phone_position,
            at: now,
            outcome,
            by: by.or(c.answered_at.map(|_| Side::Dialer)),
        });
        self.dirty.insert(c.campaign);
        if bridged {
            // The agent's disposition decides (see `dispose`).
            return Ok(());
        }
        let Some(run) = self.runs.get(&c.campaign) else {
            return Ok(());
        };
        let settings = &run.campaign.settings;
        let phones = c.reserved.phones.len() as i64;
        let (next, disposition) = match (&c.disposition, c.route) {
            (Some(code), Route::Agentless) if outcome == Outcome::Person => {
                let Some(disposition) = run.dispositions.iter().find(|d| &d.code == code) else {
                    return Ok(());
                };
                let end = AttemptEnd::Disposed {
                    disposition,
                    callback_at: None,
                };
                (
                    next_dialing_state(&c.reserved.state, &end, settings, phones, now),
                    Some(code.clone()),
                )
            }
            _ => {
                let end = AttemptEnd::Outcome {
                    outcome,
                    earlier_same: c.reserved.earlier(outcome),
                };
                (next_dialing_state(&c.reserved.state, &end, settings, phones, now), None)
            }
        };
        if let Some(code) = &disposition {
            self.write(Entry::Disposed {
                attempt: c.reserved.attempt,
                code: code.clone(),
                by: None,
                at: now,
                note: None,
            });
            if next.status == crate::sample::record::RecordStatus::DoNotCall {
                self.opt_outs.insert(c.reserved.e164.clone());
                self.write(Entry::DoNotCall {
                    campaign: c.campaign,
                    e164: c.reserved.e164.clone(),
                    by: None,
                    at: now,
                });
            }
        }
        self.write(Entry::Record {
            record: c.reserved.record,
            state: next,
            at: now,
            outcome: Some(outcome),
            disposition,
            assign: None,
        });
        Ok(())
    }
}
