//! Every seed of every fuzz target (`fuzz/seeds/<target>/`, which keeps the inputs that
//! once crashed a target) replayed through the target's own body (`nomen::fuzzing`): the
//! CI smoke of the fuzzers, without their instrumented build. A panic fails the test and
//! names the input.

use std::path::Path;

#[test]
fn every_fuzz_seed_runs_through_its_target_without_a_panic() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut replayed = 0;
    for (target, run) in nomen::fuzzing::TARGETS {
        let dir = seeds.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{target} has no seeds");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target} panicked on {}", file.display());
            replayed += 1;
        }
    }
    // Every target listed in fuzz/Cargo.toml is replayed.
    let manifest = std::fs::read_to_string(seeds.join("../Cargo.toml")).unwrap();
    let declared = manifest.matches("[[bin]]").count();
    assert_eq!(declared, nomen::fuzzing::TARGETS.len());
    assert!(replayed >= declared);
}
