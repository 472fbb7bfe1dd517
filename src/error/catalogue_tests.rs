//! Tests of the error catalogue: every variant used, codes unique, the broker mapping.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::Path;

use actix_web::ResponseError;

use super::*;
use crate::error::ApiError;

/// The variant names of [`Problem`], read from this file.
fn variants() -> Vec<String> {
    let source = include_str!("catalogue.rs");
    let start = source.find("pub enum Problem {").unwrap();
    let body = &source[start..];
    let body = &body[..body.find("\n}\n").unwrap()];
    body.lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.is_empty())
        .filter_map(|l| {
            let name: String = l
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            name.starts_with(|c: char| c.is_ascii_uppercase())
                .then_some(name)
        })
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

/// Every problem of the catalogue is answered somewhere (in the spirit of Lemmy's
/// `test_errors_used`): an unused variant is a dead wire string.
#[test]
fn every_problem_is_used_outside_the_catalogue() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let elsewhere: Vec<&str> = files
        .iter()
        .filter(|(path, _)| !path.ends_with("catalogue.rs"))
        .map(|(_, text)| text.as_str())
        .collect();
    let names = variants();
    assert!(names.len() > 50, "parsed only {names:?}");
    let unused: Vec<&String> = names
        .iter()
        .filter(|name| {
            let needle = format!("Problem::{name}");
            !elsewhere.iter().any(|text| {
                text.match_indices(&needle).any(|(i, _)| {
                    !text[i + needle.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
                })
            })
        })
        .collect();
    assert!(unused.is_empty(), "unused problems: {unused:?}");
}

#[test]
fn codes_are_unique_snake_case() {
    let samples = [
        Problem::Internal,
        Problem::EmpresaNotFound,
        Problem::RouterNotOwned,
        Problem::RouterNotInEmpresa,
        Problem::RouterNotOursForProducts,
        Problem::ProductNotFound,
        Problem::UserNotFound,
    ];
    let mut codes: Vec<&str> = samples.iter().map(Problem::code).collect();
    assert!(codes
        .iter()
        .all(|c| c.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), samples.len());
}

#[test]
fn broker_errors_map_to_http() {
    let e: ApiError = BrokerError::Busy {
        retry_after_secs: 3,
    }
    .into();
    let res = e.error_response();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers().get("retry-after").unwrap(), "3");
    let e: ApiError = BrokerError::Disabled.into();
    assert_eq!(e.status_code(), 400);
    assert_eq!(
        e.to_string(),
        "400 Bad Request: El router está inactivo. Actívalo primero desde el panel."
    );
    let e: ApiError = BrokerError::Router(RouterError::Trap {
        category: None,
        message: "secret internals".into(),
    })
    .into();
    assert_eq!(e.status_code(), 500);
    assert!(!e.to_string().contains("internals"));
}

#[test]
fn field_problems_answer_a_pydantic_list() {
    let p = Problem::InvalidMac(BadField::new("mac_cliente", json!("zz")));
    assert_eq!(p.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        p.body(),
        json!({"detail": [{
            "type": "value_error",
            "loc": ["body", "mac_cliente"],
            "msg": "Dirección MAC inválida",
            "input": "zz",
        }]})
    );
}
