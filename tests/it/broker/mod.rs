mod adaptive;
mod address_policy;
mod hostile_router;
mod live;
mod pipeline;
mod router_setup;
mod scale;
mod strict;
