//! Just enough of `Cargo.toml` and `Cargo.lock` for tidy: dependency declarations (name,
//! kind, line, attributes) and locked packages with their dependents.
//!
//! Why not the `toml` crate: our manifests use four shapes (`x.workspace = true`,
//! `x = "1"`, `x = { ... }`, `[dependencies.x]`), and a reader of those shapes keeps xtask
//! free of dependencies beyond `anyhow`. Anything it does not understand is reported by the
//! caller as "where", never silently accepted: a declaration it cannot read has no attributes,
//! which fails the checks that need them.

/// Which table a dependency is declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DepKind {
    Normal,
    Dev,
    Build,
    /// `[workspace.dependencies]` in the root manifest.
    Workspace,
}

/// One dependency declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DepDecl {
    /// The key in the manifest (`strongroom-model`, `jsonwebtoken`).
    pub(crate) key: String,
    pub(crate) kind: DepKind,
    /// 1-based line of the declaration.
    pub(crate) line: usize,
    /// `(attribute, raw value)`; a bare version string becomes `("version", "\"1\"")`.
    pub(crate) attrs: Vec<(String, String)>,
}

impl DepDecl {
    /// The package this declaration names (`package = "..."` renames, otherwise the key).
    pub(crate) fn package(&self) -> String {
        self.attr("package")
            .map_or_else(|| self.key.clone(), unquote)
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn uses_workspace(&self) -> bool {
        self.attr("workspace") == Some("true")
    }

    /// The `features = [...]` list, or `None` when absent.
    pub(crate) fn features(&self) -> Option<Vec<String>> {
        self.attr("features").map(parse_string_array)
    }
}

/// A parsed manifest: the `[package] name` (if any) and every dependency declaration.
#[derive(Debug, Default)]
pub(crate) struct Manifest {
    pub(crate) package_name: Option<String>,
    pub(crate) deps: Vec<DepDecl>,
}

/// Where the current section puts `key = value` lines.
enum Section {
    Package,
    /// A dependency table: each key is one dependency.
    DepTable(DepKind),
    /// `[dependencies.NAME]`: each key is an attribute of the declaration at this index.
    DepEntry(usize),
    Other,
}

pub(crate) fn parse_manifest(text: &str) -> Manifest {
    let mut manifest = Manifest::default();
    let mut section = Section::Other;
    for (line, entry) in logical_lines(text) {
        if let Some(header) = entry.strip_prefix('[') {
            let header = header.trim_end_matches(']').trim();
            section = classify_header(header, line, &mut manifest);
            continue;
        }
        let Some((key, value)) = entry.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let value = value.trim().to_owned();
        match section {
            Section::Package => {
                if key == "name" {
                    manifest.package_name = Some(unquote(&value));
                }
            }
            Section::DepTable(kind) => {
                let (name, attr) = match key.split_once('.') {
                    Some((name, attr)) => (name.trim(), Some(attr.trim())),
                    None => (key, None),
                };
                let attrs = match attr {
                    Some(attr) => vec![(attr.to_owned(), value)],
                    None if value.starts_with('{') => parse_inline_table(&value),
                    None => vec![("version".to_owned(), value)],
                };
                manifest.deps.push(DepDecl {
                    key: unquote(name),
                    kind,
                    line,
                    attrs,
                });
            }
            Section::DepEntry(index) => {
                if let Some(decl) = manifest.deps.get_mut(index) {
                    decl.attrs.push((key.to_owned(), value));
                }
            }
            Section::Other => {}
        }
    }
    manifest
}

fn classify_header(header: &str, line: usize, manifest: &mut Manifest) -> Section {
    if header == "package" {
        return Section::Package;
    }
    if header == "workspace.dependencies" {
        return Section::DepTable(DepKind::Workspace);
    }
    if let Some(name) = header.strip_prefix("workspace.dependencies.") {
        return dep_entry(name, DepKind::Workspace, line, manifest);
    }
    // `target.'cfg(..)'.dependencies` and friends: the last table names the kind.
    let tables: [(&str, DepKind); 3] = [
        ("dependencies", DepKind::Normal),
        ("dev-dependencies", DepKind::Dev),
        ("build-dependencies", DepKind::Build),
    ];
    for (table, kind) in tables {
        if header == table || header.ends_with(&format!(".{table}")) {
            return Section::DepTable(kind);
        }
        if let Some(name) = header.strip_prefix(&format!("{table}.")) {
            return dep_entry(name, kind, line, manifest);
        }
        if let Some((_, name)) = header.split_once(&format!(".{table}.")) {
            return dep_entry(name, kind, line, manifest);
        }
    }
    Section::Other
}

fn dep_entry(name: &str, kind: DepKind, line: usize, manifest: &mut Manifest) -> Section {
    manifest.deps.push(DepDecl {
        key: unquote(name),
        kind,
        line,
        attrs: Vec::new(),
    });
    Section::DepEntry(manifest.deps.len() - 1)
}

/// Lines with comments removed and multi-line arrays / inline tables joined, each with the
/// 1-based number of its first line. Blank lines are dropped.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let mut depth = 0i32;
    for (index, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() && pending.is_none() {
            continue;
        }
        // A table header is `[...]` at depth 0; it is not an opening bracket of a value.
        let is_header = pending.is_none() && trimmed.starts_with('[');
        if !is_header {
            depth += bracket_balance(trimmed);
        }
        match &mut pending {
            Some((_, joined)) => {
                joined.push(' ');
                joined.push_str(trimmed);
            }
            None => pending = Some((index + 1, trimmed.to_owned())),
        }
        if depth <= 0 {
            depth = 0;
            out.extend(pending.take());
        }
    }
    out.extend(pending);
    out
}

fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (index, byte) in line.bytes().enumerate() {
        match byte {
            b'"' => in_string = !in_string,
            b'#' if !in_string => return &line[..index],
            _ => {}
        }
    }
    line
}

fn bracket_balance(text: &str) -> i32 {
    let mut in_string = false;
    let mut balance = 0;
    for byte in text.bytes() {
        match byte {
            b'"' => in_string = !in_string,
            b'[' | b'{' if !in_string => balance += 1,
            b']' | b'}' if !in_string => balance -= 1,
            _ => {}
        }
    }
    balance
}

/// `{ a = 1, b = [x, y] }` -> `[("a","1"), ("b","[x, y]")]`.
fn parse_inline_table(value: &str) -> Vec<(String, String)> {
    let inner = value.trim().trim_start_matches('{').trim_end_matches('}');
    split_top_level(inner)
        .into_iter()
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Splits on commas outside brackets and strings.
fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0;
    let mut in_string = false;
    for c in text.chars() {
        match c {
            '"' => in_string = !in_string,
            '[' | '{' if !in_string => depth += 1,
            ']' | '}' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
        .collect()
}

/// `["a", "b",]` -> `["a", "b"]`.
pub(crate) fn parse_string_array(value: &str) -> Vec<String> {
    let inner = value.trim().trim_start_matches('[').trim_end_matches(']');
    split_top_level(inner)
        .iter()
        .map(|item| unquote(item))
        .collect()
}

pub(crate) fn unquote(value: &str) -> String {
    value.trim().trim_matches('"').trim_matches('\'').to_owned()
}

/// One `[[package]]` of `Cargo.lock`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct LockedPackage {
    pub(crate) name: String,
    pub(crate) version: String,
    /// Names only (`"rsa 0.9.8"` becomes `rsa`).
    pub(crate) dependencies: Vec<String>,
}

pub(crate) fn parse_lock(text: &str) -> Vec<LockedPackage> {
    let mut packages = Vec::new();
    for (_, entry) in logical_lines(text) {
        if entry == "[[package]]" {
            packages.push(LockedPackage::default());
            continue;
        }
        let (Some(package), Some((key, value))) = (packages.last_mut(), entry.split_once('='))
        else {
            continue;
        };
        match key.trim() {
            "name" => package.name = unquote(value),
            "version" => package.version = unquote(value),
            "dependencies" => {
                package.dependencies = parse_string_array(value)
                    .into_iter()
                    .filter_map(|dep| dep.split_whitespace().next().map(str::to_owned))
                    .collect();
            }
            _ => {}
        }
    }
    packages
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn render(manifest: &Manifest) -> String {
        let mut out = format!("package: {:?}\n", manifest.package_name);
        for dep in &manifest.deps {
            let _ = writeln!(
                out,
                "{}:{:?}@{} -> {} {:?}",
                dep.key,
                dep.kind,
                dep.line,
                dep.package(),
                dep.attrs
            );
        }
        out
    }

    #[test]
    fn reads_every_declaration_shape() {
        let text = r#"
[package]
name = "strongroom-api" # the edge
version.workspace = true

[dependencies]
strongroom-model.workspace = true
renamed = { package = "strongroom-vault", path = "../v" }
jsonwebtoken = { version = "10", default-features = false, features = [
    "aws_lc_rs", # only this one
] }
serde = "1"

[dependencies.tokio]
version = "1"
features = ["rt"]

[target.'cfg(unix)'.dependencies]
nix = "0.29"

[dev-dependencies]
expect-test.workspace = true

[build-dependencies.cc]
version = "1"

[lints]
workspace = true
"#;
        let got = render(&parse_manifest(text));
        let want = r#"package: Some("strongroom-api")
strongroom-model:Normal@7 -> strongroom-model [("workspace", "true")]
renamed:Normal@8 -> strongroom-vault [("package", "\"strongroom-vault\""), ("path", "\"../v\"")]
jsonwebtoken:Normal@9 -> jsonwebtoken [("version", "\"10\""), ("default-features", "false"), ("features", "[ \"aws_lc_rs\", ]")]
serde:Normal@12 -> serde [("version", "\"1\"")]
tokio:Normal@14 -> tokio [("version", "\"1\""), ("features", "[\"rt\"]")]
nix:Normal@19 -> nix [("version", "\"0.29\"")]
expect-test:Dev@22 -> expect-test [("workspace", "true")]
cc:Build@24 -> cc [("version", "\"1\"")]
"#;
        assert_eq!(got, want);
        let manifest = parse_manifest(text);
        assert_eq!(
            manifest.deps[2].features(),
            Some(vec!["aws_lc_rs".to_owned()])
        );
    }

    #[test]
    fn reads_workspace_dependencies() {
        let text = r#"
[workspace.dependencies]
jsonwebtoken = { version = "10", default-features = false, features = ["aws_lc_rs"] }

[workspace.dependencies.rcgen]
version = "0.14"
"#;
        let got = render(&parse_manifest(text));
        let want = r#"package: None
jsonwebtoken:Workspace@3 -> jsonwebtoken [("version", "\"10\""), ("default-features", "false"), ("features", "[\"aws_lc_rs\"]")]
rcgen:Workspace@5 -> rcgen [("version", "\"0.14\"")]
"#;
        assert_eq!(got, want);
    }

    #[test]
    fn reads_locked_packages_and_their_dependencies() {
        let text = r#"
version = 4

[[package]]
name = "jsonwebtoken"
version = "10.0.0"
dependencies = [
 "base64",
 "rsa 0.9.8",
]

[[package]]
name = "rsa"
version = "0.9.8"
"#;
        assert_eq!(
            parse_lock(text),
            vec![
                LockedPackage {
                    name: "jsonwebtoken".to_owned(),
                    version: "10.0.0".to_owned(),
                    dependencies: vec!["base64".to_owned(), "rsa".to_owned()],
                },
                LockedPackage {
                    name: "rsa".to_owned(),
                    version: "0.9.8".to_owned(),
                    dependencies: vec![],
                },
            ]
        );
    }
}
