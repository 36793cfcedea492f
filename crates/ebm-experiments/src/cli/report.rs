//! `ebm report`: a run directory as one self-contained HTML page, or served live.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::report::serve::{DEFAULT_ADDR, LiveView};
use crate::report::{Contents, default_out, write};

/// Flags of `ebm report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Run directory (a training run, or the output folder of an experiment).
    pub run: PathBuf,
    /// The HTML file to write (default: RUN/report.html).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Serve the report instead, refreshing as the run writes (default address 127.0.0.1 and
    /// a free port; --serve=HOST:PORT to choose).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = DEFAULT_ADDR)]
    pub serve: Option<String>,
}

/// Runs `ebm report`.
pub fn run(args: ReportArgs) -> Result<()> {
    if let Some(addr) = &args.serve {
        anyhow::ensure!(
            args.out.is_none(),
            "--serve shows the report in the browser: give --out or --serve, not both"
        );
        Contents::scan(&args.run)?;
        let view = LiveView::start(&args.run, addr)?;
        eprintln!(
            "live report of {} at {} (ctrl-c to stop)",
            args.run.display(),
            view.url()
        );
        view.wait();
        return Ok(());
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.run));
    write(&args.run, &out)?;
    println!("wrote {}", out.display());
    Ok(())
}
