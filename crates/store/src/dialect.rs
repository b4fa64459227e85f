//! The SQL that differs between SQLite and PostgreSQL, in one place: store functions write everything else once.
//!
//! Today: the substring search of the user list (see migration 0015) and JSON aggregation, which reads a user with
//! their identifications in one round trip (`json_group_array`/`json_object` on SQLite, `json_agg`/
//! `json_build_object` on PostgreSQL).

use serde::Deserializer;

use crate::{Db, Tx};

/// Which database a statement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// The dialect of a database handle.
    pub fn of(db: &Db) -> Self {
        match db {
            Db::Sqlite(_) => Self::Sqlite,
            Db::Postgres(_) => Self::Postgres,
        }
    }

    /// The dialect of a transaction.
    pub fn of_tx(tx: &Tx) -> Self {
        match tx {
            Tx::Sqlite(_) => Self::Sqlite,
            Tx::Postgres(_) => Self::Postgres,
        }
    }

    /// A scalar subquery: the JSON array (as text, `[]` when there are no rows) of one object per row of
    /// `SELECT … FROM {from} WHERE {filter}`, the object's keys being `columns` (bare names, each a column of
    /// `alias`), in `order`.
    pub fn json_array_of(self, columns: &[&str], alias: &str, from: &str, filter: &str, order: &str) -> String {
        let pairs = columns.iter().map(|c| format!("'{c}', {alias}.{c}")).collect::<Vec<_>>().join(", ");
        match self {
            Self::Sqlite => {
                format!("(SELECT json_group_array(json_object({pairs}) ORDER BY {order}) FROM {from} WHERE {filter})")
            }
            Self::Postgres => format!(
                "(SELECT COALESCE(json_agg(json_build_object({pairs}) ORDER BY {order}), '[]'::json)::text \
                 FROM {from} WHERE {filter})"
            ),
        }
    }
}

/// Deserializes a boolean from aggregated JSON: SQLite has no boolean type and writes `BOOLEAN` columns as `0`/`1`.
pub fn json_bool<'de, D: Deserializer<'de>>(de: D) -> Result<bool, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a boolean or 0/1")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<bool, E> {
            Ok(v != 0)
        }
    }
    de.deserialize_any(Flag)
}
