//! A product's plan fields on the wire: `minutos_uso`, `vigencia_minutos`, `vigencia_desde`,
//! `limite_mb` (what answers carry), with the English names `usage_minutes`,
//! `validity_minutes`, `validity_from`, `data_limit_mb` accepted on input. When a body sends
//! both names of a field, the Spanish one wins. `null` clears a field on update.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::db::productos::{Plan, PlanPatch, Producto};
use crate::error::{ApiError, ApiResult};
use crate::validate;

/// The longest validity or usage budget accepted: ten years of minutes.
const MAX_MINUTES: i64 = 10 * 366 * 24 * 60;
/// The largest data budget accepted: 1 PB in MB.
const MAX_MB: i64 = 1_000_000_000;

/// The plan keys of a product body (flattened into the create and update bodies).
#[derive(Debug, Default, Deserialize)]
pub struct PlanInput {
    #[serde(default, deserialize_with = "validate::double_option")]
    minutos_uso: Option<Option<Value>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    usage_minutes: Option<Option<Value>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    vigencia_minutos: Option<Option<Value>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    validity_minutes: Option<Option<Value>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    vigencia_desde: Option<Option<Value>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    validity_from: Option<Option<Value>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    limite_mb: Option<Option<Value>>,
    #[serde(default, deserialize_with = "validate::double_option")]
    data_limit_mb: Option<Option<Value>>,
}

/// A whole number in `1..=max`, or the 422 naming the Spanish field.
fn positive(field: &str, v: &Value, max: i64) -> ApiResult<i64> {
    match v.as_i64() {
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field(
            field,
            "value_error",
            format!("Value error, debe ser un entero entre 1 y {max}"),
            v.clone(),
        )),
        None => Err(ApiError::field(
            field,
            "int_type",
            "Input should be a valid integer",
            v.clone(),
        )),
    }
}

/// `compra` | `primer_login` (also `purchase` | `first_login`), stored in Spanish.
fn validity_from(v: &Value) -> ApiResult<String> {
    match v.as_str().map(str::trim) {
        Some("compra" | "purchase") => Ok("compra".into()),
        Some("primer_login" | "first_login") => Ok("primer_login".into()),
        _ => Err(ApiError::field(
            "vigencia_desde",
            "enum",
            "Input should be 'compra' or 'primer_login'",
            v.clone(),
        )),
    }
}

/// One field: the Spanish key when present (even `null`), else the English one.
fn pick(es: Option<Option<Value>>, en: Option<Option<Value>>) -> Option<Option<Value>> {
    es.or(en)
}

fn minutes(field: &str, v: Option<Option<Value>>) -> ApiResult<Option<Option<i32>>> {
    v.map(|v| {
        v.map(|v| positive(field, &v, MAX_MINUTES).map(|n| i32::try_from(n).unwrap_or(i32::MAX)))
            .transpose()
    })
    .transpose()
}

impl PlanInput {
    /// The validated changes (every field the body names, `null` clearing it).
    pub fn patch(self) -> ApiResult<PlanPatch> {
        let minutos_uso = minutes("minutos_uso", pick(self.minutos_uso, self.usage_minutes))?;
        let vigencia_minutos = minutes(
            "vigencia_minutos",
            pick(self.vigencia_minutos, self.validity_minutes),
        )?;
        let vigencia_desde = pick(self.vigencia_desde, self.validity_from)
            .map(|v| v.map(|v| validity_from(&v)).transpose())
            .transpose()?;
        let limite_mb = pick(self.limite_mb, self.data_limit_mb)
            .map(|v| v.map(|v| positive("limite_mb", &v, MAX_MB)).transpose())
            .transpose()?;
        Ok(PlanPatch {
            minutos_uso,
            vigencia_minutos,
            vigencia_desde,
            limite_mb,
        })
    }
}

/// The plan keys of a product answer (`null` when not set; `vigencia_desde` defaults to
/// `compra` when a validity is set).
pub fn plan_json(p: &Producto) -> Value {
    let plan = Plan::of(p);
    json!({
        "minutos_uso": plan.minutos_uso,
        "vigencia_minutos": plan.vigencia_minutos,
        "vigencia_desde": plan.vigencia_minutos.map(|_| plan.vigencia_desde.clone().unwrap_or_else(|| "compra".into())),
        "limite_mb": plan.limite_mb,
    })
}

/// Adds the plan keys to a product object.
pub fn with_plan(mut v: Value, p: &Producto) -> Value {
    if let (Value::Object(m), Value::Object(plan)) = (&mut v, plan_json(p)) {
        m.extend(plan);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> ApiResult<PlanPatch> {
        let input: PlanInput = serde_json::from_value(v).unwrap();
        input.patch()
    }

    #[test]
    fn spanish_wins_over_english_and_english_is_accepted() {
        let p =
            parse(json!({"minutos_uso": 60, "usage_minutes": 30, "validity_from": "first_login"}))
                .unwrap();
        assert_eq!(p.minutos_uso, Some(Some(60)));
        assert_eq!(p.vigencia_desde, Some(Some("primer_login".into())));
        let p = parse(json!({"data_limit_mb": 500, "validity_minutes": 1440})).unwrap();
        assert_eq!(p.limite_mb, Some(Some(500)));
        assert_eq!(p.vigencia_minutos, Some(Some(1440)));
        let p = parse(json!({"limite_mb": null, "data_limit_mb": 5})).unwrap();
        assert_eq!(p.limite_mb, Some(None), "Spanish null wins");
        assert_eq!(parse(json!({})).unwrap(), PlanPatch::default());
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            json!({"minutos_uso": 0}),
            json!({"minutos_uso": -5}),
            json!({"minutos_uso": "x"}),
            json!({"minutos_uso": 1.5}),
            json!({"vigencia_desde": "mañana"}),
            json!({"limite_mb": 0}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}
