//! The soft-deletable tables and who owns what: the graph `dbkit` cascades through.
//! Deleting a user takes everything they own; deleting a project takes its synopsis,
//! meetings, files and ideas. Restoring brings back exactly what that delete took.

use dbkit::soft_delete::{Owned, Registry, SoftDeleteTable};

const fn table(entity_type: &'static str, table: &'static str) -> SoftDeleteTable {
    SoftDeleteTable {
        entity_type,
        table,
        owns: &[],
    }
}

pub static PLANS: SoftDeleteTable = table("plan", "plans");
pub static SERVICES: SoftDeleteTable = table("service", "services");
pub static USER_SERVICES: SoftDeleteTable = table("subscription", "user_services");
pub static ORDERS: SoftDeleteTable = table("order", "orders");
pub static SYNOPSIS: SoftDeleteTable = table("synopsis", "synopsis");
pub static MEETINGS: SoftDeleteTable = table("meeting", "meetings");
pub static ADMIN_REQUESTS: SoftDeleteTable = table("admin_request", "admin_requests");
pub static FILES: SoftDeleteTable = table("file", "files");
pub static CHAT_MESSAGES: SoftDeleteTable = table("chat_message", "chatbot_history");
pub static IDEAS: SoftDeleteTable = table("idea", "idea_generation_history");

pub static PROJECTS: SoftDeleteTable = SoftDeleteTable {
    entity_type: "project",
    table: "projects",
    owns: &[
        Owned {
            table: &SYNOPSIS,
            fk: "project_id",
        },
        Owned {
            table: &MEETINGS,
            fk: "project_id",
        },
        Owned {
            table: &FILES,
            fk: "project_id",
        },
        Owned {
            table: &IDEAS,
            fk: "project_id",
        },
    ],
};

pub static USERS: SoftDeleteTable = SoftDeleteTable {
    entity_type: "user",
    table: "users",
    owns: &[
        Owned {
            table: &PROJECTS,
            fk: "user_id",
        },
        Owned {
            table: &ORDERS,
            fk: "user_id",
        },
        Owned {
            table: &SYNOPSIS,
            fk: "user_id",
        },
        Owned {
            table: &MEETINGS,
            fk: "user_id",
        },
        Owned {
            table: &ADMIN_REQUESTS,
            fk: "user_id",
        },
        Owned {
            table: &USER_SERVICES,
            fk: "user_id",
        },
        Owned {
            table: &FILES,
            fk: "owner_id",
        },
        Owned {
            table: &CHAT_MESSAGES,
            fk: "user_id",
        },
        Owned {
            table: &IDEAS,
            fk: "user_id",
        },
    ],
};

/// Every soft-deletable table: the trash covers each of them.
pub static REGISTRY: Registry = Registry(&[
    &USERS,
    &PLANS,
    &SERVICES,
    &USER_SERVICES,
    &PROJECTS,
    &ORDERS,
    &SYNOPSIS,
    &MEETINGS,
    &ADMIN_REQUESTS,
    &FILES,
    &CHAT_MESSAGES,
    &IDEAS,
]);

webkit::resource!(crate::entity::users, "user", USERS);
webkit::resource!(crate::entity::plans, "plan", PLANS);
webkit::resource!(crate::entity::services, "service", SERVICES);
webkit::resource!(crate::entity::projects, "project", PROJECTS, UserId);
webkit::resource!(crate::entity::orders, "order", ORDERS, UserId);
webkit::resource!(crate::entity::synopsis, "synopsis", SYNOPSIS, UserId);
webkit::resource!(crate::entity::meetings, "meeting", MEETINGS, UserId);
webkit::resource!(
    crate::entity::admin_requests,
    "request",
    ADMIN_REQUESTS,
    UserId
);
webkit::resource!(
    crate::entity::user_services,
    "subscription",
    USER_SERVICES,
    UserId
);
webkit::resource!(crate::entity::files, "file", FILES, OwnerId);
webkit::resource!(
    crate::entity::chatbot_history,
    "message",
    CHAT_MESSAGES,
    UserId
);
webkit::resource!(crate::entity::ideas, "idea", IDEAS, UserId);
