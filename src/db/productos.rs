//! `productos`: the plans a company sells on one of its routers (a RouterOS hotspot profile,
//! a price and its presentation).

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Select, Set,
};
use serde_json::Value;

use entity::producto::{ActiveModel, Column, Entity, Model};

use super::set;
use crate::ids::{EmpresaId, RouterId};

/// A product row.
pub type Producto = Model;

/// A product to create.
#[derive(Debug, Clone)]
pub struct NewProducto {
    pub empresa_id: String,
    pub router_id: String,
    pub perfil_mikrotik_id: String,
    pub perfil_mikrotik_nombre: String,
    pub nombre_venta: String,
    pub descripcion: Option<String>,
    pub imagen_url: Option<String>,
    pub precio: Decimal,
    pub moneda: String,
    pub detalles: Value,
    pub activo: bool,
    pub orden_visual: i32,
    pub destacado: bool,
    /// Validity and budgets; all `None`: the product behaves as before (the profile only).
    pub plan: Plan,
}

/// What a plan gives besides its profile (docs/access-lifecycle.md): a logged-in budget, a
/// wall-clock validity and a data budget.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub minutos_uso: Option<i32>,
    pub vigencia_minutos: Option<i32>,
    /// `compra` | `primer_login`.
    pub vigencia_desde: Option<String>,
    pub limite_mb: Option<i64>,
}

impl Plan {
    /// The product's plan.
    pub fn of(p: &Model) -> Plan {
        Plan {
            minutos_uso: p.minutos_uso,
            vigencia_minutos: p.vigencia_minutos,
            vigencia_desde: p.vigencia_desde.clone(),
            limite_mb: p.limite_mb,
        }
    }
}

/// Changes to a product's plan: `Some(None)` clears a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanPatch {
    pub minutos_uso: Option<Option<i32>>,
    pub vigencia_minutos: Option<Option<i32>>,
    pub vigencia_desde: Option<Option<String>>,
    pub limite_mb: Option<Option<i64>>,
}

impl PlanPatch {
    /// The wire names of the fields it sets.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("minutos_uso", self.minutos_uso.is_some()),
            ("vigencia_minutos", self.vigencia_minutos.is_some()),
            ("vigencia_desde", self.vigencia_desde.is_some()),
            ("limite_mb", self.limite_mb.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// The plan as created from this patch (a field cleared or absent is `None`).
    pub fn into_plan(self) -> Plan {
        Plan {
            minutos_uso: self.minutos_uso.flatten(),
            vigencia_minutos: self.vigencia_minutos.flatten(),
            vigencia_desde: self.vigencia_desde.flatten(),
            limite_mb: self.limite_mb.flatten(),
        }
    }
}

/// Inserts a product.
pub async fn insert<C: ConnectionTrait>(db: &C, new: NewProducto) -> Result<Model, DbErr> {
    ActiveModel {
        empresa_id: Set(new.empresa_id),
        router_id: Set(new.router_id),
        perfil_mikrotik_id: Set(new.perfil_mikrotik_id),
        perfil_mikrotik_nombre: Set(new.perfil_mikrotik_nombre),
        nombre_venta: Set(new.nombre_venta),
        descripcion: Set(new.descripcion),
        imagen_url: Set(new.imagen_url),
        precio: Set(new.precio),
        moneda: Set(new.moneda),
        detalles: Set(new.detalles),
        activo: Set(new.activo),
        orden_visual: Set(new.orden_visual),
        destacado: Set(new.destacado),
        creado_en: Set(Utc::now()),
        minutos_uso: Set(new.plan.minutos_uso),
        vigencia_minutos: Set(new.plan.vigencia_minutos),
        vigencia_desde: Set(new.plan.vigencia_desde),
        limite_mb: Set(new.plan.limite_mb),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The product, whichever company owns it.
pub async fn find<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// The company's product, or `None` when missing or owned by another company.
pub async fn find_owned<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .one(db)
        .await
}

/// The company's product for this router and RouterOS profile, if any.
pub async fn find_by_profile<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: RouterId<'_>,
    perfil_mikrotik_id: &str,
) -> Result<Option<Model>, DbErr> {
    of_router(empresa, router)
        .filter(Column::PerfilMikrotikId.eq(perfil_mikrotik_id))
        .one(db)
        .await
}

/// The company's products (of one router when given), inactive included: display order,
/// then newest first.
pub async fn list_for_admin<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: Option<RouterId<'_>>,
) -> Result<Vec<Model>, DbErr> {
    let mut select = Entity::find().filter(Column::EmpresaId.eq(empresa.as_str()));
    if let Some(r) = router {
        select = select.filter(Column::RouterId.eq(r.as_str()));
    }
    select
        .order_by_asc(Column::OrdenVisual)
        .order_by_desc(Column::CreadoEn)
        .order_by_desc(Column::Id)
        .all(db)
        .await
}

/// The products of the company's router.
fn of_router(empresa: EmpresaId<'_>, router: RouterId<'_>) -> Select<Entity> {
    Entity::find()
        .filter(Column::EmpresaId.eq(empresa.as_str()))
        .filter(Column::RouterId.eq(router.as_str()))
}

/// The router's products in id order, inactive included.
pub async fn list_for_router<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: RouterId<'_>,
) -> Result<Vec<Model>, DbErr> {
    of_router(empresa, router)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The router's active products as the portal shows them: display order, featured first,
/// then id.
pub async fn list_for_sale<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: RouterId<'_>,
) -> Result<Vec<Model>, DbErr> {
    of_router(empresa, router)
        .filter(Column::Activo.eq(true))
        .order_by_asc(Column::OrdenVisual)
        .order_by_desc(Column::Destacado)
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The product when it is active and sold on this router of this company.
pub async fn find_for_sale<C: ConnectionTrait>(
    db: &C,
    empresa: EmpresaId<'_>,
    router: RouterId<'_>,
    id: i32,
) -> Result<Option<Model>, DbErr> {
    Ok(find(db, id)
        .await?
        .filter(|p| p.empresa_id == empresa.as_str() && p.router_id == router.as_str() && p.activo))
}

/// How many products (active or not) reference the router.
pub async fn count_for_router<C: ConnectionTrait>(
    db: &C,
    router: RouterId<'_>,
) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::RouterId.eq(router.as_str()))
        .count(db)
        .await
}

/// Columns to set on a product; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductoPatch {
    pub nombre_venta: Option<String>,
    pub descripcion: Option<Option<String>>,
    pub imagen_url: Option<Option<String>>,
    pub precio: Option<Decimal>,
    pub moneda: Option<String>,
    pub detalles: Option<Value>,
    pub activo: Option<bool>,
    pub orden_visual: Option<i32>,
    pub destacado: Option<bool>,
    pub plan: PlanPatch,
}

/// Writes the patch to `current`'s row and returns the row as stored.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    current: Model,
    patch: ProductoPatch,
) -> Result<Model, DbErr> {
    let mut m = current.into_active_model();
    set(&mut m.nombre_venta, patch.nombre_venta);
    set(&mut m.descripcion, patch.descripcion);
    set(&mut m.imagen_url, patch.imagen_url);
    set(&mut m.precio, patch.precio);
    set(&mut m.moneda, patch.moneda);
    set(&mut m.detalles, patch.detalles);
    set(&mut m.activo, patch.activo);
    set(&mut m.orden_visual, patch.orden_visual);
    set(&mut m.destacado, patch.destacado);
    set(&mut m.minutos_uso, patch.plan.minutos_uso);
    set(&mut m.vigencia_minutos, patch.plan.vigencia_minutos);
    set(&mut m.vigencia_desde, patch.plan.vigencia_desde);
    set(&mut m.limite_mb, patch.plan.limite_mb);
    m.update(db).await
}

/// `(id, empresa_id, router_id, perfil_mikrotik_id)` of every product (the importer's
/// "already there" check).
pub async fn owners<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(i32, String, String, String)>, DbErr> {
    let cols = [
        Column::Id,
        Column::EmpresaId,
        Column::RouterId,
        Column::PerfilMikrotikId,
    ];
    super::column_tuples::<_, Entity, _>(db, cols).await
}

/// Inserts products exactly as given (ids kept: portals may hard-code a `producto_id`).
pub async fn insert_imported<C: ConnectionTrait>(db: &C, rows: Vec<Model>) -> Result<(), DbErr> {
    super::insert_all(db, rows.into_iter().map(ActiveModel::from).collect()).await
}
