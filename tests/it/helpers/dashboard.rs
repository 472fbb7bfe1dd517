//! Reading the Grafana dashboard: its panels, their PromQL expressions, and the metric names
//! those expressions use. Shared by `ops/grafana_dashboard.rs` and `ops/prometheus_scrape.rs`.

use std::path::PathBuf;

use serde_json::Value;

pub fn dashboard_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grafana/dashboards/pagos-hotspot.json")
}

pub fn load_dashboard() -> Value {
    let text = std::fs::read_to_string(dashboard_path()).expect("dashboard file");
    serde_json::from_str(&text).expect("dashboard is JSON")
}

/// One query of one panel.
#[derive(Debug, Clone)]
pub struct PanelQuery {
    pub panel_title: String,
    pub ref_id: String,
    pub expr: String,
}

/// Every panel (rows' nested panels included), flattened. Rows themselves are included with
/// `type == "row"`.
pub fn all_panels(dashboard: &Value) -> Vec<Value> {
    fn walk(panels: &Value, out: &mut Vec<Value>) {
        for p in panels.as_array().into_iter().flatten() {
            out.push(p.clone());
            if let Some(inner) = p.get("panels") {
                walk(inner, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// Every `targets[].expr` of every panel.
pub fn panel_queries(dashboard: &Value) -> Vec<PanelQuery> {
    all_panels(dashboard)
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_string();
            p["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |t| {
                    Some(PanelQuery {
                        panel_title: title.clone(),
                        ref_id: t["refId"].as_str().unwrap_or_default().to_string(),
                        expr: t["expr"].as_str()?.to_string(),
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The metric selectors of the template variables (`label_values(<selector>, <label>)`).
pub fn variable_selectors(dashboard: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for v in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if v["type"] != "query" {
            continue;
        }
        let query = match &v["query"] {
            Value::String(s) => s.clone(),
            Value::Object(o) => o
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => continue,
        };
        let q = query.trim();
        let inner = q
            .strip_prefix("label_values(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| panic!("unsupported variable query {q:?}"));
        // label_values(<selector>, <label>): the selector is everything before the last comma.
        if let Some((selector, _label)) = inner.rsplit_once(',') {
            out.push(selector.trim().to_string());
        }
    }
    out
}

const KEYWORDS_BEFORE_LABEL_LIST: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
const OTHER_KEYWORDS: &[&str] = &[
    "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
];
/// Aggregation operators, which may be followed by `by (...)` before their parenthesis.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

fn skip_quoted(chars: &[char], mut i: usize) -> usize {
    let quote = chars[i];
    i += 1;
    while i < chars.len() {
        if chars[i] == '\\' && quote != '`' {
            i += 2;
            continue;
        }
        if chars[i] == quote {
            return i + 1;
        }
        i += 1;
    }
    i
}

/// Skips a `{...}` or `[...]` block, honouring quoted strings inside.
fn skip_block(chars: &[char], mut i: usize, close: char) -> usize {
    i += 1;
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' | '`' => i = skip_quoted(chars, i),
            c if c == close => return i + 1,
            _ => i += 1,
        }
    }
    i
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The metric names a PromQL expression selects (series names as written: a histogram appears
/// as `x_bucket`, `x_sum` or `x_count`). Function and aggregation names, keywords, label
/// names in `by (...)`-style lists, label matchers, ranges, strings, numbers, durations and
/// Grafana variables are skipped. `{__name__="x"}` selectors are not supported (and rejected).
pub fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    // For each open parenthesis: does it hold a label list?
    let mut parens: Vec<bool> = Vec::new();
    let mut label_list_next = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '"' | '\'' | '`' => i = skip_quoted(&chars, i),
            '{' => {
                let end = skip_block(&chars, i, '}');
                let block: String = chars[i..end.min(chars.len())].iter().collect();
                assert!(
                    !block.contains("__name__"),
                    "{{__name__=...}} selectors are not supported: {expr}"
                );
                i = end;
            }
            '[' => i = skip_block(&chars, i, ']'),
            '(' => {
                parens.push(label_list_next);
                label_list_next = false;
                i += 1;
            }
            ')' => {
                parens.pop();
                i += 1;
            }
            '$' => {
                i += 1;
                if chars.get(i) == Some(&'{') {
                    i = skip_block(&chars, i, '}');
                } else {
                    while i < chars.len() && is_ident_char(chars[i]) {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                // Numbers and durations (0.95, 1e3, 5m, 1h30m).
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let ident: String = chars[start..i].iter().collect();
                if parens.last() == Some(&true) {
                    continue; // a label name in by (...), on (...), group_left (...)
                }
                let lower = ident.to_ascii_lowercase();
                if KEYWORDS_BEFORE_LABEL_LIST.contains(&lower.as_str()) {
                    label_list_next = true;
                    continue;
                }
                if OTHER_KEYWORDS.contains(&lower.as_str()) {
                    continue;
                }
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                if chars.get(j) == Some(&'(') || AGGREGATIONS.contains(&lower.as_str()) {
                    continue; // a function or aggregation
                }
                names.push(ident);
            }
            _ => i += 1,
        }
    }
    names
}

/// Replaces Grafana's variables by values Prometheus accepts.
pub fn substitute_variables(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("${__rate_interval}", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "1h")
        .replace("$router", ".*")
        .replace("${router}", ".*")
}
