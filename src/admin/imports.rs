//! Releases loaded while serving (`POST /admin/imports`): an import of files already on
//! the server (a release is hundreds of megabytes; it is copied to the server, not
//! uploaded through the API) runs on its own thread through the same one-transaction
//! importer as `nomen import`, so readers see the old content until the new release
//! commits whole. Its progress is readable while it runs; its start and end are audited.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Actor, AdminError, AdminResult};
use crate::access::Audit;
use crate::import::{self, ImportOptions};
use crate::model::register::{AuditEvent, Outcome};
use crate::store::Store;

/// What to import.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// Files or directories on the server: FHIR packages and resources, a LOINC release,
    /// ClaML, CSV classifiers (recognised by content, as by `nomen import`).
    #[schema(example = json!(["/srv/releases/Loinc_2.78.zip"]))]
    pub paths: Vec<String>,
    /// Write nothing if anything is rejected.
    #[serde(default)]
    pub strict: bool,
    /// Version to give a LOINC or ClaML release.
    pub version: Option<String>,
    /// Code system URL to give a ClaML release.
    pub system: Option<String>,
    /// Mark the LOINC or ClaML code system as licensed.
    #[serde(default)]
    pub licensed: bool,
}

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportState {
    Running,
    Done,
    Failed,
}

/// An import's status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportStatus {
    pub id: u64,
    pub paths: Vec<String>,
    pub state: ImportState,
    pub started: String,
    pub finished: Option<String>,
    /// Items processed so far (rows or resources), and the total when known.
    pub progress: u64,
    pub total: Option<u64>,
    /// What is being read now.
    pub current: Option<String>,
    /// Resources loaded by type, when done.
    pub loaded: BTreeMap<String, usize>,
    pub concepts: usize,
    /// Rejected items (origin and reason), when done.
    pub rejected: Vec<(String, String)>,
    pub error: Option<String>,
    /// Who started it.
    pub user: Option<String>,
}

struct Job {
    status: Mutex<ImportStatus>,
    bar: ProgressBar,
}

/// The imports this server has run since it started.
#[derive(Default)]
pub struct Imports {
    jobs: Mutex<Vec<Arc<Job>>>,
}

fn now() -> String {
    crate::access::audit::now()
}

impl Imports {
    /// Every import, newest first, with live progress.
    pub fn list(&self) -> Vec<ImportStatus> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.iter().rev().map(|j| snapshot(j)).collect()
    }

    /// One import.
    pub fn get(&self, id: u64) -> AdminResult<ImportStatus> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.iter()
            .find(|j| j.status.lock().map(|s| s.id == id).unwrap_or(false))
            .map(|j| snapshot(j))
            .ok_or_else(|| AdminError::NotFound(format!("import {id} is not known")))
    }

    /// Checks the paths and starts the import on its own thread.
    pub fn start(
        &self,
        store: Arc<Store>,
        audit: Audit,
        actor: &Actor,
        request: ImportRequest,
    ) -> AdminResult<ImportStatus> {
        if request.paths.is_empty() {
            return Err(AdminError::Invalid(
                "paths: at least one file or directory".into(),
            ));
        }
        for p in &request.paths {
            if !std::path::Path::new(p).exists() {
                return Err(AdminError::Invalid(format!(
                    "{p}: no such file or directory on the server"
                )));
            }
        }
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let id = jobs.len() as u64 + 1;
        let job = Arc::new(Job {
            status: Mutex::new(ImportStatus {
                id,
                paths: request.paths.clone(),
                state: ImportState::Running,
                started: now(),
                finished: None,
                progress: 0,
                total: None,
                current: None,
                loaded: BTreeMap::new(),
                concepts: 0,
                rejected: Vec::new(),
                error: None,
                user: actor.identity.user.clone(),
            }),
            bar: ProgressBar::hidden(),
        });
        jobs.push(job.clone());
        drop(jobs);
        let mut event = AuditEvent {
            operation: "admin/import.start".into(),
            target: Some(request.paths.join(" ")),
            outcome: Outcome::Success.as_str().into(),
            status: Some(202),
            request_id: actor.request_id.clone(),
            after: serde_json::to_string(&request).ok(),
            ..AuditEvent::default()
        };
        actor.identity.stamp(&mut event);
        audit.record(event.clone());
        let started = snapshot(&job);
        std::thread::Builder::new()
            .name(format!("nomen-import-{id}"))
            .spawn(move || run(&store, &audit, &job, &request, event))
            .map_err(|e| AdminError::Invalid(format!("cannot start the import: {e}")))?;
        Ok(started)
    }
}

fn snapshot(job: &Job) -> ImportStatus {
    let mut status = job.status.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if status.state == ImportState::Running {
        status.progress = job.bar.position();
        status.total = job.bar.length();
        let message = job.bar.message();
        status.current = (!message.is_empty()).then_some(message);
    }
    status
}

fn run(store: &Store, audit: &Audit, job: &Job, request: &ImportRequest, mut event: AuditEvent) {
    let paths: Vec<PathBuf> = request.paths.iter().map(PathBuf::from).collect();
    let options = ImportOptions {
        strict: request.strict,
        version: request.version.clone(),
        system: request.system.clone(),
        licensed: request.licensed,
        snomed_default_edition: None,
    };
    let result = import::import_paths(store, &paths, &options, &job.bar);
    let mut status = job.status.lock().unwrap_or_else(|p| p.into_inner());
    status.finished = Some(now());
    status.progress = job.bar.position();
    status.total = job.bar.length();
    status.current = None;
    event.operation = "admin/import.finish".into();
    event.time = String::new();
    event.status = None;
    match result {
        Ok(report) => {
            status.state = ImportState::Done;
            status.loaded = report.loaded.clone();
            status.concepts = report.concepts;
            status.rejected = report.rejected.clone();
            event.detail = Some(report.summary());
        }
        Err(e) => {
            status.state = ImportState::Failed;
            status.error = Some(e.to_string());
            event.outcome = Outcome::Error.as_str().into();
            event.detail = Some(e.to_string());
        }
    }
    tracing::info!(id = status.id, state = ?status.state, "import finished");
    audit.record(event);
}
