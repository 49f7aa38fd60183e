//! Criterion benchmarks of the terminology core, without HTTP: each iteration opens a
//! snapshot (as every request does) and runs one operation against the bundled fixtures.
//!
//! Run: `cargo bench --bench core`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use nomen::core::{
    lookup, subsumes, validate_code, CodingSource, LookupRequest, SubsumesRequest, Terminology,
    ValidateCodeRequest,
};
use nomen::model::Coding;
use nomen::store::Store;

const ACT: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

fn terminology(dir: &tempfile::TempDir) -> Terminology {
    let store = Store::open(&dir.path().join("bench.db")).expect("open store");
    nomen::fixtures::load_if_empty(&store).expect("load fixtures");
    Terminology::new(Arc::new(store))
}

fn codesystem_operations(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = terminology(&dir);

    let lookup_req = LookupRequest {
        system: ACT.into(),
        code: "AMB".into(),
        ..LookupRequest::default()
    };
    c.bench_function("core/lookup", |b| {
        b.iter(|| {
            let snap = t.snapshot().unwrap();
            lookup(&snap, &lookup_req).unwrap()
        })
    });

    let validate_req = ValidateCodeRequest {
        url: Some(ACT.into()),
        version: None,
        codings: vec![Coding {
            system: Some(ACT.into()),
            code: Some("AMB".into()),
            display: Some("ambulatory".into()),
            version: None,
        }],
        source: CodingSource::Code,
        display_language: None,
        abstract_allowed: true,
        lenient_display: false,
    };
    c.bench_function("core/validate-code", |b| {
        b.iter(|| {
            let snap = t.snapshot().unwrap();
            let r = validate_code(&snap, &validate_req).unwrap();
            assert!(r.result);
            r
        })
    });

    let subsumes_req = SubsumesRequest {
        system: ACT.into(),
        version: None,
        code_a: "_ActEncounterCode".into(),
        code_b: "AMB".into(),
    };
    c.bench_function("core/subsumes", |b| {
        b.iter(|| {
            let snap = t.snapshot().unwrap();
            subsumes(&snap, &subsumes_req).unwrap()
        })
    });
}

criterion_group!(benches, codesystem_operations);
criterion_main!(benches);
