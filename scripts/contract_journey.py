"""A short journey through Launchpad with the Python client generated from its own
OpenAPI document: what a new user's code does first. Fails (exit 1) on the first answer
that is not what the document promises.

    PYTHONPATH=<generated client> python3 scripts/contract_journey.py <base URL>
"""

import io
import sys
import uuid

from launchpad_api_client import AuthenticatedClient, Client
from launchpad_api_client.api.auth import register
from launchpad_api_client.api.files import download_file, upload_file
from launchpad_api_client.api.projects import create_project, list_projects
from launchpad_api_client.models import (
    CreateProjectIn,
    FileUpload,
    FileUploadKind,
    ListProjectsSortBy,
    RegisterIn,
    SortOrder,
)
from launchpad_api_client.types import File

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000"
    "000049454e44ae426082"
)


def expect(response, status):
    if response.status_code != status:
        sys.exit(f"expected {status}, got {response.status_code}: {response.content!r}")
    return response.parsed


def main(base):
    email = f"journey-{uuid.uuid4().hex[:12]}@example.com"
    body = RegisterIn(email=email, password="Journey-passw0rd", name="Journey")
    tokens = expect(register.sync_detailed(client=Client(base_url=base), body=body), 201)
    client = AuthenticatedClient(base_url=base, token=tokens.access_token)

    titles = ["Solar irrigation planner", "Library seat finder"]
    created = [
        expect(create_project.sync_detailed(client=client, body=CreateProjectIn(title=t)), 201)
        for t in titles
    ]
    page = expect(list_projects.sync_detailed(client=client, search="solar", per_page=5), 200)
    found = [p.title for p in page.data]
    if found != [titles[0]]:
        sys.exit(f"search 'solar' found {found}")
    page = expect(
        list_projects.sync_detailed(
            client=client,
            sort_by=ListProjectsSortBy.TITLE,
            sort_order=SortOrder.ASC,
            created_after=created[0].created_at,
        ),
        200,
    )
    if sorted(titles) != [p.title for p in page.data]:
        sys.exit(f"sorted by title: {[p.title for p in page.data]}")

    upload = FileUpload(
        file=File(payload=io.BytesIO(PNG), file_name="shot.png", mime_type="image/png"),
        kind=FileUploadKind.PROJECT,
    )
    stored = expect(upload_file.sync_detailed(created[0].id, client=client, body=upload), 201)
    if stored.size_bytes != len(PNG) or stored.content_type != "image/png":
        sys.exit(f"upload recorded {stored.size_bytes} bytes of {stored.content_type}")
    download = download_file.sync_detailed(stored.id, client=client)
    if download.status_code != 200 or download.content != PNG:
        sys.exit(f"download: {download.status_code}, {len(download.content)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
