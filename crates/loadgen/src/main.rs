//! `loadgen`: the load generator of Launchpad's benchmark harness (`bench/run.sh`).
//!
//! * `closed`: N connections, each sending its next request as soon as the previous
//!   answer arrives, for D seconds, against one URL (optional bearer token, obtained
//!   by logging in, and JSON body).
//! * `scenario`: V virtual users, each logging in, then doing a mix of list, get,
//!   create, update and login with about one second of think time between requests.
//! * `fetch`: one authenticated GET, printing a value from the JSON answer (the
//!   harness uses it to find a project id).
//!
//! Safety: it refuses every target that is not loopback (127.0.0.0/8, `localhost`,
//! `::1`), never follows redirects, and bounds every run in time (at most 600 s plus
//! a 30 s request timeout) and in requests (`--max-requests`).
//!
//! Results: one JSON object per run appended to `--json-out` (and printed), and a
//! Markdown table row on stdout. With `--watch-pid` the server's memory is sampled
//! from `/proc/<pid>/status` (VmRSS every 200 ms, VmHWM at the end).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use reqwest::{Client, Method, StatusCode, Url};
use serde::Serialize;
use serde_json::{Value, json};

const MAX_DURATION_S: u64 = 600;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about = "Loopback-only HTTP load generator")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Closed loop: N connections hammer one URL for D seconds.
    Closed(ClosedArgs),
    /// Virtual users with think time doing a mix of login, list, get, create, update.
    Scenario(ScenarioArgs),
    /// One GET (logged in with --login), printing the JSON value at --pointer.
    Fetch {
        #[arg(long)]
        url: String,
        /// `email:password` to log in with first.
        #[arg(long)]
        login: Option<String>,
        /// A JSON pointer into the answer, such as `/data/0/id`.
        #[arg(long, default_value = "")]
        pointer: String,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// A name for this run in the results.
    #[arg(long, default_value = "run")]
    label: String,
    /// Seconds to run (at most 600).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Stop after this many requests, whatever the time.
    #[arg(long, default_value_t = 5_000_000)]
    max_requests: u64,
    /// Append the JSON result to this file.
    #[arg(long)]
    json_out: Option<std::path::PathBuf>,
    /// Sample this process's memory (the server) during the run, and count its CPU time;
    /// with its children's (a server of several worker processes, as uvicorn runs).
    #[arg(long)]
    watch_pid: Option<u32>,
    /// Count the CPU time of every process of this name (the database server's, such
    /// as `postgres`: its backends are processes of their own) during the run.
    #[arg(long)]
    db_comm: Option<String>,
}

#[derive(Debug, Args)]
struct ClosedArgs {
    #[command(flatten)]
    common: Common,
    /// The URL to request (loopback only).
    #[arg(long)]
    url: String,
    /// Concurrent connections.
    #[arg(long, short = 'c', default_value_t = 16)]
    connections: usize,
    #[arg(long, default_value = "GET")]
    method: String,
    /// A JSON body. `{n}` is replaced by a per-request counter.
    #[arg(long)]
    body: Option<String>,
    /// A bearer token.
    #[arg(long)]
    token: Option<String>,
    /// `email:password`: log in first (POST /api/auth/login on the same origin) and use
    /// the access token.
    #[arg(long)]
    login: Option<String>,
}

#[derive(Debug, Args)]
struct ScenarioArgs {
    #[command(flatten)]
    common: Common,
    /// The server's origin, such as http://127.0.0.1:8000 (loopback only).
    #[arg(long)]
    base: String,
    /// Virtual users.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Mean think time between a user's requests, in milliseconds (uniform ±50 %).
    #[arg(long, default_value_t = 1000)]
    think_ms: u64,
    /// Seconds over which the users arrive (and log in) at an even pace.
    #[arg(long, default_value_t = 10)]
    ramp: u64,
    /// Account email pattern; `{n}` is the account number.
    #[arg(long, default_value = "demo{n}@demo.launchpad")]
    email_pattern: String,
    /// First account number used.
    #[arg(long, default_value_t = 2)]
    first_account: u64,
    /// How many accounts exist from `--first-account` on (users share them round-robin).
    #[arg(long, default_value_t = 998)]
    accounts: u64,
    #[arg(long, default_value = "Demo@1234")]
    password: String,
    /// Logins in flight at once, across all virtual users. Each login is an Argon2
    /// hash (~19 MiB and tens of ms of CPU in the server): without a bound, 1,000
    /// users arriving together would make the server hold gigabytes.
    #[arg(long, default_value_t = 8)]
    login_concurrency: usize,
}

/// Refuses anything but loopback.
fn loopback_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("bad URL {raw:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw}: only http(s) URLs"));
    }
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ok = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if ok {
        Ok(url)
    } else {
        Err(format!(
            "refusing {raw}: loadgen only targets loopback (127.0.0.0/8, localhost, ::1)"
        ))
    }
}

fn client(connections: usize) -> Result<Client, String> {
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

async fn login(
    client: &Client,
    origin: &Url,
    email: &str,
    password: &str,
) -> Result<String, String> {
    let url = origin
        .join("/api/auth/login")
        .map_err(|e| format!("login URL: {e}"))?;
    let response = client
        .post(url)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .map_err(|e| format!("login: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("login answer: {e}"))?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("login as {email} failed: {status} {body}"))
}

fn split_login(login: &str) -> Result<(&str, &str), String> {
    login
        .split_once(':')
        .ok_or_else(|| "--login takes email:password".to_owned())
}

/// Latencies (µs) and outcomes of one kind of request.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    non_2xx: u64,
    errors: u64,
    statuses: BTreeMap<u16, u64>,
}

impl Tally {
    fn record(&mut self, started: Instant, outcome: Result<StatusCode, ()>) {
        match outcome {
            Ok(status) => {
                self.latencies_us
                    .push(started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64);
                *self.statuses.entry(status.as_u16()).or_default() += 1;
                if !status.is_success() {
                    self.non_2xx += 1;
                }
            }
            Err(()) => self.errors += 1,
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
    }
}

#[derive(Debug, Serialize)]
struct Summary {
    label: String,
    mode: &'static str,
    target: String,
    concurrency: usize,
    duration_s: f64,
    requests: u64,
    non_2xx: u64,
    errors: u64,
    rps: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    statuses: BTreeMap<u16, u64>,
    server_rss_peak_mb: Option<f64>,
    server_rss_after_mb: Option<f64>,
    server_hwm_mb: Option<f64>,
    /// The server's CPU time (user + system) per answered request, in microseconds.
    server_cpu_us_per_req: Option<f64>,
    /// The database processes' CPU time per answered request (`--db-comm`).
    db_cpu_us_per_req: Option<f64>,
}

fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

fn summarize(
    label: String,
    mode: &'static str,
    target: String,
    concurrency: usize,
    elapsed: Duration,
    mut tally: Tally,
    memory: Option<Memory>,
) -> Summary {
    tally.latencies_us.sort_unstable();
    let answered = tally.latencies_us.len() as u64;
    let secs = elapsed.as_secs_f64().max(1e-9);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Summary {
        label,
        mode,
        target,
        concurrency,
        duration_s: round(secs),
        requests: answered + tally.errors,
        non_2xx: tally.non_2xx,
        errors: tally.errors,
        rps: round(answered as f64 / secs),
        p50_ms: round(percentile(&tally.latencies_us, 0.50)),
        p95_ms: round(percentile(&tally.latencies_us, 0.95)),
        p99_ms: round(percentile(&tally.latencies_us, 0.99)),
        max_ms: round(tally.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0),
        statuses: tally.statuses,
        server_rss_peak_mb: memory.as_ref().map(|m| round(m.peak_kb as f64 / 1024.0)),
        server_rss_after_mb: memory.as_ref().map(|m| round(m.after_kb as f64 / 1024.0)),
        server_hwm_mb: memory.as_ref().map(|m| round(m.hwm_kb as f64 / 1024.0)),
        server_cpu_us_per_req: memory
            .as_ref()
            .and_then(|m| m.server_cpu_us)
            .map(|us| round(us as f64 / answered.max(1) as f64)),
        db_cpu_us_per_req: memory
            .as_ref()
            .and_then(|m| m.db_cpu_us)
            .map(|us| round(us as f64 / answered.max(1) as f64)),
    }
}

fn mb(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into())
}

fn report(summary: &Summary, json_out: Option<&std::path::Path>) -> Result<(), String> {
    let line = serde_json::to_string(summary).map_err(|e| e.to_string())?;
    eprintln!("{line}");
    if let Some(path) = json_out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        writeln!(f, "{line}").map_err(|e| e.to_string())?;
    }
    println!(
        "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {} | {} | {} | {} | {} |",
        summary.label,
        summary.concurrency,
        summary.rps,
        summary.p50_ms,
        summary.p95_ms,
        summary.p99_ms,
        summary.max_ms,
        summary.non_2xx,
        summary.errors,
        mb(summary.server_rss_peak_mb),
        mb(summary.server_hwm_mb),
        us(summary.server_cpu_us_per_req),
        us(summary.db_cpu_us_per_req),
    );
    Ok(())
}

fn us(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.0}")).unwrap_or_else(|| "–".into())
}

/// Server memory seen during a run, and the CPU time the server and the database spent.
struct Memory {
    peak_kb: u64,
    after_kb: u64,
    hwm_kb: u64,
    server_cpu_us: Option<u64>,
    db_cpu_us: Option<u64>,
}

/// A `/proc/<pid>/status` field (in kB) summed over `pid` and its children.
fn family_kb(pid: u32, field: &str) -> Option<u64> {
    let own = status_kb(pid, field)?;
    Some(
        own + children(pid)
            .into_iter()
            .filter_map(|c| status_kb(c, field))
            .sum::<u64>(),
    )
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    processes()
        .filter(|(_, stat)| stat.parent == pid)
        .map(|(child, _)| child)
        .collect()
}

/// Every live process, with what its `/proc/<pid>/stat` says.
fn processes() -> impl Iterator<Item = (u32, Stat)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let text = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            Some((pid, Stat::parse(&text)?))
        })
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Linux reports CPU times in clock ticks of `USER_HZ`, 100 per second on every
/// architecture it runs on (`getconf CLK_TCK`).
const US_PER_TICK: u64 = 10_000;

/// What a `/proc/<pid>/stat` line says of a process.
struct Stat {
    name: String,
    parent: u32,
    /// CPU time so far (user + system), in microseconds.
    cpu_us: u64,
}

impl Stat {
    fn parse(stat: &str) -> Option<Self> {
        // `pid (comm) state ppid ...`: the name may hold spaces and parentheses, so split
        // at the last `)`; utime and stime are the 12th and 13th fields after it.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
        Some(Self {
            name: stat.get(open + 1..close)?.to_owned(),
            parent: fields.get(1)?.parse().ok()?,
            cpu_us: (ticks(11)? + ticks(12)?) * US_PER_TICK,
        })
    }
}

/// The CPU time so far of the process `pid` and its children, in microseconds.
fn process_cpu_us(pid: u32) -> Option<u64> {
    let mut total = None;
    for (p, stat) in processes() {
        if p == pid || stat.parent == pid {
            *total.get_or_insert(0) += stat.cpu_us;
        }
    }
    total
}

/// The CPU time so far of every live process named `comm`, in microseconds. (A process
/// that exits during a run takes its time with it: the database's pooled connections
/// live through a run.)
fn named_cpu_us(comm: &str) -> Option<u64> {
    Some(
        processes()
            .filter(|(_, stat)| stat.name == comm)
            .map(|(_, stat)| stat.cpu_us)
            .sum(),
    )
}

/// CPU time at a run's start, to subtract at its end.
struct CpuStart {
    server: Option<u64>,
    db: Option<u64>,
}

fn cpu_start(common: &Common) -> CpuStart {
    CpuStart {
        server: common.watch_pid.and_then(process_cpu_us),
        db: common.db_comm.as_deref().and_then(named_cpu_us),
    }
}

/// Samples VmRSS every 200 ms until `stop` is set.
fn watch(pid: Option<u32>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Option<u64>> {
    tokio::spawn(async move {
        let pid = pid?;
        let mut peak = family_kb(pid, "VmRSS")?;
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Some(kb) = family_kb(pid, "VmRSS") {
                peak = peak.max(kb);
            }
        }
        Some(peak)
    })
}

async fn finish_watch(
    common: &Common,
    cpu: CpuStart,
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<Option<u64>>,
) -> Option<Memory> {
    stop.store(true, Ordering::Relaxed);
    let server_cpu_us = common
        .watch_pid
        .and_then(process_cpu_us)
        .zip(cpu.server)
        .map(|(end, start)| end.saturating_sub(start));
    let db_cpu_us = common
        .db_comm
        .as_deref()
        .and_then(named_cpu_us)
        .zip(cpu.db)
        .map(|(end, start)| end.saturating_sub(start));
    let peak = handle.await.ok().flatten()?;
    let pid = common.watch_pid?;
    let after = family_kb(pid, "VmRSS")?;
    Some(Memory {
        peak_kb: peak.max(after),
        after_kb: after,
        hwm_kb: family_kb(pid, "VmHWM").unwrap_or(0),
        server_cpu_us,
        db_cpu_us,
    })
}

fn check_common(c: &Common) -> Result<Duration, String> {
    if c.duration == 0 || c.duration > MAX_DURATION_S {
        return Err(format!("--duration must be 1..={MAX_DURATION_S} seconds"));
    }
    Ok(Duration::from_secs(c.duration))
}

async fn closed(args: ClosedArgs) -> Result<(), String> {
    let duration = check_common(&args.common)?;
    let url = loopback_url(&args.url)?;
    if args.connections == 0 || args.connections > 10_000 {
        return Err("--connections must be 1..=10000".into());
    }
    let method: Method = args
        .method
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| format!("bad method {}", args.method))?;
    let client = client(args.connections)?;
    let token = match (&args.token, &args.login) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(l)) => {
            let (email, password) = split_login(l)?;
            Some(login(&client, &url, email, password).await?)
        }
        (None, None) => None,
    };
    let issued = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch(args.common.watch_pid, stop.clone());
    let cpu = cpu_start(&args.common);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let (client, url, method, token, body, issued) = (
            client.clone(),
            url.clone(),
            method.clone(),
            token.clone(),
            args.body.clone(),
            issued.clone(),
        );
        let max = args.common.max_requests;
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= max {
                    break;
                }
                let mut req = client.request(method.clone(), url.clone());
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                if let Some(b) = &body {
                    req = req
                        .header("content-type", "application/json")
                        .body(b.replace("{n}", &n.to_string()));
                }
                let t = Instant::now();
                let outcome = match req.send().await {
                    Ok(r) => {
                        let status = r.status();
                        match r.bytes().await {
                            Ok(_) => Ok(status),
                            Err(_) => Err(()),
                        }
                    }
                    Err(_) => Err(()),
                };
                tally.record(t, outcome);
            }
            tally
        }));
    }
    let mut tally = Tally::default();
    for t in tasks {
        if let Ok(t) = t.await {
            tally.merge(t);
        }
    }
    let elapsed = started.elapsed();
    let memory = finish_watch(&args.common, cpu, stop, watcher).await;
    let summary = summarize(
        args.common.label,
        "closed",
        format!("{method} {url}"),
        args.connections,
        elapsed,
        tally,
        memory,
    );
    report(&summary, args.common.json_out.as_deref())
}

/// A tiny xorshift generator per virtual user.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// The operations of the seed scenario and their weights (out of 100). Logins are
/// few on purpose: each costs an Argon2 hash (tens of ms of CPU and ~19 MiB).
const OPS: &[(&str, u64)] = &[
    ("list", 45),
    ("get", 28),
    ("create", 10),
    ("update", 15),
    ("login", 2),
];

async fn send(req: reqwest::RequestBuilder) -> Result<(StatusCode, Value), ()> {
    let r = req.send().await.map_err(|_| ())?;
    let status = r.status();
    let bytes = r.bytes().await.map_err(|_| ())?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

async fn scenario(args: ScenarioArgs) -> Result<(), String> {
    let duration = check_common(&args.common)?;
    let base = loopback_url(&args.base)?;
    if args.users == 0 || args.users > 10_000 || args.accounts == 0 {
        return Err("--users must be 1..=10000 and --accounts at least 1".into());
    }
    let client = client(args.users)?;
    let issued = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch(args.common.watch_pid, stop.clone());
    let cpu = cpu_start(&args.common);
    let started = Instant::now();
    let deadline = started + duration;
    let ramp = Duration::from_secs(args.ramp.min(args.common.duration));
    let logins = Arc::new(tokio::sync::Semaphore::new(args.login_concurrency.max(1)));
    let mut tasks = Vec::with_capacity(args.users);
    for vu in 0..args.users {
        let logins = logins.clone();
        let client = client.clone();
        let base = base.clone();
        let issued = issued.clone();
        let max = args.common.max_requests;
        let think = args.think_ms.max(1);
        let email = args.email_pattern.replace(
            "{n}",
            &(args.first_account + vu as u64 % args.accounts).to_string(),
        );
        let password = args.password.clone();
        let offset = ramp.mul_f64(vu as f64 / args.users as f64);
        tasks.push(tokio::spawn(async move {
            let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (vu as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
            let mut token: Option<String> = None;
            let mut ids: Vec<String> = Vec::new();
            let mut created = 0u64;
            tokio::time::sleep(offset).await;
            let mut first = true;
            loop {
                if !first {
                    let pause = think / 2 + rng.next() % think.max(1);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                first = false;
                if Instant::now() >= deadline || issued.fetch_add(1, Ordering::Relaxed) >= max {
                    break;
                }
                let roll = rng.next() % 100;
                let mut op = {
                    let mut acc = 0;
                    OPS.iter()
                        .find(|(_, w)| {
                            acc += w;
                            roll < acc
                        })
                        .map(|(o, _)| *o)
                        .unwrap_or("list")
                };
                if token.is_none() {
                    op = "login";
                } else if ids.is_empty() && matches!(op, "get" | "update") {
                    op = "list";
                }
                let auth = |r: reqwest::RequestBuilder| match &token {
                    Some(t) => r.bearer_auth(t),
                    None => r,
                };
                let url = |path: &str| base.join(path).unwrap_or_else(|_| base.clone());
                let permit = if op == "login" {
                    logins.clone().acquire_owned().await.ok()
                } else {
                    None
                };
                let t = Instant::now();
                let outcome = match op {
                    "login" => {
                        let res = send(
                            client
                                .post(url("/api/auth/login"))
                                .json(&json!({"email": email, "password": password})),
                        )
                        .await;
                        if let Ok((_, body)) = &res
                            && let Some(t) = body["access_token"].as_str()
                        {
                            token = Some(t.to_owned());
                        }
                        res
                    }
                    "list" => {
                        let page = 1 + rng.next() % 3;
                        let res = send(auth(client.get(url(&format!(
                            "/api/projects?sort_by=created_at&sort_order=desc&page={page}"
                        )))))
                        .await;
                        if let Ok((_, body)) = &res
                            && let Some(rows) = body["data"].as_array()
                            && !rows.is_empty()
                        {
                            ids = rows
                                .iter()
                                .filter_map(|p| p["id"].as_str().map(str::to_owned))
                                .collect();
                        }
                        res
                    }
                    "get" => {
                        let id = &ids[(rng.next() % ids.len() as u64) as usize];
                        send(auth(client.get(url(&format!("/api/projects/{id}"))))).await
                    }
                    "create" => {
                        created += 1;
                        let res = send(auth(client.post(url("/api/projects")).json(&json!({
                            "title": format!("Load test project {vu}-{created}"),
                            "description": "Created by the benchmark's seed scenario.",
                            "category": "Web Development",
                            "tech_stack": ["Rust", "PostgreSQL"],
                        }))))
                        .await;
                        if let Ok((_, body)) = &res
                            && let Some(id) = body["id"].as_str()
                        {
                            ids.push(id.to_owned());
                        }
                        res
                    }
                    _ => {
                        let id = &ids[(rng.next() % ids.len() as u64) as usize];
                        send(auth(client.patch(url(&format!("/api/projects/{id}"))).json(
                            &json!({"description": format!("Updated by the benchmark ({})", rng.next() % 1000)}),
                        )))
                        .await
                    }
                };
                drop(permit);
                if let Ok((StatusCode::UNAUTHORIZED, _)) = &outcome {
                    token = None;
                }
                tallies
                    .entry(op)
                    .or_default()
                    .record(t, outcome.map(|(s, _)| s));
            }
            tallies
        }));
    }
    let mut all = Tally::default();
    let mut per_op: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for t in tasks {
        if let Ok(tallies) = t.await {
            for (op, tally) in tallies {
                let entry = per_op.entry(op).or_default();
                entry.latencies_us.extend_from_slice(&tally.latencies_us);
                entry.non_2xx += tally.non_2xx;
                entry.errors += tally.errors;
                for (k, v) in &tally.statuses {
                    *entry.statuses.entry(*k).or_default() += v;
                }
                all.merge(tally);
            }
        }
    }
    let elapsed = started.elapsed();
    let memory = finish_watch(&args.common, cpu, stop, watcher).await;
    let summary = summarize(
        args.common.label.clone(),
        "scenario",
        format!(
            "{base} ({} virtual users, think {} ms)",
            args.users, args.think_ms
        ),
        args.users,
        elapsed,
        all,
        memory,
    );
    report(&summary, args.common.json_out.as_deref())?;
    for (op, tally) in per_op {
        let s = summarize(
            format!("{} · {op}", args.common.label),
            "scenario-op",
            op.to_owned(),
            args.users,
            elapsed,
            tally,
            None,
        );
        report(&s, args.common.json_out.as_deref())?;
    }
    Ok(())
}

async fn fetch(url: String, login_as: Option<String>, pointer: String) -> Result<(), String> {
    let url = loopback_url(&url)?;
    let client = client(1)?;
    let mut req = client.get(url.clone());
    if let Some(l) = &login_as {
        let (email, password) = split_login(l)?;
        req = req.bearer_auth(login(&client, &url, email, password).await?);
    }
    let (status, body) = send(req).await.map_err(|()| format!("GET {url} failed"))?;
    if !status.is_success() {
        return Err(format!("GET {url}: {status} {body}"));
    }
    match body.pointer(&pointer) {
        Some(Value::String(s)) => println!("{s}"),
        Some(v) => println!("{v}"),
        None => return Err(format!("nothing at {pointer:?} in {body}")),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // A hard stop, whatever happens: the longest run plus the request timeout.
    let limit = Duration::from_secs(MAX_DURATION_S) + REQUEST_TIMEOUT + Duration::from_secs(30);
    let work = async {
        match cli.command {
            Cmd::Closed(a) => closed(a).await,
            Cmd::Scenario(a) => scenario(a).await,
            Cmd::Fetch {
                url,
                login,
                pointer,
            } => fetch(url, login, pointer).await,
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(Ok(())) => std::process::ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("loadgen: {e}");
            std::process::ExitCode::from(2)
        }
        Err(_) => {
            eprintln!("loadgen: hard time limit reached");
            std::process::ExitCode::from(3)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8000/health",
            "http://127.3.4.5/x",
            "http://localhost:1/",
            "http://[::1]:8000/",
        ] {
            assert!(loopback_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/",
            "http://example.com/",
            "http://0.0.0.0:8000/",
            "http://[::2]/",
            "http://127.0.0.1.evil.com/",
            "ftp://127.0.0.1/",
        ] {
            assert!(loopback_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stat_reads_a_name_with_spaces_and_parentheses() {
        let stat = Stat::parse("4242 (tokio (rt) w) S 17 2 3 4 5 6 7 8 9 10 130 70 0 0 20 0 9")
            .expect("parsed");
        assert_eq!(
            (stat.name.as_str(), stat.parent, stat.cpu_us),
            ("tokio (rt) w", 17, 2_000_000)
        );
        assert!(Stat::parse("garbage").is_none());
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.99), 0.0);
    }
}
