//! Company-admin reporting: `/api/v1/admin/mi-empresa/transacciones` and `…/dashboard`
//! (as in the original), plus the audit-log readers.
//!
//! Money is summed in Rust (`Decimal`), never in SQL: SQLite stores `numeric` as REAL.
//!
//! Transaction list query parameters:
//! * `limit` (default 50, 1..=500) and `offset` (default 0, ≥ 0); out of range → 422.
//! * `desde`: lower bound on `creada_en`, inclusive. `hasta`: upper bound, exclusive for a
//!   date-time; a bare date (`YYYY-MM-DD`) includes that whole day. Both UTC: a date-time
//!   without offset is UTC, one with an offset (`Z`, `+02:00`) is converted. An empty range
//!   (`desde` not before the effective `hasta`) → 422.
//! * `estado`: exact `estado_pago`; `gateway`: exact gateway (`conekta`, `mercado_pago`);
//!   `router_id`: exact router.
//! * An empty `desde`, `hasta` or `estado` (`?estado=`) is ignored, as front-ends send them.
//! * `formato=csv`: `text/csv` with a header row, the same filters and page, and the total in
//!   `X-Total-Count`. Text cells starting with `=`, `+`, `-`, `@`, tab or CR get a leading `'`
//!   so that spreadsheets do not evaluate them.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::session::{ClienteAdmin, SuperAdmin};
use crate::db::audit::{self, AuditEntry};
use crate::db::transacciones::{self as transaction_rows, Transaccion, TxFilter};
use crate::db::{empresas, routers};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::EmpresaId;
use crate::state::AppState;
use crate::wire;

/// Recent transactions on the dashboard.
const RECENT_ROWS: u64 = 5;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(transacciones)
        .service(dashboard)
        .service(audit_all)
        .service(audit_own);
}

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

pub(crate) fn query_error(
    field: &str,
    kind: &str,
    msg: impl Into<String>,
    input: &str,
) -> ApiError {
    ApiError::Validation(vec![FieldError::new(
        kind,
        vec![json!("query"), json!(field)],
        msg,
        json!(input),
    )])
}

pub(crate) fn parse_int(field: &str, raw: &str) -> ApiResult<i64> {
    raw.trim().parse::<i64>().map_err(|_| {
        query_error(
            field,
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
            raw,
        )
    })
}

/// `limit` (default 50, 1..=500) and `offset` (default 0, ≥ 0) from raw query values.
pub fn page(limit: Option<&str>, offset: Option<&str>) -> ApiResult<(u64, u64)> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(raw) => {
            let n = parse_int("limit", raw)?;
            if n < 1 {
                return Err(query_error(
                    "limit",
                    "greater_than_equal",
                    "Input should be greater than or equal to 1",
                    raw,
                ));
            }
            if n > MAX_LIMIT as i64 {
                return Err(query_error(
                    "limit",
                    "less_than_equal",
                    format!("Input should be less than or equal to {MAX_LIMIT}"),
                    raw,
                ));
            }
            n as u64
        }
    };
    let offset = match offset {
        None => 0,
        Some(raw) => {
            let n = parse_int("offset", raw)?;
            if n < 0 {
                return Err(query_error(
                    "offset",
                    "greater_than_equal",
                    "Input should be greater than or equal to 0",
                    raw,
                ));
            }
            n as u64
        }
    };
    Ok((limit, offset))
}

/// A bound given as a date or a date-time. `end_of_day` turns a bare date into the start of
/// the next day (for an exclusive upper bound that includes the date).
fn parse_bound(field: &str, raw: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    let v = raw.trim();
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let day = if end_of_day { d.succ_opt() } else { Some(d) };
        if let Some(t) = day.and_then(|d| d.and_hms_opt(0, 0, 0)) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, fmt) {
            return Ok(t.and_utc());
        }
    }
    Err(query_error(
        field,
        "datetime_parsing",
        "Fecha inválida: use AAAA-MM-DD o AAAA-MM-DDTHH:MM:SS (UTC)",
        raw,
    ))
}

#[derive(Debug, Deserialize)]
struct TxQuery {
    limit: Option<String>,
    offset: Option<String>,
    desde: Option<String>,
    hasta: Option<String>,
    estado: Option<String>,
    gateway: Option<String>,
    router_id: Option<String>,
    formato: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

fn tx_filters(q: &TxQuery) -> ApiResult<(TxFilter<'_>, u64, u64, Format)> {
    let (limit, offset) = page(q.limit.as_deref(), q.offset.as_deref())?;
    let format = match q.formato.as_deref().map(str::trim) {
        None | Some("") | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(query_error(
                "formato",
                "enum",
                "Input should be 'json' or 'csv'",
                other,
            ))
        }
    };
    let desde = non_empty(&q.desde)
        .map(|raw| parse_bound("desde", raw, false))
        .transpose()?;
    let hasta = non_empty(&q.hasta)
        .map(|raw| parse_bound("hasta", raw, true))
        .transpose()?;
    if let (Some(d), Some(h)) = (desde, hasta) {
        if d >= h {
            return Err(query_error(
                "desde",
                "value_error",
                "'desde' debe ser anterior a 'hasta'",
                q.desde.as_deref().unwrap_or_default(),
            ));
        }
    }
    let filter = TxFilter {
        desde,
        hasta,
        estado: bounded("estado", &q.estado, 20)?,
        gateway: bounded("gateway", &q.gateway, 20)?,
        router_id: bounded("router_id", &q.router_id, 50)?,
    };
    Ok((filter, limit, offset, format))
}

/// An optional exact-match filter of at most `max` characters.
fn bounded<'a>(field: &str, v: &'a Option<String>, max: usize) -> ApiResult<Option<&'a str>> {
    match non_empty(v) {
        Some(s) if s.chars().count() > max => Err(query_error(
            field,
            "string_too_long",
            format!("String should have at most {max} characters"),
            s,
        )),
        other => Ok(other),
    }
}

/// An optional query value; an empty one (`?estado=`) counts as absent.
fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.trim().is_empty())
}

/// Quotes a CSV cell (RFC 4180).
fn csv_cell(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// A text cell: neutralises spreadsheet formulas, then quotes.
fn csv_text(v: Option<&str>) -> String {
    match v {
        None => String::new(),
        Some(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => csv_cell(&format!("'{s}")),
        Some(s) => csv_cell(s),
    }
}

pub const CSV_HEADER: [&str; 13] = [
    "id",
    "transaccion_id",
    "creada_en",
    "pagada_en",
    "estado_pago",
    "estado_hotspot",
    "monto",
    "moneda",
    "cliente_nombre",
    "cliente_email",
    "producto_id",
    "router_id",
    "gateway",
];

fn csv_body(rows: &[Transaccion]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for t in rows {
        let cells = [
            t.id.to_string(),
            csv_text(t.transaccion_id.as_deref()),
            wire::iso(t.creada_en),
            wire::iso_opt(t.pagada_en).unwrap_or_default(),
            csv_text(Some(&t.estado_pago)),
            csv_text(Some(&t.estado_hotspot)),
            format!("{:.2}", t.monto.round_dp(2)),
            csv_text(Some(&t.moneda)),
            csv_text(t.cliente_nombre.as_deref()),
            csv_text(t.cliente_email.as_deref()),
            t.producto_id.map(|p| p.to_string()).unwrap_or_default(),
            csv_text(Some(&t.router_id)),
            csv_text(t.gateway.as_deref()),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "My transactions (filters, paging, CSV)",
    params(
        crate::openapi::schemas::Paging,
        ("desde" = Option<String>, Query, description = "From date (ISO)."),
        ("hasta" = Option<String>, Query, description = "To date (ISO)."),
        ("estado" = Option<String>, Query, description = "Payment state."),
        ("gateway" = Option<String>, Query, description = "Gateway (`conekta`, `mercado_pago`)."),
        ("router_id" = Option<String>, Query, description = "Router."),
        ("formato" = inline(Option<crate::openapi::schemas::ReportFormat>), Query, description = "Output format."),
    ),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa/transacciones")]
async fn transacciones(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    query: web::Query<TxQuery>,
) -> ApiResult<HttpResponse> {
    let (filter, limit, offset, format) = tx_filters(&query)?;
    let empresa = EmpresaId(&admin.empresa_id);
    let (total, rows) = transaction_rows::page(&state.db, empresa, &filter, limit, offset).await?;
    if format == Format::Csv {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"transacciones.csv\"",
            ))
            .insert_header(("X-Total-Count", total.to_string()))
            .body(csv_body(&rows)));
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "transaccion_id": t.transaccion_id,
                "monto": wire::money(t.monto),
                "monto_reembolsado": t.monto_reembolsado.map(wire::money),
                "estado_pago": t.estado_pago,
                "estado_hotspot": t.estado_hotspot,
                "expiracion_hotspot": t.expiracion_hotspot.map(wire::iso),
                "cliente_nombre": t.cliente_nombre,
                "creada_en": wire::iso(t.creada_en),
                "gateway": t.gateway,
                "router_id": t.router_id,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "empresa_id": admin.empresa_id,
        "total": total,
        "limit": limit,
        "offset": offset,
        "transacciones": items,
    })))
}

/// The dashboard's totals over a company's transactions.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub total: u64,
    /// Every row, whatever its state (the original's `ingresos_totales`).
    pub ingresos_totales: Decimal,
    /// `paid` + `approved` rows only.
    pub ingresos_confirmados: Decimal,
    pub pagadas: u64,
    pub aprobadas_mp: u64,
    pub pendientes: u64,
}

pub fn totals(rows: impl IntoIterator<Item = (Decimal, String)>) -> Totals {
    let mut t = Totals::default();
    for (monto, estado) in rows {
        let monto = monto.round_dp(2);
        t.total += 1;
        t.ingresos_totales += monto;
        match estado.as_str() {
            "paid" => {
                t.pagadas += 1;
                t.ingresos_confirmados += monto;
            }
            "approved" => {
                t.aprobadas_mp += 1;
                t.ingresos_confirmados += monto;
            }
            "pending" => t.pendientes += 1,
            _ => {}
        }
    }
    t
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "My statistics and recent transactions",
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa/dashboard")]
async fn dashboard(state: web::Data<AppState>, admin: ClienteAdmin) -> ApiResult<HttpResponse> {
    let id = EmpresaId(&admin.empresa_id);
    let empresa = empresas::get(&state.db, id).await?;
    let t = totals(transaction_rows::amounts(&state.db, id).await?);
    let (total_routers, _) = routers::counts_for_empresa(&state.db, id).await?;
    let (_, recent) =
        transaction_rows::page(&state.db, id, &TxFilter::default(), RECENT_ROWS, 0).await?;
    let recientes: Vec<Value> = recent
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "transaccion_id": r.transaccion_id,
                "monto": wire::money(r.monto),
                "estado": r.estado_pago,
                "fecha": wire::iso(r.creada_en),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "empresa": {"nombre": empresa.nombre, "activa": empresa.activa},
        "estadisticas": {
            "total_transacciones": t.total,
            "ingresos_totales": wire::money(t.ingresos_totales),
            "transacciones_pagadas": t.pagadas,
            "transacciones_pendientes": t.pendientes,
            "total_routers": total_routers,
            "ingresos_confirmados": wire::money(t.ingresos_confirmados),
            "transacciones_aprobadas_mp": t.aprobadas_mp,
            "transacciones_confirmadas": t.pagadas + t.aprobadas_mp,
        },
        "transacciones_recientes": recientes,
    })))
}

// ---------------------------------------------------------------------------------------------
// Audit-log readers

#[derive(Debug, Deserialize)]
struct AuditQuery {
    empresa_id: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

fn audit_entry(a: &AuditEntry) -> Value {
    json!({
        "id": a.id,
        "at": wire::iso(a.at),
        "actor_email": a.actor_email,
        "actor_role": a.actor_role,
        "empresa_id": a.empresa_id,
        "action": a.action,
        "target_type": a.target_type,
        "target_id": a.target_id,
        "details": a.details,
    })
}

async fn audit_page(
    state: &AppState,
    empresa_id: Option<&str>,
    limit: u64,
    offset: u64,
) -> ApiResult<(u64, Vec<Value>)> {
    let (total, rows) = audit::page(&state.db, empresa_id.map(EmpresaId), limit, offset).await?;
    Ok((total, rows.iter().map(audit_entry).collect()))
}

/// Every company's audit entries (operators), optionally filtered by `empresa_id`.
#[utoipa::path(
    tag = "super_admin",
    summary = "Audit log (all companies)",
    params(
        ("empresa_id" = Option<String>, Query, description = "Filter by company."),
        crate::openapi::schemas::Paging,
    ),
    responses((status = 200, description = "OK")),
    security(("session" = ["super_admin"])),
)]
#[get("/admin/auditoria")]
async fn audit_all(
    state: web::Data<AppState>,
    _admin: SuperAdmin,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let (limit, offset) = page(query.limit.as_deref(), query.offset.as_deref())?;
    let empresa_id = query.empresa_id.as_deref().filter(|e| !e.is_empty());
    let (total, registros) = audit_page(&state, empresa_id, limit, offset).await?;
    Ok(HttpResponse::Ok().json(json!({
        "empresa_id": empresa_id,
        "total": total,
        "limit": limit,
        "offset": offset,
        "registros": registros,
    })))
}

/// The caller's own company's audit entries.
#[utoipa::path(
    tag = "cliente_admin",
    summary = "My company's audit log",
    params(
        crate::openapi::schemas::Paging,
    ),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa/auditoria")]
async fn audit_own(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let (limit, offset) = page(query.limit.as_deref(), query.offset.as_deref())?;
    let (total, registros) = audit_page(&state, Some(&admin.empresa_id), limit, offset).await?;
    Ok(HttpResponse::Ok().json(json!({
        "empresa_id": admin.empresa_id,
        "total": total,
        "limit": limit,
        "offset": offset,
        "registros": registros,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_bounds() {
        assert_eq!(page(None, None).unwrap(), (50, 0));
        assert_eq!(page(Some("1"), Some("0")).unwrap(), (1, 0));
        assert_eq!(page(Some("500"), Some("9")).unwrap(), (500, 9));
        for (l, o) in [
            (Some("0"), None),
            (Some("501"), None),
            (Some("x"), None),
            (None, Some("-1")),
        ] {
            assert!(page(l, o).is_err(), "{l:?} {o:?}");
        }
    }

    #[test]
    fn bounds_parse() {
        let d = parse_bound("desde", "2025-01-15", false).unwrap();
        assert_eq!(wire::iso(d), "2025-01-15T00:00:00");
        let h = parse_bound("hasta", "2025-01-15", true).unwrap();
        assert_eq!(wire::iso(h), "2025-01-16T00:00:00");
        let z = parse_bound("desde", "2025-01-15T10:00:00+02:00", false).unwrap();
        assert_eq!(wire::iso(z), "2025-01-15T08:00:00");
        let n = parse_bound("desde", "2025-01-15T10:00:00.5", false).unwrap();
        assert_eq!(wire::iso(n), "2025-01-15T10:00:00.500000");
        assert!(parse_bound("desde", "15/01/2025", false).is_err());
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_text(Some("a,b")), "\"a,b\"");
        assert_eq!(csv_text(Some("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_text(Some("=1+1")), "'=1+1");
        assert_eq!(csv_text(Some("@SUM(A1)")), "'@SUM(A1)");
        assert_eq!(csv_text(Some("-2,3")), "\"'-2,3\"");
        assert_eq!(csv_text(None), "");
    }

    #[test]
    fn totals_split_states() {
        let t = totals(vec![
            (Decimal::new(5000, 2), "paid".to_string()),
            (Decimal::new(1000, 2), "approved".to_string()),
            (Decimal::new(700, 2), "pending".to_string()),
            (Decimal::new(300, 2), "refunded".to_string()),
        ]);
        assert_eq!(t.total, 4);
        assert_eq!(t.ingresos_totales, Decimal::new(7000, 2));
        assert_eq!(t.ingresos_confirmados, Decimal::new(6000, 2));
        assert_eq!((t.pagadas, t.aprobadas_mp, t.pendientes), (1, 1, 1));
    }
}
