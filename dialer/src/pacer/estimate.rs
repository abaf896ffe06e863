//! Online estimators a pacing strategy learns from: [`PersonRate`], the chance that a dial
//! needs an agent, and [`Durations`], the distribution of a duration (answer delay, time to a
//! non-person outcome, talk time, wrap-up).
//!
//! Both forget exponentially with a half-life, so they follow drift within minutes, and both
//! keep a prior that never decays, so they say something sensible before the first call and
//! after a quiet spell. Their figures are as of the latest observation: forgetting is applied
//! when something is observed, not when the estimate is read. Queries are cheap and never
//! allocate; the work is done in `observe`.

use statrs::distribution::{Beta, ContinuousCDF};
use statrs::function::erf::erfc_inv;

use super::Secs;

/// A parameter an estimator was built with is out of its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{estimator}: {parameter} is {value}, it must be {rule}")]
pub struct EstimateError {
    /// Which estimator ("person rate", "durations").
    pub estimator: &'static str,
    /// The parameter at fault, e.g. `prior_mean` or `prior[2].weight`.
    pub parameter: String,
    /// Its value.
    pub value: f64,
    /// What it must be.
    pub rule: &'static str,
}

fn check(
    estimator: &'static str,
    parameter: impl Into<String>,
    value: f64,
    ok: bool,
    rule: &'static str,
) -> Result<(), EstimateError> {
    if ok {
        Ok(())
    } else {
        Err(EstimateError {
            estimator,
            parameter: parameter.into(),
            value,
            rule,
        })
    }
}

/// The factor a weight observed `dt` seconds ago has shrunk by.
fn decay(dt: f64, half_life_s: f64) -> f64 {
    // An infinite half-life gives exp2(-0) = 1: no forgetting.
    (-dt.max(0.0) / half_life_s).exp2()
}

/// The standard normal quantile.
fn normal_quantile(q: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * q)
}

/// Resolutions of dials held back until every dial placed at the same moment has resolved,
/// then released in the order the dials were placed.
///
/// Dials end at different speeds by outcome: invalid numbers and busy lines within seconds,
/// persons after some ringing, unanswered ones at the ring timeout. Learning from each as it
/// resolves hears of the quick failures first; when many dials start at once (a campaign's
/// start, every agent ready) the person share looks far lower than it is, and answer delays
/// shorter, for as long as the ring timeout. Released by cohort, the resolutions of any
/// stretch of dials come in their true proportions, a ring period late: nothing next to a
/// forgetting half-life of minutes.
#[derive(Debug, Clone, Default)]
pub struct Cohorts {
    pending: std::collections::BinaryHeap<std::cmp::Reverse<Pending>>,
}

/// A resolution held by [`Cohorts`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pending {
    /// When the dial was placed.
    pub dialed_at: Secs,
    /// When it resolved.
    pub at: Secs,
    /// Whether it needed an agent.
    pub person: bool,
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.dialed_at
            .total_cmp(&other.dialed_at)
            .then(self.at.total_cmp(&other.at))
    }
}

impl Cohorts {
    /// Holds a resolution until its cohort closes.
    pub fn hold(&mut self, resolution: Pending) {
        self.pending.push(std::cmp::Reverse(resolution));
    }

    /// The next resolution of a dial placed at or before `closed_before`, oldest dial first.
    pub fn release(&mut self, closed_before: Secs) -> Option<Pending> {
        if self.pending.peek()?.0.dialed_at <= closed_before {
            self.pending.pop().map(|r| r.0)
        } else {
            None
        }
    }

    /// How many resolutions are held.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// The posterior of the chance that a dial reaches a person (or anything else that needs an
/// agent): Beta(alpha, beta) = the prior's pseudo-counts plus exponentially forgotten counts of
/// what dials did.
///
/// Quantiles come from statrs' exact Beta inverse while either count is below
/// [`PersonRate::EXACT_BELOW`], and from a Cornish-Fisher expansion (skewness and kurtosis
/// terms) around the normal approximation above it, whose error there is below 1e-4 for every
/// level in [0.001, 0.999] (checked by a test against statrs). Levels named with
/// [`PersonRate::set_quantiles`] are computed once per observation; reading them is a lookup.
#[derive(Debug, Clone)]
pub struct PersonRate {
    prior_alpha: f64,
    prior_beta: f64,
    half_life_s: f64,
    persons: f64,
    others: f64,
    last_at: Option<Secs>,
    /// The cached levels and their standard normal quantiles.
    levels: Vec<(f64, f64)>,
    cached: Vec<f64>,
}

impl PersonRate {
    /// Below this many (pseudo-)counts on either side quantiles use the exact Beta inverse.
    pub const EXACT_BELOW: f64 = 40.0;

    /// A rate with prior mean `prior_mean` worth `prior_weight` dials, forgetting data with
    /// half-life `half_life_s` (`f64::INFINITY`: never).
    ///
    /// # Panics
    /// If a parameter is out of range (see [`PersonRate::try_new`]).
    pub fn new(prior_mean: f64, prior_weight: f64, half_life_s: f64) -> Self {
        Self::try_new(prior_mean, prior_weight, half_life_s).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`PersonRate::new`], refusing a prior mean outside (0, 1), a prior weight that is not
    /// positive and finite, or a half-life that is not positive.
    pub fn try_new(prior_mean: f64, prior_weight: f64, half_life_s: f64) -> Result<Self, EstimateError> {
        const WHO: &str = "person rate";
        check(
            WHO,
            "prior_mean",
            prior_mean,
            prior_mean > 0.0 && prior_mean < 1.0,
            "strictly between 0 and 1",
        )?;
        check(
            WHO,
            "prior_weight",
            prior_weight,
            prior_weight > 0.0 && prior_weight.is_finite(),
            "positive and finite",
        )?;
        check(
            WHO,
            "half_life_s",
            half_life_s,
            half_life_s > 0.0,
            "positive (infinity: never forget)",
        )?;
        Ok(Self {
            prior_alpha: prior_mean * prior_weight,
            prior_beta: (1.0 - prior_mean) * prior_weight,
            half_life_s,
            persons: 0.0,
            others: 0.0,
            last_at: None,
            levels: Vec::new(),
            cached: Vec::new(),
        })
    }

    /// Names the quantile levels to keep ready (each in (0, 1)); replaces any named before.
    ///
    /// # Panics
    /// If a level is not strictly between 0 and 1.
    pub fn set_quantiles(&mut self, levels: &[f64]) {
        for &q in levels {
            assert!(
                q > 0.0 && q < 1.0,
                "person rate: quantile level {q} must be strictly between 0 and 1"
            );
        }
        self.levels = levels.iter().map(|&q| (q, normal_quantile(q))).collect();
        self.cached = vec![0.0; levels.len()];
        self.refresh();
    }

    /// Learns that a dial resolved at `at`, needing an agent (`person`) or not. The counts so
    /// far shrink by 0.5^(dt / half_life) first; an observation older than the latest one is
    /// counted as if it were the latest.
    pub fn observe(&mut self, person: bool, at: Secs) {
        if let Some(last) = self.last_at {
            let factor = decay(at - last, self.half_life_s);
            self.persons *= factor;
            self.others *= factor;
        }
        self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));
        if person {
            self.persons += 1.0;
        } else {
            self.others += 1.0;
        }
        self.refresh();
    }

    fn refresh(&mut self) {
        let (a, b) = (self.alpha(), self.beta());
        for (slot, &(q, z)) in self.cached.iter_mut().zip(&self.levels) {
            *slot = beta_quantile(a, b, q, z);
        }
    }

    /// The posterior mean: the estimated share of dials that need an agent.
    pub fn mean(&self) -> f64 {
        self.alpha() / (self.alpha() + self.beta())
    }

    /// The posterior's alpha: prior pseudo-persons plus forgotten person counts.
    pub fn alpha(&self) -> f64 {
        self.prior_alpha + self.persons
    }

    /// The posterior's beta: prior pseudo-others plus forgotten other counts.
    pub fn beta(&self) -> f64 {
        self.prior_beta + self.others
    }

    /// How many dials the data (not the prior) is worth after forgetting.
    pub fn effective_count(&self) -> f64 {
        self.persons + self.others
    }

    /// The posterior quantile at level `q` in (0, 1): a lookup for a level named with
    /// [`PersonRate::set_quantiles`], otherwise computed now.
    pub fn quantile(&self, q: f64) -> f64 {
        if let Some(i) = self.levels.iter().position(|&(level, _)| level == q) {
            return self.cached[i];
        }
        beta_quantile(self.alpha(), self.beta(), q, normal_quantile(q))
    }
}

/// The Beta(a, b) quantile at level `q` whose standard normal quantile is `z`.
fn beta_quantile(a: f64, b: f64, q: f64, z: f64) -> f64 {
    if a < PersonRate::EXACT_BELOW || b < PersonRate::EXACT_BELOW {
        return Beta::new(a, b).map_or(f64::NAN, |beta| beta.inverse_cdf(q));
    }
    let n = a + b;
    let mean = a / n;
    let sd = (a * b / (n * n * (n + 1.0))).sqrt();
    let skew = 2.0 * (b - a) * (n + 1.0).sqrt() / ((n + 2.0) * (a * b).sqrt());
    let kurt = 6.0 * ((a - b).powi(2) * (n + 1.0) - a * b * (n + 2.0)) / (a * b * (n + 2.0) * (n + 3.0));
    let z2 = z * z;
    let w =
        z + (z2 - 1.0) * skew / 6.0 + (z2 * z - 3.0 * z) * kurt / 24.0 - (2.0 * z2 * z - 5.0 * z) * skew * skew / 36.0;
    (mean + sd * w).clamp(0.0, 1.0)
}

/// How [`Durations`] cuts the time axis: `linear_bins` bins of `bin_s` seconds, then bins
/// growing by `growth` each (each as wide as a fixed share of where it starts) up to `max_s`;
/// values above `max_s` go to an exponential tail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinLayout {
    /// Width of the fine bins near zero, in seconds.
    pub bin_s: f64,
    /// How many fine bins before the geometric ones.
    pub linear_bins: usize,
    /// The width ratio of successive geometric bins (e.g. 1.03: a bin is 3% of its start).
    pub growth: f64,
    /// Where the bins end and the tail begins, in seconds.
    pub max_s: f64,
}

impl BinLayout {
    /// The most bins a layout may have.
    pub const MAX_BINS: usize = 1024;

    /// 120 bins of `bin_s`, then 3% growth up to `max_s`: with 1-second bins and `max_s` 3600,
    /// 236 bins, exact to the second up to 2 minutes and to 3% beyond.
    pub fn new(bin_s: f64, max_s: f64) -> Self {
        Self {
            bin_s,
            linear_bins: 120,
            growth: 1.03,
            max_s,
        }
    }

    fn edges(&self) -> Result<Vec<f64>, EstimateError> {
        const WHO: &str = "durations";
        check(
            WHO,
            "bin_s",
            self.bin_s,
            self.bin_s > 0.0 && self.bin_s.is_finite(),
            "positive and finite",
        )?;
        check(
            WHO,
            "max_s",
            self.max_s,
            self.max_s > self.bin_s && self.max_s.is_finite(),
            "finite and above bin_s",
        )?;
        check(
            WHO,
            "linear_bins",
            self.linear_bins as f64,
            self.linear_bins >= 1,
            "at least 1",
        )?;
        check(
            WHO,
            "growth",
            self.growth,
            self.growth > 1.0 && self.growth.is_finite(),
            "above 1",
        )?;
        let linear_end = self.linear_end();
        let mut edges = vec![0.0];
        let mut k = 1;
        while *edges.last().expect("edges start with 0") < self.max_s {
            let edge = if k <= self.linear_bins {
                k as f64 * self.bin_s
            } else {
                linear_end * self.growth.powi((k - self.linear_bins) as i32)
            };
            edges.push(edge.min(self.max_s));
            k += 1;
            if edges.len() > Self::MAX_BINS + 1 {
                return Err(EstimateError {
                    estimator: WHO,
                    parameter: "max_s".into(),
                    value: self.max_s,
                    rule: "reachable within 1024 bins (widen bin_s or raise growth)",
                });
            }
        }
        Ok(edges)
    }

    fn linear_end(&self) -> f64 {
        self.linear_bins as f64 * self.bin_s
    }
}

/// A prior for [`Durations`]: what to believe before any data, which never decays.
#[derive(Clone, Copy)]
pub enum Prior<'a> {
    /// No prior: until the first observation every duration is taken as 0.
    None,
    /// Pseudo-observations `(value, weight)`.
    Points(&'a [(f64, f64)]),
    /// A distribution given by its CDF, worth `weight` observations.
    Cdf {
        /// The CDF, in seconds.
        cdf: &'a dyn Fn(f64) -> f64,
        /// How many observations it is worth.
        weight: f64,
    },
}

/// A discounted empirical distribution of a duration, for survival-style queries in O(1).
///
/// The density is taken as uniform within each bin of a [`BinLayout`] and as exponential
/// beyond `max_s`, with the mean excess over `max_s` of the values seen there, so the residual
/// life of a call longer than `max_s` is that mean excess (memoryless), not zero. Weights of
/// observations grow by 2^(t / half_life) instead of old ones shrinking (one multiplication per
/// observation, renormalised when the factor gets large); the prior is kept apart and never
/// decays. After each observation the survival function at the bin edges and its integral are
/// rebuilt (a few hundred adds), so every query is a bin lookup and an interpolation.
///
/// With neither prior nor data, every duration is taken as 0 (`cdf` 1 from 0 on).
#[derive(Debug, Clone)]
pub struct Durations {
    layout: BinLayout,
    ln_growth: f64,
    half_life_s: f64,
    /// Bin edges, `edges[0] = 0` and the last = `max_s`.
    edges: Box<[f64]>,
    prior: Box<[f64]>,
    prior_sum: f64,
    prior_tail: f64,
    prior_tail_excess: f64,
    /// Data weights, scaled by 2^((at - origin) / half_life).
    data: Box<[f64]>,
    data_sum: f64,
    data_tail: f64,
    data_tail_excess: f64,
    origin: Secs,
    latest: Option<Secs>,
    /// Survival at each edge, rebuilt after each change.
    survival: Box<[f64]>,
    /// The integral of survival from each edge to infinity.
    integral: Box<[f64]>,
    /// The mean excess over `max_s` of the tail.
    tail_mean: f64,
    /// The current data scale: data weights are `data * scale`.
    scale: f64,
}

impl Durations {
    /// Renormalise the growing data weights when they pass this factor.
    const RENORMALISE_AT: f64 = 1e100;

    /// Survival below this share counts as none: the estimate has no information there.
    const NO_SURVIVAL: f64 = 1e-12;

    /// A distribution with the default layout ([`BinLayout::new`]) and pseudo-observations
    /// `(value, weight)` as prior (may be empty), forgetting with half-life `half_life_s`.
    ///
    /// # Panics
    /// If a parameter is out of range (see [`Durations::try_with_layout`]).
    pub fn new(bin_s: f64, max_s: f64, half_life_s: f64, prior: &[(f64, f64)]) -> Self {
        Self::try_with_layout(BinLayout::new(bin_s, max_s), half_life_s, Prior::Points(prior))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A distribution with the default layout whose prior is the distribution `cdf`, worth
    /// `weight` observations.
    ///
    /// # Panics
    /// If a parameter is out of range (see [`Durations::try_with_layout`]).
    pub fn from_cdf(bin_s: f64, max_s: f64, half_life_s: f64, cdf: impl Fn(f64) -> f64, weight: f64) -> Self {
        let prior = Prior::Cdf { cdf: &cdf, weight };
        Self::try_with_layout(BinLayout::new(bin_s, max_s), half_life_s, prior).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A distribution on `layout` with `prior`, refusing a bad layout (widths not positive,
    /// more than [`BinLayout::MAX_BINS`] bins), a half-life that is not positive, or prior
    /// values or weights that are negative or not finite.
    pub fn try_with_layout(layout: BinLayout, half_life_s: f64, prior: Prior<'_>) -> Result<Self, EstimateError> {
        const WHO: &str = "durations";
        let edges = layout.edges()?.into_boxed_slice();
        check(
            WHO,
            "half_life_s",
            half_life_s,
            half_life_s > 0.0,
            "positive (infinity: never forget)",
        )?;
        let bins = edges.len() - 1;
        let mut this = Self {
            layout,
            ln_growth: layout.growth.ln(),
            half_life_s,
            prior: vec![0.0; bins].into_boxed_slice(),
            prior_sum: 0.0,
            prior_tail: 0.0,
            prior_tail_excess: 0.0,
            data: vec![0.0; bins].into_boxed_slice(),
            data_sum: 0.0,
            data_tail: 0.0,
            data_tail_excess: 0.0,
            origin: 0.0,
            latest: None,
            survival: vec![0.0; bins + 1].into_boxed_slice(),
            integral: vec![0.0; bins + 1].into_boxed_slice(),
            tail_mean: 0.0,
            scale: 1.0,
            edges,
        };
        match prior {
            Prior::None => {}
            Prior::Points(points) => {
                for (i, &(value, weight)) in points.iter().enumerate() {
                    let ok = value >= 0.0 && value.is_finite();
                    check(
                        WHO,
                        format!("prior[{i}].value"),
                        value,
                        ok,
                        "a finite duration, 0 or more",
                    )?;
                    let ok = weight >= 0.0 && weight.is_finite();
                    check(WHO, format!("prior[{i}].weight"), weight, ok, "finite, 0 or more")?;
                    this.add_prior_point(value, weight);
                }
            }
            Prior::Cdf { cdf, weight } => {
                check(
                    WHO,
                    "prior weight",
                    weight,
                    weight >= 0.0 && weight.is_finite(),
                    "finite, 0 or more",
                )?;
                this.add_prior_cdf(cdf, weight);
            }
        }
        this.rebuild();
        Ok(this)
    }

    fn add_prior_point(&mut self, value: f64, weight: f64) {
        if value > self.layout.max_s {
            self.prior_tail += weight;
            self.prior_tail_excess += weight * (value - self.layout.max_s);
        } else {
            let bin = self.bin_of(value);
            self.prior[bin] += weight;
            self.prior_sum += weight;
        }
    }

    fn add_prior_cdf(&mut self, cdf: &dyn Fn(f64) -> f64, weight: f64) {
        let mut below = 0.0;
        for (bin, upper) in self.edges[1..].iter().enumerate() {
            let at = cdf(*upper).clamp(below, 1.0);
            self.prior[bin] += weight * (at - below);
            self.prior_sum += weight * (at - below);
            below = at;
        }
        let tail = 1.0 - below;
        if tail > 0.0 {
            // The mean excess over max_s: the integral of the survival beyond max_s, by the
            // trapezoid rule on a geometric grid reaching a million times max_s.
            let max = self.layout.max_s;
            let (mut t, mut s, mut area) = (max, tail, 0.0);
            for _ in 0..1500 {
                let next = t * 1.01;
                let s_next = (1.0 - cdf(next)).clamp(0.0, s);
                area += 0.5 * (s + s_next) * (next - t);
                (t, s) = (next, s_next);
                if s <= tail * 1e-12 {
                    break;
                }
            }
            self.prior_tail += weight * tail;
            self.prior_tail_excess += weight * area;
        }
    }

    /// The bin holding `x` (0 <= x <= max_s).
    fn bin_of(&self, x: f64) -> usize {
        let last = self.edges.len() - 2;
        let linear_end = self.layout.linear_end();
        let guess = if x < linear_end {
            (x / self.layout.bin_s) as usize
        } else {
            self.layout.linear_bins + ((x / linear_end).ln() / self.ln_growth) as usize
        };
        // The guess can be one off where rounding puts x against an edge.
        let mut bin = guess.min(last);
        while bin > 0 && x < self.edges[bin] {
            bin -= 1;
        }
        while bin < last && x >= self.edges[bin + 1] {
            bin += 1;
        }
        bin
    }

    /// Learns a duration `value` (seconds) observed at `at`. Negative values count as 0;
    /// values that are not numbers are ignored.
    pub fn observe(&mut self, value: f64, at: Secs) {
        if value.is_nan() {
            return;
        }
        let value = value.max(0.0);
        let latest = match self.latest {
            None => {
                self.origin = at;
                at
            }
            Some(latest) => latest.max(at),
        };
        self.latest = Some(latest);
        // An infinite half-life gives exp2(0) = 1: every observation weighs the same.
        let mut weight = ((at - self.origin) / self.half_life_s).exp2();
        if weight > Self::RENORMALISE_AT {
            self.renormalise(at);
            weight = 1.0;
        }
        if value > self.layout.max_s {
            self.data_tail += weight;
            self.data_tail_excess += weight * (value - self.layout.max_s);
        } else {
            let bin = self.bin_of(value);
            self.data[bin] += weight;
            self.data_sum += weight;
        }
        self.rebuild();
    }

    /// Moves the origin of the data weights to `at`, shrinking them back to ordinary numbers.
    fn renormalise(&mut self, at: Secs) {
        let factor = decay(at - self.origin, self.half_life_s);
        for w in self.data.iter_mut() {
            *w *= factor;
        }
        self.data_sum *= factor;
        self.data_tail *= factor;
        self.data_tail_excess *= factor;
        self.origin = at;
    }

    /// Recomputes survival at the edges, its integrals and the tail mean.
    fn rebuild(&mut self) {
        self.scale = self
            .latest
            .map_or(1.0, |latest| decay(latest - self.origin, self.half_life_s));
        let scale = self.scale;
        let tail = self.prior_tail + self.data_tail * scale;
        let total = self.prior_sum + self.data_sum * scale + tail;
        self.tail_mean = if tail > 0.0 {
            (self.prior_tail_excess + self.data_tail_excess * scale) / tail
        } else {
            0.0
        };
        let bins = self.prior.len();
        if total <= 0.0 {
            self.survival.fill(0.0);
            self.integral.fill(0.0);
            return;
        }
        let inv_total = 1.0 / total;
        let mut below = 0.0;
        self.survival[0] = 1.0;
        for bin in 0..bins {
            below += self.prior[bin] + self.data[bin] * scale;
            self.survival[bin + 1] = (1.0 - below * inv_total).max(0.0);
        }
        // Sums of small weights can leave a crumb where the tail should be empty.
        if tail <= 0.0 {
            self.survival[bins] = 0.0;
        }
        self.integrate();
    }

    /// Recomputes the integrals of survival from the survival at the edges and the tail mean.
    fn integrate(&mut self) {
        let bins = self.prior.len();
        self.integral[bins] = self.survival[bins] * self.tail_mean;
        for bin in (0..bins).rev() {
            let width = self.edges[bin + 1] - self.edges[bin];
            self.integral[bin] = self.integral[bin + 1] + 0.5 * (self.survival[bin] + self.survival[bin + 1]) * width;
        }
    }

    /// The distribution with the durations still running taken into account: a Kaplan-Meier
    /// estimate over the observations (weighed by when they started, so pass `at` = the start
    /// to [`Durations::observe`]) and `ongoing`, the (elapsed, started) of each one running
    /// now, as censored. A copy for queries; it learns nothing more.
    ///
    /// Ended durations alone are the short ones when many start together (a campaign's first
    /// minutes: the refusals end, the interviews go on), and then taken for the whole; with
    /// the running ones in the risk sets, each stretch of starts counts its long durations
    /// too. Bins beyond the longest running and observed durations keep the prior's shape.
    pub fn with_ongoing(&self, ongoing: &[(f64, Secs)]) -> Durations {
        let mut view = self.clone();
        let bins = self.prior.len();
        let scale = self.scale;
        let latest = self.latest.unwrap_or(0.0);
        // Censored weight per bin, and beyond the bins.
        let mut censored = vec![0.0; bins + 1];
        for &(elapsed, started) in ongoing {
            if elapsed.is_nan() || started.is_nan() {
                continue;
            }
            let weight = decay(latest - started, self.half_life_s).min(2.0);
            let slot = if elapsed > self.layout.max_s {
                bins
            } else {
                self.bin_of(elapsed.max(0.0))
            };
            censored[slot] += weight;
        }
        let tail_events = self.prior_tail + self.data_tail * scale;
        // At risk at an edge: every event and every censored duration from there on.
        let mut at_risk = tail_events + censored[bins];
        let mut risk_at = vec![0.0; bins + 1];
        risk_at[bins] = at_risk;
        for bin in (0..bins).rev() {
            at_risk += self.prior[bin] + self.data[bin] * scale + censored[bin];
            risk_at[bin] = at_risk;
        }
        if at_risk <= 0.0 {
            return view;
        }
        view.survival[0] = 1.0;
        for bin in 0..bins {
            let events = self.prior[bin] + self.data[bin] * scale;
            // The censored in a bin were at risk for half of it, on average.
            let exposed = risk_at[bin] - censored[bin] / 2.0;
            let hazard = if exposed > 0.0 {
                (events / exposed).min(1.0)
            } else {
                0.0
            };
            view.survival[bin + 1] = view.survival[bin] * (1.0 - hazard);
        }
        if tail_events <= 0.0 {
            // Nothing ever ended beyond the bins: with durations running there, the tail's
            // mean is at least as long as the longest of them has gone past.
            let longest = ongoing.iter().map(|o| o.0).fold(0.0, f64::max);
            if longest > self.layout.max_s {
                view.tail_mean = longest - self.layout.max_s;
            } else {
                view.survival[bins] = 0.0;
            }
        }
        view.integrate();
        view
    }

    /// P(T > x).
    pub fn survival(&self, x: f64) -> f64 {
        let max = self.layout.max_s;
        if x <= 0.0 {
            return self.survival[0];
        }
        if x >= max {
            let at_max = self.survival[self.survival.len() - 1];
            if at_max <= 0.0 || self.tail_mean <= 0.0 {
                return if x == max { at_max } else { 0.0 };
            }
            return at_max * (-(x - max) / self.tail_mean).exp();
        }
        let bin = self.bin_of(x);
        let (lo, hi) = (self.edges[bin], self.edges[bin + 1]);
        let (s_lo, s_hi) = (self.survival[bin], self.survival[bin + 1]);
        s_lo + (s_hi - s_lo) * (x - lo) / (hi - lo)
    }

    /// P(T <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        1.0 - self.survival(x)
    }

    /// P(T <= elapsed + x | T > elapsed): the chance that something already `elapsed` long ends
    /// within the next `x` seconds. Beyond everything seen (survival 0 and no tail), where the
    /// estimate knows nothing, the rest is taken as exponential with the mean of the local bin
    /// width.
    pub fn conditional_cdf(&self, elapsed: f64, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let alive = self.survival(elapsed);
        if alive <= Self::NO_SURVIVAL {
            return 1.0 - (-x / self.local_width(elapsed)).exp();
        }
        (1.0 - self.survival(elapsed + x) / alive).clamp(0.0, 1.0)
    }

    /// E[T].
    pub fn mean(&self) -> f64 {
        self.integral[0]
    }

    /// E[T - elapsed | T > elapsed]: how much longer something already `elapsed` long lasts on
    /// average. Beyond everything seen (see [`Durations::conditional_cdf`]) the local bin width.
    pub fn mean_residual(&self, elapsed: f64) -> f64 {
        if elapsed <= 0.0 {
            return self.mean() - elapsed;
        }
        let alive = self.survival(elapsed);
        if alive <= Self::NO_SURVIVAL {
            return self.local_width(elapsed);
        }
        let max = self.layout.max_s;
        if elapsed >= max {
            return self.tail_mean;
        }
        let bin = self.bin_of(elapsed);
        let hi = self.edges[bin + 1];
        let area = 0.5 * (alive + self.survival[bin + 1]) * (hi - elapsed) + self.integral[bin + 1];
        area / alive
    }

    /// The width of the bin at `x`, or of the last bin beyond `max_s`: the estimate's resolution.
    fn local_width(&self, x: f64) -> f64 {
        let bin = self.bin_of(x.clamp(0.0, self.layout.max_s));
        self.edges[bin + 1] - self.edges[bin]
    }

    /// The value below which a share `q` of durations fall (`q` in [0, 1]; infinite for 1 with
    /// a tail).
    pub fn quantile(&self, q: f64) -> f64 {
        let target = 1.0 - q.clamp(0.0, 1.0);
        let last = self.survival.len() - 1;
        // survival is non-increasing: the first edge at or below the target closes the bin.
        let k = self.survival.partition_point(|&s| s > target);
        if k == 0 {
            return 0.0;
        }
        if k <= last {
            let (s_lo, s_hi) = (self.survival[k - 1], self.survival[k]);
            let (lo, hi) = (self.edges[k - 1], self.edges[k]);
            return lo + (hi - lo) * (s_lo - target) / (s_lo - s_hi);
        }
        if target <= 0.0 {
            return f64::INFINITY;
        }
        self.layout.max_s + self.tail_mean * (self.survival[last] / target).ln()
    }

    /// How many observations the data (not the prior) is worth after forgetting.
    pub fn count(&self) -> f64 {
        (self.data_sum + self.data_tail) * self.scale
    }

    /// The layout the distribution is binned on.
    pub fn layout(&self) -> &BinLayout {
        &self.layout
    }

    /// How many bins (without the tail).
    pub fn bins(&self) -> usize {
        self.prior.len()
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use statrs::distribution::{Beta, ContinuousCDF, Exp, LogNormal, Uniform};

    use super::*;

    /// Kolmogorov-Smirnov critical value at alpha = 0.001 for `n` samples.
    fn ks_critical(n: f64) -> f64 {
        (-(0.001f64 / 2.0).ln() / 2.0).sqrt() / n.sqrt()
    }

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// A lognormal with the given mean and standard deviation of the variable itself.
    fn lognormal(mean: f64, sd: f64) -> LogNormal {
        let sigma2 = (1.0 + sd * sd / (mean * mean)).ln();
        LogNormal::new(mean.ln() - sigma2 / 2.0, sigma2.sqrt()).unwrap()
    }

    // --- PersonRate -----------------------------------------------------------------------

    #[test]
    fn person_rate_is_the_prior_without_data() {
        let mut rate = PersonRate::new(0.3, 10.0, 600.0);
        assert_eq!((rate.alpha(), rate.beta()), (3.0, 7.0));
        assert!((rate.mean() - 0.3).abs() < 1e-12);
        assert_eq!(rate.effective_count(), 0.0);
        let exact = Beta::new(3.0, 7.0).unwrap();
        for q in [0.01, 0.5, 0.99] {
            assert!((rate.quantile(q) - exact.inverse_cdf(q)).abs() < 1e-9, "q {q}");
        }
        rate.set_quantiles(&[0.01, 0.5, 0.99]);
        assert!((rate.quantile(0.5) - exact.inverse_cdf(0.5)).abs() < 1e-9);
    }

    #[test]
    fn person_rate_forgets_by_half_lives() {
        let mut rate = PersonRate::new(0.5, 2.0, 100.0);
        rate.observe(true, 0.0);
        rate.observe(false, 100.0);
        // The person seen one half-life ago weighs 1/2, the other 1.
        assert!((rate.alpha() - 1.5).abs() < 1e-12);
        assert!((rate.beta() - 2.0).abs() < 1e-12);
        rate.observe(false, 300.0);
        assert!((rate.alpha() - (1.0 + 0.125)).abs() < 1e-12);
        assert!((rate.effective_count() - (0.125 + 0.25 + 1.0)).abs() < 1e-12);
    }

    #[test]
    fn person_rate_converges_to_the_true_share() {
        let (p, half_life) = (0.3, 600.0);
        for seed in 0..5 {
            let mut rng = rng(seed);
            let mut rate = PersonRate::new(0.5, 2.0, half_life);
            let n = 5000;
            for i in 0..n {
                rate.observe(rng.random_bool(p), i as f64);
            }
            // The weights of the observations, and the spread of a weighted Bernoulli mean.
            let weights: Vec<f64> = (0..n).map(|i| 0.5f64.powf((n - 1 - i) as f64 / half_life)).collect();
            let sum: f64 = weights.iter().sum();
            let sum_sq: f64 = weights.iter().map(|w| w * w).sum();
            assert!((rate.effective_count() - sum).abs() < 1e-6 * sum);
            let sd = (p * (1.0 - p) * sum_sq).sqrt() / sum;
            let prior_bias = 0.2 * 2.0 / (sum + 2.0);
            let err = (rate.mean() - p).abs();
            assert!(
                err < 4.0 * sd + prior_bias,
                "seed {seed}: mean {} is {err} off, sd {sd}",
                rate.mean()
            );
        }
    }

    #[test]
    fn person_rate_follows_a_drop_within_a_few_half_lives() {
        let half_life = 120.0;
        let crossing = |half_life: f64, seed: u64| {
            let mut rng = rng(seed);
            let mut rate = PersonRate::new(0.3, 5.0, half_life);
            for t in 0..1800 {
                rate.observe(rng.random_bool(0.3), t as f64);
            }
            (1800..1800 + 3600).find(|&t| {
                rate.observe(rng.random_bool(0.15), t as f64);
                rate.mean() < 0.2
            })
        };
        for seed in 0..10 {
            // Expected at 0.15 + 0.15 * 0.5^(dt / h) = 0.2, i.e. dt = 1.58 half-lives.
            let dt = (crossing(half_life, seed).expect("crossed") - 1800) as f64;
            assert!(
                dt > 0.5 * half_life && dt < 3.0 * half_life,
                "seed {seed}: crossed 0.2 after {dt} s"
            );
        }
        // Without forgetting the old share holds the estimate up far longer.
        let dt = crossing(f64::INFINITY, 0).map_or(f64::INFINITY, |t| (t - 1800) as f64);
        assert!(dt > 3.0 * half_life, "without forgetting it crossed after {dt} s");
    }

    #[test]
    fn person_rate_quantiles_bracket_the_truth_at_their_level() {
        // Draw the true share from the prior, observe dials, and count how often the truth falls
        // below each posterior quantile: for a posterior quantile at level q that happens with
        // probability q exactly (the approximation above EXACT_BELOW included).
        let (runs, levels) = (2000u64, [0.05, 0.5, 0.95]);
        let prior = Beta::new(3.0, 7.0).unwrap();
        for dials in [20, 400] {
            let mut below = [0u32; 3];
            for seed in 0..runs {
                let mut rng = rng(1000 + seed);
                let p: f64 = rng.sample(prior);
                let mut rate = PersonRate::new(0.3, 10.0, f64::INFINITY);
                for i in 0..dials {
                    rate.observe(rng.random_bool(p), i as f64);
                }
                for (count, q) in below.iter_mut().zip(levels) {
                    *count += u32::from(p < rate.quantile(q));
                }
            }
            for (count, q) in below.into_iter().zip(levels) {
                let expected = runs as f64 * q;
                let z = (count as f64 - expected) / (expected * (1.0 - q)).sqrt();
                assert!(
                    z.abs() < 4.0,
                    "{dials} dials: truth below the {q} quantile {count} times of {runs}"
                );
            }
        }
    }

    #[test]
    fn cached_quantiles_equal_computed_ones() {
        let mut rate = PersonRate::new(0.3, 10.0, 300.0);
        rate.set_quantiles(&[0.01, 0.99]);
        let mut rng = rng(7);
        for t in 0..2000 {
            rate.observe(rng.random_bool(0.25), t as f64 * 0.5);
            if t % 97 == 0 {
                for q in [0.01, 0.99] {
                    let computed = beta_quantile(rate.alpha(), rate.beta(), q, normal_quantile(q));
                    assert_eq!(rate.quantile(q), computed);
                }
            }
        }
        assert!(
            rate.alpha() > PersonRate::EXACT_BELOW,
            "the run reaches the approximation"
        );
        assert!(rate.quantile(0.01) < rate.mean() && rate.mean() < rate.quantile(0.99));
    }

    #[test]
    fn beta_quantile_approximation_is_within_its_stated_error() {
        let counts = [40.0, 55.0, 80.0, 150.0, 400.0, 1000.0, 5000.0, 50_000.0];
        let levels = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999];
        let mut worst = 0.0f64;
        for a in counts {
            for b in counts {
                let exact = Beta::new(a, b).unwrap();
                for q in levels {
                    let err = (beta_quantile(a, b, q, normal_quantile(q)) - exact.inverse_cdf(q)).abs();
                    worst = worst.max(err);
                }
            }
        }
        assert!(worst < 1e-4, "worst error {worst}");
    }

    #[test]
    fn person_rate_refuses_bad_parameters() {
        let err = PersonRate::try_new(1.2, 10.0, 60.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "person rate: prior_mean is 1.2, it must be strictly between 0 and 1"
        );
        let err = PersonRate::try_new(0.3, 0.0, 60.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "person rate: prior_weight is 0, it must be positive and finite"
        );
        assert!(PersonRate::try_new(0.3, 1.0, -1.0).is_err());
    }

    // --- Durations ------------------------------------------------------------------------

    #[test]
    fn layout_is_fine_near_zero_and_relative_far_out() {
        let d = Durations::new(1.0, 3600.0, 600.0, &[]);
        assert!(d.bins() > 200 && d.bins() < 260, "{} bins", d.bins());
        for pair in d.edges.windows(2) {
            let width = pair[1] - pair[0];
            assert!(width > 0.0);
            if pair[0] < 120.0 {
                assert!((width - 1.0).abs() < 1e-9);
            } else if pair[1] < 3600.0 {
                assert!((width / pair[0] - 0.03).abs() < 1e-9);
            }
        }
        assert_eq!(*d.edges.last().unwrap(), 3600.0);
        let mut rng = rng(1);
        for _ in 0..10_000 {
            let x = rng.random_range(0.0..3600.0);
            let bin = d.bin_of(x);
            assert!(d.edges[bin] <= x && x < d.edges[bin + 1], "x {x} in bin {bin}");
        }
        for (i, &edge) in d.edges[..d.bins()].iter().enumerate() {
            assert_eq!(d.bin_of(edge), i, "edge {edge}");
        }
    }

    #[test]
    fn prior_points_rule_without_data() {
        let d = Durations::new(1.0, 600.0, 300.0, &[(10.5, 1.0), (30.5, 3.0)]);
        assert_eq!(d.count(), 0.0);
        assert!((d.cdf(10.0) - 0.0).abs() < 1e-12);
        assert!((d.cdf(11.0) - 0.25).abs() < 1e-12);
        assert!((d.cdf(10.5) - 0.125).abs() < 1e-12, "uniform within the bin");
        assert!((d.cdf(31.0) - 1.0).abs() < 1e-12);
        assert!((d.mean() - (0.25 * 10.5 + 0.75 * 30.5)).abs() < 1e-9);
        assert!((d.quantile(0.25) - 11.0).abs() < 1e-9);
        assert!((d.quantile(0.625) - 30.5).abs() < 1e-9);
        // Something 20 s long is one of the 30 s ones: it ends between 10 and 11 s from now.
        assert!((d.mean_residual(20.0) - 10.5).abs() < 1e-9);
        assert!((d.conditional_cdf(20.0, 10.5) - 0.5).abs() < 1e-9);
        // Beyond everything known: exponential with the local bin width (1 s) as mean.
        assert!((d.conditional_cdf(50.0, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-9);
        assert!((d.mean_residual(50.0) - 1.0).abs() < 1e-9);
        // Data outweighs the prior as it comes.
        let mut d = d;
        for _ in 0..400 {
            d.observe(5.5, 100.0);
        }
        assert!((d.count() - 400.0).abs() < 1e-9);
        assert!((d.cdf(6.0) - 400.0 / 404.0).abs() < 1e-12);
    }

    #[test]
    fn no_prior_and_no_data_means_zero() {
        let d = Durations::new(1.0, 60.0, 60.0, &[]);
        assert_eq!(
            (d.cdf(0.0), d.cdf(5.0), d.mean(), d.quantile(0.5)),
            (1.0, 1.0, 0.0, 0.0)
        );
    }

    #[test]
    fn prior_cdf_reproduces_the_distribution_and_its_tail() {
        let exp = |mean: f64| move |x: f64| 1.0 - (-x / mean).exp();
        // Nearly all within max_s.
        let d = Durations::from_cdf(1.0, 600.0, 300.0, exp(60.0), 50.0);
        for x in [0.5, 3.0, 30.0, 60.0, 150.0, 400.0] {
            assert!((d.cdf(x) - exp(60.0)(x)).abs() < 1e-3, "cdf({x}) = {}", d.cdf(x));
        }
        assert!((d.mean() - 60.0).abs() < 0.05, "mean {}", d.mean());
        // A heavy tail beyond max_s: the tail's mean excess comes from the integrated cdf.
        let d = Durations::from_cdf(1.0, 120.0, 300.0, exp(60.0), 50.0);
        assert!((d.mean() - 60.0).abs() < 0.05, "mean {}", d.mean());
        assert!(
            (d.mean_residual(500.0) - 60.0).abs() < 0.1,
            "residual {}",
            d.mean_residual(500.0)
        );
        assert!((d.cdf(300.0) - exp(60.0)(300.0)).abs() < 1e-4);
        assert!((d.quantile(0.99) - 60.0 * 100f64.ln()).abs() < 0.1);
    }

    /// Checks an estimate from `n` samples of `dist` against its truth: Kolmogorov-Smirnov at
    /// the bin edges (where the estimate is the empirical CDF exactly), within `interp` between
    /// them, the mean within 4 standard errors plus `mean_slack`, and quantiles.
    fn check_convergence<D>(name: &str, dist: D, true_mean: f64, true_sd: f64, d: &mut Durations, mean_slack: f64)
    where
        D: ContinuousCDF<f64, f64> + rand::distr::Distribution<f64> + Copy,
    {
        let n = 20_000;
        let mut rng = rng(42);
        for i in 0..n {
            d.observe(rng.sample(dist), i as f64 * 0.1);
        }
        let crit = ks_critical(n as f64);
        let at_edges = d
            .edges
            .iter()
            .map(|&e| (d.cdf(e) - dist.cdf(e)).abs())
            .fold(0.0, f64::max);
        assert!(at_edges < crit, "{name}: KS {at_edges} at the edges, critical {crit}");
        let interp = 0.002;
        for pair in d.edges.windows(2) {
            let mid = 0.5 * (pair[0] + pair[1]);
            let err = (d.cdf(mid) - dist.cdf(mid)).abs();
            assert!(err < crit + interp, "{name}: cdf({mid}) is {err} off");
        }
        let err = (d.mean() - true_mean).abs();
        assert!(
            err < 4.0 * true_sd / (n as f64).sqrt() + mean_slack,
            "{name}: mean {} vs {true_mean}",
            d.mean()
        );
        for q in [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] {
            let x = d.quantile(q);
            assert!(
                (dist.cdf(x) - q).abs() < crit + interp,
                "{name}: quantile({q}) = {x} has cdf {}",
                dist.cdf(x)
            );
        }
    }

    #[test]
    fn durations_converge_to_uniform_lognormal_and_exponential() {
        let forever = f64::INFINITY;
        let uniform = Uniform::new(4.0, 20.0).unwrap();
        let mut d = Durations::new(0.25, 60.0, forever, &[]);
        check_convergence("uniform", uniform, 12.0, 16.0 / 12f64.sqrt(), &mut d, 0.0);

        let talk = lognormal(120.0, 120.0);
        let mut d = Durations::new(1.0, 3600.0, forever, &[]);
        check_convergence("lognormal talk", talk, 120.0, 120.0, &mut d, 0.5);

        let survey = lognormal(900.0, 300.0);
        let mut d = Durations::new(1.0, 3600.0, forever, &[]);
        check_convergence("lognormal survey", survey, 900.0, 300.0, &mut d, 2.0);

        // A fifth of it beyond max_s, in the exponential tail.
        let exp = Exp::new(1.0 / 60.0).unwrap();
        let mut d = Durations::new(1.0, 100.0, forever, &[]);
        check_convergence("exponential", exp, 60.0, 60.0, &mut d, 0.2);
    }

    #[test]
    fn exponential_estimate_is_memoryless() {
        let (mean, n) = (60.0, 20_000);
        let exp = Exp::new(1.0 / mean).unwrap();
        let mut d = Durations::new(1.0, 600.0, f64::INFINITY, &[]);
        let mut rng = rng(3);
        for i in 0..n {
            d.observe(rng.sample(exp), i as f64);
        }
        for elapsed in [0.0, 30.0, 60.0, 120.0, 240.0] {
            let alive = n as f64 * (-elapsed / mean).exp();
            for x in [10.0, 30.0, 60.0] {
                let truth = 1.0 - (-x / mean).exp();
                let se = (truth * (1.0 - truth) / alive).sqrt();
                let got = d.conditional_cdf(elapsed, x);
                assert!(
                    (got - truth).abs() < 4.0 * se + 0.005,
                    "P(T <= {elapsed} + {x} | T > {elapsed}) = {got}"
                );
            }
            let residual = d.mean_residual(elapsed);
            assert!(
                (residual - mean).abs() < 4.0 * mean / alive.sqrt() + 1.0,
                "residual at {elapsed}: {residual}"
            );
        }
    }

    #[test]
    fn long_calls_get_the_tail_not_nonsense() {
        let (mean, n) = (600.0, 20_000);
        let exp = Exp::new(1.0 / mean).unwrap();
        let mut d = Durations::new(1.0, 300.0, f64::INFINITY, &[]);
        let mut rng = rng(4);
        for i in 0..n {
            d.observe(rng.sample(exp), i as f64);
        }
        let in_tail = n as f64 * (-300.0 / mean).exp();
        for elapsed in [300.0, 1000.0, 5000.0] {
            let residual = d.mean_residual(elapsed);
            assert!(
                (residual - mean).abs() < 4.0 * mean / in_tail.sqrt(),
                "residual at {elapsed}: {residual}"
            );
            let truth = 1.0 - (-0.5f64).exp();
            let got = d.conditional_cdf(elapsed, 300.0);
            assert!(
                (got - truth).abs() < 4.0 * (truth * (1.0 - truth) / in_tail).sqrt(),
                "{got}"
            );
        }
        assert!((d.mean() - mean).abs() < 4.0 * mean / (n as f64).sqrt() + 1.0);
        let crit = ks_critical(n as f64);
        for q in [0.5, 0.9, 0.99] {
            assert!(
                (exp.cdf(d.quantile(q)) - q).abs() < crit,
                "quantile({q}) = {}",
                d.quantile(q)
            );
        }
        assert!((d.survival(3000.0) - (-5.0f64).exp()).abs() < crit);
        assert_eq!(d.quantile(1.0), f64::INFINITY);
    }

    #[test]
    fn durations_follow_a_switch_within_a_few_half_lives() {
        let half_life = 300.0;
        for seed in 0..5 {
            let mut rng = rng(seed);
            let mut d = Durations::new(0.5, 120.0, half_life, &[(10.0, 5.0)]);
            for t in 0..3000 {
                d.observe(rng.random_range(4.0..20.0), t as f64);
            }
            assert!(d.quantile(0.5) < 20.0);
            let crossed = (3000..3000 + 3600)
                .find(|&t| {
                    d.observe(rng.random_range(30.0..40.0), t as f64);
                    d.quantile(0.5) > 25.0
                })
                .expect("crossed");
            // The old share falls below a half after one half-life.
            let dt = (crossed - 3000) as f64;
            assert!(
                dt > 0.5 * half_life && dt < 2.0 * half_life,
                "seed {seed}: median moved after {dt} s"
            );
        }
    }

    /// Talk times of a survey: 60% refusals around a minute, 40% interviews around 15.
    fn survey_talk(rng: &mut ChaCha8Rng) -> f64 {
        if rng.random::<f64>() < 0.6 {
            rng.sample(lognormal(60.0, 30.0))
        } else {
            rng.sample(lognormal(900.0, 300.0))
        }
    }

    fn survey_survival(x: f64) -> f64 {
        0.6 * (1.0 - lognormal(60.0, 30.0).cdf(x)) + 0.4 * (1.0 - lognormal(900.0, 300.0).cdf(x))
    }

    /// Calls started at `starts`, seen at `now`: the ended ones observed (weighed by start),
    /// and the (elapsed, started) of those still running.
    fn calls_seen_at(starts: &[f64], now: f64, seed: u64) -> (Durations, Vec<(f64, Secs)>) {
        let mut rng = rng(seed);
        let prior = lognormal(180.0, 360.0);
        let mut d = Durations::from_cdf(1.0, 7200.0, 3600.0, |x| prior.cdf(x), 5.0);
        let mut ongoing = Vec::new();
        for &start in starts {
            let talk = survey_talk(&mut rng);
            if start + talk <= now {
                d.observe(talk, start);
            } else {
                ongoing.push((now - start, start));
            }
        }
        (d, ongoing)
    }

    #[test]
    fn running_durations_keep_the_long_ones_in_the_estimate() {
        // A campaign's first 100 seconds: 1,000 calls bridged, seen 200 s in. The ended ones
        // are nearly all refusals; with the running ones counted, the interviews are there.
        let starts: Vec<f64> = (0..1000).map(|i| f64::from(i) / 10.0).collect();
        for seed in 0..5 {
            let (ended, ongoing) = calls_seen_at(&starts, 200.0, seed);
            let view = ended.with_ongoing(&ongoing);
            let (truth, plain, counted) = (survey_survival(150.0), ended.survival(150.0), view.survival(150.0));
            assert!(plain < 0.1, "seed {seed}: the ended calls alone say {plain}");
            assert!((counted - truth).abs() < 0.05, "seed {seed}: {counted} against {truth}");
            let (truth, counted) = (survey_survival(60.0), view.survival(60.0));
            assert!(
                (counted - truth).abs() < 0.05,
                "seed {seed}: at 60 s {counted} against {truth}"
            );
            // A call 150 s in is an interview: unlikely to end in the next ring period, as the
            // ended calls alone would have it.
            let (plain, counted) = (ended.conditional_cdf(150.0, 27.0), view.conditional_cdf(150.0, 27.0));
            assert!(
                plain > 0.05 && counted < 0.04,
                "seed {seed}: {plain} alone, {counted} with the running"
            );
        }
        // In a steady flow (a call every 2 s for five hours) both agree with the truth.
        let starts: Vec<f64> = (0..9000).map(|i| f64::from(i) * 2.0).collect();
        let (ended, ongoing) = calls_seen_at(&starts, 18_000.0, 7);
        let view = ended.with_ongoing(&ongoing);
        for x in [30.0, 60.0, 120.0, 600.0, 900.0] {
            let truth = survey_survival(x);
            assert!(
                (view.survival(x) - truth).abs() < 0.05,
                "at {x}: {} against {truth}",
                view.survival(x)
            );
            assert!(
                (ended.survival(x) - truth).abs() < 0.08,
                "at {x}: {} against {truth}",
                ended.survival(x)
            );
        }
    }

    #[test]
    fn cohorts_release_each_dial_once_its_moment_has_closed() {
        let mut c = Cohorts::default();
        // Resolved in the order quick outcomes come: the later dial first.
        c.hold(Pending {
            dialed_at: 2.0,
            at: 3.0,
            person: false,
        });
        c.hold(Pending {
            dialed_at: 0.0,
            at: 20.0,
            person: true,
        });
        c.hold(Pending {
            dialed_at: 1.0,
            at: 26.0,
            person: false,
        });
        assert_eq!(c.release(-1.0), None);
        assert_eq!(c.release(1.5).map(|p| p.dialed_at), Some(0.0));
        assert_eq!(c.release(1.5).map(|p| p.dialed_at), Some(1.0));
        assert_eq!(c.release(1.5), None);
        assert_eq!(c.len(), 1);
        assert_eq!(c.release(2.0).map(|p| p.at), Some(3.0));
        assert!(c.is_empty());
    }

    #[test]
    fn forgetting_survives_very_long_runs() {
        let half_life = 10.0;
        let mut d = Durations::new(1.0, 30.0, half_life, &[(1.0, 1.0)]);
        for t in 0..100_000 {
            d.observe(if t % 2 == 0 { 5.5 } else { 15.5 }, t as f64);
        }
        // One observation a second with half-life h weighs 1 / (1 - 2^(-1/h)) in all.
        let expected = 1.0 / (1.0 - 0.5f64.powf(1.0 / half_life));
        assert!((d.count() - expected).abs() < 1e-6 * expected, "count {}", d.count());
        assert!((d.mean() - 10.5).abs() < 0.5, "mean {}", d.mean());
        assert!(d.survival.iter().chain(d.integral.iter()).all(|v| v.is_finite()));
    }

    #[test]
    fn durations_refuse_bad_parameters() {
        let err = Durations::try_with_layout(BinLayout::new(0.0, 60.0), 60.0, Prior::None).unwrap_err();
        assert_eq!(err.to_string(), "durations: bin_s is 0, it must be positive and finite");
        let err = Durations::try_with_layout(
            BinLayout::new(1.0, 60.0),
            60.0,
            Prior::Points(&[(5.0, 1.0), (-2.0, 1.0)]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "durations: prior[1].value is -2, it must be a finite duration, 0 or more"
        );
        let layout = BinLayout {
            growth: 1.001,
            ..BinLayout::new(1.0, 3600.0)
        };
        let Err(err) = Durations::try_with_layout(layout, 60.0, Prior::None) else {
            panic!("a layout of over 1024 bins was accepted");
        };
        assert!(err.to_string().contains("1024 bins"), "{err}");
    }
}
