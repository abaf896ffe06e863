//! The command-line interface: arguments, and the dispatch to one module per command group.

mod aapor;
mod campaign;
mod demo;
mod dnc;
mod export;
mod interviewer;
mod questionnaire;
mod report;
mod return_visit;
mod sample;
mod serve;
mod simulate;
mod team;
mod user;

use anyhow::Context;
use clap::{Parser, Subcommand};
use paceline_dialer::Db;
use paceline_dialer::clock::{Clock, WallClock};
use paceline_dialer::users::{self, User};

/// Paceline: predictive outbound dialer and CATI survey engine.
#[derive(Debug, Parser)]
#[command(name = "paceline", version, about, propagate_version = true)]
pub struct Args {
    /// The store: a SQLite file path, sqlite://PATH or postgres://... (default: paceline.db
    /// in the working directory).
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "PATH|URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Users: agents, supervisors, admins, analysts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Teams of agents.
    #[command(subcommand)]
    Team(team::TeamCommand),
    /// Campaigns: settings and lifecycle.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// A campaign's sample records: import, list, show, edit, assign.
    #[command(subcommand)]
    Sample(sample::SampleCommand),
    /// Do-not-call lists.
    #[command(subcommand)]
    Dnc(dnc::DncCommand),
    /// Sets up a demo campaign with a generated sample, then serves the web application.
    Demo(demo::DemoArgs),
    /// Serves the web application: pages for people, the JSON API under /api/.
    Serve(serve::ServeArgs),
    /// Runs a call-simulator scenario through the campaign runtime and prints its figures
    /// (uses its own store, not --database).
    Simulate(simulate::SimulateArgs),
    /// AAPOR response, cooperation, refusal and contact rates from disposition counts
    /// (needs no store).
    Aapor(aapor::AaporArgs),
    /// Interviewer look-ups: calls, a record's answers, the leaderboard.
    #[command(subcommand)]
    Interviewer(interviewer::InterviewerCommand),
    /// Return-visit lists: draw by rule, list with overdue flags, mark done.
    #[command(subcommand)]
    ReturnVisit(return_visit::ReturnVisitCommand),
    /// Questionnaire files: check one (needs no store).
    #[command(subcommand)]
    Questionnaire(questionnaire::QuestionnaireCommand),
    /// Reports over the stored facts: agent productivity, dialer, dispositions, quotas,
    /// AAPOR rates, interview length, drop-off.
    Report(report::ReportArgs),
    /// Survey data for analysts: a campaign's answers one row per interview, and its codebook.
    #[command(subcommand)]
    Export(export::ExportCommand),
}

/// The store's URL: `--database`, `DATABASE_URL`, or `paceline.db` here.
fn database_url(database: Option<String>) -> String {
    database.unwrap_or_else(|| "paceline.db".to_string())
}

/// What every command needs: the store and the clock.
pub struct App {
    db: Db,
    /// The store's URL (the live runtime opens its own connections).
    url: String,
    clock: WallClock,
}

impl App {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The user named by `--by`, who must exist.
    async fn actor(&self, login: &str) -> anyhow::Result<User> {
        users::find_user(&self.db, login)
            .await?
            .with_context(|| format!("no user with login '{login}' (given with --by or PACELINE_USER)"))
    }
}

/// Runs one command.
pub async fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Simulate(simulate) => return simulate::run_simulation(simulate).await,
        Command::Aapor(aapor) if !aapor::needs_store(&aapor) => return aapor::run(aapor, None).await,
        Command::Questionnaire(command) => return questionnaire::run(command),
        _ => {}
    }
    let url = database_url(args.database);
    let db = Db::open(&url)
        .await
        .with_context(|| format!("opening the store at {url}"))?;
    let ctx = App {
        db,
        url,
        clock: WallClock,
    };
    let result = match args.command {
        Command::User(command) => user::run(&ctx, command).await,
        Command::Team(command) => team::run(&ctx, command).await,
        Command::Campaign(command) => campaign::run(&ctx, command).await,
        Command::Sample(command) => sample::run(&ctx, command).await,
        Command::Dnc(command) => dnc::run(&ctx, command).await,
        Command::Interviewer(command) => interviewer::run(&ctx, command).await,
        Command::ReturnVisit(command) => return_visit::run(&ctx, command).await,
        Command::Report(command) => report::run(&ctx, command).await,
        Command::Export(command) => export::run(&ctx, command).await,
        Command::Demo(command) => demo::run(&ctx, command).await,
        Command::Serve(command) => serve::run(&ctx, &command).await,
        Command::Aapor(aapor) => aapor::run(aapor, Some(&ctx.db)).await,
        Command::Simulate(_) | Command::Questionnaire(_) => {
            unreachable!("handled before the store is opened")
        }
    };
    ctx.db.close().await;
    result
}
