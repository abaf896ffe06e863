//! `paceline export answers|codebook`: a survey campaign's interviews as data for statistics
//! packages (CSV, JSON, Parquet, XLSX, SPSS `.sav`, triple-S), and the codebook that
//! describes them (Markdown or HTML). Files are written whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};

use paceline_analytics::export::{self, Format};
use paceline_analytics::record_filter::{self, FieldCondition};
use paceline_analytics::survey::codebook;
use paceline_analytics::survey::dataset::{self, Built};
use paceline_analytics::survey::facts::{self, Which};
use paceline_analytics::{ReportError, sav, sss};

use super::App;
use super::report::when;

#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// A campaign's answers, one row per interview, with sample fields and paradata.
    Answers(AnswersArgs),
    /// The codebook of the same data: variables, labels, codes, routing, counts.
    Codebook(CodebookArgs),
}

/// Which interviews and which variables.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// The survey campaign (name or id).
    #[arg(long)]
    campaign: String,
    /// all, complete or partial interviews.
    #[arg(long, default_value = "all")]
    interviews: Which,
    /// Interviews started from this day (YYYY-MM-DD, UTC) or time (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Interviews started up to this day (inclusive) or time (exclusive).
    #[arg(long)]
    to: Option<String>,
    /// Only these sample fields, comma-separated (default: all the campaign's fields).
    #[arg(long, value_delimiter = ',')]
    fields: Option<Vec<String>>,
    /// The language of the labels (default: the questionnaire's first).
    #[arg(long)]
    language: Option<String>,
    /// Only interviews of records whose field passes this condition (repeat to combine):
    /// FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT (contains), FIELD<VALUE, <=, >, >=.
    #[arg(long = "where", value_name = "CONDITION")]
    records: Vec<FieldCondition>,
}

#[derive(Debug, clap::Args)]
pub struct AnswersArgs {
    #[command(flatten)]
    selection: Selection,
    /// csv, json, parquet, xlsx, sav (SPSS) or sss (triple-S XML; the data goes beside it,
    /// named like the XML file with .dat).
    #[arg(long, default_value = "csv")]
    format: String,
    /// CSV, JSON and XLSX: choices as their labels instead of their codes.
    #[arg(long)]
    labels: bool,
    /// Write to this file (whole or not at all); CSV and JSON go to the terminal without it.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CodebookArgs {
    #[command(flatten)]
    selection: Selection,
    /// md (Markdown) or html.
    #[arg(long, default_value = "md")]
    format: String,
    /// Write to this file (whole or not at all) instead of the terminal.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub async fn run(app: &App, command: ExportCommand) -> anyhow::Result<()> {
    match command {
        ExportCommand::Answers(args) => answers(app, args).await,
        ExportCommand::Codebook(args) => codebook(app, args).await,
    }
}

async fn build(app: &App, selection: Selection) -> anyhow::Result<Built> {
    let range = match (&selection.from, &selection.to) {
        (None, None) => None,
        (from, to) => {
            let to = match to {
                Some(text) => when("--to", text, true)?,
                None => app.now(),
            };
            let from = match from {
                Some(text) => when("--from", text, false)?,
                None => chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
            };
            anyhow::ensure!(from < to, "--from {from} is not before --to {to}");
            Some((from, to))
        }
    };
    let mut facts = facts::read(&app.db, &selection.campaign, selection.interviews, range).await?;
    record_filter::restrict(&app.db, &mut facts, &selection.records, "--where").await?;
    if facts.interviews.is_empty() {
        return Err(ReportError::Empty(format!(
            "campaign '{}' has no {}interviews{}",
            facts.campaign.name,
            match selection.interviews {
                Which::All => "",
                Which::Complete => "complete ",
                Which::Partial => "partial ",
            },
            [
                range.map(|_| " started in that range".to_string()),
                (!selection.records.is_empty())
                    .then(|| format!(" of records with {}", record_filter::describe(&selection.records))),
            ]
            .into_iter()
            .flatten()
            .collect::<String>()
        ))
        .into());
    }
    let built = dataset::build(
        &facts,
        &dataset::Options {
            language: selection.language,
            fields: selection.fields,
        },
    )?;
    if !built.warnings.is_empty() {
        eprintln!("{} answers left out:", built.warnings.len());
        for warning in built.warnings.iter().take(20) {
            eprintln!("  {warning}");
        }
        if built.warnings.len() > 20 {
            eprintln!("  and {} more", built.warnings.len() - 20);
        }
    }
    Ok(built)
}

fn needs_file(format: &str, output: &Option<PathBuf>) -> anyhow::Result<()> {
    anyhow::ensure!(
        output.is_some(),
        "--format {format} is written to a file: give --output FILE"
    );
    Ok(())
}

async fn answers(app: &App, args: AnswersArgs) -> anyhow::Result<()> {
    let format = args.format.as_str();
    anyhow::ensure!(
        ["csv", "json", "parquet", "xlsx", "sav", "sss"].contains(&format),
        "'{format}' is not an answers format: csv, json, parquet, xlsx, sav or sss"
    );
    if !matches!(format, "csv" | "json") {
        needs_file(format, &args.output)?;
    }
    let built = build(app, args.selection).await?;
    let data = &built.dataset;
    match (format, &args.output) {
        ("sav", Some(path)) => export::atomically(path, |file| {
            let mut out = std::io::BufWriter::new(file);
            sav::write(data, &mut out).map_err(|e| ReportError::BadOption {
                option: "--format sav".into(),
                message: e.to_string(),
            })?;
            out.flush().map_err(|source| write_error(path, source))
        })?,
        ("sss", Some(path)) => write_sss(data, path)?,
        (tabular, output) => {
            let format: Format = tabular.parse().map_err(anyhow::Error::msg)?;
            let mut frame = paceline_analytics::labelled::frame(data, args.labels)?;
            match output {
                Some(path) => export::write_file(&mut frame, format, path)?,
                None => export::write_to(&mut frame, format, &mut std::io::stdout().lock())?,
            }
        }
    }
    if let Some(path) = &args.output {
        eprintln!(
            "{} interviews, {} variables written to {}",
            data.rows.len(),
            data.variables.len(),
            path.display()
        );
    }
    Ok(())
}

/// Triple-S: the XML at `path`, the data beside it with `.dat`; the data first, so that an
/// XML file never names data that is not there.
fn write_sss(data: &paceline_analytics::labelled::Dataset, path: &Path) -> anyhow::Result<()> {
    let dat = path.with_extension("dat");
    anyhow::ensure!(
        dat != path,
        "--output {}: name the XML file, e.g. survey.xml",
        path.display()
    );
    let dat_name = dat
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut xml = Vec::new();
    let mut rows = Vec::new();
    sss::write(data, &mut xml, &mut rows, &dat_name).map_err(|e| ReportError::BadOption {
        option: "--format sss".into(),
        message: e.to_string(),
    })?;
    export::atomically(&dat, |file| file.write_all(&rows).map_err(|e| write_error(&dat, e)))?;
    export::atomically(path, |file| file.write_all(&xml).map_err(|e| write_error(path, e)))?;
    Ok(())
}

fn write_error(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Write {
        path: path.display().to_string(),
        source,
    }
}

async fn codebook(app: &App, args: CodebookArgs) -> anyhow::Result<()> {
    let render: fn(&paceline_analytics::labelled::Dataset) -> String = match args.format.as_str() {
        "md" | "markdown" => codebook::markdown,
        "html" => codebook::html,
        other => anyhow::bail!("'{other}' is not a codebook format: md or html"),
    };
    let built = build(app, args.selection).await?;
    let text = render(&built.dataset);
    match &args.output {
        Some(path) => {
            export::atomically(path, |file| {
                file.write_all(text.as_bytes()).map_err(|e| write_error(path, e))
            })?;
            eprintln!(
                "the codebook of {} variables written to {}",
                built.dataset.variables.len(),
                path.display()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}
