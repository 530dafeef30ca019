//! A whole deployment as plain tables (`Store::export_tables`, `Store::import_tables`): the
//! logical schema that every backend keeps, so a deployment moves between backends (SQLite to
//! PostgreSQL and back) row for row, ids included.
//!
//! The tables come in dependency order (a row's parents before it), each with its columns in
//! a fixed order and its rows ordered by primary key (text bytewise), so two exports of equal
//! contents are equal values. Values are what both backends can hold: SQLite's storage classes
//! (PostgreSQL's `boolean` travels as 0 or 1). Backend bookkeeping is not included (SQLite's
//! `user_version`, PostgreSQL's `schema_migrations` and cache generation), except the one
//! counter that carries meaning: the highest vault id ever handed out (`sequences`), so that a
//! copied deployment does not give a purged vault's id to a new vault either.
//!
//! Sealed payloads and data keys travel as the ciphertext they are; the export holds no
//! plaintext, but everything needed to read the deployment together with its master key.

use crate::StoreError;

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableValue {
    Null,
    Integer(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// One table, whole: its name, its columns, and every row (values in column order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDump {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<TableValue>>,
}

/// One table of the logical schema: name, columns in order, and the primary key the rows are
/// ordered by.
pub(crate) struct TableShape {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [&'static str],
    pub(crate) order_by: &'static [&'static str],
}

/// The pseudo-table holding id counters (`name`, `value`): one row, `vaults`.
pub(crate) const SEQUENCES: &str = "sequences";

/// Every table, parents first. `sequences` comes last: it is written after the rows it
/// counts.
pub(crate) const TABLES: &[TableShape] = &[
    TableShape {
        name: "meta",
        columns: &["key", "value"],
        order_by: &["key"],
    },
    TableShape {
        name: "tenants",
        columns: &["tenant_id", "display_name", "is_default"],
        order_by: &["tenant_id"],
    },
    TableShape {
        name: "principals",
        columns: &[
            "object_id",
            "app_id",
            "tenant_id",
            "display_name",
            "kind",
            "is_admin",
            "created",
        ],
        order_by: &["object_id"],
    },
    TableShape {
        name: "credentials",
        columns: &[
            "object_id",
            "ordinal",
            "key_id",
            "salt",
            "hash",
            "hint",
            "created",
            "expires",
            "certificate",
            "display_name",
        ],
        order_by: &["object_id", "ordinal"],
    },
    TableShape {
        name: "vaults",
        columns: &[
            "id",
            "name",
            "tenant_id",
            "retention_days",
            "created",
            "sealed_data_key",
            "sku",
            "rbac_authorization",
            "resource_group",
            "deleted",
        ],
        order_by: &["id"],
    },
    TableShape {
        name: "access_policies",
        columns: &[
            "vault_id",
            "ordinal",
            "tenant_id",
            "object_id",
            "secrets",
            "keys",
            "certificates",
        ],
        order_by: &["vault_id", "ordinal"],
    },
    TableShape {
        name: "object_names",
        columns: &[
            "id",
            "vault_id",
            "kind",
            "name",
            "current_version",
            "deleted_date",
            "scheduled_purge_date",
        ],
        order_by: &["id"],
    },
    TableShape {
        name: "object_versions",
        columns: &[
            "seq",
            "name_id",
            "version",
            "enabled",
            "not_before",
            "expires",
            "created",
            "updated",
            "tags",
            "meta",
            "payload",
        ],
        order_by: &["seq"],
    },
    TableShape {
        name: "name_policies",
        columns: &["name_id", "policy"],
        order_by: &["name_id"],
    },
    TableShape {
        name: "certificate_operations",
        columns: &["name_id", "operation"],
        order_by: &["name_id"],
    },
    TableShape {
        name: "vault_documents",
        columns: &["vault_id", "kind", "name", "document"],
        order_by: &["vault_id", "kind", "name"],
    },
    TableShape {
        name: "deployment_documents",
        columns: &["kind", "name", "document"],
        order_by: &["kind", "name"],
    },
    TableShape {
        name: "claims",
        columns: &["scope", "key", "expires"],
        order_by: &["scope", "key"],
    },
    TableShape {
        name: SEQUENCES,
        columns: &["name", "value"],
        order_by: &["name"],
    },
];

/// `SELECT <columns> FROM <table> ORDER BY <key>`, each text key compared bytewise with
/// `binary_collation` (SQLite: `COLLATE BINARY`; PostgreSQL's columns are `COLLATE "C"`).
pub(crate) fn select_all(shape: &TableShape, binary_collation: &str) -> String {
    let order: Vec<String> = shape
        .order_by
        .iter()
        .map(|column| format!("{column}{binary_collation}"))
        .collect();
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        shape.columns.join(", "),
        shape.name,
        order.join(", ")
    )
}

/// `INSERT INTO <table> (<columns>) VALUES (<placeholder 1>, …)`.
pub(crate) fn insert_into(shape: &TableShape, placeholder: impl Fn(usize) -> String) -> String {
    let placeholders: Vec<String> = (1..=shape.columns.len()).map(placeholder).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        shape.name,
        shape.columns.join(", "),
        placeholders.join(", ")
    )
}

/// `Corrupt` unless `tables` is exactly the logical schema: every table in order, each with
/// its columns in order and rows as wide as its columns.
pub(crate) fn check_shape(tables: &[TableDump]) -> Result<(), StoreError> {
    if tables.len() != TABLES.len() {
        return Err(StoreError::Corrupt(format!(
            "an import needs {} tables, got {}",
            TABLES.len(),
            tables.len()
        )));
    }
    for (dump, shape) in tables.iter().zip(TABLES) {
        if dump.table != shape.name || dump.columns != shape.columns {
            return Err(StoreError::Corrupt(format!(
                "table {} ({}) where {} ({}) was expected",
                dump.table,
                dump.columns.join(", "),
                shape.name,
                shape.columns.join(", ")
            )));
        }
        if let Some(row) = dump
            .rows
            .iter()
            .find(|row| row.len() != shape.columns.len())
        {
            return Err(StoreError::Corrupt(format!(
                "a row of {} has {} values for {} columns",
                dump.table,
                row.len(),
                shape.columns.len()
            )));
        }
    }
    Ok(())
}

/// The highest vault id ever handed out, from a checked import's `sequences` table (0: none).
pub(crate) fn vault_high_water(tables: &[TableDump]) -> Result<i64, StoreError> {
    let Some(sequences) = tables.iter().find(|dump| dump.table == SEQUENCES) else {
        return Ok(0);
    };
    let mut high_water = 0;
    for row in &sequences.rows {
        match row.as_slice() {
            [TableValue::Text(name), TableValue::Integer(value)] if name == "vaults" => {
                high_water = *value;
            }
            _ => {
                return Err(StoreError::Corrupt(
                    "an unknown row in the sequences table".to_owned(),
                ));
            }
        }
    }
    Ok(high_water)
}

/// The `sequences` table for a vault high-water mark.
pub(crate) fn sequences_dump(vault_high_water: i64) -> TableDump {
    TableDump {
        table: SEQUENCES.to_owned(),
        columns: vec!["name".to_owned(), "value".to_owned()],
        rows: vec![vec![
            TableValue::Text("vaults".to_owned()),
            TableValue::Integer(vault_high_water),
        ]],
    }
}
