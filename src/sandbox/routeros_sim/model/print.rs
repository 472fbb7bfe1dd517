//! `print` for every menu: `.proplist`, `count-only`, queries and `!empty`.

use super::{done, done_ret, query, trap, Ctx, Item, Out, Table};
use crate::routeros::dialect::msg;
use crate::routeros::proto::{Attrs, Response};

/// Attributes every `print` accepts and ignores (besides `.proplist` and `count-only`).
const PRINT_IGNORED: &[&str] = &[
    "detail",
    "without-paging",
    "stats",
    "terse",
    "brief",
    "follow",
    "follow-only",
    "interval",
];

pub(super) fn print(
    table: &Table,
    attrs: &[(String, Vec<u8>)],
    queries: &[Vec<u8>],
    ctx: &Ctx<'_>,
) -> Out {
    print_rows(
        table.items.iter().map(Item::rendered).collect(),
        attrs,
        queries,
        ctx,
    )
}

pub(super) fn print_rows(
    rows: Vec<Vec<(String, Vec<u8>)>>,
    attrs: &[(String, Vec<u8>)],
    queries: &[Vec<u8>],
    ctx: &Ctx<'_>,
) -> Out {
    let mut proplist: Option<Vec<String>> = None;
    let mut count_only = false;
    for (k, v) in attrs {
        match k.as_str() {
            ".proplist" => {
                proplist = Some(
                    String::from_utf8_lossy(v)
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            }
            "count-only" => count_only = true,
            k if PRINT_IGNORED.contains(&k) => {}
            k => return trap(msg::unknown_parameter(k)),
        }
    }
    let matching: Vec<Vec<(String, Vec<u8>)>> = rows
        .into_iter()
        .filter(|r| query::matches(r, queries))
        .collect();
    if count_only {
        return vec![done_ret(matching.len().to_string())];
    }
    let mut out = Vec::with_capacity(matching.len() + 1);
    if matching.is_empty() && ctx.sends_empty {
        out.push(Response::Empty { tag: None });
    }
    for r in matching {
        let mut a = Attrs::new();
        for (k, v) in r {
            if proplist.as_ref().is_none_or(|p| p.contains(&k)) {
                a.push(k.into_bytes(), v);
            }
        }
        out.push(Response::Re {
            tag: None,
            attrs: a,
        });
    }
    out.push(done());
    out
}
