//! The simulated call centre's store: a running survey campaign whose settings come from the
//! scenario, its agents (one team), and a generated sample, written in bulk so that a run
//! starts in seconds.

use chrono::{DateTime, Utc};

use super::scenario::Scenario;
use crate::campaign::store as campaigns;
use crate::campaign::{
    AbandonLimit, AmdSettings, CallingHours, CampaignConfig, CampaignError, CampaignKind, CampaignSettings, Day,
    DialMode, LifecycleStep,
};
use crate::sample::fields::{FieldSpec, FieldType};
use crate::store::{Db, WriteTx};
use crate::users::{self, UserError, UserId};
use crate::with_db;

/// Why the simulated centre could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The scenario's settings are not a legal campaign.
    #[error("scenario '{scenario}' does not make a legal campaign: {source}")]
    Campaign {
        /// The scenario.
        scenario: String,
        /// Why.
        #[source]
        source: CampaignError,
    },
    /// The agents could not be created.
    #[error(transparent)]
    Users(#[from] UserError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// What was set up.
#[derive(Debug, Clone)]
pub struct Centre {
    /// The campaign.
    pub campaign: i64,
    /// Its name.
    pub campaign_name: String,
    /// The agents, in login order.
    pub agents: Vec<UserId>,
    /// Records in the sample.
    pub records: u64,
}

/// The password of every simulated agent.
pub const AGENT_PASSWORD: &str = "simulated-agent";

/// Records enough never to run dry: the dials the agents could make in the run, with a
/// margin, at the lowest person share the scenario has.
pub fn default_records(scenario: &Scenario) -> u64 {
    let most_agents = scenario
        .agents
        .by_hour
        .iter()
        .map(|a| a.count)
        .chain([scenario.agents.count])
        .max()
        .unwrap_or(1);
    let cycle = scenario.talk_time_s.mean() + scenario.agents.wrap_up_s.mean() + 5.0;
    let contacts = f64::from(most_agents) * scenario.total_hours() * 3600.0 / cycle.max(1.0);
    let lowest_share = scenario
        .outcomes
        .by_hour
        .iter()
        .map(|s| s.shares.person)
        .chain([scenario.outcomes.base.person])
        .filter(|p| *p > 0.0)
        .fold(1.0_f64, f64::min);
    ((contacts / lowest_share) * 1.3) as u64 + 1000
}

/// Creates the campaign, the agents and the sample, and starts the campaign.
pub async fn set_up(db: &Db, scenario: &Scenario, at: DateTime<Utc>) -> Result<Centre, SetupError> {
    set_up_with(db, scenario, at, |_| {}).await
}

/// [`set_up`], with the campaign's configuration adjusted first (another dial mode, kind,
/// retry rules or calling hours), as tests of the runtime need.
pub async fn set_up_with(
    db: &Db,
    scenario: &Scenario,
    at: DateTime<Utc>,
    adjust: impl FnOnce(&mut CampaignConfig),
) -> Result<Centre, SetupError> {
    let name = format!("sim-{}", scenario.name);
    let team = format!("{name}-team");
    match users::add_team(db, &team, at).await {
        Ok(_) | Err(UserError::DuplicateTeam(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let most_agents = scenario
        .agents
        .by_hour
        .iter()
        .map(|a| a.count)
        .chain([scenario.agents.count])
        .max()
        .unwrap_or(1);
    let logins: Vec<(String, String)> = (1..=most_agents)
        .map(|n| (format!("{name}-agent-{n:03}"), format!("Simulated agent {n}")))
        .collect();
    let agents = users::add_agent_batch(db, &logins, AGENT_PASSWORD, &team, at).await?;

    let mut id_field = FieldSpec::new("respondent_id", FieldType::Text);
    (id_field.required, id_field.key) = (true, true);
    let mut phone = FieldSpec::new("phone", FieldType::Phone);
    phone.required = true;
    let settings = CampaignSettings {
        dial_mode: DialMode::Predictive,
        caller_id: Some("+12025550143".into()),
        abandon: AbandonLimit {
            ceiling: scenario.abandon_target,
            window_hours: scenario.window_hours.ceil().max(1.0) as u32,
            grace_s: scenario.connect_grace_s,
            ..AbandonLimit::default()
        },
        amd: AmdSettings {
            enabled: scenario.amd.enabled,
            false_positive: if scenario.amd.enabled {
                scenario.amd.false_positive
            } else {
                0.0
            },
            machine_message: None,
        },
        ring_timeout_s: scenario.ring_timeout_s.round() as i64,
        calling_hours: CallingHours {
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun],
            ranges: vec!["08:00-21:00".parse().expect("a valid range")],
            by_day: Default::default(),
            holidays: Vec::new(),
        },
        fields: vec![id_field, phone],
        ..CampaignSettings::default()
    };
    let mut config = CampaignConfig {
        kind: Some(CampaignKind::Survey),
        agents: vec![],
        teams: vec![team],
        dispositions: None,
        settings,
    };
    adjust(&mut config);
    let kind = config.kind.unwrap_or(CampaignKind::Survey);
    let failed = |source| SetupError::Campaign {
        scenario: scenario.name.clone(),
        source,
    };
    let campaign = campaigns::create(db, &name, kind, &config, at).await.map_err(failed)?;
    let records = scenario.records.unwrap_or_else(|| default_records(scenario));
    insert_records(db, campaign.id, scenario, records, at).await?;
    db.refresh_statistics().await?;
    for step in [LifecycleStep::Publish, LifecycleStep::Start] {
        campaigns::step(db, &name, step, None, at).await.map_err(failed)?;
    }
    Ok(Centre {
        campaign: campaign.id,
        campaign_name: name,
        agents,
        records,
    })
}

/// Writes `count` generated records, with time zones taken round-robin from the scenario, in
/// one transaction. Their numbers are synthetic (+1 200 000 0001 on): the simulated world
/// decides what happens to a number, whatever it is.
async fn insert_records(
    db: &Db,
    campaign: i64,
    scenario: &Scenario,
    count: u64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let zones: Vec<&str> = scenario.time_zones.iter().map(|tz| tz.name()).collect();
    let zones = serde_json::to_string(&zones).expect("names serialise");
    let k = scenario.time_zones.len().max(1) as i64;
    with_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let records = match db.backend() {
            crate::store::Backend::Sqlite => {
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
                 INSERT INTO records (campaign_id, dedupe_key, status, priority, time_zone, time_zone_source, fields,
                    created_at, updated_at)
                 SELECT $2, printf('S%08d', i), 'new', 0, json_extract($3, '$[' || (i % $4) || ']'), 'column',
                    json_object('respondent_id', printf('S%08d', i), 'phone', '+1' || (2000000000 + i)), $5, $5
                 FROM n"
            }
            crate::store::Backend::Postgres => {
                "INSERT INTO records (campaign_id, dedupe_key, status, priority, time_zone, time_zone_source, fields,
                    created_at, updated_at)
                 SELECT $2, 'S' || lpad(i::text, 8, '0'), 'new', 0, ($3::jsonb ->> (i % $4)::int), 'column',
                    jsonb_build_object('respondent_id', 'S' || lpad(i::text, 8, '0'), 'phone', '+1' || (2000000000 + i)),
                    $5, $5
                 FROM generate_series(1, $1::bigint) AS i"
            }
        };
        sqlx::query(records)
            .bind(count as i64)
            .bind(campaign)
            .bind(&zones)
            .bind(k)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO record_phones (record_id, position, field, e164, number_type, region)
             SELECT id, 0, 'phone', fields ->> 'phone', 'fixed_line_or_mobile', 'US' FROM records WHERE campaign_id = $1",
        )
        .bind(campaign)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })
}
