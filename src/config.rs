//! Server configuration, validated once at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything `nomen serve` needs to know.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The SQLite file (created and filled with the fixtures if new).
    pub db: PathBuf,
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Skip loading the bundled fixtures into an empty database.
    pub no_fixtures: bool,
    /// Capacity of the operation response cache (0 disables it).
    pub cache_entries: usize,
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "refusing to listen on {0}: without TLS Nomen runs in development mode, which serves \
         every code system anonymously and therefore binds to loopback addresses only \
         (127.0.0.1 or ::1)"
    )]
    NotLoopback(SocketAddr),
}

impl ServeConfig {
    /// Checks the rules that keep an unprotected server private.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.addr.ip().is_loopback() {
            return Err(ConfigError::NotLoopback(self.addr));
        }
        Ok(())
    }
}
