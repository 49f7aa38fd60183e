//! ECL evaluation: an expression constraint (parsed by `nomen-ecl`) becomes the set of
//! concept ids of one SNOMED CT edition version it selects, from the closure (hierarchy
//! operators), the relationship and concrete value tables (refinements, dotted
//! attributes), the reference set members (`^`, member filters, history supplements) and
//! the descriptions (description filters).
//!
//! Semantics worth knowing:
//! - The result holds active concepts only, unless the expression asks for inactive ones
//!   (a concept filter on `active`, or a history supplement).
//! - An unknown concept id selects nothing (as in a value set: no error).
//! - An attribute without cardinality needs at least one matching relationship; with
//!   `[min..max]` the number of matching relationships (ungrouped: across all groups) must
//!   be in range, so `[0..0]` selects the concepts without any. An attribute group counts
//!   the role groups (numbered 1 and up) in which all its attributes are satisfied.
//! - Description filters without an `active` filter look at active descriptions only.
//! - What is not implemented answers `not-supported` (alternate identifiers, refset field
//!   projections other than `referencedComponentId`, member `moduleId`/`effectiveTime`).

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use nomen_ecl as ecl;
use nomen_ecl::{
    AttributeSet, AttributeValue, Cardinality, CompareOp, ConceptFilter, ConceptSet,
    ConstraintOperator, DescriptionFilter, EqualityOp, Expression, FieldValue, FilterConstraint,
    Focus, HistorySupplement, MemberFilter, MemberOf, Refinement, SearchTerm, SubExpression,
};

use super::error::{CoreError, CoreResult};
use super::Snapshot;
use crate::model::CodeSystemMeta;
use crate::store::{SctConceptColumn, SctDescriptionRow, SctMember, SctRelationship};

type Set = BTreeSet<i64>;

const FSN: &str = "900000000000003001";
const SYNONYM: &str = "900000000000013009";
const DEFINITION: &str = "900000000000550004";
const PRIMITIVE: u64 = 900000000000074008;
const DEFINED: u64 = 900000000000073002;
const PREFERRED: u64 = 900000000000548007;
const ACCEPTABLE: u64 = 900000000000549004;
const SAME_AS: u64 = 900000000000527005;
const REPLACED_BY: u64 = 900000000000526001;
const WAS_A: u64 = 900000000000528000;
const PARTIALLY_EQUIVALENT_TO: u64 = 1186921001;

/// The longest ECL text accepted (a bound on parsing and evaluation work).
const MAX_ECL: usize = 10_000;

/// Evaluates ECL text over `cs`: the ids of the concepts it selects, sorted.
pub fn evaluate_text(snap: &Snapshot, cs: &CodeSystemMeta, text: &str) -> CoreResult<Vec<i64>> {
    if text.len() > MAX_ECL {
        return Err(CoreError::invalid(format!(
            "The ECL expression is longer than {MAX_ECL} characters"
        )));
    }
    let expression = ecl::parse(text).map_err(|e| {
        CoreError::invalid(format!("The ECL expression '{text}' is not valid: {e}"))
    })?;
    let mut evaluator = Evaluator::new(snap, cs);
    let mut set = evaluator.expression(&expression)?;
    if !evaluator.keeps_inactive {
        let inactive = evaluator.inactive()?;
        set.retain(|id| !inactive.contains(id));
    }
    Ok(set.into_iter().collect())
}

/// Decodes `%XX` escapes (an implicit value set URL may carry its ECL percent-encoded);
/// a `+` stays a `+` (ECL's history supplements use it).
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

struct Evaluator<'s, 'c> {
    snap: &'s Snapshot<'c>,
    cs: &'s CodeSystemMeta,
    /// Set when the expression itself asks for inactive concepts.
    keeps_inactive: bool,
    all: Option<Rc<Set>>,
    inactive: Option<Rc<Set>>,
    relationships: HashMap<i64, Rc<Vec<SctRelationship>>>,
    descriptions: Option<Rc<HashMap<i64, Vec<SctDescriptionRow>>>>,
    properties: HashMap<&'static str, Rc<HashMap<i64, String>>>,
}

impl<'s, 'c> Evaluator<'s, 'c> {
    fn new(snap: &'s Snapshot<'c>, cs: &'s CodeSystemMeta) -> Self {
        Evaluator {
            snap,
            cs,
            keeps_inactive: false,
            all: None,
            inactive: None,
            relationships: HashMap::new(),
            descriptions: None,
            properties: HashMap::new(),
        }
    }

    fn expression(&mut self, e: &Expression) -> CoreResult<Set> {
        match e {
            Expression::Sub(sub) => self.sub(sub),
            Expression::And(items) => {
                let mut acc: Option<Set> = None;
                for item in items {
                    let set = self.sub(item)?;
                    acc = Some(match acc {
                        None => set,
                        Some(a) => a.intersection(&set).copied().collect(),
                    });
                }
                Ok(acc.unwrap_or_default())
            }
            Expression::Or(items) => {
                let mut acc = Set::new();
                for item in items {
                    acc.extend(self.sub(item)?);
                }
                Ok(acc)
            }
            Expression::Minus(a, b) => {
                let a = self.sub(a)?;
                let b = self.sub(b)?;
                Ok(a.difference(&b).copied().collect())
            }
            Expression::Refined { focus, refinement } => {
                let candidates = self.sub(focus)?;
                self.refine(refinement, &candidates)
            }
            Expression::Dotted { focus, attributes } => {
                let mut set = self.sub(focus)?;
                for attribute in attributes {
                    let types = self.sub(attribute)?;
                    let mut next = Set::new();
                    for type_ in types {
                        for r in self.relationships_of(type_)?.iter() {
                            if let Some(d) = r.destination {
                                if set.contains(&r.source) {
                                    next.insert(d);
                                }
                            }
                        }
                    }
                    set = next;
                }
                Ok(set)
            }
        }
    }

    fn sub(&mut self, sub: &SubExpression) -> CoreResult<Set> {
        let mut set = match &sub.focus {
            Focus::Concept(reference) => self.concept(reference.id)?.into_iter().collect(),
            Focus::Wildcard => (*self.all()?).clone(),
            Focus::Nested(e) => self.expression(e)?,
            Focus::AltIdentifier(alt) => {
                return Err(CoreError::not_supported(format!(
                    "ECL alternate identifiers ({}#{}) are not supported",
                    alt.scheme, alt.code
                )))
            }
        };
        let member_filters: Vec<&Vec<MemberFilter>> = sub
            .filters
            .iter()
            .filter_map(|f| match f {
                FilterConstraint::Member(m) => Some(m),
                _ => None,
            })
            .collect();
        if let Some(member_of) = &sub.member_of {
            if let MemberOf::Fields(fields) = member_of {
                if fields.iter().any(|f| f != "referencedComponentId") {
                    return Err(CoreError::not_supported(
                        "ECL refset field selection other than [referencedComponentId] is not supported: a value set holds concepts",
                    ));
                }
            } else if matches!(member_of, MemberOf::AllFields) {
                return Err(CoreError::not_supported(
                    "ECL refset field selection [*] is not supported: a value set holds concepts",
                ));
            }
            let mut members = Set::new();
            for refset in set {
                for m in self.snap.txn.sct_members(refset)? {
                    let mut keep = true;
                    for block in &member_filters {
                        if !self.member_matches(&m, block)? {
                            keep = false;
                            break;
                        }
                    }
                    if keep {
                        if let Some(id) = m.referenced {
                            members.insert(id);
                        }
                    }
                }
            }
            set = members;
        } else if !member_filters.is_empty() {
            return Err(CoreError::invalid(
                "An ECL member filter {{ M ... }} needs the member-of operator ^",
            ));
        }
        if let Some(op) = sub.operator {
            set = self.hierarchy(op, &set, matches!(sub.focus, Focus::Wildcard))?;
        }
        for filter in &sub.filters {
            match filter {
                FilterConstraint::Member(_) => {}
                FilterConstraint::Concept(block) => set = self.concept_filter(block, set)?,
                FilterConstraint::Description(block) => {
                    set = self.description_filter(block, set)?
                }
            }
        }
        if let Some(history) = &sub.history {
            set = self.history(history, set)?;
        }
        Ok(set)
    }

    /// The concept id of an SCTID in this edition.
    fn concept(&self, id: u64) -> CoreResult<Option<i64>> {
        Ok(self
            .snap
            .txn
            .concept(self.cs.id, &id.to_string())?
            .map(|c| c.id))
    }

    fn all(&mut self) -> CoreResult<Rc<Set>> {
        if self.all.is_none() {
            let ids: Set = self.snap.txn.concept_ids(self.cs.id)?.into_iter().collect();
            self.all = Some(Rc::new(ids));
        }
        Ok(self.all.clone().unwrap_or_default())
    }

    fn inactive(&mut self) -> CoreResult<Rc<Set>> {
        if self.inactive.is_none() {
            let ids: Set = self
                .snap
                .txn
                .inactive_ids(self.cs.id)?
                .into_iter()
                .collect();
            self.inactive = Some(Rc::new(ids));
        }
        Ok(self.inactive.clone().unwrap_or_default())
    }

    fn hierarchy(&mut self, op: ConstraintOperator, set: &Set, wildcard: bool) -> CoreResult<Set> {
        use ConstraintOperator::*;
        if wildcard
            && matches!(
                op,
                DescendantOrSelfOf | AncestorOrSelfOf | ChildOrSelfOf | ParentOrSelfOf
            )
        {
            return Ok(set.clone());
        }
        let txn = &self.snap.txn;
        let mut out = Set::new();
        match op {
            Top | Bottom => {
                for &id in set {
                    let related = if op == Top {
                        txn.ancestor_ids(id)?
                    } else {
                        txn.descendant_ids(id)?
                    };
                    if !related.iter().any(|r| set.contains(r)) {
                        out.insert(id);
                    }
                }
                return Ok(out);
            }
            _ => {}
        }
        for &id in set {
            let related = match op {
                DescendantOf | DescendantOrSelfOf => txn.descendant_ids(id)?,
                ChildOf | ChildOrSelfOf => txn.child_ids(id)?,
                AncestorOf | AncestorOrSelfOf => txn.ancestor_ids(id)?,
                ParentOf | ParentOrSelfOf => txn.parent_ids(id)?,
                Top | Bottom => Vec::new(),
            };
            out.extend(related);
            if matches!(
                op,
                DescendantOrSelfOf | ChildOrSelfOf | AncestorOrSelfOf | ParentOrSelfOf
            ) {
                out.insert(id);
            }
        }
        Ok(out)
    }

    /// Relationships and concrete values of one attribute type, cached.
    fn relationships_of(&mut self, type_: i64) -> CoreResult<Rc<Vec<SctRelationship>>> {
        if let Some(r) = self.relationships.get(&type_) {
            return Ok(r.clone());
        }
        let mut rows = self.snap.txn.sct_relationships_of_type(type_)?;
        rows.extend(self.snap.txn.sct_concrete_of_type(type_)?);
        let rows = Rc::new(rows);
        self.relationships.insert(type_, rows.clone());
        Ok(rows)
    }

    /// The attribute types an attribute name selects (`*`: every type in use).
    fn attribute_types(&mut self, name: &SubExpression) -> CoreResult<Set> {
        if matches!(name.focus, Focus::Wildcard) && name.operator.is_none() {
            return Ok(self
                .snap
                .txn
                .sct_attribute_types(self.cs.id)?
                .into_iter()
                .collect());
        }
        self.sub(name)
    }

    fn refine(&mut self, refinement: &Refinement, candidates: &Set) -> CoreResult<Set> {
        match refinement {
            Refinement::Attribute(a) => {
                let matcher = self.matcher(a)?;
                Ok(candidates
                    .iter()
                    .copied()
                    .filter(|c| in_range(a.cardinality.as_ref(), matcher.count(*c, None)))
                    .collect())
            }
            Refinement::Group(g) => {
                let matchers = self.group_matchers(&g.attributes)?;
                Ok(candidates
                    .iter()
                    .copied()
                    .filter(|&c| {
                        let groups: BTreeSet<i64> = matchers
                            .iter()
                            .flat_map(|m| m.groups_of(c))
                            .filter(|g| *g > 0)
                            .collect();
                        let satisfied = groups
                            .into_iter()
                            .filter(|&group| set_holds(&g.attributes, &matchers, &mut 0, c, group))
                            .count();
                        in_range(g.cardinality.as_ref(), satisfied)
                    })
                    .collect())
            }
            Refinement::And(items) => {
                let mut acc = candidates.clone();
                for item in items {
                    acc = self.refine(item, &acc)?;
                }
                Ok(acc)
            }
            Refinement::Or(items) => {
                let mut acc = Set::new();
                for item in items {
                    acc.extend(self.refine(item, candidates)?);
                }
                Ok(acc)
            }
        }
    }

    /// The matchers of a group's attributes, in the order [`set_holds`] walks them.
    fn group_matchers(&mut self, set: &AttributeSet) -> CoreResult<Vec<Matcher>> {
        let mut out = Vec::new();
        match set {
            AttributeSet::Attribute(a) => out.push(self.matcher(a)?),
            AttributeSet::And(items) | AttributeSet::Or(items) => {
                for item in items {
                    out.extend(self.group_matchers(item)?);
                }
            }
        }
        Ok(out)
    }

    /// The relationships that satisfy one attribute constraint, indexed by the concept
    /// they count for (the source, or for a reverse attribute the destination).
    fn matcher(&mut self, a: &nomen_ecl::Attribute) -> CoreResult<Matcher> {
        let types = self.attribute_types(&a.name)?;
        let value_set = match &a.value {
            AttributeValue::Expression(_, sub) => Some(self.sub(sub)?),
            _ => None,
        };
        let mut by_concept: HashMap<i64, Vec<i64>> = HashMap::new();
        for type_ in types {
            for r in self.relationships_of(type_)?.iter() {
                let matches = match (&a.value, r.destination, &r.value, &value_set) {
                    (AttributeValue::Expression(op, _), Some(d), _, Some(values)) => {
                        let reached = if a.reverse { r.source } else { d };
                        values.contains(&reached) == (*op == EqualityOp::Equal)
                    }
                    (AttributeValue::Number(op, n), None, Some(v), _) => v
                        .strip_prefix('#')
                        .and_then(|v| v.parse::<f64>().ok())
                        .is_some_and(|v| compare_numbers(*op, v, *n)),
                    (AttributeValue::String(op, terms), None, Some(v), _) => {
                        let text = v.trim_matches('"');
                        terms.iter().any(|t| term_matches(t, text)) == (*op == EqualityOp::Equal)
                    }
                    (AttributeValue::Boolean(op, b), None, Some(v), _) => {
                        (v == if *b { "true" } else { "false" }) == (*op == EqualityOp::Equal)
                    }
                    _ => false,
                };
                if matches {
                    let counted = if a.reverse {
                        r.destination.unwrap_or(r.source)
                    } else {
                        r.source
                    };
                    by_concept.entry(counted).or_default().push(r.group);
                }
            }
        }
        Ok(Matcher {
            cardinality: a.cardinality,
            by_concept,
        })
    }

    fn concept_set_codes(&mut self, set: &ConceptSet) -> CoreResult<BTreeSet<String>> {
        match set {
            ConceptSet::References(refs) => Ok(refs.iter().map(|r| r.id.to_string()).collect()),
            ConceptSet::Expression(sub) => {
                let ids = self.sub(sub)?;
                let mut codes = BTreeSet::new();
                for id in ids {
                    if let Some(c) = self.snap.txn.concept_by_id(id)? {
                        codes.insert(c.code);
                    }
                }
                Ok(codes)
            }
        }
    }

    fn property(&mut self, code: &'static str) -> CoreResult<Rc<HashMap<i64, String>>> {
        if let Some(p) = self.properties.get(code) {
            return Ok(p.clone());
        }
        let column = match code {
            "moduleId" => SctConceptColumn::Module,
            "effectiveTime" => SctConceptColumn::EffectiveTime,
            _ => SctConceptColumn::Defined,
        };
        let values: HashMap<i64, String> = self
            .snap
            .txn
            .sct_concept_column(self.cs.id, column)?
            .into_iter()
            .collect();
        let values = Rc::new(values);
        self.properties.insert(code, values.clone());
        Ok(values)
    }

    fn concept_filter(&mut self, block: &[ConceptFilter], mut set: Set) -> CoreResult<Set> {
        for filter in block {
            set = match filter {
                ConceptFilter::Active(op, active) => {
                    self.keeps_inactive = true;
                    let inactive = self.inactive()?;
                    let wanted = *active == (*op == EqualityOp::Equal);
                    set.into_iter()
                        .filter(|id| inactive.contains(id) != wanted)
                        .collect()
                }
                ConceptFilter::DefinitionStatus(op, statuses) => {
                    let codes: BTreeSet<String> = statuses
                        .iter()
                        .map(|s| match s {
                            nomen_ecl::DefinitionStatus::Primitive => PRIMITIVE.to_string(),
                            nomen_ecl::DefinitionStatus::Defined => DEFINED.to_string(),
                        })
                        .collect();
                    self.by_definition_status(set, *op, &codes)?
                }
                ConceptFilter::DefinitionStatusId(op, concepts) => {
                    let codes = self.concept_set_codes(concepts)?;
                    self.by_definition_status(set, *op, &codes)?
                }
                ConceptFilter::Module(op, concepts) => {
                    let codes = self.concept_set_codes(concepts)?;
                    let modules = self.property("moduleId")?;
                    set.into_iter()
                        .filter(|id| {
                            modules.get(id).is_some_and(|m| codes.contains(m))
                                == (*op == EqualityOp::Equal)
                        })
                        .collect()
                }
                ConceptFilter::EffectiveTime(op, times) => {
                    let effective = self.property("effectiveTime")?;
                    set.into_iter()
                        .filter(|id| {
                            effective
                                .get(id)
                                .is_some_and(|t| times_match(*op, t, times))
                        })
                        .collect()
                }
            };
        }
        Ok(set)
    }

    fn by_definition_status(
        &mut self,
        set: Set,
        op: EqualityOp,
        codes: &BTreeSet<String>,
    ) -> CoreResult<Set> {
        let defined = self.property("sufficientlyDefined")?;
        Ok(set
            .into_iter()
            .filter(|id| {
                let status = if defined.get(id).map(String::as_str) == Some("true") {
                    DEFINED
                } else {
                    PRIMITIVE
                };
                codes.contains(&status.to_string()) == (op == EqualityOp::Equal)
            })
            .collect())
    }

    fn descriptions(&mut self) -> CoreResult<Rc<HashMap<i64, Vec<SctDescriptionRow>>>> {
        if self.descriptions.is_none() {
            let mut by_concept: HashMap<i64, Vec<SctDescriptionRow>> = HashMap::new();
            for d in self.snap.txn.sct_descriptions(self.cs.id)? {
                by_concept.entry(d.concept).or_default().push(d);
            }
            self.descriptions = Some(Rc::new(by_concept));
        }
        Ok(self.descriptions.clone().unwrap_or_default())
    }

    fn description_filter(&mut self, block: &[DescriptionFilter], set: Set) -> CoreResult<Set> {
        let checks = self.description_checks(block)?;
        let descriptions = self.descriptions()?;
        let active_given = block
            .iter()
            .any(|f| matches!(f, DescriptionFilter::Active(..)));
        Ok(set
            .into_iter()
            .filter(|id| {
                descriptions.get(id).is_some_and(|list| {
                    list.iter()
                        .filter(|d| active_given || d.active)
                        .any(|d| checks.iter().all(|check| check.holds(d)))
                })
            })
            .collect())
    }

    /// Each description filter resolved to a check on one description row.
    fn description_checks(&mut self, block: &[DescriptionFilter]) -> CoreResult<Vec<Check>> {
        let mut checks = Vec::new();
        for filter in block {
            checks.push(match filter {
                DescriptionFilter::Term(op, terms) => Check::Term(*op, terms.clone()),
                DescriptionFilter::Language(op, codes) => {
                    Check::Language(*op, codes.iter().map(|c| c.to_ascii_lowercase()).collect())
                }
                DescriptionFilter::TypeId(op, set) => {
                    Check::Type(*op, self.concept_set_codes(set)?)
                }
                DescriptionFilter::Type(op, types) => Check::Type(
                    *op,
                    types
                        .iter()
                        .map(|t| {
                            match t {
                                nomen_ecl::DescriptionType::Synonym => SYNONYM,
                                nomen_ecl::DescriptionType::FullySpecifiedName => FSN,
                                nomen_ecl::DescriptionType::Definition => DEFINITION,
                            }
                            .to_string()
                        })
                        .collect(),
                ),
                DescriptionFilter::DialectId {
                    op,
                    dialects,
                    acceptability,
                } => {
                    let mut wanted = Vec::new();
                    match dialects {
                        nomen_ecl::DialectIds::Expression(sub) => {
                            for code in
                                self.concept_set_codes(&ConceptSet::Expression(sub.clone()))?
                            {
                                wanted.push((code, acceptability_codes(acceptability.as_ref())));
                            }
                        }
                        nomen_ecl::DialectIds::Set(list) => {
                            for d in list {
                                let own = d.acceptability.as_ref().or(acceptability.as_ref());
                                wanted.push((d.concept.id.to_string(), acceptability_codes(own)));
                            }
                        }
                    }
                    Check::Dialect(*op, wanted)
                }
                DescriptionFilter::Dialect {
                    op,
                    dialects,
                    acceptability,
                } => {
                    let mut wanted = Vec::new();
                    for d in dialects {
                        let own = d.acceptability.as_ref().or(acceptability.as_ref());
                        for refset in self.dialect_refsets(&d.alias)? {
                            wanted.push((refset, acceptability_codes(own)));
                        }
                    }
                    Check::Dialect(*op, wanted)
                }
                DescriptionFilter::Module(op, set) => {
                    Check::Module(*op, self.concept_set_codes(set)?)
                }
                DescriptionFilter::EffectiveTime(op, times) => Check::Time(*op, times.clone()),
                DescriptionFilter::Active(op, active) => {
                    Check::Active(*active == (*op == EqualityOp::Equal))
                }
                DescriptionFilter::Id(op, ids) => {
                    Check::Id(*op, ids.iter().map(|i| i.to_string()).collect())
                }
            });
        }
        Ok(checks)
    }

    /// The language reference sets a dialect alias stands for: `en-us` and `en-gb` by
    /// their well-known ids, any other by the language of the descriptions they hold.
    fn dialect_refsets(&mut self, alias: &str) -> CoreResult<Vec<String>> {
        let alias = alias.to_ascii_lowercase();
        match alias.as_str() {
            "en-us" => return Ok(vec!["900000000000509007".into()]),
            "en-gb" => return Ok(vec!["900000000000508004".into()]),
            _ => {}
        }
        let language = alias.split('-').next().unwrap_or(&alias).to_string();
        let mut refsets = BTreeSet::new();
        for list in self.descriptions()?.values() {
            for d in list
                .iter()
                .filter(|d| d.language.eq_ignore_ascii_case(&language))
            {
                for pair in d.acceptability.split_whitespace() {
                    if let Some((refset, _)) = pair.split_once(':') {
                        refsets.insert(refset.to_string());
                    }
                }
            }
        }
        if refsets.is_empty() {
            return Err(CoreError::invalid(format!(
                "The ECL dialect '{alias}' names no language reference set of this edition"
            )));
        }
        Ok(refsets.into_iter().collect())
    }

    fn member_matches(&mut self, m: &SctMember, block: &[MemberFilter]) -> CoreResult<bool> {
        for filter in block {
            let holds = match filter {
                MemberFilter::Active(op, active) => *active == (*op == EqualityOp::Equal),
                MemberFilter::Module(..) | MemberFilter::EffectiveTime(..) => {
                    return Err(CoreError::not_supported(
                        "ECL member filters on moduleId and effectiveTime are not supported",
                    ))
                }
                MemberFilter::Field { name, value } => {
                    let field = if name == "referencedComponentId" {
                        Some(m.component.clone())
                    } else {
                        m.fields
                            .get(name)
                            .and_then(|v| v.as_str())
                            .map(str::to_owned)
                    };
                    let Some(field) = field else {
                        return Ok(false);
                    };
                    match value {
                        FieldValue::Expression(op, sub) => {
                            let codes =
                                self.concept_set_codes(&ConceptSet::Expression(sub.clone()))?;
                            codes.contains(&field) == (*op == EqualityOp::Equal)
                        }
                        FieldValue::Number(op, n) => field
                            .trim_start_matches('#')
                            .parse::<f64>()
                            .is_ok_and(|v| compare_numbers(*op, v, *n)),
                        FieldValue::String(op, terms) => {
                            terms.iter().any(|t| term_matches_exact(t, &field))
                                == (*op == EqualityOp::Equal)
                        }
                        FieldValue::Boolean(op, b) => {
                            (field == if *b { "1" } else { "0" } || field == b.to_string())
                                == (*op == EqualityOp::Equal)
                        }
                        FieldValue::Time(op, times) => times_match(*op, &field, times),
                    }
                }
            };
            if !holds {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Adds the inactive concepts whose historical associations (of the profile's
    /// reference sets) point into `set`.
    fn history(&mut self, history: &HistorySupplement, mut set: Set) -> CoreResult<Set> {
        self.keeps_inactive = true;
        let refsets: Vec<i64> = match history {
            HistorySupplement::Min => self.ids_of(&[SAME_AS])?,
            HistorySupplement::Mod => {
                self.ids_of(&[SAME_AS, REPLACED_BY, WAS_A, PARTIALLY_EQUIVALENT_TO])?
            }
            HistorySupplement::Max | HistorySupplement::Default => {
                let mut ids = Vec::new();
                for refset in self.snap.txn.sct_refsets(self.cs.id)? {
                    let members = self.snap.txn.sct_members(refset)?;
                    if members
                        .iter()
                        .any(|m| m.fields.contains_key("targetComponentId"))
                    {
                        ids.push(refset);
                    }
                }
                ids
            }
            HistorySupplement::Subset(e) => self.expression(e)?.into_iter().collect(),
        };
        let codes: HashMap<String, i64> = {
            let mut map = HashMap::new();
            for &id in &set {
                if let Some(c) = self.snap.txn.concept_by_id(id)? {
                    map.insert(c.code, id);
                }
            }
            map
        };
        for refset in refsets {
            for m in self.snap.txn.sct_members(refset)? {
                let target = m.fields.get("targetComponentId").and_then(|v| v.as_str());
                if let (Some(source), Some(target)) = (m.referenced, target) {
                    if codes.contains_key(target) {
                        set.insert(source);
                    }
                }
            }
        }
        Ok(set)
    }

    fn ids_of(&self, sctids: &[u64]) -> CoreResult<Vec<i64>> {
        let mut out = Vec::new();
        for id in sctids {
            out.extend(self.concept(*id)?);
        }
        Ok(out)
    }
}

/// The relationships satisfying one attribute constraint, by the concept they count for,
/// each with its role group.
struct Matcher {
    cardinality: Option<Cardinality>,
    by_concept: HashMap<i64, Vec<i64>>,
}

impl Matcher {
    /// How many matching relationships `concept` has (in `group`, if given).
    fn count(&self, concept: i64, group: Option<i64>) -> usize {
        self.by_concept.get(&concept).map_or(0, |groups| {
            groups
                .iter()
                .filter(|g| group.is_none_or(|want| **g == want))
                .count()
        })
    }

    fn groups_of(&self, concept: i64) -> Vec<i64> {
        self.by_concept.get(&concept).cloned().unwrap_or_default()
    }
}

/// Whether a group's attribute set holds for `concept` in role group `group`; `next`
/// walks the matchers in the order [`Evaluator::group_matchers`] made them.
fn set_holds(
    set: &AttributeSet,
    matchers: &[Matcher],
    next: &mut usize,
    concept: i64,
    group: i64,
) -> bool {
    match set {
        AttributeSet::Attribute(_) => {
            let m = &matchers[*next];
            *next += 1;
            in_range(m.cardinality.as_ref(), m.count(concept, Some(group)))
        }
        AttributeSet::And(items) => {
            let mut all = true;
            for item in items {
                all &= set_holds(item, matchers, next, concept, group);
            }
            all
        }
        AttributeSet::Or(items) => {
            let mut any = false;
            for item in items {
                any |= set_holds(item, matchers, next, concept, group);
            }
            any
        }
    }
}

/// Whether `count` satisfies a cardinality (default: at least one).
fn in_range(cardinality: Option<&Cardinality>, count: usize) -> bool {
    match cardinality {
        None => count >= 1,
        Some(c) => count >= c.min as usize && c.max.is_none_or(|max| count <= max as usize),
    }
}

fn compare_numbers(op: CompareOp, value: f64, wanted: f64) -> bool {
    match op {
        CompareOp::Equal => value == wanted,
        CompareOp::NotEqual => value != wanted,
        CompareOp::Less => value < wanted,
        CompareOp::LessOrEqual => value <= wanted,
        CompareOp::Greater => value > wanted,
        CompareOp::GreaterOrEqual => value >= wanted,
    }
}

/// Effective times compare as strings (`YYYYMMDD`); with several values, `=` means any
/// of them and `!=` none.
fn times_match(op: CompareOp, have: &str, wanted: &[String]) -> bool {
    match op {
        CompareOp::NotEqual => wanted.iter().all(|w| have != w),
        _ => wanted.iter().any(|w| match op {
            CompareOp::Equal => have == w,
            CompareOp::Less => have < w.as_str(),
            CompareOp::LessOrEqual => have <= w.as_str(),
            CompareOp::Greater => have > w.as_str(),
            CompareOp::GreaterOrEqual => have >= w.as_str(),
            CompareOp::NotEqual => unreachable!("handled above"),
        }),
    }
}

/// A term search: `match` (each word of the search a prefix of a word of the term,
/// case-insensitively) or `wild` (`*` any run of characters, case-insensitively).
fn term_matches(term: &SearchTerm, text: &str) -> bool {
    let text = text.to_lowercase();
    match term {
        SearchTerm::Match(search) => {
            let words: Vec<&str> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            search
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .all(|s| words.iter().any(|w| w.starts_with(s)))
        }
        SearchTerm::Wild(_) => wild_matches(&term.wild_parts(), &text),
    }
}

/// A member field compared with a search term: `match` terms compare the whole value
/// (refset fields are codes like `J45.9`, not prose), `wild` terms as patterns.
fn term_matches_exact(term: &SearchTerm, value: &str) -> bool {
    match term {
        SearchTerm::Match(s) => s == value,
        SearchTerm::Wild(_) => wild_matches(&term.wild_parts(), &value.to_lowercase()),
    }
}

fn wild_matches(parts: &[nomen_ecl::WildPart], text: &str) -> bool {
    use nomen_ecl::WildPart;
    // Greedy matching of literal pieces in order, anchored at both ends.
    let mut rest = text;
    let mut anchored = true;
    for (i, part) in parts.iter().enumerate() {
        match part {
            WildPart::Any => anchored = false,
            WildPart::Literal(lit) => {
                let lit = lit.to_lowercase();
                let last = i == parts.len() - 1;
                if anchored {
                    let Some(r) = rest.strip_prefix(lit.as_str()) else {
                        return false;
                    };
                    rest = r;
                } else if last {
                    return rest.ends_with(lit.as_str());
                } else {
                    let Some(at) = rest.find(lit.as_str()) else {
                        return false;
                    };
                    rest = &rest[at + lit.len()..];
                }
                anchored = true;
            }
        }
    }
    !anchored || rest.is_empty() || matches!(parts.last(), Some(WildPart::Any))
}

fn acceptability_codes(set: Option<&nomen_ecl::AcceptabilitySet>) -> Option<Vec<char>> {
    set.map(|s| match s {
        nomen_ecl::AcceptabilitySet::Tokens(tokens) => tokens
            .iter()
            .map(|t| match t {
                nomen_ecl::Acceptability::Preferred => 'P',
                nomen_ecl::Acceptability::Acceptable => 'A',
            })
            .collect(),
        nomen_ecl::AcceptabilitySet::Concepts(refs) => refs
            .iter()
            .filter_map(|r| match r.id {
                PREFERRED => Some('P'),
                ACCEPTABLE => Some('A'),
                _ => None,
            })
            .collect(),
    })
}

/// One description filter, resolved.
enum Check {
    Term(EqualityOp, Vec<SearchTerm>),
    Language(EqualityOp, Vec<String>),
    Type(EqualityOp, BTreeSet<String>),
    /// Language refsets, each with the acceptabilities that count (None: any).
    Dialect(EqualityOp, Vec<(String, Option<Vec<char>>)>),
    Module(EqualityOp, BTreeSet<String>),
    Time(CompareOp, Vec<String>),
    Active(bool),
    Id(EqualityOp, BTreeSet<String>),
}

impl Check {
    fn holds(&self, d: &SctDescriptionRow) -> bool {
        let eq = |op: &EqualityOp, v: bool| v == (*op == EqualityOp::Equal);
        match self {
            Check::Term(op, terms) => eq(op, terms.iter().any(|t| term_matches(t, &d.term))),
            Check::Language(op, codes) => eq(op, codes.contains(&d.language.to_ascii_lowercase())),
            Check::Type(op, codes) => eq(op, codes.contains(&d.type_id)),
            Check::Dialect(op, wanted) => {
                let found = d.acceptability.split_whitespace().any(|pair| {
                    pair.split_once(':').is_some_and(|(refset, a)| {
                        wanted.iter().any(|(w, acc)| {
                            w == refset
                                && acc.as_ref().is_none_or(|list| {
                                    a.chars().next().is_some_and(|c| list.contains(&c))
                                })
                        })
                    })
                });
                eq(op, found)
            }
            Check::Module(op, codes) => eq(op, codes.contains(&d.module)),
            Check::Time(op, times) => times_match(*op, &d.effective_time, times),
            Check::Active(active) => d.active == *active,
            Check::Id(op, ids) => eq(op, ids.contains(&d.id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_plus() {
        assert_eq!(percent_decode("%3C%3C%20123"), "<< 123");
        assert_eq!(percent_decode("{{ +HISTORY }}"), "{{ +HISTORY }}");
        assert_eq!(percent_decode("50%"), "50%");
    }

    #[test]
    fn wild_patterns_anchor_at_both_ends() {
        let wild = |p: &str| SearchTerm::Wild(p.to_string());
        assert!(term_matches(&wild("*heart*"), "Disorder of heart valve"));
        assert!(term_matches(&wild("disorder*"), "Disorder of heart"));
        assert!(!term_matches(&wild("heart*"), "Disorder of heart"));
        assert!(term_matches(&wild("*heart"), "Disorder of heart"));
        assert!(!term_matches(&wild("*heart"), "Disorder of heart valve"));
    }

    #[test]
    fn match_terms_are_word_prefixes() {
        let m = |p: &str| SearchTerm::Match(p.to_string());
        assert!(term_matches(&m("hear att"), "Heart attack"));
        assert!(!term_matches(&m("eart"), "Heart attack"));
    }
}
