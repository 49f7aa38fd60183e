//! The catalogue: an in-memory index of what is loaded (code system versions, value set
//! and concept map headers), rebuilt whenever the store's generation changes, and the one
//! place where versions are resolved.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{CanonicalHeader, CodeSystemMeta};
use crate::store::ReadTxn;

use super::error::{CoreError, CoreResult};

/// A snapshot of what the store holds, valid for one store generation.
#[derive(Debug, Default)]
pub struct Catalog {
    pub generation: i64,
    /// Every code system version, ordered by url, then newest version first.
    pub code_systems: Vec<Arc<CodeSystemMeta>>,
    by_url: HashMap<String, Vec<usize>>,
    by_resource_id: HashMap<String, usize>,
    /// Value set headers with their store ids.
    pub value_sets: Vec<(i64, CanonicalHeader)>,
    /// Concept map headers with their store ids.
    pub concept_maps: Vec<(i64, CanonicalHeader)>,
    /// Code systems whose content needs a licence (flagged at import, and SNOMED CT
    /// always), with the resource ids they are addressed by: what the access policy
    /// looks for in requests and answers.
    pub licensed: Arc<Vec<LicensedSystem>>,
}

/// A code system whose content needs a licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicensedSystem {
    pub url: String,
    /// Logical ids of its CodeSystem resources (for `/CodeSystem/{id}` paths).
    pub resource_ids: Vec<String>,
}

/// SNOMED CT's canonical URL: its content is always licensed.
pub const SNOMED_CT: &str = "http://snomed.info/sct";

fn licensed_systems(systems: &[CodeSystemMeta]) -> Vec<LicensedSystem> {
    let mut out: Vec<LicensedSystem> = Vec::new();
    for cs in systems {
        if !(cs.licensed || cs.url == SNOMED_CT) {
            continue;
        }
        match out.iter_mut().find(|l| l.url == cs.url) {
            Some(l) => l.resource_ids.push(cs.resource_id.clone()),
            None => out.push(LicensedSystem {
                url: cs.url.clone(),
                resource_ids: vec![cs.resource_id.clone()],
            }),
        }
    }
    out
}

impl Catalog {
    /// A catalogue that matches no store generation, so the first snapshot reloads it.
    pub fn stale() -> Catalog {
        Catalog {
            generation: -1,
            ..Catalog::default()
        }
    }

    /// Builds the catalogue from a read snapshot.
    pub fn load(txn: &ReadTxn) -> CoreResult<Catalog> {
        let generation = txn.generation()?;
        let mut systems = txn.code_systems()?;
        let default_edition = txn
            .default_snomed_edition()?
            .unwrap_or(crate::model::snomed::CORE_MODULE);
        systems.sort_by(|a, b| {
            a.url.cmp(&b.url).then_with(|| {
                if a.url == crate::model::snomed::SNOMED {
                    snomed_order(&b.version, default_edition)
                        .cmp(&snomed_order(&a.version, default_edition))
                } else {
                    compare_versions(&b.version, &a.version)
                }
            })
        });
        let mut by_url: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_resource_id = HashMap::new();
        for (i, cs) in systems.iter().enumerate() {
            by_url.entry(cs.url.clone()).or_default().push(i);
            by_resource_id.insert(cs.resource_id.clone(), i);
        }
        let licensed = Arc::new(licensed_systems(&systems));
        Ok(Catalog {
            generation,
            licensed,
            code_systems: systems.into_iter().map(Arc::new).collect(),
            by_url,
            by_resource_id,
            value_sets: txn.value_set_headers()?,
            concept_maps: txn.concept_map_headers()?,
        })
    }

    /// Every loaded version of a code system, newest first.
    pub fn versions(&self, url: &str) -> Vec<&Arc<CodeSystemMeta>> {
        self.by_url
            .get(url)
            .map(|ix| ix.iter().map(|&i| &self.code_systems[i]).collect())
            .unwrap_or_default()
    }

    /// The stored value set with this logical id.
    pub fn value_set_by_id(&self, id: &str) -> Option<&CanonicalHeader> {
        self.value_sets
            .iter()
            .map(|(_, h)| h)
            .find(|h| h.resource_id == id)
    }

    /// The stored concept map with this logical id.
    pub fn concept_map_by_id(&self, id: &str) -> Option<&CanonicalHeader> {
        self.concept_maps
            .iter()
            .map(|(_, h)| h)
            .find(|h| h.resource_id == id)
    }

    /// The code system with this logical id.
    pub fn by_resource_id(&self, id: &str) -> Option<&Arc<CodeSystemMeta>> {
        self.by_resource_id.get(id).map(|&i| &self.code_systems[i])
    }

    /// Resolves `url` (which may carry `|version`) and an optional explicit version to one
    /// loaded code system version: the explicit one if given, else the newest.
    pub fn resolve(
        &self,
        url: &str,
        version: Option<&str>,
    ) -> Result<Arc<CodeSystemMeta>, Unresolved> {
        let (url, pipe_version) = split_canonical(url);
        let version = version.filter(|v| !v.is_empty()).or(pipe_version);
        let versions = self.versions(url);
        if versions.is_empty() {
            return Err(Unresolved::UnknownSystem);
        }
        match version {
            None => Ok(versions[0].clone()),
            Some(v) => versions
                .iter()
                .find(|cs| cs.version == v)
                .or_else(|| versions.iter().find(|cs| version_matches(&cs.version, v)))
                .map(|cs| (*cs).clone())
                .ok_or_else(|| Unresolved::UnknownVersion {
                    known: versions.iter().map(|cs| cs.version.clone()).collect(),
                }),
        }
    }
}

/// Why a code system reference could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    UnknownSystem,
    UnknownVersion { known: Vec<String> },
}

impl Unresolved {
    /// The error for an operation that needs the code system to go on.
    pub fn into_error(self, url: &str, version: Option<&str>) -> CoreError {
        match self {
            Unresolved::UnknownSystem => CoreError::not_found(format!(
                "A definition for CodeSystem '{url}' could not be found"
            )),
            Unresolved::UnknownVersion { known } => CoreError::not_found(format!(
                "A definition for CodeSystem '{url}' version '{}' could not be found. Valid versions: {}",
                version.unwrap_or_default(),
                known.join(", ")
            )),
        }
    }
}

/// How SNOMED CT versions rank, best first when sorted descending: the default edition's
/// versions above the others, then newer dates, then the edition module.
fn snomed_order(version: &str, default_edition: u64) -> (bool, String, String) {
    match snomed_version(version) {
        Some((module, date)) => (
            module == default_edition.to_string(),
            date.to_string(),
            module.to_string(),
        ),
        None => (false, String::new(), version.to_string()),
    }
}

/// `http://snomed.info/sct/{module}/version/{date}` → (module, date); a bare
/// `http://snomed.info/sct/{module}` gives an empty date.
pub fn snomed_version(version: &str) -> Option<(&str, &str)> {
    let rest = version.strip_prefix("http://snomed.info/sct/")?;
    let (module, date) = match rest.split_once("/version/") {
        Some((module, date)) => (module, date),
        None => (rest.trim_end_matches('/'), ""),
    };
    module
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then_some((module, date))
}

/// Splits `url|version`.
pub fn split_canonical(canonical: &str) -> (&str, Option<&str>) {
    match canonical.split_once('|') {
        Some((url, version)) => (url, Some(version).filter(|v| !v.is_empty())),
        None => (canonical, None),
    }
}

/// Whether a stored version satisfies a requested one: equal, or a wildcard / partial
/// version (`1.x`, `1.2`) matching its leading components.
/// Whether a stored version satisfies a requested one: equal, or a prefix with `.x`/`.*`
/// wildcards (`1.0.x` matches `1.0.0`).
pub fn version_matches(stored: &str, requested: &str) -> bool {
    if stored == requested {
        return true;
    }
    // A SNOMED CT edition without a date means its newest version.
    if let (Some((module, "")), Some((have, _))) =
        (snomed_version(requested), snomed_version(stored))
    {
        return module == have;
    }
    let wanted: Vec<&str> = requested.split('.').collect();
    if !wanted.iter().any(|p| *p == "x" || *p == "*") {
        return false;
    }
    let have: Vec<&str> = stored.split('.').collect();
    let last_wild = wanted.last().is_some_and(|p| *p == "x" || *p == "*");
    if have.len() < wanted.len() || (have.len() > wanted.len() && !last_wild) {
        return false;
    }
    wanted
        .iter()
        .zip(&have)
        .all(|(w, h)| *w == "x" || *w == "*" || w == h)
}

/// Orders versions the way people read them: numerically by dot-separated component when
/// both are numeric, lexically otherwise; "no version" sorts lowest.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let mut left = a.split(['.', '-']);
    let mut right = b.split(['.', '-']);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                };
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::compare_versions;
    use std::cmp::Ordering;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(compare_versions("", "0.1"), Ordering::Less);
        assert_eq!(compare_versions("2.0", "2.0"), Ordering::Equal);
    }
}
