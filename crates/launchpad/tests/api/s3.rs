//! A real S3-compatible server (Garage, started by `scripts/object-store.sh`) for the
//! tests of shared storage: one per test process, stopped (and its data removed) by the
//! script's watchdog once the process has exited. The first run on a machine builds
//! Garage (cached under ~/.cache; see the script).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use launchpad::storage::Area;
use uuid::Uuid;

struct Server {
    /// `s3://launchpad?endpoint=…`, without credentials.
    url: String,
    access_key: String,
    secret_key: String,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        let pid = std::process::id().to_string();
        let dir = target.join("object-store").join(format!("test-{pid}"));
        let out = std::process::Command::new("bash")
            .arg(root.join("scripts/object-store.sh"))
            .arg("up")
            .arg(&dir)
            .arg(&pid)
            .output()
            .expect("scripts/object-store.sh runs");
        assert!(
            out.status.success(),
            "the object store did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let setting = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("no {name} in {stdout}"))
                .to_owned()
        };
        Server {
            url: setting("STORAGE_URL"),
            access_key: setting("AWS_ACCESS_KEY_ID"),
            secret_key: setting("AWS_SECRET_ACCESS_KEY"),
        }
    })
}

/// A `STORAGE_URL` of its own: a fresh prefix in the server's bucket, with credentials.
pub fn storage_url() -> String {
    let s = server();
    let (bucket, query) = s.url.split_once('?').expect("a query");
    format!(
        "{bucket}/{}?{query}&access_key_id={}&secret_access_key={}",
        Uuid::now_v7().simple(),
        s.access_key,
        s.secret_key
    )
}

/// The area `name` (`uploads` or `archive`) of `storage_url`, as a node sees it.
pub fn area(storage_url: &str, name: &str) -> Area {
    let url = url::Url::parse(storage_url).expect("a URL");
    Area::open(&url, name).expect("the area opens")
}

/// `storage_url` with its options (but the endpoint) moved to the `AWS_*` variables an
/// operator would set: the URL, and the variables.
pub fn options_as_env(storage_url: &str) -> (String, Vec<(String, String)>) {
    let mut url = url::Url::parse(storage_url).expect("a URL");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let (kept, moved): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| k == "endpoint");
    url.query_pairs_mut().clear().extend_pairs(kept);
    let env = moved
        .into_iter()
        .map(|(k, v)| (format!("AWS_{}", k.to_ascii_uppercase()), v))
        .collect();
    (url.to_string(), env)
}
