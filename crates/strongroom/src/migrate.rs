//! `strongroom migrate [--from DATA_DIR] --to postgres://…`: moves the deployment in the data directory from its
//! embedded SQLite file to a PostgreSQL database, for several nodes or an operator's own
//! database server.
//!
//! The data directory's lock is taken first, so no `serve` writes during the copy (and one
//! running refuses the migration). Every table goes across as it is (`Store::export_tables`
//! and `import_tables`, ids kept, ciphertext never opened) into a database that must be empty,
//! in one transaction; then the copy is exported back and compared with the source, row for
//! row, before the command reports success. The SQLite file is left as it was: the data
//! directory serves either store, and `serve --store URL` now serves the copy.

use std::path::Path;

use anyhow::Context as _;
use serde_json::{Map, Value, json};
use strongroom_store::{PostgresStore, SqliteStore, Store, TableDump};

use crate::config::without_password;
use crate::data_dir::{self, DataDir};
use crate::deployment_backup::Report;

/// `strongroom migrate`
#[derive(Debug, clap::Args)]
pub(crate) struct MigrateArgs {
    /// The data directory whose SQLite deployment moves (default: --data-dir)
    #[arg(long, value_name = "DATA_DIR")]
    from: Option<std::path::PathBuf>,
    /// The PostgreSQL database to copy the deployment into (`postgres://user@host/db`); it
    /// must hold no Strongroom data yet
    #[arg(long, value_name = "URL")]
    to: String,
}

pub(crate) async fn migrate(data_dir: &Path, args: &MigrateArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.to.starts_with("postgres://") || args.to.starts_with("postgresql://"),
        "--to must be a PostgreSQL URL (postgres://…)"
    );
    let data_dir = args.from.as_deref().unwrap_or(data_dir);
    let dir = DataDir::open(data_dir)?;
    let database = dir.path(data_dir::DATABASE_FILE);
    anyhow::ensure!(
        database.exists(),
        "{} holds no database to migrate",
        data_dir.display()
    );
    // Held until the copy is verified: no `serve` may write meanwhile.
    let _lock = dir.lock_for_serve().context(
        "the data directory is in use: stop `strongroom serve` before migrating (writes after \
         the copy would be lost)",
    )?;
    let source = SqliteStore::open(&database).context("opening the SQLite database")?;
    let target = PostgresStore::connect(&args.to)
        .await
        .context("connecting to the PostgreSQL database")?;
    let tables = source
        .export_tables()
        .await
        .context("reading the SQLite database")?;
    let counts = row_counts(&tables);
    target
        .import_tables(tables.clone())
        .await
        .context("writing the PostgreSQL database (it must be empty)")?;
    let copied = target
        .export_tables()
        .await
        .context("reading the copy back")?;
    if let Some(table) = first_difference(&tables, &copied) {
        anyhow::bail!(
            "the copy differs from the source in table {table}: the PostgreSQL database now \
             holds a partial copy; drop it before trying again"
        );
    }
    let url = without_password(&args.to);
    Ok(Report {
        answer: json!({
            "from": database.display().to_string(),
            "to": url,
            "tables": counts,
            "verified": "every row of every table read back equal",
            "next": format!("strongroom --data-dir {} serve --store '{url}'", data_dir.display()),
        }),
        warnings: vec![
            "the SQLite database is unchanged; serve only one of the two stores from now on, \
             or the deployment splits in two"
                .to_owned(),
        ],
    })
}

fn row_counts(tables: &[TableDump]) -> Value {
    Value::Object(
        tables
            .iter()
            .map(|table| (table.table.clone(), Value::from(table.rows.len())))
            .collect::<Map<String, Value>>(),
    )
}

/// The first table whose copy is not equal to its source (also a missing or extra table).
fn first_difference(source: &[TableDump], copy: &[TableDump]) -> Option<String> {
    if source.len() != copy.len() {
        return Some("(the list of tables)".to_owned());
    }
    source
        .iter()
        .zip(copy)
        .find(|(from, to)| from != to)
        .map(|(from, _)| from.table.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_store::TableValue;

    fn table(name: &str, rows: Vec<Vec<TableValue>>) -> TableDump {
        TableDump {
            table: name.to_owned(),
            columns: vec!["a".to_owned()],
            rows,
        }
    }

    #[test]
    fn any_difference_is_named() {
        let source = vec![
            table("meta", vec![vec![TableValue::Integer(1)]]),
            table("vaults", vec![vec![TableValue::Bytes(vec![1, 2])]]),
        ];
        assert_eq!(first_difference(&source, &source.clone()), None);
        let mut edited = source.clone();
        edited[1].rows[0][0] = TableValue::Bytes(vec![1, 3]);
        assert_eq!(
            first_difference(&source, &edited),
            Some("vaults".to_owned())
        );
        assert!(first_difference(&source, &source[..1]).is_some());
        assert_eq!(row_counts(&source), json!({"meta": 1, "vaults": 1}),);
    }
}
