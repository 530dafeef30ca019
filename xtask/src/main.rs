//! Project chores. `cargo run -p xtask -- tidy` checks the workspace conventions (STYLE.md
//! "Tidy and lints"); the same checks run under `cargo test -p xtask`, so CI and
//! rust-analyzer users see them without remembering a command.

mod manifest;
mod tidy;

use std::path::Path;
use std::process::ExitCode;

fn main() -> anyhow::Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args != ["tidy"] {
        eprintln!("usage: cargo run -p xtask -- tidy");
        return Ok(ExitCode::from(2));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| anyhow::anyhow!("xtask has no parent directory"))?;
    let workspace = tidy::Workspace::load(root)?;
    let failures = tidy::run_all(&workspace);
    if failures.is_empty() {
        println!("tidy: ok");
        return Ok(ExitCode::SUCCESS);
    }
    for failure in &failures {
        eprintln!("{failure}");
    }
    eprintln!("tidy: {} failure(s)", failures.len());
    Ok(ExitCode::FAILURE)
}
