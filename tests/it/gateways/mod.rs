mod browser_sdk;
mod conekta;
mod mercado_pago;
mod python;
mod telegram;
mod webhook;
