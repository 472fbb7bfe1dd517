//! `METRICS_TOKEN` is read like the other secrets: at least 16 characters.

const TOKEN: &str = "metrics-token-0123456789abcdef";

/// The settings `Config::from_env` requires, with valid values.
pub(super) fn required_vars() -> Vec<(&'static str, String)> {
    vec![
        ("JWT_SESSION_SECRET", "s".repeat(32)),
        ("JWT_APIKEY_SECRET", "a".repeat(32)),
        (
            "MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string(),
        ),
    ]
}

#[test]
fn a_short_metrics_token_is_a_configuration_error() {
    // Config::from_env reads the process environment: nextest runs each test in a process of
    // its own, so nothing else reads the environment while it changes.
    let mut vars = required_vars();
    vars.push(("METRICS_TOKEN", "short".to_string()));
    for (k, v) in &vars {
        std::env::set_var(k, v);
    }
    let err = pagos_hotspot::config::Config::from_env().unwrap_err();
    assert_eq!(err.name, "METRICS_TOKEN");
    std::env::set_var("METRICS_TOKEN", TOKEN);
    let config = pagos_hotspot::config::Config::from_env().unwrap();
    assert!(config.metrics_token.is_some());
    for (k, _) in &vars {
        std::env::remove_var(k);
    }
}
