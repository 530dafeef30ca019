//! Project chores. `cargo run -p xtask -- tidy` (tidy also runs under `cargo test`).
fn main() -> anyhow::Result<()> {
    Ok(())
}
