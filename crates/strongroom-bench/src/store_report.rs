//! The Markdown section of `strongroom-bench store`: "PostgreSQL, several nodes, and the
//! audit log". It carries its own machine, date and command (it is written by a run of its
//! own, after `all` has rewritten the rest of BENCHMARKS.md), the load table, the statements
//! per request, the consistency check's price, the model for N machines built from the CPU
//! costs, and the audit log's cost.

use crate::machine::Machine;
use crate::report::{ms, other_load, percent, thousands, us};
use crate::store::{CallResult, POOL_SIZE, Run, Series, Setup, StoreResults, Workload};
use std::fmt::Write as _;
use std::time::Duration;

/// The section's heading (and what `replace_section` looks for).
pub(crate) const HEADING: &str = "## PostgreSQL, several nodes, and the audit log";
/// Other processes' average CPU use in a phase above which the section flags the run.
const DISTURBED_CPUS: f64 = 0.2;
/// Statements called less often than this per request in every column go to a footnote.
const RARE_PER_REQUEST: f64 = 0.001;
/// Node counts the model's table shows.
const MODEL_NODES: [u32; 5] = [1, 2, 4, 8, 16];

/// `1 s`, `0.5 s`.
fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

fn secs(duration: Option<Duration>) -> Option<f64> {
    duration.map(|d| d.as_secs_f64())
}

fn workload_name(workload: Workload) -> &'static str {
    match workload {
        Workload::Get => "GET",
        Workload::Set => "SET",
    }
}

/// A statement's text for a table cell: one line, `|` escaped, at most 110 characters.
fn statement_cell(query: &str) -> String {
    let one_line: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text: String = one_line.chars().take(110).collect();
    if one_line.chars().count() > 110 {
        text.push('…');
    }
    format!("`{}`", text.replace('|', "\\|").replace('`', "'"))
}

fn median(results: &StoreResults, setup: Setup, workload: Workload) -> Option<&Run> {
    results.series(setup, workload).and_then(Series::median)
}

pub(crate) fn markdown(results: &StoreResults, machine: &Machine, command_line: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{HEADING}\n");
    intro(&mut out, results, machine, command_line);
    load_table(&mut out, results);
    comparisons(&mut out, results);
    round_trips(&mut out, results);
    consistency_check(&mut out, results);
    model(&mut out, results, machine);
    audit(&mut out, results);
    out
}

fn intro(out: &mut String, r: &StoreResults, machine: &Machine, command_line: &str) {
    let _ = writeln!(
        out,
        "Run on {} on this machine: {} ({} logical CPUs), {}, {}, {}, commit {}. Command: \
         `{command_line}` (`scripts/bench.sh` runs it after the sections above and replaces \
         only this section).\n",
        machine.date_utc,
        machine.cpu_model,
        machine.cpus,
        machine.memory,
        machine.kernel,
        machine.rustc,
        machine.commit,
    );
    let settings: Vec<String> =
        r.pg.settings
            .iter()
            .map(|(name, value)| format!("`{name}={value}`"))
            .collect();
    let _ = writeln!(
        out,
        "PostgreSQL {}: {}; {}; its data on {}. Strongroom's data directories and the audit log \
         on **{}** (`{}` mounted at `{}`). The PostgreSQL server's CPU is the postmaster's and \
         all its children's (backends, WAL writer, checkpointer, autovacuum) from \
         `/proc/PID/stat`{}.\n",
        r.pg.version,
        r.pg.origin,
        settings.join(", "),
        r.pg.filesystem.as_ref().map_or_else(
            || "a filesystem not visible here".to_owned(),
            |fs| format!("**{}** (`{}`)", fs.fs_type, fs.device)
        ),
        r.work_filesystem.fs_type,
        r.work_filesystem.device,
        r.work_filesystem.mount_point,
        match &r.pg.cpu {
            Ok(_) => String::new(),
            Err(why) => format!(" (not here: {why})"),
        },
    );
    let rounds = r.series.first().map_or(0, |s| s.rounds.len());
    let _ = writeln!(
        out,
        "Deployments, all started before the load and each with vault `bench`, a real token \
         ({} bytes of `Authorization`) and `bench-secret`: SQLite (the embedded store); the \
         same with `--audit-log FILE`; PostgreSQL with one node (`--store URL`, the default \
         pool of {POOL_SIZE} connections); PostgreSQL with two nodes on one database (the \
         second node's data directory a copy of the first's, both with the same `--store` and \
         `--public-port P`, P being the load balancer's port and the one in the token's \
         audience, so one token works on both; the load generator opens its connections \
         alternately to the two nodes' listeners, as a load balancer spreading connections \
         would); and the bare TLS endpoint answering the SQLite GET's bytes. {} keep-alive \
         HTTP/1.1 connections over TLS 1.3, closed loop, {} warm-up and {} measured per \
         phase; load generator: one process, {} tokio worker thread{}. {rounds} round{}: in \
         each, the targets take turns (all GET rounds first, then SET, a PUT of a new secret \
         per request). Each row is the round with the median node CPU per request.\n",
        r.bearer_len,
        r.connections,
        seconds(r.warmup),
        seconds(r.duration),
        r.client_threads,
        if r.client_threads == 1 { "" } else { "s" },
        if rounds == 1 { "" } else { "s" },
    );
    let _ = writeln!(
        out,
        "**Everything shares this machine's {} CPUs** (load generator, every node, PostgreSQL), \
         so two nodes cannot serve more than one here, and requests/s is what this one machine \
         does with all of them. What carries over to other machines is the CPU each request \
         costs, per node and in the database: the model below is built from those.\n",
        machine.cpus
    );
    let busiest = r
        .series
        .iter()
        .flat_map(|s| &s.rounds)
        .filter_map(|run| run.result.other_cpus())
        .fold(0.0f64, f64::max);
    let busiest_shown = r
        .series
        .iter()
        .filter_map(Series::median)
        .filter_map(|run| run.result.other_cpus())
        .fold(0.0f64, f64::max);
    if busiest_shown > DISTURBED_CPUS {
        let _ = writeln!(
            out,
            "**Disturbed run:** other processes kept up to {busiest_shown:.2} CPUs busy during \
             a measured phase shown below (column \"other load\"), so the affected figures \
             understate the machine. Rerun on an idle machine.\n"
        );
    } else if busiest > DISTURBED_CPUS {
        let _ = writeln!(
            out,
            "Other processes kept up to {busiest:.2} CPUs busy in some rounds, none of them a \
             row shown below (at most {busiest_shown:.2}): the rows are undisturbed.\n"
        );
    }
}

fn load_table(out: &mut String, r: &StoreResults) {
    let _ = writeln!(
        out,
        "| workload | requests/s | p50 | p99 | node CPU / request | per node | database CPU / request | client CPU / request | other load (CPUs) | errors |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for workload in [Workload::Get, Workload::Set] {
        for series in r.series.iter().filter(|s| s.workload == workload) {
            let Some(run) = series.median() else {
                continue;
            };
            let label = match series.setup {
                Setup::Bare => format!(
                    "bare TLS endpoint ({} B body, the SQLite GET's bytes)",
                    run.result.response_bytes
                ),
                setup => format!("secret {}, {}", workload_name(workload), setup.label()),
            };
            let per_node: Vec<String> = run.per_node().into_iter().map(us).collect();
            let result = &run.result;
            let _ = writeln!(
                out,
                "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                thousands(result.per_second()),
                ms(result.latencies.percentile(50.0)),
                ms(result.latencies.percentile(99.0)),
                us(run.node_cpu_per_request()),
                if per_node.len() > 1 {
                    per_node.join(", ")
                } else {
                    String::new()
                },
                if series.setup.is_postgres() {
                    us(run.db_cpu_per_request())
                } else {
                    "–".to_owned()
                },
                us(result.client_cpu_per_request()),
                other_load(result.other_cpus()),
                series
                    .rounds
                    .iter()
                    .map(|run| run.result.errors)
                    .sum::<u64>(),
            );
        }
    }
    out.push('\n');
    let rounds: Vec<String> = r
        .series
        .iter()
        .map(|s| {
            let figures: Vec<String> = s
                .rounds
                .iter()
                .map(|run| {
                    format!(
                        "{} ({})",
                        thousands(run.result.per_second()),
                        us(run.node_cpu_per_request())
                    )
                })
                .collect();
            format!(
                "{} {}: {}",
                workload_name(s.workload),
                s.setup.label(),
                figures.join(", ")
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "Rounds (requests/s, node CPU per request): {}.\n",
        rounds.join("; ")
    );
    let first_error = r
        .series
        .iter()
        .flat_map(|s| &s.rounds)
        .find_map(|run| run.result.first_error.clone());
    if let Some(error) = first_error {
        let _ = writeln!(
            out,
            "First error seen: `{}`\n",
            crate::process::tail(&error, 300).replace('`', "'")
        );
    }
}

/// Node + database CPU per request.
fn server_side(run: &Run) -> Option<f64> {
    Some(secs(run.node_cpu_per_request())? + secs(run.db_cpu_per_request()).unwrap_or(0.0))
}

fn comparisons(out: &mut String, r: &StoreResults) {
    let bare = median(r, Setup::Bare, Workload::Get);
    for workload in [Workload::Get, Workload::Set] {
        let sqlite = median(r, Setup::Sqlite, workload);
        let one = median(r, Setup::Postgres1, workload);
        let two = median(r, Setup::Postgres2, workload);
        let (Some(sqlite), Some(one), Some(two)) = (sqlite, one, two) else {
            continue;
        };
        let mut text = format!("**Secret {}:** ", workload_name(workload));
        if workload == Workload::Get
            && let Some(bare) = bare
        {
            let _ = write!(
                text,
                "SQLite serves {} of the bare endpoint's rate at {} of node CPU per request \
                 (bare {}). ",
                percent(
                    (bare.result.per_second() > 0.0)
                        .then(|| sqlite.result.per_second() / bare.result.per_second())
                ),
                us(sqlite.node_cpu_per_request()),
                us(bare.node_cpu_per_request()),
            );
        }
        let _ = write!(
            text,
            "On PostgreSQL a {} costs {} of node CPU and {} of database CPU, {} in all, against \
             SQLite's {} ({} as much server-side CPU per request); throughput {} of SQLite's \
             with one node, {} with two on this one machine. ",
            workload_name(workload),
            us(one.node_cpu_per_request()),
            us(one.db_cpu_per_request()),
            us(server_side(one).map(Duration::from_secs_f64)),
            us(sqlite.node_cpu_per_request()),
            server_side(one)
                .zip(server_side(sqlite))
                .map_or("n/a".to_owned(), |(pg, sq)| format!("{:.1}×", pg / sq)),
            percent(
                (sqlite.result.per_second() > 0.0)
                    .then(|| one.result.per_second() / sqlite.result.per_second())
            ),
            percent(
                (sqlite.result.per_second() > 0.0)
                    .then(|| two.result.per_second() / sqlite.result.per_second())
            ),
        );
        let _ = write!(
            text,
            "Two nodes: {} of node CPU and {} of database CPU per request (one node: {}, {}).",
            us(two.node_cpu_per_request()),
            us(two.db_cpu_per_request()),
            us(one.node_cpu_per_request()),
            us(one.db_cpu_per_request()),
        );
        let _ = writeln!(out, "{text}\n");
    }
}

fn round_trips(out: &mut String, r: &StoreResults) {
    let _ = writeln!(out, "### Round trips to PostgreSQL per request\n");
    let columns: Vec<&Series> = [
        (Setup::Postgres1, Workload::Get),
        (Setup::Postgres2, Workload::Get),
        (Setup::Postgres1, Workload::Set),
        (Setup::Postgres2, Workload::Set),
    ]
    .iter()
    .filter_map(|(setup, workload)| r.series(*setup, *workload))
    .filter(|s| s.statements.is_some() && s.completed > 0)
    .collect();
    if let Err(why) = &r.pg.statements {
        let _ = writeln!(out, "Not counted: {why}.\n");
        return;
    }
    if columns.is_empty() {
        let _ = writeln!(out, "Not counted: no PostgreSQL phase completed.\n");
        return;
    }
    let _ = writeln!(
        out,
        "Measured, not estimated: `pg_stat_statements` of each deployment's database read \
         before and after every phase; the calls of each statement over the requests the \
         phase completed (warm-up included, all rounds). Each call is one round trip (the \
         store's statements are prepared once per pooled connection, then each runs as one \
         Bind/Execute/Sync exchange; `BEGIN` and `COMMIT` are round trips of their own). \
         Execution time is inside PostgreSQL's executor only (no parsing, protocol or \
         network).\n"
    );
    // Every statement any column ran, most calls first.
    let mut all = crate::postgres::Tally::default();
    for series in &columns {
        if let Some(tally) = &series.statements {
            all.add(tally);
        }
    }
    let header: Vec<String> = columns
        .iter()
        .map(|s| {
            format!(
                "per {}, {}",
                workload_name(s.workload),
                s.setup.label().replace("PostgreSQL, ", "")
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "| statement | {} | mean execution time |",
        header.join(" | ")
    );
    let _ = writeln!(out, "|---|{}---:|", "---:|".repeat(columns.len()));
    let calls_of = |series: &Series, query: &str| -> f64 {
        let calls = series
            .statements
            .as_ref()
            .map_or(0, |tally| tally.calls_of(query));
        calls as f64 / series.completed as f64
    };
    let mean = |statement: &crate::postgres::Counter| {
        u32::try_from(statement.calls)
            .ok()
            .filter(|n| *n > 0)
            .map(|n| statement.exec / n)
    };
    let mut rare = Vec::new();
    for statement in all.statements() {
        let per_request: Vec<f64> = columns
            .iter()
            .map(|s| calls_of(s, &statement.query))
            .collect();
        if per_request.iter().all(|n| *n < RARE_PER_REQUEST) {
            rare.push(format!(
                "{} ({} calls, {} each)",
                statement_cell(&statement.query),
                statement.calls,
                us(mean(&statement))
            ));
            continue;
        }
        let cells: Vec<String> = per_request.iter().map(|n| format!("{n:.3}")).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            statement_cell(&statement.query),
            cells.join(" | "),
            us(mean(&statement))
        );
    }
    let totals: Vec<String> = columns
        .iter()
        .map(|s| {
            let total = s.statements.as_ref().map_or(0, |t| t.total_calls());
            format!("**{:.2}**", total as f64 / s.completed as f64)
        })
        .collect();
    let _ = writeln!(
        out,
        "| **round trips per request** | {} | |\n",
        totals.join(" | ")
    );
    let requests: Vec<String> = columns
        .iter()
        .map(|s| {
            format!(
                "{} {}: {}",
                workload_name(s.workload),
                s.setup.label(),
                thousands(s.completed as f64)
            )
        })
        .collect();
    let _ = writeln!(out, "Requests counted: {}.\n", requests.join("; "));
    if !rare.is_empty() {
        let _ = writeln!(
            out,
            "Under one call per {:.0} requests in every column (the per-node caches' refreshes, \
             token-assertion claims, the janitor; counted in the totals): {}.\n",
            1.0 / RARE_PER_REQUEST,
            rare.join("; ")
        );
    }
    if let Some(get) = columns
        .iter()
        .find(|s| s.workload == Workload::Get && s.setup == Setup::Postgres1)
        && let Some(tally) = &get.statements
    {
        let steady: Vec<String> = tally
            .statements()
            .iter()
            .filter(|c| c.calls as f64 / get.completed as f64 >= 0.5)
            .map(|c| statement_cell(&c.query))
            .collect();
        let total = tally.total_calls() as f64 / get.completed as f64;
        let _ = writeln!(
            out,
            "So a GET at steady state makes {total:.2} round trips: {}, once per GET each; \
             the rest (well under one per request) are the per-node caches' refreshes (the \
             resolved vault every second, the principal's revocation state every 2 s) and the \
             janitor.\n",
            steady.join(" then "),
        );
    }
}

fn consistency_check(out: &mut String, r: &StoreResults) {
    let _ = writeln!(out, "### What the cross-node consistency check costs\n");
    if r.calls.is_empty() {
        let _ = writeln!(out, "Not measured.\n");
        return;
    }
    let _ = writeln!(
        out,
        "On a shared store every request first reads the cache generation \
         (`strongroom-api/src/coherence.rs`); there is no switch to turn that off, so its price \
         is measured on its own: the same store calls a GET makes, through `PostgresStore` \
         itself (pool, prepared statement, decoding) in this benchmark's process, on a runtime \
         like the server's, against the one-node deployment's database while its node idles; \
         1 caller (latency), then {POOL_SIZE} (a node's pool, for CPU per call). Caller CPU is \
         this process's; database CPU the whole PostgreSQL server's; execution time from \
         `pg_stat_statements`. {} warm-up, {} measured each. With one caller every call finds \
         both processes asleep, so its CPU figures are mostly wake-ups: read it for latency.\n",
        seconds(r.warmup),
        seconds(r.call_duration),
    );
    let _ = writeln!(
        out,
        "| store call | callers | calls/s | p50 | p99 | caller CPU / call | database CPU / call | execution time / call | statement |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for call in &r.calls {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            call.call,
            call.callers,
            thousands(call.per_second()),
            ms(call.latencies.percentile(50.0)),
            ms(call.latencies.percentile(99.0)),
            us(call.caller_cpu_per_call()),
            us(call.db_cpu_per_call()),
            us(call.statement.as_ref().map(|(_, exec)| *exec)),
            call.statement
                .as_ref()
                .map_or_else(|| "n/a".to_owned(), |(query, _)| statement_cell(query)),
        );
    }
    out.push('\n');
    let find = |prefix: &str, callers: usize| -> Option<&CallResult> {
        r.calls
            .iter()
            .find(|c| c.call.contains(prefix) && c.callers == callers)
    };
    let (Some(check), Some(check_one)) = (
        find("cache_generation", POOL_SIZE),
        find("cache_generation", 1),
    ) else {
        return;
    };
    let get = median(r, Setup::Postgres1, Workload::Get);
    let (Some(node), Some(db)) = (
        get.and_then(|g| secs(g.node_cpu_per_request())),
        get.and_then(|g| secs(g.db_cpu_per_request())),
    ) else {
        return;
    };
    let (Some(check_node), Some(check_db)) = (
        secs(check.caller_cpu_per_call()),
        secs(check.db_cpu_per_call()),
    ) else {
        return;
    };
    let without = (node - check_node).max(0.0) + (db - check_db).max(0.0);
    let with = node + db;
    let _ = writeln!(
        out,
        "**The check's price per request:** about {} of node CPU and {} of database CPU (one \
         round trip: {} at the median unloaded), against a GET's {} and {} on PostgreSQL with \
         one node: {} of the GET's node CPU and {} of its database CPU. Derived, not an A/B \
         of two servers: a GET without the check would cost about {} of server-side CPU \
         instead of {}, so on N machines where the database is the limit it would serve about \
         {} more; where the nodes are, about {} more. The check's caller CPU here includes \
         this benchmark's own loop and task wake-ups, so it overstates the node's share a \
         little; the database's share is the server's own CPU per statement.\n",
        us(Some(Duration::from_secs_f64(check_node))),
        us(Some(Duration::from_secs_f64(check_db))),
        ms(check_one.latencies.percentile(50.0)),
        us(Some(Duration::from_secs_f64(node))),
        us(Some(Duration::from_secs_f64(db))),
        percent(Some(check_node / node)),
        percent(Some(check_db / db)),
        us(Some(Duration::from_secs_f64(without))),
        us(Some(Duration::from_secs_f64(with))),
        percent(Some(db / (db - check_db).max(1e-12) - 1.0)),
        percent(Some(node / (node - check_node).max(1e-12) - 1.0)),
    );
}

fn model(out: &mut String, r: &StoreResults, machine: &Machine) {
    let _ = writeln!(out, "### Expected throughput on N machines\n");
    let cpus = machine.cpus.max(1) as f64;
    let _ = writeln!(
        out,
        "Model: each request costs n of CPU on the node that serves it and d in PostgreSQL \
         (the two-node rows above: n is both nodes' CPU over all their requests, d the \
         database's). With N node machines of {cpus:.0} CPUs like this one and PostgreSQL on \
         a machine of D CPUs, throughput = min(N × {cpus:.0} / n, D / d): the nodes scale out, \
         the database does not. \
         Assumptions: CPU is the bottleneck everywhere (enough connections in flight to hide \
         the network's latency; for SET, PostgreSQL's WAL flushes keep up, as they do here); \
         cost per request stays as measured as N grows (no lock contention: a GET only reads, \
         and SETs of different names take different advisory locks; more backends, {POOL_SIZE} \
         per node, cost PostgreSQL nothing per statement); the load balancer, the clients \
         and the network are on other machines and not counted; nodes are stateless but for \
         caches, so a request costs the same on any node. Replicas, a bigger database machine \
         or a connection pooler change d or the number of database CPUs, not the form.\n"
    );
    let mut rows = Vec::new();
    for workload in [Workload::Get, Workload::Set] {
        let Some(run) =
            median(r, Setup::Postgres2, workload).or_else(|| median(r, Setup::Postgres1, workload))
        else {
            continue;
        };
        let (Some(n), Some(d)) = (
            secs(run.node_cpu_per_request()),
            secs(run.db_cpu_per_request()),
        ) else {
            continue;
        };
        if n <= 0.0 || d <= 0.0 {
            continue;
        }
        rows.push((workload, n, d, run));
    }
    if rows.is_empty() {
        let _ = writeln!(
            out,
            "No model: the database's CPU was not measured ({}).\n",
            r.pg.cpu.as_ref().err().map_or("no figures", String::as_str)
        );
        return;
    }
    let _ = writeln!(
        out,
        "| request | n (node CPU) | d (database CPU) | database's share | database on {cpus:.0} CPUs: at most | {} |",
        MODEL_NODES
            .iter()
            .map(|n| format!("N = {n}: nodes serve, database CPUs needed"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|{}",
        "---:|".repeat(MODEL_NODES.len())
    );
    for (workload, n, d, _) in &rows {
        let cells: Vec<String> = MODEL_NODES
            .iter()
            .map(|nodes| {
                let node_bound = f64::from(*nodes) * cpus / n;
                format!("{}/s, {:.1}", thousands(node_bound), node_bound * d)
            })
            .collect();
        let _ = writeln!(
            out,
            "| secret {} | {} | {} | {} | {}/s (N = {:.1}) | {} |",
            workload_name(*workload),
            us(Some(Duration::from_secs_f64(*n))),
            us(Some(Duration::from_secs_f64(*d))),
            percent(Some(d / (n + d))),
            thousands(cpus / d),
            n / d,
            cells.join(" | "),
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Read: N nodes serve N × {cpus:.0} / n requests/s if the database keeps up, which takes \
         N × {cpus:.0} × d / n database CPUs; a database machine like these ({cpus:.0} CPUs) caps \
         the deployment at {cpus:.0} / d, reached with N = n / d nodes. Every database CPU adds \
         1 / d requests/s.\n"
    );
    if let Some(sqlite) = median(r, Setup::Sqlite, Workload::Get)
        .and_then(|run| secs(run.node_cpu_per_request()))
        .filter(|cpu| *cpu > 0.0)
    {
        let _ = writeln!(
            out,
            "For scale: one SQLite node, which cannot be scaled out, would serve about {}/s \
             GETs on a {cpus:.0}-CPU machine of its own by the same reckoning.\n",
            thousands(cpus / sqlite)
        );
    }
    // The model on this machine, where everything shares the CPUs, against what it did.
    let checks: Vec<String> = rows
        .iter()
        .filter_map(|(workload, n, d, run)| {
            let client = secs(run.result.client_cpu_per_request())?;
            let other = run.result.other_cpus().unwrap_or(0.0);
            let predicted = (cpus - other).max(0.0) / (n + d + client);
            Some(format!(
                "{}: {}/s predicted, {}/s measured",
                workload_name(*workload),
                thousands(predicted),
                thousands(run.result.per_second())
            ))
        })
        .collect();
    if !checks.is_empty() {
        let _ = writeln!(
            out,
            "Check of the model on this machine (node, database and load generator sharing \
             the {cpus:.0} CPUs less the other load): {}. Measured below predicted means the \
             CPUs were not kept busy (requests waiting on the database's round trips or \
             fsyncs rather than on CPU).\n",
            checks.join("; ")
        );
    }
}

fn audit(out: &mut String, r: &StoreResults) {
    let _ = writeln!(out, "### The audit log under load\n");
    let mut sentences = Vec::new();
    for workload in [Workload::Get, Workload::Set] {
        let (Some(plain), Some(audited)) = (
            median(r, Setup::Sqlite, workload),
            median(r, Setup::SqliteAudit, workload),
        ) else {
            continue;
        };
        let (Some(a), Some(b)) = (
            secs(plain.node_cpu_per_request()),
            secs(audited.node_cpu_per_request()),
        ) else {
            continue;
        };
        sentences.push(format!(
            "{}: node CPU {} → {} per request ({}{}, {}), throughput {} → {}/s ({})",
            workload_name(workload),
            us(Some(Duration::from_secs_f64(a))),
            us(Some(Duration::from_secs_f64(b))),
            if b >= a { "+" } else { "−" },
            us(Some(Duration::from_secs_f64((b - a).abs()))),
            percent(Some(b / a - 1.0)).replace("-", "−"),
            thousands(plain.result.per_second()),
            thousands(audited.result.per_second()),
            percent(
                (plain.result.per_second() > 0.0)
                    .then(|| audited.result.per_second() / plain.result.per_second() - 1.0)
            )
            .replace("-", "−"),
        ));
    }
    let facts = r.audit.map_or_else(String::new, |facts| {
        format!(
            " The run wrote {} lines, {} bytes on average ({} file{}: the log rotates at \
             100 MiB, with an fsync of the full file).",
            thousands(facts.lines as f64),
            thousands(facts.bytes as f64 / facts.lines.max(1) as f64),
            facts.files,
            if facts.files == 1 { "" } else { "s" },
        )
    });
    let _ = writeln!(
        out,
        "SQLite, one node, with and without `--audit-log FILE` (one hash-chained JSON line \
         per request: built, SHA-256 over it, one `write` under a mutex, no fsync), same \
         run: {}.{facts}\n",
        if sentences.is_empty() {
            "not measured".to_owned()
        } else {
            sentences.join("; ")
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::Filesystem;
    use crate::load::PhaseResult;
    use crate::postgres::{PgInfo, Snapshot, Tally};
    use crate::stats::Latencies;

    fn run(per_second: u64, node_us: &[u64], db_us: u64) -> Run {
        let window = Duration::from_secs(10);
        let requests = per_second * 10;
        let share = requests / node_us.len() as u64;
        Run {
            result: PhaseResult {
                requests,
                errors: 0,
                first_error: None,
                window,
                latencies: Latencies::from_samples(vec![300, 400, 500]),
                server_cpu: None,
                client_cpu: Some(Duration::from_micros(10 * requests)),
                other_cpu: Some(Duration::ZERO),
                response_bytes: 286,
            },
            node_cpu: node_us
                .iter()
                .map(|us| Some(Duration::from_micros(us * share)))
                .collect(),
            node_requests: vec![share; node_us.len()],
            db_cpu: Some(Duration::from_micros(db_us * requests)),
        }
    }

    fn series(setup: Setup, workload: Workload, runs: Vec<Run>, tally: Option<Tally>) -> Series {
        Series {
            setup,
            workload,
            completed: runs.iter().map(|r| r.result.requests).sum(),
            rounds: runs,
            statements: tally,
        }
    }

    /// Two statements per GET, five per SET, over 100,000 requests each.
    fn tally(statements: &[(&str, u64)]) -> Tally {
        let mut tally = Tally::default();
        let snapshot = crate::postgres::tests_support::snapshot(statements);
        tally.add(&snapshot.since(&Snapshot::default()));
        tally
    }

    fn results() -> StoreResults {
        let get_tally = tally(&[
            ("SELECT generation FROM cache_generation", 100_000),
            ("SELECT v.version FROM versions v WHERE $1", 100_000),
            ("SELECT * FROM vaults WHERE name = $1", 30),
        ]);
        let set_tally = tally(&[("BEGIN", 100_000), ("COMMIT", 100_000)]);
        StoreResults {
            connections: 64,
            client_threads: 1,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(10),
            call_duration: Duration::from_secs(3),
            work_filesystem: Filesystem {
                fs_type: "ext4".to_owned(),
                device: "/dev/vda".to_owned(),
                mount_point: "/".to_owned(),
            },
            pg: PgInfo {
                origin: "a private cluster".to_owned(),
                version: "15.1".to_owned(),
                settings: vec![("fsync".to_owned(), "on".to_owned())],
                statements: Ok(()),
                cpu: Ok(42),
                filesystem: None,
            },
            bearer_len: 1000,
            series: vec![
                series(
                    Setup::Bare,
                    Workload::Get,
                    vec![run(60_000, &[12], 0)],
                    None,
                ),
                series(
                    Setup::Sqlite,
                    Workload::Get,
                    vec![run(50_000, &[20], 0)],
                    None,
                ),
                series(
                    Setup::SqliteAudit,
                    Workload::Get,
                    vec![run(45_000, &[22], 0)],
                    None,
                ),
                series(
                    Setup::Postgres1,
                    Workload::Get,
                    vec![run(10_000, &[40], 30)],
                    Some(get_tally.clone()),
                ),
                series(
                    Setup::Postgres2,
                    Workload::Get,
                    vec![run(10_000, &[41, 39], 30)],
                    Some(get_tally),
                ),
                series(
                    Setup::Sqlite,
                    Workload::Set,
                    vec![run(10_000, &[60], 0)],
                    None,
                ),
                series(
                    Setup::Postgres2,
                    Workload::Set,
                    vec![run(5_000, &[80, 80], 100)],
                    Some(set_tally),
                ),
            ],
            calls: vec![
                CallResult {
                    call: "`PostgresStore::cache_generation()` (the consistency check)",
                    callers: 1,
                    calls: 30_000,
                    window: Duration::from_secs(3),
                    latencies: Latencies::from_samples(vec![90, 100, 110]),
                    caller_cpu: Some(Duration::from_millis(300)),
                    db_cpu: Some(Duration::from_millis(600)),
                    statement: None,
                },
                CallResult {
                    call: "`PostgresStore::cache_generation()` (the consistency check)",
                    callers: POOL_SIZE,
                    calls: 100_000,
                    window: Duration::from_secs(3),
                    latencies: Latencies::from_samples(vec![300]),
                    caller_cpu: Some(Duration::from_millis(1_000)),
                    db_cpu: Some(Duration::from_millis(1_500)),
                    statement: Some((
                        "SELECT generation FROM cache_generation".to_owned(),
                        Duration::from_micros(2),
                    )),
                },
            ],
            audit: Some(crate::store::AuditFacts {
                lines: 1000,
                bytes: 600_000,
                files: 1,
            }),
        }
    }

    fn render() -> String {
        let machine = Machine {
            date_utc: "2026-01-01 00:00 UTC".to_owned(),
            cpus: 2,
            cpu_model: "Test CPU".to_owned(),
            memory: "1.0 GiB".to_owned(),
            kernel: "Linux 6".to_owned(),
            rustc: "rustc 1".to_owned(),
            commit: "abc".to_owned(),
        };
        markdown(&results(), &machine, "strongroom-bench store")
    }

    #[test]
    fn the_section_has_its_tables_and_derived_figures() {
        let text = render();
        assert!(text.starts_with(HEADING), "{text}");
        // Two nodes: per-node figures and their sum over all requests.
        assert!(
            text.contains(
                "| secret GET, PostgreSQL, 2 nodes | 10,000 | 0.40 ms | 0.50 ms | 40.0 µs | \
                 41.0 µs, 39.0 µs | 30.0 µs |"
            ),
            "{text}"
        );
        assert!(text.contains("| secret GET, SQLite, 1 node | 50,000 |"));
        // Statements per request, and the total.
        assert!(
            text.contains("| `SELECT generation FROM cache_generation` | 1.000 | 1.000 |"),
            "{text}"
        );
        assert!(
            text.contains("| **round trips per request** | **2.00** | **2.00** | **4.00** |"),
            "{text}"
        );
        // The check: 10 µs of caller CPU and 15 µs of database CPU per call, against a GET's
        // 40 µs and 30 µs.
        assert!(
            text.contains("about 10.0 µs of node CPU and 15.0 µs of database CPU"),
            "{text}"
        );
        assert!(text.contains("would cost about 45.0 µs of server-side CPU instead of 70.0 µs"));
        // The model: 2 CPUs per machine; GET n = 40 µs, d = 30 µs: nodes 50,000/s per
        // machine, the database 66,667/s, so database-bound from N = 1.3.
        assert!(
            text.contains(
                "| secret GET | 40.0 µs | 30.0 µs | 42.9 % | 66,667/s (N = 1.3) | 50,000/s, 1.5 | \
                 100,000/s, 3.0 |"
            ),
            "{text}"
        );
        // The rare statement is a footnote, still counted in the totals.
        assert!(text.contains("`SELECT * FROM vaults WHERE name = $1` (60 calls, 1.0 µs each)"));
        // The audit log: 20 → 22 µs.
        assert!(text.contains("GET: node CPU 20.0 µs → 22.0 µs per request (+2.0 µs"));
        assert!(text.contains("1,000 lines, 600 bytes on average"));
        assert!(!text.contains("Disturbed run"));
    }
}
