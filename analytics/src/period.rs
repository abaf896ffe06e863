//! The time buckets reports group by: periods of agent productivity (day, week, month, year)
//! and intervals of dialer performance (15 minutes, hour, day), on the wall clock of a time
//! zone (UTC unless the report names one): a day runs from local midnight to local midnight,
//! 23 or 25 hours on the days the clocks change. [`Calendar`] gives the same buckets as Polars
//! expressions. Pure.

use std::fmt;
use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use polars::prelude::*;

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

fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).expect("midnight exists")
}

/// The instant a wall-clock time of `zone` names. Where the clocks went back and the time came
/// twice, the later one when it is not after `at_or_before` (the hour a quarter-hour or hour
/// bucket is in), else the earlier (a day starts at its first midnight); where they went
/// forward and the time never came, the instant they jumped.
fn instant(zone: Tz, wall: NaiveDateTime, at_or_before: Option<DateTime<Utc>>) -> DateTime<Utc> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => {
            let second = second.with_timezone(&Utc);
            match at_or_before {
                Some(at) if second <= at => second,
                _ => first.with_timezone(&Utc),
            }
        }
        LocalResult::None => {
            // The wall time on the clock before the jump: three hours earlier is before any
            // gap there has been, and on the old offset.
            let before = wall - Duration::hours(3);
            let old = zone
                .from_local_datetime(&before)
                .earliest()
                .map_or(Utc.from_utc_datetime(&before), |t| t.with_timezone(&Utc));
            old + Duration::hours(3)
        }
    }
}

impl Bucket {
    /// The start of the bucket `at` falls in, in UTC.
    pub fn start(self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.start_in(chrono_tz::UTC, at)
    }

    /// The start of the bucket after the one starting at `start`, in UTC.
    pub fn next(self, start: DateTime<Utc>) -> DateTime<Utc> {
        self.next_in(chrono_tz::UTC, start)
    }

    /// `[from, to)` cut at the bucket boundaries in UTC: each piece with its bucket's start.
    pub fn split(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>, DateTime<Utc>)> {
        self.split_in(chrono_tz::UTC, from, to)
    }

    /// The fixed length of a quarter hour or an hour; `None` for buckets of the calendar.
    fn fixed(self) -> Option<Duration> {
        match self {
            Bucket::Interval(Interval::QuarterHour) => Some(Duration::minutes(15)),
            Bucket::Interval(Interval::Hour) => Some(Duration::hours(1)),
            _ => None,
        }
    }

    /// The wall-clock start of the bucket a wall-clock time falls in.
    fn wall_start(self, wall: NaiveDateTime) -> NaiveDateTime {
        let date = wall.date();
        match self {
            Bucket::Period(Period::Day) | Bucket::Interval(Interval::Day) => midnight(date),
            Bucket::Period(Period::Week) => {
                midnight(date - Duration::days(i64::from(date.weekday().num_days_from_monday())))
            }
            Bucket::Period(Period::Month) => midnight(date.with_day(1).expect("day 1 exists")),
            Bucket::Period(Period::Year) => midnight(NaiveDate::from_ymd_opt(date.year(), 1, 1).expect("1 January")),
            Bucket::Interval(Interval::Hour) => midnight(date) + Duration::hours(i64::from(wall.hour())),
            Bucket::Interval(Interval::QuarterHour) => {
                midnight(date)
                    + Duration::hours(i64::from(wall.hour()))
                    + Duration::minutes(i64::from(wall.minute() / 15 * 15))
            }
        }
    }

    /// The wall-clock start of the calendar bucket after the one starting at `start`.
    fn wall_next(self, start: NaiveDateTime) -> NaiveDateTime {
        let date = start.date();
        match self {
            Bucket::Period(Period::Week) => midnight(date + Duration::weeks(1)),
            Bucket::Period(Period::Month) => {
                let (y, m) = if date.month() == 12 {
                    (date.year() + 1, 1)
                } else {
                    (date.year(), date.month() + 1)
                };
                midnight(NaiveDate::from_ymd_opt(y, m, 1).expect("a first of the month"))
            }
            Bucket::Period(Period::Year) => {
                midnight(NaiveDate::from_ymd_opt(date.year() + 1, 1, 1).expect("1 January"))
            }
            _ => midnight(date + Duration::days(1)),
        }
    }

    /// The start of the bucket `at` falls in, on the wall clock of `zone`.
    pub fn start_in(self, zone: Tz, at: DateTime<Utc>) -> DateTime<Utc> {
        let wall = at.with_timezone(&zone).naive_local();
        let start = self.wall_start(wall);
        // A quarter hour or an hour that came twice is the one `at` is in; a day starts at
        // its first midnight.
        instant(zone, start, self.fixed().map(|_| at))
    }

    /// The start of the bucket after the one starting at `start`, on the wall clock of `zone`.
    /// Quarter hours and hours follow each other at their length (the clocks move by whole
    /// quarter hours); days, weeks, months and years run from one local midnight to the next.
    pub fn next_in(self, zone: Tz, start: DateTime<Utc>) -> DateTime<Utc> {
        if let Some(length) = self.fixed() {
            return start + length;
        }
        let wall = start.with_timezone(&zone).naive_local();
        instant(zone, self.wall_next(self.wall_start(wall)), None)
    }

    /// `[from, to)` cut at the bucket boundaries of `zone`: each piece with its bucket's start.
    pub fn split_in(
        self,
        zone: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>, DateTime<Utc>)> {
        let mut pieces = Vec::new();
        let mut at = from;
        while at < to {
            let start = self.start_in(zone, at);
            let end = self.next_in(zone, start).min(to);
            pieces.push((start, at, end));
            at = end;
        }
        pieces
    }
}

/// The instant a day begins in `zone`: its first local midnight (or, where the clocks jumped
/// over midnight, the instant they jumped).
pub fn midnight_in(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    instant(zone, midnight(day), None)
}

/// A wall-clock time of `zone` for an instant, as milliseconds since the epoch read as if the
/// zone were UTC: what the reports show in their time columns when they name a zone.
pub fn wall_ms(zone: Tz, utc_ms: i64) -> i64 {
    match DateTime::<Utc>::from_timestamp_millis(utc_ms) {
        Some(at) => utc_ms + i64::from(zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc()) * 1000,
        None => utc_ms,
    }
}

const QUARTER_MS: i64 = 15 * 60 * 1000;
const DAY_MS: i64 = 86_400_000;
/// 1970-01-05, the first Monday after the epoch: weeks start a multiple of seven days from it.
const MONDAY_MS: i64 = 4 * DAY_MS;

/// One kind of bucket in one time zone, as Polars expressions over milliseconds since the
/// epoch: in UTC by arithmetic (cheap over fifty million rows); in another zone by looking up
/// the instant's quarter hour in a table of the buckets of the range, built with
/// [`Bucket::start_in`] (every bucket boundary of every zone in use falls on a UTC quarter
/// hour).
#[derive(Debug, Clone)]
pub struct Calendar {
    bucket: Bucket,
    zone: Tz,
    table: Option<QuarterTable>,
}

/// For each quarter hour from `first` (quarter hours since the epoch) on, the start and the
/// next start of its bucket.
#[derive(Debug, Clone)]
struct QuarterTable {
    first: i64,
    starts: Vec<i64>,
    nexts: Vec<i64>,
}

impl Calendar {
    /// The buckets in UTC.
    pub fn utc(bucket: Bucket) -> Self {
        Calendar {
            bucket,
            zone: chrono_tz::UTC,
            table: None,
        }
    }

    /// The buckets on the wall clock of `zone`, for instants from `from` to `to` (and the
    /// bucket after). Refused for a zone whose bucket boundaries do not fall on UTC quarter
    /// hours (offsets such as the Chatham Islands' +12:45 do; historical local mean times
    /// do not).
    pub fn new(bucket: Bucket, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, String> {
        if zone == chrono_tz::UTC {
            return Ok(Calendar::utc(bucket));
        }
        let mut start = bucket.start_in(zone, from);
        let end = bucket.next_in(zone, bucket.next_in(zone, bucket.start_in(zone, to)));
        let first = start.timestamp_millis().div_euclid(QUARTER_MS);
        let (mut starts, mut nexts) = (Vec::new(), Vec::new());
        while start < end {
            let next = bucket.next_in(zone, start);
            for boundary in [start, next] {
                if boundary.timestamp_millis().rem_euclid(QUARTER_MS) != 0 {
                    return Err(format!(
                        "{zone}: its {} begins at {boundary}, not on a quarter hour of UTC; choose another zone",
                        match bucket {
                            Bucket::Period(p) => p.to_string(),
                            Bucket::Interval(i) => i.to_string(),
                        }
                    ));
                }
            }
            let quarters = (next - start).num_milliseconds() / QUARTER_MS;
            starts.extend(std::iter::repeat_n(start.timestamp_millis(), quarters as usize));
            nexts.extend(std::iter::repeat_n(next.timestamp_millis(), quarters as usize));
            start = next;
        }
        Ok(Calendar {
            bucket,
            zone,
            table: Some(QuarterTable { first, starts, nexts }),
        })
    }

    /// The zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The kind of bucket.
    pub fn bucket(&self) -> Bucket {
        self.bucket
    }

    /// The start of the bucket of `at` (milliseconds since the epoch, Int64), in milliseconds;
    /// null for an instant outside the range the calendar was made for.
    pub fn start(&self, at: Expr) -> Expr {
        match &self.table {
            Some(table) => table.lookup(&table.starts, at),
            None => utc_start(at, self.bucket),
        }
    }

    /// The start of the bucket after the one starting at `start` (a bucket's start from
    /// [`Calendar::start`]), in milliseconds.
    pub fn next(&self, start: Expr) -> Expr {
        match &self.table {
            Some(table) => table.lookup(&table.nexts, start),
            None => utc_next(start, self.bucket),
        }
    }
}

impl QuarterTable {
    fn lookup(&self, values: &[i64], at: Expr) -> Expr {
        let index = at.floor_div(lit(QUARTER_MS)) - lit(self.first);
        let inside = index
            .clone()
            .gt_eq(lit(0i64))
            .and(index.clone().lt(lit(values.len() as i64)));
        lit(Series::new("bucket".into(), values)).gather(
            when(inside).then(index).otherwise(lit(NULL).cast(DataType::Int64)),
            true,
        )
    }
}

fn as_time(ms: Expr) -> Expr {
    ms.cast(DataType::Datetime(TimeUnit::Milliseconds, None))
}

/// The start of the UTC bucket an instant falls in, both in milliseconds since the epoch.
fn utc_start(at: Expr, bucket: Bucket) -> Expr {
    let truncated = |every: &str| as_time(at.clone()).dt().truncate(lit(every)).cast(DataType::Int64);
    let floor = |ms: i64| at.clone().floor_div(lit(ms)) * lit(ms);
    match bucket {
        // Days and weeks have one length: arithmetic is enough, and cheaper over fifty
        // million rows than the calendar.
        Bucket::Period(Period::Day) | Bucket::Interval(Interval::Day) => floor(DAY_MS),
        Bucket::Interval(Interval::Hour) => floor(3_600_000),
        Bucket::Interval(Interval::QuarterHour) => floor(QUARTER_MS),
        Bucket::Period(Period::Week) => {
            (at.clone() - lit(MONDAY_MS)).floor_div(lit(7 * DAY_MS)) * lit(7 * DAY_MS) + lit(MONDAY_MS)
        }
        Bucket::Period(Period::Month) => truncated("1mo"),
        Bucket::Period(Period::Year) => truncated("1y"),
    }
}

/// The start of the UTC bucket after the one starting at `start`, both in milliseconds.
fn utc_next(start: Expr, bucket: Bucket) -> Expr {
    let truncated = |ms: i64, every: &str| {
        as_time(start.clone() + lit(ms))
            .dt()
            .truncate(lit(every))
            .cast(DataType::Int64)
    };
    match bucket {
        Bucket::Period(Period::Day) | Bucket::Interval(Interval::Day) => start + lit(DAY_MS),
        Bucket::Interval(Interval::Hour) => start + lit(3_600_000i64),
        Bucket::Interval(Interval::QuarterHour) => start + lit(QUARTER_MS),
        Bucket::Period(Period::Week) => start + lit(7 * DAY_MS),
        // Months and years differ in length: 32 days after the first of a month is always in
        // the next month, 366 days after 1 January always in the next year.
        Bucket::Period(Period::Month) => truncated(32 * DAY_MS, "1mo"),
        Bucket::Period(Period::Year) => truncated(366 * DAY_MS, "1y"),
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

    #[test]
    fn a_day_in_london_runs_midnight_to_midnight_whatever_its_length() {
        let london = chrono_tz::Europe::London;
        let day = Bucket::Period(Period::Day);
        // Summer: local midnight is 23:00 UTC the day before.
        assert_eq!(
            day.start_in(london, t("2026-07-01T22:30:00Z")),
            t("2026-06-30T23:00:00Z")
        );
        assert_eq!(
            day.start_in(london, t("2026-07-01T23:30:00Z")),
            t("2026-07-01T23:00:00Z")
        );
        // 29 March 2026, when the clocks go forward, has 23 hours; 25 October has 25.
        let spring = day.start_in(london, t("2026-03-29T12:00:00Z"));
        assert_eq!(spring, t("2026-03-29T00:00:00Z"));
        assert_eq!(day.next_in(london, spring) - spring, Duration::hours(23));
        let autumn = day.start_in(london, t("2026-10-25T12:00:00Z"));
        assert_eq!(autumn, t("2026-10-24T23:00:00Z"));
        assert_eq!(day.next_in(london, autumn) - autumn, Duration::hours(25));
        // Weeks from local Monday, months from the local first.
        assert_eq!(
            Bucket::Period(Period::Week).start_in(london, t("2026-06-28T23:30:00Z")),
            t("2026-06-28T23:00:00Z")
        );
        assert_eq!(
            Bucket::Period(Period::Month).start_in(chrono_tz::America::New_York, t("2026-12-01T03:00:00Z")),
            t("2026-11-01T04:00:00Z")
        );
    }

    #[test]
    fn the_hour_that_comes_twice_is_two_buckets() {
        let new_york = chrono_tz::America::New_York;
        let hour = Bucket::Interval(Interval::Hour);
        // 1 November 2026: 01:00-02:00 EDT (05:00-06:00 UTC), then 01:00-02:00 EST (06:00-07:00).
        let first = hour.start_in(new_york, t("2026-11-01T05:30:00Z"));
        let second = hour.start_in(new_york, t("2026-11-01T06:30:00Z"));
        assert_eq!((first, second), (t("2026-11-01T05:00:00Z"), t("2026-11-01T06:00:00Z")));
        assert_eq!(hour.next_in(new_york, first), second);
        // India is 5:30 ahead: its hours begin on the half hour of UTC.
        let kolkata = chrono_tz::Asia::Kolkata;
        assert_eq!(
            hour.start_in(kolkata, t("2026-11-25T10:10:00Z")),
            t("2026-11-25T09:30:00Z")
        );
        // A day whose midnight never came (Santiago moves to summer time at midnight): it
        // begins when the clocks jump.
        let santiago = chrono_tz::America::Santiago;
        let day = Bucket::Period(Period::Day);
        assert_eq!(
            day.start_in(santiago, t("2026-09-06T12:00:00Z")),
            t("2026-09-06T04:00:00Z")
        );
        assert_eq!(
            wall_ms(new_york, t("2026-11-01T06:30:00Z").timestamp_millis()),
            t("2026-11-01T01:30:00Z").timestamp_millis()
        );
    }

    #[test]
    fn the_calendars_expressions_agree_with_the_buckets() {
        let instants: Vec<DateTime<Utc>> = (0..24 * 4 * 9)
            .map(|q| t("2026-10-20T00:07:00Z") + Duration::minutes(15 * q))
            .collect();
        let ms: Vec<i64> = instants.iter().map(|t| t.timestamp_millis()).collect();
        let frame = df!("at" => ms).unwrap();
        for zone in [chrono_tz::UTC, chrono_tz::Europe::London, chrono_tz::Asia::Kolkata] {
            for bucket in [
                Bucket::Interval(Interval::QuarterHour),
                Bucket::Interval(Interval::Hour),
                Bucket::Period(Period::Day),
                Bucket::Period(Period::Week),
                Bucket::Period(Period::Month),
                Bucket::Period(Period::Year),
            ] {
                let calendar = Calendar::new(bucket, zone, instants[0], *instants.last().unwrap()).unwrap();
                let out = frame
                    .clone()
                    .lazy()
                    .select([
                        calendar.start(col("at")).alias("start"),
                        calendar.next(calendar.start(col("at"))).alias("next"),
                    ])
                    .collect()
                    .unwrap();
                let starts = out.column("start").unwrap().i64().unwrap();
                let nexts = out.column("next").unwrap().i64().unwrap();
                for (i, at) in instants.iter().enumerate() {
                    let start = bucket.start_in(zone, *at);
                    assert_eq!(starts.get(i), Some(start.timestamp_millis()), "{zone} {bucket:?} {at}");
                    assert_eq!(
                        nexts.get(i),
                        Some(bucket.next_in(zone, start).timestamp_millis()),
                        "{zone} {bucket:?} {at}"
                    );
                }
            }
        }
    }
}
