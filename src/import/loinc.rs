//! LOINC release (directory or `.zip`) → one `http://loinc.org` code system version plus
//! the answer-list value sets.
//!
//! What is read, by file (all optional except `Loinc.csv`):
//! - `LoincTable/Loinc.csv`: every term, `LONG_COMMON_NAME` as display, every other column
//!   as a property named as in the FHIR LOINC code system (the six axes as Codings to their
//!   parts), `STATUS` `DEPRECATED` → inactive, `SHORTNAME` / `DisplayName` /
//!   `CONSUMER_NAME` as designations;
//! - `Part.csv` and `LoincPartLink*.csv`: parts (`LP…`) as concepts, and each link as a
//!   Coding property of the term named by the link's property URI;
//! - `AnswerList.csv` and `LoincAnswerListLink.csv`: answer lists (`LL…`) and answers
//!   (`LA…`) as concepts, each list as the value set `http://loinc.org/vs/{LL}` in answer
//!   order, and `answer-list` properties on the terms;
//! - `ComponentHierarchyBySystem.csv`: the multiaxial hierarchy, as parent links (and so
//!   `parent`/`child`, the closure and `is-a`);
//! - `LinguisticVariants.csv` and each `{lang}{COUNTRY}{id}LinguisticVariant.csv`: the
//!   translated names as designations in the variant's BCP-47 language (`lt-LT`).
//!
//! Every code is checked for its mod-10 check digit; a row that fails is rejected with
//! its file and line, and the rest still load.

use std::collections::{BTreeMap, HashMap};

use indicatif::ProgressBar;
use serde_json::{json, Value as Json};

use super::release::ReleaseFiles;
use super::table::{for_each_row, Row};
use super::{closure::transitive_closure, ImportError};
use crate::model::{
    CodeSystemLoad, CodeSystemMeta, Coding, ConceptLoad, Designation, PropertyDef, PropertyType,
    PropertyValue, Value,
};

/// The LOINC code system URL.
pub const LOINC: &str = "http://loinc.org";
const LOINC_TABLE: &str = "LoincTable/Loinc.csv";
const PROPERTY_URI: &str = "http://loinc.org/property/";

/// The six axes of a LOINC term: the `Loinc.csv` column, which is also the FHIR property
/// code, and the `PartTypeName` of the parts it refers to.
const AXES: &[(&str, &str)] = &[
    ("COMPONENT", "COMPONENT"),
    ("PROPERTY", "PROPERTY"),
    ("TIME_ASPCT", "TIME"),
    ("SYSTEM", "SYSTEM"),
    ("SCALE_TYP", "SCALE"),
    ("METHOD_TYP", "METHOD"),
];

/// `Loinc.csv` columns read as integers (the FHIR LOINC code system types them so).
const INTEGER_COLUMNS: &[&str] = &["COMMON_TEST_RANK", "COMMON_ORDER_RANK"];

/// `Loinc.csv` columns that are also designations of the term (English, US).
const DESIGNATION_COLUMNS: &[&str] = &["SHORTNAME", "DisplayName", "CONSUMER_NAME"];

/// Whether `files` is a LOINC release.
pub fn is_release(files: &ReleaseFiles) -> bool {
    files.find(LOINC_TABLE).is_some()
}

/// What a LOINC release becomes.
pub struct LoincRelease {
    pub code_system: CodeSystemLoad,
    /// One FHIR ValueSet per answer list.
    pub value_sets: Vec<Json>,
}

/// Reads a LOINC release. `version` overrides the version, which otherwise is taken
/// from the release's name (`Loinc_2.78`) or, failing that, the newest
/// `VersionLastChanged` of its terms.
pub fn read(
    files: &ReleaseFiles,
    version: Option<&str>,
    progress: &ProgressBar,
    rejected: &mut Vec<(String, String)>,
) -> Result<LoincRelease, ImportError> {
    let mut builder = Builder::default();
    if let Some(name) = files
        .find("PartFile/Part.csv")
        .or_else(|| files.find("Part.csv"))
    {
        builder.read_parts(files, name, progress, rejected)?;
    }
    let table = files.find(LOINC_TABLE).expect("checked by is_release");
    builder.read_terms(files, table, progress, rejected)?;
    for name in files.matching(|n| file_name(n).starts_with("LoincPartLink") && n.ends_with(".csv"))
    {
        builder.read_part_links(files, name, progress, rejected)?;
    }
    let mut value_sets = Vec::new();
    if let Some(name) = files.find("AnswerList.csv") {
        value_sets = builder.read_answer_lists(files, name, progress, rejected)?;
    }
    if let Some(name) = files.find("LoincAnswerListLink.csv") {
        builder.read_answer_list_links(files, name, progress, rejected)?;
    }
    if let Some(name) = files.find("ComponentHierarchyBySystem.csv") {
        builder.read_hierarchy(files, name, progress, rejected)?;
    }
    if let Some(name) = files.find("LinguisticVariants.csv") {
        builder.read_linguistic_variants(files, name, progress, rejected)?;
    }
    let version = version
        .map(str::to_owned)
        .or_else(|| version_from_name(files))
        .or_else(|| builder.newest_version.clone())
        .unwrap_or_default();
    for vs in &mut value_sets {
        vs["version"] = json!(version);
        vs["compose"]["include"][0]["version"] = json!(version);
    }
    Ok(LoincRelease {
        code_system: builder.finish(version),
        value_sets,
    })
}

/// Whether `code` is well formed: a LOINC number (`12345-6`, prefix `""`) with the right
/// mod-10 check digit, or a part, answer or answer-list code (`LP…`, `LA…`, `LL…`) of
/// digits, a hyphen and one check digit. Only the LOINC number's check digit is
/// recomputed: Regenstrief documents that algorithm for LOINC numbers alone.
pub fn valid_code(code: &str, prefix: &str) -> bool {
    let Some(rest) = code.strip_prefix(prefix) else {
        return false;
    };
    let Some((number, check)) = rest.split_once('-') else {
        return false;
    };
    let well_formed = !number.is_empty()
        && number.len() <= 9
        && number.bytes().all(|b| b.is_ascii_digit())
        && check.len() == 1
        && check.as_bytes()[0].is_ascii_digit();
    well_formed && (!prefix.is_empty() || check_digit(number) == check.as_bytes()[0] - b'0')
}

/// LOINC's mod-10 check digit of a string of digits: from the right, every other digit
/// (starting with the last) is doubled, the digits of all are summed, and the check digit
/// brings the sum to a multiple of ten.
pub fn check_digit(number: &str) -> u8 {
    let sum: u32 = number
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Reads one CSV file of the release, row by row, counting rows on the progress bar.
fn read_table(
    files: &ReleaseFiles,
    name: &str,
    progress: &ProgressBar,
    required: &[&str],
    rejected: &mut Vec<(String, String)>,
    mut each: impl FnMut(&Row) -> Result<(), String>,
) -> Result<usize, ImportError> {
    let bytes = files.read(name)?;
    progress.set_message(file_name(name).to_string());
    for_each_row(
        &files.describe(name),
        &bytes,
        0,
        required,
        rejected,
        |row| {
            progress.inc(1);
            each(row)
        },
    )
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `2.78` from a release named like `Loinc_2.78` or `LOINC_2.78_Text`.
fn version_from_name(files: &ReleaseFiles) -> Option<String> {
    let name = files.origin().file_name()?.to_string_lossy().to_string();
    let lower = name.to_ascii_lowercase();
    let rest = lower.strip_prefix("loinc_")?;
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let version = version.trim_end_matches('.');
    (!version.is_empty()).then(|| version.to_string())
}

fn loinc_use(code: &str) -> Option<Coding> {
    Some(Coding {
        system: Some(LOINC.into()),
        code: Some(code.into()),
        display: None,
        version: None,
    })
}

fn designation(language: &str, use_code: &str, value: &str) -> Designation {
    Designation {
        language: Some(language.into()),
        use_: loinc_use(use_code),
        value: value.into(),
        extensions: Vec::new(),
    }
}

fn loinc_coding(code: Option<&str>, display: &str) -> Value {
    Value::Coding(Coding {
        system: Some(LOINC.into()),
        code: code.map(str::to_owned),
        display: Some(display.into()),
        version: None,
    })
}

#[derive(Default)]
struct Builder {
    concepts: Vec<ConceptLoad>,
    index: HashMap<String, u32>,
    /// Parts by `(PartTypeName, PartName)`, to resolve the axis texts of `Loinc.csv`.
    parts_by_name: HashMap<(String, String), String>,
    /// Declared properties, by code, in the order first met.
    properties: BTreeMap<String, PropertyDef>,
    property_order: Vec<String>,
    links: Vec<(u32, u32)>,
    newest_version: Option<String>,
}

impl Builder {
    fn declare(&mut self, code: &str, type_: PropertyType, description: &str) {
        if self.properties.contains_key(code) {
            return;
        }
        let uri = match code {
            "parent" | "child" => format!("http://hl7.org/fhir/concept-properties#{code}"),
            _ => format!("{PROPERTY_URI}{code}"),
        };
        self.properties.insert(
            code.to_string(),
            PropertyDef {
                code: code.to_string(),
                uri: Some(uri),
                type_,
                description: (!description.is_empty()).then(|| description.to_string()),
            },
        );
        self.property_order.push(code.to_string());
    }

    /// The concept with `code`, created with `display` if it is new.
    fn concept(&mut self, code: &str, display: &str) -> u32 {
        if let Some(&i) = self.index.get(code) {
            return i;
        }
        let i = self.concepts.len() as u32;
        self.concepts.push(ConceptLoad {
            code: code.to_string(),
            display: Some(display.to_string()),
            definition: None,
            inactive: false,
            abstract_: false,
            designations: Vec::new(),
            properties: Vec::new(),
            extensions: Vec::new(),
        });
        self.index.insert(code.to_string(), i);
        i
    }

    fn read_parts(
        &mut self,
        files: &ReleaseFiles,
        name: &str,
        progress: &ProgressBar,
        rejected: &mut Vec<(String, String)>,
    ) -> Result<(), ImportError> {
        self.declare(
            "PartTypeName",
            PropertyType::String,
            "The axis a part belongs to",
        );
        read_table(
            files,
            name,
            progress,
            &["PartNumber", "PartTypeName", "PartName"],
            rejected,
            |row| {
                let code = row.get("PartNumber").ok_or("no PartNumber")?;
                if !valid_code(code, "LP") {
                    return Err(format!(
                        "'{code}' is not a LOINC part number (LP, digits, a hyphen, a check digit)"
                    ));
                }
                let type_name = row.get("PartTypeName").ok_or("no PartTypeName")?;
                let part_name = row.get("PartName").ok_or("no PartName")?;
                let display = row.get("PartDisplayName").unwrap_or(part_name);
                let i = self.concept(code, display) as usize;
                let concept = &mut self.concepts[i];
                if display != part_name {
                    concept
                        .designations
                        .push(designation("en-US", "PartName", part_name));
                }
                concept.properties.push(PropertyValue {
                    code: "PartTypeName".into(),
                    value: Value::String(type_name.into()),
                });
                if let Some(status) = row.get("Status") {
                    concept.inactive = status.eq_ignore_ascii_case("DEPRECATED");
                    concept.properties.push(PropertyValue {
                        code: "STATUS".into(),
                        value: Value::String(status.into()),
                    });
                }
                self.parts_by_name.insert(
                    (type_name.to_string(), part_name.to_string()),
                    code.to_string(),
                );
                Ok(())
            },
        )?;
        Ok(())
    }

    fn read_terms(
        &mut self,
        files: &ReleaseFiles,
        name: &str,
        progress: &ProgressBar,
        rejected: &mut Vec<(String, String)>,
    ) -> Result<(), ImportError> {
        for (column, _) in AXES {
            self.declare(column, PropertyType::Coding, "");
        }
        self.declare(
            "parent",
            PropertyType::Code,
            "A parent in the multiaxial hierarchy",
        );
        self.declare(
            "child",
            PropertyType::Code,
            "A child in the multiaxial hierarchy",
        );
        self.declare(
            "copyright",
            PropertyType::Code,
            "LOINC, or 3rdParty when the term carries an external copyright notice",
        );
        let mut newest: Option<String> = None;
        read_table(files, name, progress, &["LOINC_NUM"], rejected, |row| {
            let code = row.get("LOINC_NUM").ok_or("no LOINC_NUM")?;
            if !valid_code(code, "") {
                return Err(format!(
                    "'{code}' is not a LOINC number with a valid check digit"
                ));
            }
            if self.index.contains_key(code) {
                return Err(format!("the LOINC number '{code}' is listed twice"));
            }
            let display = row
                .get("LONG_COMMON_NAME")
                .map(str::to_owned)
                .unwrap_or_else(|| fully_specified_name(row));
            let concept = self.term(code, &display, row);
            self.concepts.push(concept);
            if let Some(changed) = row.get("VersionLastChanged") {
                if newest
                    .as_deref()
                    .is_none_or(|n| crate::core::compare_versions(changed, n).is_gt())
                {
                    newest = Some(changed.to_string());
                }
            }
            Ok(())
        })?;
        self.newest_version = newest;
        Ok(())
    }

    /// A term from its `Loinc.csv` row (the caller adds it to the concepts).
    fn term(&mut self, code: &str, display: &str, row: &Row) -> ConceptLoad {
        self.index
            .insert(code.to_string(), self.concepts.len() as u32);
        let mut concept = ConceptLoad {
            code: code.to_string(),
            display: Some(display.to_string()),
            definition: row.get("DefinitionDescription").map(str::to_owned),
            inactive: row
                .get("STATUS")
                .is_some_and(|s| s.eq_ignore_ascii_case("DEPRECATED")),
            abstract_: false,
            designations: Vec::new(),
            properties: Vec::new(),
            extensions: Vec::new(),
        };
        let fsn = fully_specified_name(row);
        concept
            .designations
            .push(designation("en-US", "FullySpecifiedName", &fsn));
        for column in DESIGNATION_COLUMNS {
            if let Some(v) = row.get(column) {
                concept.designations.push(designation("en-US", column, v));
            }
        }
        for (column, value) in row.values() {
            if column == "LOINC_NUM" {
                continue;
            }
            let value = if let Some((_, part_type)) = AXES.iter().find(|(c, _)| *c == column) {
                let part = self
                    .parts_by_name
                    .get(&(part_type.to_string(), value.to_string()))
                    .map(String::as_str);
                loinc_coding(part, value)
            } else if INTEGER_COLUMNS.contains(&column) {
                match value.parse() {
                    Ok(n) => Value::Integer(n),
                    Err(_) => continue,
                }
            } else {
                Value::String(value.to_string())
            };
            let type_ = match value {
                Value::Coding(_) => PropertyType::Coding,
                Value::Integer(_) => PropertyType::Integer,
                _ => PropertyType::String,
            };
            self.declare(column, type_, "");
            concept.properties.push(PropertyValue {
                code: column.to_string(),
                value,
            });
        }
        let copyright = if row.get("EXTERNAL_COPYRIGHT_NOTICE").is_some() {
            "3rdParty"
        } else {
            "LOINC"
        };
        concept.properties.push(PropertyValue {
            code: "copyright".into(),
            value: Value::Code(copyright.into()),
        });
        concept
    }

    fn read_part_links(
        &mut self,
        files: &ReleaseFiles,
        name: &str,
        progress: &ProgressBar,
        rejected: &mut Vec<(String, String)>,
    ) -> Result<(), ImportError> {
        read_table(
            files,
            name,
            progress,
            &["LoincNumber", "PartNumber", "Property"],
            rejected,
            |row| {
                let term = row.get("LoincNumber").ok_or("no LoincNumber")?;
                let part = row.get("PartNumber").ok_or("no PartNumber")?;
                let uri = row.get("Property").ok_or("no Property")?;
                let property = uri.rsplit('/').next().unwrap_or(uri);
                let &i = self
                    .index
                    .get(term)
                    .ok_or_else(|| format!("the LOINC number '{term}' is not in Loinc.csv"))?;
                let part_name = row
                    .get("PartName")
                    .map(str::to_owned)
                    .or_else(|| {
                        self.index
                            .get(part)
                            .and_then(|&p| self.concepts[p as usize].display.clone())
                    })
                    .unwrap_or_default();
                let value = loinc_coding(Some(part), &part_name);
                self.declare(property, PropertyType::Coding, "");
                let properties = &mut self.concepts[i as usize].properties;
                let is_axis = AXES.iter().any(|(c, _)| *c == property);
                match properties.iter_mut().find(|p| p.code == property) {
                    // The axis text of Loinc.csv, now with the part it stands for.
                    Some(existing) if is_axis => existing.value = value,
                    Some(existing) if existing.value == value => {}
                    _ => properties.push(PropertyValue {
                        code: property.to_string(),
                        value,
                    }),
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    fn read_answer_lists(
        &mut self,
        files: &ReleaseFiles,
        name: &str,
        progress: &ProgressBar,
        rejected: &mut Vec<(String, String)>,
    ) -> Result<Vec<Json>, ImportError> {
        // Answer lists in file order, each with its answers as (sequence, code, display).
        let mut lists: Vec<(String, Json)> = Vec::new();
        let mut answers: HashMap<String, Vec<(i64, String, String)>> = HashMap::new();
        read_table(
            files,
            name,
            progress,
            &["AnswerListId", "AnswerListName"],
            rejected,
            |row| {
                let list = row.get("AnswerListId").ok_or("no AnswerListId")?;
                if !valid_code(list, "LL") {
                    return Err(format!(
                        "'{list}' is not a LOINC answer list id (LL, digits, a hyphen, a check digit)"
                    ));
                }
                let list_name = row.get("AnswerListName").unwrap_or(list);
                if !self.index.contains_key(list) {
                    self.concept(list, list_name);
                    let mut vs = json!({
                        "resourceType": "ValueSet",
                        "id": list,
                        "url": format!("{LOINC}/vs/{list}"),
                        "name": list,
                        "title": list_name,
                        "status": "active",
                        "publisher": "Regenstrief Institute, Inc.",
                        "compose": {"include": [{"system": LOINC, "concept": []}]},
                    });
                    if let Some(oid) = row.get("AnswerListOID") {
                        vs["identifier"] = json!([{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{oid}")}]);
                    }
                    if let Some(description) = row.get("Description") {
                        vs["description"] = json!(description);
                    }
                    lists.push((list.to_string(), vs));
                }
                let Some(answer) = row.get("AnswerStringId") else {
                    return Ok(()); // an externally defined list has no answers here
                };
                if !valid_code(answer, "LA") {
                    return Err(format!(
                        "'{answer}' is not a LOINC answer id (LA, digits, a hyphen, a check digit)"
                    ));
                }
                let text = row.get("DisplayText").unwrap_or(answer);
                let i = self.concept(answer, text) as usize;
                if let Some(local) = row.get("LocalAnswerCode") {
                    let props = &mut self.concepts[i].properties;
                    if !props.iter().any(|p| p.code == "LocalAnswerCode") {
                        props.push(PropertyValue {
                            code: "LocalAnswerCode".into(),
                            value: Value::String(local.into()),
                        });
                    }
                }
                let sequence = row
                    .get("SequenceNumber")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(i64::MAX);
                answers.entry(list.to_string()).or_default().push((
                    sequence,
                    answer.to_string(),
                    text.to_string(),
                ));
                Ok(())
            },
        )?;
        self.declare("LocalAnswerCode", PropertyType::String, "");
        Ok(lists
            .into_iter()
            .map(|(list, mut vs)| {
                let mut members = answers.remove(&list).unwrap_or_default();
                members.sort_by_key(|(sequence, _, _)| *sequence);
                vs["compose"]["include"][0]["concept"] = members
                    .into_iter()
                    .map(|(_, code, display)| json!({"code": code, "display": display}))
                    .collect();
                vs
            })
            .collect())
    }

    fn read_answer_list_links(
        &mut self,
        files: &ReleaseFiles,
        name: &str,
        progress: &ProgressBar,
        rejected: &mut Vec<(String, String)>,
    ) -> Result<(), ImportError> {
        self.declare(
            "answer-list",
            PropertyType::Coding,
            "The term's answer list",
        );
        read_table(
            files,
            name,
            progress,
            &["LoincNumber", "AnswerListId"],
            rejected,
            |row| {
                let term = row.get("LoincNumber").ok_or("no LoincNumber")?;
                let list = row.get("AnswerListId").ok_or("no AnswerListId")?;
                let &i = self
                    .index
                    .get(term)
                    .ok_or_else(|| format!("the LOINC number '{term}' is not in Loinc.csv"))?;
                let display = row.get("AnswerListName").unwrap_or(list);
                self.concepts[i as usize].properties.push(PropertyValue {
                    code: "answer-list".into(),
                    value: loinc_coding(Some(list), display),
                });
                Ok(())
            },
        )?;
        Ok(())
    }

    fn read_hierarchy(
        &mut self,
        files: &ReleaseFiles,
        name: &str,
        progress: &ProgressBar,
        rejected: &mut Vec<(String, String)>,
    ) -> Result<(), ImportError> {
        read_table(
            files,
            name,
            progress,
            &["CODE", "IMMEDIATE_PARENT"],
            rejected,
            |row| {
                let code = row.get("CODE").ok_or("no CODE")?;
                let text = row.get("CODE_TEXT").unwrap_or(code);
                let child = match self.index.get(code) {
                    Some(&i) => i,
                    None if valid_code(code, "LP") => self.concept(code, text),
                    None => {
                        return Err(format!(
                            "'{code}' is neither a part nor a LOINC number of the release"
                        ))
                    }
                };
                let Some(parent) = row.get("IMMEDIATE_PARENT") else {
                    return Ok(()); // a root of the hierarchy
                };
                let parent = match self.index.get(parent) {
                    Some(&i) => i,
                    None if valid_code(parent, "LP") => self.concept(parent, parent),
                    None => return Err(format!("the parent '{parent}' is not a part")),
                };
                if parent != child {
                    self.links.push((child, parent));
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    fn read_linguistic_variants(
        &mut self,
        files: &ReleaseFiles,
        name: &str,
        progress: &ProgressBar,
        rejected: &mut Vec<(String, String)>,
    ) -> Result<(), ImportError> {
        let bytes = files.read(name)?;
        let mut variants = Vec::new();
        for_each_row(
            &files.describe(name),
            &bytes,
            0,
            &["ID", "ISO_LANGUAGE", "ISO_COUNTRY"],
            rejected,
            |row| {
                let id = row.get("ID").ok_or("no ID")?;
                let language = row.get("ISO_LANGUAGE").ok_or("no ISO_LANGUAGE")?;
                let country = row.get("ISO_COUNTRY").ok_or("no ISO_COUNTRY")?;
                variants.push((
                    format!("{language}{country}{id}LinguisticVariant.csv"),
                    format!(
                        "{}-{}",
                        language.to_ascii_lowercase(),
                        country.to_ascii_uppercase()
                    ),
                ));
                Ok(())
            },
        )?;
        for (file, language) in variants {
            let Some(name) = files.find(&file) else {
                rejected.push((
                    files.describe(name),
                    format!("the linguistic variant file {file} is not in the release"),
                ));
                continue;
            };
            read_table(files, name, progress, &["LOINC_NUM"], rejected, |row| {
                let code = row.get("LOINC_NUM").ok_or("no LOINC_NUM")?;
                let &i = self
                    .index
                    .get(code)
                    .ok_or_else(|| format!("the LOINC number '{code}' is not in Loinc.csv"))?;
                let designations = &mut self.concepts[i as usize].designations;
                // The long common name first: it is the display in this language.
                for column in [
                    "LONG_COMMON_NAME",
                    "LinguisticVariantDisplayName",
                    "SHORTNAME",
                ] {
                    if let Some(v) = row.get(column) {
                        designations.push(designation(&language, column, v));
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    fn finish(mut self, version: String) -> CodeSystemLoad {
        self.links.sort_unstable();
        self.links.dedup();
        let closure = transitive_closure(self.concepts.len(), &self.links);
        let properties: Vec<PropertyDef> = self
            .property_order
            .iter()
            .filter_map(|code| self.properties.remove(code))
            .collect();
        let resource = json!({
            "resourceType": "CodeSystem",
            "id": resource_id(&version),
            "url": LOINC,
            "version": version,
            "name": "LOINC",
            "title": "Logical Observation Identifiers, Names and Codes (LOINC)",
            "status": "active",
            "publisher": "Regenstrief Institute, Inc.",
            "copyright": "This content from LOINC® is copyright © 1995 Regenstrief Institute, Inc. and the LOINC Committee, and available at no cost under the license at http://loinc.org/terms-of-use",
            "caseSensitive": false,
            "valueSet": format!("{LOINC}/vs"),
            "hierarchyMeaning": "is-a",
            "compositional": false,
            "versionNeeded": false,
            "content": "not-present",
            "count": self.concepts.len(),
            "language": "en-US",
            "property": super::fhir_json::properties_json(&properties),
        });
        CodeSystemLoad {
            meta: CodeSystemMeta {
                id: 0,
                resource_id: resource_id(&version),
                url: LOINC.into(),
                version,
                name: Some("LOINC".into()),
                title: resource["title"].as_str().map(str::to_owned),
                status: Some("active".into()),
                content: Some("not-present".into()),
                hierarchy_meaning: Some("is-a".into()),
                case_sensitive: Some(false),
                value_set: Some(format!("{LOINC}/vs")),
                language: Some("en-US".into()),
                supplements: None,
                date: None,
                experimental: None,
                standards_status: None,
                licensed: false,
                concept_count: self.concepts.len() as i64,
                properties,
            },
            resource_json: resource.to_string(),
            concepts: self.concepts,
            links: self.links,
            closure,
            snomed: None,
        }
    }
}

/// `loinc`, or `loinc-2.78`: the logical id of a LOINC version.
fn resource_id(version: &str) -> String {
    super::fhir_json::release_id("loinc", version)
}

/// `COMPONENT:PROPERTY:TIME_ASPCT:SYSTEM:SCALE_TYP:METHOD_TYP`, LOINC's fully specified
/// name (the method part omitted when empty).
fn fully_specified_name(row: &Row) -> String {
    let mut parts: Vec<&str> = AXES[..5]
        .iter()
        .map(|(c, _)| row.get(c).unwrap_or(""))
        .collect();
    if let Some(method) = row.get("METHOD_TYP") {
        parts.push(method);
    }
    parts.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_follow_loincs_mod_10() {
        assert!(valid_code("2345-7", ""));
        assert!(valid_code("718-7", ""));
        assert!(valid_code("LP14635-4", "LP"));
        assert!(valid_code("LA6576-8", "LA"));
        assert!(!valid_code("2345-6", ""));
        assert!(!valid_code("2345", ""));
        assert!(!valid_code("LP14635-4", ""));
        assert!(!valid_code("LPX-1", "LP"));
    }
}
