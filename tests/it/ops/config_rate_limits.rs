//! `RATE_LIMIT_…` settings are read from the environment, and a malformed one is named.

#[test]
fn rate_limits_are_read_from_the_environment() {
    // Config::from_env reads the process environment: nextest runs each test in a process of
    // its own, so nothing else reads the environment while it changes.
    let mut vars = super::config_metrics_token::required_vars();
    vars.extend([
        ("RATE_LIMIT_PAYMENT_PER_IP", "1200/1m".to_string()),
        ("RATE_LIMIT_DECLINED_PER_EMAIL", "2/10m".to_string()),
        ("RATE_LIMIT_INVALID_PER_IP", "ten a minute".to_string()),
    ]);
    for (k, v) in &vars {
        std::env::set_var(k, v);
    }
    let err = pagos_hotspot::config::Config::from_env().unwrap_err();
    assert_eq!(err.name, "RATE_LIMIT_INVALID_PER_IP");
    std::env::remove_var("RATE_LIMIT_INVALID_PER_IP");
    let config = pagos_hotspot::config::Config::from_env().unwrap();
    let minutes = |m: u64| std::time::Duration::from_secs(60 * m);
    assert_eq!(
        (
            config.limits.payment_per_ip.count,
            config.limits.payment_per_ip.period
        ),
        (1200, minutes(1))
    );
    assert_eq!(
        (
            config.limits.declined_per_email.count,
            config.limits.declined_per_email.period
        ),
        (2, minutes(10))
    );
    let defaults = pagos_hotspot::config::RateLimitSettings::default();
    assert_eq!(config.limits.invalid_per_ip, defaults.invalid_per_ip);
    assert_eq!(config.limits.declined_per_card, defaults.declined_per_card);
    for (k, _) in &vars {
        std::env::remove_var(k);
    }
}
