//! What each named constraint means to a client. The migrations name the constraints;
//! a test checks that every unique index and check in the live schema is listed here.

use dbkit::error::ConstraintRule;

const fn rule(
    name: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
    field: &'static str,
    message: &'static str,
) -> ConstraintRule {
    ConstraintRule {
        name,
        table,
        columns,
        field,
        message,
    }
}

/// Every named unique index and CHECK of the schema, explained.
pub const CONSTRAINTS: &[ConstraintRule] = &[
    rule(
        "ux_users_email_live",
        "users",
        &[],
        "email",
        "an account with this email already exists",
    ),
    rule(
        "ck_users_email_length",
        "users",
        &[],
        "email",
        "email must be at least 5 characters",
    ),
    rule(
        "ck_users_name_length",
        "users",
        &[],
        "name",
        "name must be at least 2 characters",
    ),
    rule(
        "ck_users_signup_step",
        "users",
        &[],
        "signup_step",
        "signup_step is not a known step",
    ),
    rule(
        "ux_plans_name_live",
        "plans",
        &["name"],
        "name",
        "a plan with this name already exists",
    ),
    rule(
        "ck_plans_price",
        "plans",
        &[],
        "price",
        "price must not be negative",
    ),
    rule(
        "ck_plans_max_projects",
        "plans",
        &[],
        "max_projects",
        "max_projects must be at least 1",
    ),
    rule(
        "ck_plans_support_level",
        "plans",
        &[],
        "support_level",
        "support_level must be Basic, Standard or Premium",
    ),
    rule(
        "ck_plans_name_length",
        "plans",
        &[],
        "name",
        "name must be at least 2 characters",
    ),
    rule(
        "ux_services_name_live",
        "services",
        &["name"],
        "name",
        "a service with this name already exists",
    ),
    rule(
        "ck_services_price",
        "services",
        &[],
        "price",
        "price must not be negative",
    ),
    rule(
        "ck_services_name_length",
        "services",
        &[],
        "name",
        "name must be at least 2 characters",
    ),
    rule(
        "ux_refresh_tokens_hash",
        "refresh_tokens",
        &["token_hash"],
        "refresh_token",
        "refresh token collision",
    ),
    rule(
        "ck_activity_logs_status",
        "activity_logs",
        &[],
        "status",
        "status must be success, failed or error",
    ),
    rule(
        "ck_jobs_status",
        "jobs",
        &[],
        "status",
        "status is not a known job status",
    ),
    rule(
        "ck_jobs_attempts",
        "jobs",
        &[],
        "attempts",
        "attempts must not be negative",
    ),
    rule(
        "ck_jobs_max_attempts",
        "jobs",
        &[],
        "max_attempts",
        "max_attempts must be at least 1",
    ),
];
