//! Survey progress reports: completes per quota cell against target, the disposition
//! breakdown, the AAPOR rates, the distribution of interview lengths and where interviews
//! broke off. Pure: facts in, frames out.

use std::collections::{BTreeMap, HashMap};

use paceline_cati::aapor::{Counts, Rates};
use paceline_cati::interview::split_key;
use paceline_cati::questionnaire::{Item, Kind};
use paceline_cati::quota::CellProgress;
use polars::prelude::*;

use super::facts::InterviewFact;
use crate::facts::Attempt;

/// Each quota cell's target, completes, interviews in progress, what is left and the share
/// done.
pub fn quotas(campaign: &str, cells: &[CellProgress]) -> PolarsResult<DataFrame> {
    df!(
        "campaign" => vec![campaign; cells.len()],
        "quota" => cells.iter().map(|c| c.id.quota.as_str()).collect::<Vec<_>>(),
        "cell" => cells.iter().map(|c| c.id.cell.as_str()).collect::<Vec<_>>(),
        "target" => cells.iter().map(|c| c.target).collect::<Vec<_>>(),
        "completes" => cells.iter().map(|c| c.count.completes).collect::<Vec<_>>(),
        "in_progress" => cells.iter().map(|c| c.count.in_progress).collect::<Vec<_>>(),
        "remaining" => cells.iter().map(|c| c.target.saturating_sub(c.count.completes)).collect::<Vec<_>>(),
        "done_pct" => cells.iter().map(|c| (c.target > 0).then(|| 100.0 * f64::from(c.count.completes) / f64::from(c.target))).collect::<Vec<_>>(),
        "full" => cells.iter().map(|c| c.full).collect::<Vec<_>>(),
    )
}

/// The dispositions agents gave, per campaign: how many attempts ended with each, and its
/// share of the campaign's dispositioned attempts.
pub fn dispositions(attempts: &[Attempt]) -> PolarsResult<DataFrame> {
    let mut counts: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for a in attempts {
        if let Some(d) = &a.disposition {
            *counts.entry((a.campaign.as_str(), d.as_str())).or_default() += 1;
        }
    }
    let mut totals: HashMap<&str, u32> = HashMap::new();
    for ((campaign, _), n) in &counts {
        *totals.entry(campaign).or_default() += n;
    }
    let frame = df!(
        "campaign" => counts.keys().map(|(c, _)| *c).collect::<Vec<_>>(),
        "disposition" => counts.keys().map(|(_, d)| *d).collect::<Vec<_>>(),
        "attempts" => counts.values().copied().collect::<Vec<_>>(),
        "share_pct" => counts.iter().map(|((c, _), n)| 100.0 * f64::from(*n) / f64::from(totals[c])).collect::<Vec<_>>(),
    )?;
    frame
        .lazy()
        .sort_by_exprs(
            [col("campaign"), col("attempts")],
            SortMultipleOptions::default().with_order_descending_multi([false, true]),
        )
        .collect()
}

/// The AAPOR case counts and outcome rates of a campaign's sample, one measure per row. When
/// the rates cannot be computed (no case of known eligibility yet), they are empty and the
/// row of `e` says why.
pub fn aapor(campaign: &str, counts: &Counts, rates: Result<&Rates, String>) -> PolarsResult<DataFrame> {
    let why = rates.as_ref().err().cloned();
    let none = Rates {
        e: f64::NAN,
        rr1: None,
        rr2: None,
        rr3: None,
        rr4: None,
        rr5: None,
        rr6: None,
        coop1: None,
        coop2: None,
        coop3: None,
        coop4: None,
        ref1: None,
        ref2: None,
        ref3: None,
        con1: None,
        con2: None,
        con3: None,
    };
    let rates = rates.unwrap_or(&none);
    let count_rows = [
        ("I", counts.I, "complete interviews"),
        ("P", counts.P, "partial interviews"),
        ("R", counts.R, "refusals and break-offs"),
        ("NC", counts.NC, "non-contacts"),
        ("O", counts.O, "other eligible non-interviews"),
        ("UH", counts.UH, "unknown if household or occupied"),
        ("UO", counts.UO, "unknown, other"),
        ("NE", counts.NE, "not eligible"),
    ];
    let rate_rows = [
        (
            "e",
            Some(rates.e).filter(|e| e.is_finite()),
            why.as_deref()
                .unwrap_or("share of unknown-eligibility cases taken as eligible"),
        ),
        ("RR1", rates.rr1, "response rate 1: I / (I+P) + (R+NC+O) + (UH+UO)"),
        ("RR2", rates.rr2, "response rate 2: (I+P) / (I+P) + (R+NC+O) + (UH+UO)"),
        ("RR3", rates.rr3, "response rate 3: I / (I+P) + (R+NC+O) + e(UH+UO)"),
        ("RR4", rates.rr4, "response rate 4: (I+P) / (I+P) + (R+NC+O) + e(UH+UO)"),
        ("RR5", rates.rr5, "response rate 5: I / (I+P) + (R+NC+O)"),
        ("RR6", rates.rr6, "response rate 6: (I+P) / (I+P) + (R+NC+O)"),
        ("COOP1", rates.coop1, "cooperation rate 1: I / (I+P) + R + O"),
        ("COOP2", rates.coop2, "cooperation rate 2: (I+P) / (I+P) + R + O"),
        ("COOP3", rates.coop3, "cooperation rate 3: I / (I+P) + R"),
        ("COOP4", rates.coop4, "cooperation rate 4: (I+P) / (I+P) + R"),
        ("REF1", rates.ref1, "refusal rate 1: R / (I+P) + (R+NC+O) + (UH+UO)"),
        ("REF2", rates.ref2, "refusal rate 2: R / (I+P) + (R+NC+O) + e(UH+UO)"),
        ("REF3", rates.ref3, "refusal rate 3: R / (I+P) + (R+NC+O)"),
        (
            "CON1",
            rates.con1,
            "contact rate 1: (I+P) + R + O / (I+P) + R + O + NC + (UH+UO)",
        ),
        (
            "CON2",
            rates.con2,
            "contact rate 2: (I+P) + R + O / (I+P) + R + O + NC + e(UH+UO)",
        ),
        ("CON3", rates.con3, "contact rate 3: (I+P) + R + O / (I+P) + R + O + NC"),
    ];
    let rows: Vec<(&str, Option<f64>, &str)> = count_rows
        .iter()
        .map(|(m, v, about)| (*m, Some(*v), *about))
        .chain(rate_rows.iter().copied())
        .collect();
    let measures: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let values: Vec<Option<f64>> = rows.iter().map(|r| r.1).collect();
    let abouts: Vec<&str> = rows.iter().map(|r| r.2).collect();
    df!(
        "campaign" => vec![campaign; measures.len()],
        "measure" => measures,
        "value" => values,
        "about" => abouts,
    )
}

/// How long completed interviews took: the number in each band of `band_minutes`, and its
/// share.
pub fn interview_length(campaign: &str, interviews: &[InterviewFact], band_minutes: i64) -> PolarsResult<DataFrame> {
    let band = band_minutes.max(1);
    let mut counts: BTreeMap<i64, u32> = BTreeMap::new();
    let mut total = 0u32;
    for i in interviews.iter().filter(|i| i.state == "complete") {
        let minutes = (i.updated_at - i.started_at).num_seconds().max(0) / 60;
        *counts.entry(minutes / band * band).or_default() += 1;
        total += 1;
    }
    df!(
        "campaign" => vec![campaign; counts.len()],
        "from_min" => counts.keys().copied().collect::<Vec<_>>(),
        "to_min" => counts.keys().map(|k| k + band).collect::<Vec<_>>(),
        "interviews" => counts.values().copied().collect::<Vec<_>>(),
        "share_pct" => counts.values().map(|n| 100.0 * f64::from(*n) / f64::from(total.max(1))).collect::<Vec<_>>(),
    )
}

/// Each question in questionnaire order: how many interviews reached it, how many broke off
/// there (left on it without completing or being screened out), and that share of those
/// that reached it.
pub fn drop_off(campaign: &str, items: &[Item], interviews: &[InterviewFact]) -> PolarsResult<DataFrame> {
    fn names<'q>(items: &'q [Item], out: &mut Vec<&'q str>) {
        for item in items {
            match item {
                Item::Question(q) if matches!(q.kind, Kind::Calculate { .. } | Kind::Metadata { .. }) => {}
                Item::Question(q) => out.push(&q.name),
                Item::Group(g) => names(&g.items, out),
            }
        }
    }
    let mut order = Vec::new();
    names(items, &mut order);
    let mut reached: HashMap<&str, u32> = HashMap::new();
    let mut broke_off: HashMap<&str, u32> = HashMap::new();
    for interview in interviews {
        let mut seen: Vec<&str> = interview.path.iter().map(|k| split_key(k).0).collect();
        let last = seen.last().copied();
        seen.sort_unstable();
        seen.dedup();
        for name in seen {
            *reached.entry(name).or_default() += 1;
        }
        if !matches!(interview.state.as_str(), "complete" | "screened_out")
            && let Some(last) = last
        {
            *broke_off.entry(last).or_default() += 1;
        }
    }
    let order: Vec<&str> = order.into_iter().filter(|q| reached.contains_key(q)).collect();
    df!(
        "campaign" => vec![campaign; order.len()],
        "position" => (1..=order.len() as u32).collect::<Vec<_>>(),
        "question" => order.clone(),
        "reached" => order.iter().map(|q| reached[q]).collect::<Vec<_>>(),
        "broke_off" => order.iter().map(|q| broke_off.get(q).copied().unwrap_or(0)).collect::<Vec<_>>(),
        "broke_off_pct" => order.iter().map(|q| 100.0 * f64::from(broke_off.get(q).copied().unwrap_or(0)) / f64::from(reached[q])).collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn interview(id: i64, state: &str, path: &[&str], minutes: i64) -> InterviewFact {
        let started = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
        InterviewFact {
            id,
            record: id,
            version: 1,
            version_label: "1".into(),
            interviewer: None,
            language: "en".into(),
            state: state.into(),
            state_detail: None,
            path: path.iter().map(|p| p.to_string()).collect(),
            started_at: started,
            updated_at: started + chrono::Duration::seconds(minutes * 60 + 30),
            answers: Default::default(),
            fields: Default::default(),
            attempts: 1,
            disposition: None,
            aapor: None,
        }
    }

    fn column_u32(frame: &DataFrame, name: &str) -> Vec<u32> {
        frame.column(name).unwrap().u32().unwrap().into_no_null_iter().collect()
    }

    #[test]
    fn drop_off_counts_where_unfinished_interviews_stopped() {
        let q = paceline_cati::questionnaire::own_format::read(
            "csat.toml",
            &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../questionnaires/csat.toml")).unwrap(),
        )
        .unwrap();
        let interviews = [
            interview(1, "complete", &["right_person", "overall", "recommend"], 3),
            interview(2, "asking", &["right_person", "overall"], 1),
            interview(3, "suspended", &["right_person", "overall"], 1),
            interview(4, "screened_out", &["right_person"], 0),
            interview(5, "terminated", &["right_person"], 0),
        ];
        let frame = drop_off("c", &q.items, &interviews).unwrap();
        let questions: Vec<&str> = frame
            .column("question")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(
            questions,
            ["right_person", "overall", "recommend"],
            "questionnaire order, reached only"
        );
        assert_eq!(column_u32(&frame, "reached"), [5, 3, 1]);
        assert_eq!(
            column_u32(&frame, "broke_off"),
            [1, 2, 0],
            "a screen-out is no break-off"
        );
    }

    #[test]
    fn lengths_of_completes_fall_in_minute_bands() {
        let interviews = [
            interview(1, "complete", &[], 3),
            interview(2, "complete", &[], 3),
            interview(3, "complete", &[], 7),
            interview(4, "asking", &[], 20),
        ];
        let frame = interview_length("c", &interviews, 5).unwrap();
        let from: Vec<i64> = frame
            .column("from_min")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(from, [0, 5]);
        assert_eq!(column_u32(&frame, "interviews"), [2, 1]);
    }

    #[test]
    fn aapor_without_known_eligibility_says_why() {
        let counts = Counts {
            UH: 10.0,
            ..Counts::default()
        };
        let frame = aapor("c", &counts, Err("e cannot be estimated".into())).unwrap();
        let about: Vec<&str> = frame.column("about").unwrap().str().unwrap().iter().flatten().collect();
        assert!(about.contains(&"e cannot be estimated"));
        assert_eq!(
            frame.column("value").unwrap().null_count(),
            17,
            "every rate, e included, is empty"
        );
    }
}
