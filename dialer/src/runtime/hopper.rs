//! The hopper: records reserved in the store, ready to dial (the name is VICIdial's).
//!
//! A fill reserves the next records in the campaign's call order in one transaction: due
//! callbacks first, then retries whose interval has passed, then fresh records, each by
//! priority; only records inside calling hours in their own time zone, under the attempt
//! limit, not assigned to someone (those are dialed for their agent or team), with a number
//! not on a do-not-call list, and not in a closed quota cell. Each reserved record is marked
//! `in_progress` by this runtime, and its attempt row is opened, before any of them is
//! dialed; on PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so several
//! dialer processes never reserve the same record.

use std::cmp::Reverse;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::attempt::DialingState;
use crate::campaign::{CallOrder, CallingHours, DialMode, Outcome};
use crate::sample::record::RecordStatus;
use crate::sample::zones::RecordZones;
use crate::store::Backend;
use crate::store::direct::{DirectError, DirectTx};
use crate::store::sql::{Kind, Param, RowExt, ShapeError, Statement, Value, placeholders};
use crate::users::{TeamId, UserId};

/// A record reserved for dialing, with everything the runtime needs to dial it and to decide
/// its next step afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Reserved {
    /// The record.
    pub record: i64,
    /// The attempt row opened for the dial.
    pub attempt: i64,
    /// The number to dial (the record's number at `state.phone_position`).
    pub e164: String,
    /// The record's dialing state before this attempt.
    pub state: DialingState,
    /// Every number of the record, by position.
    pub phones: Vec<(i64, String)>,
    /// Where the person may be.
    pub zones: RecordZones,
    /// Earlier attempts of the record by outcome.
    pub outcomes: Vec<(Outcome, i64)>,
    /// The agent it is reserved for, if it is theirs (a personal callback).
    pub agent: Option<UserId>,
    /// The team it belongs to, if any.
    pub team: Option<TeamId>,
    /// Its custom fields, when a quota gate asked for them.
    pub fields: Option<serde_json::Value>,
}

impl Reserved {
    /// Earlier attempts that ended in `outcome`.
    pub fn earlier(&self, outcome: Outcome) -> i64 {
        self.outcomes.iter().find(|(o, _)| *o == outcome).map_or(0, |(_, n)| *n)
    }
}

/// Decides whether a record falls in a quota cell that is full (the CATI engine fills this
/// in; the dialer knows nothing of quotas).
pub trait QuotaGate: Send + Sync {
    /// Whether the record with these fields may not be dialed because its cell is full.
    fn closed(&self, campaign: i64, fields: &serde_json::Value) -> bool;
}

/// What a fill asks for.
#[derive(Debug, Clone)]
pub struct Fill<'a> {
    /// The campaign.
    pub campaign: i64,
    /// This runtime's name, written into reserved rows.
    pub node: &'a str,
    /// Now.
    pub now: DateTime<Utc>,
    /// How many records at most.
    pub limit: usize,
    /// The campaign's attempt limit.
    pub max_attempts: i64,
    /// Stored time-zone values that are inside calling hours now.
    pub open_zones: &'a [String],
    /// Fresh records in import order or shuffled.
    pub order: CallOrder,
    /// The mode the attempts are dialed in.
    pub mode: DialMode,
    /// Only records assigned to these agents or teams (`None`: only unassigned records).
    pub assigned: Option<(&'a [UserId], &'a [TeamId])>,
    /// For a fill of unassigned records: personal callbacks due at or before this instant
    /// were missed by their interviewer and go to anyone (`None`: they wait for them).
    pub release_personal_before: Option<DateTime<Utc>>,
    /// Whether to read the records' fields (for a quota gate).
    pub with_fields: bool,
    /// Which backend (row locks differ).
    pub backend: Backend,
}

/// What a fill found besides the reserved records: records it took out of dialing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FillReport {
    /// Records reserved.
    pub reserved: Vec<Reserved>,
    /// Records whose every number is on a do-not-call list (now `do_not_call`).
    pub do_not_call: Vec<i64>,
    /// Records without a number at their position (now `invalid`).
    pub no_number: Vec<i64>,
    /// Records in closed quota cells (now `quota_closed`).
    pub quota_closed: Vec<i64>,
}

/// Why a fill failed; nothing was reserved.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] DirectError),
    /// A row did not read as expected.
    #[error(transparent)]
    Shape(#[from] ShapeError),
}

/// The stored time-zone values among `zones` that are inside `hours` at `now` (every zone of
/// a multi-zone value must be).
pub fn open_zones(hours: &CallingHours, zones: &[String], now: DateTime<Utc>) -> Vec<String> {
    zones
        .iter()
        .filter(|stored| RecordZones::from_stored(stored).is_ok_and(|z| hours.is_open_everywhere(&z.0, now)))
        .cloned()
        .collect()
}

const CANDIDATE_COLUMNS: &str =
    "r.id, r.status, r.attempts, r.next_call_at, r.phone_position, r.ever_eligible, r.aapor,
    r.time_zone, r.assigned_agent_id, r.assigned_team_id, r.priority";
const CANDIDATE_KINDS: [Kind; 11] = [
    Kind::Int,
    Kind::Text,
    Kind::Int,
    Kind::Time,
    Kind::Int,
    Kind::Bool,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
];

/// The candidate queries, in call order: (WHERE clause on status and time, ORDER BY).
fn classes(order: CallOrder, assigned: bool) -> Vec<(&'static str, &'static str)> {
    let fresh_order = match order {
        CallOrder::Sequential => "r.priority DESC, r.id",
        // A fixed pseudo-random permutation of ids: reproducible, and the same on both
        // backends. It sorts every fresh record on each fill, so it costs more than import
        // order on large samples.
        CallOrder::Random => "r.priority DESC, (r.id * 2654435761) % 4294967296, r.id",
    };
    if assigned {
        // Few records belong to agents or teams: the unary plus and the concatenation keep
        // SQLite off the campaign's queue indexes, so that it reads the assignment indexes
        // (without statistics it would scan the whole campaign).
        return vec![(
            "(r.status || '') IN ('callback', 'ready', 'new') AND (r.next_call_at IS NULL OR r.next_call_at <= $2)",
            "CASE r.status WHEN 'callback' THEN 0 WHEN 'ready' THEN 1 ELSE 2 END, r.next_call_at, r.priority DESC, r.id",
        )];
    }
    vec![
        (
            "r.status = 'callback' AND r.next_call_at <= $2",
            "r.next_call_at, r.priority DESC, r.id",
        ),
        (
            "r.status = 'ready' AND r.next_call_at <= $2",
            "r.priority DESC, r.next_call_at, r.id",
        ),
        (
            "r.status = 'new' AND (r.next_call_at IS NULL OR r.next_call_at <= $2)",
            fresh_order,
        ),
    ]
}

/// One candidate query: up to `want` records of a class in the given zones, in call order.
async fn class_query(
    tx: &mut DirectTx<'_>,
    fill: &Fill<'_>,
    filter: &str,
    order_by: &str,
    zones: &[String],
    priority: Option<i64>,
    want: usize,
) -> Result<Vec<Vec<Value>>, FillError> {
    let mut params: Vec<Param> = vec![
        fill.campaign.into(),
        fill.now.into(),
        fill.max_attempts.into(),
        (want as i64).into(),
    ];
    let priority = match priority {
        Some(p) => {
            params.push(p.into());
            format!(" AND r.priority = ${}", params.len())
        }
        None => String::new(),
    };
    let zones_at = params.len() + 1;
    params.extend(zones.iter().map(|z| Param::Text(z.clone())));
    let owner = match fill.assigned {
        None => match fill.release_personal_before {
            Some(before) if filter.starts_with("r.status = 'callback'") => {
                params.push(before.into());
                format!(
                    "((r.assigned_agent_id IS NULL AND r.assigned_team_id IS NULL) OR (r.assigned_agent_id IS NOT NULL AND r.next_call_at <= ${}))",
                    params.len()
                )
            }
            _ => "r.assigned_agent_id IS NULL AND r.assigned_team_id IS NULL".to_string(),
        },
        Some((agents, teams)) => {
            let agents_at = params.len() + 1;
            params.extend(agents.iter().map(|a| Param::Int(*a)));
            let teams_at = params.len() + 1;
            params.extend(teams.iter().map(|t| Param::Int(*t)));
            let agent_list = if agents.is_empty() {
                "NULL".to_string()
            } else {
                placeholders(agents_at, agents.len())
            };
            let team_list = if teams.is_empty() {
                "NULL".to_string()
            } else {
                placeholders(teams_at, teams.len())
            };
            format!("(r.assigned_agent_id IN ({agent_list}) OR r.assigned_team_id IN ({team_list}))")
        }
    };
    let lock = match fill.backend {
        Backend::Postgres => " FOR UPDATE OF r SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let campaign = if fill.assigned.is_some() {
        "+r.campaign_id = $1"
    } else {
        "r.campaign_id = $1"
    };
    let sql = format!(
        "SELECT {CANDIDATE_COLUMNS} FROM records r
         WHERE {campaign} AND {filter}{priority} AND r.attempts < $3
           AND r.time_zone IN ({zones}) AND {owner}
         ORDER BY {order_by} LIMIT $4{lock}",
        zones = placeholders(zones_at, zones.len()),
    );
    Ok(tx.query(&Statement::built(sql, params), &CANDIDATE_KINDS).await?)
}

/// Reserves up to `fill.limit` records, in call order, and opens their attempts.
pub async fn fill(
    tx: &mut DirectTx<'_>,
    fill: &Fill<'_>,
    gate: Option<&dyn QuotaGate>,
) -> Result<FillReport, FillError> {
    let mut report = FillReport::default();
    if fill.open_zones.is_empty() || fill.limit == 0 {
        return Ok(report);
    }
    let mut candidates: Vec<Vec<Value>> = Vec::new();
    for (filter, order_by) in classes(fill.order, fill.assigned.is_some()) {
        let want = fill.limit - candidates.len();
        if want == 0 {
            break;
        }
        // Retries, and fresh records in import order, are read zone by zone along their
        // indexes, each stopping at `want`, and merged; callbacks (few) in one query.
        let retry = filter.starts_with("r.status = 'ready'") && fill.assigned.is_none();
        let fresh = filter.starts_with("r.status = 'new'") && fill.order == CallOrder::Sequential;
        let by_zone = retry || (fill.assigned.is_none() && fresh && fill.open_zones.len() > 1);
        let zone_sets: Vec<&[String]> = if by_zone {
            fill.open_zones.chunks(1).collect()
        } else {
            vec![fill.open_zones]
        };
        let mut class: Vec<Vec<Value>> = Vec::new();
        for zones in zone_sets {
            if !retry {
                class.extend(class_query(tx, fill, filter, order_by, zones, None, want).await?);
                continue;
            }
            // Retries, priority by priority: the index then holds each priority's due rows
            // in due order, so the read stops at the first one not yet due instead of
            // stepping over every waiting retry of the zone.
            let mut found = 0;
            for priority in retry_priorities(tx, fill.campaign, &zones[0]).await? {
                let rows = class_query(
                    tx,
                    fill,
                    filter,
                    "r.next_call_at, r.id",
                    zones,
                    Some(priority),
                    want - found,
                )
                .await?;
                found += rows.len();
                class.extend(rows);
                if found >= want {
                    break;
                }
            }
        }
        if by_zone {
            // Priority first, then due time (retries) and import order: what the one query
            // would have returned.
            let mut keyed = class
                .into_iter()
                .map(|row| {
                    let due = if retry { row.opt_time(3)? } else { None };
                    Ok(((Reverse(row.int(10)?), due, row.int(0)?), row))
                })
                .collect::<Result<Vec<_>, ShapeError>>()?;
            keyed.sort_by_key(|(key, _)| *key);
            class = keyed.into_iter().take(want).map(|(_, row)| row).collect();
        }
        candidates.extend(class);
    }
    if candidates.is_empty() {
        return Ok(report);
    }
    let ids: Vec<i64> = candidates.iter().map(|row| row.int(0)).collect::<Result<_, _>>()?;
    let id_params = || ids.iter().map(|id| Param::Int(*id)).collect::<Vec<_>>();

    let mut phones: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    let rows = tx
        .query(
            &Statement::built(
                format!(
                    "SELECT record_id, position, e164 FROM record_phones WHERE record_id IN ({}) ORDER BY record_id, position",
                    placeholders(1, ids.len())
                ),
                id_params(),
            ),
            &[Kind::Int, Kind::Int, Kind::Text],
        )
        .await?;
    for row in &rows {
        phones
            .entry(row.int(0)?)
            .or_default()
            .push((row.int(1)?, row.text(2)?.to_string()));
    }

    let numbers: Vec<&str> = phones.values().flatten().map(|(_, e)| e.as_str()).collect();
    let on_list: std::collections::HashSet<String> = listed(tx, fill.campaign, &numbers).await?.into_iter().collect();

    let mut outcomes: HashMap<i64, Vec<(Outcome, i64)>> = HashMap::new();
    let rows = tx
        .query(
            &Statement::built(
                format!(
                    "SELECT record_id, outcome, COUNT(*) FROM attempts WHERE record_id IN ({}) AND outcome IS NOT NULL
                     GROUP BY record_id, outcome",
                    placeholders(1, ids.len())
                ),
                id_params(),
            ),
            &[Kind::Int, Kind::Text, Kind::Int],
        )
        .await?;
    for row in &rows {
        if let Some(outcome) = parse_outcome(row.text(1)?) {
            outcomes.entry(row.int(0)?).or_default().push((outcome, row.int(2)?));
        }
    }

    let mut fields: HashMap<i64, serde_json::Value> = HashMap::new();
    if fill.with_fields {
        let rows = tx
            .query(
                &Statement::built(
                    format!(
                        "SELECT id, fields FROM records WHERE id IN ({})",
                        placeholders(1, ids.len())
                    ),
                    id_params(),
                ),
                &[Kind::Int, Kind::Json],
            )
            .await?;
        for row in &rows {
            let value = serde_json::from_str(row.text(1)?).unwrap_or(serde_json::Value::Null);
            fields.insert(row.int(0)?, value);
        }
    }

    let mut to_reserve: Vec<Reserved> = Vec::new();
    let mut moved: Vec<i64> = Vec::new();
    for row in &candidates {
        let record = row.int(0)?;
        let status: RecordStatus = row.text(1)?.parse().map_err(|found| ShapeError {
            column: 1,
            expected: "a record status",
            found,
        })?;
        let mut state = DialingState {
            status,
            attempts: row.int(2)?,
            next_call_at: row.opt_time(3)?,
            phone_position: row.int(4)?,
            ever_eligible: row.bool(5)?,
            aapor: row.opt_text(6)?.map(str::to_string),
        };
        let record_phones = phones.remove(&record).unwrap_or_default();
        // The record's current number, or the next one not on a do-not-call list.
        let dialable = record_phones
            .iter()
            .filter(|(position, e164)| *position >= state.phone_position && !on_list.contains(e164))
            .min_by_key(|(position, _)| *position)
            .cloned();
        let Some((position, e164)) = dialable else {
            if record_phones.iter().any(|(p, _)| *p >= state.phone_position) {
                report.do_not_call.push(record);
            } else {
                report.no_number.push(record);
            }
            continue;
        };
        let record_fields = fields.remove(&record);
        if let (Some(gate), Some(values)) = (gate, &record_fields)
            && gate.closed(fill.campaign, values)
        {
            report.quota_closed.push(record);
            continue;
        }
        if position != state.phone_position {
            moved.push(record);
        }
        state.phone_position = position;
        let zones = RecordZones::from_stored(row.text(7)?).map_err(|e| ShapeError {
            column: 7,
            expected: "stored time zones",
            found: e.to_string(),
        })?;
        to_reserve.push(Reserved {
            record,
            attempt: 0,
            e164,
            state,
            phones: record_phones,
            zones,
            outcomes: outcomes.remove(&record).unwrap_or_default(),
            // A personal callback taken by the shared fill was missed: anyone makes it.
            agent: if fill.assigned.is_some() { row.opt_int(8)? } else { None },
            team: row.opt_int(9)?,
            fields: record_fields,
        });
    }

    for (records, status) in [
        (&report.do_not_call, RecordStatus::DoNotCall),
        (&report.no_number, RecordStatus::Invalid),
        (&report.quota_closed, RecordStatus::QuotaClosed),
    ] {
        for record in records {
            tx.execute(&Statement::new(
                "UPDATE records SET status = $1, next_call_at = NULL, updated_at = $2 WHERE id = $3",
                vec![status.as_str().into(), fill.now.into(), (*record).into()],
            ))
            .await?;
        }
    }
    if to_reserve.is_empty() {
        return Ok(report);
    }

    let mut params: Vec<Param> = vec![fill.node.into(), fill.now.into()];
    params.extend(to_reserve.iter().map(|r| Param::Int(r.record)));
    tx.execute(&Statement::built(
        format!(
            "UPDATE records SET reserved_from = status, status = 'in_progress', reserved_by = $1, reserved_at = $2
             WHERE id IN ({})",
            placeholders(3, to_reserve.len())
        ),
        params,
    ))
    .await?;
    // A number skipped for a do-not-call listing moves the record on to the next one.
    for r in to_reserve.iter().filter(|r| moved.contains(&r.record)) {
        tx.execute(&Statement::new(
            "UPDATE records SET phone_position = $1 WHERE id = $2",
            vec![r.state.phone_position.into(), r.record.into()],
        ))
        .await?;
    }

    let mut params: Vec<Param> = vec![fill.campaign.into(), fill.mode.as_str().into(), fill.now.into()];
    let mut values = Vec::with_capacity(to_reserve.len());
    for r in &to_reserve {
        let at = params.len() + 1;
        values.push(format!("($1, ${at}, ${}, ${}, $2, $3)", at + 1, at + 2));
        params.push(r.record.into());
        params.push(r.state.phone_position.into());
        params.push(r.e164.as_str().into());
    }
    let rows = tx
        .query(
            &Statement::built(
                format!(
                    "INSERT INTO attempts (campaign_id, record_id, phone_position, e164, dial_mode, queued_at)
                     VALUES {} RETURNING id, record_id",
                    values.join(", ")
                ),
                params,
            ),
            &[Kind::Int, Kind::Int],
        )
        .await?;
    let mut attempt_of: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
    for row in &rows {
        attempt_of.insert(row.int(1)?, row.int(0)?);
    }
    for r in &mut to_reserve {
        r.attempt = *attempt_of.get(&r.record).ok_or_else(|| ShapeError {
            column: 1,
            expected: "an attempt for every reserved record",
            found: format!("none for record {}", r.record),
        })?;
    }
    report.reserved = to_reserve;
    Ok(report)
}

/// The distinct priorities of a campaign's due-or-waiting retries in one zone, highest first.
async fn retry_priorities(tx: &mut DirectTx<'_>, campaign: i64, zone: &str) -> Result<Vec<i64>, FillError> {
    // A loose index scan, as for the zones: one seek per distinct priority.
    let rows = tx
        .query(
            &Statement::new(
                "WITH RECURSIVE p(priority) AS (
                     SELECT MAX(priority) FROM records WHERE campaign_id = $1 AND status = 'ready' AND time_zone = $2
                     UNION ALL
                     SELECT (SELECT MAX(priority) FROM records
                             WHERE campaign_id = $1 AND status = 'ready' AND time_zone = $2 AND priority < p.priority)
                     FROM p WHERE p.priority IS NOT NULL)
                 SELECT priority FROM p WHERE priority IS NOT NULL",
                vec![campaign.into(), zone.into()],
            ),
            &[Kind::Int],
        )
        .await?;
    rows.iter().map(|row| Ok(row.int(0)?)).collect()
}

/// The distinct stored time-zone values of a campaign's dialable records.
pub async fn campaign_zones(tx: &mut DirectTx<'_>, campaign: i64) -> Result<Vec<String>, FillError> {
    // A loose index scan: one seek along each class's (campaign, zone) index per zone,
    // instead of reading every record of a large sample.
    let mut zones = std::collections::BTreeSet::new();
    // The status is written into each statement: a planner picks a partial index only for a
    // condition it can read, not for a bound value.
    for status in ["new", "ready", "callback"] {
        let rows = tx
            .query(
                &Statement::built(
                    format!(
                        "WITH RECURSIVE z(tz) AS (
                             SELECT MIN(time_zone) FROM records WHERE campaign_id = $1 AND status = '{status}'
                             UNION ALL
                             SELECT (SELECT MIN(time_zone) FROM records
                                     WHERE campaign_id = $1 AND status = '{status}' AND time_zone > z.tz)
                             FROM z WHERE z.tz IS NOT NULL)
                         SELECT tz FROM z WHERE tz IS NOT NULL"
                    ),
                    vec![campaign.into()],
                ),
                &[Kind::Text],
            )
            .await?;
        for row in &rows {
            zones.insert(row.text(0)?.to_string());
        }
    }
    Ok(zones.into_iter().collect())
}

/// Which of `numbers` are on the campaign's or the global do-not-call list now: the check
/// made again right before dialing.
pub async fn listed(tx: &mut DirectTx<'_>, campaign: i64, numbers: &[&str]) -> Result<Vec<String>, FillError> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = vec![Param::Int(campaign)];
    params.extend(numbers.iter().map(|n| Param::Text((*n).to_string())));
    let rows = tx
        .query(
            &Statement::built(
                format!(
                    "SELECT e164 FROM dnc_entries WHERE e164 IN ({}) AND (campaign_id IS NULL OR campaign_id = $1)",
                    placeholders(2, numbers.len())
                ),
                params,
            ),
            &[Kind::Text],
        )
        .await?;
    rows.iter()
        .map(|row| Ok(row.text(0)?.to_string()))
        .collect::<Result<Vec<_>, ShapeError>>()
        .map_err(Into::into)
}

/// Parses a stored outcome name.
pub fn parse_outcome(name: &str) -> Option<Outcome> {
    [
        Outcome::Person,
        Outcome::Machine,
        Outcome::Busy,
        Outcome::NoAnswer,
        Outcome::Invalid,
        Outcome::Failed,
        Outcome::Abandoned,
    ]
    .into_iter()
    .find(|o| o.as_str() == name)
}
