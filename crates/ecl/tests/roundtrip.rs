//! Round trip over real ECL (mostly the ECL specification's examples):
//! `parse(display(parse(x))) == parse(x)`, and display is a fixed point.

use nomen_ecl::parse;

/// Examples from the ECL 2.2 specification (IHTSDO snomed-expression-constraint-language
/// examples) and common terminology-server usage.
pub const EXAMPLES: &[&str] = &[
    "404684003 |Clinical finding|",
    "< 404684003 |Clinical finding|",
    "<< 73211009 |Diabetes mellitus|",
    "<! 404684003 |Clinical finding|",
    "<<! 404684003 |Clinical finding|",
    "> 40541001 |Acute pulmonary edema|",
    ">> 40541001 |Acute pulmonary edema|",
    ">! 40541001 |Acute pulmonary edema|",
    ">>! 40541001 |Acute pulmonary edema|",
    "!!> (<< 404684003 |Clinical finding| AND ^ 816080008 |International Patient Summary|)",
    "!!< (<< 404684003 |Clinical finding| AND ^ 816080008 |International Patient Summary|)",
    "^ 700043003 |Example problem list concepts reference set|",
    "<< LOINC#54486-6",
    "*",
    "< 19829001 |Disorder of lung| : 116676008 |Associated morphology| = 79654002 |Edema|",
    "< 19829001 |Disorder of lung| : 116676008 |Associated morphology| = << 79654002 |Edema|",
    "< 404684003 |Clinical finding| : 363698007 |Finding site| = << 39057004 |Pulmonary valve structure|, 116676008 |Associated morphology| = << 415582006 |Stenosis|",
    "< 404684003 |Clinical finding| : { 363698007 |Finding site| = << 39057004 |Pulmonary valve structure|, 116676008 |Associated morphology| = << 415582006 |Stenosis| }, { 363698007 |Finding site| = << 53085002 |Right ventricular structure|, 116676008 |Associated morphology| = << 56246009 |Hypertrophy| }",
    "<< 404684003 |Clinical finding| : << 47429007 |Associated with| = << 267038008 |Edema|",
    "< 27658006 |Amoxicillin| : 411116001 |Has dose form| = << 385049006 |Capsule|, { 127489000 |Has active ingredient| = << 372687004 |Amoxicillin|, 111115 |Has basis of strength| = ( 111115 |Amoxicillin only| : 111115 |Strength magnitude| >= #500, 111115 |Strength unit| = 258684004 |mg| ) }",
    "< 373873005 |Pharmaceutical / biologic product| : 411116001 |Has manufactured dose form| = << 385268001 |Oral dosage form|, 1142139005 |Count of base of active ingredient| = #1, 732943007 |Has basis of strength substance| = 372687004 |Amoxicillin|, 1142135004 |Has presentation strength numerator value| = #250",
    "< 404684003 |Clinical finding| : * = 79654002 |Edema|",
    "< 404684003 |Clinical finding| : 116676008 |Associated morphology| = *",
    "< 105590001 |Substance| : R 127489000 |Has active ingredient| = *",
    "< 91723000 |Anatomical structure| : R 363698007 |Finding site| = < 125605004 |Fracture of bone|",
    "<< 19829001 |Disorder of lung| . 116676008 |Associated morphology|",
    "< 125605004 |Fracture of bone| . 363698007 |Finding site|",
    "< 27658006 |Amoxicillin| . 411116001 |Has dose form| . 736474004 |Has intended site|",
    "<< 195967001 |Asthma| : [0..0] 370135005 |Pathological process| = *",
    "< 373873005 |Pharmaceutical / biologic product| : [1..3] 127489000 |Has active ingredient| = < 105590001 |Substance|",
    "< 373873005 |Pharmaceutical / biologic product| : [1..1] 127489000 |Has active ingredient| = < 105590001 |Substance|",
    "< 373873005 |Pharmaceutical / biologic product| : [0..1] 127489000 |Has active ingredient| = < 105590001 |Substance|",
    "< 373873005 |Pharmaceutical / biologic product| : [1..*] 127489000 |Has active ingredient| = < 105590001 |Substance|",
    "< 404684003 |Clinical finding| : [1..1] { 363698007 |Finding site| = < 91723000 |Anatomical structure| }",
    "< 404684003 |Clinical finding| : [0..1] { 363698007 |Finding site| = < 91723000 |Anatomical structure| }",
    "< 404684003 |Clinical finding| : [1..*] { [2..*] 363698007 |Finding site| = < 91723000 |Anatomical structure| }",
    "< 404684003 |Clinical finding| : [0..0] R 363698007 |Finding site| = *",
    "< 19829001 |Disorder of lung| AND < 301867009 |Edema of trunk|",
    "< 19829001 |Disorder of lung| OR < 301867009 |Edema of trunk|",
    "< 19829001 |Disorder of lung| AND ^ 700043003 |Example problem list concepts reference set|",
    "(< 19829001 |Disorder of lung| AND < 301867009 |Edema of trunk|) AND ^ 700043003 |Example problem list concepts reference set|",
    "(< 19829001 |Disorder of lung| OR < 301867009 |Edema of trunk|) AND ^ 700043003 |Example problem list concepts reference set|",
    "< 404684003 |Clinical finding| : 363698007 |Finding site| = << 39057004 |Pulmonary valve structure| AND 116676008 |Associated morphology| = << 415582006 |Stenosis|",
    "< 404684003 |Clinical finding| : 116676008 |Associated morphology| = << 55641003 |Infarct| OR 42752001 |Due to| = << 22298006 |Myocardial infarction|",
    "< 404684003 |Clinical finding| : { 363698007 |Finding site| = << 39057004 |Pulmonary valve structure|, 116676008 |Associated morphology| = << 415582006 |Stenosis| } OR { 363698007 |Finding site| = << 53085002 |Right ventricular structure|, 116676008 |Associated morphology| = << 56246009 |Hypertrophy| }",
    "< 404684003 |Clinical finding| : 116676008 |Associated morphology| = (<< 56208002 |Ulcer| AND << 50960005 |Hemorrhage|)",
    "< 404684003 |Clinical finding| : 116676008 |Associated morphology| = (<< 56208002 |Ulcer| OR << 50960005 |Hemorrhage|)",
    "<< 19829001 |Disorder of lung| MINUS << 301867009 |Edema of trunk|",
    "<< 19829001 |Disorder of lung| MINUS ^ 700043003 |Example problem list concepts reference set|",
    "<< 404684003 |Clinical finding| : 116676008 |Associated morphology| = ((<< 56208002 |Ulcer| AND << 50960005 |Hemorrhage|) MINUS << 26036001 |Obstruction|)",
    "<< 404684003 |Clinical finding| : 116676008 |Associated morphology| != << 26036001 |Obstruction|",
    "<< 404684003 |Clinical finding| : [0..0] 116676008 |Associated morphology| != << 26036001 |Obstruction|",
    "< 404684003 |Clinical finding| : 363698007 |Finding site| = << 39057004 |Pulmonary valve structure| /* Pulmonary valve */",
    "/* comment */ < /* inside */ 404684003 /* between */ : /* x */ 363698007 = *",
    "<< (^ 700043003 |Example problem list concepts reference set|)",
    "(< 125605004 |Fracture of bone| . 363698007 |Finding site|) AND << 272673000 |Bone structure|",
    "< 404684003 |Clinical finding| : (<< 363698007 |Finding site| OR << 116676008 |Associated morphology|) = *",
    "< 404684003 |Clinical finding| : << 47429007 |Associated with| = << 267038008 |Edema|",
    "< 64572001 |Disease| {{ term = \"heart att\" }}",
    "< 64572001 |Disease| {{ term = match:\"heart att\" }}",
    "< 64572001 |Disease| {{ term = wild:\"cardi*opathy\" }}",
    "< 64572001 |Disease| {{ term = (\"heart\" \"card\") }}",
    "< 64572001 |Disease| {{ term = (match:\"gas\" wild:\"*itis\") }}",
    "< 64572001 |Disease| {{ term = \"eye\" }} {{ term = wild:\"*itis\" }}",
    "< 64572001 |Disease| {{ D term = \"hjärt\", language = sv }}",
    "< 64572001 |Disease| {{ term = \"heart\", language = en, typeId = 900000000000013009 |Synonym| }}",
    "< 64572001 |Disease| {{ term = \"heart\", typeId = (900000000000013009 |Synonym| 900000000000003001 |Fully specified name|) }}",
    "< 64572001 |Disease| {{ term = \"heart\", type = syn }}",
    "< 64572001 |Disease| {{ term = \"heart\", type = (syn fsn) }}",
    "< 64572001 |Disease| {{ term = \"card\", dialect = en-nz }}",
    "< 64572001 |Disease| {{ term = \"card\", dialect = ( en-nhs-clinical en-nhs-pharmacy ) }}",
    "< 64572001 |Disease| {{ term = \"box\", type = syn, dialect = en-us (prefer) }}",
    "< 64572001 |Disease| {{ dialectId = 999001261000000100 |NHS realm language (clinical part)| }}",
    "< 64572001 |Disease| {{ term = \"box\", dialectId = 900000000000509007 (prefer) }}",
    "< 64572001 |Disease| {{ dialectId = ( 900000000000509007 (prefer) 900000000000508004 (accept) ) }}",
    "< 64572001 |Disease| {{ dialectId = 900000000000509007 (900000000000548007 |Preferred|) }}",
    "< 64572001 |Disease| {{ typeId = << 900000000000013009 |Synonym| }}",
    "<< 404684003 |Clinical finding| {{ D id = 3000001012 }}",
    "<< 404684003 |Clinical finding| {{ D id != (3000001012 2000001014) }}",
    "<< 404684003 |Clinical finding| {{ D active = false, moduleId = 900000000000207008, effectiveTime >= \"20190101\" }}",
    "< 56265001 |Heart disease| {{ C definitionStatus = primitive }}",
    "< 56265001 |Heart disease| {{ C definitionStatus = (primitive defined) }}",
    "< 56265001 |Heart disease| {{ C definitionStatusId = 900000000000074008 |Primitive| }}",
    "< 56265001 |Heart disease| {{ C moduleId = << 900000000000445007 |IHTSDO maintained module| }}",
    "< 56265001 |Heart disease| {{ C moduleId = (900000000000207008 999000011000000103) }}",
    "< 125605004 |Fracture of bone| {{ C effectiveTime >= \"20190731\" }}",
    "< 125605004 |Fracture of bone| {{ C effectiveTime = (\"20190131\" \"20190731\" \"20200131\" \"20200731\") }}",
    "< 125605004 |Fracture of bone| {{ C active = 1 }}",
    "< 125605004 |Fracture of bone| {{ C active = false }}",
    "< 125605004 |Fracture of bone| {{ C definitionStatus = defined, active = true }} {{ term = \"femur\" }}",
    "^ 447562003 |ICD-10 complex map reference set| {{ M mapTarget = \"J45.9\" }}",
    "^ 447562003 |ICD-10 complex map reference set| {{ M mapGroup = #2, mapPriority = #1, mapTarget = \"J45.9\" }}",
    "^ 447562003 |ICD-10 complex map reference set| {{ M mapGroup != #2, mapPriority < #2, mapTarget = wild:\"J*\" }}",
    "^ [targetComponentId] 900000000000527005 |SAME AS association reference set| {{ M referencedComponentId = 67415000 |Hay asthma| }}",
    "^ [referencedComponentId, mapTarget] 447562003 |ICD-10 complex map reference set|",
    "^ [*] 447562003 |ICD-10 complex map reference set| {{ M active = true, effectiveTime > \"20200101\" }}",
    "^ 447562003 {{ M moduleId = 449080006 }} {{ term = \"asthma\" }}",
    "<< 195967001 |Asthma| {{ +HISTORY-MIN }}",
    "<< 195967001 |Asthma| {{ +HISTORY-MOD }}",
    "<< 195967001 |Asthma| {{ + HISTORY-MAX }}",
    "<< 195967001 |Asthma| {{ +HISTORY }}",
    "<< 195967001 |Asthma| {{ +HISTORY (<< 900000000000527005 |SAME AS association reference set|) }}",
    "<< 195967001 |Asthma| {{ C active = true }} {{ +HISTORY }}",
    "< 404684003 : 363698007 = (<< 39057004 {{ term = \"valve\" }})",
    "< 404684003 : 1142135004 = #-2.5, 1142135004 <= #0.5, 1142135004 > #+3",
    "< 404684003 : 999999999 = \"text\", 999999999 != true, 999999999 = wild:\"a*\"",
    "descendantOrSelfOf 73211009 AND childOf 404684003",
    "ANY MINUS (descendantOf 404684003 OR ancestorOrSelfOf 404684003)",
    "< 404684003 : 363698007 = 39057004, 116676008 = 415582006 OR 42752001 = 22298006",
    "< 404684003 : (363698007 = 39057004 OR 116676008 = 415582006), { 42752001 = 22298006 }",
    "\"LOINC#54486-6\" |quoted| OR LOINC#1234-5",
    "<< 404684003 : R 363698007 = *, [0..*] { 116676008 = * }",
];

#[test]
fn display_round_trips() {
    let mut failures = Vec::new();
    for example in EXAMPLES {
        let parsed = match parse(example) {
            Ok(parsed) => parsed,
            Err(e) => {
                failures.push(format!("{example}\n  does not parse: {e}"));
                continue;
            }
        };
        let shown = parsed.to_string();
        match parse(&shown) {
            Ok(again) if again == parsed => {
                assert_eq!(again.to_string(), shown, "display is not a fixed point");
            }
            Ok(again) => failures.push(format!(
                "{example}\n  shown as {shown}\n  re-parses differently: {again:?}"
            )),
            Err(e) => failures.push(format!("{example}\n  shown as {shown}\n  fails: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(EXAMPLES.len() >= 40);
}

#[test]
fn display_is_canonical() {
    let cases = [
        (
            "<<73211009|Diabetes mellitus|",
            "<< 73211009 |Diabetes mellitus|",
        ),
        (
            "< 1234567 : 1234567=1234567,1234567=1234567",
            "< 1234567 : 1234567 = 1234567, 1234567 = 1234567",
        ),
        (
            "1234567 and 1234567 , 1234567",
            "1234567 AND 1234567 AND 1234567",
        ),
        (
            "^[*]1234567{{m active=1}}{{d term=match:\"x\"}}",
            "^ [*] 1234567 {{ M active = true }} {{ term = \"x\" }}",
        ),
        (
            "< 1234567 : ((1234567 = *, 1234567 = *), 1234567 = *)",
            "< 1234567 : 1234567 = *, 1234567 = *, 1234567 = *",
        ),
        (
            "< 1234567 : 1234567 = *, 1234567 = * OR 1234567 = *",
            "< 1234567 : (1234567 = *, 1234567 = *) OR 1234567 = *",
        ),
        ("1234567 {{ +history_min }}", "1234567 {{ +HISTORY-MIN }}"),
        ("1234567:1234567=#5.0", "1234567 : 1234567 = #5"),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(input).unwrap().to_string(), expected, "{input}");
    }
}
