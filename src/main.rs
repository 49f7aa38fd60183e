//! The `nomen` command line: `serve` and `import`, thin over the library.

/// mimalloc instead of glibc's malloc: the request path allocates and frees many small
/// objects, and audit events are allocated on a worker and freed on the audit thread,
/// which glibc's per-thread arenas handle with lock traffic and repeated heap trimming.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use nomen::backup::Schedule;
use nomen::config::ServeConfig;
use nomen::core::Terminology;
use nomen::http::{HttpSettings, TlsFiles};
use nomen::import::{self, ImportOptions};
use nomen::store::Store;

/// Nomen: a FHIR R4 terminology server for a national terminology service.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Log format on stderr: human-readable lines, or one JSON object per event (for log
    /// shippers). The level is set with NOMEN_LOG (e.g. info, debug, nomen::access=debug).
    #[arg(long, global = true, env = "NOMEN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// How log events are written.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Issue an admin or auditor API token (printed once; only its hash is stored). The
    /// user's earlier tokens are revoked: this is also how a lost bootstrap token is
    /// replaced.
    ///
    /// Example: nomen admin token --db nomen.db --user ops.petraitis --role admin
    Token {
        /// SQLite database file.
        #[arg(long, env = "NOMEN_DB", default_value = "nomen.db")]
        db: PathBuf,
        /// Who the token is for (named in the audit).
        #[arg(long)]
        user: String,
        /// admin or auditor.
        #[arg(long, default_value = "admin")]
        role: String,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Serve the FHIR terminology API.
    ///
    /// Without TLS (the default) this is development mode: loopback only, every code
    /// system served anonymously, said loudly at start-up. With a [tls] section in the
    /// configuration file it is production: HTTPS, registered client certificates, CRLs,
    /// licences, rate limits and the audit trail on every request. Settings come from
    /// the defaults, then --config FILE (TOML; see nomen.example.toml), then NOMEN_*
    /// variables (nested keys with __, e.g. NOMEN_TLS__CERT), then these flags.
    ///
    /// On a database with no content, the bundled fixtures are loaded first. On a
    /// register without any admin credential, a bootstrap admin token is printed once.
    ///
    /// Examples:
    ///   nomen serve --db nomen.db --addr 127.0.0.1:8080
    ///   nomen serve --config /etc/nomen/nomen.toml
    #[command(verbatim_doc_comment)]
    Serve {
        /// TOML configuration file.
        #[arg(long, env = "NOMEN_CONFIG")]
        config: Option<PathBuf>,
        /// SQLite database file (created if missing) [default: nomen.db].
        #[arg(long)]
        db: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Worker threads (0: one per CPU core).
        #[arg(long)]
        workers: Option<usize>,
        /// Largest accepted request body, in bytes [default: 4194304].
        #[arg(long)]
        max_body_bytes: Option<usize>,
        /// Do not load the bundled fixtures into an empty database.
        #[arg(long)]
        no_fixtures: bool,
        /// Responses kept in the operation response cache (0 disables it) [default: 50000].
        #[arg(long)]
        cache_entries: Option<usize>,
        /// Take encrypted backups into this directory on a schedule (needs --backup-key).
        #[arg(long)]
        backup_dir: Option<PathBuf>,
        /// Key file of the scheduled backups (outside the backup directory).
        #[arg(long)]
        backup_key: Option<PathBuf>,
        /// How often to back up: 24h, 30m, 45s [default: 24h].
        #[arg(long)]
        backup_every: Option<String>,
        /// Scheduled backups to keep (older ones are deleted; 0 keeps all) [default: 14].
        #[arg(long)]
        backup_keep: Option<usize>,
    },
    /// Administer the access register from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Take an encrypted backup of the database, or verify one.
    ///
    /// The copy is consistent while the server runs (SQLite's online backup API), is
    /// compressed and encrypted with AES-256-GCM under the key file, and is written as
    /// nomen-<timestamp>.nbk with a manifest beside it (time, sizes, SHA-256, schema
    /// version, row counts). The key file must not be inside the backup directory.
    /// --verify decrypts a backup and checks its authentication tag, SHA-256 and SQLite
    /// integrity without restoring it (the half-yearly restore test).
    ///
    /// Examples:
    ///   nomen keygen --out /etc/nomen/backup.key
    ///   nomen backup --db nomen.db --out /backups --key /etc/nomen/backup.key --keep 14
    ///   nomen backup --verify /backups/nomen-20261201T020000000Z.nbk --key /etc/nomen/backup.key
    #[command(verbatim_doc_comment)]
    Backup {
        /// SQLite database file to back up.
        #[arg(long, env = "NOMEN_DB", default_value = "nomen.db")]
        db: PathBuf,
        /// Directory to write the backup into.
        #[arg(long, required_unless_present = "verify")]
        out: Option<PathBuf>,
        /// Key file: 32 bytes, or 64 hexadecimal digits (see `nomen keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Backups to keep in the directory (older ones are deleted; 0 keeps all).
        #[arg(long, default_value_t = 0)]
        keep: usize,
        /// Verify this backup file instead of taking one.
        #[arg(long, conflicts_with = "out")]
        verify: Option<PathBuf>,
    },
    /// Restore a backup over a database file, after every check has passed.
    ///
    /// Decrypts, verifies the authentication tag, the SHA-256 and SQLite's integrity
    /// check, and only then replaces the target; a wrong key or an altered file is
    /// refused and nothing is touched. Stop the server using the target first.
    ///
    /// Example: nomen restore --from /backups/nomen-20261201T020000000Z.nbk --key /etc/nomen/backup.key --db nomen.db
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Its key file.
        #[arg(long)]
        key: PathBuf,
        /// The database file to replace.
        #[arg(long)]
        db: PathBuf,
    },
    /// Write a new random backup key file (mode 600; refuses to overwrite).
    ///
    /// Example: nomen keygen --out /etc/nomen/backup.key
    Keygen {
        /// The key file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import terminology: FHIR resources, SNOMED CT, LOINC, ICD-10 (ClaML), CSV classifiers.
    ///
    /// Each path is recognised by its content:
    ///   - FHIR CodeSystem, ValueSet and ConceptMap resources: JSON resources, Bundles,
    ///     ndjson files and FHIR npm packages (.tgz);
    ///   - a LOINC release: a directory or .zip holding LoincTable/Loinc.csv (with its
    ///     parts, answer lists, multiaxial hierarchy and linguistic variants);
    ///   - a ClaML file (.xml): ICD-10 or a national modification or translation;
    ///   - a national classifier in Nomen's CSV layout (.csv with a '# url:' preamble;
    ///     see fixtures/classifiers/README.md);
    ///   - a SNOMED CT RF2 release: a directory or .zip with Snapshot files (the
    ///     International Edition, and any extensions beside it, each an edition);
    ///   - a directory of any of these.
    ///
    /// All paths load in one transaction: on a fatal error nothing is written. Resources
    /// or rows that cannot be understood are listed as rejected, with file and line. A
    /// new version of a code system is stored beside the versions already loaded.
    ///
    /// Examples:
    ///   nomen import --db nomen.db hl7.terminology.r4-7.0.1.tgz
    ///   nomen import --db nomen.db Loinc_2.78.zip
    ///   nomen import --db nomen.db --version 2.78-lt Loinc_2.78_national/
    ///   nomen import --db nomen.db icd102019en.xml
    ///   nomen import --db nomen.db specimen-type-2.0.0.csv
    ///   nomen import --db nomen.db --snomed-default-edition 1000247101 SnomedCT_RF2/
    #[command(verbatim_doc_comment)]
    Import {
        /// SQLite database file (created if missing).
        #[arg(long, env = "NOMEN_DB", default_value = "nomen.db")]
        db: PathBuf,
        /// Write nothing if any resource is rejected.
        #[arg(long)]
        strict: bool,
        /// Version to give a LOINC or ClaML release (default: the one it states).
        #[arg(long)]
        version: Option<String>,
        /// Code system URL to give a ClaML release (default: http://hl7.org/fhir/sid/icd-10).
        #[arg(long)]
        system: Option<String>,
        /// Mark the LOINC or ClaML code system as licensed content.
        #[arg(long)]
        licensed: bool,
        /// Make the SNOMED CT edition of this module id the default (the one served when
        /// a request names no version; its newest version wins). Without it, the
        /// International Edition (900000000000207008) is the default.
        #[arg(long, value_name = "MODULE")]
        snomed_default_edition: Option<u64>,
        /// Files, directories or packages to import.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("NOMEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let result = match cli.command {
        Command::Serve {
            config,
            db,
            addr,
            workers,
            max_body_bytes,
            no_fixtures,
            cache_entries,
            backup_dir,
            backup_key,
            backup_every,
            backup_keep,
        } => {
            let flags = nomen::config::Overrides {
                db,
                addr,
                workers,
                max_body_bytes,
                no_fixtures: no_fixtures.then_some(true),
                cache_entries,
                backup_dir,
                backup_key,
                backup_every,
                backup_keep,
            };
            ServeConfig::load(config.as_deref(), &flags)
                .map_err(Into::into)
                .and_then(serve)
        }
        Command::Admin(AdminCommand::Token { db, user, role }) => admin_token(&db, &user, &role),
        Command::Backup {
            db,
            out,
            key,
            keep,
            verify,
        } => run_backup(&db, out.as_deref(), &key, keep, verify.as_deref()),
        Command::Restore { from, key, db } => run_restore(&from, &key, &db),
        Command::Keygen { out } => nomen::backup::BackupKey::generate(&out)
            .map(|()| {
                println!(
                    "wrote a new backup key to {} (mode 600); keep it apart from the backups",
                    out.display()
                )
            })
            .map_err(Into::into),
        Command::Import {
            db,
            strict,
            version,
            system,
            licensed,
            snomed_default_edition,
            paths,
        } => run_import(
            &db,
            &paths,
            &ImportOptions {
                strict,
                version,
                system,
                licensed,
                snomed_default_edition,
            },
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error>;

fn serve(config: ServeConfig) -> Result<(), AnyError> {
    let backups = match (&config.backup_dir, &config.backup_key) {
        (Some(out_dir), Some(key)) => Some(Schedule {
            db: config.db.clone(),
            out_dir: out_dir.clone(),
            key: key.clone(),
            every: config.backup_interval(),
            keep: config.backup_keep,
            audit: None,
        }),
        (None, None) => None,
        _ => return Err("backups need both backup_dir and backup_key".into()),
    };
    if let Some(schedule) = &backups {
        schedule.check()?;
    }
    let store = Arc::new(Store::open(&config.db)?);
    if !config.no_fixtures {
        if let Some(report) = nomen::fixtures::load_if_empty(&store)? {
            tracing::info!(
                resources = report.loaded_total(),
                concepts = report.concepts,
                "empty database: loaded the bundled fixtures"
            );
        }
    }
    let (access, tls) = match &config.tls {
        Some(tls) => (
            nomen::access::setup::production(&store, tls, config.limits)?,
            Some(TlsFiles {
                cert: tls.cert.clone(),
                key: tls.key.clone(),
            }),
        ),
        None => {
            let access = nomen::http::development_access(&store)?;
            nomen::access::setup::spawn_refresh(access.clone(), None)?;
            (access, None)
        }
    };
    if let Some(token) = nomen::access::bootstrap_token(&store)? {
        access.reload()?;
        print_bootstrap_token(&token);
    }
    let listener = TcpListener::bind(config.addr)?;
    let bound = listener.local_addr()?;
    if tls.is_none() {
        warn_development_mode(bound);
    }
    let terminology = Arc::new(Terminology::new(store));
    let backup_status = backups.map(|mut schedule| {
        schedule.audit = Some(access.audit.clone());
        tracing::info!(
            dir = %schedule.out_dir.display(),
            every_seconds = schedule.every.as_secs(),
            keep = schedule.keep,
            "scheduled encrypted backups"
        );
        schedule.start()
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let settings = HttpSettings {
        max_body_bytes: config.max_body_bytes,
        workers: config.workers,
        cache_entries: config.cache_entries,
        backup_status,
        access: Some(access.clone()),
        tls,
        ..HttpSettings::default()
    };
    tracing::info!(db = %config.db.display(), "FHIR base {scheme}://{bound}/fhir");
    access.audit.record(nomen::model::register::AuditEvent {
        operation: "server.start".into(),
        outcome: "success".into(),
        detail: Some(format!("{scheme}://{bound}")),
        ..Default::default()
    });
    let ran = actix_web::rt::System::new()
        .block_on(async move { nomen::http::start(&settings, listener, terminology)?.await });
    access.audit.record(nomen::model::register::AuditEvent {
        operation: "server.stop".into(),
        outcome: "success".into(),
        ..Default::default()
    });
    // Every queued audit event is stored before the process ends.
    access.audit.shutdown();
    ran?;
    Ok(())
}

fn print_bootstrap_token(token: &str) {
    let line = "=".repeat(78);
    eprintln!(
        "{line}\n\
         == The register has no admin credential yet. Bootstrap admin token (shown ONCE,\n\
         == only its SHA-256 is stored; use it as `Authorization: Bearer <token>` on\n\
         == /admin, then register an administrator's certificate):\n\
         == NOMEN_BOOTSTRAP_TOKEN={token}\n\
         {line}"
    );
}

fn admin_token(db: &std::path::Path, user: &str, role: &str) -> Result<(), AnyError> {
    let role = match nomen::model::register::Role::parse(role) {
        Some(r @ (nomen::model::register::Role::Admin | nomen::model::register::Role::Auditor)) => {
            r
        }
        _ => return Err(format!("--role {role}: expected admin or auditor").into()),
    };
    let store = Store::open(db)?;
    let token = nomen::access::issue_token(&store, user, role)?;
    println!("{token}");
    Ok(())
}

fn warn_development_mode(addr: SocketAddr) {
    let line = "!".repeat(78);
    eprintln!(
        "{line}\n\
         !! DEVELOPMENT MODE: no TLS is configured.\n\
         !! Every loaded code system is served ANONYMOUSLY to anyone who can reach {addr},\n\
         !! with no client certificates, no licence checks and no audit trail.\n\
         !! Nomen binds to loopback only in this mode. Do not use it for production.\n\
         {line}"
    );
}

fn run_import(
    db: &std::path::Path,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<(), AnyError> {
    for path in paths {
        if !path.exists() {
            return Err(format!("{}: no such file or directory", path.display()).into());
        }
    }
    let store = Store::open(db)?;
    let progress = if console_is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {pos} resources and rows read [{elapsed}] {wide_msg}",
            )
            .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let report = import::import_paths(&store, paths, options, &progress)?;
    progress.finish_and_clear();
    print!("{}", report.summary());
    println!(
        "imported into {} in {:.2} s",
        db.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_backup(
    db: &std::path::Path,
    out: Option<&std::path::Path>,
    key: &std::path::Path,
    keep: usize,
    verify: Option<&std::path::Path>,
) -> Result<(), AnyError> {
    if let Some(file) = verify {
        let key = nomen::backup::BackupKey::read(key)?;
        let m = nomen::backup::verify(file, &key)?;
        println!(
            "{}: verified (authentication tag, SHA-256 {}, integrity check, {} tables); taken {} from {}, schema version {}",
            file.display(),
            m.sha256,
            m.tables.len(),
            m.created,
            m.source,
            m.schema_version
        );
        return Ok(());
    }
    if !db.exists() {
        return Err(format!("{}: no such database", db.display()).into());
    }
    let out = out.expect("clap requires --out without --verify");
    let outcome = nomen::backup::backup(db, out, key, keep);
    // The backup is audited in the database it copied (after the copy was taken).
    let event = nomen::backup::audit_event(&outcome);
    if let Ok(mut sink) = Store::open(db).and_then(|s| s.audit_sink()) {
        let mut event = event;
        event.time = nomen::access::audit::now();
        event
            .detail
            .get_or_insert_with(|| "nomen backup (command line)".into());
        if let Err(e) = sink.append(&[event]) {
            tracing::warn!("the backup could not be audited: {e}");
        }
    }
    let (m, path) = outcome?;
    println!(
        "wrote {} ({} bytes of database, {} compressed, SHA-256 {}) and its manifest",
        path.display(),
        m.plaintext_bytes,
        m.compressed_bytes,
        m.sha256
    );
    Ok(())
}

fn run_restore(
    from: &std::path::Path,
    key: &std::path::Path,
    db: &std::path::Path,
) -> Result<(), AnyError> {
    let key = nomen::backup::BackupKey::read(key)?;
    let m = nomen::backup::restore(from, &key, db)?;
    println!(
        "restored {} over {} (verified: SHA-256 {}, integrity check; taken {})",
        from.display(),
        db.display(),
        m.sha256,
        m.created
    );
    Ok(())
}

fn console_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
