//! Schema migrations, embedded and append-only.
//!
//! Each entry in [`MIGRATIONS`] moves the file from `user_version = i` to `i + 1`. A newer
//! binary upgrades an older file in place; an older binary refuses a file whose
//! `user_version` is beyond what it knows, because it cannot know what the newer schema means.

/// The ordered list of migrations. Never edit an entry that has shipped: append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the concept graph, value sets and concept maps.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('generation', 0);

CREATE TABLE code_system (
    id                INTEGER PRIMARY KEY,
    resource_id       TEXT NOT NULL UNIQUE,
    url               TEXT NOT NULL,
    version           TEXT NOT NULL DEFAULT '',
    name              TEXT,
    title             TEXT,
    status            TEXT,
    content           TEXT,
    hierarchy_meaning TEXT,
    case_sensitive    INTEGER,
    value_set         TEXT,
    language          TEXT,
    supplements       TEXT,
    concept_count     INTEGER NOT NULL DEFAULT 0,
    resource          TEXT NOT NULL,
    UNIQUE (url, version)
);

CREATE TABLE cs_property (
    cs_id       INTEGER NOT NULL REFERENCES code_system(id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    uri         TEXT,
    type        TEXT NOT NULL,
    description TEXT,
    PRIMARY KEY (cs_id, code)
) WITHOUT ROWID;

CREATE TABLE concept (
    id         INTEGER PRIMARY KEY,
    cs_id      INTEGER NOT NULL REFERENCES code_system(id) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    display    TEXT,
    definition TEXT,
    inactive   INTEGER NOT NULL DEFAULT 0,
    abstract   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (cs_id, code)
);

CREATE TABLE designation (
    concept_id  INTEGER NOT NULL,
    language    TEXT,
    use_system  TEXT,
    use_code    TEXT,
    use_display TEXT,
    value       TEXT NOT NULL
);
CREATE INDEX designation_concept ON designation(concept_id);

CREATE TABLE concept_property (
    concept_id INTEGER NOT NULL,
    code       TEXT NOT NULL,
    type       TEXT NOT NULL,
    value      TEXT NOT NULL,
    system     TEXT,
    display    TEXT
);
CREATE INDEX concept_property_concept ON concept_property(concept_id);
CREATE INDEX concept_property_value ON concept_property(code, value);

CREATE TABLE parent_link (
    child  INTEGER NOT NULL,
    parent INTEGER NOT NULL,
    PRIMARY KEY (child, parent)
) WITHOUT ROWID;
CREATE INDEX parent_link_parent ON parent_link(parent, child);

CREATE TABLE closure (
    ancestor   INTEGER NOT NULL,
    descendant INTEGER NOT NULL,
    PRIMARY KEY (ancestor, descendant)
) WITHOUT ROWID;
CREATE INDEX closure_descendant ON closure(descendant, ancestor);

CREATE VIRTUAL TABLE concept_text USING fts5(
    term,
    concept_id UNINDEXED,
    tokenize = "unicode61 remove_diacritics 2"
);

CREATE TABLE value_set (
    id          INTEGER PRIMARY KEY,
    resource_id TEXT NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    version     TEXT NOT NULL DEFAULT '',
    name        TEXT,
    title       TEXT,
    status      TEXT,
    resource    TEXT NOT NULL,
    UNIQUE (url, version)
);

CREATE TABLE concept_map (
    id          INTEGER PRIMARY KEY,
    resource_id TEXT NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    version     TEXT NOT NULL DEFAULT '',
    name        TEXT,
    title       TEXT,
    status      TEXT,
    source      TEXT,
    target      TEXT,
    resource    TEXT NOT NULL,
    UNIQUE (url, version)
);

CREATE TABLE map_element (
    map_id         INTEGER NOT NULL REFERENCES concept_map(id) ON DELETE CASCADE,
    source_system  TEXT,
    source_version TEXT,
    source_code    TEXT NOT NULL,
    source_display TEXT,
    target_system  TEXT,
    target_version TEXT,
    target_code    TEXT,
    target_display TEXT,
    equivalence    TEXT NOT NULL,
    comment        TEXT,
    depends_on     TEXT,
    product        TEXT
);
CREATE INDEX map_element_source ON map_element(source_system, source_code);
CREATE INDEX map_element_target ON map_element(target_system, target_code);
CREATE INDEX map_element_map ON map_element(map_id);
"#,
    // 2: value sets keep their parsed definition (compose) for the expansion engine.
    r#"
ALTER TABLE value_set ADD COLUMN definition TEXT;
"#,
    // 3: what a concept map says to do with codes it does not map (group.unmapped).
    r#"
CREATE TABLE map_unmapped (
    map_id        INTEGER NOT NULL REFERENCES concept_map(id) ON DELETE CASCADE,
    source_system TEXT,
    target_system TEXT,
    mode          TEXT NOT NULL,
    code          TEXT,
    display       TEXT,
    url           TEXT
);
CREATE INDEX map_unmapped_map ON map_unmapped(map_id);
"#,
    // 4: code system dates, for expansions as of a date (`date`, `compose.lockedDate`).
    r#"
ALTER TABLE code_system ADD COLUMN date TEXT;
"#,
    // 5: what a reference to a code system should warn about (`experimental`, the
    // standards-status extension: deprecated, withdrawn, draft...).
    r#"
ALTER TABLE code_system ADD COLUMN experimental INTEGER;
ALTER TABLE code_system ADD COLUMN standards_status TEXT;
"#,
    // 6: extensions expansions repeat: on designations (all of them) and on concepts
    // (rendering), as JSON arrays.
    r#"
ALTER TABLE designation ADD COLUMN extensions TEXT;
ALTER TABLE concept ADD COLUMN extensions TEXT;
"#,
    // 7: code systems whose content needs a licence (SNOMED CT, licensed classifiers).
    r#"
ALTER TABLE code_system ADD COLUMN licensed INTEGER NOT NULL DEFAULT 0;
"#,
    // 8: the access register (institutions, client certificates, licences, admin
    // tokens) and the audit trail. Kept in the terminology file so one online backup
    // holds both, and one restore brings both back consistent.
    r#"
CREATE TABLE institution (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    registry_code  TEXT NOT NULL UNIQUE,
    address        TEXT,
    contact_person TEXT,
    phone          TEXT,
    email          TEXT,
    status         TEXT NOT NULL DEFAULT 'active',
    status_reason  TEXT,
    created        TEXT NOT NULL,
    updated        TEXT NOT NULL
);
CREATE TABLE client_certificate (
    id             INTEGER PRIMARY KEY,
    fingerprint    TEXT NOT NULL UNIQUE,
    subject        TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    serial         TEXT NOT NULL,
    not_before     TEXT NOT NULL,
    not_after      TEXT NOT NULL,
    key_bits       INTEGER NOT NULL,
    signature      TEXT NOT NULL,
    pem            TEXT NOT NULL,
    role           TEXT NOT NULL,
    institution_id INTEGER REFERENCES institution(id),
    user_name      TEXT,
    status         TEXT NOT NULL DEFAULT 'active',
    status_reason  TEXT,
    created        TEXT NOT NULL,
    updated        TEXT NOT NULL
);
CREATE TABLE licence (
    id              INTEGER PRIMARY KEY,
    licence_id      TEXT NOT NULL UNIQUE,
    licensee_name   TEXT,
    first_name      TEXT,
    last_name       TEXT,
    registry_code   TEXT,
    personal_code   TEXT,
    address         TEXT,
    issue_date      TEXT NOT NULL,
    revocation_date TEXT,
    contact_name    TEXT,
    phone           TEXT,
    email           TEXT,
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL
);
CREATE TABLE licence_scope (
    licence_id INTEGER NOT NULL REFERENCES licence(id),
    system     TEXT NOT NULL,
    edition    TEXT,
    label      TEXT
);
CREATE INDEX licence_scope_licence ON licence_scope(licence_id);
CREATE TABLE licence_institution (
    licence_id     INTEGER NOT NULL REFERENCES licence(id),
    institution_id INTEGER NOT NULL REFERENCES institution(id),
    PRIMARY KEY (licence_id, institution_id)
);
CREATE TABLE admin_token (
    id        INTEGER PRIMARY KEY,
    user_name TEXT NOT NULL,
    role      TEXT NOT NULL,
    sha256    TEXT NOT NULL UNIQUE,
    created   TEXT NOT NULL,
    revoked   TEXT
);
CREATE TABLE audit_event (
    id             INTEGER PRIMARY KEY,
    time           TEXT NOT NULL,
    request_id     TEXT,
    institution_id INTEGER,
    fingerprint    TEXT,
    user_name      TEXT,
    role           TEXT,
    client         TEXT,
    operation      TEXT NOT NULL,
    target         TEXT,
    outcome        TEXT NOT NULL,
    status         INTEGER,
    detail         TEXT,
    before         TEXT,
    after          TEXT
);
CREATE INDEX audit_event_time ON audit_event(time);
CREATE INDEX audit_event_institution ON audit_event(institution_id, time);
"#,
    // 9: the audit trail keeps one secondary index (time): per-institution queries and the
    // usage report filter by time first, and every index is paid on each audited request.
    r#"
DROP INDEX IF EXISTS audit_event_institution;
"#,
    // 10: SNOMED CT beyond the generic graph, for $lookup and ECL: each concept's module,
    // effective time and definition status, attribute relationships in role groups,
    // concrete values, reference set members (language reference sets excepted) and
    // descriptions with their dialect acceptability. Concepts are concept.id values.
    // (Kept out of concept_property: at 370,000 concepts its two indexes made the import
    // twice as slow.)
    r#"
CREATE TABLE sct_relationship (
    source      INTEGER NOT NULL,
    type        INTEGER NOT NULL,
    destination INTEGER NOT NULL,
    grp         INTEGER NOT NULL
);
CREATE INDEX sct_relationship_source ON sct_relationship(source);
CREATE INDEX sct_relationship_type ON sct_relationship(type, destination);
CREATE TABLE sct_concrete (
    source INTEGER NOT NULL,
    type   INTEGER NOT NULL,
    value  TEXT NOT NULL,
    grp    INTEGER NOT NULL
);
CREATE INDEX sct_concrete_source ON sct_concrete(source);
CREATE INDEX sct_concrete_type ON sct_concrete(type);
CREATE TABLE sct_member (
    cs_id      INTEGER NOT NULL,
    refset     INTEGER NOT NULL,
    referenced INTEGER,
    component  TEXT NOT NULL,
    fields     TEXT
);
CREATE INDEX sct_member_refset ON sct_member(refset, referenced);
CREATE INDEX sct_member_referenced ON sct_member(referenced);
CREATE INDEX sct_member_cs ON sct_member(cs_id);
CREATE TABLE sct_description (
    concept        INTEGER NOT NULL,
    id             TEXT NOT NULL,
    term           TEXT NOT NULL,
    language       TEXT NOT NULL,
    type_id        TEXT NOT NULL,
    active         INTEGER NOT NULL,
    module         TEXT NOT NULL,
    effective_time TEXT NOT NULL,
    acceptability  TEXT NOT NULL
);
CREATE INDEX sct_description_concept ON sct_description(concept);
-- What RF2 says of each concept beyond the generic columns (for $lookup and ECL).
CREATE TABLE sct_concept (
    concept        INTEGER PRIMARY KEY,
    module         TEXT NOT NULL,
    effective_time TEXT NOT NULL,
    defined        INTEGER NOT NULL
);
-- ECL keeps inactive concepts out of its answers: this finds them without a scan.
CREATE INDEX concept_inactive ON concept(cs_id, id) WHERE inactive = 1;
"#,
    // 11: the closure as one row of id sets per concept instead of one row per pair (see
    // store::closure); the pairs are converted by the code step, which drops `closure`.
    r#"
CREATE TABLE concept_closure (
    concept     INTEGER PRIMARY KEY,
    ancestors   BLOB,
    descendants BLOB
);
"#,
];

/// What a migration needs beyond its SQL, run in the same transaction right after it:
/// the code step of migration `index` (0-based), if it has one.
pub fn code_step(index: usize) -> Option<fn(&rusqlite::Connection) -> rusqlite::Result<()>> {
    match index {
        10 => Some(super::closure::convert_pair_table),
        _ => None,
    }
}
