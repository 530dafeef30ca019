//! The Markdown section of `strongroom-bench signin`: "Interactive sign-in". It carries its
//! own machine, date, load average and command (a run of its own writes it, after `all` has
//! rewritten the rest of BENCHMARKS.md), the refresh grant and password sign-in next to the
//! bare endpoint and the Argon2id ceiling, and the password-guessing flood next to secret
//! GET alone.

use crate::load::PhaseResult;
use crate::machine::Machine;
use crate::report::{ms, other_load, percent, thousands, us};
use crate::signin::{GLOBAL_FAILURES, Period, SERVER_PASSWORD_CHECKS, SigninResults};
use std::fmt::Write as _;
use std::time::Duration;

/// The section's heading (and what `replace_section` looks for).
pub(crate) const HEADING: &str = "## Interactive sign-in";
/// Other processes' average CPU use in a phase above which the section flags the run.
const DISTURBED_CPUS: f64 = 0.2;

fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// Requests per second with one decimal below 100 (sign-ins), none above.
fn rate(value: f64) -> String {
    if value < 100.0 {
        format!("{value:.1}")
    } else {
        thousands(value)
    }
}

fn cpus(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
}

pub(crate) fn markdown(r: &SigninResults, machine: &Machine, command_line: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{HEADING}\n");
    intro(&mut out, r, machine, command_line);
    grants(&mut out, r);
    flood(&mut out, r, machine.cpus);
    how_to_read(&mut out);
    out
}

fn intro(out: &mut String, r: &SigninResults, machine: &Machine, command_line: &str) {
    let _ = writeln!(
        out,
        "Run on {} on this machine: {} ({} logical CPUs), {}, {}, {}, commit {}. Command: \
         `{command_line}` (`scripts/bench.sh` runs it after the sections above and replaces \
         only this section). **Load average (1, 5, 15 min): {} before the run, {} after it**; \
         the machine is shared (other engineers' browser tests run on it), so read the \"other \
         load\" columns before the figures.\n",
        machine.date_utc,
        machine.cpu_model,
        machine.cpus,
        machine.memory,
        machine.kernel,
        machine.rustc,
        machine.commit,
        r.load_before,
        r.load_after,
    );
    let _ = writeln!(
        out,
        "The release server (`{}`, default runtime) on a fresh data directory, one user made \
         with `strongroom user create`, signing in through the console's client \
         (`3331b43c-…`, redirect URI `https://localhost:PORT/`) with the authorization-code \
         flow and PKCE (S256): `GET` of the sign-in page for its CSRF cookie and field, `POST` \
         of the form, the code redeemed at the token endpoint. Keep-alive HTTP/1.1 over TLS \
         1.3, each connection sending its next request when the last answer is read (closed \
         loop), connections opened before the clock starts; {} warm-up, then {} measured \
         (the flood: {} measured). Load generator: this process, {} tokio worker thread{}. \
         **Everything shares this machine's {} CPUs**, Argon2id included.\n",
        r.server_bin
            .file_name()
            .map_or_else(|| "strongroom".into(), |n| n.to_string_lossy()),
        seconds(r.warmup),
        seconds(r.duration),
        seconds(r.flood_duration),
        r.client_threads,
        if r.client_threads == 1 { "" } else { "s" },
        machine.cpus,
    );
    let mut busiest = [&r.bare, &r.refresh]
        .into_iter()
        .filter_map(PhaseResult::other_cpus)
        .chain(r.signin.cpu.other)
        .chain(r.argon2.other_cpus)
        .fold(0.0f64, f64::max);
    for period in [&r.flood.alone, &r.flood.whole] {
        busiest = busiest.max(period.cpu.other.unwrap_or(0.0));
    }
    if busiest > DISTURBED_CPUS {
        let _ = writeln!(
            out,
            "**Disturbed run:** other processes kept up to {busiest:.2} CPUs busy during a \
             measured phase (columns \"other load\"), so the affected figures understate the \
             machine. Rerun on an idle machine.\n"
        );
    }
}

fn grants(out: &mut String, r: &SigninResults) {
    let _ = writeln!(out, "### Token refresh and password sign-in\n");
    let _ = writeln!(
        out,
        "| workload | connections | requests/s | p50 | p99 | max | server CPU / request | other load (CPUs) | errors |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let row = |out: &mut String, label: &str, result: &PhaseResult| {
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.connections,
            rate(result.per_second()),
            ms(result.latencies.percentile(50.0)),
            ms(result.latencies.percentile(99.0)),
            ms(result.latencies.max()),
            us(result.server_cpu_per_request()),
            other_load(result.other_cpus()),
            result.errors,
        );
    };
    row(
        out,
        &format!(
            "bare TLS endpoint (the refresh grant's bytes: {} B form, {} B answer)",
            r.refresh_request_bytes, r.bare.response_bytes
        ),
        &r.bare,
    );
    row(
        out,
        "`refresh_token` grant (console client, data-plane scope)",
        &r.refresh,
    );
    let s = &r.signin;
    let _ = writeln!(
        out,
        "| password sign-in (form POST, right password → 303 with a code) | {} | {} | {} | {} | {} | {} | {} | {} |",
        s.connections,
        rate(s.per_second()),
        ms(s.latencies.percentile(50.0)),
        ms(s.latencies.percentile(99.0)),
        ms(s.latencies.max()),
        us(s.server_cpu_per_request()),
        other_load(s.cpu.other),
        s.errors,
    );
    out.push('\n');

    let a = &r.argon2;
    let ceiling = a.ceiling();
    let _ = writeln!(
        out,
        "| Argon2id password check (`{}`), in this process before the server starts | |",
        a.params
    );
    let _ = writeln!(out, "|---|---:|");
    let _ = writeln!(
        out,
        "| one check on one thread (`verify_password`, as the crypto table's \"password verify\" row) | {} (fastest {}) |",
        ms(Duration::from_secs_f64(a.single.ns_per_op / 1e9)),
        ms(Duration::from_secs_f64(a.single.best_ns_per_op / 1e9)),
    );
    let _ = writeln!(
        out,
        "| ceiling: {SERVER_PASSWORD_CHECKS} checks at a time / one-thread cost | {} sign-ins/s |",
        rate(ceiling)
    );
    let _ = writeln!(
        out,
        "| measured: checks on {} threads at once (other load {} CPUs) | {} /s |",
        a.threads,
        cpus(a.other_cpus),
        rate(a.parallel_per_second)
    );
    let _ = writeln!(
        out,
        "| password sign-in over HTTPS, above | {} /s: **{} of the ceiling**, {} of the {}-thread rate |",
        rate(s.per_second()),
        percent((ceiling > 0.0).then(|| s.per_second() / ceiling)),
        percent((a.parallel_per_second > 0.0).then(|| s.per_second() / a.parallel_per_second)),
        a.threads,
    );
    out.push('\n');

    let refresh_ratio =
        (r.bare.per_second() > 0.0).then(|| r.refresh.per_second() / r.bare.per_second());
    let cpu_ratio = r
        .bare
        .server_cpu_per_request()
        .zip(r.refresh.server_cpu_per_request())
        .map(|(bare, refresh)| bare.as_secs_f64() / refresh.as_secs_f64().max(1e-12));
    let per_core = r
        .refresh
        .server_cpu_per_request()
        .map(|d| 1.0 / d.as_secs_f64().max(1e-12));
    let _ = writeln!(
        out,
        "**Refresh grant / bare: throughput {}, server CPU per request {}.** A refresh opens the \
         presented refresh token (an RS256 verification), reads the user to check they still \
         exist, are enabled and have the same password, and signs three tokens (access token, \
         new refresh token, id token: three RS256 signatures, about 0.47 ms each in the crypto \
         table), so it costs {} of server CPU against the bare endpoint's {}: one core \
         refreshes about {} tokens a second, {} an hour. A signed-in client refreshes once an \
         hour per resource it uses, so this rate matters for bursts (everyone's console \
         opening at nine), not for steady use.\n",
        percent(refresh_ratio),
        percent(cpu_ratio),
        us(r.refresh.server_cpu_per_request()),
        us(r.bare.server_cpu_per_request()),
        per_core.map_or_else(|| "n/a".to_owned(), thousands),
        per_core.map_or_else(|| "n/a".to_owned(), |n| thousands(n * 3600.0)),
    );
    let _ = writeln!(
        out,
        "**Password sign-in is Argon2id's rate, on purpose:** at most {SERVER_PASSWORD_CHECKS} \
         checks run at once, so {} sign-ins/s is the most this server can do however many \
         people sign in, and the rest of each sign-in (form, CSRF check, user lookup, code and \
         session cookie signed: two RS256 signatures) is small beside it. With {} connections \
         waiting, a sign-in's latency is mostly its wait for a turn: about connections / rate \
         = {} here (p50 {}).{}\n",
        rate(ceiling),
        s.connections,
        ms(Duration::from_secs_f64(
            s.connections as f64 / s.per_second().max(1e-9)
        )),
        ms(s.latencies.percentile(50.0)),
        match &s.first_error {
            Some(first) if s.errors > 0 => format!(
                " {} answers were not a code (first: `{}`).",
                s.errors,
                crate::process::tail(first, 200)
                    .replace('`', "'")
                    .replace('\n', " ")
            ),
            _ => String::new(),
        },
    );
}

fn flood_row(out: &mut String, label: &str, p: &Period, alone: &Period) {
    let get = p.rate(p.get_requests);
    let base = alone.rate(alone.get_requests);
    let probe = if p.probe_attempts == 0 {
        "–".to_owned()
    } else {
        format!(
            "{} of {}, p50 {}",
            p.probe_signed_in,
            p.probe_attempts,
            ms(p.probe_latencies.percentile(50.0))
        )
    };
    let _ = writeln!(
        out,
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        thousands(get),
        percent((base > 0.0).then(|| get / base)),
        ms(p.get_latencies.percentile(50.0)),
        ms(p.get_latencies.percentile(99.0)),
        rate(p.rate(p.flood_wrong)),
        rate(p.rate(p.flood_locked)),
        rate(p.rate(p.flood_busy)),
        probe,
        cpus(p.cpu.server),
        cpus(p.cpu.client),
        other_load(p.cpu.other),
        p.get_errors,
    );
}

fn flood(out: &mut String, r: &SigninResults, machine_cpus: usize) {
    let f = &r.flood;
    let _ = writeln!(out, "### A password-guessing flood and the data plane\n");
    let _ = writeln!(
        out,
        "Secret GET (`/secrets/bench-secret`, the administrator's client-credentials token) on \
         {} connections alone for {}; then the same GET load for {} while {} more connections \
         post the sign-in form with a wrong password as fast as the answers come, a new unknown \
         user name each time (an unknown name costs the same Argon2id run, against a decoy \
         hash, and no name reaches the lockout of ten failures), and one more connection signs \
         the real user in twice a second (\"real user\"). Every answer is timestamped and the \
         CPU of the server, of the load generator and of the machine is read every 100 ms, so \
         the flood splits where the sign-in guard's global limit ({GLOBAL_FAILURES} failures a \
         minute) starts refusing names that have not signed in lately.\n",
        r.connections,
        seconds(r.duration),
        seconds(r.flood_duration),
        r.flood_connections,
    );
    let _ = writeln!(
        out,
        "| period | secret GET requests/s | GET / alone | GET p50 | GET p99 | wrong passwords checked/s | refused by the guard/s | busy (no turn in 5 s)/s | real user signed in, p50 | server CPUs | load generator CPUs | other load (CPUs) | GET errors |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    flood_row(
        out,
        &format!("secret GET alone, {} connections", r.connections),
        &f.alone,
        &f.alone,
    );
    flood_row(
        out,
        &format!(
            "with the flood ({} connections), whole window 0–{:.0} s",
            r.flood_connections,
            f.whole.to.as_secs_f64()
        ),
        &f.whole,
        &f.alone,
    );
    if let Some(before) = &f.before {
        flood_row(
            out,
            &format!(
                "with the flood, before the guard's limit ({:.1}–{:.1} s)",
                before.from.as_secs_f64(),
                before.to.as_secs_f64()
            ),
            before,
            &f.alone,
        );
    }
    if let Some(after) = &f.after {
        flood_row(
            out,
            &format!(
                "with the flood, after it ({:.1}–{:.1} s)",
                after.from.as_secs_f64(),
                after.to.as_secs_f64()
            ),
            after,
            &f.alone,
        );
    }
    out.push('\n');

    let guard = match f.tripped_at {
        Some(at) => format!(
            "The guard's global limit answered its first \"locked\" {:.1} s into the measured \
             window, after {} wrong passwords had been checked since the flood began (its \
             warm-up included; the limit is {GLOBAL_FAILURES} a minute). From then on a guess \
             costs no Argon2id: it is refused before the check, so the flood's answers come \
             fast and the flood becomes an ordinary HTTP load on the sign-in page.{}",
            at.as_secs_f64(),
            f.failures_before_trip,
            f.reopened_at.map_or_else(String::new, |again| format!(
                " The guard counts failures in a fixed minute opened by the first one; it \
                 closed {:.1} s into the window, and guesses were checked again from then (the \
                 \"after\" row ends there).",
                again.as_secs_f64()
            )),
        ),
        None => format!(
            "The guard's global limit did not trip: {} wrong passwords were checked in the \
             flood, fewer than its {GLOBAL_FAILURES} a minute (a longer `--flood-duration` \
             reaches it).",
            f.failures_before_trip
        ),
    };
    let whole = &f.whole;
    let before = f.before.as_ref().unwrap_or(whole);
    let base = f.alone.rate(f.alone.get_requests);
    let get_before = before.rate(before.get_requests);
    let _ = writeln!(
        out,
        "**While every guess costs an Argon2id run, secret GET keeps {} of its rate alone** \
         ({} against {} requests/s; p99 {} against {}). The server runs at most \
         {SERVER_PASSWORD_CHECKS} checks at once, on blocking threads, so {} connections \
         guessing get {} checks/s ({} of the ceiling above) and no more, and the server used \
         {} CPUs in all against {} for GET alone; the checks themselves took about {:.2} CPUs \
         (checks/s × the one-thread cost). On this {}-CPU machine, shared with the load \
         generator and whatever else runs (\"other load\"), that and the sign-in pages are the \
         share GET loses; on a machine with more cores the same bound leaves the others to the \
         data plane. The price of the bound is the queue: each guess waits its turn (p50 \
         {}), and so does a real user's sign-in (p50 {} before the limit; a wait over 5 s \
         would be answered \"try again\"). {guard}{}\n",
        percent((base > 0.0).then(|| get_before / base)),
        thousands(get_before),
        thousands(base),
        ms(before.get_latencies.percentile(99.0)),
        ms(f.alone.get_latencies.percentile(99.0)),
        r.flood_connections,
        rate(before.rate(before.flood_wrong)),
        percent(
            (r.argon2.ceiling() > 0.0)
                .then(|| before.rate(before.flood_wrong) / r.argon2.ceiling())
        ),
        cpus(before.cpu.server),
        cpus(f.alone.cpu.server),
        before.rate(before.flood_wrong) * r.argon2.single.ns_per_op / 1e9,
        machine_cpus,
        ms(before.flood_wrong_latencies.percentile(50.0)),
        ms(before.probe_latencies.percentile(50.0)),
        match &f.after {
            Some(after) => format!(
                " After the limit, secret GET ran at {} requests/s ({} of alone) beside {} \
                 refusals a second, and the real user, whom the guard still lets through because \
                 they signed in within the hour, signed in {} of {} times with p50 {}.",
                thousands(after.rate(after.get_requests)),
                percent((base > 0.0).then(|| after.rate(after.get_requests) / base)),
                rate(after.rate(after.flood_locked)),
                after.probe_signed_in,
                after.probe_attempts,
                ms(after.probe_latencies.percentile(50.0)),
            ),
            None => String::new(),
        },
    );
    let others = whole.flood_other + whole.flood_busy;
    if others > 0 || whole.get_errors > 0 {
        let _ = writeln!(
            out,
            "Unexpected answers in the flood window: {} flood answers neither \"wrong\" nor \
             \"locked\", {} GET errors{}.\n",
            others,
            whole.get_errors,
            f.first_other
                .as_deref()
                .map_or_else(String::new, |first| format!(
                    " (first: `{}`)",
                    crate::process::tail(first, 200)
                        .replace('`', "'")
                        .replace('\n', " ")
                )),
        );
    }
}

fn how_to_read(out: &mut String) {
    let _ = writeln!(
        out,
        "How to read this: requests/s is what completed in the measured window; latencies run \
         from sending a request to reading the last byte of its answer. Server CPU / request \
         is the server process's CPU time in the window over its requests (for sign-in, \
         Argon2id's blocking threads included). The bare endpoint is the same TLS and HTTP \
         stack answering the refresh grant's bytes and doing nothing else (its `Host` is \
         {} bytes longer), so refresh / bare is the share of the stack's rate left after \
         Strongroom's work. The Argon2id rows are this process, no server running, same \
         machine, same minute. In the flood table, \"server CPUs\" is the server's CPU time \
         over the period's length (2.00 = both CPUs), \"GET / alone\" compares with the first \
         row; the \"before\" and \"after\" rows leave out the moment the guard switches (from \
         its first refusal until the guesses already queued for Argon2id are answered, plus \
         0.5 s).\n",
        "bench.vault.localhost".len() - "localhost".len(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signin::{Argon2Cost, CpuShare, Flood, SignIns};
    use crate::stats::Latencies;
    use crate::timing::Timing;
    use std::path::PathBuf;

    fn phase(per_second: u64, server_us: u64) -> PhaseResult {
        let window = Duration::from_secs(5);
        let requests = per_second * 5;
        PhaseResult {
            requests,
            errors: 0,
            first_error: None,
            window,
            latencies: Latencies::from_samples(vec![1_000, 2_000, 3_000]),
            server_cpu: Some(Duration::from_micros(server_us * requests)),
            client_cpu: Some(Duration::from_micros(10 * requests)),
            other_cpu: Some(Duration::ZERO),
            response_bytes: 4_000,
        }
    }

    fn period(label: &str, from: u64, to: u64, get: u64, wrong: u64, locked: u64) -> Period {
        let span = to - from;
        Period {
            label: label.to_owned(),
            from: Duration::from_secs(from),
            to: Duration::from_secs(to),
            get_requests: get * span,
            get_latencies: Latencies::from_samples(vec![500, 900]),
            get_errors: 0,
            flood_wrong: wrong * span,
            flood_locked: locked * span,
            flood_busy: 0,
            flood_other: 0,
            flood_wrong_latencies: Latencies::from_samples(vec![900_000]),
            probe_attempts: 2 * span,
            probe_signed_in: 2 * span,
            probe_latencies: Latencies::from_samples(vec![800_000]),
            cpu: CpuShare {
                server: Some(1.5),
                client: Some(0.3),
                other: Some(0.1),
            },
        }
    }

    fn results() -> SigninResults {
        SigninResults {
            connections: 32,
            flood_connections: 64,
            client_threads: 1,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(5),
            flood_duration: Duration::from_secs(30),
            server_bin: PathBuf::from("/x/strongroom"),
            load_before: "1.00, 2.00, 3.00".to_owned(),
            load_after: "1.50, 2.00, 3.00".to_owned(),
            argon2: Argon2Cost {
                single: Timing {
                    ns_per_op: 25_000_000.0,
                    best_ns_per_op: 24_000_000.0,
                    iterations: 40,
                },
                threads: 2,
                parallel_per_second: 70.0,
                other_cpus: Some(0.0),
                params: "m=19456,t=2,p=1".to_owned(),
            },
            bare: phase(20_000, 50),
            refresh: phase(1_000, 1_500),
            refresh_request_bytes: 900,
            signin: SignIns {
                connections: 16,
                window: Duration::from_secs(5),
                signed_in: 300,
                latencies: Latencies::from_samples(vec![260_000]),
                errors: 0,
                first_error: None,
                cpu: CpuShare {
                    server: Some(1.9),
                    client: Some(0.01),
                    other: Some(0.0),
                },
            },
            flood: Flood {
                alone: period("alone", 0, 5, 20_000, 0, 0),
                whole: period("whole", 0, 30, 15_000, 30, 500),
                before: Some(period("before", 0, 16, 12_000, 60, 0)),
                after: Some(period("after", 18, 30, 17_000, 0, 900)),
                tripped_at: Some(Duration::from_secs(16)),
                reopened_at: None,
                failures_before_trip: 1_000,
                first_other: None,
            },
        }
    }

    fn machine() -> Machine {
        Machine {
            date_utc: "2026-01-01 00:00 UTC".to_owned(),
            cpus: 2,
            cpu_model: "Test CPU".to_owned(),
            memory: "1.0 GiB".to_owned(),
            kernel: "Linux 6".to_owned(),
            rustc: "rustc 1".to_owned(),
            commit: "abc".to_owned(),
        }
    }

    #[test]
    fn the_section_has_its_heading_load_average_ceiling_and_flood_periods() {
        let text = markdown(&results(), &machine(), "strongroom-bench signin");
        assert!(text.starts_with(HEADING), "{text}");
        assert!(text.contains("1.00, 2.00, 3.00 before the run"), "{text}");
        // 2 checks at a time, 25 ms each: 80/s; 60/s signed in is 75 %.
        assert!(
            text.contains("| ceiling: 2 checks at a time / one-thread cost | 80.0 sign-ins/s |"),
            "{text}"
        );
        assert!(
            text.contains("60.0 /s: **75.0 % of the ceiling**"),
            "{text}"
        );
        assert!(
            text.contains(
                "| with the flood, before the guard's limit (0.0–16.0 s) | 12,000 | 60.0 % |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| with the flood, after it (18.0–30.0 s) | 17,000 | 85.0 % |"),
            "{text}"
        );
        assert!(
            text.contains("**Refresh grant / bare: throughput 5.0 %"),
            "{text}"
        );
        assert!(text.contains("16.0 s into the measured window, after 1000 wrong passwords"));
        assert!(!text.contains("Disturbed run"));
        assert!(!text.contains("\n## "), "one section only: {text}");
    }

    #[test]
    fn a_flood_that_never_trips_the_guard_says_so() {
        let mut r = results();
        r.flood.tripped_at = None;
        r.flood.before = None;
        r.flood.after = None;
        r.flood.failures_before_trip = 700;
        let text = markdown(&r, &machine(), "strongroom-bench signin");
        assert!(text.contains("did not trip: 700 wrong passwords"), "{text}");
        assert!(!text.contains("after it ("));
    }
}
