//! One company's import: read its rows, convert them, leave out what an earlier run imported
//! already, and write the rest in one transaction.

use std::collections::{HashMap, HashSet};

use sea_orm::{DatabaseConnection, DatabaseTransaction, QueryResult};

use entity::{api_key, empresa, producto, router, transaccion, usuario};

use super::convert::{Convert, Converted};
use super::report::ImportReport;
use super::source::{Source, Table};
use super::ImportOptions;
use crate::db::{self, api_keys, empresas, productos, routers, transacciones, usuarios};

/// What the target holds already: ids with their company, and the unique values a new row
/// must not repeat.
#[derive(Debug, Default)]
pub struct Present {
    empresas: HashSet<String>,
    routers: HashMap<String, String>,
    keys: HashMap<String, String>,
    key_hashes: HashSet<String>,
    /// Keys revoked in the target.
    keys_revoked: HashSet<String>,
    /// id → (company, router, RouterOS profile id): serial ids may meet a different row.
    productos: HashMap<i32, Identity>,
    /// id → e-mail (lower case).
    usuarios: HashMap<i32, String>,
    /// Lower case: the service looks admins up by e-mail case-insensitively.
    emails: HashSet<String>,
    /// id → (company, gateway id).
    transacciones: HashMap<i32, (String, Option<String>)>,
    tx_ids: HashSet<String>,
    tx_refs: HashSet<String>,
}

impl Present {
    pub async fn load(db: &DatabaseConnection) -> Result<Self, sea_orm::DbErr> {
        let mut p = Present {
            empresas: empresas::ids(db).await?.into_iter().collect(),
            routers: routers::owners(db).await?.into_iter().collect(),
            productos: productos::owners(db)
                .await?
                .into_iter()
                .map(|(id, e, r, perfil)| (id, (e, r, perfil)))
                .collect(),
            ..Present::default()
        };
        for (id, empresa, hash, revoked) in api_keys::owners(db).await? {
            if revoked {
                p.keys_revoked.insert(id.clone());
            }
            p.keys.insert(id, empresa);
            p.key_hashes.insert(hash);
        }
        for (id, email) in usuarios::index(db).await? {
            p.usuarios.insert(id, email.to_lowercase());
            p.emails.insert(email.to_lowercase());
        }
        for (id, empresa, tx, reference) in transacciones::index(db).await? {
            p.transacciones.insert(id, (empresa, tx.clone()));
            p.tx_ids.extend(tx);
            p.tx_refs.extend(reference);
        }
        Ok(p)
    }

    fn absorb(&mut self, empresa: Option<&empresa::Model>, b: &Batch) {
        if let Some(e) = empresa {
            self.empresas.insert(e.id.clone());
        }
        for r in &b.routers {
            self.routers.insert(r.id.clone(), r.empresa_id.clone());
        }
        self.keys_revoked.extend(b.revoke.iter().cloned());
        for k in &b.keys {
            if k.revoked {
                self.keys_revoked.insert(k.key_id.clone());
            }
            self.keys.insert(k.key_id.clone(), k.empresa_id.clone());
            self.key_hashes.insert(k.key_hash.clone());
        }
        for p in &b.productos {
            self.productos.insert(p.id, product_identity(p));
        }
        for u in &b.usuarios {
            self.usuarios.insert(u.id, u.email.to_lowercase());
            self.emails.insert(u.email.to_lowercase());
        }
        for (id, empresa, tx, reference) in &b.history {
            self.transacciones
                .insert(*id, (empresa.clone(), tx.clone()));
            self.tx_ids.extend(tx.clone());
            self.tx_refs.extend(reference.clone());
        }
    }
}

/// Rows to write in one transaction.
#[derive(Debug, Default)]
struct Batch {
    routers: Vec<router::Model>,
    keys: Vec<api_key::Model>,
    /// Keys imported before and revoked in the source since: revoked here too.
    revoke: Vec<String>,
    productos: Vec<producto::Model>,
    usuarios: Vec<usuario::Model>,
    /// The current page of the history.
    transacciones: Vec<transaccion::Model>,
    /// `(id, empresa, transaccion_id, external_reference)` of the history rows written.
    history: Vec<HistoryKey>,
    /// The source routers of the company (new or present): what its keys and products may name.
    company_routers: HashSet<String>,
    /// E-mails of this batch (lower case), against duplicates that differ only in case.
    emails: HashSet<String>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.routers.is_empty()
            && self.keys.is_empty()
            && self.revoke.is_empty()
            && self.productos.is_empty()
            && self.usuarios.is_empty()
    }
}

/// What identifies a written history row in [`Present`].
type HistoryKey = (i32, String, Option<String>, Option<String>);

/// A transaction's worth of work: what it is, the rows, and the report lines that count once it
/// went through.
struct Pending<'e> {
    what: String,
    /// The company row, when it is new.
    empresa: Option<&'e empresa::Model>,
    batch: Batch,
    /// The company whose history is copied (page by page) in the same transaction.
    history_of: Option<String>,
    /// Testing hook: exit before committing.
    crash: bool,
    part: ImportReport,
}

/// Where a converted row goes.
enum Placed {
    New,
    Present,
}

/// A row's id as the report names it.
pub fn row_id(row: &QueryResult, table: Table) -> String {
    let col = if matches!(table, Table::ApiKeys) {
        "key_id"
    } else {
        "id"
    };
    row.try_get::<Option<String>>("", col)
        .ok()
        .flatten()
        .or_else(|| {
            row.try_get::<Option<i32>>("", col)
                .ok()
                .flatten()
                .map(|n| n.to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// Checks an id against the target: new, imported before (the same row), or taken by another.
fn owner_check<K: std::hash::Hash + Eq, O: PartialEq>(
    map: &HashMap<K, O>,
    key: &K,
    owner: &O,
    what: &str,
) -> Converted<Option<Placed>> {
    match map.get(key) {
        None => Ok(None),
        Some(o) if o == owner => Ok(Some(Placed::Present)),
        Some(_) => Err(format!("its id is taken in the target by another {what}")),
    }
}

/// One import run over both databases.
pub struct Run<'a> {
    pub source: &'a Source,
    pub target: &'a DatabaseConnection,
    pub conv: &'a Convert<'a>,
    pub opts: &'a ImportOptions,
}

impl Run<'_> {
    /// The super_admins, in one transaction.
    pub async fn operators(
        &self,
        present: &mut Present,
        report: &mut ImportReport,
    ) -> anyhow::Result<()> {
        let rows = self.source.operators().await?;
        report.count("usuarios").read += rows.len() as u64;
        let mut batch = Batch::default();
        let mut part = ImportReport::default();
        for row in &rows {
            self.tally(Table::Usuarios, row, None, present, &mut batch, &mut part);
        }
        let pending = Pending {
            what: "operators (super_admin)".into(),
            empresa: None,
            batch,
            history_of: None,
            crash: false,
            part,
        };
        self.commit(pending, present, report).await;
        Ok(())
    }

    /// One company and everything of it; the logo to copy when the company is new.
    pub async fn empresa(
        &self,
        row: &QueryResult,
        present: &mut Present,
        report: &mut ImportReport,
        crash: bool,
    ) -> anyhow::Result<Option<String>> {
        report.count("empresas").read += 1;
        let mut part = ImportReport::default();
        let e = match self.conv.empresa(row, &mut part) {
            Ok(e) => e,
            Err(reason) => {
                let id = row_id(row, Table::Routers);
                report.skip("empresas", id.clone(), reason);
                self.skip_rows_of(&id, report).await?;
                return Ok(None);
            }
        };
        let is_new = !present.empresas.contains(&e.id);
        if is_new {
            part.count("empresas").imported += 1;
        } else {
            // Imported before: its secrets and notes were reported then.
            part = ImportReport::default();
            part.count("empresas").present += 1;
        }
        let mut batch = Batch::default();
        for table in Table::SMALL {
            let rows = self.source.of_empresa(table, &e.id).await?;
            report.count(table.name()).read += rows.len() as u64;
            for row in &rows {
                self.tally(table, row, Some(&e.id), present, &mut batch, &mut part);
            }
        }
        let pending = Pending {
            what: e.id.clone(),
            empresa: is_new.then_some(&e),
            batch,
            history_of: Some(e.id.clone()),
            crash,
            part,
        };
        let written = self.commit(pending, present, report).await;
        Ok(if written && is_new { e.logo_url } else { None })
    }

    /// Lists every row of a company that cannot be imported as skipped.
    async fn skip_rows_of(&self, empresa: &str, report: &mut ImportReport) -> anyhow::Result<()> {
        for table in Table::ALL {
            for row in self.source.of_empresa(table, empresa).await? {
                report.count(table.name()).read += 1;
                let reason = format!("its empresa {empresa} was skipped");
                report.skip(table.name(), row_id(&row, table), reason);
            }
        }
        Ok(())
    }

    /// Converts and places one row, counting it in `part`.
    fn tally(
        &self,
        table: Table,
        row: &QueryResult,
        empresa: Option<&String>,
        present: &Present,
        batch: &mut Batch,
        part: &mut ImportReport,
    ) {
        match self.place(table, row, empresa, present, batch) {
            Ok(Placed::New) => part.count(table.name()).imported += 1,
            Ok(Placed::Present) => part.count(table.name()).present += 1,
            Err(reason) => part.skip(table.name(), row_id(row, table), reason),
        }
    }

    fn place(
        &self,
        table: Table,
        row: &QueryResult,
        empresa: Option<&String>,
        present: &Present,
        b: &mut Batch,
    ) -> Converted<Placed> {
        let owner = empresa.cloned().unwrap_or_default();
        match table {
            Table::Routers => {
                let m = self.conv.router(row)?;
                b.company_routers.insert(m.id.clone());
                if let Some(p) = owner_check(&present.routers, &m.id, &owner, "router")? {
                    return Ok(p);
                }
                b.routers.push(m);
            }
            Table::ApiKeys => {
                let m = self.conv.api_key(row)?;
                of_company_router(b, &m.router_id)?;
                if let Some(p) = owner_check(&present.keys, &m.key_id, &owner, "key")? {
                    if m.revoked && !present.keys_revoked.contains(&m.key_id) {
                        b.revoke.push(m.key_id);
                    }
                    return Ok(p);
                }
                if present.key_hashes.contains(&m.key_hash) {
                    return Err("its key_hash is already another key's in the target".into());
                }
                b.keys.push(m);
            }
            Table::Productos => {
                let m = self.conv.producto(row)?;
                of_company_router(b, &m.router_id)?;
                let identity = product_identity(&m);
                if let Some(p) = owner_check(&present.productos, &m.id, &identity, "product")? {
                    return Ok(p);
                }
                b.productos.push(m);
            }
            Table::Usuarios => return place_usuario(self.conv.usuario(row)?, present, b),
            Table::Transacciones => {
                return place_transaccion(self.conv.transaccion(row)?, &owner, present, b)
            }
        }
        Ok(Placed::New)
    }

    /// Writes the batch in one transaction (rolled back on `--dry-run`); merges its report lines
    /// when it went through, records the failure otherwise. Whether it went through.
    async fn commit(
        &self,
        mut p: Pending<'_>,
        present: &mut Present,
        report: &mut ImportReport,
    ) -> bool {
        if p.empresa.is_none() && p.batch.is_empty() && p.history_of.is_none() {
            report.merge(p.part);
            return true;
        }
        match self.write(&mut p, present, report).await {
            Ok(()) => {
                present.absorb(p.empresa, &p.batch);
                report.merge(p.part);
                true
            }
            Err(e) => {
                report.failed.push((p.what, format!("{e:#}")));
                false
            }
        }
    }

    async fn write(
        &self,
        p: &mut Pending<'_>,
        present: &Present,
        report: &mut ImportReport,
    ) -> anyhow::Result<()> {
        let txn = db::begin_write(self.target).await?;
        if let Some(e) = p.empresa {
            empresas::insert_imported(&txn, vec![e.clone()]).await?;
        }
        let b = &p.batch;
        routers::insert_imported(&txn, b.routers.clone()).await?;
        api_keys::insert_imported(&txn, b.keys.clone()).await?;
        for key_id in &b.revoke {
            api_keys::revoke(&txn, key_id, chrono::Utc::now()).await?;
        }
        productos::insert_imported(&txn, b.productos.clone()).await?;
        usuarios::insert_imported(&txn, b.usuarios.clone()).await?;
        self.copy_history(&txn, p, present, report).await?;
        if p.crash {
            // Testing hook (--crash-after-companies): die with the transaction open.
            eprintln!("import-original: exiting abruptly mid-company (--crash-after-companies)");
            std::process::exit(86);
        }
        if self.opts.dry_run {
            txn.rollback().await?;
        } else {
            txn.commit().await?;
        }
        Ok(())
    }

    /// The company's payment history, read and written page by page inside its transaction.
    async fn copy_history(
        &self,
        txn: &DatabaseTransaction,
        p: &mut Pending<'_>,
        present: &Present,
        report: &mut ImportReport,
    ) -> anyhow::Result<()> {
        let Some(empresa) = p.history_of.clone() else {
            return Ok(());
        };
        let mut after = i32::MIN;
        loop {
            let rows = self
                .source
                .transacciones_after(&empresa, after, self.opts.history_page.max(1))
                .await?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = last.try_get::<i32>("", "id")?;
            report.count("transacciones").read += rows.len() as u64;
            for row in &rows {
                let table = Table::Transacciones;
                self.tally(
                    table,
                    row,
                    Some(&empresa),
                    present,
                    &mut p.batch,
                    &mut p.part,
                );
            }
            let page = std::mem::take(&mut p.batch.transacciones);
            p.batch.history.extend(page.iter().map(|t| {
                let reference = t.external_reference.clone();
                (
                    t.id,
                    t.empresa_id.clone(),
                    t.transaccion_id.clone(),
                    reference,
                )
            }));
            transacciones::insert_imported(txn, page).await?;
        }
    }
}

/// What makes a product the same one in both databases.
type Identity = (String, String, String);

fn product_identity(p: &producto::Model) -> Identity {
    (
        p.empresa_id.clone(),
        p.router_id.clone(),
        p.perfil_mikrotik_id.clone(),
    )
}

fn of_company_router(b: &Batch, router_id: &str) -> Converted<()> {
    if b.company_routers.contains(router_id) {
        Ok(())
    } else {
        Err(format!(
            "router {router_id} is not one of its company's routers"
        ))
    }
}

fn place_usuario(m: usuario::Model, present: &Present, b: &mut Batch) -> Converted<Placed> {
    let email = m.email.to_lowercase();
    if let Some(p) = owner_check(&present.usuarios, &m.id, &email, "admin")? {
        return Ok(p);
    }
    if present.emails.contains(&email) || !b.emails.insert(email) {
        return Err(format!("e-mail {} is already another admin's", m.email));
    }
    b.usuarios.push(m);
    Ok(Placed::New)
}

fn place_transaccion(
    m: transaccion::Model,
    owner: &str,
    present: &Present,
    b: &mut Batch,
) -> Converted<Placed> {
    let identity = (owner.to_string(), m.transaccion_id.clone());
    if let Some(p) = owner_check(&present.transacciones, &m.id, &identity, "transaction")? {
        return Ok(p);
    }
    if let Some(t) = m
        .transaccion_id
        .as_ref()
        .filter(|t| present.tx_ids.contains(*t))
    {
        return Err(format!(
            "transaccion_id {t} is already another transaction's"
        ));
    }
    if let Some(r) = m
        .external_reference
        .as_ref()
        .filter(|r| present.tx_refs.contains(*r))
    {
        return Err(format!(
            "external_reference {r} is already another transaction's"
        ));
    }
    b.transacciones.push(m);
    Ok(Placed::New)
}
