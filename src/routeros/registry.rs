//! TEMPORARY STUB of the router broker's registry (branch h-broker), connect-per-call.
//! Replaced by the real broker when it lands on main.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, EntityTrait};

use super::client::{ConnectOptions, RouterClient};
use super::commands::{ActiveLogin, HotspotUser, NewHotspotUser, NewIpBinding, UserProfile};
use super::error::RouterError;
use crate::crypto::{field, SecretBox};
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    #[error("router busy, retry in {retry_after_secs}s")]
    Busy { retry_after_secs: u64 },
    #[error("router disabled")]
    Disabled,
    #[error("unknown router")]
    UnknownRouter,
    #[error("router unavailable: {reason}")]
    Unavailable { reason: String },
    #[error("router refused the credentials")]
    AuthFailed,
    #[error("router error: {0}")]
    Router(RouterError),
    #[error("outcome unknown")]
    OutcomeUnknown,
}

impl From<BrokerError> for ApiError {
    fn from(e: BrokerError) -> Self {
        match e {
            BrokerError::Busy { retry_after_secs } => ApiError::unavailable(
                "El router está ocupado. Intente de nuevo en unos segundos.",
                retry_after_secs,
            ),
            BrokerError::Disabled => {
                ApiError::bad_request("El router está inactivo. Actívalo primero desde el panel.")
            }
            BrokerError::UnknownRouter => ApiError::not_found("Router no encontrado"),
            _ => ApiError::unavailable(
                "No hay conexión con el router en este momento. Intente de nuevo más tarde.",
                5,
            ),
        }
    }
}

#[derive(Clone)]
pub struct RouterRegistry {
    db: DatabaseConnection,
    secrets: Arc<SecretBox>,
    connect_timeout: Duration,
    command_timeout: Duration,
}

impl RouterRegistry {
    pub fn new(
        db: DatabaseConnection,
        secrets: Arc<SecretBox>,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> Self {
        Self {
            db,
            secrets,
            connect_timeout,
            command_timeout,
        }
    }

    async fn client(&self, router_id: &str) -> Result<RouterClient, BrokerError> {
        let r = entity::router::Entity::find_by_id(router_id.to_string())
            .one(&self.db)
            .await
            .map_err(|e| BrokerError::Unavailable {
                reason: e.to_string(),
            })?
            .ok_or(BrokerError::UnknownRouter)?;
        if !r.activo {
            return Err(BrokerError::Disabled);
        }
        let pw = self
            .secrets
            .decrypt(field::ROUTER_PASSWORD, &r.password_encrypted)
            .map_err(|_| BrokerError::AuthFailed)?;
        let mut o = ConnectOptions::new(
            r.host,
            u16::try_from(r.puerto).unwrap_or(8728),
            r.usuario,
            pw.as_str(),
        );
        o.connect_timeout = self.connect_timeout;
        o.command_timeout = self.command_timeout;
        RouterClient::connect(&o).await.map_err(|e| match e {
            RouterError::AuthFailed(_) => BrokerError::AuthFailed,
            other => BrokerError::Unavailable {
                reason: other.to_string(),
            },
        })
    }

    fn map(e: RouterError) -> BrokerError {
        if e.is_trap() {
            BrokerError::Router(e)
        } else {
            BrokerError::OutcomeUnknown
        }
    }

    pub async fn create_user(
        &self,
        router_id: &str,
        u: NewHotspotUser,
    ) -> Result<String, BrokerError> {
        let mut c = self.client(router_id).await?;
        c.hotspot_user_add(&u).await.map_err(Self::map)
    }
    pub async fn enable_user(&self, router_id: &str, id: &str) -> Result<(), BrokerError> {
        let mut c = self.client(router_id).await?;
        c.hotspot_user_enable(id).await.map_err(Self::map)
    }
    pub async fn disable_user(&self, router_id: &str, id: &str) -> Result<(), BrokerError> {
        let mut c = self.client(router_id).await?;
        c.hotspot_user_disable(id).await.map_err(Self::map)
    }
    pub async fn remove_user(&self, router_id: &str, id: &str) -> Result<(), BrokerError> {
        let mut c = self.client(router_id).await?;
        c.hotspot_user_remove(id).await.map_err(Self::map)
    }
    pub async fn find_user(
        &self,
        router_id: &str,
        name: &str,
    ) -> Result<Option<HotspotUser>, BrokerError> {
        let mut c = self.client(router_id).await?;
        c.hotspot_user_find(name).await.map_err(Self::map)
    }
    pub async fn bind_mac(&self, router_id: &str, b: NewIpBinding) -> Result<String, BrokerError> {
        let mut c = self.client(router_id).await?;
        c.ip_binding_add(&b).await.map_err(Self::map)
    }
    pub async fn active_login(&self, router_id: &str, l: ActiveLogin) -> Result<(), BrokerError> {
        let mut c = self.client(router_id).await?;
        c.active_login(&l).await.map_err(Self::map)
    }
    pub async fn list_profiles(&self, router_id: &str) -> Result<Vec<UserProfile>, BrokerError> {
        let mut c = self.client(router_id).await?;
        c.user_profiles().await.map_err(Self::map)
    }
}
