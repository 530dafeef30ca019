//! Conventions as tests (STYLE.md "Tidy and lints"), run by `cargo test -p xtask` and
//! `cargo run -p xtask -- tidy`.
//!
//! Each check reads the workspace as text and returns one `Failure` per violation, saying
//! what is wrong and where (`path:line`). The rules live here as data (`ALLOWED_EDGES`,
//! `EXPOSE_ALLOWED`, ...) so that changing a rule is a reviewed one-line diff.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::manifest::{self, DepKind, Manifest};

/// Which internal crates a crate may depend on (normal and build dependencies).
/// Dev-dependencies may reach anything the allowed edges reach transitively.
/// Keep in step with the code map in ARCHITECTURE.md.
const ALLOWED_EDGES: &[(&str, Allowed)] = &[
    ("strongroom-model", Allowed::Only(&[])),
    ("strongroom-crypto", Allowed::Only(&["strongroom-model"])),
    ("strongroom-store", Allowed::Only(&["strongroom-model"])),
    ("strongroom-authz", Allowed::Only(&["strongroom-model"])),
    (
        "strongroom-identity",
        Allowed::Only(&["strongroom-model", "strongroom-crypto", "strongroom-store"]),
    ),
    (
        "strongroom-vault",
        Allowed::Only(&[
            "strongroom-model",
            "strongroom-crypto",
            "strongroom-store",
            "strongroom-authz",
        ]),
    ),
    (
        "strongroom-api",
        Allowed::Only(&[
            "strongroom-model",
            "strongroom-authz",
            "strongroom-identity",
            "strongroom-vault",
            "strongroom-store",
        ]),
    ),
    // The CLI is an HTTPS client of the server: it shares words, not code.
    ("strongroom-cli", Allowed::Only(&["strongroom-model"])),
    // The binary wires every layer together.
    ("strongroom", Allowed::Anything),
    // The benchmark measures storage and crypto below the HTTP edge.
    (
        "strongroom-bench",
        Allowed::AnythingExcept(&["strongroom-api", "strongroom-vault"]),
    ),
];

#[derive(Debug, Clone, Copy)]
enum Allowed {
    Only(&'static [&'static str]),
    AnythingExcept(&'static [&'static str]),
    Anything,
}

impl Allowed {
    fn permits(self, dependency: &str) -> bool {
        match self {
            Self::Only(list) => list.contains(&dependency),
            Self::AnythingExcept(list) => !list.contains(&dependency),
            Self::Anything => true,
        }
    }
}

/// Crates that may depend on `axum`: only the HTTP edge and the binary.
const AXUM_ALLOWED: &[&str] = &["strongroom-api", "strongroom"];

/// Files (relative to the workspace root) whose non-test code may call `.expose()` on secret
/// material. Test code (`crates/*/tests/**`, and anything after `#[cfg(test)]`) may too.
/// Adding a file here is a review decision: say why in the change.
const EXPOSE_ALLOWED: &[&str] = &[
    // Writes a generated client secret once, in the management API's response.
    "crates/strongroom-api/src/graph/credentials.rs",
    // The response DTO writes the secret value through a `serialize_with` helper.
    "crates/strongroom-api/src/wire/mod.rs",
    // The CLI: reads/writes admin.json, prints `env` exports, sends the bearer and values.
    "crates/strongroom-cli/src/datadir.rs",
    "crates/strongroom-cli/src/env.rs",
    "crates/strongroom-cli/src/https.rs",
    "crates/strongroom-cli/src/secrets.rs",
    "crates/strongroom-cli/src/session.rs",
    // `--create-cert`: the new certificate's private key goes into its 0600 PEM file.
    "crates/strongroom-cli/src/certificates.rs",
    // `keyvault key import` turns the PEM private key into the JWK it sends; `key encrypt`
    // sends the plaintext it was given.
    "crates/strongroom-cli/src/key_import.rs",
    "crates/strongroom-cli/src/key_crypto.rs",
    // Workload credentials: the identity's secret goes to the token endpoint, the agent's
    // identity header into its 0600 agent.json.
    "crates/strongroom-cli/src/workload.rs",
    // Credential files for workload hosts, a vault's application credential (apps/V.json)
    // and the rotated admin.json are written here (0600).
    "crates/strongroom-cli/src/credential_file.rs",
    "crates/strongroom-cli/src/vault_app.rs",
    "crates/strongroom-cli/src/admin.rs",
    // The benchmark hands generated keys to rustls and aws-lc-rs, as the server does.
    "crates/strongroom-bench/src/bare.rs",
    "crates/strongroom-bench/src/crypto.rs",
    // Key material for sealing, signing and TLS.
    "crates/strongroom-crypto/src/envelope.rs",
    "crates/strongroom-crypto/src/signing.rs",
    "crates/strongroom-crypto/src/tls.rs",
    // Client secrets are hashed here; the token signing key is used here.
    "crates/strongroom-identity/src/credentials.rs",
    "crates/strongroom-identity/src/token.rs",
    // Values are sealed and opened here.
    "crates/strongroom-vault/src/backup.rs",
    "crates/strongroom-vault/src/secrets.rs",
    // A key version's private material is unsealed here to be parsed.
    "crates/strongroom-vault/src/keys/mod.rs",
    // A certificate import's PFX or PEM (and the PFX password) are parsed here.
    "crates/strongroom-vault/src/certificates/material.rs",
    // A certificate issuer's password is sealed here.
    "crates/strongroom-vault/src/certificates/issuers.rs",
    // The binary writes admin.json and the server key file, and hands the key to rustls.
    "crates/strongroom/src/data_dir.rs",
    "crates/strongroom/src/server.rs",
    // The master key's passphrase check value is opened and compared at start.
    "crates/strongroom/src/master_key.rs",
    // Transparent mode mints a leaf per intercepted name and hands its key to rustls.
    "crates/strongroom/src/tls.rs",
    // The managed-identity agent hands its identity's tokens to local programs and writes
    // Arc key files.
    "crates/strongroom/src/agent.rs",
];

/// Where `println!`/`print!` may appear outside test code: the readiness lines (server,
/// agent), the CLI, the benchmark, and example or bench programs, whose output is their
/// product (xtask is not under `crates/` and is not scanned).
fn println_allowed(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    rel == "crates/strongroom/src/server.rs"
        || rel == "crates/strongroom/src/agent.rs"
        || rel.starts_with("crates/strongroom-cli/")
        || rel.starts_with("crates/strongroom-bench/")
        || (parts.len() > 3 && parts[0] == "crates" && matches!(parts[2], "examples" | "benches"))
}

/// Macros and attributes that must not be committed anywhere under `crates/`.
const FORBIDDEN: &[(&str, &str)] = &[
    ("todo!(", "unfinished code"),
    ("unimplemented!(", "unfinished code"),
    ("dbg!(", "debug output"),
    (
        "#[ignore",
        "a skipped test (assert today's behaviour with a FIXME instead)",
    ),
];

/// One violation: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) location: String,
    pub(crate) message: String,
}

impl Failure {
    fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A Rust source file, path relative to the workspace root with `/` separators.
pub(crate) struct SourceFile {
    pub(crate) rel: String,
    pub(crate) text: String,
}

impl SourceFile {
    /// Under a crate's `tests/` directory (integration tests).
    fn is_integration_test(&self) -> bool {
        self.rel
            .split('/')
            .collect::<Vec<_>>()
            .windows(3)
            .any(|w| w[0] == "crates" && w[2] == "tests")
    }

    fn is_crate_source(&self) -> bool {
        let parts: Vec<&str> = self.rel.split('/').collect();
        (parts.len() > 3 && parts[0] == "crates" && parts[2] == "src")
            || (parts.len() > 2 && parts[0] == "xtask" && parts[1] == "src")
    }

    /// Lines of non-test code with their 1-based numbers: everything before the first
    /// `#[cfg(test)]` line, or nothing for an integration-test file. Test modules sit at the
    /// end of a file by convention, so this is where test code starts.
    fn production_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        let skip_all = self.is_integration_test();
        self.text
            .lines()
            .enumerate()
            .take_while(move |(_, line)| !skip_all && line.trim() != "#[cfg(test)]")
            .map(|(index, line)| (index + 1, line))
    }
}

/// The workspace as tidy reads it.
pub(crate) struct Workspace {
    pub(crate) root_manifest: Manifest,
    /// `(relative path, manifest)` of every `crates/*/Cargo.toml`.
    pub(crate) crate_manifests: Vec<(String, Manifest)>,
    pub(crate) lock: String,
    /// Every `.rs` under `crates/` and `xtask/`, sorted by path.
    pub(crate) sources: Vec<SourceFile>,
}

impl Workspace {
    pub(crate) fn load(root: &Path) -> anyhow::Result<Self> {
        let read = |rel: &str| {
            std::fs::read_to_string(root.join(rel)).with_context(|| format!("reading {rel}"))
        };
        let root_manifest = manifest::parse_manifest(&read("Cargo.toml")?);
        let mut crate_manifests = Vec::new();
        for dir in sorted_entries(&root.join("crates"))? {
            let manifest_path = dir.join("Cargo.toml");
            if manifest_path.is_file() {
                let rel = relative(root, &manifest_path);
                crate_manifests.push((rel.clone(), manifest::parse_manifest(&read(&rel)?)));
            }
        }
        let lock = read("Cargo.lock")?;
        let mut paths = Vec::new();
        collect_rust_files(&root.join("crates"), &mut paths)?;
        collect_rust_files(&root.join("xtask"), &mut paths)?;
        paths.sort();
        let mut sources = Vec::new();
        for path in paths {
            let rel = relative(root, &path);
            let text = read(&rel)?;
            sources.push(SourceFile { rel, text });
        }
        Ok(Self {
            root_manifest,
            crate_manifests,
            lock,
            sources,
        })
    }
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("listing {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for path in sorted_entries(dir)? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if path.is_dir() {
            if name.as_deref() != Some("target")
                && !name.as_deref().is_some_and(|n| n.starts_with('.'))
            {
                collect_rust_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every check, in a stable order.
pub(crate) fn run_all(ws: &Workspace) -> Vec<Failure> {
    [
        check_module_docs(ws),
        check_dependency_graph(ws),
        check_axum_users(ws),
        check_no_rsa(ws),
        check_jsonwebtoken(ws),
        check_forbidden_macros(ws),
        check_println(ws),
        check_expose(ws),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every `lib.rs`, `main.rs` and module file under `crates/*/src`, `crates/*/tests` and
/// `xtask/src` opens with a `//!` doc saying what it owns and why.
pub(crate) fn check_module_docs(ws: &Workspace) -> Vec<Failure> {
    ws.sources
        .iter()
        .filter(|file| file.is_crate_source() || file.is_integration_test())
        .filter_map(|file| {
            let first = file.text.lines().position(|line| !line.trim().is_empty());
            let ok = first
                .and_then(|index| file.text.lines().nth(index))
                .is_some_and(|line| line.trim_start().starts_with("//!"));
            (!ok).then(|| {
                Failure::new(
                    format!("{}:{}", file.rel, first.map_or(1, |i| i + 1)),
                    "the file does not start with a `//!` module doc (what it owns and why)",
                )
            })
        })
        .collect()
}

/// Internal edges in `crates/*/Cargo.toml` follow `ALLOWED_EDGES`.
pub(crate) fn check_dependency_graph(ws: &Workspace) -> Vec<Failure> {
    let internal: BTreeSet<String> = ws
        .crate_manifests
        .iter()
        .filter_map(|(_, m)| m.package_name.clone())
        .collect();
    let mut failures = Vec::new();
    for (rel, manifest) in &ws.crate_manifests {
        let Some(name) = manifest.package_name.as_deref() else {
            failures.push(Failure::new(rel.as_str(), "no `[package] name` found"));
            continue;
        };
        let Some(allowed) = allowed_for(name) else {
            failures.push(Failure::new(
                rel.as_str(),
                format!(
                    "crate `{name}` has no entry in ALLOWED_EDGES (xtask/src/tidy.rs); \
                     add one with its allowed internal dependencies and update ARCHITECTURE.md"
                ),
            ));
            continue;
        };
        let reachable = reachable_from(name);
        for dep in &manifest.deps {
            let target = dep.package();
            if !internal.contains(&target) {
                continue;
            }
            let ok = match dep.kind {
                DepKind::Normal | DepKind::Build | DepKind::Workspace => allowed.permits(&target),
                DepKind::Dev => allowed.permits(&target) || reachable.contains(target.as_str()),
            };
            if !ok {
                let kind = match dep.kind {
                    DepKind::Dev => "dev-dependency",
                    DepKind::Build => "build-dependency",
                    DepKind::Normal | DepKind::Workspace => "dependency",
                };
                failures.push(Failure::new(
                    format!("{rel}:{}", dep.line),
                    format!(
                        "`{name}` must not depend on `{target}` ({kind}); allowed: {}",
                        describe(allowed)
                    ),
                ));
            }
        }
    }
    failures
}

fn allowed_for(name: &str) -> Option<Allowed> {
    ALLOWED_EDGES
        .iter()
        .find(|(crate_name, _)| *crate_name == name)
        .map(|(_, allowed)| *allowed)
}

/// Crates reachable from `name` through allowed edges listed by name (`Only`).
fn reachable_from(name: &str) -> BTreeSet<&'static str> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = vec![name];
    while let Some(current) = stack.pop() {
        let Some(Allowed::Only(list)) = allowed_for(current) else {
            continue;
        };
        for next in list {
            if seen.insert(*next) {
                stack.push(next);
            }
        }
    }
    seen
}

fn describe(allowed: Allowed) -> String {
    match allowed {
        Allowed::Only([]) => "no internal crate".to_owned(),
        Allowed::Only(list) => list.join(", "),
        Allowed::AnythingExcept(list) => format!("anything except {}", list.join(", ")),
        Allowed::Anything => "anything".to_owned(),
    }
}

/// Only the HTTP edge and the binary know axum.
pub(crate) fn check_axum_users(ws: &Workspace) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (rel, manifest) in &ws.crate_manifests {
        let name = manifest.package_name.as_deref().unwrap_or_default();
        if AXUM_ALLOWED.contains(&name) {
            continue;
        }
        for dep in &manifest.deps {
            if dep.package() == "axum" && matches!(dep.kind, DepKind::Normal | DepKind::Build) {
                failures.push(Failure::new(
                    format!("{rel}:{}", dep.line),
                    format!(
                        "`{name}` depends on axum; only {} may (HTTP lives at the edge)",
                        AXUM_ALLOWED.join(" and ")
                    ),
                ));
            }
        }
    }
    failures
}

/// The `rsa` crate (RUSTSEC-2023-0071, Marvin) is not in the dependency graph at all.
pub(crate) fn check_no_rsa(ws: &Workspace) -> Vec<Failure> {
    let packages = manifest::parse_lock(&ws.lock);
    packages
        .iter()
        .filter(|package| package.name == "rsa")
        .map(|package| {
            let dependents: Vec<&str> = packages
                .iter()
                .filter(|p| p.dependencies.iter().any(|d| d == "rsa"))
                .map(|p| p.name.as_str())
                .collect();
            Failure::new(
                "Cargo.lock",
                format!(
                    "the `rsa` crate {} is in the dependency graph (required by {}); \
                     RSA private-key operations belong to aws-lc-rs (RUSTSEC-2023-0071)",
                    package.version,
                    if dependents.is_empty() {
                        "nothing listed".to_owned()
                    } else {
                        dependents.join(", ")
                    }
                ),
            )
        })
        .collect()
}

/// `jsonwebtoken` is declared with `default-features = false` and `features = ["aws_lc_rs"]`
/// (with `rust_crypto` also on, it panics at first use); members inherit it unchanged.
pub(crate) fn check_jsonwebtoken(ws: &Workspace) -> Vec<Failure> {
    let manifests = std::iter::once(("Cargo.toml", &ws.root_manifest))
        .chain(ws.crate_manifests.iter().map(|(rel, m)| (rel.as_str(), m)));
    let mut failures = Vec::new();
    for (rel, manifest) in manifests {
        for dep in manifest
            .deps
            .iter()
            .filter(|d| d.package() == "jsonwebtoken")
        {
            let location = format!("{rel}:{}", dep.line);
            let features = dep.features();
            let only_aws = features.as_deref() == Some(&["aws_lc_rs".to_owned()][..]);
            if dep.uses_workspace() {
                if features.is_some_and(|f| !f.is_empty()) && !only_aws {
                    failures.push(Failure::new(
                        location,
                        "jsonwebtoken must inherit the workspace declaration without adding features",
                    ));
                }
                continue;
            }
            if dep.attr("default-features") != Some("false") {
                failures.push(Failure::new(
                    location.clone(),
                    "jsonwebtoken must be declared with `default-features = false` \
                     (the default `rust_crypto` backend pulls in the `rsa` crate)",
                ));
            }
            if !only_aws {
                failures.push(Failure::new(
                    location,
                    format!(
                        "jsonwebtoken must have `features = [\"aws_lc_rs\"]` and nothing else, found {}",
                        dep.attr("features").unwrap_or("no features")
                    ),
                ));
            }
        }
    }
    failures
}

/// True when `needle` occurs in `line` not as the tail of a longer identifier
/// (`println!(` must not match inside `eprintln!(`).
fn contains_token(line: &str, needle: &str) -> bool {
    line.match_indices(needle).any(|(index, _)| {
        !line[..index]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// No `todo!`, `unimplemented!`, `dbg!` or `#[ignore]` anywhere under `crates/`, tests included.
pub(crate) fn check_forbidden_macros(ws: &Workspace) -> Vec<Failure> {
    let mut failures = Vec::new();
    for file in ws.sources.iter().filter(|f| f.rel.starts_with("crates/")) {
        for (index, line) in file.text.lines().enumerate() {
            for (needle, why) in FORBIDDEN {
                if contains_token(line, needle) {
                    failures.push(Failure::new(
                        format!("{}:{}", file.rel, index + 1),
                        format!("`{needle}` is not allowed in crates ({why})"),
                    ));
                }
            }
        }
    }
    failures
}

/// `println!`/`print!` only where stdout is the product (see `println_allowed`).
pub(crate) fn check_println(ws: &Workspace) -> Vec<Failure> {
    let mut failures = Vec::new();
    for file in ws.sources.iter().filter(|f| f.rel.starts_with("crates/")) {
        if println_allowed(&file.rel) {
            continue;
        }
        for (number, line) in file.production_lines() {
            if contains_token(line, "println!(") || contains_token(line, "print!(") {
                failures.push(Failure::new(
                    format!("{}:{number}", file.rel),
                    "`println!` outside crates/strongroom/src/{server,agent}.rs, crates/strongroom-cli, \
                     crates/strongroom-bench and tests; log with `tracing` instead",
                ));
            }
        }
    }
    failures
}

/// `.expose()` on secret material only in `EXPOSE_ALLOWED` files (and test code).
pub(crate) fn check_expose(ws: &Workspace) -> Vec<Failure> {
    let mut failures = Vec::new();
    for file in ws.sources.iter().filter(|f| f.rel.starts_with("crates/")) {
        if EXPOSE_ALLOWED.contains(&file.rel.as_str()) {
            continue;
        }
        for (number, line) in file.production_lines() {
            if line.contains(".expose()") {
                failures.push(Failure::new(
                    format!("{}:{number}", file.rel),
                    format!(
                        "`.expose()` in {}, which is not in EXPOSE_ALLOWED (xtask/src/tidy.rs); \
                         keep secret material sealed, or add the file with a reason",
                        file.rel
                    ),
                ));
            }
        }
    }
    for allowed in EXPOSE_ALLOWED {
        if !ws.sources.iter().any(|f| f.rel == *allowed) {
            failures.push(Failure::new(
                "xtask/src/tidy.rs",
                format!("EXPOSE_ALLOWED lists {allowed}, which does not exist; remove it"),
            ));
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    //! The real workspace must pass every check (one test per check, so a failure names its
    //! rule), and each check must catch what it exists to catch (synthetic workspaces).

    use super::*;

    fn workspace() -> Workspace {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives one level below the workspace root");
        Workspace::load(root).expect("the workspace is readable")
    }

    #[track_caller]
    fn assert_clean(failures: &[Failure]) {
        let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert!(report.is_empty(), "tidy failures:\n{}", report.join("\n"));
    }

    #[test]
    fn module_docs() {
        assert_clean(&check_module_docs(&workspace()));
    }

    #[test]
    fn dependency_graph() {
        assert_clean(&check_dependency_graph(&workspace()));
    }

    #[test]
    fn axum_users() {
        assert_clean(&check_axum_users(&workspace()));
    }

    #[test]
    fn no_rsa() {
        assert_clean(&check_no_rsa(&workspace()));
    }

    #[test]
    fn jsonwebtoken_backend() {
        assert_clean(&check_jsonwebtoken(&workspace()));
    }

    #[test]
    fn forbidden_macros() {
        assert_clean(&check_forbidden_macros(&workspace()));
    }

    #[test]
    fn println_only_where_allowed() {
        assert_clean(&check_println(&workspace()));
    }

    #[test]
    fn expose_only_where_allowed() {
        assert_clean(&check_expose(&workspace()));
    }

    // --- the checks catch what they should -------------------------------------------------

    fn synthetic(manifests: &[(&str, &str)], sources: &[(&str, &str)], lock: &str) -> Workspace {
        Workspace {
            root_manifest: manifest::parse_manifest(
                "[workspace.dependencies]\njsonwebtoken = { version = \"10\", default-features = false, features = [\"aws_lc_rs\"] }\n",
            ),
            crate_manifests: manifests
                .iter()
                .map(|(rel, text)| ((*rel).to_owned(), manifest::parse_manifest(text)))
                .collect(),
            lock: lock.to_owned(),
            sources: sources
                .iter()
                .map(|(rel, text)| SourceFile {
                    rel: (*rel).to_owned(),
                    text: (*text).to_owned(),
                })
                .collect(),
        }
    }

    fn render(failures: &[Failure]) -> String {
        failures.iter().map(|f| f.to_string() + "\n").collect()
    }

    #[test]
    fn graph_violations_name_the_edge_and_the_line() {
        let ws = synthetic(
            &[
                (
                    "crates/strongroom-model/Cargo.toml",
                    "[package]\nname = \"strongroom-model\"\n",
                ),
                (
                    "crates/strongroom-crypto/Cargo.toml",
                    "[package]\nname = \"strongroom-crypto\"\n",
                ),
                (
                    "crates/strongroom-store/Cargo.toml",
                    "[package]\nname = \"strongroom-store\"\n",
                ),
                (
                    "crates/strongroom-authz/Cargo.toml",
                    "[package]\nname = \"strongroom-authz\"\n",
                ),
                (
                    "crates/strongroom-identity/Cargo.toml",
                    "[package]\nname = \"strongroom-identity\"\n",
                ),
                (
                    "crates/strongroom-vault/Cargo.toml",
                    "[package]\nname = \"strongroom-vault\"\n[dependencies]\nstrongroom-model.workspace = true\nstrongroom-api.workspace = true\naxum.workspace = true\n[dev-dependencies]\nstrongroom-identity.workspace = true\n",
                ),
                (
                    "crates/strongroom-cli/Cargo.toml",
                    "[package]\nname = \"strongroom-cli\"\n[dependencies]\nstore = { package = \"strongroom-store\", path = \"../strongroom-store\" }\n[dev-dependencies]\nstrongroom-crypto.workspace = true\n",
                ),
                (
                    "crates/strongroom-bench/Cargo.toml",
                    "[package]\nname = \"strongroom-bench\"\n[dependencies]\nstrongroom-store.workspace = true\nstrongroom-vault.workspace = true\n",
                ),
                (
                    "crates/strongroom-api/Cargo.toml",
                    "[package]\nname = \"strongroom-api\"\n[dependencies]\nstrongroom-crypto.workspace = true\n[dev-dependencies]\nstrongroom-crypto.workspace = true\n",
                ),
                (
                    "crates/strongroom-extra/Cargo.toml",
                    "[package]\nname = \"strongroom-extra\"\n",
                ),
            ],
            &[],
            "",
        );
        let failures = [check_dependency_graph(&ws), check_axum_users(&ws)].concat();
        assert_eq!(
            render(&failures),
            "\
crates/strongroom-vault/Cargo.toml:5: `strongroom-vault` must not depend on `strongroom-api` (dependency); allowed: strongroom-model, strongroom-crypto, strongroom-store, strongroom-authz
crates/strongroom-vault/Cargo.toml:8: `strongroom-vault` must not depend on `strongroom-identity` (dev-dependency); allowed: strongroom-model, strongroom-crypto, strongroom-store, strongroom-authz
crates/strongroom-cli/Cargo.toml:4: `strongroom-cli` must not depend on `strongroom-store` (dependency); allowed: strongroom-model
crates/strongroom-cli/Cargo.toml:6: `strongroom-cli` must not depend on `strongroom-crypto` (dev-dependency); allowed: strongroom-model
crates/strongroom-bench/Cargo.toml:5: `strongroom-bench` must not depend on `strongroom-vault` (dependency); allowed: anything except strongroom-api, strongroom-vault
crates/strongroom-api/Cargo.toml:4: `strongroom-api` must not depend on `strongroom-crypto` (dependency); allowed: strongroom-model, strongroom-authz, strongroom-identity, strongroom-vault, strongroom-store
crates/strongroom-extra/Cargo.toml: crate `strongroom-extra` has no entry in ALLOWED_EDGES (xtask/src/tidy.rs); add one with its allowed internal dependencies and update ARCHITECTURE.md
crates/strongroom-vault/Cargo.toml:6: `strongroom-vault` depends on axum; only strongroom-api and strongroom may (HTTP lives at the edge)
"
        );
    }

    #[test]
    fn rsa_and_jsonwebtoken_backends() {
        let lock = "[[package]]\nname = \"jsonwebtoken\"\nversion = \"10.0.0\"\ndependencies = [\n \"rsa\",\n]\n\n[[package]]\nname = \"rsa\"\nversion = \"0.9.8\"\n";
        let ws = synthetic(
            &[
                (
                    "crates/strongroom-identity/Cargo.toml",
                    "[package]\nname = \"strongroom-identity\"\n[dependencies]\njsonwebtoken = \"10\"\n",
                ),
                (
                    "crates/strongroom-api/Cargo.toml",
                    "[package]\nname = \"strongroom-api\"\n[dependencies]\njsonwebtoken = { workspace = true, features = [\"rust_crypto\"] }\n",
                ),
                (
                    "crates/strongroom-vault/Cargo.toml",
                    "[package]\nname = \"strongroom-vault\"\n[dependencies]\njsonwebtoken = { version = \"10\", default-features = false, features = [\"aws_lc_rs\", \"rust_crypto\"] }\n",
                ),
                (
                    "crates/strongroom/Cargo.toml",
                    "[package]\nname = \"strongroom\"\n[dependencies]\njsonwebtoken.workspace = true\n",
                ),
            ],
            &[],
            lock,
        );
        let failures = [check_no_rsa(&ws), check_jsonwebtoken(&ws)].concat();
        assert_eq!(
            render(&failures),
            "\
Cargo.lock: the `rsa` crate 0.9.8 is in the dependency graph (required by jsonwebtoken); RSA private-key operations belong to aws-lc-rs (RUSTSEC-2023-0071)
crates/strongroom-identity/Cargo.toml:4: jsonwebtoken must be declared with `default-features = false` (the default `rust_crypto` backend pulls in the `rsa` crate)
crates/strongroom-identity/Cargo.toml:4: jsonwebtoken must have `features = [\"aws_lc_rs\"]` and nothing else, found no features
crates/strongroom-api/Cargo.toml:4: jsonwebtoken must inherit the workspace declaration without adding features
crates/strongroom-vault/Cargo.toml:4: jsonwebtoken must have `features = [\"aws_lc_rs\"]` and nothing else, found [\"aws_lc_rs\", \"rust_crypto\"]
"
        );
    }

    #[test]
    fn source_rules_allow_test_code_and_name_the_line() {
        let ws = synthetic(
            &[],
            &[
                (
                    "crates/strongroom-model/src/lib.rs",
                    "//! Model.\nfn a() { todo!() }\n",
                ),
                (
                    "crates/strongroom-model/src/names.rs",
                    "\n\nuse std::fmt;\n",
                ),
                (
                    "crates/strongroom-store/src/rows.rs",
                    "//! Rows.\nfn f(v: &V) { println!(\"{}\", v.expose()); eprintln!(\"ok\"); }\n#[cfg(test)]\nmod tests { fn t(v: &V) { println!(\"{}\", v.expose()); dbg!(1); } }\n",
                ),
                (
                    "crates/strongroom-vault/tests/it/main.rs",
                    "//! Tests.\n#[test]\n#[ignore]\nfn t(v: &V) { println!(\"{}\", v.expose()); }\n",
                ),
                (
                    "crates/strongroom-cli/src/env.rs",
                    "//! Env.\nfn f() { println!(\"x\"); unimplemented!(\"y\") }\n",
                ),
                (
                    "crates/strongroom-store/examples/load.rs",
                    "//! Load.\nfn main() { println!(\"ops/s\"); }\n",
                ),
                ("xtask/src/main.rs", "fn main() {}\n"),
            ],
            "",
        );
        let failures = [
            check_module_docs(&ws),
            check_forbidden_macros(&ws),
            check_println(&ws),
        ]
        .concat();
        assert_eq!(
            render(&failures),
            "\
crates/strongroom-model/src/names.rs:3: the file does not start with a `//!` module doc (what it owns and why)
xtask/src/main.rs:1: the file does not start with a `//!` module doc (what it owns and why)
crates/strongroom-model/src/lib.rs:2: `todo!(` is not allowed in crates (unfinished code)
crates/strongroom-store/src/rows.rs:4: `dbg!(` is not allowed in crates (debug output)
crates/strongroom-vault/tests/it/main.rs:3: `#[ignore` is not allowed in crates (a skipped test (assert today's behaviour with a FIXME instead))
crates/strongroom-cli/src/env.rs:2: `unimplemented!(` is not allowed in crates (unfinished code)
crates/strongroom-store/src/rows.rs:2: `println!` outside crates/strongroom/src/{server,agent}.rs, crates/strongroom-cli, crates/strongroom-bench and tests; log with `tracing` instead
"
        );
        let expose: Vec<Failure> = check_expose(&ws)
            .into_iter()
            .filter(|f| f.location != "xtask/src/tidy.rs")
            .collect();
        assert_eq!(
            render(&expose),
            "crates/strongroom-store/src/rows.rs:2: `.expose()` in crates/strongroom-store/src/rows.rs, which is not in EXPOSE_ALLOWED (xtask/src/tidy.rs); keep secret material sealed, or add the file with a reason\n"
        );
    }
}
