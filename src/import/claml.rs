//! ClaML (the WHO's Classification Markup Language, used for ICD-10 and its national
//! modifications and translations) → one code system version.
//!
//! - `Class` elements become concepts: chapters, blocks, categories and subcategories,
//!   with `kind` as a property, `SuperClass` as the hierarchy (so `is-a` and the closure)
//!   and `usage` (`dagger`, `aster`) as a property.
//! - Rubrics: `preferred` is the display in its label's language (another language's
//!   preferred label is a designation in that language); `preferredLong` and `inclusion`
//!   are designations (synonyms); `definition` is the definition; every other kind
//!   (`exclusion`, `note`, `coding-hint`, `text`, ...) is a string property named by the
//!   rubric kind. Labels with mixed content (`Reference`, `Term`, `Para`) are read as text.
//! - Modifiers: a class `ModifiedBy` a modifier gets one generated subclass per
//!   `ModifierClass` (code = class code + modifier code, display = both labels), on the
//!   class itself when it has no subclasses, else on its leaf descendants, except where a
//!   class says `ExcludeModifier`.
//!
//! The code system is `http://hl7.org/fhir/sid/icd-10` unless told otherwise; the version
//! is the `Title`'s `version` attribute unless told otherwise.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::json;

use super::closure::transitive_closure;
use super::ImportError;
use crate::model::{
    CodeSystemLoad, CodeSystemMeta, Coding, ConceptLoad, Designation, PropertyDef, PropertyType,
    PropertyValue, Value,
};

/// HL7's canonical URL for WHO ICD-10.
pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";

/// Whether the start of a file says it is ClaML.
pub fn is_claml(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.contains("<ClaML")
}

/// Reads a ClaML file. `system` and `version` override the URL and the version.
pub fn read(
    path: &Path,
    bytes: &[u8],
    system: Option<&str>,
    version: Option<&str>,
) -> Result<CodeSystemLoad, ImportError> {
    let origin = path.display().to_string();
    let text = super::table::utf8(&origin, bytes)?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| {
        ImportError::Format {
            origin: origin.clone(),
            line: u64::from(e.pos().row),
            reason: format!("not well-formed XML: {e}"),
        }
    })?;
    let root = doc.root_element();
    let fail = |node: roxmltree::Node, reason: String| ImportError::Format {
        origin: origin.clone(),
        line: u64::from(doc.text_pos_at(node.range().start).row),
        reason,
    };
    if !root.has_tag_name("ClaML") {
        return Err(fail(root, "the root element is not ClaML".into()));
    }
    let title = child(root, "Title");
    let version = version
        .map(str::to_owned)
        .or_else(|| {
            title
                .and_then(|t| t.attribute("version"))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let language = main_language(root);
    let url = system.unwrap_or(ICD10).to_string();

    // Modifiers: their subclass codes in order, and each modifier class's label.
    let mut modifiers: HashMap<&str, Vec<&str>> = HashMap::new();
    for m in children(root, "Modifier") {
        let code = m
            .attribute("code")
            .ok_or_else(|| fail(m, "a Modifier has no code".into()))?;
        modifiers.insert(
            code,
            children(m, "SubClass")
                .filter_map(|s| s.attribute("code"))
                .collect(),
        );
    }
    let mut modifier_classes: HashMap<(&str, &str), String> = HashMap::new();
    for mc in children(root, "ModifierClass") {
        let (Some(modifier), Some(code)) = (mc.attribute("modifier"), mc.attribute("code")) else {
            return Err(fail(mc, "a ModifierClass needs modifier and code".into()));
        };
        let label = rubrics(mc)
            .find(|(kind, _, _)| *kind == "preferred")
            .map(|(_, _, text)| text)
            .unwrap_or_default();
        modifier_classes.insert((modifier, code), label);
        // A modifier without a SubClass list takes its classes in file order.
        let listed = modifiers.entry(modifier).or_default();
        if !listed.contains(&code) {
            listed.push(code);
        }
    }

    let mut builder = Builder::default();
    builder.declare("kind", PropertyType::Code, "chapter, block or category");
    let mut supers: Vec<(u32, String)> = Vec::new();
    let mut modified_by: HashMap<u32, Vec<String>> = HashMap::new();
    let mut excluded: HashMap<u32, HashSet<String>> = HashMap::new();
    for class in children(root, "Class") {
        let code = class
            .attribute("code")
            .ok_or_else(|| fail(class, "a Class has no code".into()))?;
        if builder.index.contains_key(code) {
            return Err(fail(class, format!("the class '{code}' is defined twice")));
        }
        let mut concept = ConceptLoad {
            code: code.to_string(),
            display: None,
            definition: None,
            inactive: false,
            abstract_: false,
            designations: Vec::new(),
            properties: Vec::new(),
            extensions: Vec::new(),
        };
        if let Some(kind) = class.attribute("kind") {
            concept.properties.push(PropertyValue {
                code: "kind".into(),
                value: Value::Code(kind.into()),
            });
        }
        if let Some(usage) = class.attribute("usage") {
            builder.declare("usage", PropertyType::Code, "dagger or aster (asterisk)");
            concept.properties.push(PropertyValue {
                code: "usage".into(),
                value: Value::Code(usage.into()),
            });
        }
        for meta in children(class, "Meta") {
            if let (Some(name), Some(value)) = (meta.attribute("name"), meta.attribute("value")) {
                builder.declare(name, PropertyType::String, "");
                concept.properties.push(PropertyValue {
                    code: name.into(),
                    value: Value::String(value.into()),
                });
            }
        }
        for (kind, lang, text) in rubrics(class) {
            if text.is_empty() {
                continue;
            }
            let in_main = lang.as_deref().is_none_or(|l| l == language);
            match kind {
                "preferred" if in_main && concept.display.is_none() => concept.display = Some(text),
                "preferred" => concept.designations.push(Designation {
                    language: lang.or_else(|| Some(language.clone())),
                    use_: None,
                    value: text,
                    extensions: Vec::new(),
                }),
                "preferredLong" | "inclusion" => concept.designations.push(Designation {
                    language: lang.or_else(|| Some(language.clone())),
                    use_: Some(synonym_use()),
                    value: text,
                    extensions: Vec::new(),
                }),
                "definition" if concept.definition.is_none() && in_main => {
                    concept.definition = Some(text)
                }
                other => {
                    builder.declare(other, PropertyType::String, "");
                    concept.properties.push(PropertyValue {
                        code: other.into(),
                        value: Value::String(text),
                    });
                }
            }
        }
        let index = builder.push(concept);
        for s in children(class, "SuperClass").filter_map(|s| s.attribute("code")) {
            supers.push((index, s.to_string()));
        }
        let by: Vec<String> = children(class, "ModifiedBy")
            .filter_map(|m| m.attribute("code").map(str::to_owned))
            .collect();
        if !by.is_empty() {
            modified_by.insert(index, by);
        }
        let ex: HashSet<String> = children(class, "ExcludeModifier")
            .filter_map(|m| m.attribute("code").map(str::to_owned))
            .collect();
        if !ex.is_empty() {
            excluded.insert(index, ex);
        }
    }
    for (child_index, parent) in supers {
        let parent_index = *builder
            .index
            .get(&parent)
            .ok_or_else(|| ImportError::Format {
                origin: origin.clone(),
                line: 0,
                reason: format!(
                    "the class '{}' names the superclass '{parent}', which is not defined",
                    builder.concepts[child_index as usize].code
                ),
            })?;
        builder.links.push((child_index, parent_index));
    }
    builder.apply_modifiers(&modifiers, &modifier_classes, &modified_by, &excluded);
    Ok(builder.finish(url, version, language, title))
}

fn synonym_use() -> Coding {
    Coding {
        system: Some("http://snomed.info/sct".into()),
        code: Some("900000000000013009".into()),
        display: Some("Synonym".into()),
        version: None,
    }
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name))
}

fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.has_tag_name(name))
}

/// `(kind, language, text)` of each rubric label of a class.
fn rubrics<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
) -> impl Iterator<Item = (&'a str, Option<String>, String)> + 'a {
    children(node, "Rubric").flat_map(|rubric| {
        let kind = rubric.attribute("kind").unwrap_or("text");
        children(rubric, "Label").map(move |label| {
            let lang = label
                .attribute((roxmltree::NS_XML_URI, "lang"))
                .map(str::to_owned);
            (kind, lang, label_text(label))
        })
    })
}

/// The text of a label with mixed content, whitespace collapsed, the way the WHO prints
/// it: a reference keeps its text with its usage mark (`G01*`, `A17.0†`), bracketed when
/// its class is "in brackets".
fn label_text(label: roxmltree::Node) -> String {
    let mut out = String::new();
    push_text(label, &mut out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn push_text(node: roxmltree::Node, out: &mut String) {
    for child in node.children() {
        if child.is_text() {
            out.push_str(child.text().unwrap_or(""));
        } else if child.has_tag_name("Reference") {
            let mut text = String::new();
            push_text(child, &mut text);
            let text = text.trim();
            let mark = match child.attribute("usage") {
                Some("aster") => "*",
                Some("dagger") => "†",
                _ => "",
            };
            if child.attribute("class") == Some("in brackets") {
                out.push_str(&format!("({text}{mark})"));
            } else {
                out.push_str(&format!("{text}{mark}"));
            }
        } else if child.is_element() {
            // Paragraphs and fragments are blocks; terms and the rest run inline.
            let block = child.has_tag_name("Para") || child.has_tag_name("Fragment");
            if block {
                out.push(' ');
            }
            push_text(child, out);
            if block {
                out.push(' ');
            }
        }
    }
}

/// The language most preferred labels are in (else the `lang` Meta, else `en`).
fn main_language(root: roxmltree::Node) -> String {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for class in children(root, "Class") {
        for (kind, lang, _) in rubrics(class) {
            if kind == "preferred" {
                if let Some(lang) = lang {
                    *counts.entry(lang).or_default() += 1;
                }
            }
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .map(|(lang, _)| lang)
        .or_else(|| {
            children(root, "Meta")
                .find(|m| m.attribute("name") == Some("lang"))
                .and_then(|m| m.attribute("value"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "en".into())
}

#[derive(Default)]
struct Builder {
    concepts: Vec<ConceptLoad>,
    index: HashMap<String, u32>,
    properties: Vec<PropertyDef>,
    links: Vec<(u32, u32)>,
}

impl Builder {
    fn declare(&mut self, code: &str, type_: PropertyType, description: &str) {
        if self.properties.iter().any(|p| p.code == code) {
            return;
        }
        self.properties.push(PropertyDef {
            code: code.into(),
            uri: None,
            type_,
            description: (!description.is_empty()).then(|| description.into()),
        });
    }

    fn push(&mut self, concept: ConceptLoad) -> u32 {
        let i = self.concepts.len() as u32;
        self.index.insert(concept.code.clone(), i);
        self.concepts.push(concept);
        i
    }

    fn apply_modifiers(
        &mut self,
        modifiers: &HashMap<&str, Vec<&str>>,
        labels: &HashMap<(&str, &str), String>,
        modified_by: &HashMap<u32, Vec<String>>,
        excluded: &HashMap<u32, HashSet<String>>,
    ) {
        let mut kids: HashMap<u32, Vec<u32>> = HashMap::new();
        for &(c, p) in &self.links {
            kids.entry(p).or_default().push(c);
        }
        // Every (leaf class, modifier) pair: the modifier applies to a leaf class that
        // names it, or inherits it from an ancestor, unless the leaf excludes it.
        let mut targets: Vec<(u32, String)> = Vec::new();
        let mut sources: Vec<&u32> = modified_by.keys().collect();
        sources.sort();
        for &source in sources {
            let mut stack = vec![source];
            while let Some(class) = stack.pop() {
                match kids.get(&class) {
                    Some(children) => stack.extend(children),
                    None => {
                        for m in &modified_by[&source] {
                            if !excluded.get(&class).is_some_and(|ex| ex.contains(m)) {
                                targets.push((class, m.clone()));
                            }
                        }
                    }
                }
            }
        }
        targets.sort();
        targets.dedup();
        for (class, modifier) in targets {
            let Some(codes) = modifiers.get(modifier.as_str()) else {
                continue;
            };
            let base = self.concepts[class as usize].clone();
            for mc in codes {
                let code = format!("{}{mc}", base.code);
                if self.index.contains_key(&code) {
                    continue;
                }
                let label = labels
                    .get(&(modifier.as_str(), *mc))
                    .cloned()
                    .unwrap_or_default();
                let display = match (&base.display, label.is_empty()) {
                    (Some(d), false) => Some(format!("{d}, {label}")),
                    (Some(d), true) => Some(d.clone()),
                    (None, _) => Some(label),
                };
                let mut properties: Vec<PropertyValue> = base
                    .properties
                    .iter()
                    .filter(|p| p.code == "kind" || p.code == "usage")
                    .cloned()
                    .collect();
                self.declare(
                    "modifier",
                    PropertyType::Code,
                    "The modifier that made this code",
                );
                properties.push(PropertyValue {
                    code: "modifier".into(),
                    value: Value::Code(modifier.clone()),
                });
                let i = self.push(ConceptLoad {
                    code,
                    display,
                    definition: None,
                    inactive: false,
                    abstract_: false,
                    designations: Vec::new(),
                    properties,
                    extensions: Vec::new(),
                });
                self.links.push((i, class));
            }
        }
    }

    fn finish(
        mut self,
        url: String,
        version: String,
        language: String,
        title: Option<roxmltree::Node>,
    ) -> CodeSystemLoad {
        self.links.sort_unstable();
        self.links.dedup();
        let closure = transitive_closure(self.concepts.len(), &self.links);
        let name = title
            .and_then(|t| t.attribute("name"))
            .unwrap_or("ICD-10")
            .to_string();
        let title_text = title
            .and_then(|t| t.text())
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty());
        let date = title.and_then(|t| t.attribute("date")).map(str::to_owned);
        let tail = url.rsplit('/').next().unwrap_or("icd").to_string();
        let resource_id = super::fhir_json::release_id(&tail, &version);
        let fhir_name: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let mut resource = json!({
            "resourceType": "CodeSystem",
            "id": resource_id,
            "url": url,
            "version": version,
            "name": fhir_name,
            "status": "active",
            "publisher": "World Health Organization",
            "caseSensitive": true,
            "hierarchyMeaning": "is-a",
            "content": "not-present",
            "count": self.concepts.len(),
            "language": language,
            "property": super::fhir_json::properties_json(&self.properties),
        });
        if let Some(t) = &title_text {
            resource["title"] = json!(t);
        }
        if let Some(d) = &date {
            resource["date"] = json!(d);
        }
        CodeSystemLoad {
            meta: CodeSystemMeta {
                id: 0,
                resource_id,
                url,
                version,
                name: Some(fhir_name),
                title: title_text,
                status: Some("active".into()),
                content: Some("not-present".into()),
                hierarchy_meaning: Some("is-a".into()),
                case_sensitive: Some(true),
                value_set: None,
                language: Some(language),
                supplements: None,
                date,
                experimental: None,
                standards_status: None,
                licensed: false,
                concept_count: self.concepts.len() as i64,
                properties: self.properties,
            },
            resource_json: resource.to_string(),
            concepts: self.concepts,
            links: self.links,
            closure,
            snomed: None,
        }
    }
}
