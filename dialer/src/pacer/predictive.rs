//! Paceline's predictive pacer: dial as many more numbers as keep each new dial's chance of
//! being abandoned under an allowance that the abandons actually counted keep in check.
//!
//! Models, learned online from the campaign's own calls ([`super::estimate`]): the chance that
//! a dial needs an agent (a Beta posterior, forgetting with a ten-minute half-life so it
//! follows a lunch-time drop), the time from dial to answer for persons and to the end for the
//! rest, talk time and wrap-up time. Each is learned without the bias of what ends first: dial
//! outcomes by cohort, once every dial placed at the same moment has resolved (quick failures
//! would otherwise make persons look rare), and talk and wrap-up times with the ones still
//! running counted as censored (Kaplan-Meier; the refusals would otherwise stand for the
//! interviews). Both matter most at a campaign's start, when hundreds of agents are ready at
//! once and the models know only their priors. From them, at each decision:
//!
//! - supply: for each knot τ of the next ring period, how many agents will be free by τ plus
//!   the grace time (ready ones now; talking ones by the residual talk time given how long the
//!   call has lasted, plus wrap-up; those in wrap-up by its residual), mean and variance;
//! - demand: how many persons will have answered by τ from the dials already ringing (each
//!   weighed by the chance that a dial still ringing after `d` seconds is a person at all) and
//!   those already waiting, mean and variance;
//! - for the n-th new dial, the chance its person is abandoned: over the knots, the chance of
//!   answering then times the chance that the persons ahead (demand plus the other new dials)
//!   reach the agents free within the grace time (normal approximation with the posterior's
//!   uncertainty about the person rate added to the variance).
//!
//! It dials while that chance is below λ. λ is the loop closed on actual abandons: an
//! allowance grows by `share × ceiling` for each person answered and shrinks by one for each
//! abandon; it is capped at a couple of abandons, so quiet periods (a warm-up) are not banked
//! for later, and λ scales with it, falling to almost nothing as the allowance runs out. The
//! share aimed at follows the window's budget so far (ceiling × person answers): at most
//! `target_share`, and low enough that a count of abandons around the aim (Poisson-like, 1.5
//! times as variable because abandons come in bursts) stays within the budget at its 99th
//! percentile, which is what a small team at a tight ceiling needs.
//!
//! On top, when the compliance window's own count is at the share aimed at, only dials with
//! almost no chance of an abandon are placed; and never more dials than keep the abandons the
//! calls in flight may bring at once (their 99th percentile) within what the window has left
//! under the ceiling itself. The benchmark checks the result on 20 seeds of every scenario
//! (see BENCHMARKS.md).

use super::estimate::{Cohorts, Durations, Pending, PersonRate};
use super::{AgentPhase, Decision, DialPhase, Explain, Observation, PacerConfig, Secs, Situation, Strategy};

/// Knots over the ring period at which supply and demand are compared.
const KNOTS: usize = 8;

/// The standard normal's 99th percentile.
const Z_99: f64 = 2.326_347_9;

/// How much more variable the count of abandons is than a Poisson count of the same mean
/// (abandons come in bursts, several persons answering while every agent talks).
const BURSTINESS: f64 = 1.5;

/// Tunable parts of the predictive pacer.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictiveConfig {
    /// The abandon ceiling (abandons / person answers).
    pub ceiling: f64,
    /// Seconds a person may wait for an agent.
    pub grace_s: f64,
    /// The ring timeout: the forecast looks this far ahead.
    pub ring_timeout_s: f64,
    /// The share of the ceiling the allowance grows by per person answered.
    pub target_share: f64,
    /// The allowance's cap, in abandons.
    pub allowance_cap: f64,
    /// λ when the allowance is full.
    pub lambda_max: f64,
    /// λ when it is empty: dials this unlikely to be abandoned are always placed.
    pub lambda_floor: f64,
    /// Half-life of the person rate, seconds.
    pub person_half_life_s: f64,
}

impl PredictiveConfig {
    /// The defaults for a campaign.
    pub fn new(config: &PacerConfig) -> Self {
        Self {
            ceiling: config.ceiling,
            grace_s: config.grace_s,
            ring_timeout_s: config.ring_timeout_s,
            target_share: 0.75,
            allowance_cap: 2.0,
            lambda_max: 0.3,
            lambda_floor: 0.002,
            person_half_life_s: 600.0,
        }
    }
}

/// A distribution's CDF on a regular grid, for lookups in a few nanoseconds.
#[derive(Debug, Clone)]
struct Grid {
    step: f64,
    cdf: Vec<f64>,
    /// Mean of the excess beyond the grid's end (exponential tail).
    tail_mean: f64,
}

impl Grid {
    fn of(d: &Durations, step: f64, max: f64) -> Self {
        let n = (max / step).ceil() as usize + 1;
        let cdf: Vec<f64> = (0..n).map(|i| d.cdf(i as f64 * step)).collect();
        let end = (n - 1) as f64 * step;
        Self {
            step,
            cdf,
            tail_mean: d.mean_residual(end).max(step),
        }
    }

    fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let pos = x / self.step;
        let i = pos as usize;
        if i + 1 < self.cdf.len() {
            let f = pos - i as f64;
            return self.cdf[i] + (self.cdf[i + 1] - self.cdf[i]) * f;
        }
        let last = *self.cdf.last().expect("a grid has points");
        let beyond = x - (self.cdf.len() - 1) as f64 * self.step;
        1.0 - (1.0 - last) * (-beyond / self.tail_mean).exp()
    }

    /// P(T <= e + x | T > e).
    fn conditional(&self, e: f64, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let at_e = self.cdf(e);
        let survival = 1.0 - at_e;
        if survival <= 1e-12 {
            return 1.0;
        }
        ((self.cdf(e + x) - at_e) / survival).clamp(0.0, 1.0)
    }
}

/// The predictive pacer; see the module documentation.
#[derive(Debug, Clone)]
pub struct Predictive {
    config: PredictiveConfig,
    person: PersonRate,
    answer: Durations,
    other: Durations,
    talk: Durations,
    wrap: Durations,
    grids: Option<Grids>,
    grids_at: Secs,
    allowance: f64,
    /// The share of the ceiling aimed at now (see [`Predictive::share_for`]).
    share: f64,
    /// Scratch: dials in flight per row of the dial table.
    dial_counts: Vec<u32>,
    /// Resolutions waiting for their cohort of dials to close before the models learn them.
    cohorts: Cohorts,
    /// When each agent talking at the latest decision was bridged, and when each in wrap-up
    /// started it: the durations still running, for the talk and wrap-up estimates.
    talking_since: Vec<Secs>,
    wrapping_since: Vec<Secs>,
}

/// The models, tabulated for one decision's lookups: for each elapsed time (rounded to the
/// table's step), the chance of being done by each knot.
#[derive(Debug, Clone)]
struct Grids {
    /// A talking agent `e` seconds into the call is free (talk and wrap-up done) within each
    /// knot plus the grace time; rows one second apart.
    talk: Table,
    /// An agent `e` seconds into wrap-up is free within each knot plus the grace time.
    wrap: Table,
    /// A dial ringing for `d` seconds: its survival as a person, as anything else, and the
    /// chance a person answers within each knot; rows a quarter second apart.
    dial: Vec<DialRow>,
    dial_step: f64,
    /// A new dial is answered by a person, if it is one, within each knot.
    new_f: [f64; KNOTS],
}

/// Rows of per-knot chances at regular elapsed times; beyond the last row the chances stay
/// as they are there (the distributions' tails are exponential, so memoryless).
#[derive(Debug, Clone)]
struct Table {
    step: f64,
    rows: Vec<[f64; KNOTS]>,
}

impl Table {
    fn new(step: f64, max: f64, row: impl Fn(f64) -> [f64; KNOTS]) -> Self {
        let n = (max / step).ceil() as usize + 1;
        Self {
            step,
            rows: (0..n).map(|i| row(i as f64 * step)).collect(),
        }
    }

    fn row(&self, elapsed: f64) -> &[f64; KNOTS] {
        let i = ((elapsed / self.step) + 0.5) as usize;
        &self.rows[i.min(self.rows.len() - 1)]
    }
}

#[derive(Debug, Clone, Copy)]
struct DialRow {
    survival_person: f64,
    survival_other: f64,
    f: [f64; KNOTS],
}

/// The standard normal CDF (Abramowitz and Stegun 7.1.26 through erfc; error below 1.5e-7).
fn phi(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 { 1.0 - 0.5 * erfc } else { 0.5 * erfc }
}

/// The number of dials whose risk is at most `lambda`, given that `risk(n)` (the risk of the
/// dial placed after `n` others) grows with `n`, at most `limit`; and the risk of the first
/// dial refused (or of the last one placed, when none is refused).
fn first_over(limit: u32, lambda: f64, risk: impl Fn(f64) -> f64) -> (u32, f64) {
    if limit == 0 {
        return (0, 0.0);
    }
    let first = risk(0.0);
    if first > lambda {
        return (0, first);
    }
    // risk(lo) <= lambda; find hi with risk(hi) > lambda, or reach the limit.
    let (mut lo, mut hi) = (0u32, 1u32);
    let mut hi_risk;
    loop {
        if hi >= limit {
            let at_limit = risk(f64::from(limit - 1));
            if at_limit <= lambda {
                return (limit, at_limit);
            }
            hi = limit - 1;
            hi_risk = at_limit;
            break;
        }
        hi_risk = risk(f64::from(hi));
        if hi_risk > lambda {
            break;
        }
        lo = hi;
        hi = hi.saturating_mul(2);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let r = risk(f64::from(mid));
        if r > lambda {
            hi = mid;
            hi_risk = r;
        } else {
            lo = mid;
        }
    }
    (hi, hi_risk)
}

impl Predictive {
    /// A pacer for a campaign, with priors that hold until its own calls say otherwise.
    pub fn new(config: PredictiveConfig) -> Self {
        let ring = config.ring_timeout_s.max(5.0);
        let uniform = |lo: f64, hi: f64| move |x: f64| ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
        let lognormal = |mean: f64, sd: f64| {
            let s2 = (1.0 + (sd / mean).powi(2)).ln();
            let (mu, s) = (mean.ln() - s2 / 2.0, s2.sqrt());
            move |x: f64| if x <= 0.0 { 0.0 } else { phi((x.ln() - mu) / s) }
        };
        let mut person = PersonRate::new(0.25, 20.0, config.person_half_life_s);
        person.set_quantiles(&[0.9]);
        Self {
            answer: Durations::from_cdf(0.25, ring + 5.0, 1800.0, uniform(3.0, ring.min(20.0)), 10.0),
            other: Durations::from_cdf(0.25, ring + 5.0, 1800.0, uniform(2.0, ring), 10.0),
            // Long-tailed: calls from half a minute to half an hour, and where the data ends
            // (a call running longer than any seen yet) a slowly falling chance of ending.
            talk: Durations::from_cdf(1.0, 7200.0, 3600.0, lognormal(180.0, 360.0), 5.0),
            // Wide, with a long tail: a prior that ends at some second would free every agent
            // still wrapping up past it in the campaign's first minute.
            wrap: Durations::from_cdf(0.5, 1200.0, 1800.0, lognormal(15.0, 15.0), 5.0),
            person,
            grids: None,
            grids_at: f64::NEG_INFINITY,
            allowance: 1.0,
            share: config.target_share,
            dial_counts: Vec::new(),
            cohorts: Cohorts::default(),
            talking_since: Vec::new(),
            wrapping_since: Vec::new(),
            config,
        }
    }

    fn rebuild(&mut self, now: Secs) {
        let c = &self.config;
        let horizon = c.ring_timeout_s.max(5.0);
        let ring = horizon + 5.0;
        let mut tau = [0.0; KNOTS];
        for (k, t) in tau.iter_mut().enumerate() {
            *t = horizon * (k + 1) as f64 / KNOTS as f64;
        }
        let answer = Grid::of(&self.answer, 0.25, ring);
        let other = Grid::of(&self.other, 0.25, ring);
        // Talk and wrap-up with the calls and wrap-ups still running counted (censored): the
        // ended ones alone are the short ones while many run, as in the first minutes.
        let running = |since: &[Secs]| -> Vec<(f64, Secs)> { since.iter().map(|&t| (now - t, t)).collect() };
        let talk_now = self.talk.with_ongoing(&running(&self.talking_since));
        let wrap_now = self.wrap.with_ongoing(&running(&self.wrapping_since));
        let talk = Grid::of(&talk_now, 1.0, 7200.0);
        let wrap = Grid::of(&wrap_now, 0.5, 1200.0);
        let (grace, wrap_mean) = (c.grace_s, wrap_now.mean());
        let dial_step = 0.25;
        let dial = (0..=(ring / dial_step).ceil() as usize)
            .map(|i| {
                let d = i as f64 * dial_step;
                DialRow {
                    survival_person: 1.0 - answer.cdf(d),
                    survival_other: 1.0 - other.cdf(d),
                    f: tau.map(|t| answer.conditional(d, t)),
                }
            })
            .collect();
        self.grids = Some(Grids {
            talk: Table::new(1.0, 7200.0, |e| tau.map(|t| talk.conditional(e, t + grace - wrap_mean))),
            wrap: Table::new(0.5, 1200.0, |e| tau.map(|t| wrap.conditional(e, t + grace))),
            dial,
            dial_step,
            new_f: tau.map(|t| answer.cdf(t)),
        });
        self.grids_at = now;
    }

    /// Rebuilds the lookup grids after new data: at most every 30 seconds, or every 5 while
    /// the models have seen little (a campaign's first minutes, when each minute of data
    /// changes them most).
    fn maybe_rebuild(&mut self, now: Secs) {
        let young = self
            .talk
            .count()
            .min(self.wrap.count())
            .min(self.person.effective_count())
            < 200.0;
        let every = if young { 5.0 } else { 30.0 };
        if self.grids.is_none() || now - self.grids_at >= every {
            self.rebuild(now);
        }
    }

    /// Learns the resolutions of the dials placed a ring period (and a margin) before `now`,
    /// when all of their cohort have resolved (see [`Cohorts`]).
    fn learn_closed_cohorts(&mut self, now: Secs) {
        let closed_before = now - self.config.ring_timeout_s.max(5.0) - 5.0;
        let mut learned = false;
        while let Some(r) = self.cohorts.release(closed_before) {
            // Learned as of the cohort's close, so the forgetting sees them in dial order.
            let at = r.dialed_at + (now - closed_before);
            self.person.observe(r.person, at);
            if r.person {
                self.answer.observe(r.at - r.dialed_at, at);
            } else {
                self.other.observe(r.at - r.dialed_at, at);
            }
            learned = true;
        }
        if learned {
            self.maybe_rebuild(now);
        }
    }

    /// The share of the ceiling to aim at when the window allows `budget` abandons so far:
    /// low enough that the abandons counted around that aim (Poisson-like, and in bursts, so
    /// `BURSTINESS` times as variable) stay within the budget at the 99th percentile; at most
    /// `target_share`. A large budget (a large team, a long day) aims at `target_share`; a
    /// small one, where a single burst is a large part of it, aims lower.
    fn share_for(&self, budget: f64) -> f64 {
        let budget = budget.max(1e-9);
        let zk = Z_99 * BURSTINESS.sqrt();
        // The aim a = x² with a + zk·√a = budget.
        let x = (-zk + (zk * zk + 4.0 * budget).sqrt()) / 2.0;
        (x * x / budget).clamp(0.0, self.config.target_share)
    }

    /// The chance of abandon the marginal dial may have.
    fn lambda(&self, situation: &Situation<'_>) -> f64 {
        let w = situation.window;
        let c = &self.config;
        // The window's own count: near the ceiling (two more abandons, as calls in flight
        // can bring at once, would pass the share the allowance aims at), place only dials
        // that are nearly safe.
        if (w.abandons + 2.0) > self.share * c.ceiling * (w.person_answers + 1.0) {
            return c.lambda_floor;
        }
        let fill = (self.allowance / c.allowance_cap).clamp(0.0, 1.0);
        (c.lambda_max * fill).max(c.lambda_floor)
    }
}

impl Strategy for Predictive {
    fn name(&self) -> &'static str {
        "predictive"
    }

    fn reconfigure(&mut self, config: &PacerConfig) -> bool {
        // The duration priors were laid out over the ring timeout: a new one needs new priors.
        if config.ring_timeout_s != self.config.ring_timeout_s {
            return false;
        }
        self.config.ceiling = config.ceiling;
        self.config.grace_s = config.grace_s;
        // The grids hold the old grace time; the next decision rebuilds them.
        self.grids = None;
        self.grids_at = f64::NEG_INFINITY;
        true
    }

    fn observe(&mut self, observation: &Observation) {
        match *observation {
            Observation::Dialed { .. } => {}
            Observation::Resolved { dialed_at, at, person } => {
                if person {
                    let c = &self.config;
                    self.allowance = (self.allowance + self.share * c.ceiling).min(c.allowance_cap);
                }
                self.cohorts.hold(Pending { dialed_at, at, person });
                self.learn_closed_cohorts(at);
            }
            Observation::Bridged { .. } => {}
            Observation::Abandoned { .. } => self.allowance -= 1.0,
            // Weighed by when they started: see `Durations::with_ongoing`.
            Observation::TalkEnded { bridged_at, at } => {
                self.talk.observe(at - bridged_at, bridged_at);
                self.maybe_rebuild(at);
            }
            Observation::WrapUpEnded { started, at } => {
                self.wrap.observe(at - started, started);
                self.maybe_rebuild(at);
            }
        }
    }

    fn decide(&mut self, s: &Situation<'_>) -> Decision {
        if self.grids.is_none() {
            self.rebuild(s.now);
        }
        let g = self.grids.as_ref().expect("built above");
        let p = self.person.mean().clamp(1e-4, 1.0);
        let (a, b) = (self.person.alpha(), self.person.beta());
        let var_p = a * b / ((a + b).powi(2) * (a + b + 1.0));
        // Supply by τ + grace.
        let (mut mu_y, mut var_y) = ([0.0; KNOTS], [0.0; KNOTS]);
        let mut ready = 0.0;
        let mut total_agents = 0.0;
        self.talking_since.clear();
        self.wrapping_since.clear();
        for agent in s.agents {
            let w = agent.weight;
            total_agents += w;
            let e = (s.now - agent.since).max(0.0);
            let row = match agent.phase {
                AgentPhase::Ready => {
                    ready += w;
                    continue;
                }
                AgentPhase::Reserved => continue,
                AgentPhase::Talking => {
                    self.talking_since.push(agent.since);
                    g.talk.row(e)
                }
                AgentPhase::WrapUp => {
                    self.wrapping_since.push(agent.since);
                    g.wrap.row(e)
                }
            };
            for k in 0..KNOTS {
                let q = row[k];
                mu_y[k] += w * q;
                var_y[k] += w * w * q * (1.0 - q);
            }
        }
        // Demand by τ from dials in flight, and persons already waiting. Dials are counted by
        // their row of the table (how long they have rung), then each row is weighed once.
        let (mut mu_x, mut var_x, mut scale_x) = ([0.0; KNOTS], [0.0; KNOTS], [0.0; KNOTS]);
        let mut waiting = 0.0;
        let mut counts = std::mem::take(&mut self.dial_counts);
        counts.clear();
        counts.resize(g.dial.len(), 0);
        let last_dial_row = g.dial.len() - 1;
        for dial in s.dials {
            match dial.phase {
                DialPhase::Waiting { .. } => waiting += 1.0,
                DialPhase::Ringing => {
                    let d = (s.now - dial.dialed_at).max(0.0);
                    counts[((d / g.dial_step + 0.5) as usize).min(last_dial_row)] += 1;
                }
            }
        }
        for (row, &count) in g.dial.iter().zip(&counts) {
            if count == 0 {
                continue;
            }
            let m = f64::from(count);
            let (sa, sn) = (row.survival_person, row.survival_other);
            let denom = p * sa + (1.0 - p) * sn;
            if denom <= 1e-12 {
                continue;
            }
            let post = p * sa / denom;
            let scale = sa / denom;
            for k in 0..KNOTS {
                let f = row.f[k];
                let pi = post * f;
                mu_x[k] += m * pi;
                var_x[k] += m * pi * (1.0 - pi);
                scale_x[k] += m * scale * f;
            }
        }
        self.dial_counts = counts;
        let g = self.grids.as_ref().expect("built above");
        self.share = self.share_for(self.config.ceiling * (s.window.person_answers + 1.0));
        let lambda = self.lambda(s);
        let new_f = g.new_f;
        let new_pi = new_f.map(|f| p * f);
        // The chance that the dial placed after `ahead` new ones is abandoned: over the knots,
        // the chance its person answers then times the chance that the persons before it
        // outnumber the agents free within the grace time.
        let risk = |ahead: f64| {
            let mut risk = 0.0;
            let mut previous = 0.0;
            for k in 0..KNOTS {
                let d_pi = new_pi[k] - previous;
                previous = new_pi[k];
                if d_pi <= 0.0 {
                    continue;
                }
                let mean = mu_x[k] + waiting + ahead * new_pi[k] - (ready + mu_y[k]);
                let spread = scale_x[k] + ahead * new_f[k];
                let var = var_x[k] + ahead * new_pi[k] * (1.0 - new_pi[k]) + var_y[k] + spread * spread * var_p + 1e-9;
                risk += d_pi * phi((mean + 0.5) / var.sqrt());
            }
            risk / p
        };
        // Never more dials in flight than a generous multiple of the agents.
        let cap = ((total_agents * 4.0 / p.max(0.05)).ceil() as u32).saturating_sub(s.dials.len() as u32);
        let limit = s.max_dials.min(cap);
        // The risk grows with the dials ahead: the count is the first dial over λ, found by
        // doubling and then halving instead of one dial at a time.
        let (n, last_risk) = first_over(limit, lambda, risk);
        // The hard ceiling: the abandons the calls in flight and `ahead` new ones may bring at
        // once (at each knot, persons answered beyond the agents free by then, normal
        // approximation, 99th percentile; the worst knot) must fit in what the window has
        // left under the ceiling itself. Large teams have room to spare; a small team's
        // calls bring abandons in bursts (several persons answer while every agent talks)
        // that its few allowed abandons cannot absorb.
        let burst = |ahead: f64| {
            let mut worst: f64 = 0.0;
            for k in 0..KNOTS {
                let mean = mu_x[k] + waiting + ahead * new_pi[k] - (ready + mu_y[k]);
                let spread = scale_x[k] + ahead * new_f[k];
                let var = var_x[k] + ahead * new_pi[k] * (1.0 - new_pi[k]) + var_y[k] + spread * spread * var_p;
                worst = worst.max(mean + Z_99 * var.sqrt());
            }
            worst
        };
        let room = self.config.ceiling * (s.window.person_answers + 1.0) - s.window.abandons;
        let fits = |ahead: u32| burst(f64::from(ahead)) <= room;
        let n = if n == 0 || fits(n) {
            n
        } else {
            // The largest count that fits (`burst` grows with the dials ahead): `hi` never
            // fits, `lo` does or is zero.
            let (mut lo, mut hi) = (0, n);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if fits(mid) { lo = mid } else { hi = mid }
            }
            lo
        };
        // Never fewer dials in flight than the ready agents it covers: so many cannot be
        // abandoned (each person finds one of them), and predictive is never worse than
        // progressive. Whole agents, not weights: an agent shared by two campaigns is half
        // an agent on each, and a floor of half an agent is none.
        let uncovered = s.covered_ready().saturating_sub(s.dials.len() as u32);
        let n = n.max(uncovered.min(s.max_dials));
        let mut explain = Explain::default();
        explain.figure("ready", ready);
        explain.figure("covered", f64::from(s.covered_ready()));
        explain.figure("agents", total_agents);
        explain.figure("ringing", s.ringing() as f64);
        explain.figure("waiting", waiting);
        explain.figure("p_person", p);
        explain.figure("supply_at_grace", ready + mu_y[0]);
        explain.figure("demand_at_horizon", mu_x[KNOTS - 1] + waiting);
        explain.figure("lambda", lambda);
        explain.figure("burst_p99", burst(f64::from(n)).max(0.0));
        explain.figure("room", room);
        explain.figure("allowance", self.allowance);
        explain.figure("share", self.share);
        explain.figure("marginal_risk", last_risk);
        explain.figure("window_rate", s.window.rate());
        Decision {
            dial: n,
            level: if total_agents > 0.0 {
                (s.dials.len() as f64 + f64::from(n)) / total_agents
            } else {
                0.0
            },
            explain,
        }
    }

    fn next_wakeup(&self, now: Secs) -> Option<Secs> {
        // Forecasts move with time even when nothing happens: look again every second.
        Some(now + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pacer::{AgentSnapshot, DialSnapshot, WindowCounts};

    fn config() -> PredictiveConfig {
        PredictiveConfig::new(&PacerConfig {
            ceiling: 0.03,
            grace_s: 2.0,
            ring_timeout_s: 25.0,
        })
    }

    fn window(answers: f64, abandons: f64) -> WindowCounts {
        WindowCounts {
            person_answers: answers,
            abandons,
            ceiling: 0.03,
            length_s: 86_400.0,
            elapsed_s: 3_600.0,
        }
    }

    fn situation<'a>(agents: &'a [AgentSnapshot], dials: &'a [DialSnapshot], w: WindowCounts) -> Situation<'a> {
        Situation {
            now: 1000.0,
            agents,
            logged_in: agents.len() as f64,
            dials,
            window: w,
            grace_s: 2.0,
            max_dials: 100,
        }
    }

    fn agent(phase: AgentPhase, since: f64) -> AgentSnapshot {
        AgentSnapshot {
            phase,
            since,
            weight: 1.0,
            covers: true,
        }
    }

    #[test]
    fn the_search_finds_what_counting_one_by_one_finds() {
        for limit in 0..40u32 {
            for over in 0..45u32 {
                // A growing risk that passes λ = 0.5 at `over`.
                let risk = |n: f64| {
                    if n >= f64::from(over) {
                        0.6 + n / 100.0
                    } else {
                        n / 100.0
                    }
                };
                let linear = (0..limit).find(|n| risk(f64::from(*n)) > 0.5).unwrap_or(limit);
                assert_eq!(first_over(limit, 0.5, risk).0, linear, "limit {limit}, over {over}");
            }
        }
    }

    #[test]
    fn phi_is_the_normal_cdf() {
        for (z, want) in [(0.0, 0.5), (1.0, 0.841_344_7), (-1.96, 0.024_997_9), (3.0, 0.998_650_1)] {
            assert!((phi(z) - want).abs() < 1e-6, "phi({z}) = {}", phi(z));
        }
    }

    #[test]
    fn an_idle_agent_gets_calls_and_a_busy_floor_gets_few() {
        let mut pacer = Predictive::new(config());
        let idle = [agent(AgentPhase::Ready, 990.0)];
        let d = pacer.decide(&situation(&idle, &[], window(1000.0, 10.0)));
        assert!(d.dial >= 1, "{d:?}");
        // Everybody just started a call: nobody will be free within the ring period.
        let busy = [agent(AgentPhase::Talking, 999.0), agent(AgentPhase::Talking, 998.0)];
        let d = pacer.decide(&situation(&busy, &[], window(1000.0, 10.0)));
        assert!(d.dial <= 1, "{d:?}");
    }

    #[test]
    fn a_shared_ready_agent_is_dialed_for_by_the_campaign_that_covers_them() {
        // Over the ceiling, only the floor dials. One ready agent on two campaigns is half an
        // agent on each: the campaign that covers them dials one call, the other none.
        let over = window(100.0, 5.0);
        let half = |phase, covers| AgentSnapshot {
            weight: 0.5,
            covers,
            ..agent(phase, 990.0)
        };
        let talking = [half(AgentPhase::Talking, true), half(AgentPhase::Talking, true)];
        let covered = [half(AgentPhase::Ready, true), talking[0], talking[1]];
        let d = Predictive::new(config()).decide(&situation(&covered, &[], over));
        assert_eq!(d.dial, 1, "{d:?}");
        let elsewhere = [half(AgentPhase::Ready, false), talking[0], talking[1]];
        let d = Predictive::new(config()).decide(&situation(&elsewhere, &[], over));
        assert_eq!(d.dial, 0, "{d:?}");
    }

    #[test]
    fn dials_in_flight_cover_the_ready_agents() {
        let mut pacer = Predictive::new(config());
        let ready = [agent(AgentPhase::Ready, 990.0)];
        let first = pacer.decide(&situation(&ready, &[], window(1000.0, 10.0))).dial;
        let ringing: Vec<DialSnapshot> = (0..first)
            .map(|_| DialSnapshot {
                dialed_at: 999.0,
                phase: DialPhase::Ringing,
            })
            .collect();
        let more = pacer.decide(&situation(&ready, &ringing, window(1000.0, 10.0))).dial;
        assert!(more < first, "{first} then {more}");
    }

    #[test]
    fn abandons_close_the_loop() {
        let mut pacer = Predictive::new(config());
        // Agents finishing their wrap-up: free within the ring period.
        let agents: Vec<AgentSnapshot> = (0..20)
            .map(|i| agent(AgentPhase::WrapUp, 990.0 + f64::from(i) / 4.0))
            .collect();
        let before = pacer.decide(&situation(&agents, &[], window(1000.0, 10.0))).dial;
        for _ in 0..3 {
            pacer.observe(&Observation::Abandoned {
                answered_at: 990.0,
                at: 992.0,
            });
        }
        let after = pacer.decide(&situation(&agents, &[], window(1000.0, 10.0))).dial;
        assert!(after < before, "{before} then {after}");
        // At the window's ceiling only nearly safe dials go out.
        let at_ceiling = pacer.decide(&situation(&agents, &[], window(1000.0, 30.0)));
        assert_eq!(at_ceiling.explain.value("lambda").unwrap(), 0.002);
    }

    #[test]
    fn the_aim_follows_the_budget() {
        let pacer = Predictive::new(config());
        // A large budget aims at the configured share.
        assert_eq!(pacer.share_for(1_000.0), 0.75);
        // A small one aims so low that the aim plus 2.33 standard deviations of a count 1.5
        // times as variable as Poisson fits in it.
        for budget in [1.0, 3.0, 6.6, 13.0, 40.0] {
            let aim = pacer.share_for(budget) * budget;
            let p99 = aim + Z_99 * (BURSTINESS * aim).sqrt();
            assert!((p99 - budget).abs() < 1e-9, "budget {budget}: aim {aim}, p99 {p99}");
        }
        let shares: Vec<f64> = [1.0, 5.0, 20.0, 80.0].iter().map(|b| pacer.share_for(*b)).collect();
        assert!(shares.windows(2).all(|w| w[0] < w[1]), "{shares:?}");
    }

    #[test]
    fn a_window_with_little_room_caps_the_burst_the_calls_may_bring() {
        // Ten agents finishing wrap-up; the same pacer state, and a window with room for
        // thousands of abandons or for under four.
        let agents: Vec<AgentSnapshot> = (0..10)
            .map(|i| agent(AgentPhase::WrapUp, 990.0 + f64::from(i)))
            .collect();
        let wide = Predictive::new(config()).decide(&situation(&agents, &[], window(100_000.0, 0.0)));
        let narrow = Predictive::new(config()).decide(&situation(&agents, &[], window(120.0, 0.0)));
        let room = narrow.explain.value("room").unwrap();
        assert!(room < 4.0, "{room}");
        assert!(
            narrow.dial < wide.dial,
            "{} dials with room, {} without",
            wide.dial,
            narrow.dial
        );
        assert!(
            narrow.explain.value("burst_p99").unwrap() <= room,
            "{:?}",
            narrow.explain
        );
        assert!(wide.explain.value("burst_p99").unwrap() > room, "{:?}", wide.explain);
    }

    #[test]
    fn quick_failures_are_learned_with_their_cohort_not_before() {
        // A campaign's first seconds: 1,000 numbers dialed at once, of which the invalid and
        // busy ones (70) have resolved 3.5 s later, and no person yet.
        let mut pacer = Predictive::new(config());
        let agents: Vec<AgentSnapshot> = (0..500).map(|_| agent(AgentPhase::Ready, 996.0)).collect();
        for i in 0..70 {
            pacer.observe(&Observation::Resolved {
                dialed_at: 996.5,
                at: 997.5 + f64::from(i) / 35.0,
                person: false,
            });
        }
        let ringing: Vec<DialSnapshot> = (0..930)
            .map(|_| DialSnapshot {
                dialed_at: 996.5,
                phase: DialPhase::Ringing,
            })
            .collect();
        let d = pacer.decide(&situation(&agents, &ringing, window(0.0, 0.0)));
        // Learned one by one, 70 failures against a prior worth 20 dials would say 0.06.
        assert_eq!(d.explain.value("p_person"), Some(0.25));
        // Once every dial of that moment has resolved (a third of them persons), all of it.
        for i in 0..930 {
            pacer.observe(&Observation::Resolved {
                dialed_at: 996.5,
                at: 1001.0 + f64::from(i) / 50.0,
                person: i % 3 == 0,
            });
        }
        pacer.observe(&Observation::Resolved {
            dialed_at: 1010.0,
            at: 1035.0,
            person: false,
        });
        let learned = pacer.person.mean();
        // Prior 5 persons in 20 dials, then 310 in 1,000.
        assert!((learned - 315.0 / 1020.0).abs() < 1e-9, "{learned}");
    }
}
