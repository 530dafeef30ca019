//! `strongroom-bench`: Strongroom's benchmarks, run by hand or by `scripts/bench.sh`, never by
//! the test suite.
//!
//! - `http` starts the real `strongroom` binary in a temporary data directory (on a real disk,
//!   under `target/` by default), gets a real token, and drives secret GET (one secret, and many
//!   secrets in many vaults with many tokens) and SET over HTTPS with keep-alive; in the same
//!   run it drives a bare rustls endpoint (this binary's hidden `bare-serve`, same TLS stack,
//!   same allocator, fixed response) with the same client, which is the ceiling the stack
//!   allows, and, if installed, `oha` against both. It runs the key operations (RS256 sign,
//!   RSA-OAEP-256 decrypt, ES256 sign and verify) over REST next to raw aws-lc-rs on as many
//!   threads as the server has workers (`keyops.rs`), and measures the durable-commit rate of
//!   SQLite as the store configures it (WAL, `synchronous=FULL`).
//! - `crypto` times the primitives on the request path (AES-256-GCM, secret hashing, RS256,
//!   ECDSA P-256) with warm-up and many iterations.
//! - `all` runs both; `--write-markdown FILE` rewrites FILE (BENCHMARKS.md) with the results,
//!   the machine and the exact command.
//! - `store` runs secret GET and SET on SQLite (with and without `--audit-log`) and on
//!   PostgreSQL with one and two nodes, next to the bare endpoint: CPU per request per node
//!   and in the database, statements per request from `pg_stat_statements`, the consistency
//!   check's price, and a model for N machines (`store.rs`, `postgres.rs`,
//!   `store_report.rs`); `--append-markdown FILE` replaces only its own section.
//! - `signin` measures interactive sign-in (issue 12): the `refresh_token` grant next to the
//!   bare endpoint, password sign-in next to Argon2id's ceiling, and secret GET during a
//!   wrong-password flood (`signin.rs`, `signin_report.rs`); `--append-markdown FILE`
//!   replaces only its own section.
//!
//! Every loop is bounded by a count and a time; all traffic stays on 127.0.0.1.
//! Start reading at `http.rs`.

mod bare;
mod commit;
mod crypto;
mod disk;
mod http;
mod keyops;
mod load;
mod machine;
mod oha;
mod pipeline;
mod postgres;
mod process;
mod report;
mod signin;
mod signin_report;
mod soak;
mod stats;
mod store;
mod store_report;
mod timing;

/// The server's allocator (`crates/strongroom/src/main.rs`), so the bare endpoint (this
/// binary's `bare-serve`) allocates as the server does and the comparison is fair. The load
/// generator in this process uses it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// Strongroom's benchmarks (HTTPS load, durable-commit ceiling, crypto micro-benchmarks).
#[derive(Debug, Parser)]
#[command(name = "strongroom-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// HTTPS load: secret GET and SET against the real server, and the bare rustls endpoint.
    Http {
        #[command(flatten)]
        http: HttpArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Crypto micro-benchmarks (ns/op).
    Crypto {
        #[command(flatten)]
        crypto: CryptoArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// `http` and `crypto` in one run, one report.
    All {
        #[command(flatten)]
        http: HttpArgs,
        #[command(flatten)]
        crypto: CryptoArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// A bounded soak: RSS and open descriptors of the real server under minutes of load.
    Soak(soak::SoakArgs),
    /// Secret GET and SET on SQLite and PostgreSQL (one and two nodes), with and without the
    /// audit log, next to the bare endpoint; statements per request; the consistency check.
    Store(store::StoreArgs),
    /// Interactive sign-in: the refresh grant next to the bare endpoint, password sign-in next
    /// to the Argon2id ceiling, and secret GET during a wrong-password flood.
    Signin(signin::SigninArgs),
    /// The bare endpoint as a child process (started by `http`; not for direct use).
    #[command(hide = true)]
    BareServe(bare::BareServeArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct HttpArgs {
    /// The `strongroom` binary to benchmark (build it with `cargo build --release -p strongroom`).
    #[arg(long, default_value = "target/release/strongroom")]
    pub(crate) server_bin: PathBuf,
    /// Measured time of each load phase (after the warm-up), e.g. `10s`, `500ms`.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub(crate) duration: Duration,
    /// Warm-up before each load phase, not measured.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub(crate) warmup: Duration,
    /// Concurrent keep-alive HTTP/1.1 connections, comma-separated: bare/GET rounds run at
    /// each; the first also drives SET, the many-secrets GET, the key operations and oha.
    #[arg(long, default_value = "64,32", value_delimiter = ',')]
    pub(crate) connections: Vec<usize>,
    /// Tokio worker threads of the load generator (the server keeps its default runtime).
    /// One leaves the server most of a 2-CPU machine.
    #[arg(long, default_value_t = 1)]
    pub(crate) client_threads: usize,
    /// Alternating bare/GET rounds per connection count; the report takes the median of each
    /// (five by default: on a shared VM single rounds of the same code differ by 20 %).
    #[arg(long, default_value_t = 5)]
    pub(crate) rounds: usize,
    /// Where the temporary data directories go: on the disk you want the commit figures for,
    /// never tmpfs (refused).
    #[arg(long, default_value = "target/bench-work")]
    pub(crate) work_dir: PathBuf,
    /// The `oha` binary (default: `target/tools/bin/oha`, then `PATH`); without one the oha
    /// phases are skipped and the report says why.
    #[arg(long)]
    pub(crate) oha: Option<PathBuf>,
    /// Duration of each oha run (oha's `-z`, whole seconds).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub(crate) oha_duration: Duration,
    /// Alternating bare/GET oha runs; the report takes the run with the median server CPU
    /// per request of each (single runs of the same server differ by 20 % here too).
    #[arg(long, default_value_t = 3)]
    pub(crate) oha_rounds: usize,
    /// Measured time of each key-operation phase, REST and raw alike.
    #[arg(long, default_value = "4s", value_parser = parse_duration)]
    pub(crate) key_duration: Duration,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct CryptoArgs {
    /// Measured time per operation (split into samples; the median sample is reported).
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    pub(crate) crypto_time: Duration,
}

#[derive(Debug, Clone, Args)]
struct OutputArgs {
    /// Rewrite this Markdown file (BENCHMARKS.md) with the results.
    #[arg(long)]
    write_markdown: Option<PathBuf>,
}

/// `10s`, `1500ms`, `2m`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (text, 1000.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 10s or 500ms"))?;
    if !(value.is_finite() && value >= 0.0 && value * scale_ms <= 3_600_000.0) {
        return Err(format!("{text:?} is out of range (0 to 1 hour)"));
    }
    Ok(Duration::from_secs_f64(value * scale_ms / 1000.0))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command_line = machine::command_line();
    match cli.command {
        Command::BareServe(args) => bare::serve_main(&args),
        Command::Soak(args) => soak::run(&args).map(|_| ()),
        Command::Store(args) => {
            let results = store::run(&args)?;
            // The URL may hold a password: the report names it only as `URL`.
            let command_line = match &args.postgres {
                Some(url) => command_line.replace(url.as_str(), "URL"),
                None => command_line,
            };
            let markdown =
                store_report::markdown(&results, &machine::Machine::probe(), &command_line);
            match &args.append_markdown {
                Some(path) => {
                    report::replace_section(path, store_report::HEADING, &markdown)?;
                    eprintln!("store: wrote its section of {}", path.display());
                }
                None => println!("{markdown}"),
            }
            Ok(())
        }
        Command::Signin(args) => {
            let results = signin::run(&args)?;
            let markdown =
                signin_report::markdown(&results, &machine::Machine::probe(), &command_line);
            match &args.append_markdown {
                Some(path) => {
                    report::replace_section(path, signin_report::HEADING, &markdown)?;
                    eprintln!("signin: wrote its section of {}", path.display());
                }
                None => println!("{markdown}"),
            }
            Ok(())
        }
        Command::Crypto { crypto, output } => {
            let results = crypto::run(&crypto)?;
            finish(
                &report::Report {
                    command_line,
                    http: None,
                    crypto: Some(results),
                },
                &output,
            )
        }
        Command::Http { http, output } => {
            let results = http::run(&http)?;
            finish(
                &report::Report {
                    command_line,
                    http: Some(results),
                    crypto: None,
                },
                &output,
            )
        }
        Command::All {
            http,
            crypto,
            output,
        } => {
            let crypto_results = crypto::run(&crypto)?;
            let http_results = http::run(&http)?;
            finish(
                &report::Report {
                    command_line,
                    http: Some(http_results),
                    crypto: Some(crypto_results),
                },
                &output,
            )
        }
    }
}

fn finish(report: &report::Report, output: &OutputArgs) -> anyhow::Result<()> {
    let markdown = report::markdown(report, &machine::Machine::probe());
    if let Some(path) = &output.write_markdown {
        std::fs::write(path, &markdown)
            .map_err(|err| anyhow::anyhow!("writing {}: {err}", path.display()))?;
        eprintln!("wrote {}", path.display());
    } else {
        println!("{markdown}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("2h").is_err());
    }
}
