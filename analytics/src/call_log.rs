//! The call log (RPT-03, RPT-07): one row per call placed, with its start, answer, bridge and
//! end, and the seconds it rang, a person was held waiting for an agent, and talked. Pure over
//! the calls read from the store.

use chrono::{DateTime, Utc};
use polars::prelude::*;

use crate::facts::Call;

/// Seconds from `from` to `to`, when both happened.
fn seconds(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Option<f64> {
    Some((to? - from?).num_milliseconds() as f64 / 1000.0)
}

/// How long one call rang, held and talked, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spans {
    /// From the dial to the answer, or to the end when nobody answered.
    pub ring: Option<f64>,
    /// From a person's answer to an agent, or to the hang-up of an abandoned person; none
    /// for calls no person waited on (machines, agentless messages).
    pub hold: Option<f64>,
    /// From the bridge to the end.
    pub talk: Option<f64>,
}

impl Spans {
    /// The spans of one call.
    pub fn of(call: &Call) -> Self {
        let a = &call.attempt;
        let waited = a.bridged_at.is_some() || a.abandoned;
        Spans {
            ring: seconds(a.dialed_at, a.answered_at.or(a.ended_at)),
            hold: if waited {
                seconds(a.answered_at, a.bridged_at.or(a.ended_at))
            } else {
                None
            },
            talk: seconds(a.bridged_at, a.ended_at),
        }
    }
}

/// The calls placed (queued attempts never dialed are left out), in the order they were
/// dialed, with these columns (times in UTC, to the millisecond):
///
/// | column | dtype |
/// |---|---|
/// | `attempt`, `record_id` | Int64 |
/// | `campaign`, `number`, `dial_mode` | String |
/// | `agent`, `outcome`, `amd_verdict`, `disposition` | String, nullable |
/// | `dialed_at` | Datetime(ms) |
/// | `answered_at`, `bridged_at`, `ended_at` | Datetime(ms), nullable |
/// | `ring_seconds`, `hold_seconds`, `talk_seconds` | Float64, nullable |
/// | `abandoned` | Boolean |
pub fn log(calls: &[Call]) -> PolarsResult<DataFrame> {
    let mut placed: Vec<&Call> = calls.iter().filter(|c| c.attempt.dialed_at.is_some()).collect();
    placed.sort_by_key(|c| (c.attempt.dialed_at, c.attempt_id));
    let spans: Vec<Spans> = placed.iter().map(|c| Spans::of(c)).collect();
    let text = |name: &str, f: &dyn Fn(&Call) -> Option<&str>| {
        Column::new(name.into(), placed.iter().map(|c| f(c)).collect::<Vec<_>>())
    };
    let time = |name: &str, f: &dyn Fn(&Call) -> Option<DateTime<Utc>>| {
        Int64Chunked::from_iter_options(name.into(), placed.iter().map(|c| f(c).map(|t| t.timestamp_millis())))
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_column()
    };
    let span = |name: &str, f: &dyn Fn(&Spans) -> Option<f64>| {
        Column::new(name.into(), spans.iter().map(f).collect::<Vec<_>>())
    };
    DataFrame::new(
        placed.len(),
        vec![
            Column::new(
                "attempt".into(),
                placed.iter().map(|c| c.attempt_id).collect::<Vec<_>>(),
            ),
            text("campaign", &|c| Some(c.attempt.campaign.as_str())),
            Column::new(
                "record_id".into(),
                placed.iter().map(|c| c.attempt.record_id).collect::<Vec<_>>(),
            ),
            text("number", &|c| Some(c.number.as_str())),
            text("agent", &|c| c.attempt.agent.as_deref()),
            text("dial_mode", &|c| Some(c.attempt.dial_mode.as_str())),
            time("dialed_at", &|c| c.attempt.dialed_at),
            time("answered_at", &|c| c.attempt.answered_at),
            time("bridged_at", &|c| c.attempt.bridged_at),
            time("ended_at", &|c| c.attempt.ended_at),
            span("ring_seconds", &|s| s.ring),
            span("hold_seconds", &|s| s.hold),
            span("talk_seconds", &|s| s.talk),
            text("outcome", &|c| c.attempt.outcome.as_deref()),
            text("amd_verdict", &|c| c.attempt.amd_verdict.as_deref()),
            Column::new(
                "abandoned".into(),
                placed.iter().map(|c| c.attempt.abandoned).collect::<Vec<_>>(),
            ),
            text("disposition", &|c| c.attempt.disposition.as_deref()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Attempt;

    fn at(second: i64) -> Option<DateTime<Utc>> {
        Some(DateTime::from_timestamp(1_780_000_000 + second, 0).unwrap())
    }

    fn call(id: i64, times: [Option<DateTime<Utc>>; 4], abandoned: bool, outcome: &str) -> Call {
        let [dialed_at, answered_at, bridged_at, ended_at] = times;
        Call {
            attempt_id: id,
            number: format!("+1212555{id:04}"),
            attempt: Attempt {
                campaign: "c".into(),
                record_id: id * 10,
                agent: bridged_at.map(|_| "ann".into()),
                dial_mode: "predictive".into(),
                queued_at: at(0).unwrap(),
                dialed_at,
                answered_at,
                bridged_at,
                ended_at,
                outcome: Some(outcome.into()),
                amd_verdict: None,
                abandoned,
                disposition: None,
            },
        }
    }

    #[test]
    fn each_call_rings_holds_and_talks_for_its_own_spans() {
        let talked = call(1, [at(10), at(18), at(20), at(200)], false, "answered");
        assert_eq!(
            Spans::of(&talked),
            Spans {
                ring: Some(8.0),
                hold: Some(2.0),
                talk: Some(180.0)
            }
        );
        let abandoned = call(2, [at(5), at(12), None, at(15)], true, "answered");
        assert_eq!(
            Spans::of(&abandoned),
            Spans {
                ring: Some(7.0),
                hold: Some(3.0),
                talk: None
            }
        );
        let unanswered = call(3, [at(1), None, None, at(31)], false, "no_answer");
        assert_eq!(
            Spans::of(&unanswered),
            Spans {
                ring: Some(30.0),
                hold: None,
                talk: None
            }
        );
        // A machine answered and was hung up on: no person waited.
        let machine = call(4, [at(2), at(9), None, at(10)], false, "machine");
        assert_eq!(Spans::of(&machine).hold, None);

        let queued_only = call(5, [None, None, None, None], false, "failed");
        let frame = log(&[talked, abandoned, unanswered, machine, queued_only]).unwrap();
        assert_eq!(frame.height(), 4, "the call never dialed is no call");
        let ids: Vec<i64> = frame
            .column("attempt")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(ids, [3, 4, 2, 1], "in the order they were dialed");
        let talk: Vec<Option<f64>> = frame.column("talk_seconds").unwrap().f64().unwrap().iter().collect();
        assert_eq!(talk, [None, None, None, Some(180.0)]);
        assert_eq!(
            frame.column("number").unwrap().str().unwrap().get(3),
            Some("+12125550001")
        );
    }
}
