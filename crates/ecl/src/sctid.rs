//! SNOMED CT identifier checks: form, Verhoeff check digit and partition.
//!
//! The parser checks only the form (6–18 digits, no leading zero) so that a mistyped id
//! reaches the evaluator, which can say "unknown concept 123456" rather than a vaguer
//! syntax error. These functions are for callers that want the stricter check.

/// Verhoeff multiplication table (the dihedral group D5).
const D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

/// Verhoeff permutation table, indexed by position modulo 8.
const P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Whether `digits` (check digit last) passes the Verhoeff check. False for an empty
/// string or any non-digit, so it can be applied to untrusted text directly.
pub fn verhoeff_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let check = digits.bytes().rev().enumerate().fold(0u8, |c, (i, b)| {
        D[c as usize][P[i % 8][(b - b'0') as usize] as usize]
    });
    check == 0
}

/// Whether `s` has the form of an SCTID: 6 to 18 ASCII digits, the first not zero.
/// This is all the parser requires.
pub fn is_sctid_form(s: &str) -> bool {
    (6..=18).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')
}

/// Whether `s` is a fully valid SCTID: the right form, a valid Verhoeff check digit and a
/// known partition identifier (the two digits before the check digit: `00`–`02` for the
/// international short format, `10`–`12` for namespaced long-format ids, which need at
/// least 11 digits to hold the 7-digit namespace).
pub fn is_valid_sctid(s: &str) -> bool {
    if !is_sctid_form(s) || !verhoeff_valid(s) {
        return false;
    }
    let partition = &s[s.len() - 3..s.len() - 1];
    match partition {
        "00" | "01" | "02" => true,
        "10" | "11" | "12" => s.len() >= 11,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_are_valid() {
        for id in [
            "138875005",
            "404684003",
            "73211009",
            "195967001",
            "900000000000509007",
            "900000000000527005",
            "999001261000000100",
        ] {
            assert!(is_valid_sctid(id), "{id}");
        }
    }

    #[test]
    fn a_changed_digit_fails_the_check() {
        assert!(!verhoeff_valid("138875006"));
        assert!(!is_valid_sctid("73211008"));
    }

    #[test]
    fn form_rules() {
        assert!(is_sctid_form("100000"));
        assert!(!is_sctid_form("12345"));
        assert!(!is_sctid_form("0123456"));
        assert!(!is_sctid_form("1234567890123456789"));
        assert!(!is_sctid_form("12a456"));
        assert!(!verhoeff_valid(""));
    }

    #[test]
    fn partition_must_be_known() {
        // 1234567 + partition 05 + Verhoeff digit: a valid check digit, bad partition.
        let base = "123456705";
        let with_check = (0..10)
            .map(|d| format!("{base}{d}"))
            .find(|s| verhoeff_valid(s))
            .unwrap();
        assert!(!is_valid_sctid(&with_check));
    }
}
