//! Nomen: a FHIR R4 terminology server for a national terminology service.
//!
//! Layers, and the only direction they depend in:
//! `http → fhir → core → store → model`; `import → store`.
//! The `nomen` binary (`src/main.rs`) is a thin command line over this library, and the
//! integration tests start the same server through [`http::start`].

pub mod access;
pub mod admin;
pub mod backup;
pub mod config;
pub mod core;
pub mod fhir;
pub mod fixtures;
pub mod fuzzing;
pub mod http;
pub mod import;
pub mod model;
pub mod store;
