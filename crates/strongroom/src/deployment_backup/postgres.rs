//! The PostgreSQL half of a backup, which the operator runs: `pg_dump` reads the whole
//! database in one transaction (a consistent snapshot while every node keeps writing) into
//! one custom-format file, and `pg_restore` loads it into an empty database. Strongroom
//! prints the commands rather than running them: the PostgreSQL client tools, their version
//! and their credentials are the operator's.
//!
//! The URL may carry a password; the printed commands never do (they name the user, and
//! `pg_dump` reads the password from `PGPASSWORD` or `~/.pgpass`).

use std::path::Path;

/// The dump's file name in the backup directory.
pub(super) const DUMP_FILE: &str = "strongroom.pgdump";

/// The `pg_dump` command that completes a backup in `backup_dir`.
pub(super) fn dump_recipe(url: &str, backup_dir: &Path) -> String {
    let dump = backup_dir.join(DUMP_FILE);
    format!(
        "pg_dump --format=custom --no-owner --no-privileges --file={} --dbname={}",
        shell_quote(&dump.display().to_string()),
        shell_quote(&crate::config::without_password(url))
    )
}

/// The `pg_restore` command that loads the dump of `backup_dir` into the (new, empty)
/// database at `url`.
pub(super) fn restore_recipe(url: &str, backup_dir: &Path) -> String {
    let dump = backup_dir.join(DUMP_FILE);
    format!(
        "pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname={} {}",
        shell_quote(&crate::config::without_password(url)),
        shell_quote(&dump.display().to_string())
    )
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_password_is_ever_printed() {
        for (url, expect) in [
            (
                "postgres://strongroom:s3cret@db.internal:5432/vault?sslmode=require",
                "postgres://strongroom@db.internal:5432/vault?sslmode=require",
            ),
            (
                "postgresql://u@h/db?password=s3cret&sslmode=disable",
                "postgresql://u@h/db?sslmode=disable",
            ),
            ("postgres://u:p%40ss@h/db?Password=x", "postgres://u@h/db"),
            ("postgres://h/db", "postgres://h/db"),
        ] {
            assert_eq!(crate::config::without_password(url), expect, "{url}");
        }
        let recipe = dump_recipe("postgres://u:s3cret@h/db", Path::new("/b/it's"));
        assert_eq!(
            recipe,
            r"pg_dump --format=custom --no-owner --no-privileges --file='/b/it'\''s/strongroom.pgdump' --dbname='postgres://u@h/db'"
        );
        assert!(!restore_recipe("postgres://u:s3cret@h/db", Path::new("/b")).contains("s3cret"));
    }
}
