#!/usr/bin/env python3
"""Generate a synthetic LOINC release directory in the real LOINC 2.7x file layout.

The content is NOT real LOINC: every code number is made up (with a valid mod-10 check
digit), and the terms are built from a small vocabulary of lab semantics. Only the file
names, column layout and quoting follow the real release, so the importers can be tested
without the licensed LOINC files.

Usage:
    python3 scripts/gen-loinc.py --out DIR [--codes N] [--parts M] [--seed S] [--check]
    python3 scripts/gen-loinc.py --out DIR --check-only

Defaults write the small test fixture (fixtures/loinc/). The large run is
`--codes 100000 --parts 100000`. Output is deterministic: the same arguments give the
same bytes. `--check` re-reads what was written and verifies every check digit, that
every axis part named in Loinc.csv exists in Part.csv with the same name and is linked,
and that every hierarchy parent exists. Python 3.11 standard library only.

Files written (all comma-separated, header row, UTF-8, LF line ends; every non-empty
field is double-quoted and empty fields are left bare, as in the real release):
    LoincTable/Loinc.csv
    AccessoryFiles/PartFile/Part.csv
    AccessoryFiles/PartFile/LoincPartLink_Primary.csv
    AccessoryFiles/PartFile/LoincPartLink_Supplementary.csv
    AccessoryFiles/AnswerFile/AnswerList.csv
    AccessoryFiles/AnswerFile/LoincAnswerListLink.csv
    AccessoryFiles/ComponentHierarchyBySystem/ComponentHierarchyBySystem.csv
    AccessoryFiles/LinguisticVariants/LinguisticVariants.csv
    AccessoryFiles/LinguisticVariants/ltLT99LinguisticVariant.csv
    AccessoryFiles/LinguisticVariants/deDE8LinguisticVariant.csv
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

VERSION = "2.76"

LOINC_COLUMNS = [
    "LOINC_NUM", "COMPONENT", "PROPERTY", "TIME_ASPCT", "SYSTEM", "SCALE_TYP", "METHOD_TYP",
    "CLASS", "VersionLastChanged", "CHNG_TYPE", "DefinitionDescription", "STATUS",
    "CONSUMER_NAME", "CLASSTYPE", "FORMULA", "EXMPL_ANSWERS", "SURVEY_QUEST_TEXT",
    "SURVEY_QUEST_SRC", "UNITSREQUIRED", "RELATEDNAMES2", "SHORTNAME", "ORDER_OBS",
    "HL7_FIELD_SUBFIELD_ID", "EXTERNAL_COPYRIGHT_NOTICE", "EXAMPLE_UNITS", "LONG_COMMON_NAME",
    "EXAMPLE_UCUM_UNITS", "STATUS_REASON", "STATUS_TEXT", "CHANGE_REASON_PUBLIC",
    "COMMON_TEST_RANK", "COMMON_ORDER_RANK", "HL7_ATTACHMENT_STRUCTURE",
    "EXTERNAL_COPYRIGHT_LINK", "PanelType", "AskAtOrderEntry", "AssociatedObservations",
    "VersionFirstReleased", "ValidHL7AttachmentRequest", "DisplayName",
]
PART_COLUMNS = ["PartNumber", "PartTypeName", "PartName", "PartDisplayName", "Status"]
LINK_COLUMNS = ["LoincNumber", "LongCommonName", "PartNumber", "PartName", "PartCodeSystem",
                "PartTypeName", "LinkTypeName", "Property"]
ANSWER_COLUMNS = [
    "AnswerListId", "AnswerListName", "AnswerListOID", "ExtDefinedYN",
    "ExtDefinedAnswerListCodeSystem", "ExtDefinedAnswerListLink", "AnswerStringId",
    "LocalAnswerCode", "LocalAnswerCodeSystem", "SequenceNumber", "DisplayText", "ExtCodeId",
    "ExtCodeDisplayName", "ExtCodeSystem", "ExtCodeSystemVersion",
    "ExtCodeSystemCopyrightNotice", "SubsequentTextPrompt", "Description", "Score",
]
ANSWER_LINK_COLUMNS = ["LoincNumber", "LongCommonName", "AnswerListId", "AnswerListName",
                       "AnswerListLinkType", "ApplicableContext"]
HIER_COLUMNS = ["PATH_TO_ROOT", "SEQUENCE", "IMMEDIATE_PARENT", "CODE", "CODE_TEXT"]
LV_COLUMNS = ["ID", "ISO_LANGUAGE", "ISO_COUNTRY", "LANGUAGE_NAME", "PRODUCER"]
LV_FILE_COLUMNS = ["LOINC_NUM", "COMPONENT", "PROPERTY", "TIME_ASPCT", "SYSTEM", "SCALE_TYP",
                   "METHOD_TYP", "CLASS", "SHORTNAME", "LONG_COMMON_NAME", "RELATEDNAMES2",
                   "LinguisticVariantDisplayName"]

# (Loinc.csv column, Part.csv PartTypeName, FHIR property code)
AXES = [
    ("COMPONENT", "COMPONENT", "COMPONENT"),
    ("PROPERTY", "PROPERTY", "PROPERTY"),
    ("TIME_ASPCT", "TIME", "TIME_ASPCT"),
    ("SYSTEM", "SYSTEM", "SYSTEM"),
    ("SCALE_TYP", "SCALE", "SCALE_TYP"),
    ("METHOD_TYP", "METHOD", "METHOD_TYP"),
]
PROP_URI = "http://loinc.org/property/"


def check_digit(digits: str) -> int:
    """Mod-10 (Luhn) check digit: double every other digit from the rightmost one."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10


def with_check(prefix: str, number: int) -> str:
    s = str(number)
    return f"{prefix}{s}-{check_digit(s)}"


def valid_code(code: str, prefix: str) -> bool:
    if not code.startswith(prefix):
        return False
    body = code[len(prefix):]
    num, sep, cd = body.partition("-")
    return bool(sep) and num.isdigit() and cd.isdigit() and len(cd) == 1 \
        and check_digit(num) == int(cd)


# ---------------------------------------------------------------- vocabulary
# Property: display, long-name bracket (en, lt, de), PROPERTY translation (lt, de), short.
PROPERTIES = {
    "MCnc": ("Mass concentration", "Mass/volume", "Masė/tūris", "Masse/Volumen",
             "Masės koncentracija", "Massenkonzentration", "mCnc"),
    "SCnc": ("Substance concentration", "Moles/volume", "Moliai/tūris", "Mol/Volumen",
             "Medžiagos koncentracija", "Stoffmengenkonzentration", "sCnc"),
    "ACnc": ("Arbitrary concentration", "Units/volume", "Vienetai/tūris", "Einheiten/Volumen",
             "Savavališka koncentracija", "Willkürliche Konzentration", "aCnc"),
    "NCnc": ("Number concentration", "#/volume", "Skaičius/tūris", "Anzahl/Volumen",
             "Skaičiaus koncentracija", "Anzahlkonzentration", "#"),
    "VFr": ("Volume fraction", "Volume fraction", "Tūrio dalis", "Volumenanteil",
            "Tūrio dalis", "Volumenanteil", "VFr"),
    "PrThr": ("Presence or threshold", "Presence", "Buvimas", "Vorhandensein",
              "Buvimas arba slenkstis", "Vorhandensein oder Schwellenwert", "Ql"),
    "Type": ("Type", "Type", "Tipas", "Typ", "Tipas", "Typ", "Type"),
    "Rden": ("Relative density", "Relative density", "Santykinis tankis", "Relative Dichte",
             "Santykinis tankis", "Relative Dichte", "SG"),
    "MRat": ("Mass rate", "Mass/time", "Masė/laikas", "Masse/Zeit",
             "Masės greitis", "Massenrate", "mRate"),
    "SRat": ("Substance rate", "Moles/time", "Moliai/laikas", "Mol/Zeit",
             "Medžiagos greitis", "Stoffmengenrate", "sRate"),
    "Find": ("Finding", "Finding", "Radinys", "Befund", "Radinys", "Befund", "Find"),
    "Mass": ("Mass", "Mass", "Masė", "Masse", "Masė", "Masse", "Mass"),
    "Score": ("Score", "Score", "Balas", "Punktwert", "Balas", "Punktwert", "Score"),
    "-": ("-", "-", "-", "-", "-", "-", "-"),
}
TIMES = {"Pt": ("Point in time", "Laiko momentas", "Zeitpunkt"),
         "24H": ("24 hours", "24 valandos", "24 Stunden")}
# System: display, long-name phrase (en, lt, de), SYSTEM translation (lt, de), short.
SYSTEMS = {
    "Ser/Plas": ("Serum or Plasma", "in Serum or Plasma", "serume arba plazmoje",
                 "im Serum oder Plasma", "Serumas arba plazma", "Serum oder Plasma", "SerPl"),
    "Ser": ("Serum", "in Serum", "serume", "im Serum", "Serumas", "Serum", "Ser"),
    "Bld": ("Blood", "in Blood", "kraujyje", "im Blut", "Kraujas", "Blut", "Bld"),
    "Urine": ("Urine", "in Urine", "šlapime", "im Urin", "Šlapimas", "Urin", "Ur"),
    "CSF": ("Cerebral spinal fluid", "in Cerebral spinal fluid", "smegenų skystyje",
            "im Liquor", "Smegenų skystis", "Liquor", "CSF"),
    "^Patient": ("Patient", "", "", "", "^Pacientas", "^Patient", "^Patient"),
    "{Setting}": ("Setting", "", "", "", "{Aplinka}", "{Umgebung}", "{Setting}"),
}
SCALES = {"Qn": ("Quantitative", "Kiekybinė", "Quantitativ"),
          "Ord": ("Ordinal", "Ranginė", "Ordinal"),
          "Nom": ("Nominal", "Nominali", "Nominal"),
          "Nar": ("Narrative", "Aprašomoji", "Narrativ"),
          "-": ("-", "-", "-")}
# Method: display, "by" phrase (en, lt, de), METHOD translation (lt, de), short.
METHODS = {
    "Test strip": ("Test strip", "by Test strip", "testo juostele", "mit Teststreifen",
                   "Testo juostelė", "Teststreifen", "Strip"),
    "Automated count": ("Automated count", "by Automated count", "automatiniu skaičiavimu",
                        "durch automatisierte Zählung", "Automatinis skaičiavimas",
                        "Automatisierte Zählung", "Auto"),
    "Calculated": ("Calculated", "by calculation", "apskaičiuotas", "berechnet",
                   "Apskaičiuota", "Berechnet", "Calc"),
    "Measured": ("Measured", "Measured", "išmatuotas", "gemessen", "Išmatuota", "Gemessen",
                 "Measured"),
    "PROMIS": ("PROMIS", "PROMIS", "PROMIS", "PROMIS", "PROMIS", "PROMIS", "PROMIS"),
}
CLASSES = {
    "CHEM": "Chemistry", "HEM/BC": "Hematology and cell counts", "UA": "Urinalysis",
    "SERO": "Serology", "BLDBK": "Blood bank", "PANEL.CHEM": "Chemistry panels",
    "SURVEY.PROMIS": "PROMIS survey", "BDYWGT.ATOM": "Body weight",
    "ATTACH.CLINRPT": "Clinical report attachment", "SURVEY.GNHLTH": "General health survey",
}
# Component: short name, lt, de, related names, hierarchy group
COMPONENTS = {
    "Glucose": ("Glucose", "Gliukozė", "Glukose", "Gluc; Glu; Sugar", "carb"),
    "Glucose^2H post 75 g glucose PO": ("Glucose 2h p 75 g Glc PO",
                                        "Gliukozė^2 val. po 75 g gliukozės per os",
                                        "Glukose^2 h nach 75 g Glukose p.o.",
                                        "Gluc; Glu; OGTT; GTT; Glucose tolerance test", "glucose"),
    "Sodium": ("Sodium", "Natris", "Natrium", "Na; Natrium", "elec"),
    "Potassium": ("Potassium", "Kalis", "Kalium", "K; Kalium", "elec"),
    "Chloride": ("Chloride", "Chloridai", "Chlorid", "Cl", "elec"),
    "Creatinine": ("Creat", "Kreatininas", "Kreatinin", "Creat; Kreatinin", "renal"),
    "Urea nitrogen": ("BUN", "Šlapalo azotas", "Harnstoff-Stickstoff",
                      "BUN; Urea N; Blood urea nitrogen", "renal"),
    "Cholesterol": ("Cholest", "Cholesterolis", "Cholesterin", "Chol; Cholest", "lipid"),
    "Cholesterol.in HDL": ("HDLc", "Cholesterolis DTL", "Cholesterin in HDL",
                           "HDL-C; Good cholesterol, HDL", "lipid"),
    "Cholesterol.in LDL": ("LDLc", "Cholesterolis MTL", "Cholesterin in LDL",
                           "LDL-C; Bad cholesterol, LDL", "lipid"),
    "Triglyceride": ("Trigl", "Trigliceridai", "Triglyceride", "TG; Trigs; Triglycerides",
                     "lipid"),
    "Albumin": ("Albumin", "Albuminas", "Albumin", "Alb", "prot"),
    "Protein": ("Prot", "Baltymas", "Protein", "Prot; Total protein", "prot"),
    "Hemoglobin": ("Hgb", "Hemoglobinas", "Hämoglobin", "Hb; Hgb; Haemoglobin", "hem"),
    "Hematocrit": ("Hct", "Hematokritas", "Hämatokrit", "Hct; Packed cell volume; PCV", "hem"),
    "Leukocytes": ("WBC", "Leukocitai", "Leukozyten", "WBC; White blood cells", "hem"),
    "Erythrocytes": ("RBC", "Eritrocitai", "Erythrozyten", "RBC; Red blood cells", "hem"),
    "Platelets": ("Platelets", "Trombocitai", "Thrombozyten", "PLT; Thrombocytes", "hem"),
    "ABO group": ("ABO group", "ABO grupė", "AB0-Blutgruppe", "Blood group; ABO", "bb"),
    "Color": ("Color", "Spalva", "Farbe", "Colour", "ua"),
    "Appearance": ("Appearance", "Išvaizda", "Aussehen", "Clarity; Turbidity", "ua"),
    "Specific gravity": ("Sp Gr", "Santykinis tankis", "Spezifisches Gewicht", "SG; Sp Gr",
                         "ua"),
    "Ketones": ("Ketones", "Ketonai", "Ketone", "Ketone bodies; Acetone", "ua"),
    "Hepatitis B virus surface Ag": ("HBV surface Ag", "Hepatito B viruso paviršiaus antigenas",
                                     "Hepatitis-B-Virus-Oberflächenantigen",
                                     "HBsAg; Australia antigen; HBV", "sero"),
    "HIV 1+2 Ab": ("HIV1+2 Ab", "ŽIV 1+2 antikūnai", "HIV-1+2-Antikörper",
                   "HIV; AIDS; Human immunodeficiency virus 1+2", "sero"),
    "Rubella virus IgG Ab": ("RUBV IgG", "Raudonukės viruso IgG antikūnai",
                             "Rubellavirus-IgG-Antikörper", "German measles; RUBV", "sero"),
    "Basic metabolic 2000 panel": ("BMP 2000", "Pagrindinių metabolinių tyrimų rinkinys 2000",
                                   "Basis-Stoffwechselpanel 2000", "BMP; Chem 7", "panel"),
    "Lipid panel": ("Lipid panel", "Lipidų tyrimų rinkinys", "Lipidpanel",
                    "Lipid profile; Lipids", "panel"),
    "Fatigue frequency": ("Fatigue freq", "Nuovargio dažnis", "Häufigkeit der Müdigkeit",
                          "Tiredness; Fatigue; PROMIS", "promis"),
    "Sleep disturbance frequency": ("Sleep disturb freq", "Miego sutrikimų dažnis",
                                    "Häufigkeit von Schlafstörungen", "Sleep; PROMIS", "promis"),
    "General health": ("General health", "Bendra sveikata", "Allgemeiner Gesundheitszustand",
                       "Health status; Self-rated health", "promis"),
    "Body weight": ("Weight", "Kūno svoris", "Körpergewicht", "Weight; Body wt; Wt", "body"),
    "Clinical report": ("Clinical report", "Klinikinė ataskaita", "Klinischer Bericht",
                        "Report; Attachment", "attach"),
}

# Curated codes: comp, prop, time, system, scale, method, class, classtype, order_obs,
# units, ucum, status, extra
C = lambda *a, **k: (a, k)  # noqa: E731
CURATED = [
    C("Glucose", "MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mg/dL", "mg/dL",
      "ACTIVE", definition='Glucose is a "simple sugar", the main source of energy for the body; '
      'measured in serum or plasma, fasting or random.', rank=(1, 15)),
    C("Glucose", "SCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mmol/L", "mmol/L",
      "ACTIVE"),
    C("Glucose", "MCnc", "Pt", "Urine", "Qn", "Test strip", "UA", 1, "Observation", "mg/dL",
      "mg/dL", "ACTIVE"),
    C("Glucose", "PrThr", "Pt", "Urine", "Ord", "Test strip", "UA", 1, "Observation", "", "",
      "ACTIVE", answers=("presence", "NORMATIVE")),
    C("Glucose", "MCnc", "Pt", "CSF", "Qn", "", "CHEM", 1, "Both", "mg/dL", "mg/dL", "ACTIVE"),
    C("Glucose^2H post 75 g glucose PO", "MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both",
      "mg/dL", "mg/dL", "ACTIVE",
      long="Glucose [Mass/volume] in Serum or Plasma --2 hours post 75 g glucose PO",
      lt_long="Gliukozė [Masė/tūris] serume arba plazmoje --praėjus 2 val. po 75 g gliukozės "
      "per os", de_long="Glukose [Masse/Volumen] im Serum oder Plasma --2 Stunden nach 75 g "
      "Glukose p.o."),
    C("Glucose", "MCnc", "Pt", "Bld", "Qn", "Test strip", "CHEM", 1, "Observation", "mg/dL",
      "mg/dL", "DEPRECATED", status_reason="DUPLICATE",
      status_text="Duplicate of the glucose [Mass/volume] in Blood term",
      change="Deprecated: duplicate term."),
    C("Sodium", "SCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mmol/L", "mmol/L",
      "ACTIVE"),
    C("Sodium", "SCnc", "Pt", "Urine", "Qn", "", "CHEM", 1, "Both", "mmol/L", "mmol/L",
      "ACTIVE"),
    C("Sodium", "SRat", "24H", "Urine", "Qn", "", "CHEM", 1, "Both", "mmol/(24.h)",
      "mmol/(24.h)", "ACTIVE"),
    C("Potassium", "SCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mmol/L", "mmol/L",
      "ACTIVE"),
    C("Potassium", "SCnc", "Pt", "Bld", "Qn", "", "CHEM", 1, "Both", "mmol/L", "mmol/L",
      "TRIAL"),
    C("Chloride", "SCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mmol/L", "mmol/L",
      "ACTIVE"),
    C("Creatinine", "MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mg/dL", "mg/dL",
      "ACTIVE"),
    C("Creatinine", "MCnc", "Pt", "Urine", "Qn", "", "CHEM", 1, "Both", "mg/dL", "mg/dL",
      "ACTIVE"),
    C("Creatinine", "MRat", "24H", "Urine", "Qn", "", "CHEM", 1, "Both", "g/(24.h)",
      "g/(24.h)", "ACTIVE"),
    C("Urea nitrogen", "MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mg/dL", "mg/dL",
      "ACTIVE"),
    C("Cholesterol", "MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mg/dL", "mg/dL",
      "ACTIVE"),
    C("Cholesterol.in HDL", "MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mg/dL",
      "mg/dL", "ACTIVE"),
    C("Cholesterol.in LDL", "MCnc", "Pt", "Ser/Plas", "Qn", "Calculated", "CHEM", 1,
      "Observation", "mg/dL", "mg/dL", "DISCOURAGED", status_reason="AMBIGUOUS",
      status_text="Use a term that names the calculation method"),
    C("Triglyceride", "MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "mg/dL", "mg/dL",
      "ACTIVE"),
    C("Albumin", "MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", 1, "Both", "g/dL", "g/dL",
      "ACTIVE"),
    C("Protein", "PrThr", "Pt", "Urine", "Ord", "Test strip", "UA", 1, "Observation", "", "",
      "ACTIVE", answers=("presence", "NORMATIVE")),
    C("Hemoglobin", "MCnc", "Pt", "Bld", "Qn", "", "HEM/BC", 1, "Both", "g/dL", "g/dL",
      "ACTIVE"),
    C("Hematocrit", "VFr", "Pt", "Bld", "Qn", "Automated count", "HEM/BC", 1, "Both", "%", "%",
      "ACTIVE"),
    C("Leukocytes", "NCnc", "Pt", "Bld", "Qn", "Automated count", "HEM/BC", 1, "Both",
      "10*3/uL", "10*3/uL", "ACTIVE"),
    C("Erythrocytes", "NCnc", "Pt", "Bld", "Qn", "Automated count", "HEM/BC", 1, "Both",
      "10*6/uL", "10*6/uL", "ACTIVE"),
    C("Platelets", "NCnc", "Pt", "Bld", "Qn", "Automated count", "HEM/BC", 1, "Both",
      "10*3/uL", "10*3/uL", "ACTIVE"),
    C("ABO group", "Type", "Pt", "Bld", "Nom", "", "BLDBK", 1, "Both", "", "", "ACTIVE"),
    C("Color", "Type", "Pt", "Urine", "Nom", "", "UA", 1, "Observation", "", "", "ACTIVE",
      answers=("color", "NORMATIVE")),
    C("Appearance", "Type", "Pt", "Urine", "Nom", "", "UA", 1, "Observation", "", "", "ACTIVE"),
    C("Specific gravity", "Rden", "Pt", "Urine", "Qn", "Test strip", "UA", 1, "Observation",
      "{ratio}", "{ratio}", "ACTIVE", long="Specific gravity of Urine by Test strip",
      lt_long="Šlapimo santykinis tankis testo juostele",
      de_long="Spezifisches Gewicht des Urins mit Teststreifen"),
    C("Ketones", "PrThr", "Pt", "Urine", "Ord", "Test strip", "UA", 1, "Observation", "", "",
      "ACTIVE", answers=("presence", "NORMATIVE")),
    C("Hepatitis B virus surface Ag", "PrThr", "Pt", "Ser", "Ord", "", "SERO", 1, "Both", "",
      "", "ACTIVE", answers=("presence", "NORMATIVE")),
    C("HIV 1+2 Ab", "PrThr", "Pt", "Ser", "Ord", "", "SERO", 1, "Both", "", "", "ACTIVE",
      answers=("presence", "EXAMPLE")),
    C("Rubella virus IgG Ab", "ACnc", "Pt", "Ser", "Qn", "", "SERO", 1, "Both", "[IU]/mL",
      "[IU]/mL", "ACTIVE"),
    C("Basic metabolic 2000 panel", "-", "Pt", "Ser/Plas", "-", "", "PANEL.CHEM", 1, "Order",
      "", "", "ACTIVE", long="Basic metabolic 2000 panel - Serum or Plasma",
      lt_long="Pagrindinių metabolinių tyrimų rinkinys 2000 – serumas arba plazma",
      de_long="Basis-Stoffwechselpanel 2000 – Serum oder Plasma", panel="Panel"),
    C("Lipid panel", "-", "Pt", "Ser/Plas", "-", "", "PANEL.CHEM", 1, "Order", "", "",
      "ACTIVE", long="Lipid panel - Serum or Plasma",
      lt_long="Lipidų tyrimų rinkinys – serumas arba plazma",
      de_long="Lipidpanel – Serum oder Plasma", panel="Panel"),
    C("Fatigue frequency", "Find", "Pt", "^Patient", "Ord", "PROMIS", "SURVEY.PROMIS", 4,
      "Observation", "", "", "ACTIVE", long="In the past 7 days how often did you feel tired "
      "[PROMIS]", lt_long="Kaip dažnai per pastarąsias 7 dienas jautėtės pavargę [PROMIS]",
      de_long="Wie oft haben Sie sich in den letzten 7 Tagen müde gefühlt [PROMIS]",
      survey=("In the past 7 days, how often did you feel tired?", "PROMIS"),
      copyright=True, answers=("frequency", "NORMATIVE")),
    C("Sleep disturbance frequency", "Find", "Pt", "^Patient", "Ord", "PROMIS", "SURVEY.PROMIS",
      4, "Observation", "", "", "TRIAL", long="In the past 7 days how often did you have "
      "trouble sleeping [PROMIS]",
      lt_long="Kaip dažnai per pastarąsias 7 dienas sunkiai užmigdavote [PROMIS]",
      de_long="Wie oft hatten Sie in den letzten 7 Tagen Schlafprobleme [PROMIS]",
      survey=("In the past 7 days, how often did you have trouble sleeping?", "PROMIS"),
      copyright=True, answers=("frequency", "EXAMPLE")),
    C("General health", "Find", "Pt", "^Patient", "Nar", "", "SURVEY.GNHLTH", 4, "Observation",
      "", "", "ACTIVE", long="General health narrative - Reported",
      lt_long="Bendros sveikatos aprašymas – nurodyta paciento",
      de_long="Allgemeiner Gesundheitszustand, Freitext – berichtet"),
    C("Body weight", "Mass", "Pt", "^Patient", "Qn", "Measured", "BDYWGT.ATOM", 2, "Both",
      "kg", "kg", "ACTIVE", long="Body weight Measured", lt_long="Kūno svoris išmatuotas",
      de_long="Körpergewicht gemessen"),
    C("Clinical report", "Find", "Pt", "{Setting}", "Nar", "", "ATTACH.CLINRPT", 3,
      "Observation", "", "", "ACTIVE", long="Clinical report", lt_long="Klinikinė ataskaita",
      de_long="Klinischer Bericht"),
]
DEFAULT_CODES = len(CURATED)

# Hierarchy groups: key -> (parent key or None, name, lt name)
GROUPS = [
    ("lab", None, "Laboratory"),
    ("chem", "lab", "Chemistry and Chemistry challenge"),
    ("carb", "chem", "Carbohydrates"),
    ("elec", "chem", "Electrolytes"),
    ("renal", "chem", "Renal function"),
    ("lipid", "chem", "Lipids"),
    ("prot", "chem", "Proteins"),
    ("hem", "lab", "Hematology"),
    ("ua", "lab", "Urinalysis"),
    ("sero", "lab", "Serology"),
    ("bb", "lab", "Blood bank"),
    ("panel", "lab", "Panels"),
    ("clin", None, "Clinical"),
    ("promis", "clin", "PROMIS surveys"),
    ("body", "clin", "Body measures"),
    ("attach", "clin", "Attachments"),
]

ANSWER_LISTS = {
    # key: (name, oid suffix, [(local code, display, snomed id, snomed display, score)])
    "presence": ("Presence", "165", [
        ("POS", "Positive", "10828004", "Positive (qualifier value)", ""),
        ("NEG", "Negative", "260385009", "Negative (qualifier value)", ""),
        ("ND", "Not detected", "260415000", "Not detected (qualifier value)", ""),
        ("IND", "Indeterminate", "82334004", "Indeterminate (qualifier value)", ""),
    ]),
    "color": ("Urine color", "166", [
        ("Y", "Yellow", "", "", ""), ("AMB", "Amber", "", "", ""), ("RED", "Red", "", "", ""),
        ("BRN", "Brown", "", "", ""), ("CLR", "Colorless", "", "", ""),
    ]),
    "frequency": ("PROMIS frequency", "167", [
        ("1", "Never", "", "", "1"), ("2", "Rarely", "", "", "2"),
        ("3", "Sometimes", "", "", "3"), ("4", "Often", "", "", "4"),
        ("5", "Always", "", "", "5"),
    ]),
}

COPYRIGHT = ("© 2008-2024 PROMIS Health Organization and PROMIS Cooperative Group. "
             "Used with permission; reproduction requires a licence from the copyright holder.")
COPYRIGHT_LINK = "https://www.healthmeasures.net/"

# Combinations for synthetic codes: (prop, time, system, scale, method, class, units)
SYNTH_COMBOS = [
    ("MCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", "mg/dL"),
    ("SCnc", "Pt", "Ser/Plas", "Qn", "", "CHEM", "umol/L"),
    ("MCnc", "Pt", "Urine", "Qn", "", "CHEM", "mg/dL"),
    ("PrThr", "Pt", "Ser", "Ord", "", "SERO", ""),
    ("ACnc", "Pt", "Ser", "Qn", "", "SERO", "[IU]/mL"),
    ("MCnc", "Pt", "Bld", "Qn", "", "CHEM", "ug/dL"),
    ("PrThr", "Pt", "Urine", "Ord", "Test strip", "UA", ""),
    ("MRat", "24H", "Urine", "Qn", "", "CHEM", "mg/(24.h)"),
    ("MCnc", "Pt", "CSF", "Qn", "", "CHEM", "mg/dL"),
    ("Type", "Pt", "Bld", "Nom", "", "HEM/BC", ""),
]


def esc(v) -> str:
    s = "" if v is None else str(v)
    if s == "":
        return ""
    return '"' + s.replace('"', '""') + '"'


class Out:
    def __init__(self, root: Path):
        self.root = root
        self.counts: dict[str, int] = {}

    def write(self, rel: str, header: list[str], rows) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        n = 0
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(",".join(esc(h) for h in header) + "\n")
            buf = []
            for r in rows:
                assert len(r) == len(header), (rel, r)
                buf.append(",".join(map(esc, r)))
                n += 1
                if len(buf) >= 5000:
                    f.write("\n".join(buf) + "\n")
                    buf.clear()
            if buf:
                f.write("\n".join(buf) + "\n")
        self.counts[rel] = n


def long_name(comp, prop, time_, system, method, lang):
    li = {"en": 0, "lt": 1, "de": 2}[lang]
    comp_t = comp if lang == "en" else COMP_T(comp, lang)
    br = PROPERTIES[prop][1 + li]
    sysphrase = SYSTEMS[system][1 + li]
    if time_ == "24H":
        sysphrase = {"en": "in 24 hour Urine", "lt": "24 val. šlapime",
                     "de": "im 24-Stunden-Urin"}[lang]
    s = f"{comp_t} [{br}] {sysphrase}".strip()
    if method:
        s += " " + METHODS[method][1 + li]
    return s


_synth_t: dict[str, tuple[str, str]] = {}


def COMP_T(comp, lang):
    if comp in COMPONENTS:
        return COMPONENTS[comp][1 if lang == "lt" else 2]
    return _synth_t[comp][0 if lang == "lt" else 1]


def generate(out_dir: Path, n_codes: int, n_parts: int, seed: int) -> dict:
    rng = random.Random(seed)
    out = Out(out_dir)

    # ---- numbers
    curated = CURATED[: min(n_codes, len(CURATED))]
    n_synth_codes = n_codes - len(curated)
    loinc_nums = rng.sample(range(1000, 99999), len(curated))
    lp_pool = iter(rng.sample(range(10000, 99999), 2000))

    # ---- parts: (type, name) -> (code, display, status)
    parts: dict[tuple[str, str], list] = {}
    part_order: list[tuple[str, str]] = []

    def add_part(ptype, name, display, status="ACTIVE", number=None):
        key = (ptype, name)
        if key in parts:
            return parts[key][0]
        code = with_check("LP", number if number is not None else next(lp_pool))
        parts[key] = [code, display, status]
        part_order.append(key)
        return code

    used_comps = []
    for (a, _k) in curated:
        if a[0] not in used_comps:
            used_comps.append(a[0])
    for comp in used_comps:
        add_part("COMPONENT", comp, comp)
    for p in sorted({a[1] for a, _ in curated} | {c[0] for c in SYNTH_COMBOS}):
        add_part("PROPERTY", p, PROPERTIES[p][0])
    for t in sorted({a[2] for a, _ in curated} | {c[1] for c in SYNTH_COMBOS}):
        add_part("TIME", t, TIMES[t][0])
    for s in sorted({a[3] for a, _ in curated} | {c[2] for c in SYNTH_COMBOS}):
        add_part("SYSTEM", s, SYSTEMS[s][0])
    for s in sorted({a[4] for a, _ in curated} | {c[3] for c in SYNTH_COMBOS}):
        add_part("SCALE", s, SCALES[s][0])
    for m in sorted({a[5] for a, _ in curated if a[5]} | {c[4] for c in SYNTH_COMBOS if c[4]}):
        add_part("METHOD", m, METHODS[m][0])
    for c in sorted({a[6] for a, _ in curated} | {c[5] for c in SYNTH_COMBOS}):
        add_part("CLASS", c, CLASSES[c])
    group_code = {}
    for key, parent, name in GROUPS:
        group_code[key] = add_part("CLASS", name, name)
    # one deprecated part that nothing links to (as in the real Part.csv)
    add_part("COMPONENT", "Glucose^post CFst", "Glucose^post CFst", status="DEPRECATED")

    # synthetic components, so that the part count reaches n_parts
    fixed = len(parts)
    room = max(0, n_parts - fixed)
    n_groups = (room + 1000) // 1001 if room else 0
    n_synth_comps = max(room - n_groups, 0)
    if n_synth_codes > 0:
        need = -(-n_synth_codes // len(SYNTH_COMBOS))
        if n_synth_comps < need:
            n_synth_comps = need
            n_groups = max(1, -(-n_synth_comps // 1000))
    next_lp = 100000
    synth_groups, synth_group_names = [], []
    for g in range(n_groups):
        lo, hi = g * 1000 + 1, min((g + 1) * 1000, n_synth_comps)
        name = f"Synthetic analytes {lo}-{hi}"
        synth_groups.append(add_part("CLASS", name, name, number=next_lp))
        synth_group_names.append(name)
        next_lp += 1
    synth_comps = []
    for i in range(1, n_synth_comps + 1):
        name = f"Analyte {i}"
        _synth_t[name] = (f"Analitas {i}", f"Analyt {i}")
        add_part("COMPONENT", name, name, number=next_lp)
        next_lp += 1
        synth_comps.append(name)

    # ---- LOINC rows
    codes = []  # dicts
    for (a, k), num in zip(curated, loinc_nums):
        comp, prop, time_, system, scale, method, cls, ctype, oo, units, ucum, status = a
        codes.append(dict(num=with_check("", num), comp=comp, prop=prop, time=time_,
                          system=system, scale=scale, method=method, cls=cls, ctype=ctype,
                          oo=oo, units=units, ucum=ucum, status=status, extra=k,
                          group=COMPONENTS[comp][4]))
    statuses = ["ACTIVE"] * 94 + ["TRIAL"] * 3 + ["DISCOURAGED"] * 1 + ["DEPRECATED"] * 2
    for i in range(n_synth_codes):
        ci = i % len(synth_comps)
        combo = SYNTH_COMBOS[(i // len(synth_comps) + ci) % len(SYNTH_COMBOS)]
        prop, time_, system, scale, method, cls, units = combo
        extra = {}
        if scale == "Ord" and i % 3 == 0:
            extra["answers"] = ("presence", "NORMATIVE")
        if i % 997 == 5:
            extra["copyright"] = True
        if i % 50 == 0:
            extra["definition"] = (f"Synthetic analyte {ci + 1}, measured {SYSTEMS[system][1]}; "
                                   f"\"made up\" for load tests.")
        codes.append(dict(num=with_check("", 100000 + i), comp=synth_comps[ci], prop=prop,
                          time=time_, system=system, scale=scale, method=method, cls=cls,
                          ctype=1, oo=rng.choice(["Both", "Both", "Observation", "Order"]),
                          units=units, ucum=units, status=rng.choice(statuses), extra=extra,
                          group=("synth", ci // 1000)))

    loinc_rows, prim_rows, supp_rows, lt_rows, de_rows = [], [], [], [], []
    ans_link_rows = []
    for idx, c in enumerate(codes):
        comp, prop, time_, system, scale, method = (c["comp"], c["prop"], c["time"],
                                                    c["system"], c["scale"], c["method"])
        k = c["extra"]
        lcn = k.get("long") or long_name(comp, prop, time_, system, method, "en")
        c["lcn"] = lcn
        cabbr = COMPONENTS[comp][0] if comp in COMPONENTS else comp.replace("Analyte ", "Anlt ")
        sabbr = SYSTEMS[system][6] if time_ != "24H" else "24H " + SYSTEMS[system][6]
        pabbr = PROPERTIES[prop][6]
        if scale == "Ord":
            short = f"{cabbr} {sabbr} Ql"
        elif scale in ("Nom", "Nar", "-") or system in ("^Patient", "{Setting}"):
            short = f"{cabbr} {sabbr}" if system not in ("^Patient", "{Setting}") else cabbr
        else:
            short = f"{cabbr} {sabbr}-{pabbr}"
        if method and method not in ("PROMIS", "Measured"):
            short += " " + METHODS[method][6]
        c["short"] = short
        rel_base = COMPONENTS[comp][3] if comp in COMPONENTS else f"A{comp[8:]}"
        related = "; ".join(x for x in [
            rel_base, PROPERTIES[prop][0], TIMES[time_][0], SYSTEMS[system][0],
            SCALES[scale][0], method, CLASSES[c["cls"]],
            "Level, point in time" if time_ == "Pt" else "Timed collection"] if x)
        copyright_ = COPYRIGHT if k.get("copyright") else ""
        rank = k.get("rank", ("0", "0"))
        survey = k.get("survey", ("", ""))
        display = lcn if len(lcn) < 40 else short
        ans = k.get("answers")
        exmpl = ""
        if ans:
            exmpl = ANSWER_LISTS[ans[0]][0] if c["num"] else ""
        loinc_rows.append([
            c["num"], comp, prop, time_, system, scale, method, c["cls"], VERSION,
            "MIN" if idx % 7 == 0 else "", k.get("definition", ""), c["status"], "",
            c["ctype"], "", exmpl, survey[0], survey[1],
            "Y" if scale == "Qn" and c["units"] else ("N" if scale == "Qn" else ""),
            related, short, c["oo"], "OBX.5" if c["oo"] != "Order" else "",
            copyright_, c["units"], lcn, c["ucum"], k.get("status_reason", ""),
            k.get("status_text", ""), k.get("change", ""), rank[0], rank[1], "",
            COPYRIGHT_LINK if copyright_ else "", k.get("panel", ""), "", "",
            "2.%02d" % (20 + (idx * 7) % 56), "", display,
        ])
        for col, ptype, prop_code in AXES:
            value = {"COMPONENT": comp, "PROPERTY": prop, "TIME_ASPCT": time_,
                     "SYSTEM": system, "SCALE_TYP": scale, "METHOD_TYP": method}[col]
            if not value:
                continue
            pcode = parts[(ptype, value)][0]
            prim_rows.append([c["num"], lcn, pcode, value, "http://loinc.org", ptype,
                              "Primary", PROP_URI + prop_code])
        if idx % 5 == 0 or comp.startswith("Glucose^"):
            base = comp.split("^")[0]
            if ("COMPONENT", base) in parts:
                supp_rows.append([c["num"], lcn, parts[("COMPONENT", base)][0], base,
                                  "http://loinc.org", "COMPONENT", "DetailedModel",
                                  PROP_URI + "analyte"])
            supp_rows.append([c["num"], lcn, parts[("SYSTEM", system)][0], system,
                              "http://loinc.org", "SYSTEM", "SyntaxEnhancement",
                              PROP_URI + "system-core"])
        if ans:
            ans_link_rows.append([c["num"], lcn, None, ANSWER_LISTS[ans[0]][0], ans[1], ""])
            c["anskey"] = ans[0]
        # linguistic variants
        h = int(c["num"].split("-")[0])
        for lang, rows, pct, mul in (("lt", lt_rows, 8, 7919), ("de", de_rows, 5, 104729)):
            if (h * mul + seed) % 10 >= pct and not (idx == 0):
                continue
            li = 1 if lang == "lt" else 2
            tl = k.get(f"{lang}_long") or long_name(comp, prop, time_, system, method, lang)
            comp_t = COMP_T(comp, lang)
            sys_t = SYSTEMS[system][3 + li]
            phrase = SYSTEMS[system][1 + li]
            disp = f"{comp_t} {phrase}" if (phrase and " [" in tl) else tl
            rows.append([
                c["num"], comp_t, PROPERTIES[prop][3 + li], TIMES[time_][li], sys_t,
                SCALES[scale][li], METHODS[method][3 + li] if method else "", c["cls"],
                "", tl,
                "; ".join([comp_t, sys_t, PROPERTIES[prop][3 + li]]), disp,
            ])
    out.write("LoincTable/Loinc.csv", LOINC_COLUMNS, loinc_rows)

    out.write("AccessoryFiles/PartFile/Part.csv", PART_COLUMNS,
              ([parts[k][0], k[0], k[1], parts[k][1], parts[k][2]] for k in part_order))
    out.write("AccessoryFiles/PartFile/LoincPartLink_Primary.csv", LINK_COLUMNS, prim_rows)
    out.write("AccessoryFiles/PartFile/LoincPartLink_Supplementary.csv", LINK_COLUMNS,
              supp_rows)

    # ---- answer lists
    la_pool = iter(rng.sample(range(10000, 29999), 2000))
    ll_pool = iter(rng.sample(range(1000, 9999), 500))
    ans_rows = []
    list_ids = {}
    for key, (name, oid, answers) in ANSWER_LISTS.items():
        llid = with_check("LL", next(ll_pool))
        list_ids[key] = llid
        for seq, (local, disp, ext, extd, score) in enumerate(answers, 1):
            ans_rows.append([
                llid, name, "1.3.6.1.4.1.12009.10.1." + oid, "N", "", "",
                with_check("LA", next(la_pool)), local, "", seq, disp, ext, extd,
                "http://snomed.info/sct" if ext else "", "http://snomed.info/sct/900000000000207008/version/20240301" if ext else "",
                "", "", "", score,
            ])
    out.write("AccessoryFiles/AnswerFile/AnswerList.csv", ANSWER_COLUMNS, ans_rows)
    for r, c in zip(ans_link_rows, [c for c in codes if "anskey" in c]):
        r[2] = list_ids[c["anskey"]]
    out.write("AccessoryFiles/AnswerFile/LoincAnswerListLink.csv", ANSWER_LINK_COLUMNS,
              ans_link_rows)

    # ---- hierarchy
    children: dict[str, list[tuple[str, str]]] = {}  # parent code -> [(code, text)]
    roots = []
    for key, parent, name in GROUPS:
        code = group_code[key]
        if parent is None:
            roots.append((code, name))
        else:
            children.setdefault(group_code[parent], []).append((code, name))
    comp_node_added = set()

    def comp_node(comp, parent_code):
        pcode = parts[("COMPONENT", comp)][0]
        if pcode not in comp_node_added:
            comp_node_added.add(pcode)
            children.setdefault(parent_code, []).append((pcode, comp))
        return pcode

    for gcode, gname in zip(synth_groups, synth_group_names):
        children.setdefault(group_code["chem"], []).append((gcode, gname))
    for c in codes:
        g = c["group"]
        comp = c["comp"]
        if isinstance(g, tuple):
            parent = synth_groups[g[1]]
        elif g == "glucose":  # challenge component under the base analyte
            parent = comp_node("Glucose", group_code["carb"])
        else:
            parent = group_code[g]
        if g in ("panel", "attach"):
            leaf_parent = parent
        else:
            leaf_parent = comp_node(comp, parent)
        children.setdefault(leaf_parent, []).append((c["num"], c["lcn"]))
        # poly-hierarchy: urine chemistry also under Urinalysis
        if c["system"] == "Urine" and g not in ("ua",) and (not isinstance(g, tuple)
                                                           or c["num"][-1] in "02468"):
            children.setdefault(group_code["ua"], []).append((c["num"], c["lcn"]))
        # panels: members also listed as children of a panel? keep simple.
    hier_rows = []

    def walk(code, text, path, parent, seq):
        hier_rows.append([".".join(path), seq, parent, code, text])
        for i, (cc, ct) in enumerate(children.get(code, []), 1):
            walk(cc, ct, path + [code], code, i)

    sys.setrecursionlimit(10000)
    for i, (code, name) in enumerate(roots, 1):
        walk(code, name, [], "", i)
    out.write("AccessoryFiles/ComponentHierarchyBySystem/ComponentHierarchyBySystem.csv",
              HIER_COLUMNS, hier_rows)

    # ---- linguistic variants
    out.write("AccessoryFiles/LinguisticVariants/LinguisticVariants.csv", LV_COLUMNS, [
        ["8", "de", "DE", "German (GERMANY)", "Synthetic German translation producer"],
        ["99", "lt", "LT", "Lithuanian (LITHUANIA)",
         "Synthetic national producer (Lithuanian Health Authority)"],
    ])
    out.write("AccessoryFiles/LinguisticVariants/ltLT99LinguisticVariant.csv", LV_FILE_COLUMNS,
              lt_rows)
    out.write("AccessoryFiles/LinguisticVariants/deDE8LinguisticVariant.csv", LV_FILE_COLUMNS,
              de_rows)
    return out.counts


# ---------------------------------------------------------------- check
def read(path: Path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def check(root: Path) -> list[str]:
    errs = []
    A = root / "AccessoryFiles"
    loinc = read(root / "LoincTable/Loinc.csv")
    with open(root / "LoincTable/Loinc.csv", encoding="utf-8") as f:
        if next(csv.reader(f)) != LOINC_COLUMNS:
            errs.append("Loinc.csv header differs from the 40 LOINC columns")
    partrows = read(A / "PartFile/Part.csv")
    parts = {p["PartNumber"]: p for p in partrows}
    by_name = {(p["PartTypeName"], p["PartName"]): p["PartNumber"] for p in partrows}
    for p in partrows:
        if not valid_code(p["PartNumber"], "LP"):
            errs.append(f"bad part check digit {p['PartNumber']}")
    nums = set()
    for r in loinc:
        if not valid_code(r["LOINC_NUM"], ""):
            errs.append(f"bad LOINC check digit {r['LOINC_NUM']}")
        if r["LOINC_NUM"] in nums:
            errs.append(f"duplicate LOINC {r['LOINC_NUM']}")
        nums.add(r["LOINC_NUM"])
        for col, ptype, _ in AXES:
            if r[col] and (ptype, r[col]) not in by_name:
                errs.append(f"{r['LOINC_NUM']}: no {ptype} part named {r[col]!r}")
    links = {}
    for name in ("LoincPartLink_Primary.csv", "LoincPartLink_Supplementary.csv"):
        for l in read(A / "PartFile" / name):
            p = parts.get(l["PartNumber"])
            if p is None:
                errs.append(f"{name}: unknown part {l['PartNumber']}")
            elif p["PartName"] != l["PartName"] or p["PartTypeName"] != l["PartTypeName"]:
                errs.append(f"{name}: part {l['PartNumber']} name/type mismatch")
            if l["LoincNumber"] not in nums:
                errs.append(f"{name}: unknown LOINC {l['LoincNumber']}")
            if name.endswith("Primary.csv"):
                links[(l["LoincNumber"], l["Property"])] = l["PartNumber"]
    for r in loinc:
        for col, ptype, prop in AXES:
            if r[col]:
                got = links.get((r["LOINC_NUM"], PROP_URI + prop))
                if got != by_name.get((ptype, r[col])):
                    errs.append(f"{r['LOINC_NUM']}: {col} primary link {got} inconsistent")
    lists = set()
    for a in read(A / "AnswerFile/AnswerList.csv"):
        lists.add(a["AnswerListId"])
        if not valid_code(a["AnswerListId"], "LL"):
            errs.append(f"bad LL check digit {a['AnswerListId']}")
        if not valid_code(a["AnswerStringId"], "LA"):
            errs.append(f"bad LA check digit {a['AnswerStringId']}")
    for l in read(A / "AnswerFile/LoincAnswerListLink.csv"):
        if l["AnswerListId"] not in lists or l["LoincNumber"] not in nums:
            errs.append(f"answer list link {l} dangles")
    hier = read(A / "ComponentHierarchyBySystem/ComponentHierarchyBySystem.csv")
    seen = set()
    leaves = set()
    maxdepth = 0
    for h in hier:
        code = h["CODE"]
        path = h["PATH_TO_ROOT"].split(".") if h["PATH_TO_ROOT"] else []
        if (path[-1] if path else "") != h["IMMEDIATE_PARENT"]:
            errs.append(f"hierarchy {code}: parent is not the last path element")
        for anc in path:
            if anc not in seen:
                errs.append(f"hierarchy {code}: ancestor {anc} not listed before it")
            if anc not in parts:
                errs.append(f"hierarchy {code}: ancestor {anc} is not a part")
        if code.startswith("LP"):
            if code not in parts:
                errs.append(f"hierarchy node {code} is not in Part.csv")
        else:
            if code not in nums:
                errs.append(f"hierarchy leaf {code} is not a LOINC code")
            leaves.add(code)
        seen.add(code)
        maxdepth = max(maxdepth, len(path) + 1)
    missing = nums - leaves
    if missing:
        errs.append(f"{len(missing)} LOINC codes are not in the hierarchy")
    if maxdepth < 3:
        errs.append(f"hierarchy depth {maxdepth} < 3")
    for lv in ("ltLT99LinguisticVariant.csv", "deDE8LinguisticVariant.csv"):
        for r in read(A / "LinguisticVariants" / lv):
            if r["LOINC_NUM"] not in nums:
                errs.append(f"{lv}: unknown LOINC {r['LOINC_NUM']}")
    return errs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--codes", type=int, default=DEFAULT_CODES)
    ap.add_argument("--parts", type=int, default=60)
    ap.add_argument("--seed", type=int, default=2076)
    ap.add_argument("--check", action="store_true", help="verify the output after writing")
    ap.add_argument("--check-only", action="store_true", help="verify DIR, do not write")
    a = ap.parse_args()
    if not a.check_only:
        t0 = time.monotonic()
        counts = generate(a.out, a.codes, a.parts, a.seed)
        for rel, n in counts.items():
            print(f"{n:>8} rows  {a.out / rel}")
        print(f"generated in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    if a.check or a.check_only:
        errs = check(a.out)
        for e in errs[:50]:
            print("CHECK:", e, file=sys.stderr)
        if errs:
            print(f"check failed: {len(errs)} problems", file=sys.stderr)
            return 1
        print("check ok", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
