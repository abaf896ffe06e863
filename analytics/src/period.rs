//! The time buckets reports group by: periods of agent productivity (day, week, month, year)
//! and intervals of dialer performance (15 minutes, hour, day), in UTC. Pure.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

/// A calendar period (RPT-01, RPT-04).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A day, from midnight.
    Day,
    /// A week, from Monday.
    Week,
    /// A month, from its first day.
    Month,
    /// A year, from 1 January.
    Year,
}

/// A fixed interval (RPT-03, RPT-07).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// 15 minutes.
    QuarterHour,
    /// An hour.
    Hour,
    /// A day.
    Day,
}

/// Any bucket a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// A calendar period.
    Period(Period),
    /// A fixed interval.
    Interval(Interval),
}

impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            "year" => Ok(Period::Year),
            other => Err(format!("'{other}' is not a period: day, week, month or year")),
        }
    }
}

impl FromStr for Interval {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "15m" | "15min" | "quarter-hour" => Ok(Interval::QuarterHour),
            "hour" | "1h" => Ok(Interval::Hour),
            "day" | "1d" => Ok(Interval::Day),
            other => Err(format!("'{other}' is not an interval: 15m, hour or day")),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Year => "year",
        })
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Interval::QuarterHour => "15m",
            Interval::Hour => "hour",
            Interval::Day => "day",
        })
    }
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

impl Bucket {
    /// The start of the bucket `at` falls in.
    pub fn start(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let date = at.date_naive();
        match self {
            Bucket::Period(Period::Day) | Bucket::Interval(Interval::Day) => midnight(date),
            Bucket::Period(Period::Week) => {
                midnight(date - Duration::days(i64::from(date.weekday().num_days_from_monday())))
            }
            Bucket::Period(Period::Month) => midnight(date.with_day(1).expect("day 1 exists")),
            Bucket::Period(Period::Year) => midnight(NaiveDate::from_ymd_opt(date.year(), 1, 1).expect("1 January")),
            Bucket::Interval(Interval::Hour) => midnight(date) + Duration::hours(i64::from(at.hour())),
            Bucket::Interval(Interval::QuarterHour) => {
                midnight(date)
                    + Duration::hours(i64::from(at.hour()))
                    + Duration::minutes(i64::from(at.minute() / 15 * 15))
            }
        }
    }

    /// The start of the bucket after the one starting at `start`.
    pub fn next(self, start: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Bucket::Period(Period::Day) | Bucket::Interval(Interval::Day) => start + Duration::days(1),
            Bucket::Period(Period::Week) => start + Duration::weeks(1),
            Bucket::Period(Period::Month) => {
                let d = start.date_naive();
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                midnight(NaiveDate::from_ymd_opt(y, m, 1).expect("a first of the month"))
            }
            Bucket::Period(Period::Year) => {
                midnight(NaiveDate::from_ymd_opt(start.year() + 1, 1, 1).expect("1 January"))
            }
            Bucket::Interval(Interval::Hour) => start + Duration::hours(1),
            Bucket::Interval(Interval::QuarterHour) => start + Duration::minutes(15),
        }
    }

    /// `[from, to)` cut at the bucket boundaries: each piece with its bucket's start.
    pub fn split(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>, DateTime<Utc>)> {
        let mut pieces = Vec::new();
        let mut at = from;
        while at < to {
            let start = self.start(at);
            let end = self.next(start).min(to);
            pieces.push((start, at, end));
            at = end;
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn buckets_start_where_the_calendar_says() {
        let at = t("2026-11-25T13:47:10Z"); // a Wednesday
        assert_eq!(Bucket::Period(Period::Day).start(at), t("2026-11-25T00:00:00Z"));
        assert_eq!(Bucket::Period(Period::Week).start(at), t("2026-11-23T00:00:00Z"));
        assert_eq!(Bucket::Period(Period::Month).start(at), t("2026-11-01T00:00:00Z"));
        assert_eq!(Bucket::Period(Period::Year).start(at), t("2026-01-01T00:00:00Z"));
        assert_eq!(Bucket::Interval(Interval::Hour).start(at), t("2026-11-25T13:00:00Z"));
        assert_eq!(
            Bucket::Interval(Interval::QuarterHour).start(at),
            t("2026-11-25T13:45:00Z")
        );
        assert_eq!(
            Bucket::Period(Period::Month).next(t("2026-12-01T00:00:00Z")),
            t("2027-01-01T00:00:00Z")
        );
    }

    #[test]
    fn a_span_over_midnight_is_cut_in_two_and_loses_nothing() {
        let pieces = Bucket::Period(Period::Day).split(t("2026-11-25T22:30:00Z"), t("2026-11-26T01:15:00Z"));
        assert_eq!(
            pieces,
            vec![
                (
                    t("2026-11-25T00:00:00Z"),
                    t("2026-11-25T22:30:00Z"),
                    t("2026-11-26T00:00:00Z")
                ),
                (
                    t("2026-11-26T00:00:00Z"),
                    t("2026-11-26T00:00:00Z"),
                    t("2026-11-26T01:15:00Z")
                ),
            ]
        );
        let total: i64 = pieces.iter().map(|(_, a, b)| (*b - *a).num_seconds()).sum();
        assert_eq!(total, 2 * 3600 + 45 * 60);
    }
}
