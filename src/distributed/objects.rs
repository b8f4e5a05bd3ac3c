//! Objects by content hash (candle files, configs): JetStream object store bucket
//! `keel-objects`, each object named by the SHA-256 of its bytes, and a local cache of the
//! objects a worker has fetched, `cache_dir/<hash>`.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_nats::jetstream::object_store::{self, InfoErrorKind, ObjectStore};
use async_nats::jetstream::{self, context::ObjectStoreErrorKind};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::DistributedError;

/// The object store bucket.
pub const OBJECTS_BUCKET: &str = "keel-objects";

/// Bytes read or written at a time.
const CHUNK: usize = 256 * 1024;

/// The SHA-256 of an object's bytes, 64 lowercase hex digits: its name in the bucket and in
/// the cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectHash(String);

impl ObjectHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(bytes)))
    }

    /// A hash given as text (64 hex digits, either case).
    pub fn new(hash: &str) -> Result<Self, DistributedError> {
        if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(hash.to_ascii_lowercase()))
        } else {
            Err(DistributedError::InvalidId {
                kind: "object",
                id: hash.to_string(),
                rule: "a SHA-256 is 64 hex digits",
            })
        }
    }

    /// The 64 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ObjectHash {
    type Err = DistributedError;

    fn from_str(hash: &str) -> Result<Self, Self::Err> {
        Self::new(hash)
    }
}

impl fmt::Display for ObjectHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The object bucket.
#[derive(Clone)]
pub struct Objects {
    store: ObjectStore,
}

impl Objects {
    /// Gets or creates the `keel-objects` bucket.
    pub(crate) async fn ensure(jetstream: &jetstream::Context) -> Result<Self, DistributedError> {
        let store = match jetstream.get_object_store(OBJECTS_BUCKET).await {
            Ok(store) => store,
            Err(e) if matches!(e.kind(), ObjectStoreErrorKind::GetStore) => jetstream
                .create_object_store(object_store::Config {
                    bucket: OBJECTS_BUCKET.to_string(),
                    description: Some("keel sweep inputs by SHA-256".to_string()),
                    storage: jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    DistributedError::nats(format!("creating bucket {OBJECTS_BUCKET}"), e)
                })?,
            Err(e) => {
                return Err(DistributedError::nats(
                    format!("opening bucket {OBJECTS_BUCKET}"),
                    e,
                ))
            }
        };
        Ok(Self { store })
    }

    /// Stores `bytes` under their SHA-256 and returns it; bytes already stored are not
    /// uploaded again.
    pub async fn put(&self, bytes: &[u8]) -> Result<ObjectHash, DistributedError> {
        let hash = ObjectHash::of(bytes);
        match self.store.info(hash.as_str()).await {
            Ok(info) if !info.deleted => return Ok(hash),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), InfoErrorKind::NotFound) => {}
            Err(e) => {
                return Err(DistributedError::nats(
                    format!("looking up object {hash}"),
                    e,
                ))
            }
        }
        let mut reader = bytes;
        self.store
            .put(hash.as_str(), &mut reader)
            .await
            .map_err(|e| DistributedError::nats(format!("uploading object {hash}"), e))?;
        tracing::debug!(%hash, len = bytes.len(), "object uploaded");
        Ok(hash)
    }

    /// The path of object `hash` in `cache_dir`: the cached file `cache_dir/<hash>` when its
    /// bytes hash to `hash`, else the object downloaded, checked and then written in place
    /// atomically (a temporary file renamed), so a reader never sees half a file.
    pub async fn fetch(
        &self,
        hash: &ObjectHash,
        cache_dir: &Path,
    ) -> Result<PathBuf, DistributedError> {
        let path = cache_dir.join(hash.as_str());
        if path.exists() {
            let checked = path.clone();
            let found = tokio::task::spawn_blocking(move || hash_file(&checked))
                .await
                .map_err(|e| DistributedError::io(&path, std::io::Error::other(e)))??;
            if found == *hash {
                return Ok(path);
            }
            tracing::warn!(%hash, %found, path = %path.display(), "cached object is corrupt; fetching it again");
        }
        tokio::fs::create_dir_all(cache_dir)
            .await
            .map_err(|e| DistributedError::io(cache_dir, e))?;
        let temporary = cache_dir.join(temporary_name(hash));
        let downloaded = self.download(hash, &temporary).await;
        if let Err(e) = downloaded {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(e);
        }
        tokio::fs::rename(&temporary, &path)
            .await
            .map_err(|e| DistributedError::io(&path, e))?;
        Ok(path)
    }

    /// Writes object `hash` to `file`, checking its SHA-256.
    async fn download(&self, hash: &ObjectHash, file: &Path) -> Result<(), DistributedError> {
        let mut object = self
            .store
            .get(hash.as_str())
            .await
            .map_err(|e| DistributedError::nats(format!("fetching object {hash}"), e))?;
        let mut out = tokio::fs::File::create(file)
            .await
            .map_err(|e| DistributedError::io(file, e))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; CHUNK];
        loop {
            let read = object
                .read(&mut buffer)
                .await
                .map_err(|e| DistributedError::nats(format!("fetching object {hash}"), e))?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            out.write_all(&buffer[..read])
                .await
                .map_err(|e| DistributedError::io(file, e))?;
        }
        let found = hex::encode(hasher.finalize());
        if found != hash.as_str() {
            return Err(DistributedError::HashMismatch {
                expected: hash.to_string(),
                found,
            });
        }
        out.sync_all()
            .await
            .map_err(|e| DistributedError::io(file, e))
    }
}

/// A unique name for a download in progress: hidden, never a hash.
fn temporary_name(hash: &ObjectHash) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(".{hash}.{}.{n}.tmp", std::process::id())
}

/// The SHA-256 of the file at `path`.
fn hash_file(path: &Path) -> Result<ObjectHash, DistributedError> {
    let mut file = std::fs::File::open(path).map_err(|e| DistributedError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; CHUNK];
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|e| DistributedError::io(path, e))?;
        if read == 0 {
            return Ok(ObjectHash(hex::encode(hasher.finalize())));
        }
        hasher.update(&buffer[..read]);
    }
}

/// What a cell handler uses to get the objects its cell names: blocking, for the handler's
/// thread. Each object is checked (or downloaded) once per fetcher; later calls return its
/// path at once.
pub struct ObjectFetcher {
    objects: Objects,
    cache_dir: PathBuf,
    runtime: tokio::runtime::Handle,
    ready: Mutex<HashMap<ObjectHash, PathBuf>>,
}

impl ObjectFetcher {
    /// A fetcher into `cache_dir`, driving its downloads on the current tokio runtime (call
    /// it inside one).
    pub fn new(objects: Objects, cache_dir: PathBuf) -> Self {
        Self {
            objects,
            cache_dir,
            runtime: tokio::runtime::Handle::current(),
            ready: Mutex::new(HashMap::new()),
        }
    }

    /// The local path of object `hash` ([`Objects::fetch`]). Blocks: call it from the cell
    /// handler, never from async code (it would panic there).
    pub fn fetch(&self, hash: &ObjectHash) -> Result<PathBuf, DistributedError> {
        if let Some(path) = self.ready.lock().expect("fetcher lock").get(hash) {
            return Ok(path.clone());
        }
        let path = self
            .runtime
            .block_on(self.objects.fetch(hash, &self.cache_dir))?;
        self.ready
            .lock()
            .expect("fetcher lock")
            .insert(hash.clone(), path.clone());
        Ok(path)
    }

    /// Where the fetched objects are cached.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_named_by_the_sha256_of_its_bytes() {
        // `printf abc | sha256sum`
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(ObjectHash::of(b"abc").as_str(), abc);
        assert_eq!(ObjectHash::new(&abc.to_uppercase()).unwrap().as_str(), abc);
    }

    #[test]
    fn a_hash_is_64_hex_digits() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63), "../etc/passwd"] {
            let err = ObjectHash::new(bad).unwrap_err();
            assert!(err.to_string().contains("object id"), "{err}");
        }
    }
}
