//! `attempt_budgets`: the kit's shared budgets of sign-in and register attempts
//! ([`dbkit::migrations::AttemptBudgets`]), so that every node behind a load balancer
//! brakes on the same counts.

use dbkit::migrations::AttemptBudgets;

pub const MIGRATION: AttemptBudgets =
    AttemptBudgets::named("m20261204_000017_create_attempt_budgets");
