//! `paceline demo`: a demo campaign with a generated sample, ready to look at.
//!
//! Idempotent: users and the campaign are created once; the sample is generated with a fixed
//! seed, so running the demo again imports the same rows and adds nothing.

use std::path::PathBuf;

use anyhow::Context;
use paceline_dialer::campaign::store as campaigns;
use paceline_dialer::campaign::{
    CallingHours, CampaignConfig, CampaignError, CampaignKind, CampaignSettings, CampaignStatus, Day, DialMode,
    LifecycleStep,
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
    /// Simulated interviewers taking calls beside the people signed in.
    #[arg(long, default_value_t = 5)]
    interviewers: usize,
    /// Set the demo up and stop, without serving the web application.
    #[arg(long)]
    setup_only: bool,
    #[command(flatten)]
    serve: super::serve::ServeArgs,
}

/// The demo's campaign.
const CAMPAIGN: &str = "demo-survey";
/// The demo's questionnaire (its id, and the file, built into the binary).
const QUESTIONNAIRE: &str = "health-survey";
const QUESTIONNAIRE_FILE: &[u8] = include_bytes!("../../questionnaires/health-survey.xlsx");
/// The simulated interviewers' password (they sign in through the runtime, not a browser).
const SIMULATED_PASSWORD: &str = "simulated-interviewer";
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
    paceline_cati::store::publish(&app.db, "health-survey.xlsx", QUESTIONNAIRE_FILE, app.now()).await?;
    let mut simulated = Vec::new();
    for i in 1..=args.interviewers {
        let login = format!("sim-{i:02}");
        let id = match users::find_user(&app.db, &login).await? {
            Some(user) => user.id,
            None => {
                let name = format!("Simulated Interviewer {i}");
                users::add_agent_batch(&app.db, &[(login, name)], SIMULATED_PASSWORD, TEAM, app.now()).await?[0]
            }
        };
        simulated.push(id);
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
                    questionnaire: Some(QUESTIONNAIRE.into()),
                    allowed_dial_modes: vec![DialMode::Predictive, DialMode::Progressive, DialMode::Preview],
                    // Every day, within the hours the law allows.
                    calling_hours: CallingHours {
                        days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun],
                        ranges: vec!["08:00-21:00".parse().expect("a valid range")],
                        ..CallingHours::default()
                    },
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
    let now = app.now();
    let start = simulated_start(&campaign.settings.calling_hours, now);
    if start != now {
        println!(
            "\nit is night for the demo's respondents: the simulated world's clock starts at {} and runs on in real time",
            start.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let live = crate::live::spawn(
        app.url.clone(),
        crate::live::LiveConfig {
            campaign: CAMPAIGN.into(),
            simulated,
            seed: 7,
            start,
        },
    )
    .await?;
    println!(
        "\n{} simulated interviewers are taking calls; sign in as 'agent' to take some too.",
        args.interviewers
    );
    super::serve::run_with(app, &args.serve, Some(live)).await
}

/// When the simulated world's clock starts: now, or, when it is night in all of the demo
/// sample's time zones, the next quarter hour when some of them may be called.
fn simulated_start(hours: &CallingHours, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let zones: Vec<String> = [
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
    ]
    .iter()
    .map(|z| z.to_string())
    .collect();
    (0..96)
        .map(|quarter| now + chrono::Duration::minutes(15 * quarter))
        .find(|at| !paceline_dialer::runtime::hopper::open_zones(hours, &zones, *at).is_empty())
        .unwrap_or(now)
}
