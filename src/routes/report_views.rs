//! What the operator console's company screens read besides the original's reports:
//!
//! * `GET /api/v1/admin/mi-empresa/dashboard/serie?dias=30` — revenue and purchases per day
//!   over the last `dias` days (1..=366, default 30), in total, by gateway and by router, plus
//!   today's figures. Days are counted in the company's `zona_horaria`. Revenue and purchases
//!   count confirmed payments (`paid`, `approved`); today's figures also count refunded,
//!   declined/rejected and pending rows. Money is summed in Rust (`Decimal`).
//! * `GET /api/v1/admin/mi-empresa/transacciones/{transaccion_id}` — one transaction in full
//!   (the hotspot password is never sent).

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::reports::{parse_int, query_error};
use crate::auth::session::ClienteAdmin;
use crate::db::transacciones::{self as transaction_rows, SeriesRow};
use crate::db::{empresas, productos, routers};
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::{EmpresaId, RouterId};
use crate::state::AppState;
use crate::wire;

pub const DEFAULT_DAYS: u32 = 30;
pub const MAX_DAYS: u32 = 366;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(dashboard_series).service(transaccion_detail);
}

#[derive(Debug, Deserialize)]
struct SeriesQuery {
    dias: Option<String>,
}

fn days_param(raw: Option<&str>) -> ApiResult<u32> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(DEFAULT_DAYS);
    };
    let n = parse_int("dias", raw)?;
    if n < 1 || n > i64::from(MAX_DAYS) {
        return Err(query_error(
            "dias",
            "value_error",
            format!("'dias' debe estar entre 1 y {MAX_DAYS}"),
            raw,
        ));
    }
    Ok(u32::try_from(n).unwrap_or(DEFAULT_DAYS))
}

/// A company's time zone; a stored name the tz database does not know counts as the default.
pub fn company_tz(name: &str) -> Tz {
    name.parse::<Tz>()
        .unwrap_or(chrono_tz::America::Mexico_City)
}

/// The UTC instant a local day starts at (the earliest one across a DST change).
fn day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // A zone whose midnight does not exist that day: an hour later does.
        None => tz
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc)),
    }
}

/// Revenue and purchase counts, one slot per day.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySeries {
    pub ingresos: Vec<Decimal>,
    pub compras: Vec<u64>,
}

impl DaySeries {
    fn new(days: usize) -> Self {
        Self {
            ingresos: vec![Decimal::ZERO; days],
            compras: vec![0; days],
        }
    }

    fn add(&mut self, idx: usize, monto: Decimal) {
        self.ingresos[idx] += monto;
        self.compras[idx] += 1;
    }

    fn json(&self) -> Value {
        json!({
            "ingresos": self.ingresos.iter().map(|d| wire::money(*d)).collect::<Vec<_>>(),
            "compras": self.compras,
        })
    }
}

/// Today's figures.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Today {
    pub ingresos: Decimal,
    pub compras: u64,
    pub reembolsadas: u64,
    pub rechazadas: u64,
    pub pendientes: u64,
}

/// The series of a company over `days` local days ending with `today`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub first: NaiveDate,
    pub total: DaySeries,
    pub por_gateway: BTreeMap<String, DaySeries>,
    pub por_router: BTreeMap<String, DaySeries>,
    pub hoy: Today,
}

fn is_confirmed(estado: &str) -> bool {
    matches!(estado, "paid" | "approved")
}

/// Buckets rows into local days (`first` ..= `first + days - 1`); rows outside are ignored.
pub fn bucket(tz: Tz, first: NaiveDate, days: u32, rows: &[SeriesRow]) -> Series {
    let n = days as usize;
    let mut s = Series {
        first,
        total: DaySeries::new(n),
        por_gateway: BTreeMap::new(),
        por_router: BTreeMap::new(),
        hoy: Today::default(),
    };
    let last = n.saturating_sub(1);
    for (at, monto, estado, gateway, router_id) in rows {
        let day = at.with_timezone(&tz).date_naive();
        let Ok(idx) = usize::try_from((day - first).num_days()) else {
            continue;
        };
        if idx >= n {
            continue;
        }
        let monto = monto.round_dp(2);
        let confirmed = is_confirmed(estado);
        if idx == last {
            match estado.as_str() {
                e if is_confirmed(e) => {
                    s.hoy.ingresos += monto;
                    s.hoy.compras += 1;
                }
                "refunded" | "partially_refunded" => s.hoy.reembolsadas += 1,
                "declined" | "rejected" | "cancelled" => s.hoy.rechazadas += 1,
                "pending" | "in_process" => s.hoy.pendientes += 1,
                _ => {}
            }
        }
        if !confirmed {
            continue;
        }
        s.total.add(idx, monto);
        let g = gateway.clone().unwrap_or_else(|| "otro".into());
        s.por_gateway
            .entry(g)
            .or_insert_with(|| DaySeries::new(n))
            .add(idx, monto);
        s.por_router
            .entry(router_id.clone())
            .or_insert_with(|| DaySeries::new(n))
            .add(idx, monto);
    }
    s
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Revenue and purchases per day (total, by gateway, by router) in the company's time zone",
    params(
        ("dias" = Option<u32>, Query, description = "Days back, today included (1..=366, default 30)."),
    ),
    responses((status = 200, description = "OK", body = Object, example = json!({
        "empresa_id": "EMP_6692D1F6DA", "zona_horaria": "America/Mexico_City", "dias": 2,
        "fechas": ["2026-12-04", "2026-12-05"],
        "total": {"ingresos": [65.0, 15.0], "compras": [2, 1]},
        "por_gateway": [{"gateway": "conekta", "ingresos": [15.0, 15.0], "compras": [1, 1]}],
        "por_router": [{"router_id": "RTR_2E0A7278", "nombre": "Router Demo", "ingresos": [65.0, 15.0], "compras": [2, 1]}],
        "hoy": {"ingresos": 15.0, "compras": 1, "reembolsadas": 0, "rechazadas": 0, "pendientes": 0}
    }))),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa/dashboard/serie")]
async fn dashboard_series(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    query: web::Query<SeriesQuery>,
) -> ApiResult<HttpResponse> {
    let days = days_param(query.dias.as_deref())?;
    let id = EmpresaId(&admin.empresa_id);
    let empresa = empresas::get(&state.db, id).await?;
    let tz = company_tz(&empresa.zona_horaria);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let first = today
        .checked_sub_days(Days::new(u64::from(days - 1)))
        .unwrap_or(today);
    let rows = transaction_rows::since(&state.db, id, day_start(tz, first)).await?;
    let series = bucket(tz, first, days, &rows);
    let names: BTreeMap<String, String> = routers::list_for_empresa(&state.db, id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.nombre))
        .collect();
    Ok(HttpResponse::Ok().json(series_json(&admin.empresa_id, tz, days, &series, &names)))
}

fn series_json(
    empresa_id: &str,
    tz: Tz,
    days: u32,
    s: &Series,
    names: &BTreeMap<String, String>,
) -> Value {
    let fechas: Vec<String> = s
        .first
        .iter_days()
        .take(days as usize)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect();
    let por_gateway: Vec<Value> = s
        .por_gateway
        .iter()
        .map(|(g, d)| {
            let mut v = d.json();
            v["gateway"] = json!(g);
            v
        })
        .collect();
    let por_router: Vec<Value> = s
        .por_router
        .iter()
        .map(|(r, d)| {
            let mut v = d.json();
            v["router_id"] = json!(r);
            v["nombre"] = json!(names.get(r));
            v
        })
        .collect();
    json!({
        "empresa_id": empresa_id,
        "zona_horaria": tz.name(),
        "dias": days,
        "fechas": fechas,
        "total": s.total.json(),
        "por_gateway": por_gateway,
        "por_router": por_router,
        "hoy": {
            "ingresos": wire::money(s.hoy.ingresos),
            "compras": s.hoy.compras,
            "reembolsadas": s.hoy.reembolsadas,
            "rechazadas": s.hoy.rechazadas,
            "pendientes": s.hoy.pendientes,
        },
    })
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "One of my transactions in full (never the hotspot password)",
    params(
        ("transaccion_id" = i32, Path, description = "The transaction's numeric `id`."),
    ),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[get("/api/v1/admin/mi-empresa/transacciones/{transaccion_id}")]
async fn transaccion_detail(
    state: web::Data<AppState>,
    admin: ClienteAdmin,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let not_found = || ApiError::from(Problem::TransactionNotFound);
    let id: i32 = path.trim().parse().map_err(|_| not_found())?;
    let empresa = EmpresaId(&admin.empresa_id);
    let t = transaction_rows::find_owned(&state.db, empresa, id)
        .await?
        .ok_or_else(not_found)?;
    let router = routers::find_owned(&state.db, empresa, RouterId(&t.router_id)).await?;
    let producto = match t.producto_id {
        Some(p) => productos::find_owned(&state.db, empresa, p).await?,
        None => None,
    };
    Ok(HttpResponse::Ok().json(json!({
        "id": t.id,
        "transaccion_id": t.transaccion_id,
        "external_reference": t.external_reference,
        "purchase_id": t.purchase_id,
        "gateway": t.gateway,
        "estado_pago": t.estado_pago,
        "estado_hotspot": t.estado_hotspot,
        "monto": wire::money(t.monto),
        "monto_reembolsado": t.monto_reembolsado.map(wire::money),
        "moneda": t.moneda,
        "cliente_nombre": t.cliente_nombre,
        "cliente_email": t.cliente_email,
        "cliente_telefono": t.cliente_telefono,
        "usuario_hotspot": t.usuario_hotspot,
        "router": {"id": t.router_id, "nombre": router.map(|r| r.nombre)},
        "producto": {"id": t.producto_id, "nombre_venta": producto.map(|p| p.nombre_venta)},
        "metadata": t.metadata_json,
        "creada_en": wire::iso(t.creada_en),
        "pagada_en": wire::iso_opt(t.pagada_en),
        "webhook_received_at": wire::iso_opt(t.webhook_received_at),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(at: &str, monto: i64, estado: &str, gw: &str, r: &str) -> SeriesRow {
        (
            DateTime::parse_from_rfc3339(at)
                .unwrap()
                .with_timezone(&Utc),
            Decimal::new(monto, 0),
            estado.into(),
            Some(gw.into()),
            r.into(),
        )
    }

    #[test]
    fn days_are_local_and_only_confirmed_payments_count() {
        let tz: Tz = "America/Mexico_City".parse().unwrap();
        let first = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let rows = vec![
            // 2026-12-04 03:00 UTC is still the 3rd in Mexico City (UTC-6).
            row("2026-12-04T03:00:00Z", 15, "paid", "conekta", "R1"),
            row("2026-12-04T07:00:00Z", 50, "approved", "mercado_pago", "R2"),
            row("2026-12-05T12:00:00Z", 200, "paid", "conekta", "R1"),
            row("2026-12-05T13:00:00Z", 15, "refunded", "conekta", "R1"),
            row("2026-12-05T14:00:00Z", 15, "declined", "conekta", "R1"),
            // Before the window.
            row("2026-12-03T05:59:00Z", 99, "paid", "conekta", "R1"),
        ];
        let s = bucket(tz, first, 3, &rows);
        assert_eq!(s.total.compras, vec![1, 1, 1]);
        assert_eq!(
            s.total.ingresos,
            vec![
                Decimal::new(15, 0),
                Decimal::new(50, 0),
                Decimal::new(200, 0)
            ]
        );
        assert_eq!(s.por_gateway["conekta"].compras, vec![1, 0, 1]);
        assert_eq!(s.por_gateway["mercado_pago"].compras, vec![0, 1, 0]);
        assert_eq!(s.por_router["R2"].ingresos[1], Decimal::new(50, 0));
        assert_eq!(
            s.hoy,
            Today {
                ingresos: Decimal::new(200, 0),
                compras: 1,
                reembolsadas: 1,
                rechazadas: 1,
                pendientes: 0,
            }
        );
    }

    #[test]
    fn day_count_bounds() {
        assert_eq!(days_param(None).unwrap(), 30);
        assert_eq!(days_param(Some("7")).unwrap(), 7);
        for bad in ["0", "367", "x", "-1"] {
            assert!(days_param(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let tz: Tz = "America/Mexico_City".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(wire::iso(day_start(tz, d)), "2026-12-05T06:00:00");
    }
}
