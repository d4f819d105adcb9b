//! `launchpad seed --demo`: realistic volume for benchmarks and demos.
//!
//! Every demo row has a deterministic id (a UUIDv8 whose bytes are `demo`, a kind tag
//! and the row's index), so a run first counts the demo users and projects already
//! there and generates only the missing indices: running twice with the same sizes adds
//! nothing, a larger size tops up. Children (synopses, meetings, chat messages, ideas,
//! activity rows) are generated together with the project or user they belong to, in
//! the same transaction, so the ratios hold after any sequence of runs; inserts also
//! say `ON CONFLICT (id) DO NOTHING` (log rows are filtered, then chained), so a
//! half-finished earlier run is harmless.
//!
//! Rows go through the same schema as the API's (checks, FKs, unique indexes): they
//! use only legal statuses and point at rows that exist.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dbkit::audit::Event;
use dbkit::chain;
use dbkit::fold::{Folded, Form};
use dbkit::{Actor, Writer};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::sea_query::{Alias, Expr, Func, OnConflict, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IdenStatic, QueryFilter,
    TransactionTrait, Value,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::entity::{self, plans};
use webkit::auth::password;

/// Sizes of a demo data set. Everything but users and projects follows from these.
#[derive(Debug, Clone, Copy)]
pub struct DemoSizes {
    pub users: u64,
    pub projects: u64,
}

/// The shared password of every demo account.
pub const DEMO_PASSWORD: &str = "Demo@1234";

/// The email of demo user `n`: `demo0` is an admin, `demo1` the benchmark student, the
/// rest ordinary students.
pub fn demo_email(n: u64) -> String {
    format!("demo{n}@demo.launchpad")
}

/// What a run inserted, per table.
#[derive(Debug, Default, Serialize, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub users: u64,
    pub orders: u64,
    pub projects: u64,
    pub synopsis: u64,
    pub meetings: u64,
    pub chatbot_messages: u64,
    pub ideas: u64,
    pub activity_logs: u64,
}

impl DemoReport {
    fn add(&mut self, other: DemoReport) {
        self.users += other.users;
        self.orders += other.orders;
        self.projects += other.projects;
        self.synopsis += other.synopsis;
        self.meetings += other.meetings;
        self.chatbot_messages += other.chatbot_messages;
        self.ideas += other.ideas;
        self.activity_logs += other.activity_logs;
    }

    fn is_empty(&self) -> bool {
        *self == DemoReport::default()
    }
}

// Kind tags in the deterministic ids.
const K_USER: u8 = 1;
const K_ORDER: u8 = 2;
const K_PROJECT: u8 = 3;
const K_SYNOPSIS: u8 = 4;
const K_MEETING: u8 = 5;
const K_CHAT: u8 = 6;
const K_CHAT_SESSION: u8 = 7;
const K_IDEA: u8 = 8;
const K_LOG: u8 = 9;

/// Largest index an id can carry (48 bits).
const MAX_INDEX: u64 = (1 << 48) - 1;

/// The id (a UUIDv8: version and variant bits are set) of the `index`-th demo row of `kind` (`sub` tells apart several rows of one
/// kind generated for the same parent).
fn demo_id(kind: u8, sub: u8, index: u64) -> Uuid {
    let i = index.to_be_bytes();
    Uuid::from_bytes([
        b'd', b'e', b'm', b'o', kind, sub, 0x80, 0, 0x80, 0, i[2], i[3], i[4], i[5], i[6], i[7],
    ])
}

/// Bind parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const PARAM_BUDGET: usize = 16_000;

/// Projects (with their children) per transaction.
const PROJECT_CHUNK: u64 = 2_000;
/// Users (with their orders and log rows) per transaction.
const USER_CHUNK: u64 = 2_000;

/// Every `PROJECT_OWNER_EVERY`-th project belongs to the benchmark student `demo1` and
/// is `in_progress`: with N projects `demo1` has ceil(N / 100) of them.
pub const BENCH_STUDENT_EVERY: u64 = 100;

/// Deterministic pseudo-random numbers (SplitMix64) from a row's kind and index, so a
/// top-up generates the same rows a single bigger run would have.
fn rnd(kind: u8, index: u64, salt: u64) -> u64 {
    let mut z = index
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(u64::from(kind) << 56)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(items: &[&'a str], r: u64) -> &'a str {
    items[(r % items.len() as u64) as usize]
}

/// Picks from `(value, weight)` pairs.
fn weighted<'a>(items: &[(&'a str, u64)], r: u64) -> &'a str {
    let total: u64 = items.iter().map(|(_, w)| w).sum();
    let mut x = r % total;
    for (v, w) in items {
        if x < *w {
            return v;
        }
        x -= w;
    }
    items[0].0
}

/// A moment in the past year, microsecond precision, before `now`.
fn past_year(now: DateTime<Utc>, r: u64) -> DateTime<Utc> {
    const YEAR_US: u64 = 365 * 24 * 3600 * 1_000_000;
    now - chrono::Duration::microseconds(((r % YEAR_US) + 1_000_000) as i64)
}

/// A moment between `from` and `now`.
fn between(from: DateTime<Utc>, now: DateTime<Utc>, r: u64) -> DateTime<Utc> {
    let span = (now - from).num_microseconds().unwrap_or(0).max(1) as u64;
    from + chrono::Duration::microseconds((r % span) as i64)
}

const FIRST: &[&str] = &[
    "Aarav", "Vivaan", "Aditya", "Ananya", "Diya", "Ishaan", "Kavya", "Meera", "Rohan", "Saanvi",
    "Arjun", "Priya", "Neha", "Rahul", "Sneha", "Karan", "Pooja", "Vikram", "Aisha", "Dev",
];
const LAST: &[&str] = &[
    "Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Khan", "Singh", "Das", "Mehta", "Joshi",
    "Kulkarni", "Banerjee", "Menon", "Rao",
];
const TOPICS: &[&str] = &[
    "Smart Attendance System",
    "Crop Disease Detection",
    "Hospital Management Portal",
    "Campus Event Planner",
    "Traffic Sign Recognition",
    "Online Voting Platform",
    "Library Automation",
    "Fake News Detector",
    "Expense Tracker",
    "Blood Bank Network",
    "Parking Slot Finder",
    "Resume Screening Assistant",
];
const TECHNIQUES: &[&str] = &[
    "using Face Recognition",
    "with Deep Learning",
    "on the Blockchain",
    "for Rural Clinics",
    "with IoT Sensors",
    "using React and Django",
    "as a Mobile App",
    "with Real-time Analytics",
];
const CATEGORIES: &[&str] = &[
    "Web Development",
    "Machine Learning",
    "IoT",
    "Mobile App",
    "Blockchain",
    "Data Science",
    "Cybersecurity",
];
const STACKS: &[&[&str]] = &[
    &["Python", "Django", "PostgreSQL"],
    &["React", "Node.js", "MongoDB"],
    &["Flutter", "Firebase"],
    &["Python", "TensorFlow", "OpenCV"],
    &["Java", "Spring Boot", "MySQL"],
    &["Arduino", "C++", "MQTT"],
    &["Solidity", "Ethereum", "React"],
    &["Rust", "Axum", "SQLite"],
];
/// Statuses of projects other than the benchmark student's, with their weights.
const PROJECT_STATUSES: &[(&str, u64)] = &[
    ("idea_pending", 20),
    ("synopsis_pending", 20),
    ("in_progress", 35),
    ("completed", 20),
    ("cancelled", 5),
];
const SIGNUP_STEPS: &[(&str, u64)] = &[
    ("completed", 70),
    ("basic_info", 10),
    ("plan_selection", 8),
    ("synopsis", 7),
    ("idea_generation", 5),
];
const ORDER_STATUSES: &[(&str, u64)] = &[
    ("pending", 15),
    ("paid", 40),
    ("completed", 35),
    ("cancelled", 10),
];
const SYNOPSIS_STATUSES: &[(&str, u64)] = &[("Pending", 40), ("Approved", 45), ("Rejected", 15)];
const MEETING_STATUSES: &[(&str, u64)] = &[
    ("requested", 30),
    ("scheduled", 30),
    ("completed", 30),
    ("cancelled", 10),
];
const INTENTS: &[&str] = &[
    "project_idea",
    "synopsis_help",
    "tech_stack",
    "deadline",
    "pricing",
];
const COMPLEXITIES: &[&str] = &["beginner", "intermediate", "advanced"];

/// The owner (demo user index) of project `i` when there are `users` demo users.
fn project_owner(i: u64, users: u64) -> u64 {
    if i.is_multiple_of(BENCH_STUDENT_EVERY) || users <= 2 {
        1
    } else {
        2 + rnd(K_PROJECT, i, 1) % (users - 2)
    }
}

/// Rows for one table, inserted in statements that stay under the parameter limits, with
/// the twins of their free-text columns (`dbkit::fold`) as the entity names them.
struct Rows {
    table: &'static str,
    columns: Vec<&'static str>,
    /// (index of the source column, form) of each twin, the twins last in `columns`.
    twins: Vec<(usize, Form)>,
    rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Rows of `E`'s table, given as `columns`.
    fn new<E: Folded>(columns: &'static [&'static str]) -> Self {
        let mut all = columns.to_vec();
        let mut twins = Vec::new();
        for twin in E::twins() {
            if let Some(source) = columns.iter().position(|c| *c == twin.source.as_str()) {
                all.push(twin.column.as_str());
                twins.push((source, twin.form));
            }
        }
        Self {
            table: E::default().table_name(),
            columns: all,
            twins,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, mut row: Vec<Value>) {
        debug_assert_eq!(row.len() + self.twins.len(), self.columns.len());
        for (source, form) in &self.twins {
            let twin = form.of_value(&row[*source]);
            row.push(twin);
        }
        self.rows.push(row);
    }

    /// Multi-row `INSERT … ON CONFLICT (id) DO NOTHING`; returns the rows inserted.
    async fn insert(self, conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
        let per_statement = (PARAM_BUDGET / self.columns.len()).max(1);
        let mut inserted = 0;
        let mut rows = self.rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut stmt = Query::insert();
            stmt.into_table(Alias::new(self.table))
                .columns(self.columns.iter().map(|c| Alias::new(*c)))
                .on_conflict(OnConflict::column(Alias::new("id")).do_nothing().to_owned());
            for row in rows.by_ref().take(per_statement) {
                stmt.values_panic(row.into_iter().map(Expr::val));
            }
            inserted += conn.execute(&stmt).await?.rows_affected();
        }
        Ok(inserted)
    }
}

const USER_COLUMNS: &[&str] = &[
    "id",
    "email",
    "name",
    "password_hash",
    "phone",
    "is_admin",
    "is_active",
    "signup_step",
    "last_login_at",
    "created_at",
    "updated_at",
];
const ORDER_COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "plan_id",
    "amount",
    "currency",
    "status",
    "payment_reference",
    "created_at",
    "updated_at",
];
const PROJECT_COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "title",
    "description",
    "category",
    "tech_stack",
    "status",
    "synopsis_submitted",
    "created_at",
    "updated_at",
];
const SYNOPSIS_COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "project_id",
    "title",
    "status",
    "reviewer_id",
    "review_comment",
    "reviewed_at",
    "created_at",
    "updated_at",
];
const MEETING_COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "project_id",
    "admin_id",
    "topic",
    "preferred_time",
    "scheduled_at",
    "meeting_link",
    "status",
    "created_at",
    "updated_at",
];
const CHAT_COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "session_id",
    "project_id",
    "message_type",
    "message",
    "intent",
    "response_time_ms",
    "created_at",
    "updated_at",
];
const IDEA_COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "project_id",
    "title",
    "description",
    "category",
    "tech_stack",
    "complexity",
    "user_selected",
    "rating",
    "created_at",
    "updated_at",
];
fn s(v: &str) -> Value {
    v.to_owned().into()
}

fn log_row(
    index: u64,
    sub: u8,
    user: Uuid,
    action: &str,
    entity: (&str, Uuid),
    at: DateTime<Utc>,
) -> chain::Row {
    let r = rnd(K_LOG, index, u64::from(sub));
    let mut row = chain::Row::new(
        demo_id(K_LOG, sub, index),
        action,
        Some(user),
        json!({"demo": true}),
        at,
    );
    row.entity_type = Some(entity.0.to_owned());
    row.entity_id = Some(entity.1);
    row.ip_address = Some(format!(
        "10.{}.{}.{}",
        r % 256,
        (r >> 8) % 256,
        (r >> 16) % 256
    ));
    row.user_agent = Some("Mozilla/5.0 (demo)".to_owned());
    row.duration_ms = Some((5 + r % 120) as i64);
    row
}

/// Chains and inserts the log rows not already there (the other tables say `ON CONFLICT
/// DO NOTHING`; a chain cannot skip a row it has numbered, so these are filtered first).
async fn insert_logs(conn: &impl ConnectionTrait, mut rows: Vec<chain::Row>) -> Result<u64, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let present = Query::select()
        .from(chain::table())
        .column(Alias::new("id"))
        .and_where(Expr::col(Alias::new("id")).is_in(ids))
        .to_owned();
    let present = conn
        .query_all(&present)
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect::<Result<std::collections::HashSet<_>, _>>()?;
    rows.retain(|r| !present.contains(&r.id));
    chain::append_chained(conn, rows).await
}

/// A chunk's transaction. On PostgreSQL its commit does not wait for the WAL flush:
/// demo data lost in a crash is simply generated again by the next run.
async fn begin(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    let tx = db.begin().await?;
    if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
        tx.execute_unprepared("SET LOCAL synchronous_commit = off")
            .await?;
    }
    Ok(tx)
}

/// Users `from..to` with their order and registration log row, in one transaction.
async fn insert_users(
    db: &DatabaseConnection,
    range: std::ops::Range<u64>,
    hash: &str,
    plans: &[(Uuid, i64)],
    now: DateTime<Utc>,
) -> Result<DemoReport, DbErr> {
    let mut users = Rows::new::<entity::users::Entity>(USER_COLUMNS);
    let mut orders = Rows::new::<entity::orders::Entity>(ORDER_COLUMNS);
    let mut logs = Vec::new();
    for n in range {
        let id = demo_id(K_USER, 0, n);
        let r = rnd(K_USER, n, 0);
        let created = past_year(now, r);
        let last_login = (!r.is_multiple_of(10)).then(|| between(created, now, r >> 7));
        users.push(vec![
            id.into(),
            demo_email(n).into(),
            format!("{} {}", pick(FIRST, r >> 3), pick(LAST, r >> 11)).into(),
            s(hash),
            Some(format!("9{:09}", n % 1_000_000_000)).into(),
            (n == 0).into(),
            true.into(),
            weighted(SIGNUP_STEPS, r >> 17).into(),
            last_login.into(),
            created.into(),
            last_login.unwrap_or(created).into(),
        ]);
        logs.push(log_row(n, 1, id, "user.register", ("user", id), created));
        // Every student has placed one order.
        if n > 0 && !plans.is_empty() {
            let (plan, price) = plans[(rnd(K_ORDER, n, 0) % plans.len() as u64) as usize];
            let status = weighted(ORDER_STATUSES, rnd(K_ORDER, n, 1));
            let order_id = demo_id(K_ORDER, 0, n);
            let reference =
                matches!(status, "paid" | "completed").then(|| format!("DEMO-PAY-{n:08}"));
            let at = between(created, now, rnd(K_ORDER, n, 2));
            orders.push(vec![
                order_id.into(),
                id.into(),
                plan.into(),
                price.into(),
                s("INR"),
                s(status),
                reference.into(),
                at.into(),
                at.into(),
            ]);
        }
    }
    let tx = begin(db).await?;
    let report = DemoReport {
        users: users.insert(&tx).await?,
        orders: orders.insert(&tx).await?,
        activity_logs: insert_logs(&tx, logs).await?,
        ..Default::default()
    };
    tx.commit().await?;
    Ok(report)
}

/// Projects `from..to` with their synopses, meetings, chat messages, ideas and log
/// rows, in one transaction.
async fn insert_projects(
    db: &DatabaseConnection,
    range: std::ops::Range<u64>,
    users: u64,
    now: DateTime<Utc>,
) -> Result<DemoReport, DbErr> {
    let mut projects = Rows::new::<entity::projects::Entity>(PROJECT_COLUMNS);
    let mut synopses = Rows::new::<entity::synopsis::Entity>(SYNOPSIS_COLUMNS);
    let mut meetings = Rows::new::<entity::meetings::Entity>(MEETING_COLUMNS);
    let mut chats = Rows::new::<entity::chatbot_history::Entity>(CHAT_COLUMNS);
    let mut ideas = Rows::new::<entity::ideas::Entity>(IDEA_COLUMNS);
    let mut logs = Vec::new();
    let admin = demo_id(K_USER, 0, 0);
    for i in range {
        let id = demo_id(K_PROJECT, 0, i);
        let owner = demo_id(K_USER, 0, project_owner(i, users));
        let r = rnd(K_PROJECT, i, 0);
        let status = if i % BENCH_STUDENT_EVERY == 0 {
            "in_progress"
        } else {
            weighted(PROJECT_STATUSES, r >> 5)
        };
        let created = past_year(now, r);
        let updated = between(created, now, r >> 9);
        let title = format!("{} {}", pick(TOPICS, r >> 13), pick(TECHNIQUES, r >> 21));
        let category = pick(CATEGORIES, r >> 29);
        let stack = STACKS[((r >> 33) % STACKS.len() as u64) as usize];
        projects.push(vec![
            id.into(),
            owner.into(),
            title.clone().into(),
            Some(format!(
                "A final-year project: {title}. Demo data #{i}.\nGenerated by launchpad seed --demo."
            ))
            .into(),
            Some(category.to_owned()).into(),
            json!(stack).into(),
            s(status),
            matches!(status, "synopsis_pending" | "in_progress" | "completed").into(),
            created.into(),
            updated.into(),
        ]);
        logs.push(log_row(
            i,
            2,
            owner,
            "project.create",
            ("project", id),
            created,
        ));

        // A quarter of the projects have a synopsis.
        if i % 4 == 1 {
            let rs = rnd(K_SYNOPSIS, i, 0);
            let st = weighted(SYNOPSIS_STATUSES, rs);
            let at = between(created, now, rs >> 8);
            let reviewed = (st != "Pending").then(|| between(at, now, rs >> 16));
            synopses.push(vec![
                demo_id(K_SYNOPSIS, 0, i).into(),
                owner.into(),
                id.into(),
                format!("Synopsis: {title}").into(),
                s(st),
                reviewed.map(|_| admin).into(),
                reviewed.map(|_| "Reviewed (demo data).".to_owned()).into(),
                reviewed.into(),
                at.into(),
                reviewed.unwrap_or(at).into(),
            ]);
        }
        // A tenth have a meeting.
        if i % 10 == 3 {
            let rm = rnd(K_MEETING, i, 0);
            let st = weighted(MEETING_STATUSES, rm);
            let at = between(created, now, rm >> 8);
            let preferred = at + chrono::Duration::hours(24 + (rm >> 20) as i64 % 240);
            let scheduled = matches!(st, "scheduled" | "completed").then_some(preferred);
            meetings.push(vec![
                demo_id(K_MEETING, 0, i).into(),
                owner.into(),
                Some(id).into(),
                scheduled.map(|_| admin).into(),
                format!("Review of {title}").into(),
                Some(preferred).into(),
                scheduled.into(),
                scheduled
                    .map(|_| format!("https://meet.example.com/demo-{i}"))
                    .into(),
                s(st),
                at.into(),
                at.into(),
            ]);
        }
        // Half have a two-message chatbot exchange.
        if i % 4 == 2 || i % 4 == 0 {
            let rc = rnd(K_CHAT, i, 0);
            let session = demo_id(K_CHAT_SESSION, 0, i);
            let at = between(created, now, rc);
            let intent = pick(INTENTS, rc >> 11);
            for (sub, kind, text, ms) in [
                (0u8, "user", format!("How should I start on {title}?"), None),
                (
                    1u8,
                    "assistant",
                    format!(
                        "Begin with the requirements, then pick a stack such as {}.",
                        stack.join(", ")
                    ),
                    Some((200 + (rc >> 20) % 1800) as i32),
                ),
            ] {
                let t = at + chrono::Duration::seconds(i64::from(sub) * 2);
                chats.push(vec![
                    demo_id(K_CHAT, sub, i).into(),
                    owner.into(),
                    session.into(),
                    Some(id).into(),
                    s(kind),
                    text.into(),
                    Some(intent.to_owned()).into(),
                    ms.into(),
                    t.into(),
                    t.into(),
                ]);
            }
        }
        // Half have a generated idea.
        if i % 2 == 1 {
            let ri = rnd(K_IDEA, i, 0);
            let at = between(created, now, ri);
            ideas.push(vec![
                demo_id(K_IDEA, 0, i).into(),
                owner.into(),
                Some(id).into(),
                format!("{} {}", pick(TOPICS, ri >> 5), pick(TECHNIQUES, ri >> 13)).into(),
                Some("An idea suggested by the assistant (demo data).".to_owned()).into(),
                Some(pick(CATEGORIES, ri >> 21).to_owned()).into(),
                json!(STACKS[((ri >> 25) % STACKS.len() as u64) as usize]).into(),
                s(pick(COMPLEXITIES, ri >> 29)),
                ri.is_multiple_of(5).into(),
                (!ri.is_multiple_of(3))
                    .then_some((1 + (ri >> 33) % 5) as i32)
                    .into(),
                at.into(),
                at.into(),
            ]);
        }
    }
    let tx = begin(db).await?;
    let report = DemoReport {
        projects: projects.insert(&tx).await?,
        synopsis: synopses.insert(&tx).await?,
        meetings: meetings.insert(&tx).await?,
        chatbot_messages: chats.insert(&tx).await?,
        ideas: ideas.insert(&tx).await?,
        activity_logs: insert_logs(&tx, logs).await?,
        ..Default::default()
    };
    tx.commit().await?;
    Ok(report)
}

/// How many demo rows of `kind` exist in `table` (their ids are contiguous from 0,
/// since chunks commit in index order).
async fn existing(db: &DatabaseConnection, table: &str, kind: u8) -> Result<u64, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let stmt = Query::select()
        .expr(Func::count(Expr::col(Alias::new("id"))))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("id")).gte(demo_id(kind, 0, 0)))
        .and_where(Expr::col(Alias::new("id")).lte(demo_id(kind, 0, MAX_INDEX)))
        .to_owned();
    let row = db.query_one(&stmt).await?;
    Ok(row
        .and_then(|r| r.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0) as u64)
}

fn progress(total: u64, show: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>9} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Leaves a finished bar on its own line: indicatif leaves the cursor at its end, where
/// the next bar would redraw over it and the summary would be glued to it.
fn finish(bar: &ProgressBar) {
    bar.finish();
    if !bar.is_hidden() {
        eprintln!();
    }
}

/// What `seed --demo` did.
pub struct DemoOutcome {
    pub inserted: DemoReport,
    pub elapsed: Duration,
}

/// Inserts the demo rows missing for `sizes`; one `seed.demo` activity row when
/// anything was inserted. The reference seed (plans) must have run.
pub async fn run(
    db: &DatabaseConnection,
    sizes: DemoSizes,
    show_progress: bool,
) -> Result<DemoOutcome, String> {
    let started = Instant::now();
    if sizes.users < 2 {
        return Err(
            "--users must be at least 2 (demo0 is the admin, demo1 the benchmark student)".into(),
        );
    }
    if sizes.users > MAX_INDEX || sizes.projects > MAX_INDEX {
        return Err("demo sizes are limited to 2^48 - 1".into());
    }
    let db_err = |e: DbErr| format!("database: {e}");
    let have_users = existing(db, "users", K_USER).await.map_err(db_err)?;
    let have_projects = existing(db, "projects", K_PROJECT).await.map_err(db_err)?;
    let add_users = sizes.users.saturating_sub(have_users);
    let add_projects = sizes.projects.saturating_sub(have_projects);
    // Projects need their owners: with fewer users than asked for before, they are
    // spread over the users that exist.
    let users_now = sizes.users.max(have_users);
    let now = dbkit::time::now();
    let mut report = DemoReport::default();

    if add_users > 0 {
        // Argon2 is slow by design (tens of milliseconds and ~19 MiB per hash): hashing
        // once per demo user would take minutes, so every demo account shares one hash
        // of DEMO_PASSWORD, computed here once.
        let hash = tokio::task::spawn_blocking(|| password::hash_blocking(DEMO_PASSWORD))
            .await
            .map_err(|e| format!("hashing task: {e}"))?
            .map_err(|e| e.to_string())?;
        let plans: Vec<(Uuid, i64)> = plans::Entity::find()
            .filter(sea_orm::ColumnTrait::is_null(&plans::Column::DeletedAt))
            .all(db)
            .await
            .map_err(db_err)?
            .into_iter()
            .map(|p| (p.id, p.price))
            .collect();
        let bar = progress(add_users, show_progress);
        bar.set_message("users");
        let mut n = have_users;
        while n < sizes.users {
            let end = (n + USER_CHUNK).min(sizes.users);
            report.add(
                insert_users(db, n..end, &hash, &plans, now)
                    .await
                    .map_err(db_err)?,
            );
            bar.inc(end - n);
            n = end;
        }
        finish(&bar);
    }
    if add_projects > 0 {
        let bar = progress(add_projects, show_progress);
        bar.set_message("projects");
        let mut i = have_projects;
        while i < sizes.projects {
            let end = (i + PROJECT_CHUNK).min(sizes.projects);
            report.add(
                insert_projects(db, i..end, users_now, now)
                    .await
                    .map_err(db_err)?,
            );
            bar.inc(end - i);
            i = end;
        }
        finish(&bar);
    }
    if !report.is_empty() {
        // Fresh bulk rows have no planner statistics until autovacuum gets to them;
        // without them PostgreSQL picks poor plans (a 100x slower project list was
        // seen right after seeding). Refresh them now, as after any bulk load.
        let analyze = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "ANALYZE users, orders, projects, synopsis, meetings, chatbot_history, \
                 idea_generation_history, activity_logs"
            }
            _ => "ANALYZE",
        };
        db.execute_unprepared(analyze).await.map_err(db_err)?;
        let elapsed = started.elapsed();
        let details = json!({
            "inserted": report,
            "sizes": {"users": sizes.users, "projects": sizes.projects},
            "elapsed_ms": elapsed.as_millis() as u64,
        });
        Writer::begin(db, &Actor::system())
            .await
            .map_err(db_err)?
            .commit(Event::action("seed.demo").details(details))
            .await
            .map_err(db_err)?;
        // The summary row itself.
        report.activity_logs += 1;
    }
    Ok(DemoOutcome {
        inserted: report,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_ids_are_ordered_by_index_and_kind() {
        assert!(demo_id(K_PROJECT, 0, 1) < demo_id(K_PROJECT, 0, 2));
        assert!(demo_id(K_PROJECT, 0, 255) < demo_id(K_PROJECT, 0, 256));
        assert!(demo_id(K_PROJECT, 0, MAX_INDEX) < demo_id(K_SYNOPSIS, 0, 0));
        assert_eq!(demo_id(K_USER, 0, 7).get_version_num(), 8);
    }

    #[test]
    fn the_benchmark_student_owns_one_project_in_a_hundred() {
        let owned = (0..10_000).filter(|i| project_owner(*i, 50) == 1).count();
        assert_eq!(owned, 100);
        assert!((0..10_000).all(|i| project_owner(i, 50) < 50));
    }
}
