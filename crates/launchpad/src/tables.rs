//! The soft-deletable tables and who owns what: the graph `dbkit` cascades through.

use dbkit::soft_delete::SoftDeleteTable;

pub static USERS: SoftDeleteTable = SoftDeleteTable {
    entity_type: "user",
    table: "users",
    owns: &[],
};
pub static PLANS: SoftDeleteTable = SoftDeleteTable {
    entity_type: "plan",
    table: "plans",
    owns: &[],
};
pub static SERVICES: SoftDeleteTable = SoftDeleteTable {
    entity_type: "service",
    table: "services",
    owns: &[],
};
