//! Follow-up logs (RPT-06): callbacks booked and kept, and return visits drawn, due, done and
//! overdue, per campaign and day, week, month or year. The facts are read from the store; the
//! counting is pure.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use paceline_dialer::Db;
use paceline_dialer::with_db;
use polars::prelude::*;

use crate::ReportError;
use crate::facts::Filter;
use crate::period::{Bucket, Period, midnight_in};

/// One call attempt as the callback log sees it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CallbackFact {
    /// The campaign's name.
    pub campaign: String,
    /// The record called.
    pub record_id: i64,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// Whether it reached an agent.
    pub bridged: bool,
    /// What its disposition leads to: retry, callback, final, complete or do_not_call.
    pub next_step: Option<String>,
}

/// One return visit.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct VisitFact {
    /// The campaign's name.
    pub campaign: String,
    /// The record to visit.
    pub record_id: i64,
    /// When it was drawn.
    pub drawn_on: NaiveDate,
    /// The day it is due by.
    pub due_by: NaiveDate,
    /// When it was done.
    pub done_at: Option<DateTime<Utc>>,
}

/// Every attempt up to the range's end to the records called in the range (the earlier
/// ones tell whether a call in the range keeps a callback), in order per record; with an
/// agent or team filter, only the attempts they were dialed for or took.
pub async fn callback_facts(db: &Db, filter: &Filter) -> Result<Vec<CallbackFact>, ReportError> {
    let rows: Vec<CallbackFact> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT c.name AS campaign, a.record_id, a.queued_at, a.bridged_at IS NOT NULL AS bridged, d.next_step
             FROM attempts a JOIN campaigns c ON c.id = a.campaign_id
             LEFT JOIN dispositions d ON d.campaign_id = a.campaign_id AND d.code = a.disposition
             LEFT JOIN users u ON u.id = a.agent_id
             WHERE a.queued_at < $2
               AND a.record_id IN (SELECT record_id FROM attempts WHERE queued_at >= $1 AND queued_at < $2)
               AND (CAST($3 AS TEXT) IS NULL OR c.name = $3)
               AND (CAST($4 AS TEXT) IS NULL OR u.login = $4)
               AND (CAST($5 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM team_members m JOIN teams t ON t.id = m.team_id
                                                      WHERE m.user_id = u.id AND t.name = $5))
             ORDER BY a.record_id, a.queued_at, a.id",
        )
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.campaign.as_deref())
        .bind(filter.agent.as_deref())
        .bind(filter.team.as_deref())
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// The return visits of the campaign (the agent's, the team's): each is counted in the
/// periods its dates fall in.
pub async fn visit_facts(db: &Db, filter: &Filter) -> Result<Vec<VisitFact>, ReportError> {
    let rows: Vec<VisitFact> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT c.name AS campaign, v.record_id, v.drawn_on, v.due_by, v.done_at
             FROM return_visits v JOIN campaigns c ON c.id = v.campaign_id
             LEFT JOIN users u ON u.id = v.agent_id
             WHERE (CAST($1 AS TEXT) IS NULL OR c.name = $1)
               AND (CAST($2 AS TEXT) IS NULL OR u.login = $2)
               AND (CAST($3 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM team_members m JOIN teams t ON t.id = m.team_id
                                                      WHERE m.user_id = u.id AND t.name = $3))
             ORDER BY v.id",
        )
        .bind(filter.campaign.as_deref())
        .bind(filter.agent.as_deref())
        .bind(filter.team.as_deref())
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

fn in_range(filter: &Filter, at: DateTime<Utc>) -> bool {
    filter.from <= at && at < filter.to
}

/// Callbacks per campaign and period: booked (a disposition that asks for a callback), dialed
/// (the next call to the record after one was booked), reached (that call bridged to an
/// agent) and completed (that call's disposition completes the record).
/// Periods are those of `zone`'s wall clock; `period_start` holds each one's start as an
/// instant.
pub fn callbacks(facts: &[CallbackFact], filter: &Filter, period: Period, zone: Tz) -> PolarsResult<DataFrame> {
    #[derive(Default)]
    struct Row {
        booked: u32,
        dialed: u32,
        reached: u32,
        completed: u32,
    }
    let mut rows: BTreeMap<(&str, DateTime<Utc>), Row> = BTreeMap::new();
    let mut previous: Option<&CallbackFact> = None;
    for fact in facts {
        let follows_booking =
            previous.is_some_and(|p| p.record_id == fact.record_id && p.next_step.as_deref() == Some("callback"));
        previous = Some(fact);
        if !in_range(filter, fact.queued_at) {
            continue;
        }
        let row = rows
            .entry((&fact.campaign, Bucket::Period(period).start_in(zone, fact.queued_at)))
            .or_default();
        if fact.next_step.as_deref() == Some("callback") {
            row.booked += 1;
        }
        if follows_booking {
            row.dialed += 1;
            row.reached += u32::from(fact.bridged);
            row.completed += u32::from(fact.next_step.as_deref() == Some("complete"));
        }
    }
    df!(
        "campaign" => rows.keys().map(|(c, _)| *c).collect::<Vec<_>>(),
        "period_start" => rows.keys().map(|(_, at)| at.naive_utc()).collect::<Vec<_>>(),
        "booked" => rows.values().map(|r| r.booked).collect::<Vec<_>>(),
        "dialed" => rows.values().map(|r| r.dialed).collect::<Vec<_>>(),
        "reached" => rows.values().map(|r| r.reached).collect::<Vec<_>>(),
        "completed" => rows.values().map(|r| r.completed).collect::<Vec<_>>(),
    )
}

/// Return visits per campaign and period: drawn, due, done, done after their day, and, of
/// those due in the period, how many are still open past their day at the range's end.
/// Periods, and the days visits are drawn on and due by, are those of `zone`'s wall clock.
pub fn return_visits(facts: &[VisitFact], filter: &Filter, period: Period, zone: Tz) -> PolarsResult<DataFrame> {
    #[derive(Default)]
    struct Row {
        drawn: u32,
        due: u32,
        done: u32,
        done_late: u32,
        overdue: u32,
    }
    let mut rows: BTreeMap<(&str, DateTime<Utc>), Row> = BTreeMap::new();
    for fact in facts {
        let mut count = |at: DateTime<Utc>, add: &dyn Fn(&mut Row)| {
            if in_range(filter, at) {
                add(rows
                    .entry((&fact.campaign, Bucket::Period(period).start_in(zone, at)))
                    .or_default());
            }
        };
        count(midnight_in(zone, fact.drawn_on), &|r| r.drawn += 1);
        let due = midnight_in(zone, fact.due_by);
        // Due by the end of its day.
        let deadline = midnight_in(zone, fact.due_by + chrono::Duration::days(1));
        count(due, &|r| r.due += 1);
        let open_at_end = fact.done_at.is_none_or(|done| done >= filter.to);
        if open_at_end && deadline <= filter.to {
            count(due, &|r| r.overdue += 1);
        }
        if let Some(done) = fact.done_at {
            let late = done >= deadline;
            count(done, &|r| {
                r.done += 1;
                r.done_late += u32::from(late);
            });
        }
    }
    df!(
        "campaign" => rows.keys().map(|(c, _)| *c).collect::<Vec<_>>(),
        "period_start" => rows.keys().map(|(_, at)| at.naive_utc()).collect::<Vec<_>>(),
        "drawn" => rows.values().map(|r| r.drawn).collect::<Vec<_>>(),
        "due" => rows.values().map(|r| r.due).collect::<Vec<_>>(),
        "done" => rows.values().map(|r| r.done).collect::<Vec<_>>(),
        "done_late" => rows.values().map(|r| r.done_late).collect::<Vec<_>>(),
        "overdue" => rows.values().map(|r| r.overdue).collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn filter() -> Filter {
        Filter {
            from: at(2, 0),
            to: at(9, 0),
            campaign: None,
            team: None,
            agent: None,
            records: Vec::new(),
        }
    }

    fn call(record_id: i64, queued_at: DateTime<Utc>, bridged: bool, next_step: Option<&str>) -> CallbackFact {
        CallbackFact {
            campaign: "poll".into(),
            record_id,
            queued_at,
            bridged,
            next_step: next_step.map(str::to_string),
        }
    }

    fn u32s(frame: &DataFrame, name: &str) -> Vec<u32> {
        frame.column(name).unwrap().u32().unwrap().into_no_null_iter().collect()
    }

    #[test]
    fn a_callback_is_booked_then_dialed_reached_and_completed() {
        let facts = [
            // Booked before the range: its call in the range still counts as dialed.
            call(1, at(1, 10), true, Some("callback")),
            call(1, at(2, 18), true, Some("complete")),
            call(2, at(2, 11), true, Some("callback")),
            call(2, at(3, 19), false, None),
            call(3, at(3, 9), true, Some("retry")),
        ];
        let frame = callbacks(&facts, &filter(), Period::Day, chrono_tz::UTC).unwrap();
        assert_eq!(frame.height(), 2);
        assert_eq!(u32s(&frame, "booked"), [1, 0]);
        assert_eq!(u32s(&frame, "dialed"), [1, 1]);
        assert_eq!(u32s(&frame, "reached"), [1, 0]);
        assert_eq!(u32s(&frame, "completed"), [1, 0]);
    }

    #[test]
    fn return_visits_done_late_and_overdue() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let visit = |drawn: u32, due: u32, done: Option<DateTime<Utc>>| VisitFact {
            campaign: "csat".into(),
            record_id: 1,
            drawn_on: day(drawn),
            due_by: day(due),
            done_at: done,
        };
        let facts = [
            visit(2, 4, Some(at(3, 10))),
            visit(2, 4, Some(at(5, 10))),
            visit(2, 4, None),
            visit(2, 12, None),
        ];
        let frame = return_visits(&facts, &filter(), Period::Week, chrono_tz::UTC).unwrap();
        // 2026-11-02 is a Monday: one week holds it all.
        assert_eq!(frame.height(), 1);
        assert_eq!(u32s(&frame, "drawn"), [4]);
        assert_eq!(
            u32s(&frame, "due"),
            [3],
            "the one due on the 12th falls after the range"
        );
        assert_eq!(u32s(&frame, "done"), [2]);
        assert_eq!(u32s(&frame, "done_late"), [1]);
        assert_eq!(u32s(&frame, "overdue"), [1]);
    }
}
