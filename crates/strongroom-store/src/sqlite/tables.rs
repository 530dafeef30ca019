//! The whole database as `crate::tables` dumps: an export read in one read transaction (one
//! snapshot, writers go on), and an import into an empty database in the writer's transaction,
//! ids kept, with `sqlite_sequence` raised to the vault high-water mark so a purged vault's id
//! is not handed out again.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

use crate::tables::{
    SEQUENCES, TABLES, check_shape, insert_into, select_all, sequences_dump, vault_high_water,
};
use crate::{StoreError, TableDump, TableValue};

/// Every table, in one read transaction.
pub(super) fn export(conn: &Connection) -> Result<Vec<TableDump>, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut out = Vec::with_capacity(TABLES.len());
    for shape in TABLES.iter().filter(|shape| shape.name != SEQUENCES) {
        let mut statement = tx.prepare(&select_all(shape, " COLLATE BINARY"))?;
        let mut rows = statement.query([])?;
        let mut dump = TableDump {
            table: shape.name.to_owned(),
            columns: shape.columns.iter().map(|&c| c.to_owned()).collect(),
            rows: Vec::new(),
        };
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(shape.columns.len());
            for index in 0..shape.columns.len() {
                values.push(match row.get_ref(index)? {
                    ValueRef::Null => TableValue::Null,
                    ValueRef::Integer(n) => TableValue::Integer(n),
                    ValueRef::Text(bytes) => {
                        TableValue::Text(String::from_utf8(bytes.to_vec()).map_err(|_| {
                            StoreError::Corrupt(format!("{}: text is not UTF-8", shape.name))
                        })?)
                    }
                    ValueRef::Blob(bytes) => TableValue::Bytes(bytes.to_vec()),
                    ValueRef::Real(_) => {
                        return Err(StoreError::Corrupt(format!(
                            "{}: a real number where the schema has none",
                            shape.name
                        )));
                    }
                });
            }
            dump.rows.push(values);
        }
        out.push(dump);
    }
    let high_water: Option<i64> = tx
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'vaults'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    out.push(sequences_dump(high_water.unwrap_or(0)));
    Ok(out)
}

/// The declared type of each column (SQLite stores any value in any column; an import must
/// not write a text where the schema keeps an integer).
fn declared_types(
    conn: &Connection,
    table: &str,
    columns: &[&str],
) -> Result<Vec<String>, StoreError> {
    let mut statement = conn.prepare("SELECT type FROM pragma_table_info(?1) WHERE name = ?2")?;
    columns
        .iter()
        .map(|column| {
            let declared: String = statement.query_row(params![table, column], |row| row.get(0))?;
            Ok(declared.to_ascii_uppercase())
        })
        .collect()
}

/// Writes an export into this empty database (inside the writer's transaction).
pub(super) fn import(conn: &Connection, tables: &[TableDump]) -> Result<(), StoreError> {
    check_shape(tables)?;
    for shape in TABLES.iter().filter(|shape| shape.name != SEQUENCES) {
        let taken: bool = conn.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {})", shape.name),
            [],
            |row| row.get(0),
        )?;
        if taken {
            return Err(StoreError::Conflict(format!(
                "an import needs an empty store; table {} has rows",
                shape.name
            )));
        }
    }
    for (dump, shape) in tables.iter().zip(TABLES) {
        if shape.name == SEQUENCES {
            continue;
        }
        let declared = declared_types(conn, shape.name, shape.columns)?;
        let mut statement = conn.prepare(&insert_into(shape, |n| format!("?{n}")))?;
        for row in &dump.rows {
            let values = row
                .iter()
                .zip(&declared)
                .map(|(value, declared)| match (value, declared.as_str()) {
                    (TableValue::Null, _) => Ok(Value::Null),
                    (TableValue::Integer(n), "INTEGER") => Ok(Value::Integer(*n)),
                    (TableValue::Text(text), "TEXT") => Ok(Value::Text(text.clone())),
                    (TableValue::Bytes(bytes), "BLOB") => Ok(Value::Blob(bytes.clone())),
                    _ => Err(StoreError::Corrupt(format!(
                        "{}: {value:?} does not fit a column of type {declared}",
                        shape.name
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            statement.execute(rusqlite::params_from_iter(values))?;
        }
    }
    // Inserting explicit ids moved the counter to the highest id present; a purged vault may
    // have had a higher one.
    let high_water = vault_high_water(tables)?;
    let changed = conn.execute(
        "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'vaults'",
        params![high_water],
    )?;
    if changed == 0 && high_water > 0 {
        conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('vaults', ?1)",
            params![high_water],
        )?;
    }
    Ok(())
}
