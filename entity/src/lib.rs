//! sea-orm entities (one module per table).
