mod live;
mod pipeline;
mod scale;
mod strict;
