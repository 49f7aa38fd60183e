//! One integration-test binary (link time matters on small machines), a module per area.
//! Every test talks HTTP to the real server over a real SQLite file.

mod access;
mod backup;
mod cli;
mod codesystem_ops;
mod compare;
mod errors;
mod fuzz_seeds;
mod import;
mod observe;
mod openapi;
mod package;
mod releases;
mod reliability;
mod resources;
mod snomed;
mod snomed_rf2;
mod support;
mod translate;
mod valuesets;
