@profile:MHD @txn:ITI-67 @actor:DocumentResponder
Feature: Find imaging reports and study manifests of a patient (MHD ITI-67)
  A clinician abroad, or a consumer at home, first asks which imaging documents exist for the
  patient: reports and study manifests, narrowed by modality, body region, period, Study Instance
  UID or accession number. The Document Responder answers a searchset Bundle with exactly the
  DocumentReferences that match. The harness knows what the SUT holds (the documents of the test
  studies), so it judges both sides: every match is returned and nothing else is.
  Trace: eHN guideline UC3 and UC5; MADO UC#1-2 (search metadata, MADO-SUP App. A); ITI TF-2
  §3.67; scenario catalogue Feature 1 (F1.1-F1.6).

  Background:
    Given the MHD responder holds the documents of the test studies

  @uc:UC3 @uc:UC5 @req:FHIR-01 @req:MHD-14 @req:MHD-18 @req:MHD-16 @req:MHD-17 @req:MHD-13
  Scenario: Find the manifests and reports of a known patient by patient identifier
    When the consumer finds the documents of the patient of study "CT-CHEST"
    Then the result is a searchset holding exactly the matching documents
    And the manifest DocumentReferences follow the MADO envelope

  @uc:UC3
  Scenario: Find the documents of a patient by a Patient reference resolved first
    When the consumer finds the documents of the patient of study "MR-BRAIN" by patient reference
    Then the result is a searchset holding exactly the matching documents

  @uc:UC3 @neg @req:MHD-14
  Scenario: An unknown patient gives an empty searchset, not an error
    When the consumer finds the documents of an unknown patient
    Then the result is an empty searchset

  @uc:UC3 @mado:search
  Scenario: Filter the manifests by modality
    When the consumer finds the documents of the patient of study "CT-CHEST" with "modality=MR"
    Then the result is a searchset holding exactly the matching documents

  @uc:UC3 @mado:search
  Scenario: Filter the manifests by anatomical region from CID IHE-MADO1
    When the consumer finds the documents of the patient of study "CT-CHEST" with "anatomical-region=http://snomed.info/sct|67734004"
    Then the result is a searchset holding exactly the matching documents

  @uc:UC3 @mado:search
  Scenario: Filter by a period that overlaps the study date
    When the consumer finds the documents of the patient of study "MR-BRAIN" with "period=ge2026-01-20&period=le2026-01-31"
    Then the result is a searchset holding exactly the matching documents

  @uc:UC5
  Scenario: Filter by document type: imaging reports only
    When the consumer finds the documents of the patient of study "DX-CHEST" with "type=http://loinc.org|85430-7"
    Then the result is a searchset holding exactly the matching documents

  @uc:UC5
  Scenario: Filter by document category: the eEHRxF Medical-Imaging priority category
    When the consumer finds the documents of the patient of study "DX-CHEST" with "category=http://hl7.eu/fhir/eu-health-data-api/CodeSystem/eehrxf-document-priority-category-cs|Medical-Imaging"
    Then the result is a searchset holding exactly the matching documents

  @uc:UC3
  Scenario: Filter by document date: the later of a patient's two studies
    When the consumer finds the documents of the patient of study "CT-CHEST" with "date=ge2026-01-20"
    Then the result is a searchset holding exactly the matching documents

  @uc:UC3 @mado:search
  Scenario: Find the manifests and report of one study by its Study Instance UID
    When the consumer finds the documents of study "MR-BRAIN" by Study Instance UID
    Then the result is a searchset holding exactly the matching documents

  @uc:UC3 @mado:both @req:MADO-C4
  Scenario: The DocumentReferences of a study's KOS and FHIR manifests point to each other
    When the consumer finds the documents of study "MR-BRAIN" by Study Instance UID
    Then the KOS and FHIR manifest DocumentReferences of study "MR-BRAIN" point to each other
    And the manifest DocumentReferences follow the MADO envelope

  @uc:UC3 @mado:both @req:MADO-C5 @req:MADO-C6
  Scenario: The manifest DocumentReferences carry their identifiers and the EHDS imaging category
    When the consumer finds the documents of study "CT-CHEST" by Study Instance UID
    Then the manifest DocumentReferences of study "CT-CHEST" list their masterIdentifier among their identifiers
    And the manifest DocumentReferences of study "CT-CHEST" carry the Medical-Imaging category

  @uc:UC3 @mado:search
  Scenario: Find the documents of one study by its accession number
    When the consumer finds the documents of study "US-ABDOMEN" by accession number
    Then the result is a searchset holding exactly the matching documents

  @uc:UC3 @req:MHD-13
  Scenario: The responder answers a POST _search as it answers a GET
    When the consumer finds the documents of the patient of study "CT-CHEST" with POST _search
    Then the result is a searchset holding exactly the matching documents

  @uc:UC3 @fhir:xml @req:MHD-13 @req:FHIR-02
  Scenario: The responder answers in FHIR XML when asked
    When the consumer finds the documents of the patient of study "CT-CHEST" in FHIR XML
    Then the result is a searchset holding exactly the matching documents
