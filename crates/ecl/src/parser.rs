//! The recursive-descent parser: ECL 2.2 brief syntax (plus the long-syntax hierarchy
//! operators, `ANY` and `memberOf`) to [`Expression`].
//!
//! Each grammar rule is one method. Where the ECL grammar is ambiguous the parser resolves
//! it deterministically with at most a bounded token lookahead, never by backtracking, so
//! parsing time is linear in the input; nesting is limited to [`MAX_DEPTH`] so hostile
//! input cannot overflow the stack.

use crate::ast::*;
use crate::error::ParseError;
use crate::lexer::{Lexer, Punct, Token, TokenKind};
use crate::sctid::is_sctid_form;

/// The deepest nesting of sub-expressions and refinements accepted. Real constraints
/// rarely nest more than five levels; in an optimised build 200 levels use under 1 MiB
/// of stack.
pub const MAX_DEPTH: usize = 200;

/// The most stack the parser lets itself use, measured from the call to [`parse`]. This
/// backs up [`MAX_DEPTH`] where frames are larger than expected (unoptimised builds use
/// several times more stack per level), so parsing never overflows a 2 MiB thread stack;
/// there it may report "nested too deeply" before reaching 200 levels.
pub const STACK_BUDGET: usize = 1 << 20;

/// The address of a local: how deep the stack is right now. Only differences between
/// two calls are used, so the direction of stack growth does not matter.
#[inline(never)]
fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Parses an ECL 2.2 expression constraint.
///
/// Whitespace and `/* comments */` may appear between any two tokens. Returns the first
/// syntax error with its position; concept ids are checked for form only (see
/// [`ConceptReference::id`]).
pub fn parse(input: &str) -> std::result::Result<Expression, ParseError> {
    let mut parser = Parser {
        lexer: Lexer::new(input),
        depth: 0,
        stack_base: stack_position(),
    };
    let first = parser.peek()?;
    if first.kind == TokenKind::Eof {
        return Err(parser.error_at(
            first.start,
            "expected an expression constraint, found end of input",
        ));
    }
    let expression = parser.expression()?;
    let end = parser.peek()?;
    if end.kind != TokenKind::Eof {
        return Err(parser.trailing(end, &expression));
    }
    Ok(expression)
}

type Result<T> = std::result::Result<T, ParseError>;

/// The binary operators of expressions and refinements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    And,
    Or,
    Minus,
}

impl BinOp {
    fn name(self) -> &'static str {
        match self {
            BinOp::And => "AND",
            BinOp::Or => "OR",
            BinOp::Minus => "MINUS",
        }
    }
}

/// One operand of a refinement: attribute-level (may join an attribute set) or
/// refinement-level only (an attribute group, or parentheses around one).
enum Item {
    Attr(AttributeSet),
    Ref(Refinement),
}

/// What parentheses in a refinement turned out to hold.
enum ParenContent {
    /// A refinement: `( a = b OR c = d )`.
    Refinement(Refinement),
    /// An expression constraint used as an attribute name: `( << 1 OR << 2 ) = 3`.
    Expression(Expression),
}

/// One filter block, or the history supplement (which is written like one).
enum Block {
    Filter(FilterConstraint),
    History(HistorySupplement),
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// Current nesting of guarded rules (sub-expressions, refinements, parentheses).
    depth: usize,
    /// [`stack_position`] when parsing began.
    stack_base: usize,
}

/// A word compared case-insensitively, as ECL keywords are.
fn is_word(token: Token<'_>, keyword: &str) -> bool {
    matches!(token.kind, TokenKind::Word(w) if w.eq_ignore_ascii_case(keyword))
}

fn is_punct(token: Token<'_>, punct: Punct) -> bool {
    token.kind == TokenKind::Punct(punct)
}

fn eq_op(punct: Punct) -> Option<EqualityOp> {
    match punct {
        Punct::Eq => Some(EqualityOp::Equal),
        Punct::Ne => Some(EqualityOp::NotEqual),
        _ => None,
    }
}

fn compare_op(punct: Punct) -> Option<CompareOp> {
    Some(match punct {
        Punct::Eq => CompareOp::Equal,
        Punct::Ne => CompareOp::NotEqual,
        Punct::Lt => CompareOp::Less,
        Punct::Le => CompareOp::LessOrEqual,
        Punct::Gt => CompareOp::Greater,
        Punct::Ge => CompareOp::GreaterOrEqual,
        _ => return None,
    })
}

fn as_equality(op: CompareOp) -> Option<EqualityOp> {
    match op {
        CompareOp::Equal => Some(EqualityOp::Equal),
        CompareOp::NotEqual => Some(EqualityOp::NotEqual),
        _ => None,
    }
}

fn mixing(a: BinOp, b: BinOp) -> String {
    format!(
        "cannot mix '{}' and '{}' without parentheses",
        a.name(),
        b.name()
    )
}

// ---- refinement tree helpers ----------------------------------------------------------

fn has_group(refinement: &Refinement) -> bool {
    match refinement {
        Refinement::Attribute(_) => false,
        Refinement::Group(_) => true,
        Refinement::And(items) | Refinement::Or(items) => items.iter().any(has_group),
    }
}

/// Converts a group-free refinement to an attribute set; `None` if it holds a group.
fn to_attribute_set(refinement: Refinement) -> Option<AttributeSet> {
    let convert = |items: Vec<Refinement>| {
        items
            .into_iter()
            .map(to_attribute_set)
            .collect::<Option<Vec<_>>>()
    };
    Some(match refinement {
        Refinement::Attribute(a) => AttributeSet::Attribute(a),
        Refinement::Group(_) => return None,
        Refinement::And(items) => AttributeSet::And(convert(items)?),
        Refinement::Or(items) => AttributeSet::Or(convert(items)?),
    })
}

fn to_refinement(set: AttributeSet) -> Refinement {
    let convert =
        |items: Vec<AttributeSet>| items.into_iter().map(to_refinement).collect::<Vec<_>>();
    match set {
        AttributeSet::Attribute(a) => Refinement::Attribute(a),
        AttributeSet::And(items) => Refinement::And(convert(items)),
        AttributeSet::Or(items) => Refinement::Or(convert(items)),
    }
}

/// Joins refinements with `op`, splicing in children that use the same operator.
fn combine_refinements(items: Vec<Refinement>, op: Option<BinOp>) -> Refinement {
    let mut items = items;
    if items.len() == 1 {
        return items.remove(0);
    }
    let and = op == Some(BinOp::And);
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Refinement::And(children) if and => flat.extend(children),
            Refinement::Or(children) if !and => flat.extend(children),
            other => flat.push(other),
        }
    }
    if and {
        Refinement::And(flat)
    } else {
        Refinement::Or(flat)
    }
}

fn combine_sets(items: Vec<AttributeSet>, op: Option<BinOp>) -> AttributeSet {
    let refinements = items.into_iter().map(to_refinement).collect();
    to_attribute_set(combine_refinements(refinements, op)).expect("attribute sets hold no groups")
}

/// The operands of a refinement so far, on the two levels of the ECL grammar: an
/// attribute set (`run`) whose items are single attributes or parenthesised attribute
/// sets, inside a refinement (`items`) whose items are attribute sets and groups. Each
/// level has one operator; the run binds first, so `a, b OR c` is `(a, b) OR c` as in
/// the reference (ANTLR) grammar.
#[derive(Default)]
struct RefinementState {
    items: Vec<Refinement>,
    op: Option<BinOp>,
    run: Vec<AttributeSet>,
    run_op: Option<BinOp>,
}

impl RefinementState {
    fn close_run(&mut self) {
        if !self.run.is_empty() {
            let run = std::mem::take(&mut self.run);
            self.items
                .push(to_refinement(combine_sets(run, self.run_op.take())));
        }
    }

    fn refinement_op(&mut self, op: BinOp) -> std::result::Result<(), String> {
        match self.op {
            None => self.op = Some(op),
            Some(current) if current == op => {}
            Some(current) => return Err(mixing(current, op)),
        }
        Ok(())
    }

    /// Adds an operand that followed `op` (`None` for the first operand). Errors with the
    /// message for the operator's position.
    fn push(
        &mut self,
        item: Item,
        op: Option<BinOp>,
        in_group: bool,
    ) -> std::result::Result<(), String> {
        let Some(op) = op else {
            match item {
                Item::Attr(set) => self.run.push(set),
                Item::Ref(refinement) => self.items.push(refinement),
            }
            return Ok(());
        };
        match item {
            Item::Attr(set) => {
                if !self.run.is_empty() && self.run_op.is_none_or(|r| r == op) {
                    self.run_op = Some(op);
                    self.run.push(set);
                } else if in_group {
                    return Err(mixing(self.run_op.unwrap_or(op), op));
                } else if self.run.is_empty() || self.op.is_none_or(|r| r == op) {
                    // The run ends here and `op` joins it to what follows.
                    self.close_run();
                    self.refinement_op(op)?;
                    self.run.push(set);
                } else {
                    // The refinement level already uses the run's operator, so the run's
                    // last operand starts a new run with `op` instead.
                    let last = self.run.pop().expect("run is not empty");
                    let run_op = self.run_op.take();
                    self.refinement_op(run_op.unwrap_or(op))?;
                    let run = std::mem::take(&mut self.run);
                    self.items.extend(run.into_iter().map(to_refinement));
                    self.run = vec![last, set];
                    self.run_op = Some(op);
                }
            }
            Item::Ref(refinement) => {
                self.close_run();
                self.refinement_op(op)?;
                self.items.push(refinement);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Refinement {
        self.close_run();
        combine_refinements(self.items, self.op)
    }
}

impl<'a> Parser<'a> {
    // ---- token helpers ----------------------------------------------------------------

    fn peek(&mut self) -> Result<Token<'a>> {
        self.lexer.peek()
    }

    fn bump(&mut self, token: Token<'a>) {
        self.lexer.bump(token);
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(self.lexer.src(), offset, message)
    }

    fn describe(&self, token: Token<'_>) -> String {
        if token.kind == TokenKind::Eof {
            return "end of input".to_string();
        }
        let text = &self.lexer.src()[token.start..token.end];
        if text.chars().count() > 30 {
            let short: String = text.chars().take(30).collect();
            format!("'{short}…'")
        } else {
            format!("'{text}'")
        }
    }

    fn expected(&self, token: Token<'_>, what: &str) -> ParseError {
        self.error_at(
            token.start,
            format!("expected {what}, found {}", self.describe(token)),
        )
    }

    /// Consumes the next token if it is `punct`.
    fn eat(&mut self, punct: Punct) -> Result<Option<Token<'a>>> {
        let token = self.peek()?;
        if is_punct(token, punct) {
            self.bump(token);
            Ok(Some(token))
        } else {
            Ok(None)
        }
    }

    fn expect(&mut self, punct: Punct, what: &str) -> Result<Token<'a>> {
        match self.eat(punct)? {
            Some(token) => Ok(token),
            None => {
                let token = self.peek()?;
                Err(self.expected(token, what))
            }
        }
    }

    /// Consumes a keyword, which must be followed by whitespace, a comment, `(` or the
    /// end, so that `ANDx` or `AND<<1` is not read as `AND`.
    fn keyword(&mut self, token: Token<'a>) -> Result<()> {
        self.bump(token);
        let next = self.lexer.byte_at(token.end);
        let comment = next == Some(b'/') && self.lexer.byte_at(token.end + 1) == Some(b'*');
        if matches!(next, None | Some(b' ' | b'\t' | b'\r' | b'\n' | b'(')) || comment {
            return Ok(());
        }
        let word = &self.lexer.src()[token.start..token.end];
        Err(self.error_at(token.end, format!("expected whitespace after '{word}'")))
    }

    fn enter(&mut self, offset: usize) -> Result<()> {
        self.depth += 1;
        let stack_used = self.stack_base.abs_diff(stack_position());
        if self.depth > MAX_DEPTH || stack_used > STACK_BUDGET {
            return Err(self.error_at(
                offset,
                format!("expression nested too deeply (the limit is {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn trailing(&self, token: Token<'_>, expression: &Expression) -> ParseError {
        let found = self.describe(token);
        let operator = matches!(
            token.kind,
            TokenKind::Punct(Punct::Comma | Punct::Colon | Punct::Dot)
        ) || ["and", "or", "minus"].iter().any(|k| is_word(token, k));
        let hint = match expression {
            Expression::Sub(_) => "",
            _ if operator => {
                " (use parentheses to combine compound, refined or dotted expressions)"
            }
            _ => "",
        };
        self.error_at(
            token.start,
            format!("expected end of input, found {found}{hint}"),
        )
    }

    // ---- expressions ------------------------------------------------------------------

    /// expressionConstraint = refined / compound / dotted / subExpressionConstraint
    fn expression(&mut self) -> Result<Expression> {
        let first = self.sub_expression()?;
        self.expression_from(first)
    }

    /// The rest of an expression constraint whose first sub-expression has been read.
    fn expression_from(&mut self, first: SubExpression) -> Result<Expression> {
        let token = self.peek()?;
        if is_punct(token, Punct::Colon) {
            self.bump(token);
            let refinement = self.refinement(false, None)?;
            return Ok(Expression::Refined {
                focus: first,
                refinement,
            });
        }
        if is_punct(token, Punct::Dot) {
            let mut attributes = Vec::new();
            while self.eat(Punct::Dot)?.is_some() {
                attributes.push(self.sub_expression()?);
            }
            return Ok(Expression::Dotted {
                focus: first,
                attributes,
            });
        }
        match self.expression_op()? {
            Some((op, token)) => self.compound(first, op, token),
            None => Ok(Expression::Sub(first)),
        }
    }

    /// The binary operator at the cursor, if any (not consumed).
    fn expression_op(&mut self) -> Result<Option<(BinOp, Token<'a>)>> {
        let token = self.peek()?;
        let op = if is_punct(token, Punct::Comma) || is_word(token, "and") {
            BinOp::And
        } else if is_word(token, "or") {
            BinOp::Or
        } else if is_word(token, "minus") {
            BinOp::Minus
        } else {
            return Ok(None);
        };
        Ok(Some((op, token)))
    }

    fn consume_op(&mut self, token: Token<'a>) -> Result<()> {
        if is_punct(token, Punct::Comma) {
            self.bump(token);
            Ok(())
        } else {
            self.keyword(token)
        }
    }

    /// A conjunction, disjunction or exclusion: one operator throughout, exclusion binary.
    fn compound(
        &mut self,
        first: SubExpression,
        op: BinOp,
        mut token: Token<'a>,
    ) -> Result<Expression> {
        let mut items = vec![first];
        loop {
            self.consume_op(token)?;
            items.push(self.sub_expression()?);
            match self.expression_op()? {
                None => break,
                Some((next, next_token)) if next == op && op != BinOp::Minus => token = next_token,
                Some((BinOp::Minus, next_token)) if op == BinOp::Minus => {
                    return Err(self.error_at(
                        next_token.start,
                        "'MINUS' is binary: use parentheses, e.g. (a MINUS b) MINUS c",
                    ))
                }
                Some((next, next_token)) => {
                    return Err(self.error_at(next_token.start, mixing(op, next)))
                }
            }
        }
        Ok(match op {
            BinOp::And => Expression::And(items),
            BinOp::Or => Expression::Or(items),
            BinOp::Minus => {
                let b = items.pop().expect("two operands");
                let a = items.pop().expect("two operands");
                Expression::Minus(Box::new(a), Box::new(b))
            }
        })
    }

    /// subExpressionConstraint = [operator] [memberOf] focus *filter [history]
    fn sub_expression(&mut self) -> Result<SubExpression> {
        let start = self.peek()?.start;
        self.enter(start)?;
        let operator = self.constraint_operator()?;
        let member_of = self.member_of()?;
        let focus = self.focus()?;
        let sub = self.sub_expression_rest(operator, member_of, focus)?;
        self.leave();
        Ok(sub)
    }

    fn constraint_operator(&mut self) -> Result<Option<ConstraintOperator>> {
        use ConstraintOperator::*;
        let token = self.peek()?;
        let op = match token.kind {
            TokenKind::Punct(punct) => match punct {
                Punct::Lt => DescendantOf,
                Punct::LtLt => DescendantOrSelfOf,
                Punct::LtBang => ChildOf,
                Punct::LtLtBang => ChildOrSelfOf,
                Punct::Gt => AncestorOf,
                Punct::GtGt => AncestorOrSelfOf,
                Punct::GtBang => ParentOf,
                Punct::GtGtBang => ParentOrSelfOf,
                Punct::Top => Top,
                Punct::Bottom => Bottom,
                _ => return Ok(None),
            },
            TokenKind::Word(word) => {
                let op = match word.to_ascii_lowercase().as_str() {
                    "descendantof" => DescendantOf,
                    "descendantorselfof" => DescendantOrSelfOf,
                    "childof" => ChildOf,
                    "childorselfof" => ChildOrSelfOf,
                    "ancestorof" => AncestorOf,
                    "ancestororselfof" => AncestorOrSelfOf,
                    "parentof" => ParentOf,
                    "parentorselfof" => ParentOrSelfOf,
                    _ => return Ok(None),
                };
                self.keyword(token)?;
                return Ok(Some(op));
            }
            _ => return Ok(None),
        };
        self.bump(token);
        Ok(Some(op))
    }

    /// memberOf = "^" [ "[" (fieldName *("," fieldName) / "*") "]" ]
    fn member_of(&mut self) -> Result<Option<MemberOf>> {
        let token = self.peek()?;
        if is_punct(token, Punct::Caret) {
            self.bump(token);
        } else if is_word(token, "memberof") {
            self.keyword(token)?;
        } else {
            return Ok(None);
        }
        if self.eat(Punct::LBracket)?.is_none() {
            return Ok(Some(MemberOf::ReferencedComponents));
        }
        if self.eat(Punct::Star)?.is_some() {
            self.expect(Punct::RBracket, "']'")?;
            return Ok(Some(MemberOf::AllFields));
        }
        let mut fields = vec![self.field_name()?];
        while self.eat(Punct::Comma)?.is_some() {
            fields.push(self.field_name()?);
        }
        self.expect(Punct::RBracket, "',' or ']'")?;
        Ok(Some(MemberOf::Fields(fields)))
    }

    /// refsetFieldName = 1*alpha
    fn field_name(&mut self) -> Result<String> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Word(word) if word.bytes().all(|b| b.is_ascii_alphabetic()) => {
                self.bump(token);
                Ok(word.to_string())
            }
            _ => Err(self.expected(token, "a refset field name")),
        }
    }

    /// eclFocusConcept / "(" expressionConstraint ")"
    fn focus(&mut self) -> Result<Focus> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Number(digits) => {
                self.bump(token);
                let id = self.concept_id(token, digits)?;
                let term = self.optional_term()?;
                Ok(Focus::Concept(ConceptReference { id, term }))
            }
            TokenKind::Punct(Punct::Star) => {
                self.bump(token);
                Ok(Focus::Wildcard)
            }
            TokenKind::Word(word) if self.lexer.byte_at(token.end) == Some(b'#') => {
                self.bump(token);
                self.alt_identifier(token, word)
            }
            TokenKind::Word(_) if is_word(token, "any") => {
                self.bump(token);
                Ok(Focus::Wildcard)
            }
            TokenKind::Str(raw) => {
                self.bump(token);
                self.quoted_alt_identifier(token, raw)
            }
            TokenKind::Punct(Punct::LParen) => {
                self.bump(token);
                let expression = self.expression()?;
                self.expect(Punct::RParen, "')'")?;
                Ok(Focus::Nested(Box::new(expression)))
            }
            _ => Err(self.expected(token, "a concept id, '*' or '('")),
        }
    }

    fn concept_id(&self, token: Token<'_>, digits: &str) -> Result<SctId> {
        if !is_sctid_form(digits) {
            return Err(self.error_at(
                token.start,
                format!(
                    "'{digits}' is not a SNOMED CT identifier (6 to 18 digits, not starting with 0)"
                ),
            ));
        }
        digits
            .parse()
            .map_err(|_| self.error_at(token.start, "concept id out of range"))
    }

    fn optional_term(&mut self) -> Result<Option<String>> {
        match self.eat(Punct::Pipe)? {
            Some(pipe) => Ok(Some(self.lexer.term(pipe.start)?.to_string())),
            None => Ok(None),
        }
    }

    /// eclConceptReference = conceptId [ "|" term "|" ]
    fn concept_reference(&mut self) -> Result<ConceptReference> {
        let token = self.peek()?;
        let TokenKind::Number(digits) = token.kind else {
            return Err(self.expected(token, "a concept id"));
        };
        self.bump(token);
        let id = self.concept_id(token, digits)?;
        let term = self.optional_term()?;
        Ok(ConceptReference { id, term })
    }

    fn check_scheme(&self, offset: usize, scheme: &str) -> Result<()> {
        let valid = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if valid {
            Ok(())
        } else {
            Err(self.error_at(
                offset,
                format!("'{scheme}' is not an identifier scheme alias (letters, digits and '-')"),
            ))
        }
    }

    /// altIdentifier = scheme "#" code (unquoted): the scheme word has been consumed.
    fn alt_identifier(&mut self, token: Token<'a>, scheme: &str) -> Result<Focus> {
        self.check_scheme(token.start, scheme)?;
        self.lexer.set_pos(token.end + 1);
        let code = self.lexer.alt_code();
        if code.is_empty() {
            return Err(self.error_at(token.end + 1, "expected an identifier code after '#'"));
        }
        let term = self.optional_term()?;
        Ok(Focus::AltIdentifier(AltIdentifier {
            scheme: scheme.to_string(),
            code: code.to_string(),
            term,
        }))
    }

    /// altIdentifier = QM scheme "#" code QM (quoted: the code may hold any character
    /// except `"` and `\`).
    fn quoted_alt_identifier(&mut self, token: Token<'a>, raw: &str) -> Result<Focus> {
        let Some((scheme, code)) = raw.split_once('#') else {
            return Err(self.error_at(
                token.start,
                "expected a concept id, '*' or '(' (a quoted alternate identifier needs 'scheme#code')",
            ));
        };
        self.check_scheme(token.start + 1, scheme)?;
        if code.is_empty() || code.contains('\\') {
            return Err(self.error_at(
                token.start,
                "expected an identifier code after '#' (without '\\')",
            ));
        }
        let term = self.optional_term()?;
        Ok(Focus::AltIdentifier(AltIdentifier {
            scheme: scheme.to_string(),
            code: code.to_string(),
            term,
        }))
    }

    /// The filters and history supplement after a focus.
    fn sub_expression_rest(
        &mut self,
        operator: Option<ConstraintOperator>,
        member_of: Option<MemberOf>,
        focus: Focus,
    ) -> Result<SubExpression> {
        let mut sub = SubExpression {
            operator,
            member_of,
            focus,
            filters: Vec::new(),
            history: None,
        };
        while let Some(open) = self.eat(Punct::LFilter)? {
            if sub.history.is_some() {
                return Err(self.error_at(
                    open.start,
                    "the history supplement {{ +HISTORY }} must come after all filters",
                ));
            }
            match self.filter_block()? {
                Block::History(history) => sub.history = Some(history),
                Block::Filter(filter) => {
                    let member = matches!(filter, FilterConstraint::Member(_));
                    let after_other = sub
                        .filters
                        .iter()
                        .any(|f| !matches!(f, FilterConstraint::Member(_)));
                    if member && after_other {
                        return Err(self.error_at(
                            open.start,
                            "member filters {{ M … }} must come before description and concept filters",
                        ));
                    }
                    sub.filters.push(filter);
                }
            }
        }
        Ok(sub)
    }

    // ---- refinements ------------------------------------------------------------------

    /// eclRefinement (or, `in_group`, the eclAttributeSet inside a group), optionally
    /// continuing after an already-parsed first operand.
    fn refinement(&mut self, in_group: bool, first: Option<Item>) -> Result<Refinement> {
        let start = self.peek()?.start;
        self.enter(start)?;
        let mut state = RefinementState::default();
        let mut pending: Option<(BinOp, usize)> = None;
        let mut next = first;
        loop {
            let item = match next.take() {
                Some(item) => item,
                None => self.refinement_item(in_group)?,
            };
            let op = pending.map(|(op, _)| op);
            if let Err(message) = state.push(item, op, in_group) {
                let offset = pending.map_or(start, |(_, offset)| offset);
                return Err(self.error_at(offset, message));
            }
            match self.refinement_op()? {
                Some((op, token)) => {
                    self.consume_op(token)?;
                    pending = Some((op, token.start));
                }
                None => break,
            }
        }
        self.leave();
        Ok(state.finish())
    }

    fn refinement_op(&mut self) -> Result<Option<(BinOp, Token<'a>)>> {
        Ok(match self.expression_op()? {
            Some((BinOp::Minus, _)) | None => None,
            other => other,
        })
    }

    /// One operand: an attribute, a group, or parentheses.
    fn refinement_item(&mut self, in_group: bool) -> Result<Item> {
        let token = self.peek()?;
        let nested_group = |p: &Self| p.error_at(token.start, "attribute groups cannot be nested");
        match token.kind {
            TokenKind::Punct(Punct::LBrace) => {
                if in_group {
                    return Err(nested_group(self));
                }
                Ok(Item::Ref(self.group(None)?))
            }
            TokenKind::Punct(Punct::LBracket) => {
                let cardinality = self.cardinality()?;
                if is_punct(self.peek()?, Punct::LBrace) {
                    if in_group {
                        return Err(nested_group(self));
                    }
                    return Ok(Item::Ref(self.group(Some(cardinality))?));
                }
                let attribute = self.attribute(Some(cardinality))?;
                Ok(Item::Attr(AttributeSet::Attribute(attribute)))
            }
            TokenKind::Punct(Punct::LParen) => match self.paren_in_refinement()? {
                ParenContent::Refinement(refinement) if has_group(&refinement) => {
                    if in_group {
                        return Err(nested_group(self));
                    }
                    Ok(Item::Ref(refinement))
                }
                ParenContent::Refinement(refinement) => Ok(Item::Attr(
                    to_attribute_set(refinement).expect("checked for groups"),
                )),
                ParenContent::Expression(expression) => {
                    let name =
                        self.sub_expression_rest(None, None, Focus::Nested(Box::new(expression)))?;
                    let attribute = self.attribute_with_name(None, false, name)?;
                    Ok(Item::Attr(AttributeSet::Attribute(attribute)))
                }
            },
            _ => Ok(Item::Attr(AttributeSet::Attribute(self.attribute(None)?))),
        }
    }

    /// Parentheses where a refinement operand is expected: either a parenthesised
    /// refinement or a parenthesised expression constraint naming an attribute. Decided
    /// by what follows the first sub-expression inside: a comparison operator makes it an
    /// attribute (so a refinement), anything else an expression.
    fn paren_in_refinement(&mut self) -> Result<ParenContent> {
        let open = self.expect(Punct::LParen, "'('")?;
        self.enter(open.start)?;
        let token = self.peek()?;
        let starts_refinement = matches!(
            token.kind,
            TokenKind::Punct(Punct::LBrace | Punct::LBracket)
        ) || self.is_reverse_flag(token);
        let content = if starts_refinement {
            ParenContent::Refinement(self.refinement(false, None)?)
        } else if is_punct(token, Punct::LParen) {
            match self.paren_in_refinement()? {
                ParenContent::Refinement(refinement) => {
                    let item = if has_group(&refinement) {
                        Item::Ref(refinement)
                    } else {
                        Item::Attr(to_attribute_set(refinement).expect("checked for groups"))
                    };
                    ParenContent::Refinement(self.refinement(false, Some(item))?)
                }
                ParenContent::Expression(expression) => {
                    let sub =
                        self.sub_expression_rest(None, None, Focus::Nested(Box::new(expression)))?;
                    self.paren_content(sub)?
                }
            }
        } else {
            let sub = self.sub_expression()?;
            self.paren_content(sub)?
        };
        self.expect(Punct::RParen, "')'")?;
        self.leave();
        Ok(content)
    }

    fn paren_content(&mut self, sub: SubExpression) -> Result<ParenContent> {
        let token = self.peek()?;
        let comparison = matches!(token.kind, TokenKind::Punct(p) if compare_op(p).is_some());
        if comparison {
            let attribute = self.attribute_with_name(None, false, sub)?;
            let first = Item::Attr(AttributeSet::Attribute(attribute));
            Ok(ParenContent::Refinement(
                self.refinement(false, Some(first))?,
            ))
        } else {
            Ok(ParenContent::Expression(self.expression_from(sub)?))
        }
    }

    /// eclAttributeGroup = [cardinality] "{" eclAttributeSet "}"
    fn group(&mut self, cardinality: Option<Cardinality>) -> Result<Refinement> {
        let open = self.expect(Punct::LBrace, "'{'")?;
        let refinement = self.refinement(true, None)?;
        let close = self.peek()?;
        match close.kind {
            TokenKind::Punct(Punct::RBrace) => self.bump(close),
            // `}}` closing a filter inside the group, then the group: take one brace.
            TokenKind::Punct(Punct::RFilter) => self.lexer.set_pos(close.start + 1),
            _ => return Err(self.expected(close, "',', 'AND', 'OR' or '}'")),
        }
        let attributes = to_attribute_set(refinement)
            .ok_or_else(|| self.error_at(open.start, "attribute groups cannot be nested"))?;
        Ok(Refinement::Group(AttributeGroup {
            cardinality,
            attributes,
        }))
    }

    /// cardinality = "[" min ".." (max / "*") "]"
    fn cardinality(&mut self) -> Result<Cardinality> {
        self.expect(Punct::LBracket, "'['")?;
        let min = self.cardinality_bound()?;
        self.expect(Punct::DotDot, "'..'")?;
        let max_token = self.peek()?;
        let max = if self.eat(Punct::Star)?.is_some() {
            None
        } else {
            Some(self.cardinality_bound()?)
        };
        self.expect(Punct::RBracket, "']'")?;
        if let Some(max) = max.filter(|&max| max < min) {
            return Err(self.error_at(
                max_token.start,
                format!("cardinality minimum {min} is greater than maximum {max}"),
            ));
        }
        Ok(Cardinality { min, max })
    }

    fn cardinality_bound(&mut self) -> Result<u32> {
        let token = self.peek()?;
        let TokenKind::Number(digits) = token.kind else {
            return Err(self.expected(token, "a cardinality (a whole number, or '*' as maximum)"));
        };
        self.bump(token);
        digits
            .parse()
            .map_err(|_| self.error_at(token.start, format!("cardinality {digits} is too large")))
    }

    fn is_reverse_flag(&self, token: Token<'_>) -> bool {
        let reverse = matches!(token.kind, TokenKind::Word("R")) || is_word(token, "reverseof");
        reverse && self.lexer.byte_at(token.end) != Some(b'#')
    }

    /// eclAttribute = [cardinality] [R] name comparison
    fn attribute(&mut self, cardinality: Option<Cardinality>) -> Result<Attribute> {
        let token = self.peek()?;
        let reverse = self.is_reverse_flag(token);
        if reverse {
            self.keyword(token)?;
        }
        let name = self.sub_expression()?;
        self.attribute_with_name(cardinality, reverse, name)
    }

    fn attribute_with_name(
        &mut self,
        cardinality: Option<Cardinality>,
        reverse: bool,
        name: SubExpression,
    ) -> Result<Attribute> {
        let start = self.peek()?.start;
        let value = match self.comparison(false)? {
            FieldValue::Expression(op, sub) => AttributeValue::Expression(op, sub),
            FieldValue::Number(op, n) => AttributeValue::Number(op, n),
            FieldValue::String(op, terms) => AttributeValue::String(op, terms),
            FieldValue::Boolean(op, b) => AttributeValue::Boolean(op, b),
            FieldValue::Time(..) => {
                return Err(self.error_at(start, "a time value is not allowed here"))
            }
        };
        Ok(Attribute {
            cardinality,
            reverse,
            name,
            value,
        })
    }

    /// A comparison operator and value, for attributes and (`allow_time`) member fields.
    fn comparison(&mut self, allow_time: bool) -> Result<FieldValue> {
        let token = self.peek()?;
        let op = match token.kind {
            TokenKind::Punct(p) => compare_op(p),
            _ => None,
        };
        let Some(op) = op else {
            return Err(self.expected(
                token,
                "a comparison operator ('=', '!=', '<', '<=', '>', '>=')",
            ));
        };
        self.bump(token);
        let value = self.peek()?;
        if is_punct(value, Punct::Hash) {
            self.bump(value);
            return Ok(FieldValue::Number(op, self.numeric_value()?));
        }
        let Some(eq) = as_equality(op) else {
            let time = matches!(
                value.kind,
                TokenKind::Str(_) | TokenKind::Punct(Punct::LParen)
            );
            if allow_time && time {
                return Ok(FieldValue::Time(op, self.time_values()?));
            }
            let what = if allow_time {
                format!(
                    "'#' and a number, or a quoted time, after '{}'",
                    op.symbol()
                )
            } else {
                format!("'#' and a number after '{}'", op.symbol())
            };
            return Err(self.expected(value, &what));
        };
        let search_word = is_word(value, "match") || is_word(value, "wild");
        if matches!(value.kind, TokenKind::Str(_)) || search_word || self.at_term_set()? {
            return Ok(FieldValue::String(eq, self.search_terms()?));
        }
        if (is_word(value, "true") || is_word(value, "false"))
            && self.lexer.byte_at(value.end) != Some(b'#')
        {
            self.bump(value);
            return Ok(FieldValue::Boolean(eq, is_word(value, "true")));
        }
        Ok(FieldValue::Expression(eq, Box::new(self.sub_expression()?)))
    }

    /// numericValue = ["-"/"+"] (decimal / integer), directly after `#`.
    fn numeric_value(&mut self) -> Result<f64> {
        let start = self.lexer.pos();
        let text = self.lexer.number()?;
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(self.error_at(start, format!("number {text} is out of range"))),
        }
    }

    /// Whether the cursor is at `(` starting a set of search terms (rather than a
    /// parenthesised expression). Looks two tokens ahead, then restores the cursor.
    fn at_term_set(&mut self) -> Result<bool> {
        let open = self.peek()?;
        if !is_punct(open, Punct::LParen) {
            return Ok(false);
        }
        let saved = self.lexer.pos();
        self.bump(open);
        let first = self.lexer.peek();
        let result = match first {
            Ok(t) if matches!(t.kind, TokenKind::Str(_)) => true,
            Ok(t) if is_word(t, "match") || is_word(t, "wild") => {
                self.bump(t);
                matches!(self.lexer.peek(), Ok(colon) if is_punct(colon, Punct::Colon))
            }
            _ => false,
        };
        self.lexer.set_pos(saved);
        Ok(result)
    }

    // ---- value sets -------------------------------------------------------------------

    /// One item, or several in parentheses: the shape of every ECL filter value set.
    fn set_of<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        if self.eat(Punct::LParen)?.is_none() {
            return Ok(vec![item(self)?]);
        }
        let mut items = vec![item(self)?];
        while self.eat(Punct::RParen)?.is_none() {
            items.push(item(self)?);
        }
        Ok(items)
    }

    /// typedSearchTerm / typedSearchTermSet
    fn search_terms(&mut self) -> Result<Vec<SearchTerm>> {
        self.set_of(Self::search_term)
    }

    /// typedSearchTerm = [match ":"] "…" / wild ":" "…"
    fn search_term(&mut self) -> Result<SearchTerm> {
        let token = self.peek()?;
        let wild = is_word(token, "wild");
        if wild || is_word(token, "match") {
            self.bump(token);
            self.expect(Punct::Colon, "':'")?;
        }
        let string = self.peek()?;
        let TokenKind::Str(raw) = string.kind else {
            let what = if token == string {
                "a quoted search term"
            } else {
                "a quoted search term after ':'"
            };
            return Err(self.expected(string, what));
        };
        self.bump(string);
        if raw.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
            return Err(self.error_at(string.start, "empty search term"));
        }
        if wild {
            self.check_escapes(string, raw, "\"\\*")?;
            Ok(SearchTerm::Wild(raw.to_string()))
        } else {
            self.check_escapes(string, raw, "\"\\")?;
            Ok(SearchTerm::Match(unescape(raw)))
        }
    }

    fn check_escapes(&self, token: Token<'_>, raw: &str, allowed: &str) -> Result<()> {
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                continue;
            }
            match chars.next() {
                Some((_, e)) if allowed.contains(e) => {}
                other => {
                    let shown: String = other.map(|(_, e)| e).into_iter().collect();
                    let list: Vec<String> = allowed.chars().map(|a| format!("'\\{a}'")).collect();
                    return Err(self.error_at(
                        token.start + 1 + i,
                        format!("invalid escape '\\{shown}' (allowed: {})", list.join(", ")),
                    ));
                }
            }
        }
        Ok(())
    }

    /// timeValue = QM [ year month day ] QM
    fn time_value(&mut self) -> Result<String> {
        let token = self.peek()?;
        let TokenKind::Str(raw) = token.kind else {
            return Err(self.expected(token, "a quoted date \"yyyymmdd\""));
        };
        self.bump(token);
        if raw.is_empty() || is_date(raw) {
            Ok(raw.to_string())
        } else {
            Err(self.error_at(
                token.start,
                format!("\"{raw}\" is not a date of the form \"yyyymmdd\""),
            ))
        }
    }

    fn time_values(&mut self) -> Result<Vec<String>> {
        self.set_of(Self::time_value)
    }

    /// A concept set in a filter: `( id id … )` or a sub-expression.
    fn concept_set(&mut self) -> Result<ConceptSet> {
        if self.at_reference_set(false)? {
            let open = self.peek()?;
            self.bump(open);
            let mut references = Vec::new();
            while self.eat(Punct::RParen)?.is_none() {
                references.push(self.concept_reference()?);
            }
            return Ok(ConceptSet::References(references));
        }
        Ok(ConceptSet::Expression(Box::new(self.sub_expression()?)))
    }

    /// Whether the cursor is at `(` followed only by concept references (each optionally
    /// followed by an acceptability set, if `acceptability`) and `)`. A bounded scan that
    /// restores the cursor.
    fn at_reference_set(&mut self, acceptability: bool) -> Result<bool> {
        let open = self.peek()?;
        if !is_punct(open, Punct::LParen) {
            return Ok(false);
        }
        let saved = self.lexer.pos();
        self.bump(open);
        let result = self.scan_reference_set(acceptability).unwrap_or(false);
        self.lexer.set_pos(saved);
        Ok(result)
    }

    fn scan_reference_set(&mut self, acceptability: bool) -> Result<bool> {
        let mut count = 0;
        loop {
            let token = self.peek()?;
            match token.kind {
                TokenKind::Number(_) => {
                    self.bump(token);
                    self.optional_term()?;
                    count += 1;
                    if acceptability && is_punct(self.peek()?, Punct::LParen) {
                        self.acceptability_set()?;
                    }
                }
                TokenKind::Punct(Punct::RParen) => return Ok(count > 0),
                _ => return Ok(false),
            }
        }
    }

    // ---- filters ----------------------------------------------------------------------

    /// After `{{`: a description, concept or member filter block, or a history supplement.
    fn filter_block(&mut self) -> Result<Block> {
        let token = self.peek()?;
        if is_punct(token, Punct::Plus) {
            self.bump(token);
            let history = self.history()?;
            self.expect(Punct::RFilter, "'}}'")?;
            return Ok(Block::History(history));
        }
        let prefix = match token.kind {
            TokenKind::Word(w) if w.len() == 1 => w.to_ascii_lowercase(),
            _ => String::new(),
        };
        if matches!(prefix.as_str(), "d" | "c" | "m") {
            self.bump(token);
        }
        let filter = match prefix.as_str() {
            "c" => FilterConstraint::Concept(self.comma_list(Self::concept_filter)?),
            "m" => FilterConstraint::Member(self.comma_list(Self::member_filter)?),
            _ => FilterConstraint::Description(self.comma_list(Self::description_filter)?),
        };
        self.expect(Punct::RFilter, "',' or '}}'")?;
        Ok(Block::Filter(filter))
    }

    fn comma_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.eat(Punct::Comma)?.is_some() {
            items.push(item(self)?);
        }
        Ok(items)
    }

    fn equality(&mut self) -> Result<EqualityOp> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Punct(p) if eq_op(p).is_some() => {
                self.bump(token);
                Ok(eq_op(p).expect("checked"))
            }
            _ => Err(self.expected(token, "'=' or '!='")),
        }
    }

    fn ordering(&mut self) -> Result<CompareOp> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Punct(p) if compare_op(p).is_some() => {
                self.bump(token);
                Ok(compare_op(p).expect("checked"))
            }
            _ => Err(self.expected(
                token,
                "a comparison operator ('=', '!=', '<', '<=', '>', '>=')",
            )),
        }
    }

    /// The filter keyword at the cursor, lower-cased and consumed, or `None` if the
    /// cursor is not at a word.
    fn filter_keyword(&mut self) -> Result<Option<(String, Token<'a>)>> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Word(word) => {
                self.bump(token);
                Ok(Some((word.to_ascii_lowercase(), token)))
            }
            _ => Ok(None),
        }
    }

    fn unknown_filter(&self, token: Token<'_>, kind: &str, keywords: &str) -> ParseError {
        self.expected(token, &format!("a {kind} filter ({keywords})"))
    }

    fn description_filter(&mut self) -> Result<DescriptionFilter> {
        const KEYWORDS: &str = "term, language, type, typeId, dialect, dialectId, moduleId, effectiveTime, active or id";
        let Some((keyword, token)) = self.filter_keyword()? else {
            let token = self.peek()?;
            return Err(self.unknown_filter(token, "description", KEYWORDS));
        };
        Ok(match keyword.as_str() {
            "term" => DescriptionFilter::Term(self.equality()?, self.search_terms()?),
            "language" => {
                DescriptionFilter::Language(self.equality()?, self.set_of(Self::language_code)?)
            }
            "typeid" => DescriptionFilter::TypeId(self.equality()?, self.concept_set()?),
            "type" => {
                DescriptionFilter::Type(self.equality()?, self.set_of(Self::description_type)?)
            }
            "dialectid" => {
                let op = self.equality()?;
                let dialects = self.dialect_ids()?;
                let acceptability = self.optional_acceptability()?;
                DescriptionFilter::DialectId {
                    op,
                    dialects,
                    acceptability,
                }
            }
            "dialect" => {
                let op = self.equality()?;
                let dialects = self.dialect_aliases()?;
                let acceptability = self.optional_acceptability()?;
                DescriptionFilter::Dialect {
                    op,
                    dialects,
                    acceptability,
                }
            }
            "moduleid" => DescriptionFilter::Module(self.equality()?, self.concept_set()?),
            "effectivetime" => {
                DescriptionFilter::EffectiveTime(self.ordering()?, self.time_values()?)
            }
            "active" => DescriptionFilter::Active(self.equality()?, self.active_value()?),
            "id" => DescriptionFilter::Id(self.equality()?, self.set_of(Self::description_id)?),
            _ => return Err(self.unknown_filter(token, "description", KEYWORDS)),
        })
    }

    fn concept_filter(&mut self) -> Result<ConceptFilter> {
        const KEYWORDS: &str =
            "definitionStatus, definitionStatusId, moduleId, effectiveTime or active";
        let Some((keyword, token)) = self.filter_keyword()? else {
            let token = self.peek()?;
            return Err(self.unknown_filter(token, "concept", KEYWORDS));
        };
        Ok(match keyword.as_str() {
            "definitionstatusid" => {
                ConceptFilter::DefinitionStatusId(self.equality()?, self.concept_set()?)
            }
            "definitionstatus" => ConceptFilter::DefinitionStatus(
                self.equality()?,
                self.set_of(Self::definition_status)?,
            ),
            "moduleid" => ConceptFilter::Module(self.equality()?, self.concept_set()?),
            "effectivetime" => ConceptFilter::EffectiveTime(self.ordering()?, self.time_values()?),
            "active" => ConceptFilter::Active(self.equality()?, self.active_value()?),
            _ => return Err(self.unknown_filter(token, "concept", KEYWORDS)),
        })
    }

    fn member_filter(&mut self) -> Result<MemberFilter> {
        let token = self.peek()?;
        let Some((keyword, token)) = self.filter_keyword()? else {
            return Err(self.expected(
                token,
                "a member filter (moduleId, effectiveTime, active or a refset field name)",
            ));
        };
        Ok(match keyword.as_str() {
            "moduleid" => MemberFilter::Module(self.equality()?, self.concept_set()?),
            "effectivetime" => MemberFilter::EffectiveTime(self.ordering()?, self.time_values()?),
            "active" => MemberFilter::Active(self.equality()?, self.active_value()?),
            _ => {
                let TokenKind::Word(name) = token.kind else {
                    unreachable!("filter_keyword returns words only")
                };
                if !name.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(self.error_at(
                        token.start,
                        format!("'{name}' is not a refset field name (letters only)"),
                    ));
                }
                MemberFilter::Field {
                    name: name.to_string(),
                    value: self.comparison(true)?,
                }
            }
        })
    }

    /// A word from a fixed list, mapped to its value.
    fn token_of<T: Copy>(&mut self, what: &str, table: &[(&str, T)]) -> Result<T> {
        let token = self.peek()?;
        if let TokenKind::Word(word) = token.kind {
            if let Some(&(_, value)) = table.iter().find(|(k, _)| word.eq_ignore_ascii_case(k)) {
                self.bump(token);
                return Ok(value);
            }
        }
        Err(self.expected(token, what))
    }

    fn description_type(&mut self) -> Result<DescriptionType> {
        use DescriptionType::*;
        self.token_of(
            "a description type (syn, fsn or def)",
            &[
                ("syn", Synonym),
                ("synonym", Synonym),
                ("fsn", FullySpecifiedName),
                ("fullySpecifiedName", FullySpecifiedName),
                ("def", Definition),
                ("definition", Definition),
            ],
        )
    }

    fn definition_status(&mut self) -> Result<DefinitionStatus> {
        self.token_of(
            "a definition status (primitive or defined)",
            &[
                ("primitive", DefinitionStatus::Primitive),
                ("defined", DefinitionStatus::Defined),
            ],
        )
    }

    fn acceptability_token(&mut self) -> Result<Acceptability> {
        use Acceptability::*;
        self.token_of(
            "an acceptability (accept or prefer)",
            &[
                ("accept", Acceptable),
                ("acceptable", Acceptable),
                ("prefer", Preferred),
                ("preferred", Preferred),
            ],
        )
    }

    /// languageCode = 2alpha
    fn language_code(&mut self) -> Result<String> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Word(w) if w.len() == 2 && w.bytes().all(|b| b.is_ascii_alphabetic()) => {
                self.bump(token);
                Ok(w.to_string())
            }
            _ => Err(self.expected(token, "a two-letter language code")),
        }
    }

    fn description_id(&mut self) -> Result<SctId> {
        let token = self.peek()?;
        let TokenKind::Number(digits) = token.kind else {
            return Err(self.expected(token, "a description id"));
        };
        self.bump(token);
        self.concept_id(token, digits)
    }

    /// activeValue = "1" / "true" / "0" / "false"
    fn active_value(&mut self) -> Result<bool> {
        let token = self.peek()?;
        let value = match token.kind {
            TokenKind::Number("1") => true,
            TokenKind::Number("0") => false,
            _ if is_word(token, "true") => true,
            _ if is_word(token, "false") => false,
            _ => return Err(self.expected(token, "true, false, 1 or 0")),
        };
        self.bump(token);
        Ok(value)
    }

    fn optional_acceptability(&mut self) -> Result<Option<AcceptabilitySet>> {
        if is_punct(self.peek()?, Punct::LParen) {
            Ok(Some(self.acceptability_set()?))
        } else {
            Ok(None)
        }
    }

    /// acceptabilitySet = "(" (acceptability tokens / concept references) ")"
    fn acceptability_set(&mut self) -> Result<AcceptabilitySet> {
        self.expect(Punct::LParen, "'('")?;
        if matches!(self.peek()?.kind, TokenKind::Number(_)) {
            let mut concepts = Vec::new();
            while self.eat(Punct::RParen)?.is_none() {
                concepts.push(self.concept_reference()?);
            }
            return Ok(AcceptabilitySet::Concepts(concepts));
        }
        let mut tokens = vec![self.acceptability_token()?];
        while self.eat(Punct::RParen)?.is_none() {
            tokens.push(self.acceptability_token()?);
        }
        Ok(AcceptabilitySet::Tokens(tokens))
    }

    /// dialectId value: a sub-expression, or `( id [(acceptability)] … )`.
    fn dialect_ids(&mut self) -> Result<DialectIds> {
        if !self.at_reference_set(true)? {
            return Ok(DialectIds::Expression(Box::new(self.sub_expression()?)));
        }
        self.expect(Punct::LParen, "'('")?;
        let mut dialects = Vec::new();
        while self.eat(Punct::RParen)?.is_none() {
            let concept = self.concept_reference()?;
            let acceptability = self.optional_acceptability()?;
            dialects.push(DialectConcept {
                concept,
                acceptability,
            });
        }
        Ok(DialectIds::Set(dialects))
    }

    /// dialect value: an alias, or `( alias [(acceptability)] … )`.
    fn dialect_aliases(&mut self) -> Result<Vec<DialectAlias>> {
        if self.eat(Punct::LParen)?.is_none() {
            let alias = self.dialect_alias()?;
            return Ok(vec![DialectAlias {
                alias,
                acceptability: None,
            }]);
        }
        let mut dialects = Vec::new();
        loop {
            let alias = self.dialect_alias()?;
            let acceptability = self.optional_acceptability()?;
            dialects.push(DialectAlias {
                alias,
                acceptability,
            });
            if self.eat(Punct::RParen)?.is_some() {
                return Ok(dialects);
            }
        }
    }

    /// dialectAlias = alpha *(dash / alpha / integer)
    fn dialect_alias(&mut self) -> Result<String> {
        let token = self.peek()?;
        match token.kind {
            TokenKind::Word(w)
                if w.as_bytes()[0].is_ascii_alphabetic()
                    && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
            {
                self.bump(token);
                Ok(w.to_string())
            }
            _ => Err(self.expected(token, "a dialect alias such as en-gb")),
        }
    }

    /// After `{{ +`: HISTORY [-MIN / -MOD / -MAX / (subset)]
    fn history(&mut self) -> Result<HistorySupplement> {
        let token = self.peek()?;
        let word = match token.kind {
            TokenKind::Word(w) => w.to_ascii_lowercase().replace('_', "-"),
            _ => String::new(),
        };
        let history = match word.as_str() {
            "history" => HistorySupplement::Default,
            "history-min" => HistorySupplement::Min,
            "history-mod" => HistorySupplement::Mod,
            "history-max" => HistorySupplement::Max,
            _ => {
                return Err(self.expected(
                    token,
                    "'HISTORY', 'HISTORY-MIN', 'HISTORY-MOD' or 'HISTORY-MAX'",
                ))
            }
        };
        self.bump(token);
        if history == HistorySupplement::Default && self.eat(Punct::LParen)?.is_some() {
            let subset = self.expression()?;
            self.expect(Punct::RParen, "')'")?;
            return Ok(HistorySupplement::Subset(Box::new(subset)));
        }
        Ok(history)
    }
}

/// Resolves `\"` and `\\` (the only escapes in a match term; already validated).
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// year month day: `yyyymmdd` with a non-zero first digit, month 01–12, day 01–31.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return false;
    }
    let month = (b[4] - b'0') * 10 + (b[5] - b'0');
    let day = (b[6] - b'0') * 10 + (b[7] - b'0');
    (1..=12).contains(&month) && (1..=31).contains(&day)
}
