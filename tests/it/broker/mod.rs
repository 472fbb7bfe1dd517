mod address_policy;
mod live;
mod pipeline;
mod scale;
mod strict;
