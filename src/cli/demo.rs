//! `paceline demo`: a demo campaign with a generated sample, ready to look at.
//!
//! Idempotent: users and the campaign are created once; the sample is generated with a fixed
//! seed, so running the demo again imports the same rows and adds nothing.

use std::path::PathBuf;

use anyhow::Context;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{
    CampaignConfig, CampaignError, CampaignKind, CampaignSettings, CampaignStatus, LifecycleStep,
};
use paceline_dialer::sample::import::{ImportOptions, import_file};
use paceline_dialer::sample::record::{self, RecordFilter};
use paceline_dialer::sample::synthetic::{self, SyntheticSample};
use paceline_dialer::users::{self, NewUser, Role, UserError};

use super::App;
use crate::output::{self, or_dash};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Records to generate.
    #[arg(long, default_value_t = 10_000)]
    records: u64,
    /// Where to write the generated sample file.
    #[arg(long, default_value = "paceline-demo-sample.csv")]
    sample: PathBuf,
    /// Set the demo up and stop, without serving the web application.
    #[arg(long)]
    setup_only: bool,
    #[command(flatten)]
    serve: super::serve::ServeArgs,
}

/// The demo's campaign.
const CAMPAIGN: &str = "demo-survey";
/// The demo's team.
const TEAM: &str = "demo-team";
/// Demo logins, their roles and passwords (printed for the person trying the demo).
const LOGINS: [(&str, &str, Role, &str); 4] = [
    ("admin", "Demo Admin", Role::Admin, "demo-admin-pw"),
    ("supervisor", "Demo Supervisor", Role::Supervisor, "demo-supervisor-pw"),
    ("agent", "Demo Agent", Role::Agent, "demo-agent-pw"),
    ("analyst", "Demo Analyst", Role::Analyst, "demo-analyst-pw"),
];

pub async fn run(app: &App, args: DemoArgs) -> anyhow::Result<()> {
    match users::add_team(&app.db, TEAM, app.now()).await {
        Ok(_) | Err(UserError::DuplicateTeam(_)) => {}
        Err(e) => return Err(e.into()),
    }
    for (login, name, role, password) in LOGINS {
        let teams = if matches!(role, Role::Agent | Role::Supervisor) {
            vec![TEAM.to_string()]
        } else {
            vec![]
        };
        let new = NewUser {
            login: login.into(),
            display_name: name.into(),
            password: password.into(),
            roles: vec![role],
            teams,
            skills: vec![],
        };
        match users::add_user(&app.db, &new, app.now()).await {
            Ok(_) | Err(UserError::DuplicateLogin(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let campaign = match campaigns::find(&app.db, CAMPAIGN).await {
        Ok(campaign) => campaign,
        Err(CampaignError::NotFound(_)) => {
            let config = CampaignConfig {
                kind: Some(CampaignKind::Survey),
                agents: vec!["agent".into()],
                teams: vec![TEAM.into()],
                dispositions: None,
                settings: CampaignSettings {
                    caller_id: Some("+12125550100".into()),
                    fields: synthetic::fields(),
                    ..CampaignSettings::default()
                },
            };
            campaigns::create(&app.db, CAMPAIGN, CampaignKind::Survey, &config, app.now()).await?
        }
        Err(e) => return Err(e.into()),
    };
    if campaign.status == CampaignStatus::Draft {
        campaigns::step(&app.db, CAMPAIGN, LifecycleStep::Publish, None, app.now()).await?;
    }
    let file = std::fs::File::create(&args.sample).with_context(|| format!("creating {}", args.sample.display()))?;
    SyntheticSample {
        rows: args.records,
        ..SyntheticSample::default()
    }
    .write_csv(std::io::BufWriter::new(file))
    .with_context(|| format!("writing {}", args.sample.display()))?;
    let summary = import_file(&app.db, CAMPAIGN, &args.sample, &ImportOptions::default(), app.now()).await?;
    super::sample::print_summary(&args.sample, &summary);

    let first = record::list(
        &app.db,
        CAMPAIGN,
        &RecordFilter {
            limit: Some(10),
            ..RecordFilter::default()
        },
    )
    .await?;
    println!("\nthe first records of '{CAMPAIGN}' in dialing order:");
    output::table(
        &["id", "status", "respondent", "name", "phones", "time zone"],
        first.iter().map(|r| {
            let field = |name: &str| r.fields.get(name).and_then(|v| v.as_str()).unwrap_or("").to_string();
            vec![
                r.id.to_string(),
                r.status.to_string(),
                field("respondent_id"),
                format!("{} {}", field("first_name"), field("last_name")),
                r.phones.iter().map(|p| p.e164.as_str()).collect::<Vec<_>>().join(" "),
                or_dash(r.time_zone.as_ref()),
            ]
        }),
    );
    let counts = campaigns::status_counts(&app.db, campaign.id).await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    println!("records in the campaign: {total}");
    println!("\ndemo logins:");
    for (login, _, role, password) in LOGINS {
        println!("  {role:<10} {login:<11} password {password}");
    }
    println!("\nlook further with: paceline campaign show {CAMPAIGN}   paceline sample list --campaign {CAMPAIGN}");
    if args.setup_only {
        return Ok(());
    }
    super::serve::run(app, &args.serve).await
}
