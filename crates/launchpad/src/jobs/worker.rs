//! Workers: loops that claim due jobs, run them and record the outcome, and one
//! maintenance loop per process that takes back the jobs of workers that died and queues
//! the periodic jobs. Many processes can run them on one database.

use std::time::Duration;

use dbkit::jobs::{self, Backoff, Failed, Job, Rescued};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::{Context, KINDS};
use crate::config::Settings;

/// `JOB_CONCURRENCY`, `JOB_POLL_INTERVAL_MS`, `JOB_LOCK_TIMEOUT`.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub concurrency: u32,
    pub poll_interval: Duration,
    pub lock_timeout: Duration,
}

impl Timing {
    /// How workers poll and when they take back a silent worker's job.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            concurrency: settings.job_concurrency,
            poll_interval: Duration::from_millis(settings.job_poll_interval_ms),
            lock_timeout: Duration::from_secs(settings.job_lock_timeout),
        }
    }
}

/// Waits between attempts of a failed job: 10 s, 20 s, 40 s, … at most an hour.
pub const BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(10),
    cap: Duration::from_secs(3600),
};

/// Running workers of this process.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Workers {
    /// Starts `timing.concurrency` job loops and the maintenance loop.
    pub fn start(ctx: Context, timing: Timing) -> Self {
        let (stop, stopped) = watch::channel(false);
        let name = process_name();
        let mut tasks = JoinSet::new();
        for n in 0..timing.concurrency {
            let worker = format!("{name}-{n}");
            tasks.spawn(work(
                ctx.clone(),
                worker,
                timing.poll_interval,
                stopped.clone(),
            ));
        }
        tasks.spawn(maintain(ctx.db.clone(), timing, stopped));
        tracing::info!(worker = %name, concurrency = timing.concurrency, "job workers started");
        Self { stop, tasks }
    }

    /// Stops every loop and waits for them: a loop running a job finishes it first.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        tracing::info!("job workers stopped");
    }
}

/// `pid<pid>-<random>`: unique per process, and tells an operator which process held a lock.
fn process_name() -> String {
    let random = Uuid::now_v7().simple().to_string();
    format!("pid{}-{}", std::process::id(), &random[24..])
}

/// Waits for `period`; `false` once asked to stop.
async fn idle(period: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    match tokio::time::timeout(period, stop.changed()).await {
        Err(_elapsed) => !*stop.borrow(),
        // A stop was sent, or every sender is gone: stop either way.
        Ok(_) => false,
    }
}

async fn work(ctx: Context, worker: String, poll: Duration, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        match next(&ctx, &worker, KINDS).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(%worker, error = %e, "cannot reach the job queue"),
        }
        if !idle(poll, &mut stop).await {
            break;
        }
    }
}

/// Claims one due job of `kinds` and runs it; `false` when none was due.
pub async fn next(ctx: &Context, worker: &str, kinds: &[&str]) -> Result<bool, DbErr> {
    let Some(job) = jobs::claim(&ctx.db, worker, kinds, 1).await?.pop() else {
        return Ok(false);
    };
    // A task of its own, so that a panicking handler fails its job instead of the worker.
    let handler = {
        let (ctx, job) = (ctx.clone(), job.clone());
        tokio::spawn(async move { super::run(&ctx, &job).await })
    };
    let outcome = handler
        .await
        .unwrap_or_else(|_| Err("the handler panicked".to_owned()));
    record(&ctx.db, &job, outcome).await?;
    Ok(true)
}

/// Completes the attempt, or fails it (retry after the backoff, or dead).
async fn record(
    db: &DatabaseConnection,
    job: &Job,
    outcome: Result<(), String>,
) -> Result<(), DbErr> {
    let (id, kind, attempts) = (job.id, &job.kind, job.attempts);
    let error = match outcome {
        Ok(()) => {
            if !jobs::complete(db, job).await? {
                tracing::warn!(job = %id, %kind, "job finished after its lock expired");
            }
            return Ok(());
        }
        Err(error) => error,
    };
    match jobs::fail(db, job, &error, &BACKOFF).await? {
        Failed::Retry(at) => {
            tracing::warn!(job = %id, %kind, attempts, %error, retry_at = %at, "job failed")
        }
        Failed::Dead => {
            tracing::error!(job = %id, %kind, attempts, %error, "job failed its last attempt")
        }
        Failed::Superseded => {
            tracing::warn!(job = %id, %kind, %error, "job failed after its lock expired")
        }
    }
    Ok(())
}

/// Runs due jobs of `kinds` until none is left; how many ran. Failed ones wait for
/// their retry (a worker's business).
pub async fn drain(ctx: &Context, kinds: &[&str]) -> Result<u64, DbErr> {
    let worker = process_name();
    let mut ran = 0;
    while next(ctx, &worker, kinds).await? {
        ran += 1;
    }
    Ok(ran)
}

/// Rescues stale jobs and queues the periodic ones. Stale locks are found no sooner than
/// the lock timeout, so looking every half timeout is often enough.
async fn maintain(db: DatabaseConnection, timing: Timing, mut stop: watch::Receiver<bool>) {
    let period = (timing.lock_timeout / 2).max(timing.poll_interval);
    loop {
        if let Err(e) = maintenance_round(&db, timing.lock_timeout).await {
            tracing::warn!(error = %e, "job maintenance failed");
        }
        if !idle(period, &mut stop).await {
            break;
        }
    }
}

async fn maintenance_round(db: &DatabaseConnection, lock_timeout: Duration) -> Result<(), DbErr> {
    let rescued = jobs::rescue(db, lock_timeout).await?;
    if rescued != Rescued::default() {
        tracing::warn!(
            retried = rescued.retried,
            dead = rescued.dead,
            "took back the jobs of workers that stopped"
        );
    }
    for job in super::periodic(dbkit::time::now()) {
        jobs::enqueue(db, job).await?;
    }
    Ok(())
}
