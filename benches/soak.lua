-- Mixed read load for benches/soak.sh: lookups, validations, expansions (paged and
-- filtered; SNOMED CT ECL among them), translations and the service endpoints, over many distinct questions so
-- the response cache fills and evicts as it would in service, and admin reads (audit
-- queries, usage reports) with the token given after `--`. Every request is valid.
local act = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
local codes = { "AMB", "EMER", "FLD", "HH", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR" }
local sct = { "73211009", "44054006", "127013003", "84114007", "233604007", "22298006", "80146002" }
local words = { "ambul", "emerg", "field", "home", "inpat", "acute", "obser", "short", "virtual" }
local i = 0
local token = nil
init = function(args)
  token = args[1]
end
request = function()
  i = i + 1
  local code = codes[(i % #codes) + 1]
  local n = i % 10
  local path
  if n == 0 then
    path = "/fhir/CodeSystem/$lookup?system=" .. act .. "&code=" .. code
  elseif n == 1 then
    path = "/fhir/CodeSystem/$validate-code?url=" .. act .. "&code=" .. code .. "&display=x" .. (i % 997)
  elseif n == 2 then
    path = "/fhir/ValueSet/$validate-code?url=http://terminology.hl7.org/ValueSet/v3-ActEncounterCode&system=" .. act .. "&code=" .. code
  elseif n == 3 then
    path = "/fhir/ValueSet/$expand?url=http://terminology.hl7.org/ValueSet/v3-ActCode&count=10&offset=" .. ((i * 7) % 1290)
  elseif n == 4 then
    path = "/fhir/ValueSet/$expand?url=http://terminology.hl7.org/ValueSet/v3-ActCode&count=10&filter=" .. words[(i % #words) + 1]
  elseif n == 5 then
    path = "/fhir/ConceptMap/$translate?url=http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v3&system=http://hl7.org/fhir/administrative-gender&code=" .. ((i % 2 == 0) and "male" or "female")
  elseif n == 6 then
    path = "/fhir/CodeSystem/$subsumes?system=" .. act .. "&codeA=_ActEncounterCode&codeB=" .. code
  elseif n == 7 then
    path = "/fhir/CodeSystem/$lookup?system=http://loinc.org&code=26636-1&displayLanguage=" .. ((i % 2 == 0) and "lt" or "de")
  elseif n == 8 then
    -- Searches and SNOMED CT (the small synthetic release) take turns.
    local turn = math.floor(i / 10) % 3
    if turn == 0 then
      path = "/fhir/CodeSystem?name=act&_summary=true&_count=" .. ((i % 20) + 1)
    elseif turn == 1 then
      path = "/fhir/CodeSystem/$lookup?system=http://snomed.info/sct&code=" .. sct[(i % #sct) + 1] .. "&displayLanguage=" .. ((i % 2 == 0) and "en-GB" or "lt")
    else
      -- << 404684003 : 363698007 = *  (findings with a finding site), paged
      path = "/fhir/ValueSet/$expand?url=http%3A%2F%2Fsnomed.info%2Fsct%3Ffhir_vs%3Decl%2F%3C%3C%20404684003%20%3A%20363698007%20%3D%20%2A&count=10&offset=" .. ((i * 3) % 500)
    end
  else
    -- i ends in 9 here. Admin reads come at the rate staff would make them, one in a
    -- hundred requests (an audit query) and one in a thousand (a usage report); the
    -- service endpoints take the other turns.
    local service = { "/readyz", "/metrics", "/fhir/metadata" }
    path = service[(math.floor(i / 10) % #service) + 1]
    if token and token ~= "" and i % 1000 == 999 then
      path = "/admin/reports/usage"
    elseif token and token ~= "" and i % 100 == 49 then
      path = "/admin/audit?limit=20"
    end
    if path:sub(1, 7) == "/admin/" then
      return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
    end
  end
  return wrk.format("GET", path)
end
