//! Shared application state handed to every handler as `web::Data<AppState>`.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::auth::key_usage::KeyUsage;
use crate::auth::rate_limit::RateLimits;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::db::routers::BrokerSource;
use crate::gateways::telegram::{TelegramClient, TelegramNotifier};
use crate::gateways::Gateways;
use crate::metrics::Metrics;
use crate::routeros::RouterRegistry;

pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub secrets: Arc<SecretBox>,
    /// One pooled HTTP client for every outbound call.
    pub http: reqwest::Client,
    pub key_usage: Arc<KeyUsage>,
    pub limits: Arc<RateLimits>,
    /// One actor per router (started on first use).
    pub routers: RouterRegistry,
    pub telegram: TelegramClient,
    /// Conekta and Mercado Pago clients (timeout: `config.purchase.gateway_timeout`).
    pub gateways: Gateways,
    /// Background Telegram sender (paid / rejected purchase notifications).
    pub notifier: TelegramNotifier,
    /// This instance's Prometheus registry and metrics (`GET /metrics`).
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config) -> anyhow::Result<Self> {
        let secrets = Arc::new(SecretBox::new(&config.master_key));
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("pagos-hotspot/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let metrics = Arc::new(Metrics::new()?);
        let routers = RouterRegistry::new(
            Arc::new(BrokerSource::new(db.clone(), secrets.clone())),
            config.router.clone(),
            crate::wire::iso,
        );
        routers.set_observer(metrics.clone());
        let telegram = TelegramClient::new(&config.telegram_api_base, http.clone());
        let gateway_http = crate::gateways::build_http_client(config.purchase.gateway_timeout)?;
        let gateways = Gateways::new(
            &config.conekta_api_base,
            &config.mercadopago_api_base,
            gateway_http,
        );
        let notifier = TelegramNotifier::spawn(telegram.clone());
        let limits = if config.rate_limits {
            RateLimits::new(&config.limits)
        } else {
            RateLimits::unlimited()
        };
        Ok(Self {
            gateways,
            notifier,
            telegram,
            db,
            config: Arc::new(config),
            secrets,
            http,
            key_usage: Arc::new(KeyUsage::default()),
            limits: Arc::new(limits),
            routers,
            metrics,
        })
    }
}
