//! The reports over a small synthetic history, three ways: with Polars over the Parquet
//! files, through `paceline_analytics::run` over the SQLite store the generator loaded (the
//! path `paceline report` takes), and as the benchmark's SQL over that store. All agree.

use paceline_analytics::facts::Filter;
use paceline_analytics::period::{Interval, Period};
use paceline_analytics::synthetic::{self, ATTEMPTS_FILE, Config, Outputs, STATE_CHANGES_FILE};
use paceline_analytics::{Grouping, dialer, productivity};
use polars::prelude::*;

fn scan(dir: &std::path::Path, file: &str) -> LazyFrame {
    LazyFrame::scan_parquet(
        PlRefPath::new(dir.join(file).to_str().unwrap()),
        ScanArgsParquet::default(),
    )
    .unwrap()
}

#[test]
fn the_reports_agree_from_parquet_from_the_store_and_as_sql() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("history.sqlite");
    let config = Config {
        seed: 11,
        agents: 20,
        team_size: 2,
        campaigns: 5,
        days: 14,
        inbound_share: 0.5,
        ..Config::default()
    };
    let totals = synthetic::write(
        &config,
        &Outputs {
            parquet_dir: Some(dir.path().to_path_buf()),
            sqlite: Some(store.clone()),
        },
    )
    .unwrap();
    assert!(totals.state_changes > 10_000 && totals.attempts > 2_000, "{totals:?}");
    let to = config.to();

    let from_parquet = productivity::report(
        scan(dir.path(), STATE_CHANGES_FILE),
        scan(dir.path(), ATTEMPTS_FILE),
        to,
        Period::Day,
    )
    .unwrap();
    let as_sql = synthetic::sql_productivity_per_day(&store, to).unwrap();
    let agreement = synthetic::compare(&from_parquet, &as_sql, &["agent", "period"]).unwrap();
    assert_eq!(agreement.rows, from_parquet.height());
    let total = |name: &str| agreement.totals.iter().find(|(n, ..)| n == name).unwrap().1;
    assert!(total("logged_in") > 0.0 && total("talk") > 0.0 && total("completes") > 0.0);

    let dialer_from_parquet = dialer::report(scan(dir.path(), ATTEMPTS_FILE), Interval::QuarterHour).unwrap();
    let dialer_as_sql = synthetic::sql_dialer_per_quarter_hour(&store).unwrap();
    let agreement = synthetic::compare(&dialer_from_parquet, &dialer_as_sql, &["campaign", "interval"]).unwrap();
    assert_eq!(
        agreement.totals.iter().find(|(n, ..)| n == "dials").unwrap().1,
        totals.attempts as f64
    );

    // The store, read the way `paceline report` reads it, gives the same reports. (On a
    // multi-threaded runtime, as the application's: Polars blocks in place while it plans a
    // query, which a current-thread runtime refuses.)
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime
        .block_on(paceline_dialer::Db::open(store.to_str().unwrap()))
        .unwrap();
    let filter = Filter {
        from: config.from(),
        to,
        campaign: None,
        team: None,
        agent: None,
        records: Vec::new(),
    };
    for period in [Period::Day, Period::Week, Period::Month] {
        let grouping = Grouping {
            period,
            interval: Interval::Hour,
            zone: chrono_tz::UTC,
        };
        let from_store = runtime
            .block_on(paceline_analytics::run(&db, "agent-productivity", &filter, grouping))
            .unwrap();
        let from_parquet = productivity::report(
            scan(dir.path(), STATE_CHANGES_FILE),
            scan(dir.path(), ATTEMPTS_FILE),
            to,
            period,
        )
        .unwrap();
        synthetic::compare(&from_store, &from_parquet, &["agent", "period"])
            .unwrap_or_else(|e| panic!("{period}: {e}"));
        assert_eq!(from_store.get_column_names(), from_parquet.get_column_names());
    }
    let from_store = runtime
        .block_on(paceline_analytics::run(
            &db,
            "dialer",
            &filter,
            Grouping {
                period: Period::Day,
                interval: Interval::Hour,
                zone: chrono_tz::UTC,
            },
        ))
        .unwrap();
    let from_parquet = dialer::report(scan(dir.path(), ATTEMPTS_FILE), Interval::Hour).unwrap();
    synthetic::compare(&from_store, &from_parquet, &["campaign", "interval"]).unwrap();
    runtime.block_on(db.close());
}
