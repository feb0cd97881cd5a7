//! WADO-RS Retrieve (RAD-107): studies, series, instances, frames, metadata, bulk data and rendered
//! images, judged against the fixture instances, and the manifests retrieved over WADO-RS (the KOS
//! retrieved as an instance, judged, and its references retrieved from the same source).

use super::*;

// ---------------------------------------------------------------------------------------------
// WADO-RS RAD-107

#[when(expr = "the consumer retrieves study {string}")]
async fn retrieve_study(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_study_accepting(world, alias, wado_rs::accept_dicom(None)).await
}

#[when(expr = "the consumer retrieves study {string} in transfer syntax {string}")]
async fn retrieve_study_ts(world: &mut HarnessWorld, alias: String, ts: String) -> StepResult {
    retrieve_study_accepting(world, alias, wado_rs::accept_dicom(Some(&ts))).await
}

#[when(expr = "the consumer retrieves study {string} accepting {string}")]
async fn retrieve_study_accepting(
    world: &mut HarnessWorld,
    alias: String,
    accept: String,
) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    let target = study_target(first);
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Instances,
        Some(accept),
        Some(sops(&insts)),
    )
    .await
}

#[when(expr = "the consumer retrieves series {int} of study {string}")]
async fn retrieve_series(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    retrieve_series_ts_opt(world, series, alias, None).await
}

#[when(expr = "the consumer retrieves series {int} of study {string} in transfer syntax {string}")]
async fn retrieve_series_ts(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    ts: String,
) -> StepResult {
    retrieve_series_ts_opt(world, series, alias, Some(ts)).await
}

async fn retrieve_series_ts_opt(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    ts: Option<String>,
) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    let first = &insts[0];
    let target = series_target(first);
    let accept = wado_rs::accept_dicom(ts.as_deref());
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Instances,
        Some(accept),
        Some(sops(&insts)),
    )
    .await
}

#[when(expr = "the consumer retrieves instance {int} of series {int} of study {string}")]
async fn retrieve_instance(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
) -> StepResult {
    retrieve_instance_ts_opt(world, n, series, alias, None).await
}

#[when(
    expr = "the consumer retrieves instance {int} of series {int} of study {string} in transfer syntax {string}"
)]
async fn retrieve_instance_ts(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    ts: String,
) -> StepResult {
    retrieve_instance_ts_opt(world, n, series, alias, Some(ts)).await
}

pub(super) async fn retrieve_instance_ts_opt(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    ts: Option<String>,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let target = instance_target(&inst);
    let accept = wado_rs::accept_dicom(ts.as_deref());
    let expected = BTreeSet::from([inst.sop_uid.clone()]);
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Instances,
        Some(accept),
        Some(expected),
    )
    .await
}

#[when("the consumer retrieves an unknown study")]
async fn retrieve_unknown_study(world: &mut HarnessWorld) -> StepResult {
    retrieve_unheld(world, unknown_study()).await
}

#[when("the consumer retrieves the metadata of an unknown study")]
async fn retrieve_unknown_study_metadata(world: &mut HarnessWorld) -> StepResult {
    retrieve_metadata(world, unknown_study(), None).await
}

#[when(expr = "the consumer retrieves an unknown series of study {string}")]
async fn retrieve_unknown_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let target = Target {
        study: insts[0].study_uid.clone(),
        series: Some(UNKNOWN_SERIES.into()),
        instance: None,
    };
    retrieve_unheld(world, target).await
}

#[when(
    expr = "the consumer retrieves instance {int} of series {int} of study {string} under series {int}"
)]
async fn retrieve_wrong_hierarchy(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    wrong_series: i64,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let other = series_instances(world, &alias, wrong_series)?;
    let target = Target {
        study: inst.study_uid.clone(),
        series: Some(other[0].series_uid.clone()),
        instance: Some(inst.sop_uid.clone()),
    };
    retrieve_unheld(world, target).await
}

#[when(
    expr = "the consumer retrieves instance {int} of series {int} of study {string} under study {string}"
)]
async fn retrieve_wrong_study(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    other_alias: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let other = study_instances(world, &other_alias)?;
    let target = Target {
        study: other[0].study_uid.clone(),
        series: Some(inst.series_uid.clone()),
        instance: Some(inst.sop_uid.clone()),
    };
    retrieve_unheld(world, target).await
}

#[when(expr = "the consumer retrieves the metadata of study {string}")]
async fn retrieve_study_metadata(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let target = study_target(&insts[0]);
    retrieve_metadata(world, target, Some(sops(&insts))).await
}

#[when(expr = "the consumer retrieves the metadata of series {int} of study {string}")]
async fn retrieve_series_metadata(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    let target = series_target(&insts[0]);
    retrieve_metadata(world, target, Some(sops(&insts))).await
}

#[when(
    expr = "the consumer retrieves the metadata of instance {int} of series {int} of study {string}"
)]
async fn retrieve_instance_metadata(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let target = instance_target(&inst);
    let expected = BTreeSet::from([inst.sop_uid.clone()]);
    retrieve_metadata(world, target, Some(expected)).await
}

#[when(
    expr = "the consumer retrieves frames {string} of instance {int} of series {int} of study {string}"
)]
async fn retrieve_frames(
    world: &mut HarnessWorld,
    list: String,
    n: i64,
    series: i64,
    alias: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let mut frames = Vec::new();
    for f in list.split(',') {
        match f.trim().parse::<u32>() {
            Ok(v) => frames.push(v),
            Err(_) => return Err(harness_error(world, "bad frame list", list.clone())),
        }
    }
    let image = fixture_image(world, &inst).await?;
    let exact = lossless(&inst.transfer_syntax);
    let mut expected = Vec::new();
    for n in &frames {
        let Some(bytes) = image.frames.get((*n as usize).wrapping_sub(1)) else {
            return Err(harness_error(
                world,
                "bad frame list",
                format!("the fixture instance has no frame {n}"),
            ));
        };
        expected.push(FrameExpect {
            number: *n,
            size: bytes.len() as u64,
            blake3: identity_hex(bytes),
            exact,
        });
    }
    let target = instance_target(&inst);
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Frames(frames),
        Some("multipart/related; type=\"application/octet-stream\"".into()),
        None,
    )
    .await?;
    world.dicomweb.expect.frames = expected;
    Ok(())
}

#[when(
    expr = "the consumer retrieves instance {int} of series {int} of study {string} rendered as {string}"
)]
async fn retrieve_rendered(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    accept: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let image = fixture_image(world, &inst).await?;
    let target = instance_target(&inst);
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Rendered,
        Some(accept),
        None,
    )
    .await?;
    world.dicomweb.expect.rendered_size = Some((image.columns, image.rows));
    Ok(())
}

/// For a type the server may or may not render (PS3.18 Table 8.7.4-1 leaves it optional): 406
/// (§8.7.8.1, none of the Acceptable Media Types offered), or 200 with an image of that very type.
#[then("the response is 406, or a rendered image of the type asked for")]
async fn rendered_or_406(world: &mut HarnessWorld) -> StepResult {
    world.dicomweb.expect.status = vec![406, 200];
    world.dicomweb.expect.status_reason =
        "a rendered type the server may not offer (200 only with an image of that type)".into();
    judge_last(world, &["DW-04", "DW-21"])
}

#[then("the response is a rendered image of a type the request accepts")]
async fn rendered_image(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-21"])
}

// ---------------------------------------------------------------------------------------------
// Manifests over WADO-RS: the KOS is retrieved as an instance (MADO UC#2), judged, and its
// references are retrieved from the same source (the manifest-to-images cross-walk).

#[when(expr = "the consumer retrieves the manifest of study {string}")]
async fn retrieve_manifest(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let Some(kos) = insts.iter().find(|i| i.kos).cloned() else {
        return Err(harness_error(
            world,
            "no fixture manifest",
            format!("study {alias} has no KOS"),
        ));
    };
    let expected = BTreeSet::from([kos.sop_uid.clone()]);
    do_retrieve(
        world,
        instance_target(&kos),
        wado_rs::Resource::Instances,
        Some(wado_rs::accept_dicom(None)),
        Some(expected),
    )
    .await
}

#[then("the manifest is a valid XDS-I.b imaging manifest")]
async fn manifest_valid(world: &mut HarnessWorld) -> StepResult {
    let ids: Vec<&str> = crate::checks::kos::CHECKS.iter().map(|c| c.id).collect();
    judge_last(world, &ids)
}

#[when("the consumer retrieves every series the manifest references")]
async fn retrieve_manifest_series(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let bytes = world
        .dicomweb
        .last
        .and_then(|i| world.evidence.get(i))
        .and_then(|e| e.multipart.as_ref())
        .and_then(|mp| {
            mp.parts.iter().find_map(|p| {
                let is_kos = p
                    .dicom
                    .as_ref()
                    .and_then(|d| d.sop_class.as_deref())
                    .is_some_and(|c| c == crate::model::kos::KOS_SOP_CLASS);
                if is_kos {
                    p.document.clone()
                } else {
                    None
                }
            })
        });
    let last = world.dicomweb.last;
    let Some(bytes) = bytes else {
        // The retrieve of the manifest did not bring it: the SUT's answer, not the harness.
        return Err(fail_stop(
            world,
            "DW-04",
            last,
            "200 with the KOS manifest of the study",
            "no KOS manifest part in the response",
        ));
    };
    let manifest = match crate::model::kos::parse(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return Err(fail_stop(
                world,
                "KOS-01",
                last,
                "a KOS manifest that parses as DICOM PS3.10",
                e.to_string(),
            ))
        }
    };
    // Series in the order the manifest lists them, each with the instances it references.
    let mut series: Vec<(Target, BTreeSet<String>)> = Vec::new();
    for r in &manifest.evidence {
        let target = Target {
            study: r.study_uid.clone(),
            series: Some(r.series_uid.clone()),
            instance: None,
        };
        match series.iter_mut().find(|(t, _)| *t == target) {
            Some((_, set)) => {
                set.insert(r.sop_instance.clone());
            }
            None => series.push((target, BTreeSet::from([r.sop_instance.clone()]))),
        }
    }
    world.dicomweb.crosswalk.clear();
    for (target, instances) in series {
        // As stored: the cross-walk is about which instances exist, not about transcoding.
        let accept = wado_rs::accept_dicom(Some("*"));
        let ex = wado_rs::retrieve(&c, &target, &wado_rs::Resource::Instances, Some(&accept)).await;
        let idx = record(world, ex)?;
        let patient_id = world
            .ctx
            .fixtures
            .study(&target.study)
            .and_then(|s| s.instances.first().map(|i| i.patient_id.clone()));
        let stored_by_harness = stored_by_harness(world, &target.study);
        let expect = Expect {
            status: vec![200],
            requested_ts: Some("*".into()),
            target: Some(target),
            instances: Some(instances),
            patient_id,
            stored_by_harness,
            ..Expect::default()
        };
        world.dicomweb.crosswalk.push((idx, expect));
    }
    Ok(())
}

#[then("each series retrieve returns exactly the instances the manifest references")]
async fn crosswalk_complete(world: &mut HarnessWorld) -> StepResult {
    let crosswalk = std::mem::take(&mut world.dicomweb.crosswalk);
    if crosswalk.is_empty() {
        let last = world.dicomweb.last;
        return Err(fail_stop(
            world,
            "KOS-05",
            last,
            "a manifest whose evidence references the study's series",
            "the manifest references no series",
        ));
    }
    for (idx, expect) in crosswalk {
        judge_membership(world, idx, expect, &["DW-04", "DW-18"]).await?;
    }
    Ok(())
}

#[when(
    expr = "the consumer uses all four RAD-107 message pairs on instance {int} of series {int} of study {string}"
)]
async fn four_pairs(world: &mut HarnessWorld, n: i64, series: i64, alias: String) -> StepResult {
    let c = client(world)?;
    let inst = instance(world, &alias, series, n)?;
    let target = instance_target(&inst);
    let first = wado_rs::retrieve(
        &c,
        &target,
        &wado_rs::Resource::Instances,
        Some(&wado_rs::accept_dicom(None)),
    )
    .await;
    let first_idx = record(world, first)?;
    let meta = wado_rs::retrieve(
        &c,
        &target,
        &wado_rs::Resource::Metadata,
        Some("application/dicom+json"),
    )
    .await;
    let meta_idx = record(world, meta)?;
    // Get Bulkdata through a BulkDataURI of the metadata, as a consumer would find it: the
    // Pixel Data's, else the first one (a server may give the pixel data inline, §10.4.3.3.2).
    let uri = world.evidence.get(meta_idx).and_then(|e| {
        let uris = e
            .response
            .as_ref()
            .and_then(|r| r.json())
            .map(|v| dicom_json::bulk_data_uris(&v))
            .unwrap_or_default();
        let pixel = uris.iter().find(|(path, _)| is_pixel_data_path(path));
        pixel
            .or(uris.first())
            .map(|(_, u)| resolve_uri(&e.request.url, u))
    });
    let mut followup_idx = vec![meta_idx];
    if let Some(uri) = uri {
        let bulk = wado_rs::bulkdata(
            &c,
            &uri,
            Some("multipart/related; type=\"application/octet-stream\""),
        )
        .await;
        followup_idx.push(record(world, bulk)?);
    }
    // image/jpeg: the rendered type every origin server supports (Table 8.7.4-1: Default).
    let rendered = wado_rs::retrieve(
        &c,
        &target,
        &wado_rs::Resource::Rendered,
        Some("image/jpeg"),
    )
    .await;
    followup_idx.push(record(world, rendered)?);
    world.dicomweb.followups = followup_idx
        .iter()
        .filter_map(|i| world.evidence.get(*i).cloned())
        .collect();
    world.dicomweb.last = Some(first_idx);
    world.dicomweb.expect = Expect::default();
    Ok(())
}

#[then("each of the four message pairs is answered")]
async fn four_pairs_answered(world: &mut HarnessWorld) -> StepResult {
    judge_last_with_followups(world, &["DW-14"])
}

#[when("the consumer asks the origin server for its capabilities")]
async fn ask_capabilities(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let ex = wado_rs::capabilities(&c).await;
    let idx = record(world, ex)?;
    world.dicomweb.last = Some(idx);
    world.dicomweb.expect = Expect::default();
    Ok(())
}

#[then("the capabilities are described in WADL")]
async fn capabilities_wadl(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-13"])
}

#[when("the consumer dereferences every BulkDataURI of the metadata")]
async fn dereference_bulkdata(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let Some(idx) = world.dicomweb.last else {
        return Err(harness_error(
            world,
            "no metadata",
            "no metadata was retrieved before this step",
        ));
    };
    // BulkDataURIs may be relative references: resolved against the metadata's URL (RFC 3986
    // §5; PS3.18 §F.2.6 names a URI, not an absolute one).
    let (metadata_url, all_uris) = world
        .evidence
        .get(idx)
        .map(|e| {
            let uris = e
                .response
                .as_ref()
                .and_then(|r| r.json())
                .map(|v| dicom_json::bulk_data_uris(&v))
                .unwrap_or_default();
            (e.request.url.clone(), uris)
        })
        .unwrap_or_default();
    let uris: Vec<String> = all_uris
        .iter()
        .map(|(_, uri)| resolve_uri(&metadata_url, uri))
        .take(8)
        .collect();
    // The Pixel Data URI of an instance the harness holds losslessly: its value is known. Only
    // the top-level Pixel Data: one in a sequence (an icon image) is another image.
    let pixel_uri = all_uris
        .iter()
        .find(|(path, _)| is_pixel_data_path(path))
        .map(|(_, u)| resolve_uri(&metadata_url, u));
    let fixture = world
        .dicomweb
        .expect
        .target
        .as_ref()
        .and_then(|t| t.instance.clone())
        .and_then(|sop| {
            world
                .ctx
                .fixtures
                .studies()
                .iter()
                .flat_map(|s| s.instances.iter())
                .find(|i| i.sop_uid == sop)
                .map(|i| (*i).clone())
        });
    if let (Some(uri), Some(inst)) = (pixel_uri, fixture) {
        if lossless(&inst.transfer_syntax) {
            let image = fixture_image(world, &inst).await?;
            let pixels: Vec<u8> = image.frames.concat();
            world.dicomweb.expect.pixel_data =
                Some((uri, pixels.len() as u64, identity_hex(&pixels)));
        }
    }
    let mut followups = Vec::new();
    for uri in uris {
        let ex = wado_rs::bulkdata(
            &c,
            &uri,
            Some("multipart/related; type=\"application/octet-stream\""),
        )
        .await;
        let i = record(world, ex)?;
        if let Some(e) = world.evidence.get(i) {
            followups.push(e.clone());
        }
    }
    world.dicomweb.followups = followups;
    Ok(())
}

/// The path `dicom_json::bulk_data_uris` gives the top-level Pixel Data (7FE0,0010) of a data
/// set, alone or in a top-level array.
fn is_pixel_data_path(path: &str) -> bool {
    let last = path.rsplit_once("].").map_or(path, |(head, tail)| {
        // `[i].7FE00010`: the element of a top-level array, not of a sequence item.
        if head.starts_with('[') && !head.contains('.') {
            tail
        } else {
            ""
        }
    });
    last == "7FE00010"
}

/// A BulkDataURI as an absolute URL: relative references resolve against the URL of the
/// metadata that gave them (RFC 3986 §5.1.3); one that does not parse is used as given.
fn resolve_uri(base: &str, uri: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(uri))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| uri.to_string())
}

#[then("the response is a well-formed multipart/related message of DICOM instances")]
async fn well_formed_dicom_multipart(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-01", "DW-02", "DW-17"])
}

#[then("the response is a well-formed multipart/related message")]
async fn well_formed_multipart(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-01", "DW-02"])
}

#[then("the instances are in an acceptable transfer syntax")]
async fn acceptable_ts(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-03"])
}

#[then("the response holds every instance of the target and nothing else")]
async fn every_instance(world: &mut HarnessWorld) -> StepResult {
    world.dicomweb.expect.status = vec![200];
    let idx = last_index(world)?;
    let expect = world.dicomweb.expect.clone();
    judge_membership(world, idx, expect, &["DW-04", "DW-18"]).await
}

#[then(expr = "the response holds {int} part(s)")]
async fn part_count(world: &mut HarnessWorld, n: usize) -> StepResult {
    let got = world
        .dicomweb
        .last
        .and_then(|i| world.evidence.get(i))
        .and_then(|e| e.multipart.as_ref())
        .map(|m| m.parts.len());
    if got != Some(n) {
        // A breach of the request, not a harness failure: the frames rule when frames were
        // asked, otherwise the target-membership rule (one part per instance of the target).
        let check = if world.dicomweb.expect.frames.is_empty() {
            "DW-18"
        } else {
            "DW-23"
        };
        let last = world.dicomweb.last;
        fail_continue(
            world,
            check,
            last,
            format!("{n} part(s)"),
            match got {
                Some(g) => format!("{g} part(s)"),
                None => "no multipart body".to_string(),
            },
        );
    }
    Ok(())
}

#[then("the response holds the frames asked for")]
async fn frames_asked(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-23"])
}

#[then("the metadata follows the DICOM JSON model")]
async fn metadata_json_model(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-05"])
}

#[then("every BulkDataURI is retrievable")]
async fn bulkdata_retrievable(world: &mut HarnessWorld) -> StepResult {
    judge_last_with_followups(world, &["DW-06"])
}

#[then("the metadata describes every instance of the target")]
async fn metadata_every_instance(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-22"])
}

/// Index of the exchange the next `Then` judges.
pub(super) fn last_index(world: &mut HarnessWorld) -> Result<usize, StepError> {
    match world.dicomweb.last {
        Some(idx) => Ok(idx),
        None => Err(harness_error(
            world,
            "no exchange to judge",
            "no request was sent before this step",
        )),
    }
}

pub(crate) fn judge_last(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let idx = last_index(world)?;
    let expect = world.dicomweb.expect.clone();
    judge_once(world, idx, &expect, &[], ids)
}

/// Judge the last exchange together with the follow-up exchanges made after it.
fn judge_last_with_followups(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let idx = last_index(world)?;
    let followups = world.dicomweb.followups.clone();
    let expect = world.dicomweb.expect.clone();
    judge_once(world, idx, &expect, &followups, ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_data_uris_resolve_and_the_pixel_data_is_the_top_level_one() {
        let base = "http://sut:8042/dicom-web/studies/1/series/2/instances/3/metadata";
        assert_eq!(
            resolve_uri(base, "bulk/7FE00010"),
            "http://sut:8042/dicom-web/studies/1/series/2/instances/3/bulk/7FE00010"
        );
        assert_eq!(
            resolve_uri(base, "/dicom-web/bulk/abc"),
            "http://sut:8042/dicom-web/bulk/abc"
        );
        assert_eq!(
            resolve_uri(base, "https://cdn.example/b?x=1"),
            "https://cdn.example/b?x=1"
        );
        assert!(is_pixel_data_path("7FE00010"));
        assert!(is_pixel_data_path("[0].7FE00010"));
        assert!(!is_pixel_data_path("[0].00880200[0].7FE00010"));
        assert!(!is_pixel_data_path("00880200[0].7FE00010"));
        assert!(!is_pixel_data_path("[0].7FE00008"));
    }
}
