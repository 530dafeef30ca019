//! The whole database as `crate::tables` dumps: an export read in one `REPEATABLE READ READ
//! ONLY` transaction (one snapshot, writers on every node go on), and an import into an empty
//! database in one transaction, ids kept, with the identity sequences moved past them (the
//! vaults' past the exported high-water mark, so a purged vault's id is not handed out again).
//! `boolean` columns travel as 0 and 1.

use deadpool_postgres::{Object, Transaction};
use tokio_postgres::IsolationLevel;
use tokio_postgres::types::{ToSql, Type};

use super::error::db;
use super::statements::{get, query};
use crate::tables::{
    SEQUENCES, TABLES, check_shape, insert_into, select_all, sequences_dump, vault_high_water,
};
use crate::{StoreError, TableDump, TableValue};

/// Every table, from one snapshot.
pub(super) async fn export(client: &mut Object) -> Result<Vec<TableDump>, StoreError> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(db)?;
    let mut out = Vec::with_capacity(TABLES.len());
    for shape in TABLES.iter().filter(|shape| shape.name != SEQUENCES) {
        // The text keys are `COLLATE "C"` columns already: bytewise, as SQLite's export.
        let rows = query(&tx, &select_all(shape, ""), &[]).await?;
        let mut dump = TableDump {
            table: shape.name.to_owned(),
            columns: shape.columns.iter().map(|&c| c.to_owned()).collect(),
            rows: Vec::with_capacity(rows.len()),
        };
        for row in &rows {
            let mut values = Vec::with_capacity(shape.columns.len());
            for (index, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let value = if *ty == Type::BOOL {
                    get::<Option<bool>>(row, index)?.map(|b| TableValue::Integer(i64::from(b)))
                } else if *ty == Type::INT8 {
                    get::<Option<i64>>(row, index)?.map(TableValue::Integer)
                } else if *ty == Type::TEXT {
                    get::<Option<String>>(row, index)?.map(TableValue::Text)
                } else if *ty == Type::BYTEA {
                    get::<Option<Vec<u8>>>(row, index)?.map(TableValue::Bytes)
                } else {
                    return Err(StoreError::Corrupt(format!(
                        "{}.{} has type {ty}, which the logical schema does not use",
                        shape.name,
                        column.name()
                    )));
                };
                values.push(value.unwrap_or(TableValue::Null));
            }
            dump.rows.push(values);
        }
        out.push(dump);
    }
    let rows = query(
        &tx,
        "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM vaults_id_seq",
        &[],
    )
    .await?;
    let high_water = match rows.first() {
        Some(row) => get::<i64>(row, 0)?,
        None => 0,
    };
    out.push(sequences_dump(high_water));
    tx.commit().await.map_err(db)?;
    Ok(out)
}

/// Writes an export into this empty database, in the caller's transaction. The tables are
/// locked against other writers first, so a node writing meanwhile cannot slip a row in
/// between the emptiness check and the copy.
pub(super) async fn import(tx: &Transaction<'_>, tables: &[TableDump]) -> Result<(), StoreError> {
    check_shape(tables)?;
    let names: Vec<&str> = TABLES
        .iter()
        .map(|shape| shape.name)
        .filter(|name| *name != SEQUENCES)
        .collect();
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
        names.join(", ")
    ))
    .await
    .map_err(db)?;
    for name in &names {
        let rows = query(tx, &format!("SELECT EXISTS (SELECT 1 FROM {name})"), &[]).await?;
        if let Some(row) = rows.first()
            && get::<bool>(row, 0)?
        {
            return Err(StoreError::Conflict(format!(
                "an import needs an empty store; table {name} has rows"
            )));
        }
    }
    for (dump, shape) in tables.iter().zip(TABLES) {
        if shape.name == SEQUENCES || dump.rows.is_empty() {
            continue;
        }
        let statement = tx
            .prepare(&insert_into(shape, |n| format!("${n}")))
            .await
            .map_err(db)?;
        for row in &dump.rows {
            let values = row
                .iter()
                .zip(statement.params())
                .map(|(value, ty)| parameter(value, ty, shape.name))
                .collect::<Result<Vec<_>, _>>()?;
            let params: Vec<&(dyn ToSql + Sync)> = values
                .iter()
                .map(|value| &**value as &(dyn ToSql + Sync))
                .collect();
            tx.execute(&statement, &params).await.map_err(db)?;
        }
    }
    let high_water = vault_high_water(tables)?;
    // Past the highest id copied (and, for vaults, the exported high-water mark): the next
    // new row takes the number after it.
    for (table, column, floor) in [
        ("vaults", "id", high_water),
        ("object_names", "id", 0),
        ("object_versions", "seq", 0),
    ] {
        let highest =
            format!("GREATEST(($1)::bigint, (SELECT COALESCE(max({column}), 0) FROM {table}))");
        query(
            tx,
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 GREATEST({highest}, 1), {highest} > 0)"
            ),
            &[&floor],
        )
        .await?;
    }
    Ok(())
}

/// A value as the parameter a column of type `ty` takes.
fn parameter(
    value: &TableValue,
    ty: &Type,
    table: &str,
) -> Result<Box<dyn ToSql + Sync + Send>, StoreError> {
    let wrong = || {
        StoreError::Corrupt(format!(
            "{table}: {value:?} does not fit a column of type {ty}"
        ))
    };
    Ok(match value {
        TableValue::Null if *ty == Type::BOOL => Box::new(None::<bool>),
        TableValue::Null if *ty == Type::INT8 => Box::new(None::<i64>),
        TableValue::Null if *ty == Type::TEXT => Box::new(None::<String>),
        TableValue::Null if *ty == Type::BYTEA => Box::new(None::<Vec<u8>>),
        TableValue::Integer(n @ (0 | 1)) if *ty == Type::BOOL => Box::new(*n == 1),
        TableValue::Integer(n) if *ty == Type::INT8 => Box::new(*n),
        TableValue::Text(text) if *ty == Type::TEXT => Box::new(text.clone()),
        TableValue::Bytes(bytes) if *ty == Type::BYTEA => Box::new(bytes.clone()),
        _ => return Err(wrong()),
    })
}
