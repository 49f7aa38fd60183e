//! Errors carry the right position and say what was expected and found.

use nomen_ecl::{parse, ParseError, MAX_DEPTH};

fn err(input: &str) -> ParseError {
    match parse(input) {
        Ok(e) => panic!("{input}: parsed as {e:?}"),
        Err(e) => e,
    }
}

fn check(input: &str, offset: usize, message: &str) {
    let e = err(input);
    assert_eq!((e.offset, e.message.as_str()), (offset, message), "{input}");
}

#[test]
fn empty_input() {
    check(
        "",
        0,
        "expected an expression constraint, found end of input",
    );
    check(
        "  /* only a comment */ ",
        23,
        "expected an expression constraint, found end of input",
    );
}

#[test]
fn missing_operand() {
    check(
        "< 404684003 AND",
        15,
        "expected a concept id, '*' or '(', found end of input",
    );
    check(
        "< 404 AND",
        2,
        "'404' is not a SNOMED CT identifier (6 to 18 digits, not starting with 0)",
    );
    check(
        "<< AND 404684003",
        3,
        "expected a concept id, '*' or '(', found 'AND'",
    );
    let e = err("<< AND 404684003");
    assert_eq!(
        e.to_string(),
        "expected a concept id, '*' or '(', found 'AND' at offset 3 (line 1, column 4)"
    );
}

#[test]
fn unbalanced_parentheses() {
    check(
        "(< 404684003 OR < 19829001",
        26,
        "expected ')', found end of input",
    );
    check("< 404684003)", 11, "expected end of input, found ')'");
    check("((404684003)", 12, "expected ')', found end of input");
}

#[test]
fn mixed_operators_need_parentheses() {
    check(
        "1234567 AND 2345678 OR 3456789",
        20,
        "cannot mix 'AND' and 'OR' without parentheses",
    );
    check(
        "1234567 , 2345678 MINUS 3456789",
        18,
        "cannot mix 'AND' and 'MINUS' without parentheses",
    );
    check(
        "1234567 MINUS 2345678 MINUS 3456789",
        22,
        "'MINUS' is binary: use parentheses, e.g. (a MINUS b) MINUS c",
    );
    check(
        "1234567 : { 1000001 = *, 1000002 = * OR 1000003 = * }",
        37,
        "cannot mix 'AND' and 'OR' without parentheses",
    );
    check(
        "1234567 : { 1000001 = * } OR { 1000002 = * }, { 1000003 = * }",
        44,
        "cannot mix 'OR' and 'AND' without parentheses",
    );
}

#[test]
fn keywords_need_separation() {
    check(
        "1234567 ANDx 2345678",
        8,
        "expected end of input, found 'ANDx'",
    );
    check(
        "1234567 AND<< 2345678",
        11,
        "expected whitespace after 'AND'",
    );
    check(
        "1234567AND 2345678",
        0,
        "expected a concept id, '*' or '(', found '1234567AND'",
    );
}

#[test]
fn bad_cardinality() {
    check(
        "1234567 : [3..1] 1000001 = *",
        14,
        "cardinality minimum 3 is greater than maximum 1",
    );
    check(
        "1234567 : [1.3] 1000001 = *",
        12,
        "expected '..', found '.'",
    );
    check(
        "1234567 : [a..1] 1000001 = *",
        11,
        "expected a cardinality (a whole number, or '*' as maximum), found 'a'",
    );
    check(
        "1234567 : [1..*] { [0..1] { 1000001 = * } }",
        19,
        "attribute groups cannot be nested",
    );
}

#[test]
fn unknown_filter_keyword() {
    check(
        "1234567 {{ colour = \"red\" }}",
        11,
        "expected a description filter (term, language, type, typeId, dialect, dialectId, moduleId, effectiveTime, active or id), found 'colour'",
    );
    check(
        "1234567 {{ C term = \"x\" }}",
        13,
        "expected a concept filter (definitionStatus, definitionStatusId, moduleId, effectiveTime or active), found 'term'",
    );
    check(
        "1234567 {{ term = \"x\" ",
        22,
        "expected ',' or '}}', found end of input",
    );
    check(
        "1234567 {{ +HISTORY-FOO }}",
        12,
        "expected 'HISTORY', 'HISTORY-MIN', 'HISTORY-MOD' or 'HISTORY-MAX', found 'HISTORY-FOO'",
    );
    check(
        "1234567 {{ term = match \"x\" }}",
        24,
        "expected ':', found '\"x\"'",
    );
    check(
        "1234567 {{ type = syns }}",
        18,
        "expected a description type (syn, fsn or def), found 'syns'",
    );
    check(
        "1234567 {{ C effectiveTime >= \"2019\" }}",
        30,
        "\"2019\" is not a date of the form \"yyyymmdd\"",
    );
    check(
        "1234567 {{ active = yes }}",
        20,
        "expected true, false, 1 or 0, found 'yes'",
    );
}

#[test]
fn filter_order_is_enforced() {
    check(
        "1234567 {{ +HISTORY }} {{ term = \"x\" }}",
        23,
        "the history supplement {{ +HISTORY }} must come after all filters",
    );
    check(
        "^ 1234567 {{ term = \"x\" }} {{ M active = 1 }}",
        27,
        "member filters {{ M … }} must come before description and concept filters",
    );
}

#[test]
fn trailing_garbage() {
    check(
        "404684003 404684003",
        10,
        "expected end of input, found '404684003'",
    );
    check(
        "< 1234567 : 1000001 = * AND < 2345678",
        37,
        "expected a comparison operator ('=', '!=', '<', '<=', '>', '>='), found end of input",
    );
    check(
        "1234567 . 1000001 AND 2345678",
        18,
        "expected end of input, found 'AND' (use parentheses to combine compound, refined or dotted expressions)",
    );
    check("1234567 ]", 8, "expected end of input, found ']'");
    check("1234567 §", 8, "unexpected character '§'");
}

#[test]
fn unterminated_string_comment_term() {
    check(
        "1234567 {{ term = \"heart }}",
        18,
        "unterminated string (missing closing '\"')",
    );
    check("1234567 /* comment", 8, "unterminated comment");
    check(
        "1234567 |Heart attack",
        8,
        "unterminated term (missing closing '|')",
    );
    check("1234567 | |", 8, "empty term between '|' and '|'");
}

#[test]
fn value_errors() {
    check(
        "1234567 : 1000001 < 2345678",
        20,
        "expected '#' and a number after '<', found '2345678'",
    );
    check("1234567 : 1000001 = #", 21, "expected a number after '#'");
    check("1234567 : 1000001 = # 5", 21, "expected a number after '#'");
    check(
        "1234567 : 1000001 = #1.",
        22,
        "expected digits after the decimal point",
    );
    check(
        "1234567 : 1000001 1000002",
        18,
        "expected a comparison operator ('=', '!=', '<', '<=', '>', '>='), found '1000002'",
    );
    check(
        "1234567 {{ term = \"a\\x\" }}",
        20,
        "invalid escape '\\x' (allowed: '\\\"', '\\\\')",
    );
    check("1234567 {{ term = \"  \" }}", 18, "empty search term");
    let huge = format!("1234567 : 1000001 = #{}", "9".repeat(400));
    check(
        &huge,
        21,
        &format!("number {} is out of range", "9".repeat(400)),
    );
}

#[test]
fn positions_have_lines_and_columns() {
    let e = err("< 404684003 |Clinical finding| :\n  363698007 = \n  AND");
    assert_eq!((e.line, e.column), (3, 3));
    assert_eq!(e.message, "expected a concept id, '*' or '(', found 'AND'");
}

/// Runs `f` on a thread with a 2 MiB stack, the default for spawned threads.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn nesting_is_limited_not_overflowing() {
    on_small_stack(|| {
        for depth in [MAX_DEPTH + 1, 10_000, 1_000_000] {
            let deep = format!("{}1234567{}", "(".repeat(depth), ")".repeat(depth));
            let e = err(&deep);
            assert!(e.message.contains("nested too deeply"), "{}", e.message);
        }
        // Deep refinements, attribute values and attribute-name parentheses too.
        let values = format!("1234567 : {}*", "1000001 = (1234567 : ".repeat(5_000));
        assert!(err(&values).message.contains("nested too deeply"));
        let names = format!("1234567 : {}1000001 = *", "(".repeat(5_000));
        assert!(err(&names).message.contains("nested too deeply"));
        let filters = format!("1234567{}", " {{ typeId = (1234567".repeat(5_000));
        assert!(err(&filters).message.contains("nested too deeply"));
        let ops = "<< ".repeat(10_000);
        assert!(parse(&ops).is_err());
    });
}

#[test]
fn nesting_within_the_limit_parses() {
    on_small_stack(|| {
        // Unoptimised builds hit the stack budget before MAX_DEPTH (see STACK_BUDGET).
        let depth = if cfg!(debug_assertions) {
            100
        } else {
            MAX_DEPTH - 1
        };
        let deep = format!("{}1234567{}", "(".repeat(depth), ")".repeat(depth));
        let parsed = parse(&deep).unwrap();
        assert_eq!(parse(&parsed.to_string()).unwrap(), parsed);
        let names = format!("1234567 : {}1000001 = *{}", "(".repeat(90), ")".repeat(90));
        parse(&names).unwrap();
    });
}

#[test]
fn long_inputs_parse_in_linear_time() {
    let wide = vec!["<< 1234567"; 20_000].join(" OR ");
    assert!(parse(&wide).is_ok());
    let refinement = format!("1234567 : {}", vec!["1000001 = *"; 20_000].join(", "));
    assert!(parse(&refinement).is_ok());
}
