//! Server configuration: built-in defaults, then a TOML file (`--config nomen.toml`),
//! then `NOMEN_*` environment variables (nested keys with `__`, e.g. `NOMEN_TLS__CERT`),
//! then command-line flags; validated once at start-up. `nomen.example.toml` documents
//! every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::access::{CrlPolicy, LimitSettings};

/// Everything `nomen serve` needs to know.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
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
    /// Scheduled backups: directory, key file, interval, copies kept.
    pub backup_dir: Option<PathBuf>,
    pub backup_key: Option<PathBuf>,
    pub backup_every: String,
    pub backup_keep: usize,
    /// Production mode: HTTPS with client certificates, licences and audit.
    pub tls: Option<TlsConfig>,
    /// Per-institution limits (production mode).
    pub limits: LimitSettings,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            db: PathBuf::from("nomen.db"),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workers: 0,
            max_body_bytes: 4 * 1024 * 1024,
            no_fixtures: false,
            cache_entries: 50_000,
            backup_dir: None,
            backup_key: None,
            backup_every: "24h".into(),
            backup_keep: 14,
            tls: None,
            limits: LimitSettings::default(),
        }
    }
}

/// The `[tls]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain (PEM, leaf first).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
    /// The CAs client certificates must chain to, each with its CRL source.
    pub client_ca: Vec<ClientCa>,
    /// How often CRLs are loaded again: `24h` (default), `15m`, ...
    #[serde(default = "default_crl_refresh")]
    pub crl_refresh: String,
    /// `fail-closed` (default: refuse when a CRL is unavailable or expired) or
    /// `fail-open`.
    #[serde(default = "default_crl_policy")]
    pub crl_policy: CrlPolicy,
}

fn default_crl_refresh() -> String {
    "24h".into()
}

fn default_crl_policy() -> CrlPolicy {
    CrlPolicy::FailClosed
}

/// One trusted client CA (`[[tls.client_ca]]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCa {
    /// The CA certificate (PEM).
    pub cert: PathBuf,
    /// Its CRL: a file path or an `http(s)://` distribution point.
    pub crl: Option<String>,
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
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Top-level keys environment variables may set (`NOMEN_DB`, `NOMEN_TLS__CERT`, ...);
/// other `NOMEN_*` variables belong to other commands.
const ENV_KEYS: &[&str] = &[
    "db",
    "addr",
    "workers",
    "max_body_bytes",
    "no_fixtures",
    "cache_entries",
    "backup_dir",
    "backup_key",
    "backup_every",
    "backup_keep",
    "tls",
    "limits",
];

impl ServeConfig {
    /// Defaults, then the TOML file (if given; it must exist), then the environment,
    /// then `overrides` (the command line's flags, as a partial TOML table).
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<ServeConfig, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(ServeConfig::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid(format!(
                    "{}: no such configuration file",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment
            .merge(Env::prefixed("NOMEN_").split("__").filter(|k| {
                let first = k.as_str().split("__").next().unwrap_or("");
                let first = first.split('.').next().unwrap_or("");
                ENV_KEYS.iter().any(|key| key.eq_ignore_ascii_case(first))
            }))
            .merge(Serialized::defaults(overrides));
        let config: ServeConfig = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the rules that keep an unprotected server private, and that durations
    /// parse.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tls.is_none() && !self.addr.ip().is_loopback() {
            return Err(ConfigError::NotLoopback(self.addr));
        }
        parse_duration(&self.backup_every)?;
        if let Some(tls) = &self.tls {
            parse_duration(&tls.crl_refresh)?;
            if tls.client_ca.is_empty() {
                return Err(ConfigError::Invalid(
                    "[tls] needs at least one [[tls.client_ca]]: the CAs client certificates \
                     must chain to"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// The scheduled backup interval.
    pub fn backup_interval(&self) -> Duration {
        parse_duration(&self.backup_every).unwrap_or(Duration::from_secs(86_400))
    }
}

/// `24h`, `15m`, `30s`, `2d`.
pub fn parse_duration(s: &str) -> Result<Duration, ConfigError> {
    crate::backup::parse_interval(s).map_err(ConfigError::Invalid)
}

/// Command-line flags as a partial configuration: only the flags given are set, and they
/// win over the file and the environment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_fixtures: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_entries: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_every: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_keep: Option<usize>,
}
