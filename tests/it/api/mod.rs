mod admin_company;
mod admin_super;
mod auth;
mod cors;
mod nul_bytes;
mod openapi;
mod products_catalog;
mod reports;
