//! The in-process secret GET: rows from `strongroom-api`'s `pipeline_bench` example (the real
//! `strongroom_api::service` answering requests built in memory), which `scripts/bench.sh`
//! builds next to this binary. It runs as a child process because this crate stays below the
//! HTTP edge (xtask tidy); its JSON lines become rows of the crypto table.

use crate::crypto::CryptoResult;
use anyhow::Context;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// Where `cargo build --release -p strongroom-api --example pipeline_bench` puts the example:
/// `target/release/examples/`, beside this binary's directory.
fn example_path() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .context("the benchmark binary has no directory")?;
    Ok(dir.join("examples").join("pipeline_bench"))
}

/// The example's rows, or why there are none (not built: the report says so).
pub(crate) fn benches(total: Duration) -> Result<Vec<CryptoResult>, String> {
    let path = example_path().map_err(|err| err.to_string())?;
    if !path.is_file() {
        return Err(format!(
            "{} is not built (cargo build --release -p strongroom-api --example pipeline_bench)",
            path.display()
        ));
    }
    let output = Command::new(&path)
        .arg(format!("{}ms", total.as_millis().max(10)))
        .output()
        .map_err(|err| format!("running {}: {err}", path.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            path.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let row: serde_json::Value =
                serde_json::from_str(line).map_err(|err| format!("{line:?}: {err}"))?;
            let number = |field: &str| {
                row.get(field)
                    .and_then(serde_json::Value::as_f64)
                    .ok_or_else(|| format!("{line:?} has no {field}"))
            };
            let result = CryptoResult {
                name: row
                    .get("name")
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| format!("{line:?} has no name"))?
                    .to_owned(),
                ns_per_op: number("ns_per_op")?,
                best_ns_per_op: number("best_ns_per_op")?,
                iterations: number("iterations")? as u64,
            };
            eprintln!("{}: {:.0} ns/op", result.name, result.ns_per_op);
            Ok(result)
        })
        .collect()
}
