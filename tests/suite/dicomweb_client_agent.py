"""The Python dicomweb-client as the SUT DICOMweb user agent of tests/suite/dicomweb_client.rs.

    python dicomweb_client_agent.py LOG BASE ACTION STUDY SERIES INSTANCE FRAMES PATIENT MEDIA [FILE...]

One action, one request (retries off), through the library's API (its command line has no
rendered retrieve); on success a line "ACTION ok" is appended to LOG.
"""
import sys

import pydicom
from dicomweb_client.api import DICOMwebClient

log, base, action, study, series, instance, frames, patient, media, *files = sys.argv[1:]
client = DICOMwebClient(url=base)
client.set_http_retry_params(retry=False)
if action == "search-studies":
    client.search_for_studies(search_filters={"PatientID": patient}, fields=["StudyDescription"])
elif action == "search-series":
    client.search_for_series(study_instance_uid=study, fields=["SeriesDescription"])
elif action == "retrieve-study":
    client.retrieve_study(study, media_types=(("application/dicom", "1.2.840.10008.1.2.1"),))
elif action == "retrieve-series-metadata":
    client.retrieve_series_metadata(study, series)
elif action == "retrieve-frames":
    client.retrieve_instance_frames(study, series, instance, frame_numbers=[int(frames)])
elif action == "retrieve-rendered":
    client.retrieve_instance_rendered(study, series, instance, media_types=(media,))
elif action == "store":
    client.store_instances([pydicom.dcmread(f) for f in files])
else:
    sys.exit(f"unknown action {action}")
with open(log, "a") as out:
    out.write(f"{action} ok\n")
