//! Distributions of durations in seconds (delays, talk, wrap-up), as scenario files give them.
//!
//! A [`Dist`] is written as an inline TOML table tagged by `dist`:
//! `{ dist = "lognormal", mean = 120, sd = 120 }`. It samples (never below 0), and knows its
//! mean, variance and CDF, so that tests and the pacer's priors can use the same figures the
//! simulator draws from. Whatever sampling needs (the log-normal's mu and sigma, the gamma
//! sampler, a mixture's cumulative weights) is worked out once when the `Dist` is built.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, StandardNormal};
use serde::{Deserialize, Serialize};

/// A distribution of a duration in seconds.
///
/// Build it with the constructors ([`Dist::lognormal`]...) or by deserialising it; the
/// variants with prepared figures cannot be built by hand, so those figures always match the
/// parameters. Parameters are not checked on construction: [`Dist::check`] says what is wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DistSpec", into = "DistSpec")]
pub enum Dist {
    /// Always `value`.
    Fixed {
        /// The value.
        value: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// The mean.
        mean: f64,
    },
    /// Log-normal given by the mean and standard deviation of the variable itself.
    Lognormal {
        /// The mean of the variable.
        mean: f64,
        /// The standard deviation of the variable.
        sd: f64,
        /// mu and sigma of its logarithm.
        log: LogParams,
    },
    /// Gamma with a shape and a scale (mean = shape * scale).
    Gamma {
        /// The shape (k).
        shape: f64,
        /// The scale (theta).
        scale: f64,
        /// The prepared sampler.
        sampler: GammaSampler,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// The lower bound.
        min: f64,
        /// The upper bound.
        max: f64,
    },
    /// A weighted mixture of other distributions.
    Mixture(Mixture),
}

/// mu and sigma of the logarithm of a log-normal variable, derived from its mean and sd.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogParams {
    mu: f64,
    sigma: f64,
}

impl LogParams {
    fn new(mean: f64, sd: f64) -> Self {
        let sigma2 = (1.0 + (sd * sd) / (mean * mean)).ln();
        Self {
            mu: mean.ln() - sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        }
    }

    /// The mean of the logarithm.
    pub fn mu(&self) -> f64 {
        self.mu
    }

    /// The standard deviation of the logarithm.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }
}

/// A gamma sampler built once from shape and scale (`None` when they are invalid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaSampler(Option<rand_distr::Gamma<f64>>);

/// One part of a [`Mixture`]: a distribution and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The weight, relative to the sum of the weights.
    pub weight: f64,
    /// The distribution.
    pub dist: Dist,
}

/// A weighted mixture, with its cumulative normalised weights prepared for sampling.
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    parts: Vec<Part>,
    /// Cumulative weights divided by their sum; the last is 1.
    cumulative: Vec<f64>,
}

impl Mixture {
    fn new(parts: Vec<Part>) -> Self {
        let total: f64 = parts.iter().map(|p| p.weight).sum();
        let mut acc = 0.0;
        let cumulative = parts
            .iter()
            .map(|p| {
                acc += p.weight;
                acc / total
            })
            .collect();
        Self { parts, cumulative }
    }

    /// The parts, as given.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The weights normalised by their sum, in the order of the parts.
    pub fn shares(&self) -> impl Iterator<Item = f64> + '_ {
        let mut previous = 0.0;
        self.cumulative.iter().map(move |&c| {
            let share = c - previous;
            previous = c;
            share
        })
    }
}

impl Dist {
    /// Always `value` seconds.
    pub fn fixed(value: f64) -> Self {
        Dist::Fixed { value }
    }

    /// Exponential with this mean.
    pub fn exponential(mean: f64) -> Self {
        Dist::Exponential { mean }
    }

    /// Log-normal with this mean and standard deviation (of the variable, not of its log).
    pub fn lognormal(mean: f64, sd: f64) -> Self {
        Dist::Lognormal {
            mean,
            sd,
            log: LogParams::new(mean, sd),
        }
    }

    /// Gamma with this shape and scale.
    pub fn gamma(shape: f64, scale: f64) -> Self {
        let sampler = GammaSampler(rand_distr::Gamma::new(shape, scale).ok());
        Dist::Gamma { shape, scale, sampler }
    }

    /// Uniform between `min` and `max`.
    pub fn uniform(min: f64, max: f64) -> Self {
        Dist::Uniform { min, max }
    }

    /// A mixture of `(weight, distribution)` parts; weights are normalised by their sum.
    pub fn mixture(parts: impl IntoIterator<Item = (f64, Dist)>) -> Self {
        Dist::Mixture(Mixture::new(
            parts.into_iter().map(|(weight, dist)| Part { weight, dist }).collect(),
        ))
    }

    /// The name used in scenario files (`dist = "..."`).
    pub fn kind(&self) -> &'static str {
        match self {
            Dist::Fixed { .. } => "fixed",
            Dist::Exponential { .. } => "exponential",
            Dist::Lognormal { .. } => "lognormal",
            Dist::Gamma { .. } => "gamma",
            Dist::Uniform { .. } => "uniform",
            Dist::Mixture(_) => "mixture",
        }
    }

    /// Draws one value in seconds, never negative (nor NaN, even with parameters that
    /// [`Dist::check`] refuses).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let x = match self {
            Dist::Fixed { value } => *value,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Dist::Lognormal { log, .. } => {
                let z: f64 = StandardNormal.sample(rng);
                (log.mu + log.sigma * z).exp()
            }
            Dist::Gamma { sampler, .. } => sampler.0.map_or(0.0, |g| g.sample(rng)),
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Mixture(m) => {
                let u: f64 = rng.random();
                // Rounding can leave the last cumulative weight a hair below 1: fall to the last part.
                let i = m
                    .cumulative
                    .iter()
                    .position(|&c| u < c)
                    .unwrap_or(m.parts.len().saturating_sub(1));
                m.parts.get(i).map_or(0.0, |p| p.dist.sample(rng))
            }
        };
        // `max` also turns NaN into 0.
        x.max(0.0)
    }

    /// The mean in seconds.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Fixed { value } => *value,
            Dist::Exponential { mean } | Dist::Lognormal { mean, .. } => *mean,
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Mixture(m) => m.shares().zip(&m.parts).map(|(w, p)| w * p.dist.mean()).sum(),
        }
    }

    /// The variance in seconds squared.
    pub fn variance(&self) -> f64 {
        match self {
            Dist::Fixed { .. } => 0.0,
            Dist::Exponential { mean } => mean * mean,
            Dist::Lognormal { sd, .. } => sd * sd,
            Dist::Gamma { shape, scale, .. } => shape * scale * scale,
            Dist::Uniform { min, max } => (max - min) * (max - min) / 12.0,
            Dist::Mixture(m) => {
                let second_moment: f64 = m
                    .shares()
                    .zip(&m.parts)
                    .map(|(w, p)| {
                        let mean = p.dist.mean();
                        w * (p.dist.variance() + mean * mean)
                    })
                    .sum();
                let mean = self.mean();
                second_moment - mean * mean
            }
        }
    }

    /// P(X <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        match self {
            Dist::Fixed { value } => f64::from(u8::from(x >= *value)),
            Dist::Exponential { mean } => {
                if x <= 0.0 {
                    0.0
                } else {
                    -(-x / mean).exp_m1()
                }
            }
            Dist::Lognormal { log, .. } => {
                if x <= 0.0 {
                    0.0
                } else {
                    0.5 * statrs::function::erf::erfc(-(x.ln() - log.mu) / (log.sigma * std::f64::consts::SQRT_2))
                }
            }
            Dist::Gamma { shape, scale, .. } => {
                if x <= 0.0 {
                    0.0
                } else {
                    statrs::function::gamma::checked_gamma_lr(*shape, x / scale).unwrap_or(f64::NAN)
                }
            }
            Dist::Uniform { min, max } => {
                if x < *min {
                    0.0
                } else if x >= *max {
                    1.0
                } else {
                    (x - min) / (max - min)
                }
            }
            Dist::Mixture(m) => m.shares().zip(&m.parts).map(|(w, p)| w * p.dist.cdf(x)).sum(),
        }
    }

    /// Checks the parameters; the message starts with `at`, the key the distribution was read
    /// from (e.g. `talk_time_s.parts[1]: sd must be above 0, it is 0.0`).
    pub fn check(&self, at: &str) -> Result<(), String> {
        self.check_at(at).map_err(|(key, why)| format!("{key}: {why}"))
    }

    /// Like [`Dist::check`], with the key and the reason apart.
    pub(crate) fn check_at(&self, at: &str) -> Result<(), (String, String)> {
        let fail = |why: String| Err((at.to_owned(), why));
        match self {
            Dist::Fixed { value } => at_least_zero(at, "value", *value),
            Dist::Exponential { mean } => above_zero(at, "mean", *mean),
            Dist::Lognormal { mean, sd, .. } => {
                above_zero(at, "mean", *mean)?;
                above_zero(at, "sd", *sd)
            }
            Dist::Gamma { shape, scale, .. } => {
                above_zero(at, "shape", *shape)?;
                above_zero(at, "scale", *scale)
            }
            Dist::Uniform { min, max } => {
                at_least_zero(at, "min", *min)?;
                finite(at, "max", *max)?;
                if min > max {
                    return fail(format!("min {} is above max {}", num(*min), num(*max)));
                }
                Ok(())
            }
            Dist::Mixture(m) => {
                if m.parts.is_empty() {
                    return fail("a mixture needs at least one part in `parts`".to_owned());
                }
                for (i, part) in m.parts.iter().enumerate() {
                    let at = format!("{at}.parts[{i}]");
                    above_zero(&at, "weight", part.weight)?;
                    part.dist.check_at(&at)?;
                }
                Ok(())
            }
        }
    }
}

fn finite(at: &str, key: &str, value: f64) -> Result<(), (String, String)> {
    if value.is_finite() {
        Ok(())
    } else {
        Err((at.to_owned(), format!("{key} must be a finite number, it is {value}")))
    }
}

fn above_zero(at: &str, key: &str, value: f64) -> Result<(), (String, String)> {
    finite(at, key, value)?;
    if value > 0.0 {
        Ok(())
    } else {
        Err((at.to_owned(), format!("{key} must be above 0, it is {}", num(value))))
    }
}

fn at_least_zero(at: &str, key: &str, value: f64) -> Result<(), (String, String)> {
    finite(at, key, value)?;
    if value >= 0.0 {
        Ok(())
    } else {
        Err((at.to_owned(), format!("{key} must be 0 or more, it is {}", num(value))))
    }
}

/// A number for a message: rounded to nine decimals so that sums like 0.30 + 0.65 read 0.95,
/// and always with a decimal point ("2.0", not "2").
pub(crate) fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{:?}", (x * 1e9).round() / 1e9)
    } else {
        format!("{x}")
    }
}

/// The file form of a [`Dist`]: parameters only, as written in scenario files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
enum DistSpec {
    Fixed { value: f64 },
    Exponential { mean: f64 },
    Lognormal { mean: f64, sd: f64 },
    Gamma { shape: f64, scale: f64 },
    Uniform { min: f64, max: f64 },
    Mixture { parts: Vec<PartSpec> },
}

/// One part of a mixture in a file: `{ weight = 0.6, dist = "lognormal", mean = 60, sd = 30 }`.
/// Unknown keys are refused by the flattened [`DistSpec`], which sees every key but `weight`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartSpec {
    weight: f64,
    #[serde(flatten)]
    dist: DistSpec,
}

impl From<DistSpec> for Dist {
    fn from(spec: DistSpec) -> Self {
        match spec {
            DistSpec::Fixed { value } => Dist::fixed(value),
            DistSpec::Exponential { mean } => Dist::exponential(mean),
            DistSpec::Lognormal { mean, sd } => Dist::lognormal(mean, sd),
            DistSpec::Gamma { shape, scale } => Dist::gamma(shape, scale),
            DistSpec::Uniform { min, max } => Dist::uniform(min, max),
            DistSpec::Mixture { parts } => Dist::mixture(parts.into_iter().map(|p| (p.weight, p.dist.into()))),
        }
    }
}

impl From<Dist> for DistSpec {
    fn from(dist: Dist) -> Self {
        match dist {
            Dist::Fixed { value } => DistSpec::Fixed { value },
            Dist::Exponential { mean } => DistSpec::Exponential { mean },
            Dist::Lognormal { mean, sd, .. } => DistSpec::Lognormal { mean, sd },
            Dist::Gamma { shape, scale, .. } => DistSpec::Gamma { shape, scale },
            Dist::Uniform { min, max } => DistSpec::Uniform { min, max },
            Dist::Mixture(m) => DistSpec::Mixture {
                parts: m
                    .parts
                    .into_iter()
                    .map(|p| PartSpec {
                        weight: p.weight,
                        dist: p.dist.into(),
                    })
                    .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use serde::Deserialize;

    use super::*;

    const N: usize = 20_000;

    #[derive(Deserialize)]
    struct Holder {
        d: Dist,
    }

    fn parse(inline: &str) -> Result<Dist, String> {
        toml::from_str::<Holder>(&format!("d = {inline}"))
            .map(|h| h.d)
            .map_err(|e| e.to_string())
    }

    /// Kolmogorov-Smirnov distance between the samples' empirical CDF and `dist.cdf`, looking
    /// at both sides of every jump so that point masses (fixed values) are judged fairly.
    fn ks_distance(dist: &Dist, samples: &mut [f64]) -> f64 {
        samples.sort_by(f64::total_cmp);
        let n = samples.len() as f64;
        let mut d: f64 = 0.0;
        let mut i = 0;
        while i < samples.len() {
            let x = samples[i];
            let mut j = i;
            while j < samples.len() && samples[j] == x {
                j += 1;
            }
            let below = i as f64 / n; // empirical P(X < x)
            let at_or_below = j as f64 / n; // empirical P(X <= x)
            d = d
                .max((at_or_below - dist.cdf(x)).abs())
                .max((below - dist.cdf(x.next_down())).abs());
            i = j;
        }
        d
    }

    /// The KS critical value for alpha = 0.001: sqrt(-ln(alpha / 2) / 2) / sqrt(n).
    fn ks_critical(n: usize) -> f64 {
        (-(0.001f64 / 2.0).ln() / 2.0).sqrt() / (n as f64).sqrt()
    }

    /// Draws N samples with a fixed seed; checks them against `cdf` (KS, alpha = 0.001) and
    /// against `mean()` (within 4 standard errors, from `variance()`).
    fn check_fit(dist: &Dist, seed: u64) {
        assert_eq!(dist.check("d"), Ok(()));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut samples: Vec<f64> = (0..N).map(|_| dist.sample(&mut rng)).collect();
        assert!(
            samples.iter().all(|&x| x >= 0.0 && x.is_finite()),
            "{dist:?}: negative or NaN sample"
        );
        let sample_mean = samples.iter().sum::<f64>() / N as f64;
        let se = (dist.variance() / N as f64).sqrt();
        assert!(
            (sample_mean - dist.mean()).abs() <= 4.0 * se + 1e-12,
            "{dist:?}: sample mean {sample_mean} is more than 4 standard errors ({se}) from {}",
            dist.mean()
        );
        let d = ks_distance(dist, &mut samples);
        assert!(
            d < ks_critical(N),
            "{dist:?}: KS distance {d} is above the critical {}",
            ks_critical(N)
        );
    }

    #[test]
    fn every_kind_samples_its_cdf_and_mean() {
        let cases = [
            "{ dist = \"fixed\", value = 10 }",
            "{ dist = \"exponential\", mean = 30 }",
            "{ dist = \"lognormal\", mean = 120, sd = 120 }",
            "{ dist = \"lognormal\", mean = 10, sd = 4 }",
            "{ dist = \"gamma\", shape = 2, scale = 30 }",
            "{ dist = \"gamma\", shape = 0.5, scale = 10 }",
            "{ dist = \"uniform\", min = 4, max = 20 }",
            "{ dist = \"mixture\", parts = [ { weight = 0.6, dist = \"lognormal\", mean = 60, sd = 30 }, \
             { weight = 0.4, dist = \"lognormal\", mean = 900, sd = 300 } ] }",
            "{ dist = \"mixture\", parts = [ { weight = 3, dist = \"fixed\", value = 5 }, \
             { weight = 1, dist = \"uniform\", min = 0, max = 10 } ] }",
        ];
        for (seed, case) in cases.iter().enumerate() {
            check_fit(&parse(case).unwrap(), seed as u64);
        }
    }

    #[test]
    fn the_ks_check_catches_a_wrong_sampler() {
        // The test above would fail if sampling and cdf disagreed: a log-normal with sd 100
        // judged against the cdf of sd 120 is refused.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut samples: Vec<f64> = (0..N).map(|_| Dist::lognormal(120.0, 100.0).sample(&mut rng)).collect();
        assert!(ks_distance(&Dist::lognormal(120.0, 120.0), &mut samples) > ks_critical(N));
    }

    #[test]
    fn cdfs_match_closed_forms() {
        // Log-normal with mean = sd: sigma^2 = ln 2, so the median is mean / sqrt(2).
        let l = Dist::lognormal(120.0, 120.0);
        assert!((l.cdf(120.0 / 2f64.sqrt()) - 0.5).abs() < 1e-12);
        let Dist::Lognormal { log, .. } = l else { unreachable!() };
        assert!((log.sigma() * log.sigma() - 2f64.ln()).abs() < 1e-12);
        assert!((log.mu() - (120f64.ln() - 2f64.ln() / 2.0)).abs() < 1e-12);
        // Gamma of shape 2: 1 - e^(-x/theta) (1 + x/theta).
        let g = Dist::gamma(2.0, 30.0);
        for x in [1.0, 30.0, 75.0, 300.0] {
            let t: f64 = x / 30.0;
            assert!((g.cdf(x) - (1.0 - (-t).exp() * (1.0 + t))).abs() < 1e-12);
        }
        let e = Dist::exponential(30.0);
        assert!((e.cdf(30.0) - (1.0 - (-1f64).exp())).abs() < 1e-15);
        assert_eq!(e.cdf(-1.0), 0.0);
        let u = Dist::uniform(4.0, 20.0);
        assert_eq!((u.cdf(3.0), u.cdf(12.0), u.cdf(20.0)), (0.0, 0.5, 1.0));
        let f = Dist::fixed(10.0);
        assert_eq!((f.cdf(9.999), f.cdf(10.0)), (0.0, 1.0));
        let m = Dist::mixture([(3.0, Dist::fixed(5.0)), (1.0, Dist::uniform(0.0, 10.0))]);
        assert!((m.cdf(5.0) - (0.75 + 0.25 * 0.5)).abs() < 1e-15);
        assert!((m.mean() - 5.0).abs() < 1e-12);
        // Var = E[Var | part] + Var[E | part] = 0.25 * 100/12 + 0.
        assert!((m.variance() - 0.25 * 100.0 / 12.0).abs() < 1e-12);
    }

    #[test]
    fn survey_mixture_has_the_documented_mean() {
        let m = parse(
            "{ dist = \"mixture\", parts = [ { weight = 0.6, dist = \"lognormal\", mean = 60, sd = 30 }, \
             { weight = 0.4, dist = \"lognormal\", mean = 900, sd = 300 } ] }",
        )
        .unwrap();
        assert!((m.mean() - (0.6 * 60.0 + 0.4 * 900.0)).abs() < 1e-9);
        let Dist::Mixture(mix) = &m else { unreachable!() };
        assert_eq!(mix.parts().len(), 2);
        let shares: Vec<f64> = mix.shares().collect();
        assert!((shares[0] - 0.6).abs() < 1e-12 && (shares[1] - 0.4).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            (
                "{ dist = \"lognormal\", mean = 60, sd = 0 }",
                "d: sd must be above 0, it is 0.0",
            ),
            (
                "{ dist = \"lognormal\", mean = -1, sd = 3 }",
                "d: mean must be above 0, it is -1.0",
            ),
            (
                "{ dist = \"exponential\", mean = 0 }",
                "d: mean must be above 0, it is 0.0",
            ),
            (
                "{ dist = \"gamma\", shape = 0, scale = 3 }",
                "d: shape must be above 0, it is 0.0",
            ),
            (
                "{ dist = \"gamma\", shape = 2, scale = -3 }",
                "d: scale must be above 0, it is -3.0",
            ),
            (
                "{ dist = \"uniform\", min = 20, max = 4 }",
                "d: min 20.0 is above max 4.0",
            ),
            (
                "{ dist = \"uniform\", min = -1, max = 4 }",
                "d: min must be 0 or more, it is -1.0",
            ),
            (
                "{ dist = \"fixed\", value = -2 }",
                "d: value must be 0 or more, it is -2.0",
            ),
            (
                "{ dist = \"fixed\", value = nan }",
                "d: value must be a finite number, it is NaN",
            ),
            (
                "{ dist = \"mixture\", parts = [] }",
                "d: a mixture needs at least one part in `parts`",
            ),
            (
                "{ dist = \"mixture\", parts = [ { weight = 1, dist = \"fixed\", value = 1 }, \
                 { weight = 0.4, dist = \"lognormal\", mean = 900, sd = 0 } ] }",
                "d.parts[1]: sd must be above 0, it is 0.0",
            ),
            (
                "{ dist = \"mixture\", parts = [ { weight = 0, dist = \"fixed\", value = 1 } ] }",
                "d.parts[0]: weight must be above 0, it is 0.0",
            ),
        ];
        for (inline, message) in cases {
            assert_eq!(parse(inline).unwrap().check("d").unwrap_err(), message, "{inline}");
        }
        // Invalid parameters still sample to something non-negative.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for bad in [
            Dist::gamma(-1.0, 2.0),
            Dist::lognormal(-3.0, 1.0),
            Dist::fixed(-2.0),
            Dist::mixture([]),
        ] {
            let x = bad.sample(&mut rng);
            assert!(x >= 0.0, "{bad:?} sampled {x}");
        }
    }

    #[test]
    fn unknown_keys_and_kinds_are_refused() {
        let err = parse("{ dist = \"lognormal\", mean = 60, sd = 3, value = 2 }").unwrap_err();
        assert!(err.contains("unknown field `value`"), "{err}");
        let err = parse("{ dist = \"weibull\", shape = 2 }").unwrap_err();
        assert!(err.contains("unknown variant `weibull`"), "{err}");
        let err = parse("{ dist = \"mixture\", parts = [ { weight = 1, dist = \"fixed\", value = 1, wieght = 2 } ] }")
            .unwrap_err();
        assert!(err.contains("unknown field `wieght`"), "{err}");
        let err = parse("{ dist = \"lognormal\", mean = 60 }").unwrap_err();
        assert!(err.contains("missing field `sd`"), "{err}");
    }

    #[test]
    fn serialises_back_to_the_file_form() {
        let text = "{ dist = \"mixture\", parts = [ { weight = 0.6, dist = \"lognormal\", mean = 60, sd = 30 }, \
                    { weight = 0.4, dist = \"gamma\", shape = 2, scale = 450 } ] }";
        let dist = parse(text).unwrap();
        #[derive(Serialize)]
        struct Out<'a> {
            d: &'a Dist,
        }
        let written = toml::to_string(&Out { d: &dist }).unwrap();
        let again = toml::from_str::<Holder>(&written).unwrap().d;
        assert_eq!(again, dist, "{written}");
    }
}
