//! A cache of rendered responses for the read-only terminology operations.
//!
//! A CDA validator asks about the same few thousand codes again and again; answering a
//! repeat from memory (one hash lookup and a copy) instead of from SQLite is what makes
//! `$validate-code` cost about what `/healthz` costs. Correctness rests on two rules:
//! - an entry remembers the store generation of the snapshot that produced it, and is
//!   used only while the store is still at that generation;
//! - the current generation is refreshed by a watcher every [`WATCH_INTERVAL`] (imports
//!   from another process included), so a new release is served from the cache at most
//!   that long after it commits; requests the cache cannot answer always read the store.
//!
//! Only successful answers are cached, keyed by everything that can change them: method,
//! path and query, the negotiation headers, and a POST body.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpRequest;
use quick_cache::sync::Cache;

use crate::core::Terminology;

/// How often the watcher reads the store generation.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// Bodies larger than this are neither used as keys nor cached.
const MAX_CACHED_BYTES: usize = 64 * 1024;

/// A rendered successful response.
#[derive(Clone)]
pub struct Cached {
    pub generation: i64,
    pub content_type: &'static str,
    pub body: Bytes,
}

/// The response cache and the generation it trusts.
pub struct ResponseCache {
    entries: Cache<Vec<u8>, Cached>,
    generation: AtomicI64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl ResponseCache {
    /// A cache of at most `capacity` responses.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(ResponseCache {
            entries: Cache::new(capacity.max(1)),
            generation: AtomicI64::new(-1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    /// The key for a request, or `None` if it must not be cached.
    pub fn key(req: &HttpRequest, body: &[u8]) -> Option<Vec<u8>> {
        if body.len() > MAX_CACHED_BYTES {
            return None;
        }
        let mut key = Vec::with_capacity(128 + body.len());
        key.extend_from_slice(req.method().as_str().as_bytes());
        key.push(0);
        key.extend_from_slice(req.uri().path().as_bytes());
        key.push(0);
        key.extend_from_slice(req.query_string().as_bytes());
        for name in [
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::CONTENT_TYPE,
        ] {
            key.push(0);
            if let Some(v) = req.headers().get(name) {
                key.extend_from_slice(v.as_bytes());
            }
        }
        key.push(0);
        key.extend_from_slice(body);
        Some(key)
    }

    /// A cached response still valid at the current generation.
    pub fn get(&self, key: &[u8]) -> Option<Cached> {
        let hit = self
            .entries
            .get(key)
            .filter(|hit| hit.generation == self.generation.load(Ordering::Acquire));
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Lookups so far: `(hits, misses)`, for `/metrics`.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Remembers a response produced from a snapshot at `cached.generation`.
    pub fn put(&self, key: Vec<u8>, cached: Cached) {
        if cached.body.len() <= MAX_CACHED_BYTES {
            self.entries.insert(key, cached);
        }
    }

    /// Starts the thread that keeps the trusted generation current. It stops when the
    /// cache is dropped.
    pub fn watch(self: &Arc<Self>, terminology: Arc<Terminology>) {
        let cache: Weak<Self> = Arc::downgrade(self);
        let refresh = move || -> Option<()> {
            let cache = cache.upgrade()?;
            if let Ok(g) = terminology.generation() {
                if cache.generation.swap(g, Ordering::AcqRel) != g {
                    cache.entries.clear();
                }
            }
            Some(())
        };
        if refresh().is_none() {
            return;
        }
        std::thread::Builder::new()
            .name("nomen-cache-watch".into())
            .spawn(move || {
                while refresh().is_some() {
                    std::thread::sleep(WATCH_INTERVAL);
                }
            })
            .expect("spawn the cache watcher");
    }
}
