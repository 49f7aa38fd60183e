//! The abstract syntax tree of an ECL 2.2 expression constraint.
//!
//! The tree keeps what changes the meaning of a constraint and drops pure syntax:
//! parentheses around refinements, the optional `D` prefix of description filters, the
//! `match:` keyword (the default search type) and the choice between brief and long
//! operator spellings are all gone. Parentheses around *expression constraints* are kept
//! (as [`Focus::Nested`]) because a nested expression may carry its own constraint
//! operator, member-of and filters. Concept terms (`|Asthma|`) are kept: they do not
//! change the meaning, but they make the canonical text ([`std::fmt::Display`]) readable.
//!
//! Every `Display` implementation prints canonical brief-syntax ECL that parses back to an
//! equal tree, so the printed text can serve as a cache key and in error messages.

use std::fmt::{self, Display, Formatter, Write as _};

/// A SNOMED CT identifier.
///
/// Held as `u64` rather than `String`: an SCTID is at most 18 decimal digits (less than
/// 2^63), so it always fits, compares and hashes cheaply and is `Copy`, and the parser has
/// already checked its form (6–18 digits, no leading zero) so no information is lost.
pub type SctId = u64;

/// A whole expression constraint: the result of [`crate::parse`].
///
/// ECL allows only one kind of binary operator at each level without parentheses, so a
/// compound constraint is a flat list of sub-expressions joined by one operator; mixing
/// needs a [`Focus::Nested`] sub-expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    /// A single sub-expression, e.g. `<< 73211009 |Diabetes mellitus|`.
    Sub(SubExpression),
    /// Conjunction (`AND` or `,`) of two or more sub-expressions: the intersection.
    And(Vec<SubExpression>),
    /// Disjunction (`OR`) of two or more sub-expressions: the union.
    Or(Vec<SubExpression>),
    /// Exclusion (`MINUS`): the first set without the second. Binary only, because
    /// `a MINUS b MINUS c` is ambiguous and the grammar forbids it.
    Minus(Box<SubExpression>, Box<SubExpression>),
    /// A refined constraint `focus : refinement`: the focus concepts whose attributes
    /// satisfy the refinement.
    Refined {
        /// The concepts being refined.
        focus: SubExpression,
        /// The attribute constraints they must satisfy.
        refinement: Refinement,
    },
    /// A dotted constraint `focus . attr1 . attr2`: the values of `attr1` on the focus
    /// concepts, then the values of `attr2` on those, and so on.
    Dotted {
        /// The concepts whose attribute values are taken.
        focus: SubExpression,
        /// The attribute names followed in order; each is itself a constraint on the
        /// attribute type (usually a single concept).
        attributes: Vec<SubExpression>,
    },
}

/// One operand of an expression: `[operator] [^ [fields]] focus [filters] [history]`.
///
/// This is the unit every binary operator, attribute name and attribute value is built
/// from, so the evaluator resolves each of these to a concept set the same way.
#[derive(Debug, Clone, PartialEq)]
pub struct SubExpression {
    /// The hierarchy operator (`<`, `<<`, `>!`, …), if any; `None` means "self".
    pub operator: Option<ConstraintOperator>,
    /// The member-of operator `^`, applied before the hierarchy operator:
    /// `<< ^ 700043003` is the descendants-or-self of the members of the refset.
    pub member_of: Option<MemberOf>,
    /// What the operators apply to.
    pub focus: Focus,
    /// The `{{ … }}` filter blocks, in source order. Each block is a conjunction that one
    /// component (one description, one refset member, the concept) must satisfy as a
    /// whole; separate blocks may be satisfied by different descriptions or members, which
    /// is why blocks are not merged. Member blocks always come before description and
    /// concept blocks (the grammar requires it).
    pub filters: Vec<FilterConstraint>,
    /// The history supplement `{{ +HISTORY… }}`, which must come after all filters.
    pub history: Option<HistorySupplement>,
}

impl SubExpression {
    /// A bare sub-expression around `focus`: no operators, filters or history. Handy for
    /// building trees by hand (tests, rewrites).
    pub fn new(focus: Focus) -> Self {
        SubExpression {
            operator: None,
            member_of: None,
            focus,
            filters: Vec::new(),
            history: None,
        }
    }
}

/// A hierarchy operator. The brief symbol and the long keyword parse to the same variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConstraintOperator {
    /// `<` / `descendantOf`: proper descendants.
    DescendantOf,
    /// `<<` / `descendantOrSelfOf`: descendants and the concept itself.
    DescendantOrSelfOf,
    /// `<!` / `childOf`: direct children only.
    ChildOf,
    /// `<<!` / `childOrSelfOf`: direct children and the concept itself.
    ChildOrSelfOf,
    /// `>` / `ancestorOf`: proper ancestors.
    AncestorOf,
    /// `>>` / `ancestorOrSelfOf`: ancestors and the concept itself.
    AncestorOrSelfOf,
    /// `>!` / `parentOf`: direct parents only.
    ParentOf,
    /// `>>!` / `parentOrSelfOf`: direct parents and the concept itself.
    ParentOrSelfOf,
    /// `!!>` (ECL 2.2 "top"): the members of the set that have no ancestor in the set.
    Top,
    /// `!!<` (ECL 2.2 "bottom"): the members of the set that have no descendant in the set.
    Bottom,
}

impl ConstraintOperator {
    /// The brief-syntax symbol, as printed by `Display`.
    pub fn symbol(self) -> &'static str {
        match self {
            ConstraintOperator::DescendantOf => "<",
            ConstraintOperator::DescendantOrSelfOf => "<<",
            ConstraintOperator::ChildOf => "<!",
            ConstraintOperator::ChildOrSelfOf => "<<!",
            ConstraintOperator::AncestorOf => ">",
            ConstraintOperator::AncestorOrSelfOf => ">>",
            ConstraintOperator::ParentOf => ">!",
            ConstraintOperator::ParentOrSelfOf => ">>!",
            ConstraintOperator::Top => "!!>",
            ConstraintOperator::Bottom => "!!<",
        }
    }
}

/// The member-of operator `^` and which refset fields it yields (ECL 2.2 field selection).
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOf {
    /// Plain `^ refset`: the referenced components of the members.
    ReferencedComponents,
    /// `^ [field, field] refset`: the values of the named fields of the members
    /// (e.g. `[referencedComponentId, mapTarget]`), which may be concepts or strings.
    Fields(Vec<String>),
    /// `^ [*] refset`: all fields of the members.
    AllFields,
}

/// What a sub-expression's operators apply to.
#[derive(Debug, Clone, PartialEq)]
pub enum Focus {
    /// A concept, e.g. `404684003 |Clinical finding|`.
    Concept(ConceptReference),
    /// `*` (or long-syntax `ANY`): every concept.
    Wildcard,
    /// An ECL 2.2 alternate identifier, e.g. `LOINC#54486-6`, which the evaluator maps
    /// to a SNOMED CT concept through the scheme's identifier refset.
    AltIdentifier(AltIdentifier),
    /// A parenthesised expression constraint, e.g. `(< 1 OR < 2)`. Kept as a node because
    /// the enclosing sub-expression may add operators and filters to it.
    Nested(Box<Expression>),
}

/// A concept id with its optional human-readable term.
#[derive(Debug, Clone, PartialEq)]
pub struct ConceptReference {
    /// The concept's identifier (checked for form only: the check digit is not verified,
    /// so an unknown or mistyped concept is reported by the evaluator, not the parser).
    pub id: SctId,
    /// The term between pipes, trimmed; it carries no meaning, but is kept for display.
    pub term: Option<String>,
}

/// An alternate identifier `scheme#code` (ECL 2.2), e.g. `LOINC#54486-6`.
#[derive(Debug, Clone, PartialEq)]
pub struct AltIdentifier {
    /// The scheme alias, e.g. `LOINC` (letters, digits and dashes, starting with a letter).
    pub scheme: String,
    /// The code within the scheme, e.g. `54486-6`.
    pub code: String,
    /// The optional term between pipes, kept for display only.
    pub term: Option<String>,
}

/// The attribute constraints after `:` in a refined expression.
///
/// Parentheses are dropped and nested conjunctions (disjunctions) are flattened into their
/// parent, so `And` never directly contains an `And` and `Or` never an `Or`.
#[derive(Debug, Clone, PartialEq)]
pub enum Refinement {
    /// A single attribute constraint, ungrouped: it may be satisfied in any group.
    Attribute(Attribute),
    /// `[card] { … }`: the attributes must be satisfied together within one group.
    Group(AttributeGroup),
    /// All of the constraints (`,` or `AND`).
    And(Vec<Refinement>),
    /// Any of the constraints (`OR`).
    Or(Vec<Refinement>),
}

/// An attribute group `[card] { attribute set }`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeGroup {
    /// How many groups must satisfy the set; `None` means at least one (`[1..*]`).
    pub cardinality: Option<Cardinality>,
    /// The attributes one group must satisfy. Groups cannot nest, so this is an
    /// [`AttributeSet`], not a [`Refinement`].
    pub attributes: AttributeSet,
}

/// The attributes inside a group: like [`Refinement`] but without groups, which cannot
/// nest. Flattened the same way.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeSet {
    /// A single attribute constraint.
    Attribute(Attribute),
    /// All of the constraints.
    And(Vec<AttributeSet>),
    /// Any of the constraints.
    Or(Vec<AttributeSet>),
}

/// One attribute constraint: `[card] [R] name op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// How many relationships must match; `None` means at least one (`[1..*]`).
    pub cardinality: Option<Cardinality>,
    /// `R`: the reverse of the attribute (the focus is the *value*, the result is the
    /// source concepts).
    pub reverse: bool,
    /// The attribute type(s), itself a constraint: `363698007`, `<< 363698007`, `*`.
    pub name: SubExpression,
    /// The comparison with the attribute's value.
    pub value: AttributeValue,
}

/// The comparison in an attribute constraint; which variant depends on the value's syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// `= constraint` / `!= constraint`: the value is (is not) a concept in the set.
    Expression(EqualityOp, Box<SubExpression>),
    /// `op #number`: a concrete numeric value.
    Number(CompareOp, f64),
    /// `= "text"` / `= wild:"…"` / `= ("a" "b")`: a concrete string value. ECL 2.2 makes
    /// these typed search terms; a set matches if any of its terms does.
    String(EqualityOp, Vec<SearchTerm>),
    /// `= true` / `= false`: a concrete boolean value.
    Boolean(EqualityOp, bool),
}

/// `=` or `!=`: the only comparisons ECL allows on concepts, strings and booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EqualityOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
}

/// The ordering comparisons ECL allows on numbers and effective times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
}

impl CompareOp {
    /// The symbol, as printed by `Display`.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Equal => "=",
            CompareOp::NotEqual => "!=",
            CompareOp::Less => "<",
            CompareOp::LessOrEqual => "<=",
            CompareOp::Greater => ">",
            CompareOp::GreaterOrEqual => ">=",
        }
    }
}

/// A cardinality `[min..max]`; the parser guarantees `min <= max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cardinality {
    /// The least number of matches (0 allows absence).
    pub min: u32,
    /// The most, or `None` for `*` (unbounded).
    pub max: Option<u32>,
}

/// A search term in a term filter or concrete string value.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchTerm {
    /// `"text"` or `match:"text"`: every whitespace-separated word of the text must be the
    /// prefix of a word of the term. Held unescaped (`\"` and `\\` resolved).
    Match(String),
    /// `wild:"pattern"`: `*` matches any run of characters. Held exactly as written
    /// between the quotes, escapes included, because `\*` (a literal star) must stay
    /// distinguishable from `*`; [`SearchTerm::wild_parts`] splits it for matching.
    Wild(String),
}

/// One piece of a wild search pattern, as produced by [`SearchTerm::wild_parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WildPart {
    /// Literal text (escapes resolved).
    Literal(String),
    /// An unescaped `*`.
    Any,
}

impl SearchTerm {
    /// Splits a `Wild` pattern into literal text and `*` wildcards, resolving `\*`, `\"`
    /// and `\\`. Returns an empty list for `Match`.
    pub fn wild_parts(&self) -> Vec<WildPart> {
        let SearchTerm::Wild(raw) = self else {
            return Vec::new();
        };
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => literal.extend(chars.next()),
                '*' => {
                    if !literal.is_empty() {
                        parts.push(WildPart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(WildPart::Any);
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(WildPart::Literal(literal));
        }
        parts
    }
}

/// A set of concepts in a filter: either a constraint (`<< 900000000000013009`) or an
/// explicit list of concepts `(1 2 3)`.
#[derive(Debug, Clone, PartialEq)]
pub enum ConceptSet {
    /// A sub-expression, evaluated like any other.
    Expression(Box<SubExpression>),
    /// `( id id … )`: an explicit list of concepts.
    References(Vec<ConceptReference>),
}

/// One `{{ … }}` filter block. The kind is fixed by its prefix (`D`, `C`, `M`, or none for
/// description filters), so a block never mixes kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterConstraint {
    /// `{{ [D] … }}`: some single description of the concept satisfies all the filters.
    Description(Vec<DescriptionFilter>),
    /// `{{ C … }}`: the concept itself satisfies all the filters.
    Concept(Vec<ConceptFilter>),
    /// `{{ M … }}`: some single refset member satisfies all the filters (only meaningful
    /// after `^`).
    Member(Vec<MemberFilter>),
}

/// A filter on descriptions.
#[derive(Debug, Clone, PartialEq)]
pub enum DescriptionFilter {
    /// `term = "…"`: the term matches any of the search terms (`!=`: none of them).
    Term(EqualityOp, Vec<SearchTerm>),
    /// `language = en` / `language = (en fr)`: ISO 639-1 codes, as written.
    Language(EqualityOp, Vec<String>),
    /// `typeId = …`: the description type is in the set.
    TypeId(EqualityOp, ConceptSet),
    /// `type = syn` / `type = (syn fsn)`.
    Type(EqualityOp, Vec<DescriptionType>),
    /// `dialectId = …`: the description is in one of the language refsets, optionally
    /// with the given acceptability.
    DialectId {
        /// `=` or `!=`.
        op: EqualityOp,
        /// The language refsets, each with its own optional acceptability.
        dialects: DialectIds,
        /// An acceptability that applies to all the dialects.
        acceptability: Option<AcceptabilitySet>,
    },
    /// `dialect = en-gb` / `dialect = (en-gb (prefer) en-us)`: dialect aliases.
    Dialect {
        /// `=` or `!=`.
        op: EqualityOp,
        /// The aliases, each with its own optional acceptability.
        dialects: Vec<DialectAlias>,
        /// An acceptability that applies to all the aliases.
        acceptability: Option<AcceptabilitySet>,
    },
    /// `moduleId = …`: the description's module is in the set.
    Module(EqualityOp, ConceptSet),
    /// `effectiveTime op "yyyymmdd"`: see [`ConceptFilter::EffectiveTime`].
    EffectiveTime(CompareOp, Vec<String>),
    /// `active = true|false|1|0`; `!=` negates.
    Active(EqualityOp, bool),
    /// `id = 123` / `id = (1 2)`: description ids.
    Id(EqualityOp, Vec<SctId>),
}

/// A description type token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DescriptionType {
    /// `syn`: 900000000000013009 |Synonym|.
    Synonym,
    /// `fsn`: 900000000000003001 |Fully specified name|.
    FullySpecifiedName,
    /// `def`: 900000000000550004 |Definition|.
    Definition,
}

/// The language refsets of a `dialectId` filter.
#[derive(Debug, Clone, PartialEq)]
pub enum DialectIds {
    /// A constraint (`dialectId = << 999001261000000100`).
    Expression(Box<SubExpression>),
    /// `( id [(acceptability)] id … )`: an explicit list, each with its own acceptability.
    Set(Vec<DialectConcept>),
}

/// One language refset in a `dialectId` set.
#[derive(Debug, Clone, PartialEq)]
pub struct DialectConcept {
    /// The language refset.
    pub concept: ConceptReference,
    /// Its acceptability, if given.
    pub acceptability: Option<AcceptabilitySet>,
}

/// One alias in a `dialect` filter, e.g. `en-gb (prefer)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DialectAlias {
    /// The alias as written (`en-gb`, `en-nhs-clinical`), which the server maps to a
    /// language refset.
    pub alias: String,
    /// Its acceptability, if given.
    pub acceptability: Option<AcceptabilitySet>,
}

/// An acceptability set after a dialect: `(prefer)`, `(accept prefer)` or concept ids.
#[derive(Debug, Clone, PartialEq)]
pub enum AcceptabilitySet {
    /// `(prefer)` / `(accept)` tokens (also `preferred` / `acceptable`).
    Tokens(Vec<Acceptability>),
    /// Acceptability concepts, e.g. `(900000000000548007 |Preferred|)`.
    Concepts(Vec<ConceptReference>),
}

/// An acceptability token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acceptability {
    /// `prefer`: 900000000000548007 |Preferred|.
    Preferred,
    /// `accept`: 900000000000549004 |Acceptable|.
    Acceptable,
}

/// A filter on the concept itself (`{{ C … }}`).
#[derive(Debug, Clone, PartialEq)]
pub enum ConceptFilter {
    /// `definitionStatusId = …`: the definition status concept is in the set.
    DefinitionStatusId(EqualityOp, ConceptSet),
    /// `definitionStatus = primitive|defined` or a set of them.
    DefinitionStatus(EqualityOp, Vec<DefinitionStatus>),
    /// `moduleId = …`: the concept's module is in the set.
    Module(EqualityOp, ConceptSet),
    /// `effectiveTime op "yyyymmdd"` or `op ("…" "…")`: each value is 8 digits or empty
    /// (empty means unpublished), so values compare correctly as strings.
    EffectiveTime(CompareOp, Vec<String>),
    /// `active = true|false|1|0`; `!=` negates.
    Active(EqualityOp, bool),
}

/// A definition status token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefinitionStatus {
    /// `primitive`: 900000000000074008 |Primitive|.
    Primitive,
    /// `defined`: 900000000000073002 |Defined|.
    Defined,
}

/// A filter on refset members (`{{ M … }}`).
#[derive(Debug, Clone, PartialEq)]
pub enum MemberFilter {
    /// `moduleId = …`: the member's module is in the set.
    Module(EqualityOp, ConceptSet),
    /// `effectiveTime op "yyyymmdd"`: see [`ConceptFilter::EffectiveTime`].
    EffectiveTime(CompareOp, Vec<String>),
    /// `active = true|false|1|0`; `!=` negates.
    Active(EqualityOp, bool),
    /// `fieldName op value`, e.g. `mapTarget = "J45.9"`, `mapGroup = #2`,
    /// `referencedComponentId = << 67415000`.
    Field {
        /// The refset field name as written (letters only), e.g. `mapTarget`.
        name: String,
        /// The comparison with the field's value.
        value: FieldValue,
    },
}

/// The comparison in a member field filter. Like [`AttributeValue`], plus time values.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// `= constraint` / `!= constraint`: a concept-valued field.
    Expression(EqualityOp, Box<SubExpression>),
    /// `op #number`: a numeric field.
    Number(CompareOp, f64),
    /// `= "text"` (typed search terms): a string field. A quoted value after `=` or `!=`
    /// is always read as a search term; the evaluator may compare it with a time field.
    String(EqualityOp, Vec<SearchTerm>),
    /// `= true|false`: a boolean field.
    Boolean(EqualityOp, bool),
    /// `< "yyyymmdd"` (an ordering operator before a quoted value): a time field.
    Time(CompareOp, Vec<String>),
}

/// A history supplement `{{ +HISTORY… }}`: add inactive concepts associated with the
/// result through historical association refsets.
#[derive(Debug, Clone, PartialEq)]
pub enum HistorySupplement {
    /// `+HISTORY`: the default profile (the server's choice; normally the maximum).
    Default,
    /// `+HISTORY-MIN`: SAME AS associations only.
    Min,
    /// `+HISTORY-MOD`: SAME AS, REPLACED BY, WAS A, PARTIALLY EQUIVALENT TO.
    Mod,
    /// `+HISTORY-MAX`: all historical associations.
    Max,
    /// `+HISTORY (constraint)`: the association refsets given by the constraint.
    Subset(Box<Expression>),
}

// ----------------------------------------------------------------------------------------
// Display: canonical brief syntax.
// ----------------------------------------------------------------------------------------

impl Display for Expression {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expression::Sub(sub) => sub.fmt(f),
            Expression::And(items) => join(f, items, " AND "),
            Expression::Or(items) => join(f, items, " OR "),
            Expression::Minus(a, b) => write!(f, "{a} MINUS {b}"),
            Expression::Refined { focus, refinement } => write!(f, "{focus} : {refinement}"),
            Expression::Dotted { focus, attributes } => {
                focus.fmt(f)?;
                attributes.iter().try_for_each(|a| write!(f, " . {a}"))
            }
        }
    }
}

fn join<T: Display>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

impl Display for SubExpression {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(op) = self.operator {
            write!(f, "{} ", op.symbol())?;
        }
        if let Some(member_of) = &self.member_of {
            write!(f, "{member_of} ")?;
        }
        self.focus.fmt(f)?;
        for filter in &self.filters {
            write!(f, " {filter}")?;
        }
        if let Some(history) = &self.history {
            write!(f, " {history}")?;
        }
        Ok(())
    }
}

impl Display for ConstraintOperator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Display for MemberOf {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MemberOf::ReferencedComponents => f.write_str("^"),
            MemberOf::AllFields => f.write_str("^ [*]"),
            MemberOf::Fields(fields) => write!(f, "^ [{}]", fields.join(", ")),
        }
    }
}

impl Display for Focus {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Focus::Concept(concept) => concept.fmt(f),
            Focus::Wildcard => f.write_str("*"),
            Focus::AltIdentifier(alt) => alt.fmt(f),
            Focus::Nested(expression) => write!(f, "({expression})"),
        }
    }
}

fn write_term(f: &mut Formatter<'_>, term: &Option<String>) -> fmt::Result {
    match term {
        Some(term) => write!(f, " |{term}|"),
        None => Ok(()),
    }
}

impl Display for ConceptReference {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        write_term(f, &self.term)
    }
}

/// Whether an alternate identifier code can be written without quotes.
pub(crate) fn is_unquoted_alt_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

impl Display for AltIdentifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if is_unquoted_alt_code(&self.code) {
            write!(f, "{}#{}", self.scheme, self.code)?;
        } else {
            write!(f, "\"{}#{}\"", self.scheme, self.code)?;
        }
        write_term(f, &self.term)
    }
}

impl Display for Refinement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Refinement::Attribute(attribute) => attribute.fmt(f),
            Refinement::Group(group) => group.fmt(f),
            Refinement::And(items) => join_nested(f, items, ", "),
            Refinement::Or(items) => join_nested(f, items, " OR "),
        }
    }
}

impl Display for AttributeSet {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            AttributeSet::Attribute(attribute) => attribute.fmt(f),
            AttributeSet::And(items) => join_nested(f, items, ", "),
            AttributeSet::Or(items) => join_nested(f, items, " OR "),
        }
    }
}

/// Something that prints in parentheses when it is a compound inside a compound.
trait Compound: Display {
    fn is_compound(&self) -> bool;
}

impl Compound for Refinement {
    fn is_compound(&self) -> bool {
        matches!(self, Refinement::And(_) | Refinement::Or(_))
    }
}

impl Compound for AttributeSet {
    fn is_compound(&self) -> bool {
        matches!(self, AttributeSet::And(_) | AttributeSet::Or(_))
    }
}

fn join_nested<T: Compound>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if item.is_compound() {
            write!(f, "({item})")?;
        } else {
            item.fmt(f)?;
        }
    }
    Ok(())
}

impl Display for AttributeGroup {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(cardinality) = self.cardinality {
            write!(f, "{cardinality} ")?;
        }
        write!(f, "{{ {} }}", self.attributes)
    }
}

impl Display for Cardinality {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) => write!(f, "[{}..{}]", self.min, max),
            None => write!(f, "[{}..*]", self.min),
        }
    }
}

impl Display for Attribute {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(cardinality) = self.cardinality {
            write!(f, "{cardinality} ")?;
        }
        if self.reverse {
            f.write_str("R ")?;
        }
        write!(f, "{} {}", self.name, self.value)
    }
}

impl Display for EqualityOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EqualityOp::Equal => "=",
            EqualityOp::NotEqual => "!=",
        })
    }
}

impl Display for CompareOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Display for AttributeValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Expression(op, value) => write!(f, "{op} {value}"),
            AttributeValue::Number(op, value) => write!(f, "{op} #{value}"),
            AttributeValue::String(op, terms) => write!(f, "{op} {}", Terms(terms)),
            AttributeValue::Boolean(op, value) => write!(f, "{op} {value}"),
        }
    }
}

impl Display for FieldValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Expression(op, value) => write!(f, "{op} {value}"),
            FieldValue::Number(op, value) => write!(f, "{op} #{value}"),
            FieldValue::String(op, terms) => write!(f, "{op} {}", Terms(terms)),
            FieldValue::Boolean(op, value) => write!(f, "{op} {value}"),
            FieldValue::Time(op, times) => write!(f, "{op} {}", Times(times)),
        }
    }
}

impl Display for SearchTerm {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SearchTerm::Match(text) => {
                f.write_char('"')?;
                for c in text.chars() {
                    if matches!(c, '"' | '\\') {
                        f.write_char('\\')?;
                    }
                    f.write_char(c)?;
                }
                f.write_char('"')
            }
            SearchTerm::Wild(raw) => write!(f, "wild:\"{raw}\""),
        }
    }
}

/// Prints one item bare and several in parentheses separated by spaces, the shape every
/// ECL value set takes (`"a"` / `("a" "b")`).
struct Set<'a, T>(&'a [T]);

impl<T: Display> Display for Set<'_, T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => one.fmt(f),
            items => {
                f.write_str("(")?;
                join(f, items, " ")?;
                f.write_str(")")
            }
        }
    }
}

struct Terms<'a>(&'a [SearchTerm]);

impl Display for Terms<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        Set(self.0).fmt(f)
    }
}

struct Times<'a>(&'a [String]);

impl Display for Times<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let quoted: Vec<String> = self.0.iter().map(|t| format!("\"{t}\"")).collect();
        Set(&quoted).fmt(f)
    }
}

impl Display for ConceptSet {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ConceptSet::Expression(sub) => sub.fmt(f),
            ConceptSet::References(refs) => {
                f.write_str("(")?;
                join(f, refs, " ")?;
                f.write_str(")")
            }
        }
    }
}

impl Display for FilterConstraint {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            FilterConstraint::Description(filters) => {
                f.write_str("{{ ")?;
                join(f, filters, ", ")?;
            }
            FilterConstraint::Concept(filters) => {
                f.write_str("{{ C ")?;
                join(f, filters, ", ")?;
            }
            FilterConstraint::Member(filters) => {
                f.write_str("{{ M ")?;
                join(f, filters, ", ")?;
            }
        }
        f.write_str(" }}")
    }
}

fn write_acceptability(f: &mut Formatter<'_>, set: &Option<AcceptabilitySet>) -> fmt::Result {
    match set {
        Some(set) => write!(f, " {set}"),
        None => Ok(()),
    }
}

impl Display for DescriptionFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DescriptionFilter::Term(op, terms) => write!(f, "term {op} {}", Terms(terms)),
            DescriptionFilter::Language(op, codes) => write!(f, "language {op} {}", Set(codes)),
            DescriptionFilter::TypeId(op, set) => write!(f, "typeId {op} {set}"),
            DescriptionFilter::Type(op, types) => write!(f, "type {op} {}", Set(types)),
            DescriptionFilter::DialectId {
                op,
                dialects,
                acceptability,
            } => {
                write!(f, "dialectId {op} {dialects}")?;
                write_acceptability(f, acceptability)
            }
            DescriptionFilter::Dialect {
                op,
                dialects,
                acceptability,
            } => {
                write!(f, "dialect {op} ")?;
                match dialects.as_slice() {
                    [one] if one.acceptability.is_none() => one.fmt(f)?,
                    items => {
                        f.write_str("(")?;
                        join(f, items, " ")?;
                        f.write_str(")")?;
                    }
                }
                write_acceptability(f, acceptability)
            }
            DescriptionFilter::Module(op, set) => write!(f, "moduleId {op} {set}"),
            DescriptionFilter::EffectiveTime(op, times) => {
                write!(f, "effectiveTime {op} {}", Times(times))
            }
            DescriptionFilter::Active(op, value) => write!(f, "active {op} {value}"),
            DescriptionFilter::Id(op, ids) => write!(f, "id {op} {}", Set(ids)),
        }
    }
}

impl Display for DescriptionType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DescriptionType::Synonym => "syn",
            DescriptionType::FullySpecifiedName => "fsn",
            DescriptionType::Definition => "def",
        })
    }
}

impl Display for DialectIds {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DialectIds::Expression(sub) => sub.fmt(f),
            DialectIds::Set(items) => {
                f.write_str("(")?;
                join(f, items, " ")?;
                f.write_str(")")
            }
        }
    }
}

impl Display for DialectConcept {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.concept.fmt(f)?;
        write_acceptability(f, &self.acceptability)
    }
}

impl Display for DialectAlias {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.alias)?;
        write_acceptability(f, &self.acceptability)
    }
}

impl Display for AcceptabilitySet {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        match self {
            AcceptabilitySet::Tokens(tokens) => join(f, tokens, " ")?,
            AcceptabilitySet::Concepts(concepts) => join(f, concepts, " ")?,
        }
        f.write_str(")")
    }
}

impl Display for Acceptability {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Acceptability::Preferred => "prefer",
            Acceptability::Acceptable => "accept",
        })
    }
}

impl Display for ConceptFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ConceptFilter::DefinitionStatusId(op, set) => {
                write!(f, "definitionStatusId {op} {set}")
            }
            ConceptFilter::DefinitionStatus(op, statuses) => {
                write!(f, "definitionStatus {op} {}", Set(statuses))
            }
            ConceptFilter::Module(op, set) => write!(f, "moduleId {op} {set}"),
            ConceptFilter::EffectiveTime(op, times) => {
                write!(f, "effectiveTime {op} {}", Times(times))
            }
            ConceptFilter::Active(op, value) => write!(f, "active {op} {value}"),
        }
    }
}

impl Display for DefinitionStatus {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DefinitionStatus::Primitive => "primitive",
            DefinitionStatus::Defined => "defined",
        })
    }
}

impl Display for MemberFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MemberFilter::Module(op, set) => write!(f, "moduleId {op} {set}"),
            MemberFilter::EffectiveTime(op, times) => {
                write!(f, "effectiveTime {op} {}", Times(times))
            }
            MemberFilter::Active(op, value) => write!(f, "active {op} {value}"),
            MemberFilter::Field { name, value } => write!(f, "{name} {value}"),
        }
    }
}

impl Display for HistorySupplement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            HistorySupplement::Default => f.write_str("{{ +HISTORY }}"),
            HistorySupplement::Min => f.write_str("{{ +HISTORY-MIN }}"),
            HistorySupplement::Mod => f.write_str("{{ +HISTORY-MOD }}"),
            HistorySupplement::Max => f.write_str("{{ +HISTORY-MAX }}"),
            HistorySupplement::Subset(expression) => write!(f, "{{{{ +HISTORY ({expression}) }}}}"),
        }
    }
}
