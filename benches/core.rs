//! Criterion benchmarks of the terminology core, without HTTP: each iteration opens a
//! snapshot (as every request does) and runs one operation against the bundled fixtures.
//!
//! Run: `cargo bench --bench core`

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use nomen::core::{
    expand, lookup, subsumes, translate, validate_code, validate_in_value_set, CodingSource,
    ExpandRequest, LookupRequest, SubsumesRequest, Terminology, TranslateRequest,
    ValidateCodeRequest, ValueSetSource, ValueSetValidateRequest, VersionRules,
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
        text: None,
        supplements: Vec::new(),
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

fn value_set_operations(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = terminology(&dir);
    let expand_req = |filter: Option<&str>| ExpandRequest {
        source: ValueSetSource::Canonical {
            url: "http://terminology.hl7.org/ValueSet/v3-ActCode".into(),
            version: None,
        },
        filter: filter.map(str::to_owned),
        offset: 0,
        count: Some(10),
        active_only: false,
        include_designations: false,
        include_definition: false,
        display_language: None,
        limit: 10_000,
        exclude_not_for_ui: false,
        properties: Vec::new(),
        versions: VersionRules::default(),
        date: None,
        designations: Vec::new(),
        supplements: Vec::new(),
        exclude_nested: None,
    };
    let paged = expand_req(None);
    c.bench_function("core/expand-1302-codes-count10", |b| {
        b.iter(|| {
            let snap = t.snapshot().unwrap();
            expand(&snap, &paged).unwrap()
        })
    });
    let filtered = expand_req(Some("ambul"));
    c.bench_function("core/expand-text-filter", |b| {
        b.iter(|| {
            let snap = t.snapshot().unwrap();
            expand(&snap, &filtered).unwrap()
        })
    });
    let membership = ValueSetValidateRequest {
        source: ValueSetSource::Canonical {
            url: "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode".into(),
            version: None,
        },
        coding: ValidateCodeRequest {
            url: Some(ACT.into()),
            version: None,
            codings: vec![Coding {
                system: Some(ACT.into()),
                code: Some("AMB".into()),
                ..Coding::default()
            }],
            source: CodingSource::Code,
            display_language: None,
            abstract_allowed: true,
            lenient_display: false,
            text: None,
            supplements: Vec::new(),
        },
        date: None,
        versions: Default::default(),
        active_only: false,
        membership_only: false,
    };
    c.bench_function("core/valueset-validate-code-is-a", |b| {
        b.iter(|| {
            let snap = t.snapshot().unwrap();
            let r = validate_in_value_set(&snap, &membership).unwrap();
            assert!(r.result);
            r
        })
    });
    let translate_req = TranslateRequest {
        map_url: Some("http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v3".into()),
        system: Some("http://hl7.org/fhir/administrative-gender".into()),
        code: "male".into(),
        ..TranslateRequest::default()
    };
    c.bench_function("core/translate", |b| {
        b.iter(|| {
            let snap = t.snapshot().unwrap();
            let r = translate(&snap, &translate_req).unwrap();
            assert!(r.result);
            r
        })
    });
}

criterion_group!(benches, codesystem_operations, value_set_operations);
criterion_main!(benches);
