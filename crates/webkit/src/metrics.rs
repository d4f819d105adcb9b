//! Prometheus metrics: requests and latency per matched route, pool occupancy, statement
//! latency, the slow-statement count, Argon2 runs, and the app's own counters. One
//! registry per application, so the many apps of a test run never mix their figures.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use dbkit::connect::{QueryEvent, QueryObserver};
use dbkit::replicas::Replicas;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseConnection, Statement};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

tokio::task_local! {
    /// Statements run by the request being served (the task that serves it): background
    /// work — the log sealer, jobs, health probes — runs in other tasks and is not counted.
    static REQUEST_STATEMENTS: Cell<u64>;
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaLabels {
    /// A replica's `host:port/database`, or `primary` for reads no replica could take.
    replica: String,
}

/// Every metric the service exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    route_statements: Family<RouteLabels, Counter>,
    statements: Counter,
    failed_statements: Counter,
    slow_statements: Counter,
    statement_latency: Histogram,
    pool: Family<PoolLabels, Gauge>,
    replica_up: Family<ReplicaLabels, Gauge>,
    replica_lag: Family<ReplicaLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    replica_reads: Family<ReplicaLabels, Counter>,
    replica_sync: Mutex<()>,
    password_checks: Counter,
    /// The app's own counters, by name.
    counters: HashMap<&'static str, Counter>,
    /// Whether statements are being captured: checked before touching the lock, so the
    /// hot path never takes it.
    capturing: AtomicBool,
    /// Statements recorded while capturing is on (tests read query plans from them).
    captured: Mutex<Option<Vec<Statement>>>,
}

/// Latency buckets from 0.25 ms to about 8 s.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// One of an app's own counters: its name (`<app>_<name>_total` once exported) and help.
pub type CounterSpec = (&'static str, &'static str);

impl Metrics {
    /// The metrics of the configured app (its name prefixes each), with `counters` of its
    /// own for [`Metrics::count`].
    pub fn new(counters: &[CounterSpec]) -> Arc<Self> {
        let mut registry = Registry::with_prefix(crate::settings().app);
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_buckets as fn() -> Histogram,
        );
        let route_statements = Family::<RouteLabels, Counter>::default();
        let statements = Counter::default();
        let failed_statements = Counter::default();
        let slow_statements = Counter::default();
        let statement_latency = latency_buckets();
        let pool = Family::<PoolLabels, Gauge>::default();
        let replica_up = Family::<ReplicaLabels, Gauge>::default();
        let replica_lag = Family::default();
        let replica_reads = Family::<ReplicaLabels, Counter>::default();
        let password_checks = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by matched route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by matched route",
            latency.clone(),
        );
        registry.register(
            "http_request_db_statements",
            "SQL statements run while serving a matched route (per request: divide by its requests)",
            route_statements.clone(),
        );
        registry.register(
            "db_statements",
            "SQL statements executed",
            statements.clone(),
        );
        registry.register(
            "db_statement_errors",
            "SQL statements that failed",
            failed_statements.clone(),
        );
        registry.register(
            "db_slow_statements",
            "SQL statements over SLOW_QUERY_THRESHOLD_MS",
            slow_statements.clone(),
        );
        registry.register(
            "db_statement_duration_seconds",
            "SQL statement latency",
            statement_latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Pool connections by state (open, idle, in_use, max)",
            pool.clone(),
        );
        registry.register(
            "db_replica_up",
            "1 while a read replica serves reads (answers, in recovery, within the allowed lag)",
            replica_up.clone(),
        );
        registry.register(
            "db_replica_lag_seconds",
            "How far a read replica is behind the primary (-1: unknown)",
            replica_lag.clone(),
        );
        registry.register(
            "db_replica_reads",
            "Reads per replica; `primary`: reads no replica could take while replicas are configured",
            replica_reads.clone(),
        );
        registry.register(
            "password_checks",
            "Argon2 password verifications (one per login attempt or password change)",
            password_checks.clone(),
        );
        let counters = counters
            .iter()
            .map(|&(name, help)| {
                let counter = Counter::default();
                registry.register(name, help, counter.clone());
                (name, counter)
            })
            .collect();
        Arc::new(Self {
            registry,
            requests,
            latency,
            route_statements,
            statements,
            failed_statements,
            slow_statements,
            statement_latency,
            pool,
            replica_up,
            replica_lag,
            replica_reads,
            replica_sync: Mutex::new(()),
            password_checks,
            counters,
            capturing: AtomicBool::new(false),
            captured: Mutex::new(None),
        })
    }

    /// What the database layer calls after every statement.
    pub fn observer(self: &Arc<Self>) -> QueryObserver {
        let metrics = Arc::clone(self);
        Arc::new(move |event: &QueryEvent<'_>| {
            metrics.statements.inc();
            // Outside a request (no task-local) there is nothing to add to.
            let _ = REQUEST_STATEMENTS.try_with(|n| n.set(n.get() + 1));
            metrics
                .statement_latency
                .observe(event.elapsed.as_secs_f64());
            if event.failed {
                metrics.failed_statements.inc();
            }
            if event.slow {
                metrics.slow_statements.inc();
            }
            if metrics.capturing.load(Ordering::Relaxed)
                && let Ok(mut captured) = metrics.captured.lock()
                && let Some(statements) = captured.as_mut()
            {
                statements.push(event.statement.clone());
            }
        })
    }

    /// Starts keeping every statement (with its values) in memory, until [`Metrics::take_captured`].
    pub fn capture(&self) {
        if let Ok(mut captured) = self.captured.lock() {
            *captured = Some(Vec::new());
        }
        self.capturing.store(true, Ordering::Relaxed);
    }

    /// The statements kept since [`Metrics::capture`]; stops keeping them.
    pub fn take_captured(&self) -> Vec<Statement> {
        self.capturing.store(false, Ordering::Relaxed);
        self.captured
            .lock()
            .ok()
            .and_then(|mut c| c.take())
            .unwrap_or_default()
    }

    /// Counts one Argon2 verification.
    pub fn password_verified(&self) {
        self.password_checks.inc();
    }

    /// Counts one on the app's counter `name` (one given to [`Metrics::new`]).
    pub fn count(&self, name: &str) {
        if let Some(counter) = self.counters.get(name) {
            counter.inc();
        }
    }

    /// Statements executed so far.
    pub fn statements(&self) -> u64 {
        self.statements.get()
    }

    /// Statements run so far while serving `method` `route` (a template, `/api/projects/{id}`).
    pub fn route_statements(&self, method: &str, route: &str) -> u64 {
        let labels = RouteLabels {
            method: method.to_owned(),
            route: route.to_owned(),
        };
        self.route_statements.get(&labels).map_or(0, |c| c.get())
    }

    /// The Prometheus text exposition, with the pool and the replicas read now.
    pub fn render(&self, db: &DatabaseConnection, replicas: &Replicas) -> String {
        self.read_replicas(replicas);
        if let Some(stats) = dbkit::connect::pool_stats(db) {
            for (state, value) in [
                ("open", stats.size),
                ("idle", stats.idle),
                ("in_use", stats.in_use),
                ("max", stats.max),
            ] {
                self.pool
                    .get_or_create(&PoolLabels { state })
                    .set(i64::from(value));
            }
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl Metrics {
    fn read_replicas(&self, replicas: &Replicas) {
        if !replicas.any() {
            return;
        }
        let mut reads = vec![("primary".to_owned(), replicas.primary_reads())];
        for replica in replicas.states() {
            let labels = ReplicaLabels {
                replica: replica.name.clone(),
            };
            let up = i64::from(replica.state == "streaming");
            self.replica_up.get_or_create(&labels).set(up);
            let lag = replica.lag_ms.map_or(-1.0, |ms| ms as f64 / 1000.0);
            self.replica_lag.get_or_create(&labels).set(lag);
            reads.push((replica.name, replica.reads));
        }
        // The replicas count their reads themselves: bring the counters up to them, one
        // render at a time (two at once would both add the same difference).
        let _one = self.replica_sync.lock();
        for (replica, total) in reads {
            let counter = self.replica_reads.get_or_create(&ReplicaLabels { replica });
            counter.inc_by(total.saturating_sub(counter.get()));
        }
    }
}

/// Counts and times every request that matched a route, labelled by its template
/// (`/api/projects/{id}`), never by the concrete path.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let (response, statements) = REQUEST_STATEMENTS
        .scope(Cell::new(0), async {
            let response = next.run(request).await;
            (response, REQUEST_STATEMENTS.with(Cell::get))
        })
        .await;
    let labels = RouteLabels { method, route };
    metrics
        .route_statements
        .get_or_create(&labels)
        .inc_by(statements);
    metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    let status = response.status().as_u16();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: labels.method,
            route: labels.route,
            status,
        })
        .inc();
    response
}
