//! `paceline serve`: the web application on the store.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::App;
use crate::web::{AppState, serve};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The port (0: any free one; the address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
}

/// Serves until the process is stopped.
pub async fn run(app: &App, args: &ServeArgs) -> anyhow::Result<()> {
    run_with(app, args, None).await
}

/// Serves, with the live campaign runtime `live` when there is one.
pub async fn run_with(app: &App, args: &ServeArgs, live: Option<crate::live::Live>) -> anyhow::Result<()> {
    // With a live runtime, "now" is its simulated world's (the demo's, started at night, runs
    // from the next legal hour).
    let clock: Arc<dyn paceline_dialer::clock::Clock> = match &live {
        Some(live) => live.clock.clone(),
        None => Arc::new(app.clock),
    };
    let mut state = AppState::new(app.db.clone(), clock);
    state.live = live;
    serve(state, SocketAddr::new(args.host, args.port), |bound| {
        println!("Paceline is listening on http://{bound}/");
        let _ = std::io::stdout().flush();
    })
    .await
}
