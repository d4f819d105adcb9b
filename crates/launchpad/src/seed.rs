//! Reference data and test accounts. Seeds are data, not migrations: `launchpad seed`
//! runs them, and so does `serve` on a database it has just created. Idempotent: a row
//! that exists (even in the trash) is left alone.

use dbkit::audit::Event;
use dbkit::{Actor, Writer};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::entity::{plans, services, users};
use crate::error::AppError;
use webkit::auth::password;

struct PlanSeed {
    name: &'static str,
    description: &'static str,
    price: i64,
    features: &'static [&'static str],
    blog_included: bool,
    max_projects: i32,
    support_level: &'static str,
}

/// The three plans of seed note 000.
const PLANS: &[PlanSeed] = &[
    PlanSeed {
        name: "Basic",
        description: "Perfect for getting started",
        price: 2999,
        features: &[
            "1 Project",
            "Email Support",
            "Basic Templates",
            "Synopsis Review",
        ],
        blog_included: false,
        max_projects: 1,
        support_level: "Basic",
    },
    PlanSeed {
        name: "Standard",
        description: "Most popular choice",
        price: 4999,
        features: &[
            "2 Projects",
            "Priority Support",
            "Advanced Templates",
            "Synopsis Review",
            "Code Review",
            "Documentation Help",
        ],
        blog_included: false,
        max_projects: 2,
        support_level: "Standard",
    },
    PlanSeed {
        name: "Premium",
        description: "Complete solution",
        price: 7999,
        features: &[
            "3 Projects",
            "24/7 Support",
            "All Templates",
            "Synopsis Review",
            "Complete Code Review",
            "Documentation",
            "Deployment Guide",
            "Blog Website",
        ],
        blog_included: true,
        max_projects: 3,
        support_level: "Premium",
    },
];

/// Extras a student can subscribe to: (name, description, price).
const SERVICES: &[(&str, &str, i64)] = &[
    (
        "Synopsis Review",
        "An expert review of your synopsis before submission",
        999,
    ),
    (
        "Code Review",
        "A mentor reviews your code and suggests improvements",
        1999,
    ),
    (
        "Documentation Help",
        "Help writing the project report and blackbook",
        1499,
    ),
    (
        "Deployment Guidance",
        "Put your project online with a mentor",
        2499,
    ),
];

/// The test accounts created outside production: (email, password, name, phone, admin).
const TEST_USERS: &[(&str, &str, &str, &str, bool)] = &[
    (
        "student@test.com",
        "Test@1234",
        "Test Student",
        "9876543210",
        false,
    ),
    (
        "admin@test.com",
        "Admin@1234",
        "Test Admin",
        "9876543211",
        true,
    ),
];

/// What a seed run inserted.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct SeedReport {
    pub plans: usize,
    pub services: usize,
    pub users: usize,
}

/// Inserts what is missing, in one transaction with one activity-log row.
pub async fn run(db: &DatabaseConnection, with_test_users: bool) -> Result<SeedReport, AppError> {
    let users = if with_test_users {
        missing_test_users(db).await?
    } else {
        Vec::new()
    };
    let writer = Writer::begin(db, &Actor::system()).await?;
    let mut report = SeedReport::default();
    for p in PLANS {
        if plans::Entity::find()
            .filter(plans::Column::Name.eq(p.name))
            .count(writer.tx())
            .await?
            > 0
        {
            continue;
        }
        plans::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(p.name.into()),
            description: Set(Some(p.description.into())),
            price: Set(p.price),
            features: Set(json!(p.features)),
            blog_included: Set(p.blog_included),
            max_projects: Set(p.max_projects),
            support_level: Set(p.support_level.into()),
            is_active: Set(true),
            ..Default::default()
        }
        .insert(writer.tx())
        .await?;
        report.plans += 1;
    }
    for (name, description, price) in SERVICES {
        if services::Entity::find()
            .filter(services::Column::Name.eq(*name))
            .count(writer.tx())
            .await?
            > 0
        {
            continue;
        }
        services::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set((*name).into()),
            description: Set(Some((*description).into())),
            price: Set(*price),
            is_active: Set(true),
            ..Default::default()
        }
        .insert(writer.tx())
        .await?;
        report.services += 1;
    }
    for user in users {
        user.insert(writer.tx()).await?;
        report.users += 1;
    }
    if report != SeedReport::default() {
        writer
            .commit(Event::action("seed.run").details(json!(report)))
            .await?;
    }
    Ok(report)
}

/// Test accounts not yet in the database (live or deleted), with hashed passwords.
async fn missing_test_users(db: &DatabaseConnection) -> Result<Vec<users::ActiveModel>, AppError> {
    let mut missing = Vec::new();
    for (email, pass, name, phone, is_admin) in TEST_USERS {
        if users::Entity::find()
            .filter(users::Column::Email.eq(*email))
            .count(db)
            .await?
            > 0
        {
            continue;
        }
        missing.push(users::ActiveModel::from(users::NewAccount {
            id: Uuid::now_v7(),
            email: (*email).into(),
            name: (*name).into(),
            password_hash: password::hash((*pass).into()).await?,
            phone: Some((*phone).into()),
            is_admin: *is_admin,
            signup_step: "completed",
        }));
    }
    Ok(missing)
}
