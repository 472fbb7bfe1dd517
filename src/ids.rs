//! Typed company and router ids for lookups that take both, so the two cannot be swapped.
//!
//! Both are borrowed views of the stored text ids (`EMP_…`, `RTR_…`): the columns and the wire
//! keep plain strings.

/// A company id (`empresas.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmpresaId<'a>(pub &'a str);

/// A router id (`routers.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouterId<'a>(pub &'a str);

impl<'a> EmpresaId<'a> {
    pub fn as_str(self) -> &'a str {
        self.0
    }
}

impl<'a> RouterId<'a> {
    pub fn as_str(self) -> &'a str {
        self.0
    }
}
