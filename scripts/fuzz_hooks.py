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
