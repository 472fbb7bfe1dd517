//! `pagos-hotspot import-original`: moves an installation of the original system over by
//! reading its PostgreSQL database and writing through the repository layer.
//!
//! * Ids are kept (portals may hard-code a `producto_id`; the router API keys keep their key
//!   ids and hashes, so every key keeps working under the same `JWT_APIKEY_SECRET`).
//! * One transaction per company (its routers, keys, products, admins and history): a failure
//!   or a kill leaves no half-imported company. Operators (super_admin) come first, in one
//!   transaction of their own.
//! * Idempotent and resumable: a row whose id is already there (from an earlier run of the same
//!   source) is left as it is; new source rows are added. The target must be empty or hold only
//!   earlier imports of this source.
//! * `--dry-run` does the same work inside transactions that are rolled back, so its report is
//!   exactly what a real run would do.
//!
//! See `docs/import.md`.

mod company;
mod convert;
mod report;
pub mod secrets;
mod source;

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context as _};
use chrono::Utc;
use migration::MigratorTrait;
use sea_orm::DatabaseConnection;

use crate::config::MasterKey;
use crate::crypto::SecretBox;
use crate::db::{self, empresas};

pub use company::Present;
pub use report::{Counts, ImportReport, Reenter, Skipped};
use source::{Source, Table};

/// CLI arguments of `pagos-hotspot import-original`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The original system's PostgreSQL database (`postgres://user:pass@host/db`).
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// This service's database (created and migrated when needed).
    #[arg(long, value_name = "URL", env = "DATABASE_URL", default_value = crate::config::DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub to: String,
    /// The original's `ENCRYPTION_KEY_MERCADO_PAGO`: decrypts its Fernet-encrypted secrets.
    /// Without it they are listed as "to be re-entered".
    #[arg(
        long,
        value_name = "KEY",
        env = "ENCRYPTION_KEY_MERCADO_PAGO",
        hide_env_values = true
    )]
    pub fernet_key: Option<String>,
    /// Time zone of the original database's clock: its `creada_en`/`creado_en` columns were
    /// filled by PostgreSQL in local time (the others by Python in UTC).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub source_tz: String,
    /// The original's `static` folder: logos (`/static/logos/…`) are copied from it.
    #[arg(long, value_name = "DIR")]
    pub static_dir: Option<PathBuf>,
    /// This service's `STATIC_DIR`, where the logos go.
    #[arg(
        long,
        value_name = "DIR",
        env = "STATIC_DIR",
        default_value = "./static"
    )]
    pub target_static_dir: PathBuf,
    /// Print what would be imported and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Testing only: exit abruptly halfway through the company after this many committed ones
    /// (as if the process were killed mid-transaction).
    #[arg(long, hide = true)]
    pub crash_after_companies: Option<usize>,
    /// Transactions read from the source at a time.
    #[arg(long, hide = true, default_value_t = DEFAULT_HISTORY_PAGE)]
    pub history_page: u64,
}

/// Transactions read from the source at a time (a company's history can be long; the
/// memory used grows with it).
pub const DEFAULT_HISTORY_PAGE: u64 = 10_000;

/// What an import needs besides the two databases.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub source_tz: String,
    pub fernet_key: Option<String>,
    pub static_dir: Option<PathBuf>,
    pub target_static_dir: PathBuf,
    pub dry_run: bool,
    pub crash_after_companies: Option<usize>,
    /// Transactions read from the source at a time ([`DEFAULT_HISTORY_PAGE`]).
    pub history_page: u64,
}

impl From<&ImportArgs> for ImportOptions {
    fn from(a: &ImportArgs) -> Self {
        Self {
            source_tz: a.source_tz.clone(),
            fernet_key: a.fernet_key.clone(),
            static_dir: a.static_dir.clone(),
            target_static_dir: a.target_static_dir.clone(),
            dry_run: a.dry_run,
            crash_after_companies: a.crash_after_companies,
            history_page: a.history_page.max(1),
        }
    }
}

/// The command: reads `MASTER_KEY`, imports, prints the report. Fails (non-zero exit) when a
/// company could not be imported.
pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    let master = std::env::var("MASTER_KEY")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .context(
            "MASTER_KEY is required: the secrets are encrypted under it as the service stores them",
        )?;
    let master = MasterKey::from_base64(&master)
        .map_err(|reason| anyhow::anyhow!("MASTER_KEY: {reason}"))?;
    let secrets = SecretBox::new(&master);
    let target = db::connect(&args.to)
        .await
        .context("opening the target database (--to / DATABASE_URL)")?;
    let report = import(&args.from, &target, &secrets, &ImportOptions::from(&args)).await?;
    println!("{report}");
    if !report.failed.is_empty() {
        bail!(
            "{} compan(ies) not imported; fix the cause and run the command again",
            report.failed.len()
        );
    }
    Ok(())
}

/// Imports the source at `from` into `target`.
pub async fn import(
    from: &str,
    target: &DatabaseConnection,
    secrets: &SecretBox,
    opts: &ImportOptions,
) -> anyhow::Result<ImportReport> {
    let unsealer = secrets::Unsealer::new(opts.fernet_key.as_deref())?;
    let source = Source::open(from, &opts.source_tz).await?;
    prepare_target(target, opts.dry_run).await?;
    let mut report = ImportReport {
        dry_run: opts.dry_run,
        missing_columns: source.missing_columns(),
        ..ImportReport::default()
    };
    let src_empresas = source.empresas().await?;
    check_target_holds_only_this_source(target, &src_empresas).await?;
    let mut present = Present::load(target).await?;
    let conv = convert::Convert {
        secrets,
        unsealer: &unsealer,
        now: Utc::now(),
    };
    let run = company::Run {
        source: &source,
        target,
        conv: &conv,
        opts,
    };
    run.operators(&mut present, &mut report).await?;
    for (done, row) in src_empresas.iter().enumerate() {
        let crash = opts.crash_after_companies == Some(done);
        if let Some(logo) = run.empresa(row, &mut present, &mut report, crash).await? {
            copy_logo(opts, &logo, &mut report);
        }
    }
    for table in Table::ALL {
        for row in source.orphans(table).await? {
            let id = company::row_id(&row, table);
            let empresa: Option<String> = row.try_get("", "empresa_id").ok().flatten();
            report.count(table.name()).read += 1;
            report.skip(
                table.name(),
                id,
                format!(
                    "its empresa {} is not in the source",
                    empresa.unwrap_or_default()
                ),
            );
        }
    }
    if !opts.dry_run {
        db::move_sequences_past_ids(target).await?;
    }
    Ok(report)
}

async fn prepare_target(target: &DatabaseConnection, dry_run: bool) -> anyhow::Result<()> {
    if !dry_run {
        return Ok(db::migrate(target).await?);
    }
    let pending = migration::Migrator::get_pending_migrations(target).await?;
    if !pending.is_empty() {
        bail!("--dry-run changes nothing, and the target database is not migrated: run `pagos-hotspot migrate` first");
    }
    Ok(())
}

/// The target must be empty or hold only earlier imports of this source: every company it has
/// must come from the source (ids are kept, so another installation's rows would collide).
async fn check_target_holds_only_this_source(
    target: &DatabaseConnection,
    src_empresas: &[sea_orm::QueryResult],
) -> anyhow::Result<()> {
    let in_source: std::collections::HashSet<String> = src_empresas
        .iter()
        .filter_map(|r| r.try_get::<Option<String>>("", "id").ok().flatten())
        .collect();
    let foreign: Vec<String> = empresas::ids(target)
        .await?
        .into_iter()
        .filter(|id| !in_source.contains(id))
        .collect();
    if !foreign.is_empty() {
        bail!(
            "the target database holds companies that are not in the source ({}): import into an empty database or one holding only earlier imports of this source",
            foreign.join(", ")
        );
    }
    Ok(())
}

/// `/static/logos/x.png` → `logos/x.png`, refusing anything that leaves the folder.
fn logo_relative(url: &str) -> Option<PathBuf> {
    let rel = Path::new(url.strip_prefix("/static/")?);
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| rel.to_path_buf())
}

/// Copies a newly imported company's logo from the original's static folder.
fn copy_logo(opts: &ImportOptions, url: &str, report: &mut ImportReport) {
    let Some(rel) = logo_relative(url) else {
        report
            .logos_missing
            .push(format!("{url} (not a /static/ path: left as it is)"));
        return;
    };
    let Some(dir) = &opts.static_dir else {
        report
            .logos_missing
            .push(format!("{url} (no --static-dir)"));
        return;
    };
    let from = dir.join(&rel);
    if !from.is_file() {
        report
            .logos_missing
            .push(format!("{url} (no file {})", from.display()));
        return;
    }
    let to = opts.target_static_dir.join(&rel);
    if !opts.dry_run {
        let copied = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::copy(&from, &to));
        if let Err(e) = copied {
            report
                .logos_missing
                .push(format!("{url} (copy to {} failed: {e})", to.display()));
            return;
        }
    }
    report
        .logos_copied
        .push(format!("{url} → {}", to.display()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logo_paths_stay_inside_the_folder() {
        assert_eq!(
            logo_relative("/static/logos/logo_EMP_1_abc.png"),
            Some(PathBuf::from("logos/logo_EMP_1_abc.png"))
        );
        assert_eq!(logo_relative("/static/../etc/passwd"), None);
        assert_eq!(logo_relative("https://cdn.example.com/x.png"), None);
    }
}
