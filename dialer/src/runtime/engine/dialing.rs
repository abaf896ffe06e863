//! Placing calls: the pacer's decisions (predictive), one dial per ready agent (progressive),
//! preview cards, agentless lines, and the hopper that feeds them all. Every record is
//! checked again right before it is dialed: calling hours in its own time zone, the
//! do-not-call lists (in the store, in the same transaction that commits what was decided
//! before the dial), and its quota cell.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use super::{Desk, Engine, EngineError, Offer, Timer};
use crate::agent::{AgentState, Command};
use crate::campaign::{DialMode, MissedCallbacks};
use crate::events::{CallStep, DecisionNote, Event, PreviewNote};
use crate::pacer::{AgentPhase, AgentSnapshot, DialPhase, DialSnapshot, Observation, Situation};
use crate::runtime::call::{LiveCall, Phase, Route};
use crate::runtime::hopper::{self, Fill, Reserved, open_zones};
use crate::runtime::journal::Entry;
use crate::sample::record::RecordStatus;
use crate::telephony::{CallId, CallTag, Originate, Switch};
use crate::users::UserId;

/// Why a reserved record is not dialed now.
enum Hold {
    /// Outside calling hours in its zone: back until they open.
    Hours(Option<DateTime<Utc>>),
    /// The number opted out through this engine.
    DoNotCall,
    /// Its quota cell is full.
    QuotaClosed,
}

impl<S: Switch> Engine<S> {
    pub(super) fn new_call_id(&self, attempt: i64) -> CallId {
        CallId(format!("{}-{attempt}", self.config.node))
    }

    /// Decides how many more calls the campaign's pacer places now, and places them.
    pub(super) async fn pace(&mut self, campaign: i64) -> Result<(), EngineError> {
        let now = self.clock.now();
        let Some(run) = self.runs.get(&campaign) else {
            return Ok(());
        };
        if !run.active {
            return Ok(());
        }
        if run.campaign.settings.dial_mode == DialMode::Agentless {
            return self.pace_agentless(campaign).await;
        }
        let mut agents: Vec<AgentSnapshot> = Vec::new();
        // Ready agents by their place in `agents`: which of them this campaign covers is
        // known once its hopper is filled.
        let mut ready: Vec<(usize, UserId)> = Vec::new();
        let mut logged_in = 0.0;
        for (agent, desk) in &self.desks {
            if !desk.campaigns.contains(&campaign) {
                continue;
            }
            // An agent on several active campaigns counts as a share of one on each.
            let shares = desk
                .campaigns
                .iter()
                .filter(|c| self.runs.get(c).is_some_and(|r| r.active))
                .count()
                .max(1);
            let weight = 1.0 / shares as f64;
            logged_in += weight;
            if desk.mode != DialMode::Predictive {
                continue;
            }
            let Some(view) = self.pool.view(*agent) else { continue };
            let phase = match &view.status.state {
                AgentState::Ready if desk.wrap.is_none() => AgentPhase::Ready,
                AgentState::Reserved { .. } => AgentPhase::Reserved,
                AgentState::OnCall { .. } => AgentPhase::Talking,
                AgentState::WrapUp { .. } => AgentPhase::WrapUp,
                _ => continue,
            };
            if phase == AgentPhase::Ready {
                ready.push((agents.len(), *agent));
            }
            agents.push(AgentSnapshot {
                phase,
                since: self.secs(view.since),
                weight,
                covers: false,
            });
        }
        if agents.is_empty() {
            return Ok(());
        }
        let run = self.runs.get(&campaign).expect("checked above");
        let grace_s = run.campaign.settings.abandon.grace_s;
        self.refill(campaign).await?;
        for (i, agent) in ready {
            agents[i].covers = self.desks.get(&agent).and_then(|d| self.covering(d, now)) == Some(campaign);
        }
        let now_s = self.secs(now);
        let run = self.runs.get_mut(&campaign).expect("checked above");
        let window = run.window.counts(now);
        let situation = Situation {
            now: now_s,
            agents: &agents,
            logged_in,
            dials: run.in_flight.slots(),
            window,
            grace_s,
            max_dials: run.hopper.len() as u32,
        };
        let started = Instant::now();
        let decision = run.strategy.decide(&situation);
        let took = started.elapsed().as_nanos() as u64;
        let _ = self.stats.decisions.record(took.max(1));
        let dial = decision.dial.min(situation.max_dials);
        let strategy = run.strategy.name();
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(
                campaign,
                strategy,
                dial,
                level = decision.level,
                ready = situation.agents_in(AgentPhase::Ready),
                ringing = situation.ringing(),
                waiting = situation.waiting(),
                window_rate = window.rate(),
                inputs = %decision.explain,
                "pacing decision"
            );
        }
        if let Some(next) = run.strategy.next_wakeup(now_s) {
            let at = self.at_secs(next).max(now);
            let run = self.runs.get_mut(&campaign).expect("checked above");
            if run.wakeup.is_none_or(|w| w > at || w < now) {
                run.wakeup = Some(at);
                self.schedule(at, Timer::Pace(campaign));
            }
        }
        if dial == 0 {
            return Ok(());
        }
        if self.events.has_subscribers() {
            self.pending.push(Event::Decision(DecisionNote {
                campaign,
                at: now,
                strategy,
                dial,
                level: decision.level,
                figures: decision.explain.figures.clone(),
                note: decision.explain.note,
            }));
        }
        let run = self.runs.get_mut(&campaign).expect("checked above");
        let take = (dial as usize).min(run.hopper.len());
        let batch: Vec<Reserved> = run.hopper.drain(..take).collect();
        let items = batch.into_iter().map(|r| (r, Route::Pacer, None)).collect();
        self.dial_batch(campaign, items, DialMode::Predictive).await
    }

    /// The campaign that keeps a dial in flight for the desk's agent while they are ready:
    /// the first of their campaigns after the one of their last call that dials by pacer and
    /// has records. Exactly one, so that a shared agent is neither dialed for twice over nor
    /// left waiting by campaigns that each count only a share of them.
    fn covering(&self, desk: &Desk, now: DateTime<Utc>) -> Option<i64> {
        let k = desk.campaigns.len();
        let after = desk
            .served
            .and_then(|c| desk.campaigns.iter().position(|x| *x == c))
            .map_or(0, |i| i + 1);
        (0..k).map(|i| desk.campaigns[(after + i) % k]).find(|c| {
            self.runs
                .get(c)
                .is_some_and(|r| r.active && r.campaign.settings.dial_mode != DialMode::Agentless && !r.dry(now))
        })
    }

    async fn pace_agentless(&mut self, campaign: i64) -> Result<(), EngineError> {
        self.refill(campaign).await?;
        let run = self.runs.get_mut(&campaign).expect("checked by pace");
        let lines = run.campaign.settings.agentless.lines as usize;
        let free = lines.saturating_sub(run.live).min(run.hopper.len());
        if free == 0 {
            return Ok(());
        }
        let batch: Vec<Reserved> = run.hopper.drain(..free).collect();
        let items = batch.into_iter().map(|r| (r, Route::Agentless, None)).collect();
        self.dial_batch(campaign, items, DialMode::Agentless).await
    }

    /// Tops the campaign's hopper up when it runs low, in one transaction that also commits
    /// the journal.
    pub(super) async fn refill(&mut self, campaign: i64) -> Result<(), EngineError> {
        let now = self.clock.now();
        let Some(run) = self.runs.get_mut(&campaign) else {
            return Ok(());
        };
        // The dial rate decays with a five-minute time constant; the hopper holds a minute.
        let dt = (now - run.rate_at).num_milliseconds().max(0) as f64 / 1000.0;
        run.dial_rate *= (-dt / 300.0).exp();
        run.rate_at = now;
        let target = ((run.dial_rate * self.config.hopper_seconds).ceil() as usize)
            .clamp(self.config.hopper_min, self.config.hopper_max);
        let want_general = run.hopper.len() * 2 < target && now >= run.dry_until;
        // Records of agents and teams are looked for at most every half minute.
        let want_owned = run.owned.is_empty()
            && now >= run.owned_dry_until
            && self.desks.values().any(|d| d.campaigns.contains(&campaign));
        if !want_general && !want_owned {
            return Ok(());
        }
        let (config, backend) = (self.config.clone(), self.db.backend());
        let owners: Vec<UserId> = self
            .desks
            .iter()
            .filter(|(_, d)| d.campaigns.contains(&campaign))
            .map(|(a, _)| *a)
            .collect();
        let mut teams: Vec<i64> = owners
            .iter()
            .filter_map(|a| self.desks.get(a))
            .flat_map(|d| d.teams.iter().copied())
            .collect();
        teams.sort_unstable();
        teams.dedup();
        // The writer's batch goes first: the store takes facts in the order they were decided.
        self.written().await?;
        let entries = self.journal.take();
        let settings = &self.runs.get(&campaign).expect("held").campaign.settings;
        let (hours, max_attempts, order, mode) = (
            settings.calling_hours.clone(),
            settings.max_attempts,
            settings.call_order,
            settings.dial_mode,
        );
        let release_personal_before = match settings.missed_callbacks {
            MissedCallbacks::ToAnyone => Some(now - Duration::minutes(settings.personal_callback_wait_minutes)),
            MissedCallbacks::KeepPersonal => None,
        };
        let refresh_zones = self
            .runs
            .get(&campaign)
            .expect("held")
            .zones_read
            .is_none_or(|at| now - at >= Duration::seconds(config.zones_refresh_s));
        let gate = self.gate.clone();
        let mut tx = self.direct.begin().await?;
        let conflicts = super::write_entries(&mut tx, &entries, &config.node).await?;
        let run = self.runs.get_mut(&campaign).expect("held");
        if refresh_zones {
            run.zones = hopper::campaign_zones(&mut tx, campaign).await?;
            run.zones_read = Some(now);
        }
        let zones = open_zones(&hours, &run.zones, now);
        let want = if want_general {
            target.saturating_sub(run.hopper.len())
        } else {
            0
        };
        let fill = Fill {
            campaign,
            node: &config.node,
            now,
            limit: want,
            max_attempts,
            open_zones: &zones,
            order,
            mode,
            assigned: None,
            release_personal_before,
            with_fields: gate.is_some(),
            backend,
        };
        let report = hopper::fill(&mut tx, &fill, gate.as_deref()).await?;
        let got = report.reserved.len();
        run.hopper.extend(report.reserved);
        if want_owned {
            let owned = Fill {
                limit: config.hopper_min,
                assigned: Some((&owners, &teams)),
                ..fill
            };
            let report = hopper::fill(&mut tx, &owned, gate.as_deref()).await?;
            if report.reserved.is_empty() {
                run.owned_dry_until = now + Duration::seconds(30);
            }
            run.owned.extend(report.reserved);
        }
        tx.commit().await?;
        self.stats.commits += 1;
        self.stats.fills += 1;
        self.publish();
        let run = self.runs.get_mut(&campaign).expect("held");
        if want_general && got < want {
            // Fewer due records than asked for: look again in half a minute (retries come
            // due, calling hours open), not at every decision.
            run.dry_until = now + Duration::seconds(30);
            if run.hopper.is_empty() {
                // Out of records: the ready agents it covered go to their other campaigns,
                // which decide again now.
                let others = self
                    .desks
                    .values()
                    .filter(|d| d.campaigns.contains(&campaign))
                    .flat_map(|d| d.campaigns.iter().copied())
                    .filter(|c| *c != campaign);
                self.dirty.extend(others);
            }
        }
        for agent in conflicts {
            self.reload_agent(agent).await?;
        }
        Ok(())
    }

    /// Why the record may not be dialed now, if it may not.
    fn hold(&self, campaign: i64, reserved: &Reserved, now: DateTime<Utc>) -> Option<Hold> {
        let run = self.runs.get(&campaign)?;
        let hours = &run.campaign.settings.calling_hours;
        if !hours.is_open_everywhere(&reserved.zones.0, now) {
            return Some(Hold::Hours(hours.next_open(&reserved.zones.0, now, 14)));
        }
        if self.opt_outs.contains(&reserved.e164) {
            return Some(Hold::DoNotCall);
        }
        if let (Some(gate), Some(fields)) = (&self.gate, &reserved.fields)
            && gate.closed(campaign, fields)
        {
            return Some(Hold::QuotaClosed);
        }
        None
    }

    /// Takes a record that is not held out of dialing, dropping those that are.
    fn take_dialable(&mut self, campaign: i64, owned_for: Option<UserId>) -> Option<Reserved> {
        let now = self.clock.now();
        loop {
            let run = self.runs.get_mut(&campaign)?;
            let reserved = match owned_for {
                Some(agent) => {
                    let i = run.owned.iter().position(|r| r.agent == Some(agent))?;
                    run.owned.swap_remove(i)
                }
                None => run.hopper.pop_front()?,
            };
            match self.hold(campaign, &reserved, now) {
                None => return Some(reserved),
                Some(hold) => self.put_back(&reserved, hold, now),
            }
        }
    }

    fn put_back(&mut self, reserved: &Reserved, hold: Hold, now: DateTime<Utc>) {
        match hold {
            Hold::Hours(open) => self.release(reserved, open, now),
            Hold::DoNotCall => {
                self.write(Entry::Dropped {
                    attempt: reserved.attempt,
                });
                self.write(Entry::Released {
                    record: reserved.record,
                    next_call_at: None,
                    at: now,
                });
            }
            Hold::QuotaClosed => {
                self.write(Entry::Dropped {
                    attempt: reserved.attempt,
                });
                self.write(Entry::Marked {
                    record: reserved.record,
                    status: RecordStatus::QuotaClosed,
                    at: now,
                });
            }
        }
    }

    /// Dials records: each is checked once more (hours, opt-outs, quota; the do-not-call
    /// lists in the store, in the transaction that commits everything decided so far), then
    /// placed with the switch.
    async fn dial_batch(
        &mut self,
        campaign: i64,
        items: Vec<(Reserved, Route, Option<CallId>)>,
        mode: DialMode,
    ) -> Result<(), EngineError> {
        let now = self.clock.now();
        let mut ready = Vec::with_capacity(items.len());
        for (reserved, route, call) in items {
            match self.hold(campaign, &reserved, now) {
                None => ready.push((reserved, route, call)),
                Some(hold) => {
                    self.put_back(&reserved, hold, now);
                    if let Route::Agent(agent) = route {
                        self.give_up_agent(agent);
                    }
                }
            }
        }
        if ready.is_empty() {
            return Ok(());
        }
        let numbers: Vec<&str> = ready.iter().map(|(r, _, _)| r.e164.as_str()).collect();
        // A dial for an agent already reserved commits first, so that another process that
        // reserved the same agent is found out before two calls go to one person. Dials of
        // the pacer bind no agent: the journal keeps its one-second deadline.
        let for_agent = ready.iter().any(|(_, route, _)| matches!(route, Route::Agent(_)));
        if for_agent {
            self.written().await?;
        }
        let entries = if for_agent { self.journal.take() } else { Vec::new() };
        let node = self.config.node.clone();
        // The pacer's dials read the lists through the engine's reading connection, so that
        // they do not wait for the writer's batch on the shared one.
        let mut tx = if for_agent {
            self.direct.begin().await?
        } else {
            self.reader.begin_read().await?
        };
        let conflicts = super::write_entries(&mut tx, &entries, &node).await?;
        let listed = hopper::listed(&mut tx, campaign, &numbers).await?;
        tx.commit().await?;
        if for_agent {
            self.stats.commits += 1;
            self.publish();
        }
        let mut refused = Vec::new();
        for agent in conflicts {
            self.reload_agent(agent).await?;
            refused.push(agent);
        }
        let settings = self.runs.get(&campaign).map(|r| r.campaign.settings.clone());
        let Some(settings) = settings else { return Ok(()) };
        for (reserved, route, call) in ready {
            if let Route::Agent(agent) = route
                && refused.contains(&agent)
            {
                // The agent is another process's now (reloaded above): the record goes back.
                self.release(&reserved, None, now);
                continue;
            }
            if listed.contains(&reserved.e164) {
                self.put_back(&reserved, Hold::DoNotCall, now);
                if let Route::Agent(agent) = route {
                    self.give_up_agent(agent);
                }
                continue;
            }
            let call = call.unwrap_or_else(|| self.new_call_id(reserved.attempt));
            let request = Originate {
                call: call.clone(),
                to: reserved.e164.clone(),
                caller_id: settings.caller_id.clone(),
                ring_timeout: std::time::Duration::from_secs(settings.ring_timeout_s.max(1) as u64),
                detect_machine: settings.amd.enabled,
                tag: CallTag {
                    campaign_id: campaign,
                    record_id: reserved.record,
                    attempt_id: reserved.attempt,
                },
            };
            self.write(Entry::Dialed {
                attempt: reserved.attempt,
                call: call.clone(),
                at: now,
                mode,
            });
            let now_s = self.secs(now);
            let run = self.runs.get_mut(&campaign).expect("checked above");
            run.live += 1;
            let dt = (now - run.rate_at).num_milliseconds().max(0) as f64 / 1000.0;
            run.dial_rate = run.dial_rate * (-dt / 300.0).exp() + 1.0 / 300.0;
            run.rate_at = now;
            if route == Route::Pacer {
                run.in_flight.set(
                    &call,
                    DialSnapshot {
                        dialed_at: now_s,
                        phase: DialPhase::Ringing,
                    },
                );
                let at = self.secs(now);
                self.runs
                    .get_mut(&campaign)
                    .expect("held")
                    .strategy
                    .observe(&Observation::Dialed { at });
            }
            self.calls.insert(
                call.clone(),
                LiveCall {
                    id: call.clone(),
                    campaign,
                    reserved,
                    route,
                    mode,
                    dialed_at: now,
                    answered_at: None,
                    verdict: None,
                    phase: Phase::Ringing,
                    outcome: None,
                    agent: None,
                    bridged_at: None,
                    disposition: None,
                },
            );
            self.note(&call, CallStep::Dialed { mode });
            if let Err(e) = self.switch.originate(request).await {
                tracing::warn!(call = %call, error = %e, "the switch refused a call");
                self.finish(&call, Some(crate::campaign::Outcome::Failed), None).await?;
            }
        }
        Ok(())
    }

    /// An agent reserved for a record that turned out not dialable is given back.
    fn give_up_agent(&mut self, agent: UserId) {
        if matches!(
            self.pool.view(agent).map(|v| &v.status.state),
            Some(AgentState::Reserved { .. })
        ) && self.agent_command(agent, Command::Release).is_ok()
        {
            self.schedule(self.clock.now(), Timer::Available(agent));
        }
    }

    /// Dials a record for an agent already reserved for `call` (preview, progressive, a
    /// personal callback).
    pub(super) async fn dial_for(
        &mut self,
        agent: UserId,
        campaign: i64,
        reserved: Reserved,
        call: CallId,
        mode: DialMode,
    ) -> Result<(), EngineError> {
        self.dial_batch(campaign, vec![(reserved, Route::Agent(agent), Some(call))], mode)
            .await
    }

    /// Progressive: one dial for this ready agent, from the first of their campaigns with a
    /// record to dial.
    pub(super) async fn dial_progressive(&mut self, agent: UserId) -> Result<(), EngineError> {
        let campaigns = self.desks.get(&agent).map(|d| d.campaigns.clone()).unwrap_or_default();
        for campaign in campaigns {
            if !self.runs.get(&campaign).is_some_and(|r| r.active) {
                continue;
            }
            self.refill(campaign).await?;
            if let Some(reserved) = self.take_dialable(campaign, None) {
                let call = self.new_call_id(reserved.attempt);
                self.agent_command(agent, Command::Reserve { call: call.clone() })?;
                return self
                    .dial_for(agent, campaign, reserved, call, DialMode::Progressive)
                    .await;
            }
        }
        Ok(())
    }

    /// Preview: shows this ready agent the next record of their campaigns; they dial or skip.
    pub(super) async fn offer_preview(&mut self, agent: UserId) -> Result<(), EngineError> {
        let now = self.clock.now();
        let campaigns = self.desks.get(&agent).map(|d| d.campaigns.clone()).unwrap_or_default();
        for campaign in campaigns {
            if !self.runs.get(&campaign).is_some_and(|r| r.active) {
                continue;
            }
            self.refill(campaign).await?;
            let Some(reserved) = self.take_dialable(campaign, None) else {
                continue;
            };
            let call = self.new_call_id(reserved.attempt);
            self.agent_command(agent, Command::Reserve { call: call.clone() })?;
            let timeout = self
                .runs
                .get(&campaign)
                .map_or(0, |r| r.campaign.settings.preview.timeout_s);
            let until = (timeout > 0).then(|| now + Duration::seconds(timeout));
            if let Some(until) = until {
                self.schedule(until, Timer::Preview(agent, call.clone()));
            }
            if self.events.has_subscribers() {
                self.pending.push(Event::Preview(PreviewNote {
                    agent,
                    campaign,
                    record: reserved.record,
                    call: call.clone(),
                    until,
                }));
            }
            if let Some(desk) = self.desks.get_mut(&agent) {
                desk.offer = Some(Offer {
                    campaign,
                    call,
                    reserved,
                });
            }
            return self.commit().await;
        }
        Ok(())
    }
}
