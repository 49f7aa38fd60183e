//! What a request and its answer reveal of licensed content.
//!
//! The policy does not trust any one code path to declare what it read: it looks at the
//! request (path, query, body) and at the answer's bytes for the canonical URLs (and
//! resource ids) of the licensed code systems. An answer that names a licensed system —
//! an expansion entry, a validation result, a map target, a `used-codesystem`, the
//! resource itself — or a request that asks about one, reveals that system's content.
//! The scan is a substring search per licensed system (a handful), microseconds for
//! ordinary answers, and works the same for JSON and XML and for cached answers.

use memchr::memmem;

use crate::core::{LicensedSystem, SNOMED_CT};

/// A licensed code system that a request touched, with the SNOMED CT module when the
/// edition URI named one (`http://snomed.info/sct/{module}/version/{date}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Touched {
    pub system: String,
    pub edition: Option<String>,
}

/// The licensed systems `texts` mention, and the `CodeSystem/{id}` of `path`.
pub fn touched(licensed: &[LicensedSystem], path: &str, texts: &[&[u8]]) -> Vec<Touched> {
    let mut found = Vec::new();
    let instance = path
        .split_once("/CodeSystem/")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default());
    for system in licensed {
        let by_path = instance.is_some_and(|id| system.resource_ids.iter().any(|r| r == id));
        let mut editions = Vec::new();
        let mut seen = by_path;
        for text in texts {
            for at in memmem::find_iter(text, system.url.as_bytes()) {
                let rest = &text[at + system.url.len()..];
                if !at_boundary(rest) || (system.url == SNOMED_CT && fhir_metadata(rest)) {
                    continue;
                }
                seen = true;
                if system.url == SNOMED_CT {
                    if let Some(module) = snomed_module(rest) {
                        if !editions.contains(&module) {
                            editions.push(module);
                        }
                    }
                }
            }
        }
        if !seen {
            continue;
        }
        if editions.is_empty() {
            found.push(Touched {
                system: system.url.clone(),
                edition: None,
            });
        }
        for edition in editions {
            found.push(Touched {
                system: system.url.clone(),
                edition: Some(edition),
            });
        }
    }
    found.sort();
    found
}

/// SNOMED CT concepts FHIR itself uses as designation `use` and acceptability codes
/// (fully specified name, synonym, definition; preferred, acceptable). Code systems of
/// every kind carry them, so naming one is not SNOMED CT content.
const FHIR_METADATA: &[&str] = &[
    "900000000000003001",
    "900000000000013009",
    "900000000000550004",
    "900000000000548007",
    "900000000000549004",
];

/// Whether the Coding that starts with this system URL has one of [`FHIR_METADATA`] as
/// its code (`"code":"..."` in JSON, `<code value="..."` in XML, within the Coding).
fn fhir_metadata(rest: &[u8]) -> bool {
    let window = &rest[..rest.len().min(120)];
    let Some(at) = memmem::find(window, b"code") else {
        return false;
    };
    let digits: Vec<u8> = window[at + 4..]
        .iter()
        .skip_while(|b| !b.is_ascii_digit())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    let between = &window[at + 4..];
    // Only the Coding's own code: no other element may open before the digits.
    let gap = between.iter().take_while(|b| !b.is_ascii_digit()).count();
    gap <= 12
        && FHIR_METADATA
            .iter()
            .any(|m| m.as_bytes() == digits.as_slice())
}

/// Whether a URL match ends where a URL ends (so `.../cs/a` does not match `.../cs/ab`).
fn at_boundary(rest: &[u8]) -> bool {
    match rest.first() {
        None => true,
        Some(b) => !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')),
    }
}

/// The module id of a SNOMED CT edition URI's remainder (`/900000000000207008/version/...`).
fn snomed_module(rest: &[u8]) -> Option<String> {
    let rest = rest.strip_prefix(b"/")?;
    let digits: Vec<u8> = rest
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    (digits.len() >= 6).then(|| String::from_utf8_lossy(&digits).into_owned())
}

/// How many codes an answer carries: its `code` elements (`"code":` in JSON, `<code ` in
/// XML). The per-hour quota against bulk copying counts these.
pub fn codes_in(body: &[u8]) -> u64 {
    use std::sync::OnceLock;
    static FINDERS: OnceLock<[memmem::Finder<'static>; 2]> = OnceLock::new();
    let [json, xml] = FINDERS.get_or_init(|| {
        [
            memmem::Finder::new(b"\"code\":"),
            memmem::Finder::new(b"<code "),
        ]
    });
    (json.find_iter(body).count() + xml.find_iter(body).count()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn licensed() -> Vec<LicensedSystem> {
        vec![
            LicensedSystem {
                url: SNOMED_CT.into(),
                resource_ids: vec!["sct".into()],
            },
            LicensedSystem {
                url: "https://example.lt/cs/a".into(),
                resource_ids: vec!["a".into()],
            },
        ]
    }

    #[test]
    fn finds_systems_editions_and_paths() {
        let body = br#"{"system":"http://snomed.info/sct","version":"http://snomed.info/sct/11000172109/version/20261115"}"#;
        let t = touched(&licensed(), "/fhir/ValueSet/$expand", &[body]);
        assert_eq!(
            t,
            vec![Touched {
                system: SNOMED_CT.into(),
                edition: Some("11000172109".into())
            }]
        );
        let t = touched(&licensed(), "/fhir/CodeSystem/a/$lookup", &[b"{}"]);
        assert_eq!(t[0].system, "https://example.lt/cs/a");
        assert!(touched(&licensed(), "/fhir/x", &[b"https://example.lt/cs/ab"]).is_empty());
        assert!(touched(&licensed(), "/fhir/CodeSystem/ab", &[b""]).is_empty());
    }

    #[test]
    fn designation_use_codes_are_not_content() {
        let json = br#"{"use":{"system":"http://snomed.info/sct","code":"900000000000013009"}}"#;
        assert!(touched(&licensed(), "/fhir/CodeSystem/$lookup", &[json]).is_empty());
        let pretty =
            b"\"system\": \"http://snomed.info/sct\",\n      \"code\": \"900000000000003001\"";
        assert!(touched(&licensed(), "/fhir/x", &[pretty]).is_empty());
        let xml = br#"<system value="http://snomed.info/sct"/><code value="900000000000550004"/>"#;
        assert!(touched(&licensed(), "/fhir/x", &[xml]).is_empty());
        let content = br#"{"system":"http://snomed.info/sct","code":"73211009"}"#;
        assert_eq!(touched(&licensed(), "/fhir/x", &[content]).len(), 1);
    }

    #[test]
    fn counts_codes_in_both_formats() {
        assert_eq!(codes_in(br#"[{"code":"a"},{"code":"b"}]"#), 2);
        assert_eq!(codes_in(br#"<contains><code value="a"/></contains>"#), 1);
    }
}
