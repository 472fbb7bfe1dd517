//! What an import did (or, with `--dry-run`, would do): counts per table, every skipped row
//! with its reason, the secrets to re-enter and what the operator changes outside.

use std::collections::BTreeMap;
use std::fmt;

/// The tables in the order the report lists them (the original's schema order).
const TABLE_ORDER: [&str; 6] = [
    "empresas",
    "usuarios",
    "routers",
    "api_keys_tracking",
    "productos",
    "transacciones",
];

/// Row counts of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rows read from the source.
    pub read: u64,
    /// Rows written by this run.
    pub imported: u64,
    /// Rows an earlier run imported already (left as they are).
    pub present: u64,
    /// Rows that cannot be imported (see [`Skipped`]).
    pub skipped: u64,
}

/// A source row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub table: &'static str,
    pub id: String,
    pub reason: String,
}

/// A secret that could not be carried over: the operator enters it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reenter {
    pub empresa_id: String,
    pub field: &'static str,
    pub reason: &'static str,
}

/// The outcome of a whole run.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Per table, in the order of the original's schema.
    pub counts: BTreeMap<&'static str, Counts>,
    pub skipped: Vec<Skipped>,
    pub reenter: Vec<Reenter>,
    /// Values changed on the way (NULL booleans, unknown modes…), one line each.
    pub notes: Vec<String>,
    /// Companies whose transaction failed (nothing of them was written), with the error.
    pub failed: Vec<(String, String)>,
    /// Logos copied (or to copy) from `--static-dir`, and those not found there.
    pub logos_copied: Vec<String>,
    pub logos_missing: Vec<String>,
    /// Optional columns the source lacks (an install older than the models).
    pub missing_columns: Vec<String>,
}

impl ImportReport {
    pub fn count(&mut self, table: &'static str) -> &mut Counts {
        self.counts.entry(table).or_default()
    }

    pub fn skip(&mut self, table: &'static str, id: impl Into<String>, reason: impl Into<String>) {
        self.count(table).skipped += 1;
        self.skipped.push(Skipped {
            table,
            id: id.into(),
            reason: reason.into(),
        });
    }

    /// Adds another part's counts and lines (one company's, once it is written).
    pub fn merge(&mut self, other: ImportReport) {
        for (table, c) in other.counts {
            let mine = self.count(table);
            mine.read += c.read;
            mine.imported += c.imported;
            mine.present += c.present;
            mine.skipped += c.skipped;
        }
        self.skipped.extend(other.skipped);
        self.reenter.extend(other.reenter);
        self.notes.extend(other.notes);
    }

    /// Rows written in all tables.
    pub fn imported(&self) -> u64 {
        self.counts.values().map(|c| c.imported).sum()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        if self.dry_run {
            writeln!(f, "DRY RUN: nothing was written.")?;
        }
        writeln!(
            f,
            "{:<20} {:>8} {:>13} {:>16} {:>8}",
            "table", "read", verb, "already present", "skipped"
        )?;
        for table in TABLE_ORDER {
            let c = self.counts.get(table).copied().unwrap_or_default();
            writeln!(
                f,
                "{table:<20} {:>8} {:>13} {:>16} {:>8}",
                c.read, c.imported, c.present, c.skipped
            )?;
        }
        if !self.missing_columns.is_empty() {
            writeln!(
                f,
                "\nColumns this install lacks (read as empty): {}",
                self.missing_columns.join(", ")
            )?;
        }
        section(
            f,
            "Companies not imported (rolled back, nothing of them written)",
            &self.failed,
            |(id, e)| format!("{id}: {e}"),
        )?;
        section(f, "Skipped rows", &self.skipped, |s| {
            format!("{} {}: {}", s.table, s.id, s.reason)
        })?;
        section(
            f,
            "Secrets to re-enter (admin panel or API)",
            &self.reenter,
            |r| format!("{} {}: {}", r.empresa_id, r.field, r.reason),
        )?;
        section(f, "Changed on the way", &self.notes, Clone::clone)?;
        section(f, "Logos copied", &self.logos_copied, Clone::clone)?;
        section(
            f,
            "Logos not found under --static-dir",
            &self.logos_missing,
            Clone::clone,
        )?;
        writeln!(f, "\nOutside this service:")?;
        for line in OUTSIDE {
            writeln!(f, "  * {line}")?;
        }
        Ok(())
    }
}

/// What the operator changes outside this service after an import.
const OUTSIDE: [&str; 4] = [
    "portals: nothing. Their API keys work unchanged as long as JWT_APIKEY_SECRET is the original's; point their API address at this service.",
    "Mercado Pago: the notification URL goes with every payment (set PUBLIC_BASE_URL); a URL configured in the Mercado Pago panel must name this service's host if it changes.",
    "Conekta: the original took no Conekta webhooks. To have refunds and charge-backs revoke access, add the webhook /api/v1/webhook/conekta?empresa_id=<id> at Conekta and set its public key (PUT /api/v1/admin/mi-empresa/conekta-webhook-key).",
    "secrets listed above: enter them again in the admin panel or API; the original's ENCRYPTION_KEY_MERCADO_PAGO is not needed afterwards.",
];

fn section<T>(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    items: &[T],
    line: impl Fn(&T) -> String,
) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(f, "\n{title} ({}):", items.len())?;
    for item in items {
        writeln!(f, "  * {}", line(item))?;
    }
    Ok(())
}
