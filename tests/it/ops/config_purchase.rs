//! The purchase saga's timings and Mercado Pago's `binary_mode` are settings of `serve`.

#[test]
fn saga_timings_are_read_from_the_environment() {
    // Config::from_env reads the process environment: nextest runs each test in a process of
    // its own, so nothing else reads the environment while it changes.
    let mut vars = super::config_metrics_token::required_vars();
    vars.extend([
        ("SAGA_LEASE_SECS", "12".to_string()),
        ("ENABLE_DEADLINE_SECS", "600".to_string()),
        ("UNKNOWN_CHARGE_DEADLINE_SECS", "300".to_string()),
        ("PENDING_DEADLINE_SECS", "86400".to_string()),
        ("MP_BINARY_MODE", "maybe".to_string()),
        ("REFUND_CHECK_INTERVAL_SECS", "120".to_string()),
        ("REFUND_CHECK_WINDOW_DAYS", "3".to_string()),
        ("REFUND_CHECK_MAX_READS", "50".to_string()),
    ]);
    for (k, v) in &vars {
        std::env::set_var(k, v);
    }
    let err = pagos_hotspot::config::Config::from_env().unwrap_err();
    assert_eq!(err.name, "MP_BINARY_MODE");
    std::env::set_var("MP_BINARY_MODE", "false");
    let p = pagos_hotspot::config::Config::from_env().unwrap().purchase;
    let secs = std::time::Duration::from_secs;
    assert_eq!(p.saga_lease, secs(12));
    assert_eq!(p.enable_deadline, secs(600));
    assert_eq!(p.unknown_charge_deadline, secs(300));
    assert_eq!(p.pending_deadline, secs(86_400));
    assert!(!p.mp_binary_mode);
    assert_eq!(p.refund_check_interval, secs(120));
    assert_eq!(p.refund_check_window, secs(3 * 86_400));
    assert_eq!(p.refund_check_max_reads, 50);
    for (k, _) in &vars {
        std::env::remove_var(k);
    }
    // The defaults: a short lease (renewed while a saga runs), binary mode on.
    let defaults = pagos_hotspot::config::PurchaseSettings::default();
    assert_eq!(defaults.saga_lease, secs(10));
    assert!(defaults.mp_binary_mode);
    assert_eq!(
        (
            defaults.refund_check_interval,
            defaults.refund_check_max_reads
        ),
        (secs(600), 200)
    );
}
