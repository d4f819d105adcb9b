"""The rules of the API that no OpenAPI document can state, taught to schemathesis.

The document states every rule a single value or a body can carry (enums, lengths,
patterns, bounds, `if`/`then` between fields). Two kinds of rule are left, each said in
the parameter's or field's description and enforced with a 422 that names it:

- between query parameters, which have no cross-parameter keywords: `page` and
  `cursor` are two ways to page and exclusive, a non-empty `cursor` is one the list
  itself answered (`meta.next_cursor`: made-up ones are refused), and `created_after`
  is not later than `created_before`.
- time: `preferred_time` and `scheduled_at` must lie in the future. JSON Schema has
  no "now".
- files: an upload's bytes must be a file of one of the types its encoding lists (the
  server reads the type from the bytes). Each type gets a real, smallest file.

Only schema-valid (positive) cases are adjusted, to what a client following the
descriptions would send, so `positive_data_acceptance` checks everything else;
schema-violating cases are left as generated.

Schemathesis 4.32.5 re-judges a case whose body was edited after generation (a stateful
step writing a linked `project_id` into an upload form) and judges every body holding a
file invalid, since its validator cannot read bytes: a valid upload then counts as
schema-violating and its 201 as a failure. A file field's schema (`format: binary`)
takes any bytes, so the re-judging here sees each file as a string.

Deleting a project deletes what it owns (its ideas, meetings, files, …: soft delete
cascades). Schemathesis counts a DELETE as removing only the paths below it, so an idea
created in a project that the sequence then deleted, answered 404 afterwards, was
reported as "created resource not found" (ST302, seed 1796380508 on PostgreSQL as admin:
the project's delete 13 ms after the idea's create). A successful DELETE of a resource
whose id the creating request's body named (its parent) now counts as removing it too.

Two kinds of "positive" case schemathesis 4.32.5 makes are not schema-valid, and are
dropped: a form whose required text fields it filled with "" (its coverage phase does
so for forms with an encoding, whatever the fields' schemas), and a path parameter it
filled with a null from a response (a meeting's `project_id`) as the text "None".
"""

import io
import zipfile
from datetime import datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.file_samples import FILE_SAMPLES
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.case import Case
from schemathesis.specs.openapi import checks
from schemathesis.transport.serialization import Binary

FUTURE_TIMES = ("preferred_time", "scheduled_at")


def smallest_docx():
    """A Word document as little as a reader of its type accepts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as docx:
        docx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        docx.writestr("word/document.xml", '<?xml version="1.0"?><document/>')
    return out.getvalue()


for media_type, sample in {
    "application/pdf": FILE_SAMPLES["pdf"],
    "application/zip": FILE_SAMPLES["zip"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": smallest_docx(),
    "image/png": FILE_SAMPLES["png"],
    "image/jpeg": FILE_SAMPLES["jpg"],
}.items():
    schemathesis.openapi.media_type(media_type, st.just(sample))


_validate_component = Case._validate_component


def validate_files_as_strings(case, location, value, validator_cls):
    """Schemathesis's check of one part of a case, with each file of a form as a string."""
    if location == ParameterLocation.BODY and isinstance(value, dict):
        value = {
            key: "file" if isinstance(item, (bytes, Binary)) else item
            for key, item in value.items()
        }
    return _validate_component(case, location, value, validator_cls)


Case._validate_component = validate_files_as_strings


_deleted_by_path = checks.resource_was_deleted


def deleted_with_parent(recorder, case, *, created_by=None):
    """Whether `case`'s resource was deleted: by a DELETE of its path (schemathesis's
    rule) or by a successful DELETE of a parent its creating request's body named."""
    if _deleted_by_path(recorder, case, created_by=created_by):
        return True
    cases = list(recorder.find_all_cases())
    creator = next((c for c in cases if c.id == created_by), None)
    if creator is None or not isinstance(creator.body, dict):
        return False
    parents = {str(v) for v in creator.body.values() if isinstance(v, str)}
    for prior in cases:
        if prior.operation.method.upper() != "DELETE":
            continue
        response = recorder.find_response(case_id=prior.id)
        if response is None or not 200 <= response.status_code < 300:
            continue
        if parents & {str(v) for v in (prior.path_parameters or {}).values()}:
            return True
    return False


checks.resource_was_deleted = deleted_with_parent


def is_positive(case):
    return case.meta is not None and case.meta.generation.mode.is_positive


@schemathesis.hook
def filter_case(context, case):
    if not is_positive(case):
        return True
    if case.media_type == "multipart/form-data" and isinstance(case.body, dict):
        if any(value == "" for value in case.body.values()):
            return False
    return all(value not in (None, "None") for value in (case.path_parameters or {}).values())


def parse_time(text):
    """The time `text` names, zone-less read as UTC (as the server reads it); None if
    it names none."""
    try:
        at = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


@schemathesis.hook
def map_case(context, case):
    if not is_positive(case):
        return case
    query = case.query
    if isinstance(query, dict):
        if "cursor" in query:
            query.pop("page", None)
            query["cursor"] = ""  # the first page: the only cursor a client can know
        after = parse_time(query.get("created_after", ""))
        before = parse_time(query.get("created_before", ""))
        if after and before and after > before:
            query["created_after"], query["created_before"] = (
                query["created_before"],
                query["created_after"],
            )
    if isinstance(case.body, dict):
        tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
        for field in FUTURE_TIMES:
            if isinstance(case.body.get(field), str):
                case.body[field] = tomorrow.isoformat()
    return case
