//! A ClaML file as `nomen import` reads it (classes, rubrics, modifiers, hierarchy).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nomen::fuzzing::claml(data));
