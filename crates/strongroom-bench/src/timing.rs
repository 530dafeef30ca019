//! The timing loop of the crypto table: warm-up, calibration, then `SAMPLES` samples of a
//! calibrated iteration count; the median and the fastest sample.
//!
//! Standard library only, because it has two users in two crates: `crypto.rs` here, and
//! `strongroom-api/examples/pipeline_bench.rs` (through `#[path]`), which times the API
//! service in process and cannot be in this crate (it stays below the HTTP edge, xtask tidy).
//! One loop, so the rows of both stand in the same table measured the same way.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Samples per operation.
pub(crate) const SAMPLES: u32 = 10;
/// Bound on one sample's iterations, whatever the operation costs.
const MAX_ITERATIONS_PER_SAMPLE: u64 = 50_000_000;

/// One operation's timing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// Median over samples.
    pub(crate) ns_per_op: f64,
    /// Fastest sample.
    pub(crate) best_ns_per_op: f64,
    pub(crate) iterations: u64,
}

/// Times `op` for about `total`: a warm-up (also a first estimate of the cost), then
/// `SAMPLES` samples of an iteration count calibrated from it.
pub(crate) fn time<R>(total: Duration, mut op: impl FnMut() -> R) -> Timing {
    let sample_target = total / SAMPLES;
    let warmup_end = Instant::now() + (total / 5).max(Duration::from_millis(20));
    let mut warmup_iterations = 0u64;
    let warmup_start = Instant::now();
    while Instant::now() < warmup_end && warmup_iterations < MAX_ITERATIONS_PER_SAMPLE {
        black_box(op());
        warmup_iterations += 1;
    }
    let estimate_ns = warmup_start.elapsed().as_nanos() as f64 / warmup_iterations.max(1) as f64;
    let per_sample = ((sample_target.as_nanos() as f64 / estimate_ns.max(1.0)) as u64)
        .clamp(1, MAX_ITERATIONS_PER_SAMPLE);

    let mut samples_ns = Vec::with_capacity(SAMPLES as usize);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        for _ in 0..per_sample {
            black_box(op());
        }
        samples_ns.push(start.elapsed().as_nanos() as f64 / per_sample as f64);
    }
    samples_ns.sort_by(f64::total_cmp);
    Timing {
        ns_per_op: samples_ns[samples_ns.len() / 2],
        best_ns_per_op: samples_ns[0],
        iterations: per_sample * u64::from(SAMPLES),
    }
}
