//! The `strongroom` binary: `serve` runs the server; `agent` serves a managed identity's tokens
//! on a workload host (`agent.rs`); every other subcommand is the az-shaped CLI from
//! `strongroom-cli`, which talks to a running server over HTTPS.

// A request must never panic the server: fallible paths return errors.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agent;
mod audit_log;
mod config;
mod data_dir;
mod deployment_backup;
mod master_key;
mod master_key_rotation;
mod metrics_listener;
mod migrate;
mod proxy;
mod server;
mod store_open;
mod tls;
mod transport;

use clap::{Parser, Subcommand};

/// glibc's allocator spent ~12 % of a secret GET in malloc/free under load (perf, cpu-clock);
/// mimalloc's thread-local free lists cut that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Strongroom: a self-hosted Azure Key Vault.
#[derive(Debug, Parser)]
#[command(name = "strongroom", version, about)]
struct Cli {
    /// Where Strongroom keeps its CA, keys, database and credentials.
    #[arg(
        long,
        env = "STRONGROOM_DATA_DIR",
        default_value = "strongroom-data",
        global = true
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (HTTPS only).
    Serve(config::ServeArgs),
    /// Serve a managed identity's tokens to local programs (App Service, Azure Arc, IMDS).
    Agent(agent::AgentArgs),
    /// The audit log that `serve --audit-log` writes
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy a whole deployment into a new directory while `serve` runs: the database as of
    /// one commit (SQLite online backup), the CAs, credentials and master-key material, and a
    /// manifest with every file's SHA-256. Prints what it wrote as JSON
    Backup(deployment_backup::BackupArgs),
    /// Make a new data directory (it must not exist or be empty) from a backup: every file
    /// checked against the manifest, the master key proved to open the database. Prints what
    /// it restored as JSON
    Restore(deployment_backup::RestoreArgs),
    /// Copy the deployment in the data directory from its SQLite file into an empty
    /// PostgreSQL database (serve stopped), verified row for row; then serve it with
    /// `serve --store URL`. Prints what it copied as JSON
    Migrate(migrate::MigrateArgs),
    #[command(flatten)]
    Cli(strongroom_cli::CliCommand),
}

/// `strongroom audit …`
#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain of audit log files, oldest first (e.g. `audit.log.2 audit.log.1
    /// audit.log`): every line intact, none removed, added or moved, and each file starting
    /// where the one before ended. Prints what it checked; exits 1 at the first break
    Verify {
        /// The files, oldest first
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List a vault's audit events (or all), newest first, from the running server (`GET
    /// /strongroom/audit/events`, as the administrator). Prints a JSON array
    List(strongroom_cli::AuditListArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("ERROR: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Serve(args) => {
            init_tracing();
            match runtime.block_on(server::serve(cli.data_dir, args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("ERROR: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Agent(args) => {
            init_tracing();
            match runtime.block_on(agent::run(&cli.data_dir, args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("ERROR: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Audit(AuditCommand::Verify { files }) => audit_log::verify_files(&files),
        Command::Audit(AuditCommand::List(args)) => {
            runtime.block_on(strongroom_cli::audit_list(&cli.data_dir, args))
        }
        Command::Backup(args) => {
            print_report(runtime.block_on(deployment_backup::backup(&cli.data_dir, &args)))
        }
        Command::Restore(args) => {
            print_report(runtime.block_on(deployment_backup::restore(&cli.data_dir, &args)))
        }
        Command::Migrate(args) => {
            print_report(runtime.block_on(migrate::migrate(&cli.data_dir, &args)))
        }
        Command::Cli(command) => runtime.block_on(strongroom_cli::run(&cli.data_dir, command)),
    }
}

/// A command's answer: its JSON on standard output (the product, not a log), its warnings
/// and any error on standard error.
fn print_report(result: anyhow::Result<deployment_backup::Report>) -> ExitCode {
    match result {
        Ok(report) => {
            for warning in &report.warnings {
                eprintln!("WARNING: {warning}");
            }
            let _ = writeln!(std::io::stdout().lock(), "{:#}", report.answer);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("ERROR: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    #[allow(
        clippy::disallowed_methods,
        reason = "the log filter is the one environment read outside Config"
    )]
    let filter =
        EnvFilter::try_from_env("STRONGROOM_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    // Colour codes only for a person at a terminal: a log file or collector gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}
