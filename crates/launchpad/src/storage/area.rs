//! One area of storage — the uploads, or the activity log's archive — in an object store:
//! a local directory (`file:///…`) or an S3-compatible bucket (`s3://bucket/prefix`).
//! Objects are written whole or not at all (a local write goes to a temporary name and
//! is renamed; an S3 object appears when its upload completes), so a reader on any
//! node sees either nothing or every byte.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::{
    ClientConfigKey, GetOptions, ObjectStore, ObjectStoreExt, RetryConfig, WriteMultipart, path,
};
use tokio::io::AsyncReadExt;
use url::Url;

/// Files up to this size are sent in one request; larger ones in parts of this size
/// (S3's smallest part), so that memory per upload stays bounded.
const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts of one file in flight at once.
const PARTS_IN_FLIGHT: usize = 2;
/// How long one S3 request may keep retrying: a store that does not answer is a 503
/// within seconds, well inside `REQUEST_TIMEOUT_SECS` (object_store's own default
/// retries for three minutes).
const RETRY_FOR: Duration = Duration::from_secs(5);
/// How long connecting to the store may take, unless configured.
const CONNECT_TIMEOUT: &str = "3s";

/// Why storage failed. Never the client's doing: a 503 (or a 507 for a full disk).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Store(#[from] object_store::Error),
}

impl Error {
    /// A full disk (or quota), here or in a local store's write.
    pub fn is_full(&self) -> bool {
        use std::io::ErrorKind::{QuotaExceeded, StorageFull};
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && matches!(io.kind(), StorageFull | QuotaExceeded)
            {
                return true;
            }
            source = e.source();
        }
        false
    }
}

/// Bytes as they arrive from storage.
pub type ByteStream = BoxStream<'static, Result<Bytes, Error>>;

/// An area of an object store; cheap to clone.
#[derive(Clone)]
pub struct Area {
    store: Arc<dyn ObjectStore>,
    /// Where it is, for messages (no credentials: they come from the environment or
    /// the URL's query, which is left out).
    location: String,
}

impl std::fmt::Debug for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.location)
    }
}

impl Area {
    /// A local directory; created when first written to.
    pub fn local(dir: &Path) -> Result<Self, String> {
        let dir = std::path::absolute(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let prefix = path::Path::from_absolute_path(&dir)
            .map_err(|e| format!("{} cannot hold objects: {e}", dir.display()))?;
        Ok(Self {
            store: Arc::new(PrefixStore::new(LocalFileSystem::new(), prefix)),
            location: dir.display().to_string(),
        })
    }

    /// The area `name` under `url`: `file:///dir` (the directory `dir/name`) or
    /// `s3://bucket[/prefix][?option=value…]` (keys under `prefix/name/`). S3 options are
    /// object_store's (`endpoint`, `region`, `allow_http`, …), read from the `AWS_*`
    /// environment variables first, then from the query.
    pub fn open(url: &Url, name: &str) -> Result<Self, String> {
        match url.scheme() {
            "file" => {
                let dir = url
                    .to_file_path()
                    .map_err(|()| format!("{url} is not an absolute file path"))?;
                Self::local(&dir.join(name))
            }
            "s3" => {
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or("an s3:// URL names its bucket: s3://bucket/prefix")?;
                let retry = RetryConfig {
                    max_retries: 3,
                    retry_timeout: RETRY_FOR,
                    ..RetryConfig::default()
                };
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry);
                // Set as one option, not as `ClientOptions`: those would replace what
                // the environment set (`AWS_ALLOW_HTTP`, …).
                let connect = AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout);
                if builder.get_config_value(&connect).is_none() {
                    builder = builder.with_config(connect, CONNECT_TIMEOUT);
                }
                for (key, value) in url.query_pairs() {
                    let key: AmazonS3ConfigKey = key
                        .parse()
                        .map_err(|_| format!("unknown S3 option '{key}' in STORAGE_URL"))?;
                    builder = builder.with_config(key, value);
                }
                let s3 = builder.build().map_err(|e| e.to_string())?;
                let prefix = format!("{}/{name}", url.path().trim_matches('/'));
                let prefix = prefix.trim_start_matches('/').to_owned();
                Ok(Self {
                    location: format!("s3://{bucket}/{prefix}"),
                    store: Arc::new(PrefixStore::new(s3, prefix.as_str())),
                })
            }
            other => Err(format!(
                "STORAGE_URL scheme '{other}' is not one of file://, s3://"
            )),
        }
    }

    /// Where `key` is, for messages.
    pub fn describe(&self, key: &str) -> String {
        format!("{}/{key}", self.location)
    }

    /// Stores `bytes` under `key`, replacing what was there.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), Error> {
        self.store.put(&path::Path::from(key), bytes.into()).await?;
        Ok(())
    }

    /// Stores the local file `file` under `key`, replacing what was there.
    pub async fn put_file(&self, key: &str, file: &Path) -> Result<(), Error> {
        let location = path::Path::from(key);
        let mut source = tokio::fs::File::open(file).await?;
        if source.metadata().await?.len() <= PART_BYTES as u64 {
            let mut bytes = Vec::new();
            source.read_to_end(&mut bytes).await?;
            return self.put(key, bytes).await;
        }
        let upload = self.store.put_multipart(&location).await?;
        let mut upload = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let copied = async {
            let mut buffer = vec![0; 256 * 1024];
            loop {
                let n = source.read(&mut buffer).await?;
                if n == 0 {
                    return Ok::<_, Error>(());
                }
                upload.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                upload.write(&buffer[..n]);
            }
        }
        .await;
        match copied {
            Ok(()) => {
                upload.finish().await?;
                Ok(())
            }
            Err(e) => {
                // Parts already sent would otherwise linger, unseen, in the bucket.
                let _ = upload.abort().await;
                Err(e)
            }
        }
    }

    /// The bytes under `key` (`range` of them, if given); `None` if there is no such
    /// object.
    pub async fn get(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<Option<ByteStream>, Error> {
        let options = GetOptions {
            range: range.map(Into::into),
            ..GetOptions::default()
        };
        match self.store.get_opts(&path::Path::from(key), options).await {
            Ok(got) => Ok(Some(
                got.into_stream().map(|r| r.map_err(Error::from)).boxed(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether there is an object under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        match self.store.head(&path::Path::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// All the bytes under `key`, in memory.
    pub async fn read(&self, key: &str) -> Result<Bytes, Error> {
        Ok(self
            .store
            .get(&path::Path::from(key))
            .await?
            .bytes()
            .await?)
    }

    /// Deletes the object under `key`; one already gone counts as deleted.
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        match self.store.delete(&path::Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The keys of every object in the area, sorted.
    pub async fn keys(&self) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut listing = self.store.list(None);
        while let Some(meta) = listing.next().await {
            match meta {
                Ok(meta) => keys.push(meta.location.to_string()),
                // A local area not yet written to has no directory: it is empty.
                Err(object_store::Error::NotFound { .. }) => break,
                Err(e) => return Err(e.into()),
            }
        }
        keys.sort();
        Ok(keys)
    }
}
