//! Every construct the evaluator needs parses to the expected tree.

use nomen_ecl::*;

fn ecl(input: &str) -> Expression {
    parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
}

fn sub(input: &str) -> SubExpression {
    match ecl(input) {
        Expression::Sub(sub) => sub,
        other => panic!("{input}: not a sub-expression: {other:?}"),
    }
}

fn concept(id: SctId) -> SubExpression {
    SubExpression::new(Focus::Concept(ConceptReference { id, term: None }))
}

fn with_op(op: ConstraintOperator, mut s: SubExpression) -> SubExpression {
    s.operator = Some(op);
    s
}

fn refinement(input: &str) -> Refinement {
    match ecl(input) {
        Expression::Refined { refinement, .. } => refinement,
        other => panic!("{input}: not refined: {other:?}"),
    }
}

fn attr(name: SctId, value: SctId) -> Attribute {
    Attribute {
        cardinality: None,
        reverse: false,
        name: concept(name),
        value: AttributeValue::Expression(EqualityOp::Equal, Box::new(concept(value))),
    }
}

fn single_filter(input: &str) -> FilterConstraint {
    let mut s = sub(input);
    assert_eq!(s.filters.len(), 1, "{input}");
    s.filters.remove(0)
}

fn description_filters(input: &str) -> Vec<DescriptionFilter> {
    match single_filter(input) {
        FilterConstraint::Description(filters) => filters,
        other => panic!("{input}: {other:?}"),
    }
}

fn concept_filters(input: &str) -> Vec<ConceptFilter> {
    match single_filter(input) {
        FilterConstraint::Concept(filters) => filters,
        other => panic!("{input}: {other:?}"),
    }
}

fn member_filters(input: &str) -> Vec<MemberFilter> {
    match single_filter(input) {
        FilterConstraint::Member(filters) => filters,
        other => panic!("{input}: {other:?}"),
    }
}

#[test]
fn constraint_operators_brief_and_long() {
    use ConstraintOperator::*;
    let cases = [
        ("<", "descendantOf", DescendantOf),
        ("<<", "descendantOrSelfOf", DescendantOrSelfOf),
        ("<!", "childOf", ChildOf),
        ("<<!", "childOrSelfOf", ChildOrSelfOf),
        (">", "ancestorOf", AncestorOf),
        (">>", "ancestorOrSelfOf", AncestorOrSelfOf),
        (">!", "parentOf", ParentOf),
        (">>!", "parentOrSelfOf", ParentOrSelfOf),
    ];
    for (brief, long, op) in cases {
        let expected = Expression::Sub(with_op(op, concept(404684003)));
        assert_eq!(ecl(&format!("{brief} 404684003")), expected, "{brief}");
        assert_eq!(ecl(&format!("{brief}404684003")), expected, "{brief}");
        assert_eq!(ecl(&format!("{long} 404684003")), expected, "{long}");
        assert_eq!(
            ecl(&format!("{} 404684003", long.to_uppercase())),
            expected,
            "{long}"
        );
    }
    assert_eq!(sub("!!> 404684003").operator, Some(Top));
    assert_eq!(sub("!!< 404684003").operator, Some(Bottom));
}

#[test]
fn concept_references_and_wildcards() {
    assert_eq!(
        sub("73211009 | Diabetes  mellitus |").focus,
        Focus::Concept(ConceptReference {
            id: 73211009,
            term: Some("Diabetes  mellitus".into())
        })
    );
    assert_eq!(sub("*").focus, Focus::Wildcard);
    assert_eq!(sub("ANY").focus, Focus::Wildcard);
    assert_eq!(sub("any").focus, Focus::Wildcard);
    assert_eq!(
        sub("999000011000000103").focus,
        Focus::Concept(ConceptReference {
            id: 999000011000000103,
            term: None
        })
    );
    // The check digit is not verified by the parser.
    assert!(parse("73211008").is_ok());
}

#[test]
fn alternate_identifiers() {
    let alt = |scheme: &str, code: &str, term: Option<&str>| {
        Focus::AltIdentifier(AltIdentifier {
            scheme: scheme.into(),
            code: code.into(),
            term: term.map(String::from),
        })
    };
    assert_eq!(sub("LOINC#54486-6").focus, alt("LOINC", "54486-6", None));
    assert_eq!(
        sub("<< LOINC#54486-6 |Term|").focus,
        alt("LOINC", "54486-6", Some("Term"))
    );
    assert_eq!(
        sub("\"ICD-10#J45.9 x\"").focus,
        alt("ICD-10", "J45.9 x", None)
    );
    assert_eq!(sub("\"LOINC#54486-6\"").focus, sub("LOINC#54486-6").focus);
}

#[test]
fn member_of_and_field_selection() {
    let s = sub("^ 700043003");
    assert_eq!(s.member_of, Some(MemberOf::ReferencedComponents));
    assert_eq!(s.focus, concept(700043003).focus);
    assert_eq!(sub("memberOf 700043003"), s);
    assert_eq!(
        sub("^ [referencedComponentId, mapTarget] 447562003").member_of,
        Some(MemberOf::Fields(vec![
            "referencedComponentId".into(),
            "mapTarget".into()
        ]))
    );
    assert_eq!(sub("^[*]447562003").member_of, Some(MemberOf::AllFields));
    let s = sub("<< ^ 700043003");
    assert_eq!(s.operator, Some(ConstraintOperator::DescendantOrSelfOf));
    assert_eq!(s.member_of, Some(MemberOf::ReferencedComponents));
}

#[test]
fn nested_expressions() {
    let s = sub("<< (^ 700043003)");
    assert_eq!(s.operator, Some(ConstraintOperator::DescendantOrSelfOf));
    let Focus::Nested(inner) = s.focus else {
        panic!()
    };
    assert_eq!(
        *inner,
        Expression::Sub(SubExpression {
            member_of: Some(MemberOf::ReferencedComponents),
            ..concept(700043003)
        })
    );
}

#[test]
fn compound_expressions() {
    let a = || with_op(ConstraintOperator::DescendantOf, concept(19829001));
    let b = || with_op(ConstraintOperator::DescendantOf, concept(301867009));
    let and = Expression::And(vec![a(), b()]);
    assert_eq!(ecl("< 19829001 AND < 301867009"), and);
    assert_eq!(ecl("< 19829001 and < 301867009"), and);
    assert_eq!(ecl("< 19829001 , < 301867009"), and);
    assert_eq!(ecl("< 19829001,< 301867009"), and);
    assert_eq!(
        ecl("< 19829001 AND(< 301867009)").to_string(),
        "< 19829001 AND (< 301867009)"
    );
    assert_eq!(
        ecl("< 19829001 OR < 301867009 or < 19829001"),
        Expression::Or(vec![a(), b(), a()])
    );
    assert_eq!(
        ecl("< 19829001 MINUS < 301867009"),
        Expression::Minus(Box::new(a()), Box::new(b()))
    );
    // Mixing is fine inside parentheses.
    let Expression::Or(items) = ecl("(< 19829001 AND < 301867009) OR < 19829001") else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].focus, Focus::Nested(Box::new(and)));
}

#[test]
fn refinement_attributes() {
    let r = refinement("< 19829001 : 116676008 = 79654002");
    assert_eq!(r, Refinement::Attribute(attr(116676008, 79654002)));
    let Expression::Refined { focus, .. } = ecl("< 19829001 : 116676008 = 79654002") else {
        panic!()
    };
    assert_eq!(
        focus,
        with_op(ConstraintOperator::DescendantOf, concept(19829001))
    );

    let both = Refinement::And(vec![
        Refinement::Attribute(attr(363698007, 39057004)),
        Refinement::Attribute(attr(116676008, 415582006)),
    ]);
    assert_eq!(
        refinement("1234567 : 363698007 = 39057004, 116676008 = 415582006"),
        both
    );
    assert_eq!(
        refinement("1234567 : 363698007 = 39057004 AND 116676008 = 415582006"),
        both
    );
    assert_eq!(
        refinement("1234567 : (363698007 = 39057004 AND 116676008 = 415582006)"),
        both
    );
    assert_eq!(
        refinement("1234567 : 363698007 = 39057004 OR 116676008 = 415582006"),
        Refinement::Or(vec![
            Refinement::Attribute(attr(363698007, 39057004)),
            Refinement::Attribute(attr(116676008, 415582006)),
        ])
    );
}

#[test]
fn refinement_levels_follow_the_grammar() {
    // An attribute set binds before the refinement level, as in the reference grammar.
    assert_eq!(
        refinement("1234567 : 1000001 = 1000002, 1000003 = 1000004 OR 1000005 = 1000006"),
        Refinement::Or(vec![
            Refinement::And(vec![
                Refinement::Attribute(attr(1000001, 1000002)),
                Refinement::Attribute(attr(1000003, 1000004)),
            ]),
            Refinement::Attribute(attr(1000005, 1000006)),
        ])
    );
    // Groups only join at the refinement level, so this mixes and is an error.
    let e = parse("1 : { 1000001 = 1000002 } , { 1000001 = 1000002 } OR { 1000001 = 1000002 }");
    assert!(e.is_err());
}

#[test]
fn attribute_groups_and_cardinality() {
    let group = |cardinality, attributes| {
        Refinement::Group(AttributeGroup {
            cardinality,
            attributes,
        })
    };
    let set = AttributeSet::And(vec![
        AttributeSet::Attribute(attr(363698007, 39057004)),
        AttributeSet::Attribute(attr(116676008, 415582006)),
    ]);
    assert_eq!(
        refinement("1234567 : { 363698007 = 39057004, 116676008 = 415582006 }"),
        group(None, set.clone())
    );
    assert_eq!(
        refinement("1234567 : [1..3] { 363698007 = 39057004, 116676008 = 415582006 }"),
        group(
            Some(Cardinality {
                min: 1,
                max: Some(3)
            }),
            set.clone()
        )
    );
    assert_eq!(
        refinement("1234567 : {363698007 = 39057004, 116676008 = 415582006} OR {363698007 = 39057004, 116676008 = 415582006}"),
        Refinement::Or(vec![group(None, set.clone()), group(None, set)])
    );
    let cardinalities = [
        ("[0..*]", Cardinality { min: 0, max: None }),
        (
            "[1..1]",
            Cardinality {
                min: 1,
                max: Some(1),
            },
        ),
        (
            "[0..0]",
            Cardinality {
                min: 0,
                max: Some(0),
            },
        ),
        ("[ 2 .. * ]", Cardinality { min: 2, max: None }),
    ];
    for (text, cardinality) in cardinalities {
        let r = refinement(&format!("1234567 : {text} 363698007 = 39057004"));
        let Refinement::Attribute(a) = r else {
            panic!()
        };
        assert_eq!(a.cardinality, Some(cardinality), "{text}");
    }
}

#[test]
fn reverse_flag_and_attribute_names() {
    let Refinement::Attribute(a) = refinement("1234567 : R 363698007 = *") else {
        panic!()
    };
    assert!(a.reverse);
    assert_eq!(
        a.value,
        AttributeValue::Expression(
            EqualityOp::Equal,
            Box::new(SubExpression::new(Focus::Wildcard))
        )
    );
    let Refinement::Attribute(a) = refinement("1234567 : [0..0] R << 363698007 != << 39057004")
    else {
        panic!()
    };
    assert!(a.reverse);
    assert_eq!(
        a.cardinality,
        Some(Cardinality {
            min: 0,
            max: Some(0)
        })
    );
    assert_eq!(
        a.name,
        with_op(ConstraintOperator::DescendantOrSelfOf, concept(363698007))
    );
    assert_eq!(
        a.value,
        AttributeValue::Expression(
            EqualityOp::NotEqual,
            Box::new(with_op(
                ConstraintOperator::DescendantOrSelfOf,
                concept(39057004)
            ))
        )
    );
    let Refinement::Attribute(a) = refinement("1234567 : * = 79654002") else {
        panic!()
    };
    assert_eq!(a.name, SubExpression::new(Focus::Wildcard));
    let Refinement::Attribute(a) = refinement("1234567 : (<< 1000001 OR << 1000002) = *") else {
        panic!()
    };
    assert!(matches!(a.name.focus, Focus::Nested(ref e) if matches!(**e, Expression::Or(_))));
}

#[test]
fn concrete_values() {
    let value = |input: &str| {
        let Refinement::Attribute(a) = refinement(&format!("1234567 : 1142135004 {input}")) else {
            panic!("{input}")
        };
        a.value
    };
    use CompareOp::*;
    assert_eq!(value("= #5"), AttributeValue::Number(Equal, 5.0));
    assert_eq!(value("!= #-2.5"), AttributeValue::Number(NotEqual, -2.5));
    assert_eq!(value("< #+3"), AttributeValue::Number(Less, 3.0));
    assert_eq!(value("<= #0.25"), AttributeValue::Number(LessOrEqual, 0.25));
    assert_eq!(value("> #10"), AttributeValue::Number(Greater, 10.0));
    assert_eq!(
        value(">= #500"),
        AttributeValue::Number(GreaterOrEqual, 500.0)
    );
    assert_eq!(
        value("= \"abc \\\"x\\\"\""),
        AttributeValue::String(
            EqualityOp::Equal,
            vec![SearchTerm::Match("abc \"x\"".into())]
        )
    );
    assert_eq!(
        value("!= wild:\"a*\""),
        AttributeValue::String(EqualityOp::NotEqual, vec![SearchTerm::Wild("a*".into())])
    );
    assert_eq!(
        value("= true"),
        AttributeValue::Boolean(EqualityOp::Equal, true)
    );
    assert_eq!(
        value("= FALSE"),
        AttributeValue::Boolean(EqualityOp::Equal, false)
    );
}

#[test]
fn dotted_attributes() {
    assert_eq!(
        ecl("< 19829001 . 363698007 . < 123456789"),
        Expression::Dotted {
            focus: with_op(ConstraintOperator::DescendantOf, concept(19829001)),
            attributes: vec![
                concept(363698007),
                with_op(ConstraintOperator::DescendantOf, concept(123456789))
            ],
        }
    );
}

#[test]
fn term_filters() {
    use DescriptionFilter::Term;
    use EqualityOp::*;
    let m = |s: &str| SearchTerm::Match(s.into());
    assert_eq!(
        description_filters("1234567 {{ term = \"heart\" }}"),
        vec![Term(Equal, vec![m("heart")])]
    );
    assert_eq!(
        description_filters("1234567 {{ D term = match:\"hear att\" }}"),
        vec![Term(Equal, vec![m("hear att")])]
    );
    assert_eq!(
        description_filters("1234567 {{ d TERM != wild:\"*heart*\" }}"),
        vec![Term(NotEqual, vec![SearchTerm::Wild("*heart*".into())])]
    );
    assert_eq!(
        description_filters("1234567 {{ term = (\"a\" wild:\"b\\*\" match:\"c\") }}"),
        vec![Term(
            Equal,
            vec![m("a"), SearchTerm::Wild("b\\*".into()), m("c")]
        )]
    );
    assert_eq!(
        SearchTerm::Wild("*he\\*rt*".into()).wild_parts(),
        vec![
            WildPart::Any,
            WildPart::Literal("he*rt".into()),
            WildPart::Any
        ]
    );
}

#[test]
fn other_description_filters() {
    use DescriptionFilter as D;
    use EqualityOp::*;
    let syn = || ConceptReference {
        id: 900000000000013009,
        term: None,
    };
    assert_eq!(
        description_filters("1234567 {{ language = en, language = (sv DA) }}"),
        vec![
            D::Language(Equal, vec!["en".into()]),
            D::Language(Equal, vec!["sv".into(), "DA".into()])
        ]
    );
    assert_eq!(
        description_filters("1234567 {{ typeId = << 900000000000013009 }}"),
        vec![D::TypeId(
            Equal,
            ConceptSet::Expression(Box::new(with_op(
                ConstraintOperator::DescendantOrSelfOf,
                concept(900000000000013009)
            )))
        )]
    );
    assert_eq!(
        description_filters("1234567 {{ typeId = (900000000000013009 900000000000003001) }}"),
        vec![D::TypeId(
            Equal,
            ConceptSet::References(vec![
                syn(),
                ConceptReference {
                    id: 900000000000003001,
                    term: None
                }
            ])
        )]
    );
    assert_eq!(
        description_filters("1234567 {{ type = syn, type != (fsn def) }}"),
        vec![
            D::Type(Equal, vec![DescriptionType::Synonym]),
            D::Type(
                NotEqual,
                vec![
                    DescriptionType::FullySpecifiedName,
                    DescriptionType::Definition
                ]
            )
        ]
    );
    assert_eq!(
        description_filters("1234567 {{ dialectId = 900000000000509007 (prefer) }}"),
        vec![D::DialectId {
            op: Equal,
            dialects: DialectIds::Expression(Box::new(concept(900000000000509007))),
            acceptability: Some(AcceptabilitySet::Tokens(vec![Acceptability::Preferred])),
        }]
    );
    assert_eq!(
        description_filters(
            "1234567 {{ dialectId = (900000000000509007 (accept prefer) 900000000000508004) }}"
        ),
        vec![D::DialectId {
            op: Equal,
            dialects: DialectIds::Set(vec![
                DialectConcept {
                    concept: ConceptReference {
                        id: 900000000000509007,
                        term: None
                    },
                    acceptability: Some(AcceptabilitySet::Tokens(vec![
                        Acceptability::Acceptable,
                        Acceptability::Preferred
                    ])),
                },
                DialectConcept {
                    concept: ConceptReference {
                        id: 900000000000508004,
                        term: None
                    },
                    acceptability: None,
                },
            ]),
            acceptability: None,
        }]
    );
    assert_eq!(
        description_filters("1234567 {{ dialect = en-gb (accept) }}"),
        vec![D::Dialect {
            op: Equal,
            dialects: vec![DialectAlias {
                alias: "en-gb".into(),
                acceptability: None
            }],
            acceptability: Some(AcceptabilitySet::Tokens(vec![Acceptability::Acceptable])),
        }]
    );
    assert_eq!(
        description_filters("1234567 {{ dialect = (en-gb (900000000000548007) en-us) }}"),
        vec![D::Dialect {
            op: Equal,
            dialects: vec![
                DialectAlias {
                    alias: "en-gb".into(),
                    acceptability: Some(AcceptabilitySet::Concepts(vec![ConceptReference {
                        id: 900000000000548007,
                        term: None
                    }])),
                },
                DialectAlias {
                    alias: "en-us".into(),
                    acceptability: None
                },
            ],
            acceptability: None,
        }]
    );
    assert_eq!(
        description_filters(
            "1234567 {{ moduleId = 900000000000207008, effectiveTime >= \"20190101\", active = 0, id = 3000001012 }}"
        ),
        vec![
            D::Module(Equal, ConceptSet::Expression(Box::new(concept(900000000000207008)))),
            D::EffectiveTime(CompareOp::GreaterOrEqual, vec!["20190101".into()]),
            D::Active(Equal, false),
            D::Id(Equal, vec![3000001012]),
        ]
    );
    assert_eq!(
        description_filters("1234567 {{ active = TRUE, active != 1, effectiveTime = \"\" }}"),
        vec![
            D::Active(Equal, true),
            D::Active(NotEqual, true),
            D::EffectiveTime(CompareOp::Equal, vec![String::new()])
        ]
    );
}

#[test]
fn concept_filters_parse() {
    use ConceptFilter as C;
    use EqualityOp::*;
    assert_eq!(
        concept_filters("1234567 {{ C definitionStatus = primitive }}"),
        vec![C::DefinitionStatus(
            Equal,
            vec![DefinitionStatus::Primitive]
        )]
    );
    assert_eq!(
        concept_filters("1234567 {{ c definitionStatus != (defined primitive) }}"),
        vec![C::DefinitionStatus(
            NotEqual,
            vec![DefinitionStatus::Defined, DefinitionStatus::Primitive]
        )]
    );
    assert_eq!(
        concept_filters("1234567 {{ C definitionStatusId = 900000000000074008 }}"),
        vec![C::DefinitionStatusId(
            Equal,
            ConceptSet::Expression(Box::new(concept(900000000000074008)))
        )]
    );
    assert_eq!(
        concept_filters(
            "1234567 {{ C moduleId = << 900000000000445007, effectiveTime >= \"20200101\", active = false }}"
        ),
        vec![
            C::Module(
                Equal,
                ConceptSet::Expression(Box::new(with_op(
                    ConstraintOperator::DescendantOrSelfOf,
                    concept(900000000000445007)
                )))
            ),
            C::EffectiveTime(CompareOp::GreaterOrEqual, vec!["20200101".into()]),
            C::Active(Equal, false),
        ]
    );
    for (op, expected) in [
        ("=", CompareOp::Equal),
        ("!=", CompareOp::NotEqual),
        ("<", CompareOp::Less),
        ("<=", CompareOp::LessOrEqual),
        (">", CompareOp::Greater),
        (">=", CompareOp::GreaterOrEqual),
    ] {
        assert_eq!(
            concept_filters(&format!(
                "1234567 {{{{ C effectiveTime {op} (\"20200101\" \"20210131\") }}}}"
            )),
            vec![C::EffectiveTime(
                expected,
                vec!["20200101".into(), "20210131".into()]
            )]
        );
    }
}

#[test]
fn member_filters_parse() {
    use EqualityOp::*;
    use MemberFilter as M;
    assert_eq!(
        member_filters("^ 447562003 {{ M mapTarget = \"J45.9\" }}"),
        vec![M::Field {
            name: "mapTarget".into(),
            value: FieldValue::String(Equal, vec![SearchTerm::Match("J45.9".into())])
        }]
    );
    assert_eq!(
        member_filters(
            "^ 447562003 {{ M referencedComponentId = << 67415000, mapGroup >= #2, x = true }}"
        ),
        vec![
            M::Field {
                name: "referencedComponentId".into(),
                value: FieldValue::Expression(
                    Equal,
                    Box::new(with_op(
                        ConstraintOperator::DescendantOrSelfOf,
                        concept(67415000)
                    ))
                )
            },
            M::Field {
                name: "mapGroup".into(),
                value: FieldValue::Number(CompareOp::GreaterOrEqual, 2.0)
            },
            M::Field {
                name: "x".into(),
                value: FieldValue::Boolean(Equal, true)
            },
        ]
    );
    assert_eq!(
        member_filters("^ 447562003 {{ m active = true, moduleId = 449080006, effectiveTime < \"20200101\", validFrom > \"20210101\" }}"),
        vec![
            M::Active(Equal, true),
            M::Module(Equal, ConceptSet::Expression(Box::new(concept(449080006)))),
            M::EffectiveTime(CompareOp::Less, vec!["20200101".into()]),
            M::Field {
                name: "validFrom".into(),
                value: FieldValue::Time(CompareOp::Greater, vec!["20210101".into()])
            },
        ]
    );
}

#[test]
fn history_supplements() {
    let history = |input: &str| sub(input).history.unwrap();
    assert_eq!(
        history("1234567 {{ +HISTORY }}"),
        HistorySupplement::Default
    );
    assert_eq!(history("1234567 {{+HISTORY-MIN}}"), HistorySupplement::Min);
    assert_eq!(
        history("1234567 {{ + history-mod }}"),
        HistorySupplement::Mod
    );
    assert_eq!(
        history("1234567 {{ +HISTORY_MAX }}"),
        HistorySupplement::Max
    );
    assert_eq!(
        history("1234567 {{ +HISTORY (<< 900000000000527005) }}"),
        HistorySupplement::Subset(Box::new(Expression::Sub(with_op(
            ConstraintOperator::DescendantOrSelfOf,
            concept(900000000000527005)
        ))))
    );
    let s = sub("1234567 {{ C active = true }} {{ term = \"x\" }} {{ +HISTORY }}");
    assert_eq!(s.filters.len(), 2);
    assert_eq!(s.history, Some(HistorySupplement::Default));
}

#[test]
fn several_filter_blocks_stay_separate() {
    let s = sub("^ 447562003 {{ M active = true }} {{ term = \"eye\" }} {{ D term = wild:\"*itis\" }} {{ C active = 1 }}");
    assert_eq!(s.filters.len(), 4);
    assert!(matches!(s.filters[0], FilterConstraint::Member(_)));
    assert!(matches!(s.filters[1], FilterConstraint::Description(_)));
    assert!(matches!(s.filters[2], FilterConstraint::Description(_)));
    assert!(matches!(s.filters[3], FilterConstraint::Concept(_)));
}

#[test]
fn comments_and_whitespace_anywhere() {
    let plain = ecl("<< 73211009 : 363698007 = << 39057004 {{ term = \"x\" }}");
    let noisy = ecl(
        "/*a*/\t<<\r\n/*b*/73211009/*c*/:/*d*/363698007\n=\n<</* e ** / */39057004 {{/*f*/term/*g*/=/*h*/\"x\"/*i*/}}/*j*/",
    );
    assert_eq!(noisy, plain);
}

#[test]
fn filters_inside_groups_close_cleanly() {
    let r = refinement("1234567 : { 363698007 = 39057004 {{ term = \"x\" }}}");
    let Refinement::Group(group) = r else {
        panic!()
    };
    let AttributeSet::Attribute(a) = group.attributes else {
        panic!()
    };
    let AttributeValue::Expression(_, value) = a.value else {
        panic!()
    };
    assert_eq!(value.filters.len(), 1);
}
