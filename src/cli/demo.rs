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
    /// Agents for a load generator to sign in over HTTP (`load-0001`... with the password
    /// `load-agent-pw`), assigned to both demo campaigns; see BENCHMARKS.md.
    #[arg(long, default_value_t = 0)]
    load_agents: usize,
    /// Set the demo up and stop, without serving the web application.
    #[arg(long)]
    setup_only: bool,
    #[command(flatten)]
    serve: super::serve::ServeArgs,
}

/// The demo's campaign.
const CAMPAIGN: &str = "demo-survey";
/// The demo's second campaign: the same questionnaire on a second sample (a survey's second
/// wave), so agents assigned to both can switch between them.
const SECOND_CAMPAIGN: &str = "demo-wave-2";
/// The load generator's agents' password.
pub const LOAD_AGENT_PASSWORD: &str = "load-agent-pw";
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
    let mut load = Vec::new();
    for i in 1..=args.load_agents {
        let login = format!("load-{i:04}");
        if users::find_user(&app.db, &login).await?.is_none() {
            load.push((login, format!("Load Agent {i}")));
        }
    }
    for batch in load.chunks(500) {
        users::add_agent_batch(&app.db, batch, LOAD_AGENT_PASSWORD, TEAM, app.now()).await?;
    }
    let campaign = demo_campaign(app, CAMPAIGN, &args.sample, args.records, 1).await?;
    let wave_2 = args.sample.with_file_name(format!(
        "{}-wave-2.csv",
        args.sample.file_stem().unwrap_or_default().to_string_lossy()
    ));
    demo_campaign(app, SECOND_CAMPAIGN, &wave_2, (args.records / 5).max(1), 2).await?;

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
    if args.load_agents > 0 {
        println!(
            "  {:<10} load-0001...load-{:04} password {LOAD_AGENT_PASSWORD} (for a load generator)",
            "agent", args.load_agents
        );
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
            campaigns: vec![CAMPAIGN.into(), SECOND_CAMPAIGN.into()],
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

/// Creates (once) and publishes a demo survey campaign, and imports its generated sample of
/// `records` rows (the same rows for the same seed, so a second run adds nothing).
async fn demo_campaign(
    app: &App,
    name: &str,
    sample: &std::path::Path,
    records: u64,
    seed: u64,
) -> anyhow::Result<paceline_dialer::campaign::Campaign> {
    let campaign = match campaigns::find(&app.db, name).await {
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
            campaigns::create(&app.db, name, CampaignKind::Survey, &config, app.now()).await?
        }
        Err(e) => return Err(e.into()),
    };
    if campaign.status == CampaignStatus::Draft {
        campaigns::step(&app.db, name, LifecycleStep::Publish, None, app.now()).await?;
    }
    let file = std::fs::File::create(sample).with_context(|| format!("creating {}", sample.display()))?;
    SyntheticSample {
        rows: records,
        seed,
        ..SyntheticSample::default()
    }
    .write_csv(std::io::BufWriter::new(file))
    .with_context(|| format!("writing {}", sample.display()))?;
    let summary = import_file(&app.db, name, sample, &ImportOptions::default(), app.now()).await?;
    println!("\ncampaign '{name}':");
    super::sample::print_summary(sample, &summary);
    Ok(campaign)
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
