//! Reading the original system's PostgreSQL database as installations really have it: the
//! columns the models added later (★ in the inventory) may be missing, booleans may be NULL and
//! every timestamp is naive. Missing columns read as NULL; the columns that took the database's
//! `CURRENT_TIMESTAMP` (local time) are converted from `--source-tz` to UTC by PostgreSQL
//! itself, the others were written with Python's `utcnow()` and are read as UTC.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Context};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value};

/// How a column is read.
#[derive(Clone, Copy)]
enum Kind {
    /// Read as is (NULL when the column is missing, cast to this SQL type).
    Plain(&'static str),
    /// A naive timestamp written by Python's `utcnow()`.
    Utc,
    /// A naive timestamp from the database's `CURRENT_TIMESTAMP` (its local time).
    Local,
}

use Kind::{Local, Plain, Utc};

const EMPRESAS: &[(&str, Kind)] = &[
    ("id", Plain("varchar")),
    ("nombre", Plain("varchar")),
    ("contacto_email", Plain("varchar")),
    ("contacto_telefono", Plain("varchar")),
    ("logo_url", Plain("varchar")),
    ("conekta_private_key", Plain("varchar")),
    ("conekta_public_key", Plain("varchar")),
    ("conekta_mode", Plain("varchar")),
    ("mercado_pago_access_token", Plain("varchar")),
    ("mercado_pago_public_key", Plain("varchar")),
    ("mercado_pago_mode", Plain("varchar")),
    ("mercado_pago_webhook_secret", Plain("varchar")),
    ("telegram_bot_token", Plain("varchar")),
    ("telegram_chat_id", Plain("varchar")),
    ("notificaciones_telegram", Plain("boolean")),
    ("activa", Plain("boolean")),
    ("creada_en", Local),
];

const USUARIOS: &[(&str, Kind)] = &[
    ("id", Plain("int4")),
    ("rol", Plain("varchar")),
    ("empresa_id", Plain("varchar")),
    ("email", Plain("varchar")),
    ("password_hash", Plain("varchar")),
    ("nombre", Plain("varchar")),
    ("activo", Plain("boolean")),
    ("ultimo_login", Utc),
    ("creado_en", Local),
];

const ROUTERS: &[(&str, Kind)] = &[
    ("id", Plain("varchar")),
    ("empresa_id", Plain("varchar")),
    ("nombre", Plain("varchar")),
    ("host", Plain("varchar")),
    ("puerto", Plain("int4")),
    ("usuario", Plain("varchar")),
    ("password_encrypted", Plain("text")),
    ("ubicacion", Plain("varchar")),
    ("api_key_hash", Plain("varchar")),
    ("activo", Plain("boolean")),
    ("creado_en", Local),
];

const API_KEYS: &[(&str, Kind)] = &[
    ("key_id", Plain("varchar")),
    ("empresa_id", Plain("varchar")),
    ("router_id", Plain("varchar")),
    ("key_hash", Plain("varchar")),
    ("issued_at", Utc),
    ("expires_at", Utc),
    ("revoked", Plain("boolean")),
    ("last_used", Utc),
    ("use_count", Plain("int4")),
];

const PRODUCTOS: &[(&str, Kind)] = &[
    ("id", Plain("int4")),
    ("empresa_id", Plain("varchar")),
    ("router_id", Plain("varchar")),
    ("perfil_mikrotik_id", Plain("varchar")),
    ("perfil_mikrotik_nombre", Plain("varchar")),
    ("nombre_venta", Plain("varchar")),
    ("descripcion", Plain("text")),
    ("imagen_url", Plain("varchar")),
    ("precio", Plain("numeric")),
    ("moneda", Plain("varchar")),
    ("detalles", Plain("jsonb")),
    ("activo", Plain("boolean")),
    ("orden_visual", Plain("int4")),
    ("destacado", Plain("boolean")),
    ("creado_en", Local),
];

const TRANSACCIONES: &[(&str, Kind)] = &[
    ("id", Plain("int4")),
    ("transaccion_id", Plain("varchar")),
    ("external_reference", Plain("varchar")),
    ("empresa_id", Plain("varchar")),
    ("router_id", Plain("varchar")),
    ("producto_id", Plain("int4")),
    ("monto", Plain("numeric")),
    ("moneda", Plain("varchar")),
    ("cliente_nombre", Plain("varchar")),
    ("cliente_email", Plain("varchar")),
    ("cliente_telefono", Plain("varchar")),
    ("usuario_hotspot", Plain("varchar")),
    ("password_hotspot", Plain("varchar")),
    ("expiracion_hotspot", Utc),
    ("estado_pago", Plain("varchar")),
    ("estado_hotspot", Plain("varchar")),
    ("notification_id", Plain("varchar")),
    ("webhook_processed", Plain("boolean")),
    ("metadata_json", Plain("jsonb")),
    ("api_key_usada", Plain("varchar")),
    ("creada_en", Local),
    ("pagada_en", Utc),
    ("usuario_creado_en", Utc),
    ("webhook_received_at", Utc),
];

/// Columns without which a table cannot be imported (present in every known install).
const REQUIRED: &[(&str, &[&str])] = &[
    ("empresas", &["id", "nombre"]),
    (
        "usuarios",
        &["id", "rol", "email", "password_hash", "nombre"],
    ),
    (
        "routers",
        &["id", "empresa_id", "host", "usuario", "password_encrypted"],
    ),
    (
        "api_keys_tracking",
        &["key_id", "empresa_id", "router_id", "key_hash"],
    ),
    (
        "productos",
        &[
            "id",
            "empresa_id",
            "router_id",
            "perfil_mikrotik_nombre",
            "precio",
        ],
    ),
    ("transacciones", &["id", "empresa_id", "router_id", "monto"]),
];

/// The original's database, opened read-only in spirit (only `SELECT`s are sent).
pub struct Source {
    db: DatabaseConnection,
    /// The zone of the database-local timestamps, validated by PostgreSQL.
    tz: String,
    columns: HashMap<String, HashSet<String>>,
}

impl Source {
    /// Connects, checks the zone and the tables, and notes which columns exist.
    pub async fn open(url: &str, tz: &str) -> anyhow::Result<Self> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("--from must be a PostgreSQL URL (postgres://…): the original ran on PostgreSQL only");
        }
        let db = crate::db::connect(url)
            .await
            .context("connecting to the original's database (--from)")?;
        let known = db
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 AS ok FROM pg_timezone_names WHERE name = $1 \
                 UNION ALL SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = $1 LIMIT 1",
                [Value::from(tz)],
            ))
            .await?;
        if known.is_none() {
            bail!("--source-tz {tz:?} is not a time zone PostgreSQL knows (e.g. America/Mexico_City, UTC)");
        }
        let rows = db
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                "SELECT table_name::text AS t, column_name::text AS c \
                 FROM information_schema.columns WHERE table_schema = current_schema()",
            ))
            .await?;
        let mut columns: HashMap<String, HashSet<String>> = HashMap::new();
        for row in rows {
            let t: String = row.try_get("", "t")?;
            let c: String = row.try_get("", "c")?;
            columns.entry(t).or_default().insert(c);
        }
        let source = Self {
            db,
            tz: tz.to_string(),
            columns,
        };
        source.check_tables()?;
        Ok(source)
    }

    fn check_tables(&self) -> anyhow::Result<()> {
        for (table, needed) in REQUIRED {
            let Some(have) = self.columns.get(*table) else {
                bail!("the source has no table {table}: is --from the original system's database?");
            };
            if let Some(missing) = needed.iter().find(|c| !have.contains(**c)) {
                bail!("the source's table {table} has no column {missing}");
            }
        }
        Ok(())
    }

    /// The optional columns this source lacks, as `table.column`.
    pub fn missing_columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (table, spec) in specs() {
            let have = self.columns.get(table);
            for (col, _) in spec {
                if !have.is_some_and(|h| h.contains(*col)) {
                    out.push(format!("{table}.{col}"));
                }
            }
        }
        out
    }

    fn select(&self, table: &str, spec: &[(&str, Kind)]) -> String {
        let have = self.columns.get(table);
        let zone = self.tz.replace('\'', "''");
        let cols: Vec<String> = spec
            .iter()
            .map(|(col, kind)| {
                let present = have.is_some_and(|h| h.contains(*col));
                match (present, kind) {
                    (false, Plain(ty)) => format!("NULL::{ty} AS {col}"),
                    (false, _) => format!("NULL::timestamp AS {col}"),
                    (true, Plain(_) | Utc) => format!("t.{col}"),
                    (true, Local) => {
                        format!("((t.{col} AT TIME ZONE '{zone}') AT TIME ZONE 'UTC') AS {col}")
                    }
                }
            })
            .collect();
        format!("SELECT {} FROM {table} t", cols.join(", "))
    }

    async fn rows(&self, sql: String, values: Vec<Value>) -> anyhow::Result<Vec<QueryResult>> {
        Ok(self
            .db
            .query_all(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                values,
            ))
            .await?)
    }

    /// Every company, in id order.
    pub async fn empresas(&self) -> anyhow::Result<Vec<QueryResult>> {
        let sql = format!("{} ORDER BY t.id", self.select("empresas", EMPRESAS));
        self.rows(sql, vec![]).await
    }

    /// Admins of no company (super_admin).
    pub async fn operators(&self) -> anyhow::Result<Vec<QueryResult>> {
        let sql = format!(
            "{} WHERE t.empresa_id IS NULL ORDER BY t.id",
            self.select("usuarios", USUARIOS)
        );
        self.rows(sql, vec![]).await
    }

    /// One company's rows of `table`, in id order.
    pub async fn of_empresa(
        &self,
        table: Table,
        empresa: &str,
    ) -> anyhow::Result<Vec<QueryResult>> {
        let (name, spec, order) = table.spec();
        let sql = format!(
            "{} WHERE t.empresa_id = $1 ORDER BY t.{order}",
            self.select(name, spec)
        );
        self.rows(sql, vec![Value::from(empresa)]).await
    }

    /// Up to `limit` of the company's transactions with an id above `after`, in id order (a
    /// company's history is read page by page).
    pub async fn transacciones_after(
        &self,
        empresa: &str,
        after: i32,
        limit: u64,
    ) -> anyhow::Result<Vec<QueryResult>> {
        let sql = format!(
            "{} WHERE t.empresa_id = $1 AND t.id > $2 ORDER BY t.id LIMIT {limit}",
            self.select("transacciones", TRANSACCIONES)
        );
        self.rows(sql, vec![Value::from(empresa), Value::from(after)])
            .await
    }

    /// Rows of `table` whose company does not exist in the source (they cannot be imported).
    pub async fn orphans(&self, table: Table) -> anyhow::Result<Vec<QueryResult>> {
        let (name, spec, order) = table.spec();
        let sql = format!(
            "{} WHERE t.empresa_id IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM empresas e WHERE e.id = t.empresa_id) ORDER BY t.{order}",
            self.select(name, spec)
        );
        self.rows(sql, vec![]).await
    }
}

/// The per-company tables.
#[derive(Clone, Copy, Debug)]
pub enum Table {
    Usuarios,
    Routers,
    ApiKeys,
    Productos,
    Transacciones,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::Routers,
        Table::ApiKeys,
        Table::Productos,
        Table::Usuarios,
        Table::Transacciones,
    ];

    /// The tables read whole per company (the history is paged).
    pub const SMALL: [Table; 4] = [
        Table::Routers,
        Table::ApiKeys,
        Table::Productos,
        Table::Usuarios,
    ];

    fn spec(self) -> (&'static str, &'static [(&'static str, Kind)], &'static str) {
        match self {
            Table::Usuarios => ("usuarios", USUARIOS, "id"),
            Table::Routers => ("routers", ROUTERS, "id"),
            Table::ApiKeys => ("api_keys_tracking", API_KEYS, "key_id"),
            Table::Productos => ("productos", PRODUCTOS, "id"),
            Table::Transacciones => ("transacciones", TRANSACCIONES, "id"),
        }
    }

    /// The table's name in both schemas.
    pub fn name(self) -> &'static str {
        self.spec().0
    }
}

fn specs() -> [(&'static str, &'static [(&'static str, Kind)]); 6] {
    [
        ("empresas", EMPRESAS),
        ("usuarios", USUARIOS),
        ("routers", ROUTERS),
        ("api_keys_tracking", API_KEYS),
        ("productos", PRODUCTOS),
        ("transacciones", TRANSACCIONES),
    ]
}
