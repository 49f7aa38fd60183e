//! An ECL expression constraint as `nomen-ecl` parses it; what parses must print as ECL
//! that parses back to the same tree.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expression) = nomen_ecl::parse(text) {
        let shown = expression.to_string();
        let again = nomen_ecl::parse(&shown)
            .unwrap_or_else(|e| panic!("display of {text:?} is {shown:?}, which fails: {e}"));
        assert_eq!(again, expression, "display of {text:?} is {shown:?}");
    }
});
