//! Unit tests of the FSH compiler: each construct on a small input and the JSON it gives, hostile
//! input, and snapshots of the compiled JSON of corpus files.

use serde_json::json;

use super::*;

fn one(src: &str) -> Value {
    let f = compile(src.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    f.instances[0].resource.clone()
}

fn gaps(src: &str) -> Vec<Unresolved> {
    compile(src.as_bytes()).expect("compiles").instances[0]
        .unresolved
        .clone()
}

#[test]
fn header_comments_and_primitives() {
    let v = one(
        "// a comment\nAlias: $sys = http://example.org/cs\n/* block\ncomment */\nInstance: p1\nInstanceOf: Patient\nTitle: \"T\"\nDescription: \"\"\"\n  multi\n  line\n\"\"\"\nUsage: #example\n* active = true // trailing\n* birthDate = 1970-01-02\n* name[0].family = \"Doe \\\"J\\\"\"\n* multipleBirthInteger = 2\n",
    );
    assert_eq!(
        v,
        json!({"resourceType": "Patient", "id": "p1", "active": true, "birthDate": "1970-01-02",
               "name": [{"family": "Doe \"J\""}], "multipleBirthInteger": 2})
    );
}

#[test]
fn multiline_strings_lose_blank_edges_and_common_indent() {
    assert_eq!(multiline("\n    a\n      b\n  "), "a\n  b");
}

#[test]
fn soft_indexes_and_arrays() {
    let v = one("Instance: p\nInstanceOf: Patient\n* name[+].family = \"A\"\n* name[=].given[+] = \"a1\"\n* name[=].given[+] = \"a2\"\n* name[+].family = \"B\"\n* telecom.value = \"x\"\n");
    assert_eq!(
        v["name"],
        json!([{"family": "A", "given": ["a1", "a2"]}, {"family": "B"}])
    );
    assert_eq!(v["telecom"], json!([{"value": "x"}]));
}

#[test]
fn indented_rules_are_relative_to_the_rule_above() {
    let v = one("Instance: d\nInstanceOf: DocumentReference\n* content[+]\n  * attachment\n    * url = \"u\"\n  * format = #f\n* status = #current\n");
    assert_eq!(
        v["content"],
        json!([{"attachment": {"url": "u"}, "format": {"code": "f"}}])
    );
    assert_eq!(v["status"], "current");
}

#[test]
fn codes_codings_concepts_and_quantities() {
    let v = one("Alias: $l = http://loinc.org\nInstance: o\nInstanceOf: Observation\n* status = #final\n* code = $l#1234-5 \"Thing\"\n* category.coding[0] = http://x.org#c\n* valueQuantity = 5.5 'mg' \"milligram\"\n");
    assert_eq!(v["status"], "final");
    assert_eq!(
        v["code"],
        json!({"coding": [{"system": "http://loinc.org", "code": "1234-5", "display": "Thing"}]})
    );
    assert_eq!(
        v["category"],
        json!([{"coding": [{"system": "http://x.org", "code": "c"}]}])
    );
    assert_eq!(
        v["valueQuantity"],
        json!({"value": 5.5, "unit": "milligram", "system": "http://unitsofmeasure.org", "code": "mg"})
    );
}

#[test]
fn references_canonicals_and_inline_instances() {
    let src = "Instance: b\nInstanceOf: Bundle\nUsage: #example\n* type = #collection\n* entry[0].resource = p\n* entry[1].resource = d\nInstance: p\nInstanceOf: Patient\nUsage: #inline\n* active = true\nInstance: d\nInstanceOf: DocumentReference\nUsage: #inline\n* subject = Reference(p)\n* author = Reference (c) \"Dr C\"\n* contained[0] = c\n* content.attachment.url = \"Binary/1\"\nInstance: c\nInstanceOf: Practitioner\nUsage: #inline\n";
    let f = compile(src.as_bytes()).expect("compiles");
    assert_eq!(f.judged().count(), 1);
    let b = &f.instances[0].resource;
    assert_eq!(
        b["entry"][0]["resource"],
        json!({"resourceType": "Patient", "id": "p", "active": true})
    );
    let d = &b["entry"][1]["resource"];
    assert_eq!(d["subject"], json!({"reference": "Patient/p"}));
    // Contained: `#id` (FSH §3.6.5.6).
    assert_eq!(d["author"], json!([{"reference": "#c", "display": "Dr C"}]));
    assert_eq!(
        d["contained"],
        json!([{"resourceType": "Practitioner", "id": "c"}])
    );
    let v = one("Instance: d\nInstanceOf: DocumentReference\n* extension[0].url = \"u\"\n* extension[0].valueCanonical = Canonical(BundleReportEuImaging)\n");
    assert_eq!(
        v["extension"][0]["valueCanonical"],
        "http://hl7.eu/fhir/imaging/StructureDefinition/BundleReportEuImaging"
    );
}

#[test]
fn named_slices_are_their_own_elements() {
    let v = one("Instance: b\nInstanceOf: IHE.MHD.Minimal.ProvideBundle\n* entry[A].fullUrl = \"a\"\n* entry[B].fullUrl = \"b\"\n* entry[A].request.method = #POST\n* entry[C][+].fullUrl = \"c0\"\n* entry[C][+].fullUrl = \"c1\"\n* entry[+].fullUrl = \"d\"\n");
    assert_eq!(
        v["entry"],
        json!([{"fullUrl": "a", "request": {"method": "POST"}}, {"fullUrl": "b"}, {"fullUrl": "c0"}, {"fullUrl": "c1"}, {"fullUrl": "d"}])
    );
    assert_eq!(
        v["meta"]["profile"][0],
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle"
    );
}

#[test]
fn extension_slices_get_known_urls_or_are_recorded() {
    let src = "Instance: l\nInstanceOf: IHE.MHD.Minimal.SubmissionSet\n* extension[sourceId].valueIdentifier.value = \"urn:oid:1.2\"\n* extension[mystery].valueString = \"x\"\n";
    let v = one(src);
    assert_eq!(
        v["extension"][0],
        json!({"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId", "valueIdentifier": {"value": "urn:oid:1.2"}})
    );
    assert_eq!(v["extension"][1], json!({"valueString": "x"}));
    let g = gaps(src);
    assert!(
        g.iter()
            .any(|u| u.kind == Gap::ExtensionUrl && u.note.contains("mystery")),
        "{g:?}"
    );
}

#[test]
fn primitive_children_go_to_the_underscore_sibling() {
    let v = one("Instance: e\nInstanceOf: Endpoint\n* address = \"http://x\"\n* address.extension.url = \"http://dar\"\n* address.extension.valueCode = #unknown\n");
    assert_eq!(v["address"], "http://x");
    assert_eq!(
        v["_address"],
        json!({"extension": [{"url": "http://dar", "valueCode": "unknown"}]})
    );
}

#[test]
fn rulesets_with_and_without_parameters() {
    let v = one("RuleSet: Named(fam, giv)\n* name[+].family = \"{fam}\"\n* name[=].given = \"{giv}\"\nRuleSet: Act\n* active = true\nInstance: p\nInstanceOf: Patient\n* insert Named(Doe, Jo)\n* insert Act\n");
    assert_eq!(v["name"], json!([{"family": "Doe", "given": ["Jo"]}]));
    assert_eq!(v["active"], true);
    let g = gaps("Instance: p\nInstanceOf: Patient\n* insert Elsewhere\n");
    assert!(g
        .iter()
        .any(|u| u.kind == Gap::Undefined && u.note.contains("Elsewhere")));
}

#[test]
fn profiles_of_the_file_give_the_base_type_and_profiling_rules_are_ignored() {
    let src = "Profile: MyPatient\nParent: Patient\n* name 1..1\nInstance: p\nInstanceOf: MyPatient\n* name contains x 0..1\n* ^extension[0].url = \"u\"\n* active = false\n";
    let f = compile(src.as_bytes()).expect("compiles");
    assert_eq!(
        f.instances[0].resource,
        json!({"resourceType": "Patient", "id": "p", "active": false})
    );
    assert!(
        f.instances[0]
            .unresolved
            .iter()
            .filter(|u| u.kind == Gap::Ignored)
            .count()
            == 2
    );
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let cases = [
        ("Instance: p\nInstanceOf: Patient\n* name.family = \"open", "unterminated string"),
        ("Instance: p\nInstanceOf: Patient\n* text.div = \"\"\"open", "unterminated \"\"\" string"),
        ("Instance: p\nInstanceOf: Patient\n* name[99999999].family = \"x\"", "larger than"),
        ("Instance: p\nInstanceOf: Patient\n* name[+.family = \"x\"", "unclosed"),
        ("Instance: a\nInstanceOf: Bundle\n* entry[0].resource = b\nInstance: b\nInstanceOf: Bundle\n* entry[0].resource = a", "cycle"),
        ("Instance: p\nInstanceOf: Unknown\n", "neither a FHIR resource type"),
        ("RuleSet: R\n* insert R\nInstance: p\nInstanceOf: Patient\n* insert R", "nested deeper"),
        ("Instance: p\nInstanceOf: Patient\n* active = ", "without a value"),
        ("no entity here", "unexpected"),
        ("", "no Instance"),
    ];
    for (src, want) in cases {
        let e = compile(src.as_bytes()).expect_err(src).to_string();
        assert!(e.contains(want), "{src}: {e}");
    }
    let deep = format!(
        "Instance: p\nInstanceOf: Patient\n* {} = \"x\"",
        vec!["a"; 100].join(".")
    );
    assert!(compile(deep.as_bytes()).is_err());
    // Instances that inline each other twice per level: bounded by MAX_NODES, not memory.
    let mut src = String::from("Instance: i0\nInstanceOf: Patient\n* active = true\n");
    for k in 1..40 {
        src.push_str(&format!(
            "Instance: i{k}\nInstanceOf: Bundle\n* entry[0].resource = i{p}\n* entry[1].resource = i{p}\n",
            p = k - 1
        ));
    }
    assert!(compile(src.as_bytes()).is_err());
    assert_eq!(compile(&[0xff, 0xfe]).unwrap_err(), FshError::NotUtf8);
}

fn corpus(file: &str) -> FshFile {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus")
        .join(file);
    compile(&std::fs::read(p).expect(file)).expect(file)
}

#[test]
fn every_corpus_fsh_file_compiles() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    let mut n = 0;
    for sub in ["mhd", "mado", "report"] {
        for e in std::fs::read_dir(dir.join(sub)).expect("dir").flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) == Some("fsh") {
                let f = compile(&std::fs::read(&p).expect("read"))
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert!(f.judged().count() > 0, "{}", p.display());
                n += 1;
            }
        }
    }
    assert_eq!(n, 19);
}

#[test]
fn snapshot_minimal_provide_bundle() {
    let f = corpus("mhd/mhd-ex-ProvideBundles1.fsh");
    let b = f
        .instances
        .iter()
        .find(|i| i.name == "ex-minimalProvideDocumentBundleSimple")
        .expect("instance");
    insta::assert_json_snapshot!("fsh_minimal_provide_bundle", b.resource);
}

#[test]
fn snapshot_mado_kos_document_reference() {
    let f = corpus("mado/mado-example-one-content-documentreference-kos.fsh");
    insta::assert_json_snapshot!("fsh_mado_kos_docref", f.instances[0].resource);
    let notes: Vec<String> = f.instances[0]
        .unresolved
        .iter()
        .map(|u| format!("{:?} {}: {}", u.kind, u.path, u.note))
        .collect();
    insta::assert_json_snapshot!("fsh_mado_kos_docref_unresolved", notes);
}

#[test]
fn every_prefix_of_a_corpus_file_compiles_or_errs_without_panic() {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus/report/hl7eu-structured-composition.fsh");
    let mut bytes = std::fs::read(p).expect("corpus");
    bytes.extend_from_slice("\n* text.div = \"é\\é\\\"".as_bytes());
    for n in (0..bytes.len()).step_by(5) {
        let _ = compile(&bytes[..n]);
    }
    assert_eq!(
        one("Instance: p\nInstanceOf: Patient\n* name.family = \"a\\éb\\\\c\"\n")["name"][0]
            ["family"],
        "aéb\\c"
    );
}

#[test]
fn an_extension_slice_named_by_an_alias_takes_its_url() {
    let v = one("Alias: $x = http://e.org/x\nInstance: p\nInstanceOf: Patient\n* extension[$x].valueString = \"a\"\n");
    assert_eq!(
        v["extension"],
        json!([{"url": "http://e.org/x", "valueString": "a"}])
    );
}
