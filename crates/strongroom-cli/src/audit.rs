//! `strongroom audit list`: a vault's audit events (or every event), newest first, from the
//! server's `GET /strongroom/audit/events` (Strongroom's own API over `serve --audit-log`),
//! as the administrator. Prints a JSON array of the events as the log holds them.
//!
//! `--top` above the API's page size (1000) follows `nextLink`s until that many are printed.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use http::Method;
use serde_json::Value;

use crate::datadir::DataDir;
use crate::endpoints::Target;
use crate::error::CliError;
use crate::session::{Audience, Session};
use crate::{Output, write_output};

/// The most events the API returns in one page.
const PAGE_MAX: usize = 1000;

/// `audit list`
#[derive(Debug, Args)]
pub struct AuditListArgs {
    /// Only this vault's events (its data plane, and management requests on it); all events
    /// when omitted
    #[arg(long, short = 'n')]
    pub vault_name: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-05-01T12:00:00Z)
    #[arg(long)]
    pub from: Option<String>,
    /// Only events before this time (RFC 3339)
    #[arg(long)]
    pub to: Option<String>,
    /// Only these operations (`operationName`, e.g. SecretGet; several separated by commas)
    #[arg(long)]
    pub operation: Option<String>,
    /// Only requests by this principal (object id)
    #[arg(long)]
    pub caller: Option<String>,
    /// Only requests that succeeded, or only those that failed
    #[arg(long, value_enum)]
    pub result: Option<AuditResultArg>,
    /// How many events at most, newest first
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub top: u32,
}

/// `--result`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditResultArg {
    Success,
    Failure,
}

/// Runs `audit list` against the server described by `data_dir`: the events as a JSON array
/// on stdout, or one `ERROR:` line on stderr and exit code 1.
pub async fn audit_list(data_dir: &Path, args: AuditListArgs) -> ExitCode {
    let result = match list(data_dir, &args).await {
        Ok(events) => write_output(&Output::Json(Value::Array(events))),
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "{}", error.line());
            ExitCode::FAILURE
        }
    }
}

async fn list(data_dir: &Path, args: &AuditListArgs) -> Result<Vec<Value>, CliError> {
    let session = Session::open(DataDir::load(data_dir)?)?;
    let wanted = usize::try_from(args.top).unwrap_or(usize::MAX);
    let page_size = wanted.min(PAGE_MAX).to_string();
    let result = args.result.map(|result| match result {
        AuditResultArg::Success => "success",
        AuditResultArg::Failure => "failure",
    });
    let filters = [
        ("vault", args.vault_name.as_deref()),
        ("from", args.from.as_deref()),
        ("to", args.to.as_deref()),
        ("operation", args.operation.as_deref()),
        ("caller", args.caller.as_deref()),
        ("result", result),
        ("top", Some(page_size.as_str())),
    ];
    let query: Vec<(&str, &str)> = filters
        .iter()
        .filter_map(|(name, value)| value.map(|value| (*name, value)))
        .collect();
    let token = session.token(Audience::Management).await?;
    let mut target = session.endpoints.audit_events(&query);
    let mut events = Vec::new();
    loop {
        let page = session.call(Method::GET, &target, &token).await?;
        let unexpected = |detail: String| CliError::UnexpectedBody {
            method: Method::GET,
            url: target.to_string(),
            detail,
        };
        match page.get("value") {
            Some(Value::Array(values)) => events.extend(values.iter().cloned()),
            _ => return Err(unexpected("no `value` list in the page".to_owned())),
        }
        if events.len() >= wanted {
            events.truncate(wanted);
            return Ok(events);
        }
        let next = match page.get("nextLink") {
            Some(Value::String(link)) if !link.is_empty() => {
                Target::parse_absolute(link).map_err(unexpected)?
            }
            _ => return Ok(events),
        };
        // The token goes only where the first page came from.
        if next.authority() != target.authority() {
            return Err(unexpected(format!(
                "`nextLink` points at another host: {next}"
            )));
        }
        target = next;
    }
}
